// Conversions of the value types of values.hpp (text, calendars, big integers).
#include <async_cassandra/error.hpp>
#include <async_cassandra/values.hpp>

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>
#include <limits>
#include <random>

#include "protocol/calendar.hpp"

namespace async_cassandra {

namespace {

using protocol::calendar::civil_from_days;
using protocol::calendar::days_from_civil;
using protocol::calendar::days_in_month;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

std::string format_year(std::int64_t y) {
    char buf[32];
    if (y >= 0 && y <= 9999) std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(y));
    else std::snprintf(buf, sizeof buf, "%+lld", static_cast<long long>(y));
    return buf;
}

std::string two(unsigned v) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02u", v % 100);
    return buf;
}

template <class Int>
bool parse_int(std::string_view s, Int& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

// Two's complement big-endian helpers for Varint.
void normalize(std::vector<std::uint8_t>& b) {
    std::size_t drop = 0;
    while (drop + 1 < b.size() && ((b[drop] == 0x00 && !(b[drop + 1] & 0x80)) ||
                                   (b[drop] == 0xFF && (b[drop + 1] & 0x80))))
        ++drop;
    b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(drop));
}

void negate_in_place(std::vector<std::uint8_t>& b) {
    unsigned carry = 1;
    for (std::size_t i = b.size(); i-- > 0;) {
        unsigned v = static_cast<std::uint8_t>(~b[i]) + carry;
        b[i] = static_cast<std::uint8_t>(v);
        carry = v >> 8;
    }
}

}  // namespace

// ---------------------------------------------------------------- Timestamp

std::chrono::system_clock::time_point Timestamp::to_time_point() const {
    using Dur = std::chrono::system_clock::duration;
    constexpr auto max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Dur::max()).count();
    constexpr auto min_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Dur::min()).count();
    if (milliseconds > max_ms || milliseconds < min_ms)
        throw UsageError("timestamp " + std::to_string(milliseconds) + " ms is outside system_clock's range");
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<Dur>(std::chrono::milliseconds(milliseconds)));
}

std::string Timestamp::to_string() const {
    // Quotient and remainder separately: days * 86400000 would overflow near INT64_MIN.
    std::int64_t days = milliseconds / 86'400'000;
    std::int64_t ms_of_day = milliseconds % 86'400'000;
    if (ms_of_day < 0) {
        ms_of_day += 86'400'000;
        --days;
    }
    const Date::Ymd ymd = civil_from_days(days);
    const auto secs = static_cast<unsigned>(ms_of_day / 1000);
    if (ymd.year >= 0 && ymd.year <= 9999) {
        // The common case without printf (exports render millions of these).
        char buf[24];  // YYYY-MM-DDTHH:MM:SS.mmmZ
        auto put = [&buf](std::size_t at, unsigned value, int digits) {
            for (int i = digits - 1; i >= 0; --i, value /= 10) buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
        };
        put(0, static_cast<unsigned>(ymd.year), 4);
        buf[4] = '-';
        put(5, ymd.month, 2);
        buf[7] = '-';
        put(8, ymd.day, 2);
        buf[10] = 'T';
        put(11, secs / 3600, 2);
        buf[13] = ':';
        put(14, secs / 60 % 60, 2);
        buf[16] = ':';
        put(17, secs % 60, 2);
        buf[19] = '.';
        put(20, static_cast<unsigned>(ms_of_day % 1000), 3);
        buf[23] = 'Z';
        return std::string(buf, sizeof buf);
    }
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03u", static_cast<unsigned>(ms_of_day % 1000));
    return format_year(ymd.year) + "-" + two(ymd.month) + "-" + two(ymd.day) + "T" + two(secs / 3600) + ":" +
           two(secs / 60 % 60) + ":" + two(secs % 60) + frac + "Z";
}

// ---------------------------------------------------------------- Date

Date Date::from_ymd(std::int64_t year, unsigned month, unsigned day) {
    constexpr std::int64_t kMaxYear = 6'000'000;  // beyond the int32 day range either way
    if (month < 1 || month > 12 || year > kMaxYear || year < -kMaxYear || day < 1 ||
        day > days_in_month(year, month))
        throw UsageError("invalid date " + std::to_string(year) + "-" + std::to_string(month) + "-" +
                         std::to_string(day));
    const std::int64_t days = days_from_civil(year, month, day);
    if (days < std::numeric_limits<std::int32_t>::min() || days > std::numeric_limits<std::int32_t>::max())
        throw UsageError("date out of the CQL date range");
    return {static_cast<std::int32_t>(days)};
}

