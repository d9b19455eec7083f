// The extension module async_cassandra_cpp._core: thin handles over the public C++ API that the
// Python package (async_cassandra_cpp/*.py) drives. Every operation takes the CompletionQueue of
// the calling event loop and a token; its outcome comes back through CompletionQueue.drain() as
// (token, ok, value) — see engine.hpp for the threading rules.
#include "convert.hpp"
#include "engine.hpp"
#include "errors.hpp"
#include "py_helpers.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>

namespace py = pybind11;
using namespace pybind11::literals;

namespace acpy {

// Defined in columnar.cpp (numpy is imported there, lazily).
py::dict page_columnar(const ac::Page& page);

namespace {

struct PageHandle {
    ac::Page page;
};
struct ResultHandle {
    ac::ResultSet result;
};
struct PreparedHandle {
    ac::PreparedStatement prepared;
};
struct BoundHandle {
    ac::BoundStatement bound;
};
struct SessionHandle {
    std::shared_ptr<ac::Session> session;
};
struct StreamHandle {
    std::shared_ptr<StreamBox> box;
};
struct ClusterHandle {
    std::shared_ptr<ac::Cluster> cluster;
};
struct Delivery {
    py::object page;  // PageHandle or None
    ac::ResumePoint start, end;
    std::int64_t page_number = 0, total_rows = 0;
};

py::object steal(PyObject* p) {
    if (!p) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(p);
}

py::tuple column_names(const ac::Columns& columns) {
    py::tuple t(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i) t[i] = py::str(columns[i].name);
    return t;
}
py::list column_types(const ac::Columns& columns) {
    py::list l;
    for (const auto& c : columns) l.append(c.type ? c.type->cql_name() : std::string("?"));
    return l;
}

/// (consistency, serial_consistency, fetch_size, timeout, idempotent) from the Python side; None
/// leaves a field to the cluster default, timeout -1 = default, None = no timeout.
void apply_options(ac::StatementOptions& o, const py::tuple& opts) {
    if (opts.size() != 5) throw py::value_error("statement options must have 5 fields");
    if (!opts[0].is_none()) o.consistency = static_cast<ac::Consistency>(opts[0].cast<int>());
    if (!opts[1].is_none()) o.serial_consistency = static_cast<ac::Consistency>(opts[1].cast<int>());
    if (!opts[2].is_none()) o.page_size = opts[2].cast<std::int32_t>();
    if (opts[3].is_none()) {
        o.no_timeout = true;
    } else {
        const double t = opts[3].cast<double>();
        if (t >= 0) o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(t * 1000.0)));
    }
    o.idempotent = opts[4].cast<bool>();
}

AnyStatement make_statement(const py::handle& query, const py::tuple& opts) {
    if (py::isinstance<py::str>(query)) {
        ac::Statement s(query.cast<std::string>());
        apply_options(s.options(), opts);
        return s;
    }
    ac::BoundStatement b = query.cast<BoundHandle&>().bound;
    apply_options(b.options(), opts);
    return b;
}

