#include "server/engine/cql_values.hpp"

#include "protocol/calendar.hpp"

#include <async_cassandra/codec.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

namespace async_cassandra::server::cql {

using protocol::Bytes;
using protocol::BytesView;
using protocol::ValueView;

// ---------------------------------------------------------------- small helpers

void append_i32(Bytes& out, std::int32_t v) {
    auto u = static_cast<std::uint32_t>(v);
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(u >> s));
}
void append_i64(Bytes& out, std::int64_t v) {
    // One insert, not eight push_backs: an empty vector grew 1, 2, 4, 8 (four allocations).
    auto u = static_cast<std::uint64_t>(v);
    std::uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(u >> (56 - 8 * i));
    out.insert(out.end(), b, b + 8);
}
Bytes text_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

namespace {

std::uint64_t load_be(BytesView b) {
    std::uint64_t v = 0;
    for (auto c : b) v = (v << 8) | c;
    return v;
}
std::int64_t load_signed(BytesView b) {
    if (b.empty()) return 0;
    if (b.size() > 8) b = b.subspan(b.size() - 8);  // malformed input: compare the low bytes
    std::uint64_t v = load_be(b);
    unsigned bits = static_cast<unsigned>(b.size() * 8);
    if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~std::uint64_t{0} << bits;
    return static_cast<std::int64_t>(v);
}

[[noreturn]] void bad_constant(const Term& t, const DataType& type) {
    static const char* names[] = {"STRING", "INTEGER", "FLOAT", "UUID", "BOOLEAN", "HEX", "DURATION"};
    auto k = static_cast<std::size_t>(t.kind);
    std::string kind = k < 7 ? names[k] : "literal";
    if (t.kind == Term::Kind::list || t.kind == Term::Kind::set || t.kind == Term::Kind::map ||
        t.kind == Term::Kind::tuple)
        throw_invalid("Invalid collection/tuple literal for value of type " + type.cql_name());
    throw_invalid("Invalid " + kind + " constant (" + t.text + ") for value of type " + type.cql_name());
}

bool is_collection(const DataType& t) {
    return t.kind == TypeKind::list || t.kind == TypeKind::set || t.kind == TypeKind::map;
}

ColumnType resolve(const TypeExpr& e, const std::string& ks, const UdtLookup& udts, bool nested, int depth) {
    if (depth > 32) throw_invalid("type nested too deeply");
    static const std::pair<std::string_view, TypeKind> simple[] = {
        {"ascii", TypeKind::ascii},         {"bigint", TypeKind::bigint},     {"blob", TypeKind::blob},
        {"boolean", TypeKind::boolean},     {"counter", TypeKind::counter},   {"decimal", TypeKind::decimal},
        {"double", TypeKind::double_},      {"float", TypeKind::float_},      {"int", TypeKind::int_},
        {"text", TypeKind::varchar},        {"varchar", TypeKind::varchar},   {"timestamp", TypeKind::timestamp},
        {"uuid", TypeKind::uuid},           {"varint", TypeKind::varint},     {"timeuuid", TypeKind::timeuuid},
        {"inet", TypeKind::inet},           {"date", TypeKind::date},         {"time", TypeKind::time},
        {"smallint", TypeKind::smallint},   {"tinyint", TypeKind::tinyint},   {"duration", TypeKind::duration},
    };
    auto want = [&](std::size_t n) {
        if (e.params.size() != n)
            throw_invalid("Invalid type " + e.name + ": expected " + std::to_string(n) + " type parameters");
    };
    if (e.keyspace.empty() && e.params.empty() && e.name != "frozen" && e.name != "tuple") {
        for (const auto& [n, k] : simple)
            if (e.name == n) {
                if (nested && k == TypeKind::counter) throw_invalid("Counters are not allowed inside collections");
                return {DataType::simple(k), k == TypeKind::varchar ? "text" : std::string(n)};
            }
    }
    auto wrap = [&](ColumnType ct) {
        if (nested && (is_collection(*ct.type) || ct.type->kind == TypeKind::tuple || ct.type->kind == TypeKind::udt) &&
            !ct.cql.starts_with("frozen<"))
            ct.cql = "frozen<" + ct.cql + ">";
        return ct;
    };
    if (e.keyspace.empty()) {
        if (e.name == "frozen") {
            want(1);
            ColumnType inner = resolve(e.params[0], ks, udts, false, depth + 1);
            if (!inner.cql.starts_with("frozen<")) inner.cql = "frozen<" + inner.cql + ">";
            return inner;
        }
        if (e.name == "list" || e.name == "set") {
            want(1);
            ColumnType el = resolve(e.params[0], ks, udts, true, depth + 1);
            auto t = e.name == "list" ? DataType::list_of(el.type) : DataType::set_of(el.type);
            return wrap({t, e.name + "<" + el.cql + ">"});
        }
        if (e.name == "map") {
            want(2);
            ColumnType k = resolve(e.params[0], ks, udts, true, depth + 1);
            ColumnType v = resolve(e.params[1], ks, udts, true, depth + 1);
            return wrap({DataType::map_of(k.type, v.type), "map<" + k.cql + ", " + v.cql + ">"});
        }
        if (e.name == "tuple") {
            if (e.params.empty()) throw_invalid("tuple type needs at least one component");
            std::vector<DataTypePtr> parts;
            std::string text = "tuple<";
            for (std::size_t i = 0; i < e.params.size(); ++i) {
                ColumnType p = resolve(e.params[i], ks, udts, true, depth + 1);
                parts.push_back(p.type);
                text += (i ? ", " : "") + p.cql;
            }
            return {DataType::tuple_of(std::move(parts)), "frozen<" + text + ">>"};
        }
        if (e.name == "vector") {
            want(1);
            if (e.dimension <= 0) throw_invalid("vectors must have a dimension greater than 0");
            ColumnType el = resolve(e.params[0], ks, udts, true, depth + 1);
            return {DataType::vector_of(el.type, e.dimension),
                    "vector<" + el.cql + ", " + std::to_string(e.dimension) + ">"};
        }
        if (e.name.starts_with("'")) throw_invalid("custom types are not supported");
    }
    const std::string& udt_ks = e.keyspace.empty() ? ks : e.keyspace;
    if (DataTypePtr udt = udts ? udts(udt_ks, e.name) : nullptr) return wrap({udt, e.name});
    throw_invalid("Unknown type " + (e.keyspace.empty() ? "" : e.keyspace + ".") + e.name);
}

// ---------------------------------------------------------------- literal parsing

std::int64_t parse_integer(const Term& t, const DataType& type, std::int64_t lo, std::int64_t hi) {
    if (t.kind != Term::Kind::integer) bad_constant(t, type);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec != std::errc{} || p != t.text.data() + t.text.size() || v < lo || v > hi)
        throw_invalid("Invalid " + type.cql_name() + " value: " + t.text + " is out of range");
    return v;
}

