// C++ value types for the CQL types that have no natural standard-library equivalent
// (native_protocol_v5.spec section 6). All are small regular value types: copyable, comparable,
// printable, with no reference to any buffer.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace async_cassandra {

/// CQL blob as an owning value. (A std::span<const std::byte> is the zero-copy view.)
using Blob = std::vector<std::byte>;

/// "Not set" marker for bound values (v4+): the column keeps its current value.
struct Unset {};
inline constexpr Unset unset{};

/// CQL timestamp: milliseconds since 1970-01-01T00:00:00Z (v5 spec 6.18).
struct Timestamp {
    std::int64_t milliseconds = 0;

    using SysMillis = std::chrono::sys_time<std::chrono::milliseconds>;
    static Timestamp from_time_point(SysMillis tp) noexcept { return {tp.time_since_epoch().count()}; }
    /// Truncates toward negative infinity to whole milliseconds.
    static Timestamp from_time_point(std::chrono::system_clock::time_point tp) noexcept {
        return {std::chrono::floor<std::chrono::milliseconds>(tp).time_since_epoch().count()};
    }
    static Timestamp now() noexcept { return from_time_point(std::chrono::system_clock::now()); }
    /// Lossless for every value.
    SysMillis to_sys_millis() const noexcept { return SysMillis(std::chrono::milliseconds(milliseconds)); }
    /// system_clock may count in nanoseconds (±292 years): throws UsageError when out of its range.
    std::chrono::system_clock::time_point to_time_point() const;
    /// ISO 8601 in UTC, e.g. "2024-01-02T03:04:05.678Z".
    std::string to_string() const;

    friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

/// CQL date: days since 1970-01-01 (negative before). On the wire an unsigned 32-bit day
/// number with the epoch at 2^31 (v5 spec 6.5), so every int32 value is representable.
struct Date {
    std::int32_t days_since_epoch = 0;

    static Date from_wire(std::uint32_t wire) noexcept {
        return {static_cast<std::int32_t>(wire - 0x80000000u)};
    }
    std::uint32_t to_wire() const noexcept { return static_cast<std::uint32_t>(days_since_epoch) + 0x80000000u; }
    /// Proleptic Gregorian calendar. Throws UsageError for an invalid or unrepresentable date.
    static Date from_ymd(std::int64_t year, unsigned month, unsigned day);
    struct Ymd {
        std::int64_t year;
        unsigned month;
        unsigned day;
    };
    Ymd to_ymd() const noexcept;
    /// "YYYY-MM-DD" (years outside 0..9999 are written with as many digits as needed, with a sign).
    std::string to_string() const;
    /// Parses "YYYY-MM-DD" (optionally signed year). Throws UsageError.
    static Date parse(std::string_view text);

    friend auto operator<=>(const Date&, const Date&) = default;
};

/// CQL time: nanoseconds since midnight, 0 ..= 86'399'999'999'999 (v5 spec 6.17).
class Time {
public:
    static constexpr std::int64_t kNanosPerDay = 86'400'000'000'000;
    Time() = default;
    /// Throws UsageError when out of range.
    explicit Time(std::int64_t nanoseconds_since_midnight);
    static Time from_hms(unsigned hours, unsigned minutes, unsigned seconds, std::uint32_t nanoseconds = 0);
    std::int64_t nanoseconds() const noexcept { return nanoseconds_; }
    /// "HH:MM:SS.nnnnnnnnn".
    std::string to_string() const;

    friend auto operator<=>(const Time&, const Time&) = default;

private:
    std::int64_t nanoseconds_ = 0;
};

/// CQL duration (v5 spec 6.8). All three parts have the same sign (or are zero).
struct Duration {
    std::int32_t months = 0;
    std::int32_t days = 0;
    std::int64_t nanoseconds = 0;

    /// True when all parts are >= 0 or all are <= 0 (the only encodable durations).
    bool has_consistent_sign() const noexcept {
        return (months >= 0 && days >= 0 && nanoseconds >= 0) || (months <= 0 && days <= 0 && nanoseconds <= 0);
    }
    /// CQL duration literal, e.g. "1y2mo3d4h5m6s7ms8us9ns", "-3d", "0s".
    std::string to_string() const;

    friend bool operator==(const Duration&, const Duration&) = default;
};

/// A UUID as 16 bytes in network order (uuid and timeuuid, v5 spec 6.19 / 6.22).
struct Uuid {
    std::array<std::uint8_t, 16> bytes{};

