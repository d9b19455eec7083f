#include "protocol/crc.hpp"

#include <zlib.h>

#include <algorithm>

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
    // zlib's CRC-32 (same polynomial, reflection and continuation rule); it takes lengths as
    // uInt, hence the chunks.
    const std::uint8_t* p = bytes.data();
    std::size_t n = bytes.size();
    uLong c = crc;
    while (n > 0) {
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
        c = ::crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return static_cast<std::uint32_t>(c);
}

std::uint32_t segment_crc32(BytesView payload) noexcept { return crc32(payload, kSegmentCrc32Seed); }

}  // namespace async_cassandra::protocol
