// See errors.hpp. The Python side builds the exception from (kind, message, fields), so the
// DataStax-compatible constructors and messages live in one place (exceptions.py).
#include "errors.hpp"
#include "py_helpers.hpp"

#include <async_cassandra/server_errors.hpp>
#include <async_cassandra/stream.hpp>

#include <algorithm>
#include <new>
#include <string>

namespace acpy {

namespace {

namespace ac = async_cassandra;

PyObject* g_make_error = nullptr;

/// Fields of one exception, built with set().
class Fields {
public:
    Fields() : dict_(PyDict_New()) {}
    Fields& set(const char* key, PyObject* value) {  // steals `value`
        if (dict_ && value) PyDict_SetItemString(dict_.get(), key, value);
        Py_XDECREF(value);
        return *this;
    }
    Fields& set(const char* key, long long v) { return set(key, PyLong_FromLongLong(v)); }
    Fields& set(const char* key, const std::string& v) {
        return set(key, PyUnicode_DecodeUTF8(v.data(), static_cast<Py_ssize_t>(v.size()), "replace"));
    }
    Fields& set_bool(const char* key, bool v) { return set(key, PyBool_FromLong(v)); }
    PyObject* get() const { return dict_.get(); }

private:
    Ref dict_;
};

PyObject* make(const char* kind, const std::string& message, const Fields& fields) {
    Ref text(PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()), "replace"));
    PyObject* e = text ? PyObject_CallFunction(g_make_error, "sOO", kind, text.get(), fields.get()) : nullptr;
    if (!e) {  // the factory itself failed: report that rather than nothing
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        return value;
    }
    return e;
}

PyObject* failure_map(const std::vector<ac::FailureReason>& reasons) {
    PyObject* d = PyDict_New();
    for (const auto& r : reasons) {
        std::string addr;
        if (r.endpoint.size() == 4 || r.endpoint.size() == 16) {
            ac::Inet inet;
            inet.size = static_cast<std::uint8_t>(r.endpoint.size());
            std::copy(r.endpoint.begin(), r.endpoint.end(), inet.bytes.begin());
            addr = inet.to_string();
        }
        Ref k(PyUnicode_FromString(addr.c_str()));
        Ref v(PyLong_FromLong(r.code));
        if (k && v) PyDict_SetItem(d, k.get(), v.get());
    }
    return d;
}

void server_fields(Fields& f, const ac::ServerError& e) {
    f.set("code", static_cast<long long>(e.code())).set("message", e.server_message());
}

/// The code, message and replica counts shared by the timeout and failure errors.
template <class E>
Fields& replica_fields(Fields& f, const E& e) {
    server_fields(f, e);
    return f.set("consistency", static_cast<long long>(e.consistency()))
        .set("required_responses", static_cast<long long>(e.block_for()))
        .set("received_responses", static_cast<long long>(e.received()));
}

}  // namespace

bool init_errors(PyObject* helpers) {
    g_make_error = PyDict_GetItemString(helpers, "make_error");
    if (!g_make_error) {
        PyErr_SetString(PyExc_KeyError, "missing helper make_error");
        return false;
    }
    Py_INCREF(g_make_error);
    return true;
}

PyObject* exception_to_python(const std::exception_ptr& error) {
    Fields f;
    try {
        std::rethrow_exception(error);
    } catch (const ac::Unavailable& e) {
        server_fields(f, e);
        f.set("consistency", static_cast<long long>(e.consistency()))
            .set("required_replicas", static_cast<long long>(e.required()))
            .set("alive_replicas", static_cast<long long>(e.alive()));
        return make("Unavailable", e.what(), f);
    } catch (const ac::ReadTimeout& e) {
        replica_fields(f, e)
            .set_bool("data_retrieved", e.data_present());
        return make("ReadTimeout", e.what(), f);
    } catch (const ac::WriteTimeout& e) {
        replica_fields(f, e)
            .set("write_type", e.write_type());
        return make("WriteTimeout", e.what(), f);
    } catch (const ac::ReadFailure& e) {
        replica_fields(f, e)
            .set("failures", static_cast<long long>(e.num_failures()))
            .set_bool("data_retrieved", e.data_present());
        if (!e.reasons().empty()) f.set("error_code_map", failure_map(e.reasons()));
        return make("ReadFailure", e.what(), f);
    } catch (const ac::WriteFailure& e) {
        replica_fields(f, e)
            .set("failures", static_cast<long long>(e.num_failures()))
            .set("write_type", e.write_type());
        if (!e.reasons().empty()) f.set("error_code_map", failure_map(e.reasons()));
        return make("WriteFailure", e.what(), f);
    } catch (const ac::CasWriteUnknown& e) {
        replica_fields(f, e);
        return make("CASWriteUnknown", e.what(), f);
    } catch (const ac::FunctionFailure& e) {
        server_fields(f, e);
        PyObject* args = PyList_New(0);
        for (const auto& a : e.arg_types()) {
            Ref s(PyUnicode_FromString(a.c_str()));
            if (s) PyList_Append(args, s.get());
        }
        f.set("keyspace", e.keyspace()).set("function", e.function()).set("arg_types", args);
        return make("FunctionFailure", e.what(), f);
    } catch (const ac::AlreadyExists& e) {
        server_fields(f, e);
        f.set("keyspace", e.keyspace());
        if (!e.table().empty()) f.set("table", e.table());
        return make("AlreadyExists", e.what(), f);
    } catch (const ac::Unprepared& e) {
        server_fields(f, e);
        f.set("query_id", PyBytes_FromStringAndSize(reinterpret_cast<const char*>(e.id().data()),
                                                    static_cast<Py_ssize_t>(e.id().size())));
        return make("PreparedQueryNotFound", e.what(), f);
    } catch (const ac::ServerError& e) {
        server_fields(f, e);
        return make("ServerErrorCode", e.what(), f);  // by code (exceptions.py)
    } catch (const ac::StreamTimeout& e) {
        return make("StreamTimeout", e.what(), f);
    } catch (const ac::Timeout& e) {
        return make("OperationTimedOut", e.what(), f);
    } catch (const ac::StreamError& e) {
        f.set("attempts", static_cast<long long>(e.attempts()));
        if (e.cause()) f.set("cause", exception_to_python(e.cause()));
        return make("StreamError", e.what(), f);
    } catch (const ac::ConnectionClosed& e) {
        return make("ConnectionShutdown", e.what(), f);
    } catch (const ac::NoHostAvailable& e) {
        PyObject* errors = PyDict_New();
        for (const auto& h : e.failures()) {
            Ref k(PyUnicode_FromString(h.host.c_str()));
            Ref v(h.error ? exception_to_python(h.error) : (Py_INCREF(Py_None), Py_None));
            if (k && v) PyDict_SetItem(errors, k.get(), v.get());
        }
        f.set("errors", errors);
        return make("NoHostAvailable", e.what(), f);
    } catch (const ac::CredentialsRequired& e) {
        return make("AuthenticationFailed", e.what(), f);
    } catch (const ac::RequestCancelled& e) {
        return make("RequestCancelled", e.what(), f);
    } catch (const ac::ProtocolError& e) {
        return make("ProtocolError", e.what(), f);
    } catch (const ac::TypeError& e) {
        return make("TypeError", e.what(), f);
    } catch (const ac::UsageError& e) {
        return make("UsageError", e.what(), f);
    } catch (const std::bad_alloc&) {
        return make("MemoryError", "out of memory", f);
    } catch (const std::exception& e) {
        return make("DriverException", e.what(), f);
    } catch (...) {
        return make("DriverException", "unknown C++ exception", f);
    }
}

}  // namespace acpy
