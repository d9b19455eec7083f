// Text forms of CQL values read back into serialized bytes: the inverses of to_cql_literal and
// to_json (value_codec.cpp). Parsing is driven by the column type, so the grammar only needs to
// tell apart what the printers can emit for that type; every scalar ends up in the same typed
// encoders (ValueCodec<T>) the client uses for bound values, so loaded bytes are the bytes the
// driver would have sent.
#include <async_cassandra/codec.hpp>
#include <async_cassandra/text_codec.hpp>

#include "protocol/bytes.hpp"
#include "protocol/calendar.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace async_cassandra {

namespace {

constexpr int kMaxDepth = 64;  // as the printers: nesting is bounded by the type anyway

// 128-bit intermediates keep overflow checks simple (GCC/Clang extension).
__extension__ typedef __int128 I128;
__extension__ typedef unsigned __int128 U128;

using protocol::ByteWriter;
using protocol::Bytes;

std::string type_name(const DataType& t) {
    try {
        return t.cql_name();
    } catch (const std::exception&) {
        return "malformed type";
    }
}

std::string excerpt(std::string_view text) {
    constexpr std::size_t kMax = 60;
    if (text.size() <= kMax) return std::string(text);
    return std::string(text.substr(0, kMax)) + "...";
}

[[noreturn]] void bad_value(const DataType& t, std::string_view text, const std::string& why) {
    throw UsageError("bad " + type_name(t) + " value '" + excerpt(text) + "': " + why);
}

const DataType& param(const DataType& t, std::size_t i) {
    if (t.params.size() <= i || !t.params[i]) throw UsageError(type_name(t) + " type without its parameters");
    return *t.params[i];
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool all_digits(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

/// Optional sign then digits, as an int64 (false when malformed or out of range).
bool parse_i64(std::string_view s, std::int64_t& out) noexcept {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty() || s.front() == '+') return false;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

/// Unsigned decimal digits into a 128-bit accumulator; false beyond 2^64 (plenty for any part).
bool parse_u128(std::string_view s, U128& out) noexcept {
    if (!all_digits(s)) return false;
    out = 0;
    for (char c : s) {
        out = out * 10 + static_cast<unsigned>(c - '0');
        if (out > (static_cast<U128>(1) << 64)) return false;
    }
    return true;
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// ---------------------------------------------------------------- calendar (timestamps)

// Timestamps reach about ±292 million years, beyond Date's int32 day range: the int64 calendar.
using protocol::calendar::days_from_civil;
using protocol::calendar::days_in_month;

/// "[+-]Y-MM-DD" to a day count; false when malformed. Years beyond ±300 million are refused
/// (no timestamp reaches them) so the arithmetic cannot overflow.
bool parse_civil_date(std::string_view s, std::int64_t& days) noexcept {
    const auto second = s.rfind('-');
    if (second == std::string_view::npos || second == 0) return false;
    const auto first = s.rfind('-', second - 1);
    if (first == std::string_view::npos || first == 0) return false;
    std::string_view ys = s.substr(0, first);
    const std::string_view ms = s.substr(first + 1, second - first - 1), ds = s.substr(second + 1);
    const bool negative = !ys.empty() && ys.front() == '-';
    if (!ys.empty() && (ys.front() == '-' || ys.front() == '+')) ys.remove_prefix(1);
    if (!all_digits(ys) || ys.size() > 12 || !all_digits(ms) || ms.size() > 2 || !all_digits(ds) || ds.size() > 2)
        return false;
    std::int64_t y = 0;
    std::from_chars(ys.data(), ys.data() + ys.size(), y);
    if (y > 300'000'000) return false;
    if (negative) y = -y;
    const unsigned m = static_cast<unsigned>(std::stoi(std::string(ms)));
    const unsigned d = static_cast<unsigned>(std::stoi(std::string(ds)));
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
    days = days_from_civil(y, m, d);
    return true;
}

/// "HH:MM[:SS[.fraction]]" to nanoseconds since midnight (fraction up to 9 digits).
bool parse_clock(std::string_view s, std::int64_t& nanos) noexcept {
    auto two = [](std::string_view p, unsigned limit, unsigned& v) {
        if (p.size() != 2 || !all_digits(p)) return false;
        v = static_cast<unsigned>((p[0] - '0') * 10 + (p[1] - '0'));
        return v <= limit;
    };
    unsigned h = 0, m = 0, sec = 0;
    std::int64_t frac = 0;
    if (s.size() < 5 || s[2] != ':' || !two(s.substr(0, 2), 23, h) || !two(s.substr(3, 2), 59, m)) return false;
    s.remove_prefix(5);
    if (!s.empty()) {
        if (s.size() < 3 || s[0] != ':' || !two(s.substr(1, 2), 59, sec)) return false;
        s.remove_prefix(3);
        if (!s.empty()) {
            if (s[0] != '.' || s.size() < 2 || s.size() > 10 || !all_digits(s.substr(1))) return false;
            const std::string_view digits = s.substr(1);
            for (std::size_t i = 0; i < 9; ++i) frac = frac * 10 + (i < digits.size() ? digits[i] - '0' : 0);
        }
    }
    nanos = (static_cast<std::int64_t>(h) * 3600 + m * 60 + sec) * 1'000'000'000 + frac;
    return true;
}

// ---------------------------------------------------------------- scalars

void encode_timestamp(const DataType& t, std::string_view s, ByteWriter& out) {
    std::int64_t ms = 0;
    if (parse_i64(s, ms)) {  // milliseconds since the epoch, as CQL also accepts
        ValueCodec<Timestamp>::encode(t, Timestamp{ms}, out);
        return;
    }
    // [+-]Y-MM-DD[(T| )HH:MM[:SS[.fff...]]][Z | (+|-)HH[:]MM]
    std::size_t sep = s.find_first_of("Tt ", 1);
    const std::string_view date_part = s.substr(0, sep);
    std::int64_t days = 0;
    if (!parse_civil_date(date_part, days)) bad_value(t, s, "expected YYYY-MM-DDTHH:MM:SS.mmmZ or milliseconds");
    std::int64_t clock_ns = 0, offset_minutes = 0;
    if (sep != std::string_view::npos) {
        std::string_view rest = s.substr(sep + 1);
        std::string_view zone;
        if (const auto z = rest.find_first_of("Zz+-"); z != std::string_view::npos) {
            zone = rest.substr(z);
            rest = trim(rest.substr(0, z));
        }
        if (!parse_clock(rest, clock_ns)) bad_value(t, s, "bad time of day '" + std::string(rest) + "'");
        if (!zone.empty() && !(zone.size() == 1 && (zone[0] == 'Z' || zone[0] == 'z'))) {
            const int sign = zone[0] == '-' ? -1 : 1;
            std::string digits;
            for (char c : zone.substr(1))
                if (c != ':') digits += c;
            if ((digits.size() != 4 && digits.size() != 2) || !all_digits(digits) || zone[0] == 'Z' || zone[0] == 'z')
                bad_value(t, s, "bad zone offset '" + std::string(zone) + "'");
            const int hh = std::stoi(digits.substr(0, 2)), mm = digits.size() == 4 ? std::stoi(digits.substr(2)) : 0;
            if (hh > 23 || mm > 59) bad_value(t, s, "bad zone offset '" + std::string(zone) + "'");
            offset_minutes = sign * (hh * 60 + mm);
        }
    }
    // Sub-millisecond digits are dropped: the fraction is non-negative, so this is a floor.
    const I128 total = static_cast<I128>(days) * 86'400'000 + clock_ns / 1'000'000 -
                           static_cast<I128>(offset_minutes) * 60'000;
    if (total > std::numeric_limits<std::int64_t>::max() || total < std::numeric_limits<std::int64_t>::min())
        bad_value(t, s, "outside the timestamp range");
    ValueCodec<Timestamp>::encode(t, Timestamp{static_cast<std::int64_t>(total)}, out);
}

void encode_time(const DataType& t, std::string_view s, ByteWriter& out) {
    std::int64_t ns = 0;
    if (all_digits(s)) {  // nanoseconds since midnight
        if (!parse_i64(s, ns) || ns >= Time::kNanosPerDay) bad_value(t, s, "nanoseconds beyond one day");
    } else if (!parse_clock(s, ns)) {
        bad_value(t, s, "expected HH:MM:SS[.fffffffff]");
    }
    ValueCodec<Time>::encode(t, Time(ns), out);
}

void encode_duration(const DataType& t, std::string_view s, ByteWriter& out) {
    // Duration::to_string's units; "µs" may come in either of its two Unicode spellings. The
    // ISO 8601 designator form CQL also takes (P1Y2M3DT4H5M6S, P2W) is read as well.
    std::string_view rest = s;
    const bool negative = !rest.empty() && rest.front() == '-';
    if (negative) rest.remove_prefix(1);
    if (rest.empty()) bad_value(t, s, "empty duration");
    U128 months = 0, days = 0, nanos = 0;
    if (rest.front() == 'P' || rest.front() == 'p') {
        rest.remove_prefix(1);
        bool in_time = false, any = false;
        while (!rest.empty()) {
            if (!in_time && (rest.front() == 'T' || rest.front() == 't')) {
                in_time = true;
                rest.remove_prefix(1);
                continue;
            }
            std::size_t n = 0;
            while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
            U128 amount = 0;
            if (n == 0 || n == rest.size() || !parse_u128(rest.substr(0, n), amount))
                bad_value(t, s, "expected ISO 8601 P[nY][nM][nW][nD][T[nH][nM][nS]]");
            const char unit = lower(rest[n]);
            if (!in_time && unit == 'y') months += amount * 12;
            else if (!in_time && unit == 'm') months += amount;
            else if (!in_time && unit == 'w') days += amount * 7;
            else if (!in_time && unit == 'd') days += amount;
            else if (in_time && unit == 'h') nanos += amount * 3'600'000'000'000;
            else if (in_time && unit == 'm') nanos += amount * 60'000'000'000;
            else if (in_time && unit == 's') nanos += amount * 1'000'000'000;
            else bad_value(t, s, std::string("unexpected '") + rest[n] + "' in an ISO 8601 duration");
            if (months > (1u << 31) || days > (1u << 31) || nanos > (static_cast<U128>(1) << 63))
                bad_value(t, s, "too large");
            any = true;
            rest.remove_prefix(n + 1);
        }
        if (!any) bad_value(t, s, "empty ISO 8601 duration");
    }
    while (!rest.empty()) {
        std::size_t n = 0;
        while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
        std::size_t u = n;
        while (u < rest.size() && !(rest[u] >= '0' && rest[u] <= '9')) ++u;
        U128 amount = 0;
        if (n == 0 || !parse_u128(rest.substr(0, n), amount)) bad_value(t, s, "expected <number><unit> parts like 1y2mo3d4h");
        const std::string_view unit = rest.substr(n, u - n);
        if (unit.empty()) bad_value(t, s, "number without a unit; expected <number><unit> parts like 1y2mo3d4h");
        if (iequals(unit, "y")) months += amount * 12;
        else if (iequals(unit, "mo")) months += amount;
        else if (iequals(unit, "w")) days += amount * 7;
        else if (iequals(unit, "d")) days += amount;
        else if (iequals(unit, "h")) nanos += amount * 3'600'000'000'000;
        else if (iequals(unit, "m")) nanos += amount * 60'000'000'000;
        else if (iequals(unit, "s")) nanos += amount * 1'000'000'000;
        else if (iequals(unit, "ms")) nanos += amount * 1'000'000;
        else if (iequals(unit, "us") || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") nanos += amount * 1000;
        else if (iequals(unit, "ns")) nanos += amount;
        else bad_value(t, s, "unknown unit '" + std::string(unit) + "'");
        // Each part is below 2^64 * 3.6e12 < 2^106, so the sums cannot wrap before this check.
        if (months > (1u << 31) || days > (1u << 31) || nanos > (static_cast<U128>(1) << 63))
            bad_value(t, s, "too large");
        rest.remove_prefix(u);
    }
    auto signed_part = [&](U128 v, U128 max_positive) -> std::int64_t {
        if (!negative && v > max_positive) bad_value(t, s, "too large");
        return negative ? static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(v)) : static_cast<std::int64_t>(v);
    };
    Duration d;
    d.months = static_cast<std::int32_t>(signed_part(months, std::numeric_limits<std::int32_t>::max()));
    d.days = static_cast<std::int32_t>(signed_part(days, std::numeric_limits<std::int32_t>::max()));
    d.nanoseconds = signed_part(nanos, static_cast<U128>(std::numeric_limits<std::int64_t>::max()));
    ValueCodec<Duration>::encode(t, d, out);
}

template <class F>
void encode_float(const DataType& t, std::string_view s, ByteWriter& out) {
    F v{};
    if (iequals(s, "NaN")) v = std::numeric_limits<F>::quiet_NaN();
    else if (iequals(s, "Infinity") || iequals(s, "+Infinity")) v = std::numeric_limits<F>::infinity();
    else if (iequals(s, "-Infinity")) v = -std::numeric_limits<F>::infinity();
    else {
        std::string_view digits = s;
        if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
        if (!digits.empty() && (digits.front() == '+' || (digits.front() == '-' && digits.size() != s.size())))
            bad_value(t, s, "not a number");
        // Only plain decimal numbers here; from_chars would also take "inf"/"nan" spellings.
        for (char c : digits)
            if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'))
                bad_value(t, s, "not a number");
        const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (digits.empty() || p != digits.data() + digits.size() || (ec != std::errc{} && ec != std::errc::result_out_of_range))
            bad_value(t, s, "not a number");
        if (ec == std::errc::result_out_of_range) {
            // libstdc++ reports subnormal results as out of range; strtod gives them exactly.
            const std::string copy(digits);
            errno = 0;
            char* end = nullptr;
            const F w = sizeof(F) == 4 ? static_cast<F>(std::strtof(copy.c_str(), &end)) : static_cast<F>(std::strtod(copy.c_str(), &end));
            if (!std::isfinite(w) || w == 0) bad_value(t, s, "out of range");
            v = w;
        }
    }
    ValueCodec<F>::encode(t, v, out);
}

void encode_decimal(const DataType& t, std::string_view s, ByteWriter& out) {
    Decimal d;
    try {
        d = Decimal::parse(s);
    } catch (const UsageError&) {
        bad_value(t, s, "expected [-]digits[.digits][E[+-]exponent], with a scale that fits 32 bits");
    }
    ValueCodec<Decimal>::encode(t, d, out);
}

template <class Int>
void encode_int(const DataType& t, std::string_view s, ByteWriter& out) {
    std::int64_t v = 0;
    if (!parse_i64(s, v)) {
        const bool numeric = all_digits(s.substr(!s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0));
        bad_value(t, s, numeric ? "out of range" : "not an integer");
    }
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) bad_value(t, s, "out of range");
    ValueCodec<Int>::encode(t, static_cast<Int>(v), out);
}

/// Writes the [value] (with its length) of one scalar given its text without quotes.
void encode_scalar(const DataType& t, std::string_view s, ByteWriter& out) {
    try {
        switch (t.kind) {
            case TypeKind::ascii:
            case TypeKind::varchar: detail::TextCodecBase::encode_text(t, s, out); return;
            case TypeKind::blob:
            case TypeKind::custom: {
                if (s.size() < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
                    bad_value(t, s, "expected 0x followed by hex digits");
                const std::string_view hex = s.substr(2);
                if (hex.size() % 2 != 0) bad_value(t, s, "odd number of hex digits");
                Bytes raw(hex.size() / 2);
                for (std::size_t i = 0; i < raw.size(); ++i) {
                    const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
                    if (hi < 0 || lo < 0) bad_value(t, s, "not a hex digit");
                    raw[i] = static_cast<std::uint8_t>(hi << 4 | lo);
                }
                out.write_bytes(raw);
                return;
            }
            case TypeKind::boolean:
                if (iequals(s, "true")) ValueCodec<bool>::encode(t, true, out);
                else if (iequals(s, "false")) ValueCodec<bool>::encode(t, false, out);
                else bad_value(t, s, "expected true or false");
                return;
            case TypeKind::tinyint: encode_int<std::int8_t>(t, s, out); return;
            case TypeKind::smallint: encode_int<std::int16_t>(t, s, out); return;
            case TypeKind::int_: encode_int<std::int32_t>(t, s, out); return;
            case TypeKind::bigint:
            case TypeKind::counter: encode_int<std::int64_t>(t, s, out); return;
            case TypeKind::varint: ValueCodec<Varint>::encode(t, Varint::parse(s), out); return;
            case TypeKind::decimal: encode_decimal(t, s, out); return;
            case TypeKind::float_: encode_float<float>(t, s, out); return;
            case TypeKind::double_: encode_float<double>(t, s, out); return;
            case TypeKind::uuid:
            case TypeKind::timeuuid: {
                const auto u = Uuid::try_parse(s);
                if (!u) bad_value(t, s, "expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
                if (t.kind == TypeKind::timeuuid && u->version() != 1) bad_value(t, s, "not a version 1 (time) uuid");
                ValueCodec<Uuid>::encode(t, *u, out);
                return;
            }
            case TypeKind::inet: ValueCodec<Inet>::encode(t, Inet::parse(s), out); return;
            case TypeKind::date: ValueCodec<Date>::encode(t, Date::parse(s), out); return;
            case TypeKind::time: encode_time(t, s, out); return;
            case TypeKind::timestamp: encode_timestamp(t, s, out); return;
            case TypeKind::duration: encode_duration(t, s, out); return;
            default: break;
        }
    } catch (const UsageError& e) {
        const std::string_view what = e.what();
        if (what.starts_with("bad " + type_name(t) + " value")) throw;
        bad_value(t, s, std::string(what));
    } catch (const Error& e) {  // TypeError from the encoders (e.g. non-ASCII text for ascii)
        bad_value(t, s, e.what());
    }
    throw UsageError(type_name(t) + " is not a scalar type");
}

bool is_scalar(TypeKind k) noexcept {
    switch (k) {
        case TypeKind::list:
        case TypeKind::set:
        case TypeKind::map:
        case TypeKind::tuple:
        case TypeKind::udt:
        case TypeKind::vector: return false;
        default: return true;
    }
}

bool is_text(TypeKind k) noexcept { return k == TypeKind::varchar || k == TypeKind::ascii; }

/// Strips the [int] length written by the encoders: the value's bytes, or nullopt for null.
std::optional<Bytes> unframe(const Bytes& framed) {
    const auto len = detail::load_be<std::int32_t>(framed.data());
    if (len < 0) return std::nullopt;
    return Bytes(framed.begin() + 4, framed.end());
}

/// Appends one vector element from its [value] encoding: fixed-size elements bare, the others
/// with an unsigned vint length (the Cassandra 5 layout for_each_element reads).
void append_vector_element(const DataType& vt, const DataType& et, const Bytes& framed, std::size_t at,
                           ByteWriter& out, std::string_view text) {
    const auto len = detail::load_be<std::int32_t>(framed.data() + at);
    const std::size_t fixed = detail::vector_element_size(et);
    if (len < 0) {
        // The printers show an empty variable-size element as null; a fixed-size one cannot be.
        if (fixed != 0 || detail::empty_is_value(et.kind)) bad_value(vt, text, "a vector element cannot be null");
        detail::write_unsigned_vint(out, 0);
        return;
    }
    const auto n = static_cast<std::size_t>(len);
    if (fixed != 0 && n != fixed) bad_value(vt, text, "element of " + std::to_string(n) + " bytes, need " + std::to_string(fixed));
    if (fixed == 0) detail::write_unsigned_vint(out, n);
    out.write_raw(protocol::BytesView(framed.data() + at + 4, n));
}

// ---------------------------------------------------------------- a cursor shared by both grammars

class Cursor {
public:
    Cursor(std::string_view text, const char* grammar) : text_(text), grammar_(grammar) {}

    void skip_space() noexcept {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    }
    bool at_end() const noexcept { return pos_ >= text_.size(); }
    char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }
    std::size_t position() const noexcept { return pos_; }
    std::string_view text() const noexcept { return text_; }
    bool starts_with(std::string_view s) const noexcept { return text_.substr(pos_).starts_with(s); }
    bool eat(char c) noexcept {
        skip_space();
        if (peek() != c) return false;
        ++pos_;
        return true;
    }
    [[noreturn]] void fail(const DataType& t, const std::string& why) const {
        std::string near = excerpt(text_.substr(std::min(pos_, text_.size())));
        throw UsageError("bad " + type_name(t) + " " + grammar_ + " at offset " + std::to_string(pos_) + ": " + why +
                         (at_end() ? " (at end of input)" : " near '" + near + "'"));
    }
    void expect(char c, const DataType& t) {
        if (!eat(c)) fail(t, std::string("expected '") + c + "'");
    }
    /// Characters of an unquoted token: everything up to a delimiter or whitespace.
    std::string_view bare_token(std::string_view delimiters) noexcept {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && !is_space(text_[pos_]) && delimiters.find(text_[pos_]) == std::string_view::npos)
            ++pos_;
        return text_.substr(start, pos_ - start);
    }
    /// True and moves past `word` when it is the next token (case-insensitive), e.g. null.
    bool eat_word(std::string_view word, std::string_view delimiters) noexcept {
        skip_space();
        const std::size_t save = pos_;
        if (iequals(bare_token(delimiters), word)) return true;
        pos_ = save;
        return false;
    }
    void advance(std::size_t n) noexcept { pos_ += n; }

private:
    std::string_view text_;
    const char* grammar_;
    std::size_t pos_ = 0;
};

/// The index of UDT field `name` not given yet (a malformed type may repeat a name: the
/// printers then show it once per field, in order), marked as seen.
std::size_t udt_field_index(const DataType& t, const std::string& name, std::vector<bool>& seen, const Cursor& c) {
    bool known = false;
    for (std::size_t i = 0; i < t.params.size() && i < t.field_names.size(); ++i) {
        if (t.field_names[i] != name) continue;
        known = true;
        if (!seen[i]) {
            seen[i] = true;
            return i;
        }
    }
    if (known) c.fail(t, "field '" + name + "' given twice");
    c.fail(t, "no field named '" + name + "'");
}

// ---------------------------------------------------------------- CQL literals

constexpr std::string_view kCqlDelimiters = ",:[](){}'\"";

/// 'it''s' or $$it's$$; the cursor is on the opening quote.
std::string read_cql_string(Cursor& c, const DataType& t) {
    std::string out;
    if (c.starts_with("$$")) {
        const std::size_t start = c.position() + 2;
        const std::size_t end = c.text().find("$$", start);
        if (end == std::string_view::npos) c.fail(t, "unterminated $$ string");
        out = std::string(c.text().substr(start, end - start));
        c.advance(end + 2 - c.position());
        return out;
    }
    c.advance(1);
    while (true) {
        if (c.at_end()) c.fail(t, "unterminated string");
        const char ch = c.peek();
        c.advance(1);
        if (ch == '\'') {
            if (c.peek() != '\'') return out;
            c.advance(1);
        }
        out += ch;
    }
}

/// A UDT field name: a plain identifier (case-folded, as CQL does) or a "quoted" one.
std::string read_cql_identifier(Cursor& c, const DataType& t) {
    c.skip_space();
    std::string out;
    if (c.peek() == '"') {
        c.advance(1);
        while (true) {
            if (c.at_end()) c.fail(t, "unterminated quoted field name");
            const char ch = c.peek();
            c.advance(1);
            if (ch == '"') {
                if (c.peek() != '"') return out;
                c.advance(1);
            }
            out += ch;
        }
    }
    const std::string_view word = c.bare_token(kCqlDelimiters);
    if (word.empty()) c.fail(t, "expected a field name");
    for (char ch : word) out += lower(ch);
    return out;
}

void parse_cql(const DataType& t, Cursor& c, ByteWriter& out, int depth);

/// Elements of a list, set, vector or tuple up to `close`, comma-separated, each read by
/// `element` (CQL literals and JSON arrays alike).
template <class F>
std::size_t parse_sequence(const DataType& t, Cursor& c, char close, F&& element) {
    std::size_t count = 0;
    if (c.eat(close)) return 0;
    do {
        element();
        ++count;
    } while (c.eat(','));
    if (!c.eat(close)) c.fail(t, std::string("expected ',' or '") + close + "'");
    return count;
}

void parse_json(const DataType& t, Cursor& c, ByteWriter& out, int depth);
std::string read_json_key(Cursor& c, const DataType& t);
void encode_json_key(const DataType& kt, const std::string& key, ByteWriter& out, int depth);

/// What differs between the CQL literal and the JSON text of a collection, tuple or UDT. The
/// structure is the same, so one parser (parse_collection) reads both.
struct CollectionSyntax {
    /// Parses one nested value: parse_cql or parse_json.
    void (*element)(const DataType& t, Cursor& c, ByteWriter& out, int depth);
    /// CQL writes sets in braces ({1, 2}); JSON has only arrays. Brackets are accepted for both.
    bool sets_in_braces;
    /// CQL writes tuples as (a, b), JSON as [a, b].
    char tuple_open, tuple_close;
    /// Reads a map key and the ':' after it, and writes the key's bytes.
    void (*map_key)(const DataType& map, Cursor& c, ByteWriter& out, int depth);
    /// Reads a UDT field name and the ':' after it.
    std::string (*field_name)(Cursor& c, const DataType& udt);
};

void parse_collection(const DataType& t, Cursor& c, ByteWriter& out, int depth, const CollectionSyntax& syntax) {
    c.skip_space();
    const std::size_t at = out.reserve_i32();
    switch (t.kind) {
        case TypeKind::list:
        case TypeKind::set: {
            const DataType& et = param(t, 0);
            char close = ']';
            if (syntax.sets_in_braces && t.kind == TypeKind::set && c.eat('{')) close = '}';
            else c.expect('[', t);
            const std::size_t count_at = out.reserve_i32();
            const std::size_t n = parse_sequence(t, c, close, [&] { syntax.element(et, c, out, depth + 1); });
            if (n > 0x7FFFFFFF) c.fail(t, "too many elements");
            out.patch_i32(count_at, static_cast<std::int32_t>(n));
            break;
        }
        case TypeKind::vector: {
            const DataType& et = param(t, 0);
            c.expect('[', t);
            Bytes tmp;
            ByteWriter tw(tmp);
            const std::size_t n = parse_sequence(t, c, ']', [&] {
                tmp.clear();
                syntax.element(et, c, tw, depth + 1);
                append_vector_element(t, et, tmp, 0, out, c.text());
            });
            if (t.vector_dimension < 0 || n != static_cast<std::size_t>(t.vector_dimension))
                c.fail(t, std::to_string(n) + " elements where the type has " + std::to_string(t.vector_dimension));
            break;
        }
        case TypeKind::map: {
            const DataType& vt = param(t, 1);
            c.expect('{', t);
            const std::size_t count_at = out.reserve_i32();
            const std::size_t n = parse_sequence(t, c, '}', [&] {
                syntax.map_key(t, c, out, depth);
                syntax.element(vt, c, out, depth + 1);
            });
            if (n > 0x7FFFFFFF) c.fail(t, "too many entries");
            out.patch_i32(count_at, static_cast<std::int32_t>(n));
            break;
        }
        case TypeKind::tuple: {
            c.expect(syntax.tuple_open, t);
            std::size_t i = 0;
            parse_sequence(t, c, syntax.tuple_close, [&] {
                if (i >= t.params.size()) c.fail(t, "more than " + std::to_string(t.params.size()) + " elements");
                syntax.element(param(t, i), c, out, depth + 1);
                ++i;
            });
            if (i != t.params.size())
                c.fail(t, std::to_string(i) + " elements where the tuple has " + std::to_string(t.params.size()));
            break;
        }
        case TypeKind::udt: {
            c.expect('{', t);
            // Fields may come in any order and may be left out (null); write them in type order.
            std::vector<std::optional<Bytes>> fields(t.params.size());
            std::vector<bool> seen(t.params.size());
            parse_sequence(t, c, '}', [&] {
                const std::string name = syntax.field_name(c, t);
                const std::size_t i = udt_field_index(t, name, seen, c);
                Bytes tmp;
                ByteWriter tw(tmp);
                syntax.element(param(t, i), c, tw, depth + 1);
                fields[i] = std::move(tmp);
            });
            for (auto& f : fields) {
                if (f) out.write_raw(*f);
                else out.write_null_bytes();
            }
            break;
        }
        default: c.fail(t, "not a collection type");
    }
    detail::finish_value(out, at);
}

const CollectionSyntax kCqlSyntax{
    .element = parse_cql,
    .sets_in_braces = true,
    .tuple_open = '(',
    .tuple_close = ')',
    .map_key =
        [](const DataType& map, Cursor& c, ByteWriter& out, int depth) {
            parse_cql(param(map, 0), c, out, depth + 1);
            c.expect(':', map);
        },
    .field_name =
        [](Cursor& c, const DataType& udt) {
            std::string name = read_cql_identifier(c, udt);
            c.expect(':', udt);
            return name;
        },
};

const CollectionSyntax kJsonSyntax{
    .element = parse_json,
    .sets_in_braces = false,
    .tuple_open = '[',
    .tuple_close = ']',
    .map_key =
        [](const DataType& map, Cursor& c, ByteWriter& out, int depth) {
            const std::string key = read_json_key(c, map);
            encode_json_key(param(map, 0), key, out, depth);
        },
    .field_name = read_json_key,  // the ':' comes with the key
};

void parse_cql(const DataType& t, Cursor& c, ByteWriter& out, int depth) {
    if (depth > kMaxDepth) c.fail(t, "nested too deeply");
    if (c.eat_word("null", kCqlDelimiters)) {
        out.write_null_bytes();
        return;
    }
    c.skip_space();
    if (!is_scalar(t.kind)) {
        parse_collection(t, c, out, depth, kCqlSyntax);
        return;
    }
    if (c.peek() == '\'' || c.starts_with("$$")) {
        encode_scalar(t, read_cql_string(c, t), out);
        return;
    }
    // Inside a collection text must be quoted: a bare word could as well be a typo of null.
    if (is_text(t.kind)) c.fail(t, "expected a quoted string");
    const std::string_view token = c.bare_token(kCqlDelimiters);
    if (token.empty()) c.fail(t, "expected a value");
    encode_scalar(t, token, out);
}

/// True when `s` is exactly one quoted CQL string; its content goes to `content`.
bool whole_cql_string(std::string_view s, const DataType& t, std::string& content) {
    if (!(s.starts_with('\'') || s.starts_with("$$"))) return false;
    Cursor c(s, "literal");
    try {
        content = read_cql_string(c, t);
    } catch (const UsageError&) {
        return false;
    }
    return c.at_end();
}

// ---------------------------------------------------------------- JSON

// Unquoted JSON tokens: numbers, true/false/null (and, leniently, NaN/Infinity).
constexpr std::string_view kJsonDelimiters = ",:[]{}\"";

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// A JSON string, unescaped; the cursor is on the opening quote. `what` names the context
/// (a type name) for errors. Bytes other than escapes are kept as they are (to_json writes
/// text bytes through unchanged, valid UTF-8 or not).
std::string read_json_string(Cursor& c, const std::string& what) {
    auto fail = [&](const std::string& why) {
        throw UsageError("bad " + what + " JSON at offset " + std::to_string(c.position()) + ": " + why);
    };
    auto read_hex4 = [&]() -> std::uint32_t {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const int d = hex_digit(c.peek());
            if (c.at_end() || d < 0) fail("bad \\u escape");
            v = v << 4 | static_cast<std::uint32_t>(d);
            c.advance(1);
        }
        return v;
    };
    std::string out;
    c.advance(1);
    while (true) {
        if (c.at_end()) fail("unterminated string");
        const char ch = c.peek();
        c.advance(1);
        if (ch == '"') return out;
        if (ch != '\\') {
            out += ch;
            continue;
        }
        if (c.at_end()) fail("unterminated string");
        const char e = c.peek();
        c.advance(1);
        switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                std::uint32_t cp = read_hex4();
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (!c.starts_with("\\u")) fail("lone surrogate in \\u escape");
                    c.advance(2);
                    const std::uint32_t low = read_hex4();
                    if (low < 0xDC00 || low > 0xDFFF) fail("bad surrogate pair in \\u escape");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail("lone surrogate in \\u escape");
                }
                append_utf8(out, cp);
                break;
            }
            default: fail(std::string("unknown escape \\") + e);
        }
    }
}

