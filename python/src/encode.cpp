// Python objects -> CQL [value]s of a known type (bind markers of prepared statements). What each
// type accepts is listed in docs/python.md; anything else is a TypeError naming both types.
#include "convert.hpp"
#include "py_helpers.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/values.hpp>

#include <datetime.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace acpy {

namespace {

using ac::TypeKind;
using ac::Bytes;
using ac::detail::ByteWriter;

bool fail_type(PyObject* value, const ac::DataType& type) {
    if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError))
        PyErr_Format(PyExc_TypeError, "cannot write a %s as CQL %s", Py_TYPE(value)->tp_name, type.cql_name().c_str());
    return false;
}

bool fail_range(PyObject* value, const ac::DataType& type) {
    PyErr_Clear();
    Ref text(PyObject_Repr(value));
    PyErr_Format(PyExc_OverflowError, "%s is out of range for CQL %s", text ? PyUnicode_AsUTF8(text.get()) : "value",
                 type.cql_name().c_str());
    return false;
}

std::size_t begin_value(Bytes& out) {
    const std::size_t at = out.size();
    out.resize(at + 4);
    return at;
}

void end_value(Bytes& out, std::size_t at) {
    const auto n = static_cast<std::uint32_t>(out.size() - at - 4);
    const std::uint8_t be[4] = {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                                static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    std::memcpy(out.data() + at, be, 4);
}

/// An integer (int, bool, or anything with __index__, e.g. numpy integers) in [lo, hi].
bool to_int64(PyObject* value, const ac::DataType& type, std::int64_t lo, std::int64_t hi, std::int64_t& result) {
    if (PyFloat_Check(value) || PyUnicode_Check(value) || PyBytes_Check(value)) return fail_type(value, type);
    Ref index(PyNumber_Index(value));
    if (!index) return fail_type(value, type);
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(index.get(), &overflow);
    if (v == -1 && PyErr_Occurred()) return false;
    if (overflow != 0 || v < lo || v > hi) return fail_range(value, type);
    result = v;
    return true;
}

bool write_varint(PyObject* value, const ac::DataType& type, Bytes& out, bool with_length) {
    Ref index(PyNumber_Index(value));
    if (!index || PyFloat_Check(value)) return fail_type(value, type);
    PyLongObject* v = reinterpret_cast<PyLongObject*>(index.get());
    const std::size_t bits = _PyLong_NumBits(index.get());
    if (bits == static_cast<std::size_t>(-1)) return false;
    std::size_t nbytes = bits / 8 + 1;  // room for the sign bit
    Bytes buf(nbytes);
    if (_PyLong_AsByteArray(v, buf.data(), nbytes, /*little_endian=*/0, /*is_signed=*/1) < 0) return false;
    // Minimal two's complement: drop redundant sign bytes.
    std::size_t skip = 0;
    while (skip + 1 < buf.size() &&
           ((buf[skip] == 0x00 && !(buf[skip + 1] & 0x80)) || (buf[skip] == 0xFF && (buf[skip + 1] & 0x80))))
        ++skip;
    ByteWriter w(out);
    if (with_length) w.write_i32(static_cast<std::int32_t>(buf.size() - skip));
    out.insert(out.end(), buf.begin() + static_cast<std::ptrdiff_t>(skip), buf.end());
    return true;
}

bool text_of(PyObject* value, std::string_view& text) {
    if (!PyUnicode_Check(value)) return false;
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(value, &n);
    if (!s) return false;
    text = std::string_view(s, static_cast<std::size_t>(n));
    return true;
}

/// Runs a C++ parser (UsageError on bad text) and turns its failure into a ValueError.
template <class F>
bool parse_text(F&& f, const ac::DataType& type) {
    try {
        f();
        return true;
    } catch (const std::exception& e) {
        PyErr_Format(PyExc_ValueError, "cannot write as CQL %s: %s", type.cql_name().c_str(), e.what());
        return false;
    }
}

bool timestamp_millis(PyObject* value, const ac::DataType& type, std::int64_t& ms) {
    if (PyDateTime_Check(value)) {
        Ref utc;
        PyObject* v = value;
        PyObject* tz = PyDateTime_DATE_GET_TZINFO(value);
        if (tz != Py_None) {  // aware: convert to UTC; naive datetimes are taken as UTC
            utc = Ref(PyObject_CallMethod(value, "astimezone", "O", PyDateTimeAPI->TimeZone_UTC));
            if (!utc) return false;
            v = utc.get();
        }
        const std::int64_t days = ac::Date::from_ymd(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v)).days_since_epoch;
        ms = days * 86'400'000LL + PyDateTime_DATE_GET_HOUR(v) * 3'600'000LL + PyDateTime_DATE_GET_MINUTE(v) * 60'000LL +
             PyDateTime_DATE_GET_SECOND(v) * 1000LL + PyDateTime_DATE_GET_MICROSECOND(v) / 1000;
        return true;
    }
    if (PyDate_Check(value)) {
        ms = ac::Date::from_ymd(PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value), PyDateTime_GET_DAY(value))
                 .days_since_epoch * 86'400'000LL;
        return true;
    }
    if (PyFloat_Check(value)) {  // milliseconds since the epoch, as the DataStax driver takes numbers
        const double d = PyFloat_AS_DOUBLE(value);
        if (!std::isfinite(d) || std::abs(d) > 9.2e18) return fail_range(value, type);
        ms = static_cast<std::int64_t>(d);
        return true;
    }
    return to_int64(value, type, INT64_MIN, INT64_MAX, ms);
}