// Arbitrary-size decimal text (optional '-') to minimal two's complement bytes.
Bytes varint_from_text(std::string_view digits_text) {
    bool neg = !digits_text.empty() && digits_text[0] == '-';
    if (neg || (!digits_text.empty() && digits_text[0] == '+')) digits_text.remove_prefix(1);
    // magnitude as little-endian base-256 digits
    std::vector<std::uint8_t> mag{0};
    for (char c : digits_text) {
        if (c < '0' || c > '9') throw_invalid("Invalid varint: " + std::string(digits_text));
        unsigned carry = static_cast<unsigned>(c - '0');
        for (auto& b : mag) {
            unsigned v = b * 10u + carry;
            b = static_cast<std::uint8_t>(v & 0xFF);
            carry = v >> 8;
        }
        if (carry) mag.push_back(static_cast<std::uint8_t>(carry));
    }
    if (neg) {  // two's complement: invert and add one
        unsigned carry = 1;
        for (auto& b : mag) {
            unsigned v = static_cast<std::uint8_t>(~b) + carry;
            b = static_cast<std::uint8_t>(v & 0xFF);
            carry = v >> 8;
        }
    }
    Bytes be(mag.rbegin(), mag.rend());
    // Ensure the sign bit is right, then strip redundant leading bytes.
    if (!neg && (be[0] & 0x80)) be.insert(be.begin(), 0x00);
    if (neg && !(be[0] & 0x80)) be.insert(be.begin(), 0xFF);
    std::size_t skip = 0;
    while (skip + 1 < be.size() && ((be[skip] == 0x00 && !(be[skip + 1] & 0x80)) ||
                                    (be[skip] == 0xFF && (be[skip + 1] & 0x80))))
        ++skip;
    be.erase(be.begin(), be.begin() + static_cast<std::ptrdiff_t>(skip));
    return be;
}

Bytes decimal_from_text(const Term& t, const DataType& type) {
    if (t.kind != Term::Kind::integer && t.kind != Term::Kind::floating) bad_constant(t, type);
    std::string_view s = t.text;
    std::string digits;
    std::int64_t scale = 0;
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) digits += s[i++];
    bool frac = false;
    for (; i < s.size(); ++i) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            digits += c;
            if (frac) ++scale;
        } else if (c == '.' && !frac) {
            frac = true;
        } else if (c == 'e' || c == 'E') {
            std::int64_t exp = 0;
            auto [p, ec] = std::from_chars(s.data() + i + 1 + (s[i + 1] == '+'), s.data() + s.size(), exp);
            if (ec != std::errc{} || p != s.data() + s.size() || exp > 100000 || exp < -100000) bad_constant(t, type);
            scale -= exp;
            break;
        } else {
            bad_constant(t, type);
        }
    }
    if (digits.empty() || digits == "-" || digits == "+") bad_constant(t, type);
    Bytes out;
    append_i32(out, static_cast<std::int32_t>(scale));
    Bytes v = varint_from_text(digits);
    out.insert(out.end(), v.begin(), v.end());
    return out;
}

double parse_double(const Term& t, const DataType& type) {
    if (t.kind != Term::Kind::integer && t.kind != Term::Kind::floating) bad_constant(t, type);
    if (t.text == "nan" || t.text == "-nan") return std::nan("");
    if (t.text == "infinity") return HUGE_VAL;
    if (t.text == "-infinity") return -HUGE_VAL;
    char* end = nullptr;
    double v = std::strtod(t.text.c_str(), &end);
    if (end != t.text.c_str() + t.text.size()) bad_constant(t, type);
    return v;
}


struct TextCursor {
    std::string_view s;
    std::size_t i = 0;
    bool at(char c) const { return i < s.size() && s[i] == c; }
    bool done() const { return i >= s.size(); }
    // Reads exactly `n` digits (n = 0: one or more).
    bool digits(std::size_t n, std::int64_t& out) {
        std::size_t start = i;
        out = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && (n == 0 || i - start < n)) {
            if (i - start >= 9) return false;  // no field needs more; keeps the arithmetic in range
            out = out * 10 + (s[i++] - '0');
        }
        return n == 0 ? i > start : i - start == n;
    }
};