Date::Ymd Date::to_ymd() const noexcept { return civil_from_days(days_since_epoch); }

std::string Date::to_string() const {
    const Ymd ymd = to_ymd();
    return format_year(ymd.year) + "-" + two(ymd.month) + "-" + two(ymd.day);
}

Date Date::parse(std::string_view text) {
    // The year may carry a sign, so look for the month separator from the right.
    const auto second = text.rfind('-');
    const auto first = second == std::string_view::npos || second == 0 ? std::string_view::npos
                                                                       : text.rfind('-', second - 1);
    std::int64_t y = 0;
    unsigned m = 0, d = 0;
    if (first == std::string_view::npos || first == 0) throw UsageError("bad date '" + std::string(text) + "'");
    std::string_view ys = text.substr(0, first);
    if (!ys.empty() && ys.front() == '+') ys.remove_prefix(1);
    if (!parse_int(ys, y) || !parse_int(text.substr(first + 1, second - first - 1), m) ||
        !parse_int(text.substr(second + 1), d))
        throw UsageError("bad date '" + std::string(text) + "'");
    return from_ymd(y, m, d);
}

// ---------------------------------------------------------------- Time

Time::Time(std::int64_t ns) : nanoseconds_(ns) {
    if (ns < 0 || ns >= kNanosPerDay) throw UsageError("time of day out of range: " + std::to_string(ns) + " ns");
}

Time Time::from_hms(unsigned h, unsigned m, unsigned s, std::uint32_t ns) {
    if (h > 23 || m > 59 || s > 59 || ns > 999'999'999) throw UsageError("invalid time of day");
    return Time((static_cast<std::int64_t>(h) * 3600 + m * 60 + s) * 1'000'000'000 + ns);
}

std::string Time::to_string() const {
    const auto secs = static_cast<unsigned>(nanoseconds_ / 1'000'000'000);
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09u", static_cast<unsigned>(nanoseconds_ % 1'000'000'000));
    return two(secs / 3600) + ":" + two(secs / 60 % 60) + ":" + two(secs % 60) + frac;
}

// ---------------------------------------------------------------- Duration

std::string Duration::to_string() const {
    const bool negative = months < 0 || days < 0 || nanoseconds < 0;
    auto mag = [](std::int64_t v) { return v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v); };
    std::string out = negative ? "-" : "";
    auto part = [&out](std::uint64_t v, const char* unit) {
        if (v) out += std::to_string(v) + unit;
    };
    const std::uint64_t mo = mag(months), ns = mag(nanoseconds);
    part(mo / 12, "y");
    part(mo % 12, "mo");
    part(mag(days), "d");
    part(ns / 3'600'000'000'000, "h");
    part(ns / 60'000'000'000 % 60, "m");
    part(ns / 1'000'000'000 % 60, "s");
    part(ns / 1'000'000 % 1000, "ms");
    part(ns / 1000 % 1000, "us");
    part(ns % 1000, "ns");
    if (out.empty() || out == "-") out = "0s";
    return out;
}

// ---------------------------------------------------------------- Uuid

namespace {
constexpr std::uint64_t kUuidEpochOffset = 0x01B21DD213814000ull;  // 100 ns ticks 1582-10-15 .. 1970-01-01
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::string Uuid::to_string() const {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 0xF];
    }
    return out;
}

std::optional<Uuid> Uuid::try_parse(std::string_view text) noexcept {
    if (text.size() != 36) return std::nullopt;
    Uuid u;
    std::size_t b = 0;
    for (std::size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return std::nullopt;
            ++i;
            continue;
        }
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        u.bytes[b++] = static_cast<std::uint8_t>(hi << 4 | lo);
        i += 2;
    }
    return u;
}

Uuid Uuid::parse(std::string_view text) {
    if (auto u = try_parse(text)) return *u;
    throw UsageError("bad uuid '" + std::string(text) + "'");
}

std::uint64_t Uuid::timeuuid_ticks() const noexcept {
    auto b = [this](int i) { return static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]); };
    const std::uint64_t low = b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
    const std::uint64_t mid = b(4) << 8 | b(5);
    const std::uint64_t hi = (b(6) & 0x0F) << 8 | b(7);
    return hi << 48 | mid << 32 | low;
}