bool write_elements_of(PyObject* value, const ac::DataType& type, const ac::DataType& element, Bytes& out) {
    if (PyUnicode_Check(value) || PyBytes_Check(value) || PyDict_Check(value)) return fail_type(value, type);
    Ref seq(PySequence_Fast(value, "not iterable"));
    if (!seq) return fail_type(value, type);
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
    ByteWriter(out).write_i32(static_cast<std::int32_t>(n));
    PyObject** items = PySequence_Fast_ITEMS(seq.get());
    for (Py_ssize_t i = 0; i < n; ++i) {
        if (items[i] == Py_None) {
            PyErr_Format(PyExc_ValueError, "null elements are not allowed in CQL %s", type.cql_name().c_str());
            return false;
        }
        if (!encode_python(items[i], element, out)) return false;
    }
    return true;
}

bool write_body(PyObject* value, const ac::DataType& type, Bytes& out);

bool write_fields(PyObject* value, const ac::DataType& type, Bytes& out) {
    const std::size_t n = type.params.size();
    auto write_one = [&](PyObject* item, std::size_t i) -> bool {
        if (!item || item == Py_None) {
            ByteWriter(out).write_null_bytes();
            return true;
        }
        return encode_python(item, *type.params[i], out);
    };
    if (type.kind == TypeKind::udt) {
        if (PyDict_Check(value)) {  // by field name; missing fields are null
            for (std::size_t i = 0; i < n; ++i) {
                PyObject* item = PyDict_GetItemString(value, type.field_names[i].c_str());  // borrowed
                if (!write_one(item, i)) return false;
            }
            return true;
        }
        if (!PyTuple_Check(value) || PyObject_HasAttrString(value, "_fields")) {
            for (std::size_t i = 0; i < n; ++i) {  // any object with attributes (named tuples included)
                Ref item(PyObject_GetAttrString(value, type.field_names[i].c_str()));
                if (!item) {
                    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return false;
                    PyErr_Clear();
                }
                if (!write_one(item.get(), i)) return false;
            }
            return true;
        }
    }
    if (PyUnicode_Check(value) || PyBytes_Check(value) || PyDict_Check(value)) return fail_type(value, type);
    Ref seq(PySequence_Fast(value, "not a sequence"));
    if (!seq) return fail_type(value, type);
    const auto count = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(seq.get()));
    if (count > n) {
        PyErr_Format(PyExc_ValueError, "%zu values for CQL %s of %zu fields", count, type.cql_name().c_str(), n);
        return false;
    }
    for (std::size_t i = 0; i < count; ++i)
        if (!write_one(PySequence_Fast_GET_ITEM(seq.get(), static_cast<Py_ssize_t>(i)), i)) return false;
    return true;
}