void parse_json(const DataType& t, Cursor& c, ByteWriter& out, int depth);

/// Writes a map key given as the text of a JSON object key (to_json puts non-string keys'
/// JSON text inside a string).
void encode_json_key(const DataType& kt, const std::string& key, ByteWriter& out, int depth) {
    if (is_scalar(kt.kind)) {
        if (!is_text(kt.kind) && key == "null") out.write_null_bytes();
        else encode_scalar(kt, key, out);
        return;
    }
    Cursor inner(key, "JSON map key");
    parse_json(kt, inner, out, depth + 1);
    inner.skip_space();
    if (!inner.at_end()) inner.fail(kt, "trailing text after the key");
}

std::string read_json_key(Cursor& c, const DataType& t) {
    c.skip_space();
    if (c.peek() != '"') c.fail(t, "expected a string key");
    std::string key = read_json_string(c, type_name(t));
    c.expect(':', t);
    return key;
}

void parse_json(const DataType& t, Cursor& c, ByteWriter& out, int depth) {
    if (depth > kMaxDepth) c.fail(t, "nested too deeply");
    c.skip_space();
    if (c.peek() != '"' && c.eat_word("null", kJsonDelimiters)) {
        out.write_null_bytes();
        return;
    }
    if (!is_scalar(t.kind)) {
        parse_collection(t, c, out, depth, kJsonSyntax);
        return;
    }
    if (c.peek() == '"') {
        encode_scalar(t, read_json_string(c, type_name(t)), out);
        return;
    }
    if (is_text(t.kind)) c.fail(t, "expected a JSON string");
    const std::string_view token = c.bare_token(kJsonDelimiters);
    if (token.empty()) c.fail(t, "expected a value");
    encode_scalar(t, token, out);
}

