// CQL bytes -> Python objects (see convert.hpp for the mapping).
#include "convert.hpp"
#include "py_helpers.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/values.hpp>

#include <datetime.h>

#include <cstring>
#include <map>
#include <string>

namespace acpy {

namespace {

using ac::TypeKind;
using ac::BytesView;

PyObject* g_uuid_class = nullptr;
PyObject* g_safe_uuid_unknown = nullptr;
PyObject* g_int_str = nullptr;
PyObject* g_is_safe_str = nullptr;
PyObject* g_decimal_class = nullptr;
PyObject* g_ipv4_class = nullptr;
PyObject* g_ipv6_class = nullptr;
PyObject* g_duration_class = nullptr;
PyObject* g_time_from_ns = nullptr;
PyObject* g_udt_class = nullptr;
PyObject* g_unset = nullptr;
std::map<std::string, PyObject*>* g_udt_classes = nullptr;  // never freed: lives as long as the module

constexpr std::int64_t kMillisPerDay = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

PyObject* bad_size(const ac::DataType& type, std::size_t got) {
    PyErr_Format(PyExc_ValueError, "malformed %s value of %zu bytes", type.cql_name().c_str(), got);
    return nullptr;
}

PyObject* timestamp_to_python(std::int64_t ms) {
    const std::int64_t days = floor_div(ms, kMillisPerDay);
    const std::int64_t in_day = ms - days * kMillisPerDay;
    const ac::Date::Ymd ymd = ac::Date{static_cast<std::int32_t>(days)}.to_ymd();
    if (days < INT32_MIN || days > INT32_MAX || ymd.year < 1 || ymd.year > 9999) return PyLong_FromLongLong(ms);
    const int h = static_cast<int>(in_day / 3'600'000), mi = static_cast<int>(in_day / 60'000 % 60),
              s = static_cast<int>(in_day / 1000 % 60), us = static_cast<int>(in_day % 1000) * 1000;
    return PyDateTime_FromDateAndTime(static_cast<int>(ymd.year), static_cast<int>(ymd.month),
                                      static_cast<int>(ymd.day), h, mi, s, us);
}

PyObject* date_to_python(std::uint32_t wire) {
    const ac::Date d = ac::Date::from_wire(wire);
    const ac::Date::Ymd ymd = d.to_ymd();
    if (ymd.year < 1 || ymd.year > 9999) return PyLong_FromLong(d.days_since_epoch);
    return PyDate_FromDate(static_cast<int>(ymd.year), static_cast<int>(ymd.month), static_cast<int>(ymd.day));
}

PyObject* time_to_python(std::int64_t ns) {
    if (ns < 0 || ns >= ac::Time::kNanosPerDay) {
        PyErr_Format(PyExc_ValueError, "time value out of range: %lld ns", static_cast<long long>(ns));
        return nullptr;
    }
    if (ns % 1000 != 0) return PyObject_CallFunction(g_time_from_ns, "L", static_cast<long long>(ns));
    const std::int64_t us = ns / 1000;
    return PyTime_FromTime(static_cast<int>(us / 3'600'000'000LL), static_cast<int>(us / 60'000'000 % 60),
                           static_cast<int>(us / 1'000'000 % 60), static_cast<int>(us % 1'000'000));
}

PyObject* uuid_to_python(BytesView b) {
    // uuid.UUID(bytes=...) runs Python code; set the two slots directly instead (UUID.__setattr__
    // refuses, object.__setattr__ is what the class itself uses).
    Ref value(_PyLong_FromByteArray(b.data(), 16, /*little_endian=*/0, /*is_signed=*/0));
    if (!value) return nullptr;
    PyTypeObject* cls = reinterpret_cast<PyTypeObject*>(g_uuid_class);
    Ref u(cls->tp_alloc(cls, 0));
    if (!u) return nullptr;
    if (PyObject_GenericSetAttr(u.get(), g_int_str, value.get()) < 0) return nullptr;
    if (PyObject_GenericSetAttr(u.get(), g_is_safe_str, g_safe_uuid_unknown) < 0) return nullptr;
    return u.release();
}

PyObject* varint_to_python(BytesView b) {
    if (b.empty()) return PyLong_FromLong(0);
    return _PyLong_FromByteArray(b.data(), b.size(), 0, 1);
}

PyObject* decimal_to_python(const ac::DataType& type, BytesView b) {
    if (b.size() < 5) return bad_size(type, b.size());
    const auto scale = ac::detail::load_be<std::int32_t>(b.data());
    Ref unscaled(varint_to_python(b.subspan(4)));
    if (!unscaled) return nullptr;
    Ref digits(PyObject_Str(unscaled.get()));
    if (!digits) return nullptr;
    // Coefficient and exponent exactly as sent: Decimal("12345E-2") is 123.45 with exponent -2.
    Ref text(PyUnicode_FromFormat("%UE%lld", digits.get(), -static_cast<long long>(scale)));
    if (!text) return nullptr;
    return PyObject_CallOneArg(g_decimal_class, text.get());
}

PyObject* inet_to_python(const ac::DataType& type, BytesView b) {
    if (b.size() != 4 && b.size() != 16) return bad_size(type, b.size());
    Ref value(_PyLong_FromByteArray(b.data(), b.size(), 0, 0));
    if (!value) return nullptr;
    return PyObject_CallOneArg(b.size() == 4 ? g_ipv4_class : g_ipv6_class, value.get());
}

PyObject* value_to_python(const ac::DataType& type, BytesView b, bool hashable);

PyObject* element_to_python(const ac::DataType& type, std::optional<BytesView> raw, bool hashable) {
    if (!raw || (raw->empty() && !ac::detail::empty_is_value(type.kind))) Py_RETURN_NONE;
    return value_to_python(type, *raw, hashable);
}

PyObject* udt_class_for(const ac::DataType& type) {
    std::string key = type.udt_keyspace + "." + type.udt_name + "(";
    for (const auto& f : type.field_names) key += f + ",";
    auto it = g_udt_classes->find(key);
    if (it != g_udt_classes->end()) return it->second;
    Ref names(PyTuple_New(static_cast<Py_ssize_t>(type.field_names.size())));
    if (!names) return nullptr;
    for (std::size_t i = 0; i < type.field_names.size(); ++i) {
        PyObject* s = PyUnicode_FromStringAndSize(type.field_names[i].data(), static_cast<Py_ssize_t>(type.field_names[i].size()));
        if (!s) return nullptr;
        PyTuple_SET_ITEM(names.get(), static_cast<Py_ssize_t>(i), s);
    }
    PyObject* cls = PyObject_CallFunction(g_udt_class, "s#s#O", type.udt_keyspace.data(),
                                          static_cast<Py_ssize_t>(type.udt_keyspace.size()), type.udt_name.data(),
                                          static_cast<Py_ssize_t>(type.udt_name.size()), names.get());
    if (!cls) return nullptr;
    (*g_udt_classes)[key] = cls;  // keeps the reference
    return cls;
}

/// Collections, tuples, UDTs and vectors.
PyObject* composite_to_python(const ac::DataType& type, BytesView b, bool hashable) {
    ac::detail::ByteReader in(b);
    switch (type.kind) {
        case TypeKind::list:
        case TypeKind::set: {
            const std::size_t n = ac::detail::read_count(in, type);
            const bool as_set = type.kind == TypeKind::set;
            // In a hashable position (set element, map key) a list is a tuple and a set a frozenset.
            Ref out(as_set ? (hashable ? PyFrozenSet_New(nullptr) : PySet_New(nullptr))
                           : (hashable ? PyTuple_New(static_cast<Py_ssize_t>(n)) : PyList_New(static_cast<Py_ssize_t>(n))));
            if (!out) return nullptr;
            for (std::size_t i = 0; i < n; ++i) {
                PyObject* v = element_to_python(*type.params[0], ac::detail::read_element(in), as_set);
                if (!v) return nullptr;
                if (as_set) {
                    const int rc = PySet_Add(out.get(), v);
                    Py_DECREF(v);
                    if (rc < 0) return nullptr;
                } else if (hashable) {
                    PyTuple_SET_ITEM(out.get(), static_cast<Py_ssize_t>(i), v);
                } else {
                    PyList_SET_ITEM(out.get(), static_cast<Py_ssize_t>(i), v);
                }
            }
            return out.release();
        }
        case TypeKind::map: {
            const std::size_t n = ac::detail::read_count(in, type);
            if (hashable) {  // a map as a map key or set element: a tuple of (key, value) pairs
                Ref out(PyTuple_New(static_cast<Py_ssize_t>(n)));
                if (!out) return nullptr;
                for (std::size_t i = 0; i < n; ++i) {
                    Ref k(element_to_python(*type.params[0], ac::detail::read_element(in), true));
                    if (!k) return nullptr;
                    Ref v(element_to_python(*type.params[1], ac::detail::read_element(in), true));
                    if (!v) return nullptr;
                    PyObject* pair = PyTuple_Pack(2, k.get(), v.get());
                    if (!pair) return nullptr;
                    PyTuple_SET_ITEM(out.get(), static_cast<Py_ssize_t>(i), pair);
                }
                return out.release();
            }
            Ref out(PyDict_New());
            if (!out) return nullptr;
            for (std::size_t i = 0; i < n; ++i) {
                Ref k(element_to_python(*type.params[0], ac::detail::read_element(in), true));
                if (!k) return nullptr;
                Ref v(element_to_python(*type.params[1], ac::detail::read_element(in), false));
                if (!v) return nullptr;
                if (PyDict_SetItem(out.get(), k.get(), v.get()) < 0) return nullptr;
            }
            return out.release();
        }
        case TypeKind::tuple:
        case TypeKind::udt: {
            const std::size_t n = type.params.size();
            PyObject* cls = nullptr;
            if (type.kind == TypeKind::udt) {
                cls = udt_class_for(type);
                if (!cls) return nullptr;
            }
            Ref out(cls ? reinterpret_cast<PyTypeObject*>(cls)->tp_alloc(reinterpret_cast<PyTypeObject*>(cls),
                                                                         static_cast<Py_ssize_t>(n))
                        : PyTuple_New(static_cast<Py_ssize_t>(n)));
            if (!out) return nullptr;
            for (std::size_t i = 0; i < n; ++i) {
                // Values written before fields were added to a type end early: the rest are null.
                PyObject* v = in.empty() ? (Py_INCREF(Py_None), Py_None)
                                         : element_to_python(*type.params[i], ac::detail::read_element(in), hashable);
                if (!v) return nullptr;
                PyTuple_SET_ITEM(out.get(), static_cast<Py_ssize_t>(i), v);
            }
            return out.release();
        }
        case TypeKind::vector: {
            const ac::DataType& et = *type.params[0];
            const std::size_t n = static_cast<std::size_t>(type.vector_dimension);
            const std::size_t fixed = ac::detail::vector_element_size(et);
            Ref out(hashable ? PyTuple_New(static_cast<Py_ssize_t>(n)) : PyList_New(static_cast<Py_ssize_t>(n)));
            if (!out) return nullptr;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t len = fixed ? fixed : static_cast<std::size_t>(ac::detail::read_unsigned_vint(in));
                PyObject* v = value_to_python(et, in.take(len), hashable);
                if (!v) return nullptr;
                if (hashable) PyTuple_SET_ITEM(out.get(), static_cast<Py_ssize_t>(i), v);
                else PyList_SET_ITEM(out.get(), static_cast<Py_ssize_t>(i), v);
            }
            return out.release();
        }
        default:
            break;
    }
    PyErr_Format(PyExc_TypeError, "unsupported CQL type %s", type.cql_name().c_str());
    return nullptr;
}

PyObject* value_to_python(const ac::DataType& type, BytesView b, bool hashable) {
    const std::size_t n = b.size();
    const std::uint8_t* p = b.data();
    switch (type.kind) {
        case TypeKind::varchar:
            return PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(p), static_cast<Py_ssize_t>(n), "strict");
        case TypeKind::ascii:
            return PyUnicode_DecodeASCII(reinterpret_cast<const char*>(p), static_cast<Py_ssize_t>(n), "strict");
        case TypeKind::bigint:
        case TypeKind::counter:
            if (n != 8) return bad_size(type, n);
            return PyLong_FromLongLong(ac::detail::load_be<std::int64_t>(p));
        case TypeKind::int_:
            if (n != 4) return bad_size(type, n);
            return PyLong_FromLong(ac::detail::load_be<std::int32_t>(p));
        case TypeKind::smallint:
            if (n != 2) return bad_size(type, n);
            return PyLong_FromLong(ac::detail::load_be<std::int16_t>(p));
        case TypeKind::tinyint:
            if (n != 1) return bad_size(type, n);
            return PyLong_FromLong(static_cast<std::int8_t>(p[0]));
        case TypeKind::boolean:
            if (n != 1) return bad_size(type, n);
            return PyBool_FromLong(p[0] != 0);
        case TypeKind::double_: {
            if (n != 8) return bad_size(type, n);
            return PyFloat_FromDouble(std::bit_cast<double>(ac::detail::load_be<std::uint64_t>(p)));
        }
        case TypeKind::float_: {
            if (n != 4) return bad_size(type, n);
            return PyFloat_FromDouble(std::bit_cast<float>(ac::detail::load_be<std::uint32_t>(p)));
        }
        case TypeKind::timestamp:
            if (n != 8) return bad_size(type, n);
            return timestamp_to_python(ac::detail::load_be<std::int64_t>(p));
        case TypeKind::date:
            if (n != 4) return bad_size(type, n);
            return date_to_python(ac::detail::load_be<std::uint32_t>(p));
        case TypeKind::time:
            if (n != 8) return bad_size(type, n);
            return time_to_python(ac::detail::load_be<std::int64_t>(p));
        case TypeKind::uuid:
        case TypeKind::timeuuid:
            if (n != 16) return bad_size(type, n);
            return uuid_to_python(b);
        case TypeKind::blob:
        case TypeKind::custom:
            return PyBytes_FromStringAndSize(reinterpret_cast<const char*>(p), static_cast<Py_ssize_t>(n));
        case TypeKind::varint:
            return varint_to_python(b);
        case TypeKind::decimal:
            return decimal_to_python(type, b);
        case TypeKind::inet:
            return inet_to_python(type, b);
        case TypeKind::duration: {
            const ac::Duration d = ac::ValueCodec<ac::Duration>::decode(type, b);
            return PyObject_CallFunction(g_duration_class, "iiL", d.months, d.days, static_cast<long long>(d.nanoseconds));
        }
        default:
            return composite_to_python(type, b, hashable);
    }
}

/// Runs `f`, turning C++ exceptions (malformed nested values) into Python ones.
template <class F>
PyObject* guarded(F&& f) {
    try {
        return f();
    } catch (const std::exception& e) {
        PyErr_Format(PyExc_ValueError, "malformed CQL value: %s", e.what());
        return nullptr;
    }
}

}  // namespace

bool init_convert(PyObject* helpers) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return false;
    auto attr_of = [](const char* module, const char* name) -> PyObject* {
        Ref m(PyImport_ImportModule(module));
        return m ? PyObject_GetAttrString(m.get(), name) : nullptr;
    };
    auto helper = [helpers](const char* name) -> PyObject* {
        PyObject* v = PyDict_GetItemString(helpers, name);  // borrowed
        if (!v) {
            PyErr_Format(PyExc_KeyError, "missing converter helper %s", name);
            return nullptr;
        }
        Py_INCREF(v);
        return v;
    };
    g_uuid_class = attr_of("uuid", "UUID");
    if (!g_uuid_class) return false;
    Ref safe(attr_of("uuid", "SafeUUID"));
    if (!safe) return false;
    g_safe_uuid_unknown = PyObject_GetAttrString(safe.get(), "unknown");
    g_int_str = PyUnicode_InternFromString("int");
    g_is_safe_str = PyUnicode_InternFromString("is_safe");
    g_decimal_class = attr_of("decimal", "Decimal");
    g_ipv4_class = attr_of("ipaddress", "IPv4Address");
    g_ipv6_class = attr_of("ipaddress", "IPv6Address");
    g_duration_class = helper("Duration");
    g_time_from_ns = helper("time_from_nanoseconds");
    g_udt_class = helper("udt_class");
    g_unset = helper("UNSET_VALUE");
    if (!g_safe_uuid_unknown || !g_decimal_class || !g_ipv4_class || !g_ipv6_class || !g_duration_class ||
        !g_time_from_ns || !g_udt_class || !g_unset)
        return false;
    if (!init_encode()) return false;
    if (!g_udt_classes) g_udt_classes = new std::map<std::string, PyObject*>();
    return true;
}