bool write_body(PyObject* value, const ac::DataType& type, Bytes& out) {
    ByteWriter w(out);
    std::int64_t v = 0;
    switch (type.kind) {
        case TypeKind::varchar:
        case TypeKind::ascii: {
            std::string_view text;
            if (!text_of(value, text)) return fail_type(value, type);
            if (type.kind == TypeKind::ascii)
                for (unsigned char c : text)
                    if (c > 127) {
                        PyErr_Format(PyExc_ValueError, "non-ASCII text for CQL ascii");
                        return false;
                    }
            w.write_raw(text);
            return true;
        }
        case TypeKind::bigint:
        case TypeKind::counter:
            if (!to_int64(value, type, INT64_MIN, INT64_MAX, v)) return false;
            w.write_i64(v);
            return true;
        case TypeKind::int_:
            if (!to_int64(value, type, INT32_MIN, INT32_MAX, v)) return false;
            w.write_i32(static_cast<std::int32_t>(v));
            return true;
        case TypeKind::smallint:
            if (!to_int64(value, type, INT16_MIN, INT16_MAX, v)) return false;
            w.write_i16(static_cast<std::int16_t>(v));
            return true;
        case TypeKind::tinyint:
            if (!to_int64(value, type, INT8_MIN, INT8_MAX, v)) return false;
            w.write_i8(static_cast<std::int8_t>(v));
            return true;
        case TypeKind::boolean: {
            if (PyBool_Check(value)) {
                w.write_u8(value == Py_True ? 1 : 0);
                return true;
            }
            if (!to_int64(value, type, INT64_MIN, INT64_MAX, v)) return false;  // numpy bools, 0/1
            w.write_u8(v != 0 ? 1 : 0);
            return true;
        }
        case TypeKind::double_:
        case TypeKind::float_: {
            if (PyUnicode_Check(value) || PyBytes_Check(value)) return fail_type(value, type);
            const double d = PyFloat_AsDouble(value);
            if (d == -1.0 && PyErr_Occurred()) return fail_type(value, type);
            if (type.kind == TypeKind::double_) w.write_u64(std::bit_cast<std::uint64_t>(d));
            else w.write_u32(std::bit_cast<std::uint32_t>(static_cast<float>(d)));
            return true;
        }
        case TypeKind::blob:
        case TypeKind::custom: {
            if (PyUnicode_Check(value)) return fail_type(value, type);
            Py_buffer view;
            if (PyObject_GetBuffer(value, &view, PyBUF_SIMPLE) < 0) return fail_type(value, type);
            const auto* p = static_cast<const std::uint8_t*>(view.buf);
            out.insert(out.end(), p, p + view.len);
            PyBuffer_Release(&view);
            return true;
        }
        case TypeKind::timestamp:
            if (!timestamp_millis(value, type, v)) return false;
            w.write_i64(v);
            return true;
        case TypeKind::date: {
            std::string_view text;
            ac::Date d;
            if (PyDate_Check(value)) {  // datetimes too: their date part
                d = ac::Date::from_ymd(PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value), PyDateTime_GET_DAY(value));
            } else if (text_of(value, text)) {
                if (!parse_text([&] { d = ac::Date::parse(text); }, type)) return false;
            } else {
                if (!to_int64(value, type, INT32_MIN, INT32_MAX, v)) return false;  // days since the epoch
                d.days_since_epoch = static_cast<std::int32_t>(v);
            }
            w.write_u32(d.to_wire());
            return true;
        }
        case TypeKind::time: {
            std::string_view text;
            if (PyTime_Check(value)) {
                std::int64_t ns = ((PyDateTime_TIME_GET_HOUR(value) * 60LL + PyDateTime_TIME_GET_MINUTE(value)) * 60LL +
                                   PyDateTime_TIME_GET_SECOND(value)) * 1'000'000'000LL +
                                  PyDateTime_TIME_GET_MICROSECOND(value) * 1000LL;
                Ref extra(PyObject_GetAttrString(value, "nanosecond"));  // the module's Time subclass
                if (extra) {
                    const long long sub = PyLong_AsLongLong(extra.get());
                    if (sub == -1 && PyErr_Occurred()) return false;
                    ns = ns - PyDateTime_TIME_GET_MICROSECOND(value) * 1000LL + sub;
                } else {
                    PyErr_Clear();
                }
                w.write_i64(ns);
                return true;
            }
            if (text_of(value, text)) {
                // "HH:MM:SS[.fffffffff]"
                unsigned h = 0, m = 0, s = 0;
                long long frac = 0;
                int digits = 0;
                const std::string t(text);
                char dot = 0;
                char fraction[16] = {0};
                const int got = std::sscanf(t.c_str(), "%2u:%2u:%2u%c%9[0-9]", &h, &m, &s, &dot, fraction);
                if (got < 3 || (got >= 4 && dot != '.') || h > 23 || m > 59 || s > 59) {
                    PyErr_Format(PyExc_ValueError, "cannot write '%s' as CQL time (HH:MM:SS[.fffffffff])", t.c_str());
                    return false;
                }
                for (const char* c = fraction; *c; ++c, ++digits) frac = frac * 10 + (*c - '0');
                for (; digits < 9; ++digits) frac *= 10;
                w.write_i64((h * 3600LL + m * 60LL + s) * 1'000'000'000LL + frac);
                return true;
            }
            if (!to_int64(value, type, 0, ac::Time::kNanosPerDay - 1, v)) return false;  // nanoseconds
            w.write_i64(v);
            return true;
        }
        case TypeKind::uuid:
        case TypeKind::timeuuid: {
            std::string_view text;
            if (text_of(value, text)) {
                ac::Uuid u;
                if (!parse_text([&] { u = ac::Uuid::parse(text); }, type)) return false;
                out.insert(out.end(), u.bytes.begin(), u.bytes.end());
                return true;
            }
            Ref as_int(PyObject_GetAttrString(value, "int"));  // uuid.UUID
            if (!as_int || !PyLong_Check(as_int.get())) return fail_type(value, type);
            std::uint8_t b[16];
            if (_PyLong_AsByteArray(reinterpret_cast<PyLongObject*>(as_int.get()), b, 16, 0, 0) < 0) return false;
            out.insert(out.end(), b, b + 16);
            return true;
        }
        case TypeKind::inet: {
            std::string_view text;
            if (text_of(value, text)) {
                ac::Inet addr;
                if (!parse_text([&] { addr = ac::Inet::parse(text); }, type)) return false;
                out.insert(out.end(), addr.bytes.begin(), addr.bytes.begin() + addr.size);
                return true;
            }
            Ref packed(PyObject_GetAttrString(value, "packed"));  // ipaddress.IPv4Address / IPv6Address
            if (!packed || !PyBytes_Check(packed.get())) return fail_type(value, type);
            const auto n = PyBytes_GET_SIZE(packed.get());
            if (n != 4 && n != 16) return fail_type(value, type);
            const auto* p = reinterpret_cast<const std::uint8_t*>(PyBytes_AS_STRING(packed.get()));
            out.insert(out.end(), p, p + n);
            return true;
        }
        case TypeKind::varint:
            return write_varint(value, type, out, false);
        case TypeKind::decimal: {
            // Decimal (exact), int, str, or float (through its shortest repr, as str(float) shows it).
            Ref dec;
            Ref decimal_mod(PyImport_ImportModule("decimal"));
            if (!decimal_mod) return false;
            Ref decimal_cls(PyObject_GetAttrString(decimal_mod.get(), "Decimal"));
            if (!decimal_cls) return false;
            if (PyFloat_Check(value)) {
                Ref text(PyObject_Repr(value));
                if (!text) return false;
                dec = Ref(PyObject_CallOneArg(decimal_cls.get(), text.get()));
            } else if (PyLong_Check(value) || PyUnicode_Check(value) || PyObject_IsInstance(value, decimal_cls.get()) == 1) {
                dec = Ref(PyObject_CallOneArg(decimal_cls.get(), value));
            } else {
                return fail_type(value, type);
            }
            if (!dec) return false;
            Ref parts(PyObject_CallMethod(dec.get(), "as_tuple", nullptr));
            if (!parts) return false;
            PyObject* sign = PyTuple_GET_ITEM(parts.get(), 0);
            PyObject* digits = PyTuple_GET_ITEM(parts.get(), 1);
            PyObject* exponent = PyTuple_GET_ITEM(parts.get(), 2);
            if (!PyLong_Check(exponent)) {
                PyErr_SetString(PyExc_ValueError, "CQL decimal cannot hold NaN or Infinity");
                return false;
            }
            std::string text = PyObject_IsTrue(sign) ? "-" : "";
            for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(digits); ++i)
                text += static_cast<char>('0' + PyLong_AsLong(PyTuple_GET_ITEM(digits, i)));
            if (text.empty() || text == "-") text += "0";
            const long long exp = PyLong_AsLongLong(exponent);
            if (exp < INT32_MIN + 1 || exp > INT32_MAX) return fail_range(value, type);
            Ref unscaled(PyLong_FromString(text.c_str(), nullptr, 10));
            if (!unscaled) return false;
            w.write_i32(static_cast<std::int32_t>(-exp));
            return write_varint(unscaled.get(), type, out, false);
        }
        case TypeKind::duration: {
            ac::Duration d;
            Ref months(PyObject_GetAttrString(value, "months"));
            Ref days(PyObject_GetAttrString(value, "days"));
            Ref nanos(PyObject_GetAttrString(value, "nanoseconds"));
            if (!months || !days || !nanos) return fail_type(value, type);
            std::int64_t mo = 0, da = 0, ns = 0;
            if (!to_int64(months.get(), type, INT32_MIN, INT32_MAX, mo) || !to_int64(days.get(), type, INT32_MIN, INT32_MAX, da) ||
                !to_int64(nanos.get(), type, INT64_MIN, INT64_MAX, ns))
                return false;
            d.months = static_cast<std::int32_t>(mo);
            d.days = static_cast<std::int32_t>(da);
            d.nanoseconds = ns;
            Bytes tmp;
            ByteWriter tw(tmp);
            if (!parse_text([&] { ac::ValueCodec<ac::Duration>::encode(type, d, tw); }, type)) return false;
            out.insert(out.end(), tmp.begin() + 4, tmp.end());  // without its length
            return true;
        }
        case TypeKind::list:
        case TypeKind::set:
            return write_elements_of(value, type, *type.params[0], out);
        case TypeKind::map: {
            Ref items(PyMapping_Check(value) && !PyUnicode_Check(value) && !PySequence_Check(value)
                          ? PyMapping_Items(value)
                          : nullptr);
            if (!items) return fail_type(value, type);
            const Py_ssize_t n = PyList_GET_SIZE(items.get());
            w.write_i32(static_cast<std::int32_t>(n));
            for (Py_ssize_t i = 0; i < n; ++i) {
                PyObject* kv = PyList_GET_ITEM(items.get(), i);
                PyObject* k = PyTuple_GET_ITEM(kv, 0);
                PyObject* val = PyTuple_GET_ITEM(kv, 1);
                if (k == Py_None || val == Py_None) {
                    PyErr_SetString(PyExc_ValueError, "null keys or values are not allowed in a CQL map");
                    return false;
                }
                if (!encode_python(k, *type.params[0], out) || !encode_python(val, *type.params[1], out)) return false;
            }
            return true;
        }
        case TypeKind::tuple:
        case TypeKind::udt:
            return write_fields(value, type, out);
        case TypeKind::vector: {
            const ac::DataType& et = *type.params[0];
            Ref seq(PySequence_Fast(value, "not a sequence"));
            if (!seq || PyUnicode_Check(value)) return fail_type(value, type);
            const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
            if (n != type.vector_dimension) {
                PyErr_Format(PyExc_ValueError, "%zd values for CQL %s", n, type.cql_name().c_str());
                return false;
            }
            const bool fixed = ac::detail::vector_element_size(et) != 0;
            for (Py_ssize_t i = 0; i < n; ++i) {
                Bytes element;
                if (!write_body(PySequence_Fast_GET_ITEM(seq.get(), i), et, element)) return false;
                if (!fixed) ac::detail::write_unsigned_vint(w, element.size());
                out.insert(out.end(), element.begin(), element.end());
            }
            return true;
        }
    }
    PyErr_Format(PyExc_TypeError, "cannot write CQL %s values", type.cql_name().c_str());
    return false;
}

}  // namespace

bool init_encode() {
    PyDateTime_IMPORT;  // the C API pointer is per translation unit
    return PyDateTimeAPI != nullptr;
}

bool encode_python(PyObject* value, const ac::DataType& type, Bytes& out) {
    if (value == Py_None) {
        ByteWriter(out).write_null_bytes();
        return true;
    }
    if (is_unset(value)) {
        ByteWriter(out).write_unset_value();
        return true;
    }
    const std::size_t at = begin_value(out);
    try {
        if (!write_body(value, type, out)) return false;
    } catch (const std::exception& e) {
        PyErr_Format(PyExc_ValueError, "cannot write as CQL %s: %s", type.cql_name().c_str(), e.what());
        return false;
    }
    end_value(out, at);
    return true;
}

}  // namespace acpy
