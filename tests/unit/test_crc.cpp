// Segment checksums: native_protocol_v5.spec section 2.1 (CRC24 parameters) and PROTOCOL-NOTES.md
// "v5 outer framing" (CRC24 test vector, seeded CRC32).
#include "protocol/crc.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string_view>

using namespace async_cassandra::protocol;

namespace {
BytesView view(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Bit-at-a-time reference, to check the sliced table version against.
std::uint32_t crc32_bitwise(BytesView bytes, std::uint32_t crc) {
    crc = ~crc;
    for (std::uint8_t b : bytes) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}
}  // namespace

// PROTOCOL-NOTES: header integer 0x20032 (length 50, self-contained) = bytes 32 00 02, CRC24 0xEEFFA5.
TEST(Crc24Spec2_1, NotesTestVector) {
    const Bytes header{0x32, 0x00, 0x02};
    EXPECT_EQ(crc24(header), 0xEEFFA5u);
}

TEST(Crc24Spec2_1, EmptyInputIsInitialValueAndResultIs24Bits) {
    EXPECT_EQ(crc24(BytesView{}), 0x875060u);
    const Bytes five{0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    EXPECT_EQ(crc24(five) & ~0xFFFFFFu, 0u);
    EXPECT_NE(crc24(five), crc24(BytesView(five).first(4)));
}

// The standard CRC-32 check value.
TEST(Crc32, StandardCheckValue) {
    EXPECT_EQ(crc32(view("123456789")), 0xCBF43926u);
    EXPECT_EQ(crc32(BytesView{}), 0u);
}

TEST(Crc32, SlicedMatchesBitwiseAtEveryLengthAndAlignment) {
    std::mt19937 rng(42);
    Bytes data(300);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    for (std::size_t off = 0; off < 9; ++off)
        for (std::size_t len = 0; off + len <= data.size(); len += 7) {
            BytesView v = BytesView(data).subspan(off, len);
            ASSERT_EQ(crc32(v, 0x12345678u), crc32_bitwise(v, 0x12345678u)) << off << "/" << len;
        }
}

TEST(Crc32, Continuation) {
    EXPECT_EQ(crc32(view("56789"), crc32(view("1234"))), crc32(view("123456789")));
}

// PROTOCOL-NOTES: seeded by running over fa 2d 55 ca first. Values cross-checked with Python's
// zlib.crc32(data, zlib.crc32(b"\xfa\x2d\x55\xca")).
TEST(SegmentCrc32, SeededByFixedPrefix) {
    const Bytes seed{0xFA, 0x2D, 0x55, 0xCA};
    EXPECT_EQ(crc32(seed), kSegmentCrc32Seed);
    EXPECT_EQ(segment_crc32(BytesView{}), 0x44777ED3u);
    EXPECT_EQ(segment_crc32(view("123456789")), 0xE2A261A7u);
}