bool parse_date_part(TextCursor& c, std::int64_t& days) {
    std::int64_t y = 0, m = 0, d = 0;
    bool neg = c.at('-');
    if (neg) ++c.i;
    if (!c.digits(0, y) || !c.at('-')) return false;
    ++c.i;
    if (!c.digits(2, m) || !c.at('-')) return false;
    ++c.i;
    if (!c.digits(2, d)) return false;
    if (m < 1 || m > 12 || d < 1 || d > 31 || y > 5'000'000) return false;
    days = protocol::calendar::days_from_civil(neg ? -y : y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    return true;
}

// HH:MM[:SS[.fraction]] -> nanoseconds of the day.
bool parse_time_part(TextCursor& c, std::int64_t& nanos, bool seconds_required) {
    std::int64_t h = 0, mi = 0, sec = 0, frac = 0;
    if (!c.digits(2, h) || !c.at(':')) return false;
    ++c.i;
    if (!c.digits(2, mi)) return false;
    if (c.at(':')) {
        ++c.i;
        if (!c.digits(2, sec)) return false;
        if (c.at('.')) {
            ++c.i;
            std::size_t start = c.i;
            if (!c.digits(0, frac) || c.i - start > 9) return false;
            for (std::size_t k = c.i - start; k < 9; ++k) frac *= 10;
        }
    } else if (seconds_required) {
        return false;
    }
    if (h > 23 || mi > 59 || sec > 59) return false;
    nanos = ((h * 60 + mi) * 60 + sec) * 1'000'000'000 + frac;
    return true;
}

std::int64_t parse_timestamp_text(const Term& t, const DataType& type) {
    TextCursor c{t.text};
    std::int64_t days = 0, nanos = 0;
    if (!parse_date_part(c, days)) throw_invalid("Unable to coerce '" + t.text + "' to a formatted date (long)");
    if (c.at('T') || c.at(' ')) {
        ++c.i;
        if (!parse_time_part(c, nanos, false))
            throw_invalid("Unable to coerce '" + t.text + "' to a formatted date (long)");
    }
    std::int64_t offset_min = 0;
    if (c.at(' ')) ++c.i;
    if (c.at('Z') || c.at('z')) {
        ++c.i;
    } else if (c.at('+') || c.at('-')) {
        bool neg = c.at('-');
        ++c.i;
        std::int64_t hh = 0, mm = 0;
        if (!c.digits(2, hh)) bad_constant(t, type);
        if (c.at(':')) ++c.i;
        if (!c.done() && !c.digits(2, mm)) bad_constant(t, type);
        offset_min = (neg ? -1 : 1) * (hh * 60 + mm);
    }
    if (!c.done()) throw_invalid("Unable to coerce '" + t.text + "' to a formatted date (long)");
    return days * 86'400'000 + nanos / 1'000'000 - offset_min * 60'000;
}

// Vints with the client's codec (src/protocol/value_codec.cpp): one implementation of the v5 layout.
void put_unsigned_vint(Bytes& out, std::uint64_t v) {
    protocol::ByteWriter writer(out);
    async_cassandra::detail::write_unsigned_vint(writer, v);
}
void put_signed_vint(Bytes& out, std::int64_t v) {
    put_unsigned_vint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}
bool read_unsigned_vint(BytesView b, std::size_t& pos, std::uint64_t& out) {
    if (pos > b.size()) return false;
    protocol::ByteReader in(b.subspan(pos));
    try {
        out = async_cassandra::detail::read_unsigned_vint(in);
    } catch (const ProtocolError&) {
        return false;  // truncated
    }
    pos += in.position();
    return true;
}

Bytes duration_from_text(const Term& t, const DataType& type) {
    if (t.kind != Term::Kind::duration) bad_constant(t, type);
    std::string_view s = t.text;
    bool neg = !s.empty() && s[0] == '-';
    if (neg) s.remove_prefix(1);
    std::int64_t months = 0, days = 0, nanos = 0;
    while (!s.empty()) {
        std::int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec != std::errc{}) bad_constant(t, type);
        s.remove_prefix(static_cast<std::size_t>(p - s.data()));
        std::size_t ulen = 0;
        while (ulen < s.size() && !(s[ulen] >= '0' && s[ulen] <= '9')) ++ulen;
        std::string_view unit = s.substr(0, ulen);
        s.remove_prefix(ulen);
        std::int64_t* field = &nanos;
        std::int64_t scale = 1;
        if (unit == "y") field = &months, scale = 12;
        else if (unit == "mo") field = &months;
        else if (unit == "w") field = &days, scale = 7;
        else if (unit == "d") field = &days;
        else if (unit == "h") scale = 3'600'000'000'000;
        else if (unit == "m") scale = 60'000'000'000;
        else if (unit == "s") scale = 1'000'000'000;
        else if (unit == "ms") scale = 1'000'000;
        else if (unit == "us" || unit == "\xc2\xb5s") scale = 1'000;
        else if (unit != "ns") throw_invalid("Unable to convert '" + t.text + "' to a duration");
        std::int64_t add = 0;
        if (__builtin_mul_overflow(n, scale, &add) || __builtin_add_overflow(*field, add, field))
            throw_invalid("Invalid duration. The total number of " + std::string(unit) + " must be smaller than " +
                          std::to_string(INT64_MAX));
    }
    if (neg) {
        months = -months;
        days = -days;
        nanos = -nanos;
    }
    Bytes out;
    put_signed_vint(out, months);
    put_signed_vint(out, days);
    put_signed_vint(out, nanos);
    return out;
}