// ---------------------------------------------------------------- strict JSON skipping (split)

void skip_json_value(Cursor& c, int depth);

void json_fail(const Cursor& c, const std::string& why) {
    throw UsageError("bad JSON object at offset " + std::to_string(c.position()) + ": " + why);
}

void skip_json_number(Cursor& c) {
    auto digits = [&] {
        std::size_t n = 0;
        while (c.peek() >= '0' && c.peek() <= '9') {
            c.advance(1);
            ++n;
        }
        return n;
    };
    if (c.peek() == '-') c.advance(1);
    if (c.peek() == '0') c.advance(1);
    else if (digits() == 0) json_fail(c, "expected a value");
    if (c.peek() == '.') {
        c.advance(1);
        if (digits() == 0) json_fail(c, "expected digits after '.'");
    }
    if (c.peek() == 'e' || c.peek() == 'E') {
        c.advance(1);
        if (c.peek() == '+' || c.peek() == '-') c.advance(1);
        if (digits() == 0) json_fail(c, "expected exponent digits");
    }
}

void skip_json_value(Cursor& c, int depth) {
    if (depth > 256) json_fail(c, "nested too deeply");
    c.skip_space();
    const char ch = c.peek();
    if (ch == '"') {
        (void)read_json_string(c, "string in a");
    } else if (ch == '[' || ch == '{') {
        const char close = ch == '[' ? ']' : '}';
        c.advance(1);
        if (c.eat(close)) return;
        do {
            if (ch == '{') {
                c.skip_space();
                if (c.peek() != '"') json_fail(c, "expected a string key");
                (void)read_json_string(c, "key in a");
                if (!c.eat(':')) json_fail(c, "expected ':'");
            }
            skip_json_value(c, depth + 1);
        } while (c.eat(','));
        if (!c.eat(close)) json_fail(c, std::string("expected ',' or '") + close + "'");
    } else if (c.starts_with("true")) {
        c.advance(4);
    } else if (c.starts_with("false")) {
        c.advance(5);
    } else if (c.starts_with("null")) {
        c.advance(4);
    } else {
        skip_json_number(c);
    }
    // A literal or number must end at a delimiter ("truex", "12abc" are not values).
    const char next = c.peek();
    if (!c.at_end() && !is_space(next) && std::string_view(",]}").find(next) == std::string_view::npos)
        json_fail(c, std::string("unexpected '") + next + "'");
}