BoundHandle bind_values(const PreparedHandle& h, const py::object& values) {
    const ac::Columns& markers = h.prepared.bind_markers();
    const std::size_t n = markers.size();
    std::vector<ac::Bytes> encoded(n);
    std::vector<bool> given(n, false);
    auto encode_at = [&](std::size_t i, PyObject* v) {
        if (!encode_python(v, *markers[i].type, encoded[i])) {
            py::error_already_set e;
            // Name the marker, keep the error class.
            const std::string detail = py::str(e.value());
            const std::string msg = "bind marker " + std::to_string(i) + " ('" + markers[i].name + "'): " + detail;
            PyErr_SetString(e.type().ptr(), msg.c_str());
            throw py::error_already_set();
        }
        given[i] = true;
    };
    if (values.is_none()) {
        if (n != 0) throw py::value_error("the statement has " + std::to_string(n) + " bind markers and no values were given");
    } else if (py::isinstance<py::dict>(values)) {
        for (auto item : values.cast<py::dict>()) {
            const std::string name = py::str(item.first);
            bool found = false;
            for (std::size_t i = 0; i < n; ++i)
                if (markers[i].name == name) {
                    encoded[i].clear();
                    encode_at(i, item.second.ptr());
                    found = true;
                }
            if (!found) throw py::key_error("no bind marker named '" + name + "' in: " + h.prepared.query());
        }
    } else {
        if (!PySequence_Check(values.ptr()) || py::isinstance<py::str>(values) || py::isinstance<py::bytes>(values))
            throw py::type_error("bind values must be a sequence (one value per marker) or a dict, not " +
                                 std::string(Py_TYPE(values.ptr())->tp_name));
        py::sequence seq = values.cast<py::sequence>();
        if (static_cast<std::size_t>(seq.size()) != n)
            throw py::value_error("the statement has " + std::to_string(n) + " bind markers, " +
                                  std::to_string(seq.size()) + " values given");
        for (std::size_t i = 0; i < n; ++i) encode_at(i, seq[i].ptr());
    }
    std::vector<ac::SerializedValue> serialized(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (!given[i]) {
            serialized[i] = ac::SerializedValue::unset();  // dict binding: markers not named stay unset
            continue;
        }
        const auto len = ac::detail::load_be<std::int32_t>(encoded[i].data());
        if (len == -1) serialized[i] = ac::SerializedValue::null();
        else if (len == -2) serialized[i] = ac::SerializedValue::unset();
        else serialized[i] = ac::SerializedValue::of(ac::BytesView(encoded[i]).subspan(4));
    }
    return BoundHandle{h.prepared.bind_serialized(serialized)};
}

py::object payload_to_python(Payload& value) {
    struct Visitor {
        py::object operator()(std::monostate) const { return py::none(); }
        py::object operator()(std::shared_ptr<ac::Session>& s) const { return py::cast(SessionHandle{std::move(s)}); }
        py::object operator()(ac::ResultSet& r) const { return py::cast(ResultHandle{std::move(r)}); }
        py::object operator()(ac::PreparedStatement& p) const { return py::cast(PreparedHandle{std::move(p)}); }
        py::object operator()(std::shared_ptr<StreamBox>& b) const { return py::cast(StreamHandle{std::move(b)}); }
        py::object operator()(PageDelivery& d) const {
            Delivery out;
            out.page = d.page ? py::cast(PageHandle{std::move(*d.page)}) : py::none();
            out.start = std::move(d.start);
            out.end = std::move(d.end);
            out.page_number = d.page_number;
            out.total_rows = d.total_rows;
            return py::cast(std::move(out));
        }
        py::object operator()(std::vector<ac::ExecutionOutcome>& outcomes) const {
            py::list l(outcomes.size());
            for (std::size_t i = 0; i < outcomes.size(); ++i) {
                if (outcomes[i].error)
                    l[i] = py::make_tuple(false, steal(exception_to_python(outcomes[i].error)));
                else
                    l[i] = py::make_tuple(true, py::cast(ResultHandle{std::move(outcomes[i].result)}));
            }
            return l;
        }
    };
    return std::visit(Visitor{}, value);
}

/// End of the chunk of rows that starts at `start`: at most `max_rows` rows and, past the first
/// row, at most `max_bytes` bytes of cells (the conversion time follows the bytes).
std::size_t chunk_end(const ac::Page& page, std::size_t start, std::size_t max_rows, std::size_t max_bytes) {
    const std::size_t n = page.size();
    if (start >= n) return n;
    std::size_t end = std::min(n, start + std::max<std::size_t>(max_rows, 1));
    const auto& offsets = page.state()->row_offsets;
    auto offset = [&](std::size_t r) -> std::size_t {
        if (r < n) return offsets[r];
        return offsets[n - 1] + 1 + max_bytes;  // past the end: treat as "large"
    };
    if (end < n && offset(end) - offset(start) > max_bytes) {
        // Binary search the last row whose start is within the budget.
        std::size_t lo = start + 1, hi = end;
        while (lo < hi) {
            const std::size_t mid = (lo + hi + 1) / 2;
            if (offset(mid) - offset(start) <= max_bytes) lo = mid;
            else hi = mid - 1;
        }
        end = lo;
    }
    return end;
}