bool is_unset(PyObject* value) noexcept { return value == g_unset; }

PyObject* cell_to_python(const ac::DataType& type, std::optional<BytesView> raw) {
    return guarded([&] { return element_to_python(type, raw, false); });
}

PyObject* rows_to_python(const ac::Page& page, std::size_t start, std::size_t count, PyObject* row_class) {
    if (!PyType_Check(row_class) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(row_class), &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "row_class must be a tuple subclass");
        return nullptr;
    }
    PyTypeObject* cls = reinterpret_cast<PyTypeObject*>(row_class);
    const std::size_t end = std::min(page.size(), start + count);
    const ac::Columns& columns = page.columns();
    const std::size_t ncols = columns.size();
    Ref out(PyList_New(static_cast<Py_ssize_t>(end > start ? end - start : 0)));
    if (!out) return nullptr;
    return guarded([&]() -> PyObject* {
        for (std::size_t r = start; r < end; ++r) {
            // A namedtuple instance is a tuple: allocate it and fill its slots (no per-row call
            // of the class's Python __new__).
            PyObject* row = cls->tp_alloc(cls, static_cast<Py_ssize_t>(ncols));
            if (!row) return nullptr;
            PyList_SET_ITEM(out.get(), static_cast<Py_ssize_t>(r - start), row);
            // Cells in wire order from the row's start (the page validated their framing).
            const ac::detail::PageState& state = *page.state();
            const std::uint8_t* cell = state.base + state.row_offsets[r];
            for (std::size_t c = 0; c < ncols; ++c) {
                PyObject* v = element_to_python(*columns[c].type, ac::detail::next_cell(cell), false);
                if (!v) return nullptr;
                PyTuple_SET_ITEM(row, static_cast<Py_ssize_t>(c), v);
            }
        }
        return out.release();
    });
}

}  // namespace acpy