std::mt19937_64& rng() {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    return gen;
}

Bytes random_uuid() {
    Bytes out(16);
    std::uint64_t a = rng()(), b = rng()();
    for (int k = 0; k < 8; ++k) {
        out[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(a >> (56 - 8 * k));
        out[static_cast<std::size_t>(8 + k)] = static_cast<std::uint8_t>(b >> (56 - 8 * k));
    }
    out[6] = static_cast<std::uint8_t>((out[6] & 0x0F) | 0x40);
    out[8] = static_cast<std::uint8_t>((out[8] & 0x3F) | 0x80);
    return out;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Bytes time_uuid() {
    // 100ns intervals since 1582-10-15, plus a per-thread counter so that uuids are unique.
    thread_local std::uint64_t last = 0;
    std::uint64_t t = static_cast<std::uint64_t>(now_ms()) * 10'000 + 0x01B21DD213814000ULL;
    if (t <= last) t = last + 1;
    last = t;
    Bytes out = random_uuid();
    std::uint32_t low = static_cast<std::uint32_t>(t);
    out[0] = static_cast<std::uint8_t>(low >> 24);
    out[1] = static_cast<std::uint8_t>(low >> 16);
    out[2] = static_cast<std::uint8_t>(low >> 8);
    out[3] = static_cast<std::uint8_t>(low);
    out[4] = static_cast<std::uint8_t>(t >> 40);
    out[5] = static_cast<std::uint8_t>(t >> 32);
    out[6] = static_cast<std::uint8_t>(((t >> 56) & 0x0F) | 0x10);
    out[7] = static_cast<std::uint8_t>(t >> 48);
    return out;
}

std::uint64_t uuid_timestamp(BytesView u) {
    return (static_cast<std::uint64_t>(u[6] & 0x0F) << 56) | (static_cast<std::uint64_t>(u[7]) << 48) |
           (static_cast<std::uint64_t>(u[4]) << 40) | (static_cast<std::uint64_t>(u[5]) << 32) |
           (static_cast<std::uint64_t>(u[0]) << 24) | (static_cast<std::uint64_t>(u[1]) << 16) |
           (static_cast<std::uint64_t>(u[2]) << 8) | u[3];
}

void put_element(Bytes& out, const Bytes& b) {
    append_i32(out, static_cast<std::int32_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
}

Value bytes_value(Bytes b) { return Value{Value::Kind::value, std::move(b)}; }

Value evaluate_function(const Term& t, const DataType& type) {
    const std::string& f = t.text;
    auto expect_kind = [&](TypeKind k) {
        if (type.kind != k) throw_invalid("Type error: cannot assign result of function " + f + " to a " + type.cql_name());
    };
    if ((f == "now" || f == "currenttimeuuid") && t.elems.empty()) {
        if (type.kind != TypeKind::timeuuid && type.kind != TypeKind::uuid) expect_kind(TypeKind::timeuuid);
        return bytes_value(time_uuid());
    }
    if (f == "uuid" && t.elems.empty()) {
        expect_kind(TypeKind::uuid);
        return bytes_value(random_uuid());
    }
    if ((f == "currenttimestamp" && t.elems.empty()) ||
        ((f == "totimestamp" || f == "tounixtimestamp") && t.elems.size() == 1 &&
         t.elems[0].kind == Term::Kind::function && t.elems[0].text == "now")) {
        if (type.kind != TypeKind::bigint) expect_kind(TypeKind::timestamp);
        Bytes b;
        append_i64(b, now_ms());
        return bytes_value(std::move(b));
    }
    if (f == "currentdate" && t.elems.empty()) {
        expect_kind(TypeKind::date);
        Bytes b;
        append_i32(b, static_cast<std::int32_t>(static_cast<std::uint32_t>(now_ms() / 86'400'000) + 0x80000000u));
        return bytes_value(std::move(b));
    }
    throw_invalid("Unknown function " + f + " called");
}

Value evaluate_impl(const Term& t, const DataType& type, std::span<const ValueView> bound, int depth);

Bytes element(const Term& t, const DataType& type, std::span<const ValueView> bound, int depth) {
    Value v = evaluate_impl(t, type, bound, depth + 1);
    if (v.kind == Value::Kind::null) throw_invalid("null is not supported inside collections");
    if (v.kind == Value::Kind::unset) throw_invalid("Invalid unset value in collection");
    return std::move(v.bytes);
}

Value evaluate_impl(const Term& t, const DataType& type, std::span<const ValueView> bound, int depth) {
    if (depth > 64) throw_invalid("literal nested too deeply");
    switch (t.kind) {
        case Term::Kind::null: return Value{Value::Kind::null, {}};
        case Term::Kind::bind: {
            if (t.bind_index < 0 || static_cast<std::size_t>(t.bind_index) >= bound.size())
                throw_invalid("No value bound for bind marker " + std::to_string(t.bind_index));
            const ValueView& v = bound[static_cast<std::size_t>(t.bind_index)];
            if (v.is_null()) return Value{Value::Kind::null, {}};
            if (v.is_unset()) return Value{Value::Kind::unset, {}};
            validate_value(v.bytes, type);
            return bytes_value(Bytes(v.bytes.begin(), v.bytes.end()));
        }
        case Term::Kind::function: return evaluate_function(t, type);
        default: break;
    }
    Bytes out;
    switch (type.kind) {
        case TypeKind::ascii:
        case TypeKind::varchar:
            if (t.kind != Term::Kind::string) bad_constant(t, type);
            if (type.kind == TypeKind::ascii)
                for (unsigned char c : t.text)
                    if (c >= 0x80) throw_invalid("Invalid ASCII character in string literal");
            return bytes_value(text_bytes(t.text));
        case TypeKind::blob: {
            if (t.kind != Term::Kind::hex) bad_constant(t, type);
            if (t.text.size() % 2) throw_invalid("Hex string is odd-length: 0x" + t.text);
            for (std::size_t i = 0; i < t.text.size(); i += 2)
                out.push_back(static_cast<std::uint8_t>(std::stoi(t.text.substr(i, 2), nullptr, 16)));
            return bytes_value(std::move(out));
        }
        case TypeKind::boolean:
            if (t.kind != Term::Kind::boolean) bad_constant(t, type);
            return bytes_value(Bytes{static_cast<std::uint8_t>(t.text == "true" ? 1 : 0)});
        case TypeKind::tinyint:
            return bytes_value(Bytes{static_cast<std::uint8_t>(parse_integer(t, type, -128, 127))});
        case TypeKind::smallint: {
            auto v = static_cast<std::uint16_t>(parse_integer(t, type, -32768, 32767));
            return bytes_value(Bytes{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
        }
        case TypeKind::int_:
            append_i32(out, static_cast<std::int32_t>(parse_integer(t, type, INT32_MIN, INT32_MAX)));
            return bytes_value(std::move(out));
        case TypeKind::bigint:
        case TypeKind::counter:
            append_i64(out, parse_integer(t, type, INT64_MIN, INT64_MAX));
            return bytes_value(std::move(out));
        case TypeKind::varint:
            if (t.kind != Term::Kind::integer) bad_constant(t, type);
            return bytes_value(varint_from_text(t.text));
        case TypeKind::decimal: return bytes_value(decimal_from_text(t, type));
        case TypeKind::float_: {
            auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(parse_double(t, type)));
            append_i32(out, static_cast<std::int32_t>(bits));
            return bytes_value(std::move(out));
        }
        case TypeKind::double_:
            append_i64(out, std::bit_cast<std::int64_t>(parse_double(t, type)));
            return bytes_value(std::move(out));
        case TypeKind::uuid:
        case TypeKind::timeuuid: {
            if (t.kind != Term::Kind::uuid) bad_constant(t, type);
            out = uuid_bytes(t.text);
            if (type.kind == TypeKind::timeuuid && (out[6] >> 4) != 1)
                throw_invalid("Unsupported UUID for timeuuid; got version " + std::to_string(out[6] >> 4));
            return bytes_value(std::move(out));
        }
        case TypeKind::inet:
            if (t.kind != Term::Kind::string) bad_constant(t, type);
            return bytes_value(inet_bytes(t.text));
        case TypeKind::timestamp: {
            std::int64_t ms = t.kind == Term::Kind::integer ? parse_integer(t, type, INT64_MIN, INT64_MAX)
                              : t.kind == Term::Kind::string ? parse_timestamp_text(t, type)
                                                             : (bad_constant(t, type), 0);
            append_i64(out, ms);
            return bytes_value(std::move(out));
        }
        case TypeKind::date: {
            std::uint32_t v = 0;
            if (t.kind == Term::Kind::integer) {
                v = static_cast<std::uint32_t>(parse_integer(t, type, 0, UINT32_MAX));
            } else if (t.kind == Term::Kind::string) {
                TextCursor c{t.text};
                std::int64_t days = 0;
                if (!parse_date_part(c, days) || !c.done())
                    throw_invalid("Unable to coerce '" + t.text + "' to a formatted date (long)");
                v = static_cast<std::uint32_t>(days + 0x80000000LL);
            } else {
                bad_constant(t, type);
            }
            append_i32(out, static_cast<std::int32_t>(v));
            return bytes_value(std::move(out));
        }
        case TypeKind::time: {
            std::int64_t nanos = 0;
            if (t.kind == Term::Kind::integer) {
                nanos = parse_integer(t, type, 0, 86'399'999'999'999);
            } else if (t.kind == Term::Kind::string) {
                TextCursor c{t.text};
                if (!parse_time_part(c, nanos, true) || !c.done())
                    throw_invalid("Unable to coerce '" + t.text + "' to a formatted time (long)");
            } else {
                bad_constant(t, type);
            }
            append_i64(out, nanos);
            return bytes_value(std::move(out));
        }
        case TypeKind::duration: return bytes_value(duration_from_text(t, type));
        case TypeKind::list: {
            if (t.kind != Term::Kind::list) bad_constant(t, type);
            append_i32(out, static_cast<std::int32_t>(t.elems.size()));
            for (const auto& e : t.elems) put_element(out, element(e, *type.params[0], bound, depth));
            return bytes_value(std::move(out));
        }
        case TypeKind::set: {
            if (t.kind != Term::Kind::set && !(t.kind == Term::Kind::map && t.elems.empty())) bad_constant(t, type);
            std::vector<Bytes> items;
            for (const auto& e : t.elems) items.push_back(element(e, *type.params[0], bound, depth));
            const DataType& et = *type.params[0];
            std::sort(items.begin(), items.end(),
                      [&](const Bytes& a, const Bytes& b) { return compare_values(a, b, et) < 0; });
            items.erase(std::unique(items.begin(), items.end(),
                                    [&](const Bytes& a, const Bytes& b) { return compare_values(a, b, et) == 0; }),
                        items.end());
            append_i32(out, static_cast<std::int32_t>(items.size()));
            for (const auto& b : items) put_element(out, b);
            return bytes_value(std::move(out));
        }
        case TypeKind::map: {
            if (t.kind != Term::Kind::map) bad_constant(t, type);
            std::vector<std::pair<Bytes, Bytes>> items;
            for (std::size_t i = 0; i + 1 < t.elems.size(); i += 2)
                items.emplace_back(element(t.elems[i], *type.params[0], bound, depth),
                                   element(t.elems[i + 1], *type.params[1], bound, depth));
            const DataType& kt = *type.params[0];
            std::stable_sort(items.begin(), items.end(),
                             [&](const auto& a, const auto& b) { return compare_values(a.first, b.first, kt) < 0; });
            // Later duplicates win, as in Cassandra.
            std::vector<std::pair<Bytes, Bytes>> unique;
            for (auto& kv : items) {
                if (!unique.empty() && compare_values(unique.back().first, kv.first, kt) == 0) unique.back() = std::move(kv);
                else unique.push_back(std::move(kv));
            }
            append_i32(out, static_cast<std::int32_t>(unique.size()));
            for (const auto& [k, v] : unique) {
                put_element(out, k);
                put_element(out, v);
            }
            return bytes_value(std::move(out));
        }
        case TypeKind::tuple: {
            if (t.kind != Term::Kind::tuple) bad_constant(t, type);
            if (t.elems.size() > type.params.size())
                throw_invalid("Invalid tuple literal: too many elements. Type " + type.cql_name() + " expects " +
                              std::to_string(type.params.size()) + " but got " + std::to_string(t.elems.size()));
            for (std::size_t i = 0; i < t.elems.size(); ++i) {
                Value v = evaluate_impl(t.elems[i], *type.params[i], bound, depth + 1);
                if (v.kind == Value::Kind::value) put_element(out, v.bytes);
                else append_i32(out, -1);
            }
            return bytes_value(std::move(out));
        }
        case TypeKind::udt: {
            if (t.kind != Term::Kind::udt) bad_constant(t, type);
            for (const auto& f : t.field_names)
                if (std::find(type.field_names.begin(), type.field_names.end(), f) == type.field_names.end())
                    throw_invalid("Unknown field '" + f + "' in value of user defined type " + type.udt_name);
            for (std::size_t i = 0; i < type.params.size(); ++i) {
                auto it = std::find(t.field_names.begin(), t.field_names.end(), type.field_names[i]);
                if (it == t.field_names.end()) {
                    append_i32(out, -1);
                    continue;
                }
                Value v = evaluate_impl(t.elems[static_cast<std::size_t>(it - t.field_names.begin())], *type.params[i],
                                        bound, depth + 1);
                if (v.kind == Value::Kind::value) put_element(out, v.bytes);
                else append_i32(out, -1);
            }
            return bytes_value(std::move(out));
        }
        case TypeKind::vector: {
            if (t.kind != Term::Kind::list) bad_constant(t, type);
            if (t.elems.size() != static_cast<std::size_t>(type.vector_dimension))
                throw_invalid("Invalid vector literal: expected " + std::to_string(type.vector_dimension) +
                              " elements but got " + std::to_string(t.elems.size()));
            for (const auto& e : t.elems) {
                Bytes b = element(e, *type.params[0], bound, depth);
                TypeKind ek = type.params[0]->kind;
                bool fixed = ek == TypeKind::float_ || ek == TypeKind::int_ || ek == TypeKind::bigint ||
                             ek == TypeKind::double_ || ek == TypeKind::boolean || ek == TypeKind::uuid ||
                             ek == TypeKind::timeuuid || ek == TypeKind::timestamp;
                if (!fixed) put_unsigned_vint(out, b.size());
                out.insert(out.end(), b.begin(), b.end());
            }
            return bytes_value(std::move(out));
        }
        default: throw_invalid("Literals of type " + type.cql_name() + " are not supported");
    }
}

bool valid_utf8(BytesView b) {
    std::size_t i = 0;
    while (i < b.size()) {
        std::uint8_t c = b[i];
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (len == 0 || len > b.size() - i) return false;
        for (std::size_t k = 1; k < len; ++k)
            if ((b[i + k] & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

void validate_impl(BytesView b, const DataType& type, int depth);

// Reads an [int]-prefixed element; returns false when the buffer is malformed.
bool read_element(BytesView b, std::size_t& pos, std::optional<BytesView>& out) {
    if (b.size() - pos < 4) return false;
    auto n = static_cast<std::int32_t>(load_be(b.subspan(pos, 4)));
    pos += 4;
    if (n < 0) {
        out.reset();
        return true;
    }
    if (static_cast<std::size_t>(n) > b.size() - pos) return false;
    out = b.subspan(pos, static_cast<std::size_t>(n));
    pos += static_cast<std::size_t>(n);
    return true;
}

void validate_collection(BytesView b, const DataType& type, int depth) {
    std::size_t pos = 0;
    if (b.size() < 4) throw_invalid("Not enough bytes to read a " + type.cql_name());
    auto n = static_cast<std::int32_t>(load_be(b.subspan(0, 4)));
    pos = 4;
    if (n < 0) throw_invalid("Invalid negative collection size");
    for (std::int32_t i = 0; i < n; ++i) {
        for (std::size_t p = 0; p < (type.kind == TypeKind::map ? 2u : 1u); ++p) {
            std::optional<BytesView> e;
            if (!read_element(b, pos, e)) throw_invalid("Not enough bytes to read a " + type.cql_name());
            if (!e) throw_invalid("null is not supported inside collections");
            validate_impl(*e, *type.params[p], depth + 1);
        }
    }
    if (pos != b.size()) throw_invalid("Unexpected extraneous bytes after " + type.cql_name() + " value");
}

void validate_impl(BytesView b, const DataType& type, int depth) {
    if (depth > 64) throw_invalid("value nested too deeply");
    std::size_t fs = async_cassandra::detail::fixed_value_size(type.kind);
    if (fs) {
        if (b.size() != fs && !b.empty())
            throw_invalid("Expected " + std::to_string(fs) + " or 0 byte " + type.cql_name() + " (" +
                          std::to_string(b.size()) + ")");
        if (type.kind == TypeKind::timeuuid && !b.empty() && (b[6] >> 4) != 1)
            throw_invalid("Unsupported UUID for timeuuid; got version " + std::to_string(b[6] >> 4));
        return;
    }
    switch (type.kind) {
        case TypeKind::varchar:
            if (!valid_utf8(b)) throw_invalid("Invalid UTF-8 bytes for text value");
            return;
        case TypeKind::ascii:
            for (auto c : b)
                if (c >= 0x80) throw_invalid("Invalid byte for ascii: " + std::to_string(c));
            return;
        case TypeKind::inet:
            if (b.size() != 4 && b.size() != 16 && !b.empty())
                throw_invalid("Expected 4 or 16 byte inet address (" + std::to_string(b.size()) + ")");
            return;
        case TypeKind::decimal:
            if (!b.empty() && b.size() < 4) throw_invalid("Expected at least 4 bytes for a decimal value");
            return;
        case TypeKind::duration: {
            std::size_t pos = 0;
            std::uint64_t v = 0;
            if (b.empty()) return;
            for (int k = 0; k < 3; ++k)
                if (!read_unsigned_vint(b, pos, v)) throw_invalid("Invalid duration value");
            if (pos != b.size()) throw_invalid("Invalid duration value");
            return;
        }
        case TypeKind::list:
        case TypeKind::set:
        case TypeKind::map: validate_collection(b, type, depth); return;
        case TypeKind::tuple:
        case TypeKind::udt: {
            std::size_t pos = 0;
            for (std::size_t i = 0; i < type.params.size() && pos < b.size(); ++i) {
                std::optional<BytesView> e;
                if (!read_element(b, pos, e)) throw_invalid("Invalid " + type.cql_name() + " value");
                if (e) validate_impl(*e, *type.params[i], depth + 1);
            }
            if (pos != b.size()) throw_invalid("Invalid remaining data after end of " + type.cql_name() + " value");
            return;
        }
        case TypeKind::vector: {
            std::size_t efs = async_cassandra::detail::fixed_value_size(type.params[0]->kind);
            auto dim = static_cast<std::size_t>(type.vector_dimension);
            if (efs) {
                if (b.size() != efs * dim)
                    throw_invalid("Expected " + std::to_string(efs * dim) + " bytes for " + type.cql_name() +
                                  " (" + std::to_string(b.size()) + ")");
                return;
            }
            std::size_t pos = 0;
            for (std::size_t i = 0; i < dim; ++i) {
                std::uint64_t n = 0;
                if (!read_unsigned_vint(b, pos, n) || n > b.size() - pos) throw_invalid("Invalid vector value");
                validate_impl(b.subspan(pos, n), *type.params[0], depth + 1);
                pos += n;
            }
            if (pos != b.size()) throw_invalid("Invalid vector value");
            return;
        }
        default: return;
    }
}

int cmp_bytes(BytesView a, BytesView b) {
    std::size_t n = std::min(a.size(), b.size());
    if (n) {
        int c = std::memcmp(a.data(), b.data(), n);
        if (c) return c < 0 ? -1 : 1;
    }
    return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

template <class T>
int cmp(T a, T b) {
    return a < b ? -1 : b < a ? 1 : 0;
}

BytesView strip_varint(BytesView v) {
    while (v.size() > 1 && ((v[0] == 0x00 && !(v[1] & 0x80)) || (v[0] == 0xFF && (v[1] & 0x80)))) v = v.subspan(1);
    return v;
}

int cmp_varint(BytesView a, BytesView b) {
    a = strip_varint(a);
    b = strip_varint(b);
    bool na = !a.empty() && (a[0] & 0x80), nb = !b.empty() && (b[0] & 0x80);
    if (na != nb) return na ? -1 : 1;
    if (a.size() != b.size()) return (a.size() < b.size()) != na ? -1 : 1;
    return cmp_bytes(a, b);  // same sign and length: two's complement orders bytewise
}

long double decimal_value(BytesView b) {
    if (b.size() < 4) return 0;
    auto scale = static_cast<std::int32_t>(load_be(b.subspan(0, 4)));
    BytesView m = b.subspan(4);
    long double v = 0;
    for (auto c : m) v = v * 256 + c;
    if (!m.empty() && (m[0] & 0x80)) v -= std::pow(256.0L, static_cast<long double>(m.size()));
    return v * std::pow(10.0L, -static_cast<long double>(scale));
}

int cmp_float(double a, double b) {
    // Java's Double.compare: NaN above everything, -0.0 below 0.0.
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) ? (std::isnan(b) ? 0 : 1) : -1;
    if (a == b) return cmp(std::signbit(b), std::signbit(a));
    return a < b ? -1 : 1;
}

int compare_impl(BytesView a, BytesView b, const DataType& type, int depth) {
    if (a.empty() || b.empty()) return cmp(!a.empty(), !b.empty());
    if (depth > 64) return cmp_bytes(a, b);
    switch (type.kind) {
        case TypeKind::tinyint:
        case TypeKind::smallint:
        case TypeKind::int_:
        case TypeKind::bigint:
        case TypeKind::counter:
        case TypeKind::timestamp:
        case TypeKind::time: return cmp(load_signed(a), load_signed(b));
        case TypeKind::float_:
            if (a.size() == 4 && b.size() == 4)
                return cmp_float(std::bit_cast<float>(static_cast<std::uint32_t>(load_be(a))),
                                 std::bit_cast<float>(static_cast<std::uint32_t>(load_be(b))));
            return cmp_bytes(a, b);
        case TypeKind::double_:
            if (a.size() == 8 && b.size() == 8)
                return cmp_float(std::bit_cast<double>(load_be(a)), std::bit_cast<double>(load_be(b)));
            return cmp_bytes(a, b);
        case TypeKind::varint: return cmp_varint(a, b);
        case TypeKind::decimal: return cmp(decimal_value(a), decimal_value(b));
        case TypeKind::timeuuid:
        case TypeKind::uuid:
            if (a.size() == 16 && b.size() == 16) {
                int va = a[6] >> 4, vb = b[6] >> 4;
                if (type.kind == TypeKind::uuid && va != vb) return cmp(va, vb);
                if (va == 1 && vb == 1) {
                    int c = cmp(uuid_timestamp(a), uuid_timestamp(b));
                    if (c) return c;
                }
            }
            return cmp_bytes(a, b);
        case TypeKind::list:
        case TypeKind::set:
        case TypeKind::map: {
            std::size_t pa = 4, pb = 4;
            if (a.size() < 4 || b.size() < 4) return cmp_bytes(a, b);
            auto na = static_cast<std::int32_t>(load_be(a.subspan(0, 4)));
            auto nb = static_cast<std::int32_t>(load_be(b.subspan(0, 4)));
            std::size_t per = type.kind == TypeKind::map ? 2 : 1;
            for (std::int32_t i = 0; i < std::min(na, nb); ++i)
                for (std::size_t p = 0; p < per; ++p) {
                    std::optional<BytesView> ea, eb;
                    if (!read_element(a, pa, ea) || !read_element(b, pb, eb)) return cmp_bytes(a, b);
                    int c = compare_impl(ea.value_or(BytesView{}), eb.value_or(BytesView{}), *type.params[p], depth + 1);
                    if (c) return c;
                }
            return cmp(na, nb);
        }
        case TypeKind::tuple:
        case TypeKind::udt: {
            std::size_t pa = 0, pb = 0;
            for (std::size_t i = 0; i < type.params.size(); ++i) {
                if (pa >= a.size() || pb >= b.size()) return cmp(pa < a.size(), pb < b.size());
                std::optional<BytesView> ea, eb;
                if (!read_element(a, pa, ea) || !read_element(b, pb, eb)) return cmp_bytes(a, b);
                if (!ea || !eb) {
                    if (ea.has_value() != eb.has_value()) return ea ? 1 : -1;
                    continue;
                }
                int c = compare_impl(*ea, *eb, *type.params[i], depth + 1);
                if (c) return c;
            }
            return 0;
        }
        default: return cmp_bytes(a, b);
    }
}

}  // namespace

ColumnType resolve_type(const TypeExpr& expr, const std::string& default_keyspace, const UdtLookup& udts) {
    return resolve(expr, default_keyspace, udts, false, 0);
}

Value evaluate(const Term& term, const DataType& type, std::span<const ValueView> bound) {
    return evaluate_impl(term, type, bound, 0);
}

void validate_value(BytesView bytes, const DataType& type) { validate_impl(bytes, type, 0); }

int compare_values(BytesView a, BytesView b, const DataType& type) { return compare_impl(a, b, type, 0); }

Bytes uuid_bytes(std::string_view text) {
    Bytes out;
    std::string hex;
    for (char c : text)
        if (c != '-') hex += c;
    if (hex.size() != 32 || text.size() != 36) throw_invalid("Invalid UUID string: " + std::string(text));
    for (std::size_t i = 0; i < 32; i += 2) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
        if (ec != std::errc{} || p != hex.data() + i + 2) throw_invalid("Invalid UUID string: " + std::string(text));
        out.push_back(static_cast<std::uint8_t>(v));
    }
    return out;
}

Bytes inet_bytes(std::string_view text) {
    std::string s(text);
    Bytes out(16);
    if (inet_pton(AF_INET, s.c_str(), out.data()) == 1) {
        out.resize(4);
        return out;
    }
    if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
    throw_invalid("Unable to make inet address from '" + s + "'");
}

Bytes text_collection(const std::vector<std::string>& items) {
    Bytes out;
    append_i32(out, static_cast<std::int32_t>(items.size()));
    for (const auto& s : items) put_element(out, text_bytes(s));
    return out;
}

Bytes text_map(const std::map<std::string, std::string>& items) {
    Bytes out;
    append_i32(out, static_cast<std::int32_t>(items.size()));
    for (const auto& [k, v] : items) {
        put_element(out, text_bytes(k));
        put_element(out, text_bytes(v));
    }
    return out;
}

}  // namespace async_cassandra::server::cql