ac::ClusterConfig make_config(const py::dict& kw) {
    ac::ClusterConfig c;
    c.contact_points = kw["contact_points"].cast<std::vector<std::string>>();
    c.port = kw["port"].cast<std::uint16_t>();
    if (!kw["protocol_version"].is_none()) c.connection.protocol_version = kw["protocol_version"].cast<int>();
    if (!kw["username"].is_none())
        c.connection.auth = ac::PlainTextAuth{kw["username"].cast<std::string>(), kw["password"].cast<std::string>()};
    if (!kw["tls"].is_none()) {
        py::dict t = kw["tls"].cast<py::dict>();
        ac::TlsConfig tls;
        tls.ca_file = t["ca_file"].cast<std::string>();
        tls.verify_peer = t["verify_peer"].cast<bool>();
        tls.server_name = t["server_name"].cast<std::string>();
        tls.cert_file = t["cert_file"].cast<std::string>();
        tls.key_file = t["key_file"].cast<std::string>();
        c.connection.tls = tls;
    }
    const std::string compression = kw["compression"].cast<std::string>();
    if (compression == "lz4") c.connection.compression = ac::CompressionAlgorithm::lz4;
    else if (compression == "snappy") c.connection.compression = ac::CompressionAlgorithm::snappy;
    c.connection.connect_timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(kw["connect_timeout"].cast<double>() * 1000));
    c.connections_per_host = kw["connections_per_host"].cast<std::size_t>();
    c.default_page_size = kw["default_fetch_size"].cast<std::int32_t>();
    c.default_consistency = static_cast<ac::Consistency>(kw["consistency"].cast<int>());
    if (kw["request_timeout"].is_none()) c.request_timeout.reset();
    else c.request_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(kw["request_timeout"].cast<double>() * 1000));
    return c;
}

ac::StreamConfig make_stream_config(const py::dict& kw) {
    ac::StreamConfig c;
    c.fetch_size = kw["fetch_size"].cast<std::int32_t>();
    c.prefetch_pages = kw["prefetch_pages"].cast<std::size_t>();
    if (!kw["max_pages"].is_none()) c.max_pages = kw["max_pages"].cast<std::int64_t>();
    if (kw["timeout_seconds"].is_none()) c.page_timeout.reset();
    else c.page_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(kw["timeout_seconds"].cast<double>() * 1000));
    if (!kw["resume_from"].is_none()) c = c.resume_from(kw["resume_from"].cast<const ac::ResumePoint&>());
    if (!kw["retries"].is_none()) {
        const int retries = kw["retries"].cast<int>();
        if (retries <= 0) c.retry_policy = std::make_shared<ac::NoRetry>();
        else c.retry_policy = std::make_shared<ac::ExponentialBackoffRetry>(retries);
    }
    return c;
}

}  // namespace

}  // namespace acpy