    /// Lower-case "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
    std::string to_string() const;
    /// Parses the 36-character form (either case). Throws UsageError.
    static Uuid parse(std::string_view text);
    static std::optional<Uuid> try_parse(std::string_view text) noexcept;
    /// The RFC 4122 version nibble (1 for a timeuuid, 4 for random).
    int version() const noexcept { return bytes[6] >> 4; }
    /// Version 1: 100 ns intervals since 1582-10-15 (the UUID epoch).
    std::uint64_t timeuuid_ticks() const noexcept;
    /// Version 1: the embedded time as a Timestamp (ms precision). Throws UsageError otherwise.
    Timestamp timeuuid_timestamp() const;
    /// A version 1 UUID for `ts` with the given clock sequence and node (for tests and for
    /// minTimeuuid/maxTimeuuid-style range bounds).
    static Uuid timeuuid_from(Timestamp ts, std::uint16_t clock_seq = 0, std::uint64_t node = 0);
    /// A random version 4 UUID.
    static Uuid random();

    friend auto operator<=>(const Uuid&, const Uuid&) = default;
};

/// An IPv4 or IPv6 address (v5 spec 6.10).
struct Inet {
    std::array<std::uint8_t, 16> bytes{};  ///< first `size` bytes used
    std::uint8_t size = 4;                 ///< 4 or 16

    static Inet v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
        Inet i;
        i.bytes = {a, b, c, d};
        return i;
    }
    /// From 4 or 16 raw bytes; throws UsageError otherwise.
    static Inet from_bytes(std::span<const std::uint8_t> raw);
    std::span<const std::uint8_t> view() const noexcept { return {bytes.data(), size}; }
    bool is_v4() const noexcept { return size == 4; }
    /// Dotted quad or RFC 5952 IPv6 text.
    std::string to_string() const;
    /// Parses IPv4 or IPv6 text. Throws UsageError.
    static Inet parse(std::string_view text);

    friend bool operator==(const Inet& a, const Inet& b) noexcept {
        return a.size == b.size && std::equal(a.bytes.begin(), a.bytes.begin() + a.size, b.bytes.begin());
    }
};

/// Arbitrary-precision integer (v5 spec 6.24): two's complement, big-endian, minimal length.
class Varint {
public:
    Varint() : bytes_{0} {}
    explicit Varint(std::int64_t value);
    /// From two's complement big-endian bytes (at least one). Redundant sign bytes are dropped,
    /// so equal values compare equal. Throws UsageError on empty input.
    static Varint from_bytes(std::span<const std::uint8_t> twos_complement);
    /// Decimal text with optional sign. Throws UsageError.
    static Varint parse(std::string_view decimal);

    const std::vector<std::uint8_t>& bytes() const noexcept { return bytes_; }
    bool is_negative() const noexcept { return (bytes_[0] & 0x80) != 0; }
    std::optional<std::int64_t> try_to_int64() const noexcept;
    /// Throws TypeError when the value does not fit.
    std::int64_t to_int64() const;
    /// Decimal text, e.g. "-129".
    std::string to_string() const;

    friend bool operator==(const Varint&, const Varint&) = default;

private:
    std::vector<std::uint8_t> bytes_;  ///< never empty, minimal
};

/// Arbitrary-precision decimal (v5 spec 6.6): unscaled * 10^-scale.
struct Decimal {
    // Constructors, not aggregate initialisation: GCC 12 destroys an aggregate-initialised
    // temporary inside a co_await expression twice (Decimal{2, v} as an execute() argument).
    Decimal() = default;
    Decimal(std::int32_t scale_, Varint unscaled_) : scale(scale_), unscaled(std::move(unscaled_)) {}

    std::int32_t scale = 0;
    Varint unscaled;

    /// Text as java.math.BigDecimal prints it: plain ("123.45", "-0.001") unless the scale is
    /// negative or the value tiny, then scientific ("1.2E+4", "1E-7"). Lossless: parse() gives
    /// back the same unscaled value and scale.
    std::string to_string() const;
    /// Parses "[-]digits[.digits][E[+-]digits]". Throws UsageError.
    static Decimal parse(std::string_view text);

    friend bool operator==(const Decimal&, const Decimal&) = default;
};

}  // namespace async_cassandra