/// An error deep inside a collection names the inner type; say which column type it was in.
[[noreturn]] void rethrow_in_context(const DataType& type, const char* grammar, const UsageError& e) {
    const std::string what = e.what();
    const std::string name = type_name(type);
    if (what.starts_with("bad " + name + " ")) throw e;
    throw UsageError("bad " + name + " " + grammar + ": " + what);
}

}  // namespace

std::optional<protocol::Bytes> from_cql_literal(const DataType& type, std::string_view text) {
    Bytes framed;
    ByteWriter out(framed);
    const std::string_view trimmed = trim(text);
    if (is_scalar(type.kind)) {
        std::string content;
        if (iequals(trimmed, "null")) return std::nullopt;
        if (whole_cql_string(trimmed, type, content)) encode_scalar(type, content, out);
        else if (is_text(type.kind)) encode_scalar(type, text, out);  // unquoted text: whitespace is data
        else if (trimmed.empty()) bad_value(type, text, "empty");
        else encode_scalar(type, trimmed, out);
        return unframe(framed);
    }
    try {
        Cursor c(text, "literal");
        parse_cql(type, c, out, 0);
        c.skip_space();
        if (!c.at_end()) c.fail(type, "trailing text after the value");
    } catch (const UsageError& e) {
        rethrow_in_context(type, "literal", e);
    }
    return unframe(framed);
}

