// Cassandra's Murmur3Partitioner: MurmurHash3_x64_128 with seed 0, keeping the first 64-bit half.
// Cassandra's Java port reads the tail bytes as signed bytes and widens them to long, so a tail
// byte >= 0x80 is sign-extended; we must reproduce that or our tokens would differ from a real
// node's for most keys (and token-aware routing would send requests to the wrong replica).
#include "protocol/murmur3.hpp"

#include <cstring>
#include <limits>

namespace async_cassandra::protocol {
namespace {

std::uint64_t rotl64(std::uint64_t v, int n) noexcept { return (v << n) | (v >> (64 - n)); }

std::uint64_t fmix64(std::uint64_t k) noexcept {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// The Java quirk: (long) byteBuffer.get(i) sign-extends.
std::uint64_t tail_byte(std::uint8_t b, int shift) noexcept {
    auto widened = static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(b)));
    return widened << shift;
}

}  // namespace

std::int64_t murmur3_token(BytesView key) noexcept {
    if (key.empty()) return std::numeric_limits<std::int64_t>::min();
    constexpr std::uint64_t c1 = 0x87c37b91114253d5ULL;
    constexpr std::uint64_t c2 = 0x4cf5ad432745937fULL;
    const std::uint8_t* data = key.data();
    const std::size_t length = key.size();
    const std::size_t nblocks = length / 16;

    std::uint64_t h1 = 0;
    std::uint64_t h2 = 0;

    for (std::size_t i = 0; i < nblocks; ++i) {
        std::uint64_t k1 = load_le64(data + i * 16);
        std::uint64_t k2 = load_le64(data + i * 16 + 8);

        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;

        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }

    const std::uint8_t* tail = data + nblocks * 16;
    std::uint64_t k1 = 0;
    std::uint64_t k2 = 0;
    switch (length & 15) {
        case 15: k2 ^= tail_byte(tail[14], 48); [[fallthrough]];
        case 14: k2 ^= tail_byte(tail[13], 40); [[fallthrough]];
        case 13: k2 ^= tail_byte(tail[12], 32); [[fallthrough]];
        case 12: k2 ^= tail_byte(tail[11], 24); [[fallthrough]];
        case 11: k2 ^= tail_byte(tail[10], 16); [[fallthrough]];
        case 10: k2 ^= tail_byte(tail[9], 8); [[fallthrough]];
        case 9:
            k2 ^= tail_byte(tail[8], 0);
            k2 *= c2;
            k2 = rotl64(k2, 33);
            k2 *= c1;
            h2 ^= k2;
            [[fallthrough]];
        case 8: k1 ^= tail_byte(tail[7], 56); [[fallthrough]];
        case 7: k1 ^= tail_byte(tail[6], 48); [[fallthrough]];
        case 6: k1 ^= tail_byte(tail[5], 40); [[fallthrough]];
        case 5: k1 ^= tail_byte(tail[4], 32); [[fallthrough]];
        case 4: k1 ^= tail_byte(tail[3], 24); [[fallthrough]];
        case 3: k1 ^= tail_byte(tail[2], 16); [[fallthrough]];
        case 2: k1 ^= tail_byte(tail[1], 8); [[fallthrough]];
        case 1:
            k1 ^= tail_byte(tail[0], 0);
            k1 *= c1;
            k1 = rotl64(k1, 31);
            k1 *= c2;
            h1 ^= k1;
            break;
        default: break;
    }

    h1 ^= length;
    h2 ^= length;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;

    auto token = static_cast<std::int64_t>(h1);
    // Cassandra reserves INT64_MIN as the partitioner's minimum token (never a real key's).
    if (token == std::numeric_limits<std::int64_t>::min()) return std::numeric_limits<std::int64_t>::max();
    return token;
}

Bytes composite_routing_key(const std::vector<BytesView>& components) {
    if (components.size() == 1) return Bytes(components[0].begin(), components[0].end());
    std::size_t total = 0;
    for (const auto& c : components) total += 3 + c.size();
    Bytes out;
    out.reserve(total);
    for (const auto& c : components) {
        if (c.size() > 0xFFFF)
            throw ProtocolError(ProtocolErrc::invalid_length,
                                "partition key component of " + std::to_string(c.size()) + " bytes");
        out.push_back(static_cast<std::uint8_t>(c.size() >> 8));
        out.push_back(static_cast<std::uint8_t>(c.size()));
        out.insert(out.end(), c.begin(), c.end());
        out.push_back(0x00);
    }
    return out;
}

}  // namespace async_cassandra::protocol