Timestamp Uuid::timeuuid_timestamp() const {
    if (version() != 1) throw UsageError("uuid " + to_string() + " is not a timeuuid (version 1)");
    const auto ticks = static_cast<std::int64_t>(timeuuid_ticks()) - static_cast<std::int64_t>(kUuidEpochOffset);
    return {floor_div(ticks, 10'000)};
}

Uuid Uuid::timeuuid_from(Timestamp ts, std::uint16_t clock_seq, std::uint64_t node) {
    constexpr std::int64_t kMinMs = -static_cast<std::int64_t>(kUuidEpochOffset / 10'000);
    constexpr std::int64_t kMaxMs = static_cast<std::int64_t>(((1ull << 60) - 1 - kUuidEpochOffset) / 10'000);
    if (ts.milliseconds < kMinMs || ts.milliseconds > kMaxMs)
        throw UsageError("timestamp outside the timeuuid range");
    const std::uint64_t ticks = static_cast<std::uint64_t>(ts.milliseconds * 10'000 + static_cast<std::int64_t>(kUuidEpochOffset));
    Uuid u;
    const std::uint64_t fields[] = {ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, ((ticks >> 48) & 0x0FFF) | 0x1000};
    u.bytes[0] = static_cast<std::uint8_t>(fields[0] >> 24);
    u.bytes[1] = static_cast<std::uint8_t>(fields[0] >> 16);
    u.bytes[2] = static_cast<std::uint8_t>(fields[0] >> 8);
    u.bytes[3] = static_cast<std::uint8_t>(fields[0]);
    u.bytes[4] = static_cast<std::uint8_t>(fields[1] >> 8);
    u.bytes[5] = static_cast<std::uint8_t>(fields[1]);
    u.bytes[6] = static_cast<std::uint8_t>(fields[2] >> 8);
    u.bytes[7] = static_cast<std::uint8_t>(fields[2]);
    const std::uint16_t cs = static_cast<std::uint16_t>((clock_seq & 0x3FFF) | 0x8000);  // RFC 4122 variant
    u.bytes[8] = static_cast<std::uint8_t>(cs >> 8);
    u.bytes[9] = static_cast<std::uint8_t>(cs);
    for (int i = 0; i < 6; ++i) u.bytes[static_cast<std::size_t>(15 - i)] = static_cast<std::uint8_t>(node >> (8 * i));
    return u;
}

Uuid Uuid::random() {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    Uuid u;
    for (std::size_t i = 0; i < 16; i += 8) {
        const std::uint64_t r = gen();
        for (std::size_t j = 0; j < 8; ++j) u.bytes[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
    }
    u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x40);
    u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3F) | 0x80);
    return u;
}

// ---------------------------------------------------------------- Inet

Inet Inet::from_bytes(std::span<const std::uint8_t> raw) {
    if (raw.size() != 4 && raw.size() != 16)
        throw UsageError("inet address must have 4 or 16 bytes, not " + std::to_string(raw.size()));
    Inet i;
    i.size = static_cast<std::uint8_t>(raw.size());
    std::copy(raw.begin(), raw.end(), i.bytes.begin());
    return i;
}

std::string Inet::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(size == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

Inet Inet::parse(std::string_view text) {
    std::string s(text);
    Inet i;
    if (inet_pton(AF_INET, s.c_str(), i.bytes.data()) == 1) {
        i.size = 4;
        return i;
    }
    if (inet_pton(AF_INET6, s.c_str(), i.bytes.data()) == 1) {
        i.size = 16;
        return i;
    }
    throw UsageError("bad inet address '" + s + "'");
}

// ---------------------------------------------------------------- Varint

Varint::Varint(std::int64_t value) : bytes_(8) {
    for (std::size_t i = 0; i < 8; ++i) bytes_[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (56 - 8 * i));
    normalize(bytes_);
}

Varint Varint::from_bytes(std::span<const std::uint8_t> raw) {
    if (raw.empty()) throw UsageError("a varint needs at least one byte");
    Varint v;
    v.bytes_.assign(raw.begin(), raw.end());
    normalize(v.bytes_);
    return v;
}

Varint Varint::parse(std::string_view text) {
    std::string_view digits = text;
    const bool negative = !digits.empty() && digits.front() == '-';
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
    if (digits.empty()) throw UsageError("bad varint '" + std::string(text) + "'");
    std::vector<std::uint8_t> mag{0};  // unsigned big-endian magnitude with a spare leading 0
    for (char c : digits) {
        if (c < '0' || c > '9') throw UsageError("bad varint '" + std::string(text) + "'");
        unsigned carry = static_cast<unsigned>(c - '0');
        for (std::size_t i = mag.size(); i-- > 0;) {
            unsigned v = mag[i] * 10u + carry;
            mag[i] = static_cast<std::uint8_t>(v);
            carry = v >> 8;
        }
        if (carry) mag.insert(mag.begin(), static_cast<std::uint8_t>(carry));
        if (mag[0] & 0x80) mag.insert(mag.begin(), 0);  // keep it non-negative as two's complement
    }
    if (negative) negate_in_place(mag);
    Varint out;
    out.bytes_ = std::move(mag);
    normalize(out.bytes_);
    return out;
}

std::optional<std::int64_t> Varint::try_to_int64() const noexcept {
    if (bytes_.size() > 8) return std::nullopt;
    std::uint64_t v = is_negative() ? ~0ull : 0;
    for (std::uint8_t b : bytes_) v = v << 8 | b;
    return static_cast<std::int64_t>(v);
}

std::int64_t Varint::to_int64() const {
    if (auto v = try_to_int64()) return *v;
    throw TypeError("varint " + to_string() + " does not fit in std::int64_t");
}

std::string Varint::to_string() const {
    std::vector<std::uint8_t> mag = bytes_;
    const bool negative = is_negative();
    if (negative) negate_in_place(mag);  // as unsigned, -2^(8n-1) becomes 2^(8n-1): still right
    // Repeated division by 10^9 of the base-256 magnitude.
    std::vector<std::uint32_t> chunks;
    std::size_t start = 0;
    while (start < mag.size()) {
        std::uint64_t rem = 0;
        for (std::size_t i = start; i < mag.size(); ++i) {
            const std::uint64_t cur = rem << 8 | mag[i];
            mag[i] = static_cast<std::uint8_t>(cur / 1'000'000'000);
            rem = cur % 1'000'000'000;
        }
        chunks.push_back(static_cast<std::uint32_t>(rem));
        while (start < mag.size() && mag[start] == 0) ++start;
    }
    std::string out = negative ? "-" : "";
    if (chunks.empty()) return "0";
    out += std::to_string(chunks.back());
    for (std::size_t i = chunks.size() - 1; i-- > 0;) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%09u", chunks[i]);
        out += buf;
    }
    return out;
}

// ---------------------------------------------------------------- Decimal

std::string Decimal::to_string() const {
    std::string digits = unscaled.to_string();
    std::string sign;
    if (!digits.empty() && digits.front() == '-') {
        sign = "-";
        digits.erase(0, 1);
    }
    // Like java.math.BigDecimal.toString: plain unless the scale is negative or the number is
    // very small; scientific notation keeps huge scales short (scale = digits - 1 - exponent).
    const std::int64_t adjusted = static_cast<std::int64_t>(digits.size()) - 1 - scale;
    if (scale < 0 || adjusted < -6) {
        std::string out = sign + digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        return out + (adjusted >= 0 ? "E+" : "E-") + std::to_string(adjusted >= 0 ? adjusted : -adjusted);
    }
    const auto s = static_cast<std::size_t>(scale);
    if (s == 0) return sign + digits;
    if (digits.size() <= s) return sign + "0." + std::string(s - digits.size(), '0') + digits;
    return sign + digits.substr(0, digits.size() - s) + "." + digits.substr(digits.size() - s);
}

Decimal Decimal::parse(std::string_view text) {
    auto bad = [&] { return UsageError("bad decimal '" + std::string(text) + "'"); };
    std::string_view s = text;
    std::int64_t exponent = 0;
    if (auto e = s.find_first_of("eE"); e != std::string_view::npos) {
        std::string_view es = s.substr(e + 1);
        if (!es.empty() && es.front() == '+') es.remove_prefix(1);
        // The exponent may exceed int32 (to_string prints 1.2E+2147483648 for scale INT32_MIN);
        // only the resulting scale must fit, checked below. The bound keeps the arithmetic exact.
        constexpr std::int64_t kExponentBound = std::int64_t{1} << 40;
        if (!parse_int(es, exponent) || exponent > kExponentBound || exponent < -kExponentBound) throw bad();
        s = s.substr(0, e);
    }
    std::string digits;
    std::int64_t frac = 0;
    bool seen_dot = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (i == 0 && (c == '-' || c == '+')) {
            if (c == '-') digits += '-';
        } else if (c == '.' && !seen_dot) {
            seen_dot = true;
        } else if (c >= '0' && c <= '9') {
            digits += c;
            if (seen_dot) ++frac;
        } else {
            throw bad();
        }
    }
    const std::int64_t scale = frac - exponent;
    if (digits.empty() || digits == "-" || scale > INT32_MAX || scale < INT32_MIN) throw bad();
    return {static_cast<std::int32_t>(scale), Varint::parse(digits)};
}

}  // namespace async_cassandra