std::optional<protocol::Bytes> from_json(const DataType& type, std::string_view json) {
    Bytes framed;
    ByteWriter out(framed);
    try {
        Cursor c(json, "JSON");
        parse_json(type, c, out, 0);
        c.skip_space();
        if (!c.at_end()) c.fail(type, "trailing text after the value");
    } catch (const UsageError& e) {
        rethrow_in_context(type, "JSON", e);
    }
    return unframe(framed);
}

std::vector<std::pair<std::string, std::string>> split_json_object(std::string_view json) {
    Cursor c(json, "JSON");
    std::vector<std::pair<std::string, std::string>> out;
    if (!c.eat('{')) json_fail(c, "expected '{'");
    if (!c.eat('}')) {
        do {
            c.skip_space();
            if (c.peek() != '"') json_fail(c, "expected a string key");
            std::string key = read_json_string(c, "key in a");
            if (!c.eat(':')) json_fail(c, "expected ':'");
            c.skip_space();
            const std::size_t start = c.position();
            skip_json_value(c, 1);
            out.emplace_back(std::move(key), std::string(trim(json.substr(start, c.position() - start))));
        } while (c.eat(','));
        if (!c.eat('}')) json_fail(c, "expected ',' or '}'");
    }
    c.skip_space();
    if (!c.at_end()) json_fail(c, "trailing text after the object");
    return out;
}

}  // namespace async_cassandra
