// Checksums of the v5 segment framing (native_protocol_v5.spec section 2.1/2.2; PROTOCOL-NOTES.md
// "v5 outer framing"): CRC24 protects a segment header, CRC32 its payload.
#pragma once

#include "protocol/bytes.hpp"

#include <cstdint>

namespace async_cassandra::protocol {

/// CRC24 as Cassandra computes it for segment headers: initial value 0x875060, polynomial
/// 0x1974F0B, bytes taken in wire order (the header is little-endian, so lowest byte first).
/// The result fits in 24 bits.
std::uint32_t crc24(BytesView bytes) noexcept;

/// Standard CRC-32 (IEEE 802.3, reflected): `crc32(b, crc32(a)) == crc32(a ++ b)`. libdeflate's.
std::uint32_t crc32(BytesView bytes, std::uint32_t crc = 0) noexcept;

/// The CRC32 of a v5 segment payload: CRC-32 continued from the CRC of the bytes fa 2d 55 ca.
/// The spec does not mention that seed; Cassandra and the drivers use it.
std::uint32_t segment_crc32(BytesView payload) noexcept;

/// CRC-32 of fa 2d 55 ca: the running value segment_crc32 starts from.
inline constexpr std::uint32_t kSegmentCrc32Seed = 0x44777ED3;

}  // namespace async_cassandra::protocol