PYBIND11_MODULE(_core, m) {
    using namespace acpy;
    m.doc() = "C++ engine of async_cassandra_cpp (use the package's Python API, not this module).";

    m.def("init", [](py::dict helpers) {
        if (!init_convert(helpers.ptr()) || !init_errors(helpers.ptr())) throw py::error_already_set();
        start_engine();
    });
    m.def("stop_engine", [] {
        py::gil_scoped_release release;  // the I/O thread never needs the GIL, but do not hold it while joining
        stop_engine();
    });
    m.def("live_streams", &live_streams, "Streams not yet destroyed (diagnostics).");

    py::class_<CompletionQueue, std::shared_ptr<CompletionQueue>>(m, "CompletionQueue")
        .def(py::init<>())
        .def_property_readonly("fd", &CompletionQueue::fd)
        .def("drain", [](CompletionQueue& q) {
            std::vector<Completion> items = q.drain();
            py::list out(items.size());
            for (std::size_t i = 0; i < items.size(); ++i) {
                Completion& c = items[i];
                if (c.error) out[i] = py::make_tuple(c.token, false, steal(exception_to_python(c.error)));
                else out[i] = py::make_tuple(c.token, true, payload_to_python(c.value));
            }
            return out;
        });

    py::class_<ac::ResumePoint>(m, "ResumePoint")
        .def("to_string", &ac::ResumePoint::to_string)
        .def_static("from_string", [](const std::string& s) {
            try {
                return ac::ResumePoint::from_string(s);
            } catch (const std::exception& e) {
                throw py::value_error(e.what());
            }
        })
        .def_property_readonly("paging_state", [](const ac::ResumePoint& p) -> py::object {
            if (!p.paging_state) return py::none();
            return py::bytes(reinterpret_cast<const char*>(p.paging_state->bytes().data()), p.paging_state->size());
        })
        .def_readonly("rows_to_skip", &ac::ResumePoint::rows_to_skip)
        .def_readonly("finished", &ac::ResumePoint::finished)
        .def("advanced", [](const ac::ResumePoint& p, std::int64_t rows) {
            ac::ResumePoint q = p;
            q.rows_to_skip += rows;
            return q;
        }, "The same point `rows` rows further.")
        .def("__eq__", [](const ac::ResumePoint& a, const ac::ResumePoint& b) { return a == b; })
        .def("__repr__", [](const ac::ResumePoint& p) { return "ResumePoint('" + p.to_string() + "')"; })
        .def(py::pickle([](const ac::ResumePoint& p) { return p.to_string(); },
                        [](const std::string& s) { return ac::ResumePoint::from_string(s); }));

    py::class_<PageHandle>(m, "Page")
        .def("__len__", [](const PageHandle& p) { return p.page.size(); })
        .def_property_readonly("column_names", [](const PageHandle& p) { return column_names(p.page.columns()); })
        .def_property_readonly("column_types", [](const PageHandle& p) { return column_types(p.page.columns()); })
        .def("chunk_end", [](const PageHandle& p, std::size_t start, std::size_t max_rows, std::size_t max_bytes) {
            return chunk_end(p.page, start, max_rows, max_bytes);
        })
        .def("rows", [](const PageHandle& p, std::size_t start, std::size_t count, py::object row_class) {
            return steal(rows_to_python(p.page, start, count, row_class.ptr()));
        })
        .def("columnar", [](const PageHandle& p) { return page_columnar(p.page); });

    py::class_<ResultHandle>(m, "Result")
        .def_property_readonly("pages", [](const ResultHandle& r) {
            py::list l;
            for (const auto& p : r.result.pages()) l.append(PageHandle{p});
            return l;
        })
        .def_property_readonly("column_names", [](const ResultHandle& r) { return column_names(r.result.columns()); })
        .def_property_readonly("warnings", [](const ResultHandle& r) { return r.result.warnings(); })
        .def_property_readonly("keyspace_set", [](const ResultHandle& r) { return r.result.keyspace_set(); })
        .def_property_readonly("has_rows", [](const ResultHandle& r) { return r.result.has_rows(); })
        .def_property_readonly("size", [](const ResultHandle& r) { return r.result.size(); });

    py::class_<BoundHandle>(m, "Bound");

    py::class_<PreparedHandle>(m, "Prepared")
        .def_property_readonly("query", [](const PreparedHandle& p) { return p.prepared.query(); })
        .def_property_readonly("bind_marker_names", [](const PreparedHandle& p) { return column_names(p.prepared.bind_markers()); })
        .def_property_readonly("bind_marker_types", [](const PreparedHandle& p) { return column_types(p.prepared.bind_markers()); })
        .def_property_readonly("result_column_names", [](const PreparedHandle& p) {
            auto cols = p.prepared.result_columns();
            return cols ? column_names(*cols) : py::tuple();
        })
        .def("bind", &bind_values);

    py::class_<Delivery>(m, "Delivery")
        .def_readonly("page", &Delivery::page)
        .def_readonly("start", &Delivery::start)
        .def_readonly("end", &Delivery::end)
        .def_readonly("page_number", &Delivery::page_number)
        .def_readonly("total_rows", &Delivery::total_rows);

    py::class_<StreamHandle>(m, "Stream")
        .def("next_page", [](const StreamHandle& s, QueuePtr q, std::uint64_t token) { stream_next_page(s.box, q, token); })
        .def("close", [](const StreamHandle& s, QueuePtr q, std::uint64_t token) { stream_close(s.box, q, token); });

    py::class_<SessionHandle>(m, "Session")
        .def("execute", [](const SessionHandle& s, QueuePtr q, std::uint64_t token, py::object query, py::tuple opts) {
            session_execute(s.session, make_statement(query, opts), q, token);
        })
        .def("execute_batch", [](const SessionHandle& s, QueuePtr q, std::uint64_t token, int kind, py::list entries,
                                 py::tuple opts) {
            ac::Batch batch(static_cast<ac::BatchKind>(kind));
            for (auto e : entries) {
                if (py::isinstance<py::str>(e)) batch.add(ac::Statement(e.cast<std::string>()));
                else batch.add(e.cast<BoundHandle&>().bound);
            }
            apply_options(batch.options(), opts);
            session_execute_batch(s.session, std::move(batch), q, token);
        })
        .def("prepare", [](const SessionHandle& s, QueuePtr q, std::uint64_t token, std::string query) {
            session_prepare(s.session, std::move(query), q, token);
        })
        .def("open_stream", [](const SessionHandle& s, QueuePtr q, std::uint64_t token, py::object query, py::tuple opts,
                               py::dict config) {
            session_open_stream(s.session, make_statement(query, opts), make_stream_config(config), q, token);
        })
        .def("execute_concurrent", [](const SessionHandle& s, QueuePtr q, std::uint64_t token, py::list statements,
                                      std::size_t concurrency, py::tuple opts) {
            std::vector<AnyStatement> v;
            v.reserve(statements.size());
            for (auto st : statements) v.push_back(make_statement(st, opts));
            session_execute_concurrent(s.session, std::move(v), concurrency, q, token);
        })
        .def("shutdown", [](const SessionHandle& s, QueuePtr q, std::uint64_t token) { session_shutdown(s.session, q, token); })
        .def("in_flight_requests", [](const SessionHandle& s) {
            py::gil_scoped_release release;  // takes the session's mutex
            return s.session->in_flight_requests();
        })
        .def("open_connections", [](const SessionHandle& s) {
            py::gil_scoped_release release;
            return s.session->open_connections();
        })
        .def_property_readonly("keyspace", [](const SessionHandle& s) { return s.session->keyspace(); })
        .def_property_readonly("protocol_version", [](const SessionHandle& s) { return s.session->protocol_version(); });

    py::class_<ClusterHandle>(m, "Cluster")
        .def(py::init([](py::dict kw) {
            try {
                return ClusterHandle{make_cluster(make_config(kw))};
            } catch (const ac::Error& e) {
                throw py::value_error(e.what());
            }
        }))
        .def("connect", [](const ClusterHandle& c, QueuePtr q, std::uint64_t token, std::optional<std::string> keyspace) {
            cluster_connect(c.cluster, std::move(keyspace), q, token);
        })
        .def("shutdown", [](const ClusterHandle& c, QueuePtr q, std::uint64_t token) { cluster_shutdown(c.cluster, q, token); })
        .def_property_readonly("protocol_version", [](const ClusterHandle& c) { return c.cluster->protocol_version(); });
}
