// Segment checksums: native_protocol_v5.spec section 2.1 (CRC24 parameters) and PROTOCOL-NOTES.md
// "v5 outer framing" (CRC24 test vector, seeded CRC32).
#include "protocol/crc.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string_view>

using namespace async_cassandra::protocol;

namespace {
BytesView view(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Bit-at-a-time reference.
std::uint32_t crc32_bitwise(BytesView bytes, std::uint32_t crc) {
    crc = ~crc;
    for (std::uint8_t b : bytes) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

// The table-driven slicing-by-16 CRC-32 this library used before it took zlib's: the zlib
// version must give the same checksums on any input (nothing on the wire may change).
std::uint32_t crc32_sliced_previous(BytesView bytes, std::uint32_t crc) {
    static const auto tables = [] {
        std::array<std::array<std::uint32_t, 256>, 16> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
            t[0][i] = c;
        }
        for (std::size_t k = 1; k < t.size(); ++k)
            for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
        return t;
    }();
    auto le32 = [](const std::uint8_t* p) {
        return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
    };
    const std::uint8_t* p = bytes.data();
    std::size_t n = bytes.size();
    crc = ~crc;
    const auto& t = tables;
    while (n >= 16) {
        const std::uint32_t a = le32(p) ^ crc, b = le32(p + 4), c = le32(p + 8), d = le32(p + 12);
        crc = t[15][a & 0xFF] ^ t[14][(a >> 8) & 0xFF] ^ t[13][(a >> 16) & 0xFF] ^ t[12][a >> 24] ^
              t[11][b & 0xFF] ^ t[10][(b >> 8) & 0xFF] ^ t[9][(b >> 16) & 0xFF] ^ t[8][b >> 24] ^
              t[7][c & 0xFF] ^ t[6][(c >> 8) & 0xFF] ^ t[5][(c >> 16) & 0xFF] ^ t[4][c >> 24] ^
              t[3][d & 0xFF] ^ t[2][(d >> 8) & 0xFF] ^ t[1][(d >> 16) & 0xFF] ^ t[0][d >> 24];
        p += 16;
        n -= 16;
    }
    while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}
}  // namespace

// Random inputs (lengths 0..70000, random seeds, the v5 segment seed): the library CRC-32
// (libdeflate's) equals the previous hand-written one.
TEST(Crc32, LibraryMatchesPreviousImplementationOnRandomInputs) {
    std::mt19937 rng(20261205);
    for (int round = 0; round < 300; ++round) {
        Bytes data(rng() % 70001);
        for (auto& b : data) b = static_cast<std::uint8_t>(rng());
        const std::uint32_t seed = round % 3 == 0 ? 0u : round % 3 == 1 ? kSegmentCrc32Seed : static_cast<std::uint32_t>(rng());
        ASSERT_EQ(crc32(data, seed), crc32_sliced_previous(data, seed)) << data.size();
    }
    const Bytes payload(131071, 0xA5);  // a full segment
    EXPECT_EQ(segment_crc32(payload), crc32_sliced_previous(payload, kSegmentCrc32Seed));
}

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

// The table-driven CRC24 equals the bit-by-bit definition (Cassandra's) on random inputs.
TEST(Crc24Spec2_1, TableMatchesBitwiseDefinition) {
    auto bitwise = [](BytesView bytes) {
        std::uint32_t crc = 0x875060;
        for (std::uint8_t b : bytes) {
            crc ^= static_cast<std::uint32_t>(b) << 16;
            for (int i = 0; i < 8; ++i) {
                crc <<= 1;
                if (crc & 0x1000000) crc ^= 0x1974F0B;
            }
        }
        return crc & 0xFFFFFF;
    };
    std::mt19937 rng(24);
    for (int round = 0; round < 2000; ++round) {
        Bytes data(rng() % 12);
        for (auto& b : data) b = static_cast<std::uint8_t>(rng());
        ASSERT_EQ(crc24(data), bitwise(data)) << round;
    }
}

// The standard CRC-32 check value.
TEST(Crc32, StandardCheckValue) {
    EXPECT_EQ(crc32(view("123456789")), 0xCBF43926u);
    EXPECT_EQ(crc32(BytesView{}), 0u);
}

TEST(Crc32, MatchesBitwiseAtEveryLengthAndAlignment) {
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
