#include "protocol/crc.hpp"

#include <libdeflate.h>

namespace async_cassandra::protocol {
namespace {

constexpr std::uint32_t kCrc24Init = 0x875060;
constexpr std::uint32_t kCrc24Poly = 0x1974F0B;
}  // namespace

std::uint32_t crc24(BytesView bytes) noexcept {
    std::uint32_t crc = kCrc24Init;
    for (std::uint8_t b : bytes) {
        crc ^= static_cast<std::uint32_t>(b) << 16;
        for (int i = 0; i < 8; ++i) {
            crc <<= 1;
            if (crc & 0x1000000) crc ^= kCrc24Poly;
        }
    }
    return crc & 0xFFFFFF;
}

std::uint32_t crc32(BytesView bytes, std::uint32_t crc) noexcept {
    // libdeflate's CRC-32 (same polynomial, reflection and continuation rule as zlib's): it
    // folds with PCLMULQDQ where the CPU has it, several times faster than zlib 1.2's tables.
    // Every v5 segment payload is checked with it, so it was ~20% of a streaming client's CPU.
    // (A null buffer means "initial value" to libdeflate, as to zlib: an empty span keeps `crc`.)
    if (bytes.empty()) return crc;
    return libdeflate_crc32(crc, bytes.data(), bytes.size());
}

std::uint32_t segment_crc32(BytesView payload) noexcept { return crc32(payload, kSegmentCrc32Seed); }

}  // namespace async_cassandra::protocol
