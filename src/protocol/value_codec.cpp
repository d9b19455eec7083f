// Non-template parts of the value codecs (codec.hpp): error helpers, vints, the types whose
// decoding is more than a load, and the type-driven to_cql_literal / to_json.
#include <async_cassandra/codec.hpp>
#include <async_cassandra/text_codec.hpp>
#include <async_cassandra/value_text.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include "protocol/bytes.hpp"

namespace async_cassandra {

namespace detail {

void throw_bad_size(const DataType& type, std::size_t expected, std::size_t got) {
    throw ProtocolError(ProtocolErrc::invalid_length, type.cql_name() + " value must have " + std::to_string(expected) +
                                                          " bytes, not " + std::to_string(got));
}

void throw_invalid(const DataType& type, const std::string& why) {
    throw ProtocolError(ProtocolErrc::invalid_value, "bad " + type.cql_name() + " value: " + why);
}

void throw_type_mismatch(std::string_view what, const DataType& type, std::string_view cpp_type) {
    throw TypeError(std::string(what) + " of CQL type " + type.cql_name() + " cannot be converted to/from C++ type " +
                    std::string(cpp_type));
}

void throw_null(std::string_view what, const DataType& type, std::string_view cpp_type) {
    throw NullValueError("'" + std::string(what) + "' of CQL type " + type.cql_name() + " is null; read it as std::optional<" +
                         std::string(cpp_type) + ">");
}

void finish_value(protocol::ByteWriter& out, std::size_t at) {
    const std::size_t len = out.size() - at - 4;
    if (len > 0x7FFFFFFF) throw TypeError("value larger than 2 GiB");
    out.patch_i32(at, static_cast<std::int32_t>(len));
}

bool empty_is_value(TypeKind kind) noexcept {
    switch (kind) {
        case TypeKind::ascii:
        case TypeKind::varchar:
        case TypeKind::blob:
        case TypeKind::custom:
        case TypeKind::udt:
        case TypeKind::tuple: return true;
        default: return false;
    }
}

std::size_t fixed_value_size(TypeKind kind) noexcept {
    switch (kind) {
        case TypeKind::boolean:
        case TypeKind::tinyint: return 1;
        case TypeKind::smallint: return 2;
        case TypeKind::int_:
        case TypeKind::float_:
        case TypeKind::date: return 4;
        case TypeKind::bigint:
        case TypeKind::counter:
        case TypeKind::double_:
        case TypeKind::timestamp:
        case TypeKind::time: return 8;
        case TypeKind::uuid:
        case TypeKind::timeuuid: return 16;
        default: return 0;
    }
}

std::size_t vector_element_size(const DataType& type) noexcept {
    if (type.kind == TypeKind::vector) {
        if (type.params.empty() || !type.params[0] || type.vector_dimension <= 0) return 0;
        const std::size_t inner = vector_element_size(*type.params[0]);
        const auto dim = static_cast<std::size_t>(type.vector_dimension);
        if (inner == 0 || inner > (std::size_t{1} << 31) / dim) return 0;  // no overflow; cannot fit a frame
        return inner * dim;
    }
    return fixed_value_size(type.kind);
}

// [unsigned vint] (v5 spec 3): the count of leading 1 bits of the first byte is the number of
// extra bytes; the rest of the first byte holds the most significant bits.
std::uint64_t read_unsigned_vint(protocol::ByteReader& in) {
    const std::uint8_t first = in.read_u8();
    const int extra = std::countl_one(first);
    std::uint64_t v = extra >= 8 ? 0 : (first & (0xFFu >> extra));
    for (int i = 0; i < extra; ++i) v = v << 8 | in.read_u8();
    return v;
}

void write_unsigned_vint(protocol::ByteWriter& out, std::uint64_t v) {
    const int bits = 64 - std::countl_zero(v | 1);
    const int size = bits > 56 ? 9 : (bits + 6) / 7;
    if (size == 1) {
        out.write_u8(static_cast<std::uint8_t>(v));
        return;
    }
    const int extra = size - 1;
    std::uint8_t tmp[9];
    for (int i = size - 1; i >= 0; --i) {
        tmp[i] = static_cast<std::uint8_t>(v);
        v >>= 8;
    }
    // For 9 bytes the value fills bytes 1..8 and the first byte is only the prefix.
    tmp[0] = static_cast<std::uint8_t>((size == 9 ? 0 : tmp[0]) | static_cast<std::uint8_t>(0xFF00u >> extra));
    out.write_raw(protocol::BytesView(tmp, static_cast<std::size_t>(size)));
}

std::size_t read_count(protocol::ByteReader& in, const DataType& type) {
    const std::int32_t n = in.read_i32();
    if (n < 0) throw ProtocolError(ProtocolErrc::invalid_length, type.cql_name() + " element count " + std::to_string(n));
    // Every element takes at least its 4-byte length: reject absurd counts before allocating.
    const std::size_t per = type.kind == TypeKind::map ? 8 : 4;
    if (static_cast<std::size_t>(n) > in.remaining() / per)
        throw ProtocolError(ProtocolErrc::truncated, type.cql_name() + " claims " + std::to_string(n) +
                                                         " elements in " + std::to_string(in.remaining()) + " bytes");
    return static_cast<std::size_t>(n);
}

void TextCodecBase::encode_text(const DataType& t, std::string_view v, protocol::ByteWriter& out) {
    if (t.kind == TypeKind::ascii)
        for (char c : v)
            if (static_cast<unsigned char>(c) > 127) throw TypeError("non-ASCII byte in a value for an ascii column");
    if (v.size() > 0x7FFFFFFF) throw TypeError("text value larger than 2 GiB");
    out.write_i32(static_cast<std::int32_t>(v.size()));
    out.write_raw(v);
}

namespace {
std::uint64_t zigzag(std::int64_t v) noexcept {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) noexcept {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}
}  // namespace

}  // namespace detail

// ---------------------------------------------------------------- codecs declared in codec.hpp

void ValueCodec<Uuid>::encode(const DataType& t, const Uuid& v, protocol::ByteWriter& out) {
    if (t.kind == TypeKind::timeuuid && v.version() != 1)
        throw TypeError("uuid " + v.to_string() + " is not a version 1 uuid, as timeuuid needs");
    out.write_i32(16);
    out.write_raw(protocol::BytesView(v.bytes));
}

Uuid ValueCodec<Uuid>::decode(const DataType& t, protocol::BytesView b) {
    if (b.size() != 16) detail::throw_bad_size(t, 16, b.size());
    Uuid u;
    std::memcpy(u.bytes.data(), b.data(), 16);
    return u;
}

void ValueCodec<Inet>::encode(const DataType&, const Inet& v, protocol::ByteWriter& out) {
    if (v.size != 4 && v.size != 16) throw UsageError("inet with size " + std::to_string(v.size));
    out.write_bytes(v.view());
}

Inet ValueCodec<Inet>::decode(const DataType& t, protocol::BytesView b) {
    if (b.size() != 4 && b.size() != 16) detail::throw_invalid(t, "address of " + std::to_string(b.size()) + " bytes");
    return Inet::from_bytes(b);
}

Time ValueCodec<Time>::decode(const DataType& t, protocol::BytesView b) {
    if (b.size() != 8) detail::throw_bad_size(t, 8, b.size());
    const auto ns = detail::load_be<std::int64_t>(b.data());
    if (ns < 0 || ns >= Time::kNanosPerDay) detail::throw_invalid(t, std::to_string(ns) + " ns since midnight");
    return Time(ns);
}

// v5 spec 6.8: three zig-zag [vint]s: months, days, nanoseconds.
void ValueCodec<Duration>::encode(const DataType&, const Duration& v, protocol::ByteWriter& out) {
    if (!v.has_consistent_sign()) throw UsageError("duration parts must not have different signs");
    const std::size_t at = out.reserve_i32();
    detail::write_unsigned_vint(out, detail::zigzag(v.months));
    detail::write_unsigned_vint(out, detail::zigzag(v.days));
    detail::write_unsigned_vint(out, detail::zigzag(v.nanoseconds));
    detail::finish_value(out, at);
}

Duration ValueCodec<Duration>::decode(const DataType& t, protocol::BytesView b) {
    protocol::ByteReader in(b);
    const std::int64_t months = detail::unzigzag(detail::read_unsigned_vint(in));
    const std::int64_t days = detail::unzigzag(detail::read_unsigned_vint(in));
    const std::int64_t nanos = detail::unzigzag(detail::read_unsigned_vint(in));
    if (!in.empty()) throw ProtocolError(ProtocolErrc::trailing_bytes, "duration value has extra bytes");
    constexpr auto lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
    if (months < lo || months > hi || days < lo || days > hi) detail::throw_invalid(t, "months/days beyond 32 bits");
    Duration d{static_cast<std::int32_t>(months), static_cast<std::int32_t>(days), nanos};
    if (!d.has_consistent_sign()) detail::throw_invalid(t, "parts with different signs");
    return d;
}

Varint ValueCodec<Varint>::decode(const DataType& t, protocol::BytesView b) {
    if (b.empty()) detail::throw_invalid(t, "no bytes");
    return Varint::from_bytes(b);
}

Decimal ValueCodec<Decimal>::decode(const DataType& t, protocol::BytesView b) {
    if (b.size() < 5) detail::throw_invalid(t, std::to_string(b.size()) + " bytes, need a scale and a varint");
    return {detail::load_be<std::int32_t>(b.data()), Varint::from_bytes(b.subspan(4))};
}

// ---------------------------------------------------------------- to_cql_literal / to_json

std::string quote_cql_identifier(std::string_view name) {
    bool plain = !name.empty() && name[0] >= 'a' && name[0] <= 'z';
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
    if (plain) return std::string(name);
    std::string quoted = "\"";
    for (char c : name) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + '"';
}

std::string unquote_cql_identifier(std::string_view spelled) {
    std::string out;
    if (spelled.size() >= 2 && spelled.front() == '"' && spelled.back() == '"') {
        for (std::size_t i = 1; i + 1 < spelled.size(); ++i) {
            out += spelled[i];
            if (spelled[i] == '"' && i + 2 < spelled.size() && spelled[i + 1] == '"') ++i;
        }
        return out;
    }
    out.reserve(spelled.size());
    for (char c : spelled) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return out;
}

std::pair<std::string, std::string> split_qualified_name(std::string_view spelled) {
    bool quoted = false;
    for (std::size_t i = 0; i < spelled.size(); ++i) {
        if (spelled[i] == '"')
            quoted = !quoted;
        else if (spelled[i] == '.' && !quoted)
            return {unquote_cql_identifier(spelled.substr(0, i)), unquote_cql_identifier(spelled.substr(i + 1))};
    }
    return {std::string(), unquote_cql_identifier(spelled)};
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

namespace {

enum class Style { cql, json };


void append_cql_string(std::string& out, std::string_view s) {
    out += '\'';
    for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
    }
    out += '\'';
}

// Strings in the style's own quoting.
void append_quoted(std::string& out, std::string_view s, Style style) {
    if (style == Style::json) append_json_string(out, s);
    else append_cql_string(out, s);
}

// Values that CQL writes bare but JSON must quote (uuids, durations, blobs).
void append_bare_or_json(std::string& out, std::string_view s, Style style) {
    if (style == Style::json) append_json_string(out, s);
    else out += s;
}

template <class F>
void append_float(std::string& out, F v, Style style) {
    if (std::isnan(v) || std::isinf(v)) {
        const char* word = std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
        append_bare_or_json(out, word, style);
        return;
    }
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that round-trips
    out.append(buf, ec == std::errc{} ? p : buf);
}

std::string hex_blob(protocol::BytesView b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s = "0x";
    s.reserve(2 + 2 * b.size());
    for (std::uint8_t c : b) {
        s += kHex[c >> 4];
        s += kHex[c & 0xF];
    }
    return s;
}

void append_value(std::string& out, const DataType& t, std::optional<protocol::BytesView> raw, Style style, int depth);

const DataType& param(const DataType& t, std::size_t i) {
    if (t.params.size() <= i || !t.params[i])
        throw ProtocolError(ProtocolErrc::invalid_value, t.cql_name() + " type without its parameters");
    return *t.params[i];
}

void append_value(std::string& out, const DataType& t, std::optional<protocol::BytesView> raw, Style style, int depth) {
    if (depth > 64) throw ProtocolError(ProtocolErrc::invalid_value, "value nested too deeply");
    if (!raw || (raw->empty() && !detail::empty_is_value(t.kind))) {
        out += "null";
        return;
    }
    const protocol::BytesView b = *raw;
    switch (t.kind) {
        case TypeKind::ascii:
        case TypeKind::varchar:
            append_quoted(out, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), style);
            return;
        case TypeKind::blob:
        case TypeKind::custom: append_bare_or_json(out, hex_blob(b), style); return;
        case TypeKind::boolean: out += ValueCodec<bool>::decode(t, b) ? "true" : "false"; return;
        case TypeKind::tinyint: out += std::to_string(ValueCodec<std::int8_t>::decode(t, b)); return;
        case TypeKind::smallint: out += std::to_string(ValueCodec<std::int16_t>::decode(t, b)); return;
        case TypeKind::int_: out += std::to_string(ValueCodec<std::int32_t>::decode(t, b)); return;
        case TypeKind::bigint:
        case TypeKind::counter: out += std::to_string(ValueCodec<std::int64_t>::decode(t, b)); return;
        case TypeKind::varint: out += ValueCodec<Varint>::decode(t, b).to_string(); return;
        case TypeKind::decimal: out += ValueCodec<Decimal>::decode(t, b).to_string(); return;
        case TypeKind::float_: append_float(out, ValueCodec<float>::decode(t, b), style); return;
        case TypeKind::double_: append_float(out, ValueCodec<double>::decode(t, b), style); return;
        case TypeKind::uuid:
        case TypeKind::timeuuid: append_bare_or_json(out, ValueCodec<Uuid>::decode(t, b).to_string(), style); return;
        case TypeKind::inet: append_quoted(out, ValueCodec<Inet>::decode(t, b).to_string(), style); return;
        case TypeKind::date: append_quoted(out, ValueCodec<Date>::decode(t, b).to_string(), style); return;
        case TypeKind::time: append_quoted(out, ValueCodec<Time>::decode(t, b).to_string(), style); return;
        case TypeKind::timestamp: append_quoted(out, ValueCodec<Timestamp>::decode(t, b).to_string(), style); return;
        case TypeKind::duration:
            append_bare_or_json(out, ValueCodec<Duration>::decode(t, b).to_string(), style);
            return;
        case TypeKind::list:
        case TypeKind::set:
        case TypeKind::vector: {
            const DataType& et = param(t, 0);
            const bool braces = t.kind == TypeKind::set && style == Style::cql;
            out += braces ? '{' : '[';
            bool first = true;
            detail::for_each_element(t, b, [&](std::optional<protocol::BytesView> e) {
                if (!first) out += ", ";
                first = false;
                append_value(out, et, e, style, depth + 1);
            });
            out += braces ? '}' : ']';
            return;
        }
        case TypeKind::map: {
            const DataType& kt = param(t, 0);
            const DataType& vt = param(t, 1);
            protocol::ByteReader in(b);
            const std::size_t n = detail::read_count(in, t);
            out += '{';
            for (std::size_t i = 0; i < n; ++i) {
                if (i) out += ", ";
                const auto k = detail::read_element(in);
                if (style == Style::json) {
                    std::string key;
                    append_value(key, kt, k, style, depth + 1);
                    if (key.starts_with('"')) out += key;
                    else append_json_string(out, key);
                } else {
                    append_value(out, kt, k, style, depth + 1);
                }
                out += ": ";
                append_value(out, vt, detail::read_element(in), style, depth + 1);
            }
            if (!in.empty()) throw ProtocolError(ProtocolErrc::trailing_bytes, "map value has extra bytes");
            out += '}';
            return;
        }
        case TypeKind::tuple: {
            protocol::ByteReader in(b);
            out += style == Style::cql ? '(' : '[';
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                if (i) out += ", ";
                append_value(out, param(t, i), in.empty() ? std::nullopt : detail::read_element(in), style, depth + 1);
            }
            if (!in.empty()) throw ProtocolError(ProtocolErrc::trailing_bytes, "tuple value has extra bytes");
            out += style == Style::cql ? ')' : ']';
            return;
        }
        case TypeKind::udt: {
            protocol::ByteReader in(b);
            out += '{';
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                if (i) out += ", ";
                const std::string_view name = i < t.field_names.size() ? std::string_view(t.field_names[i]) : "";
                if (style == Style::json) append_json_string(out, name);
                else out += quote_cql_identifier(name);
                out += ": ";
                append_value(out, param(t, i), in.empty() ? std::nullopt : detail::read_element(in), style, depth + 1);
            }
            if (!in.empty()) throw ProtocolError(ProtocolErrc::trailing_bytes, "UDT value has extra bytes");
            out += '}';
            return;
        }
    }
    throw ProtocolError(ProtocolErrc::invalid_value, "unknown type kind " + std::to_string(static_cast<int>(t.kind)));
}

}  // namespace

std::string to_cql_literal(const DataType& type, std::optional<protocol::BytesView> bytes) {
    std::string out;
    append_value(out, type, bytes, Style::cql, 0);
    return out;
}

std::string to_json(const DataType& type, std::optional<protocol::BytesView> bytes) {
    std::string out;
    append_value(out, type, bytes, Style::json, 0);
    return out;
}

void append_cql_literal(std::string& out, const DataType& type, std::optional<protocol::BytesView> bytes) {
    append_value(out, type, bytes, Style::cql, 0);
}

void append_json(std::string& out, const DataType& type, std::optional<protocol::BytesView> bytes) {
    append_value(out, type, bytes, Style::json, 0);
}

}  // namespace async_cassandra
