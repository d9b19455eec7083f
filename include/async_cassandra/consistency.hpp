// Consistency levels ([consistency] in native_protocol_v4.spec section 3).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace async_cassandra {

enum class Consistency : std::uint16_t {
    any = 0x0000,
    one = 0x0001,
    two = 0x0002,
    three = 0x0003,
    quorum = 0x0004,
    all = 0x0005,
    local_quorum = 0x0006,
    each_quorum = 0x0007,
    serial = 0x0008,
    local_serial = 0x0009,
    local_one = 0x000A,
};

/// "LOCAL_QUORUM" etc.
std::string_view to_string(Consistency c) noexcept;
/// Case-insensitive parse of a consistency name; nullopt if unknown.
std::optional<Consistency> parse_consistency(std::string_view name) noexcept;

}  // namespace async_cassandra
