// v4 body compression: native_protocol_v4.spec section 5 (LZ4 body = 4-byte big-endian
// uncompressed length + raw LZ4 block; Snappy = raw snappy) and PROTOCOL-NOTES.md "v4 compression".
#include "protocol/compression.hpp"
#include "support/protocol_errc.hpp"

#include <gtest/gtest.h>
#include <lz4.h>
#include <snappy.h>

#include <random>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

namespace {

Bytes sample(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i % 7 == 0 ? rng() : 'a' + i % 5);
    return b;
}

using acass_test::error_of;

}  // namespace

TEST(CompressionNames, StartupOptionValues) {
    EXPECT_EQ(compression_from_name("lz4"), Compression::lz4);
    EXPECT_EQ(compression_from_name("snappy"), Compression::snappy);
    EXPECT_EQ(compression_from_name("zstd"), std::nullopt);
    EXPECT_EQ(to_string(Compression::lz4), "lz4");
    EXPECT_EQ(to_string(Compression::snappy), "snappy");
}

TEST(CompressionRoundTrip, AllCodecsAllSizes) {
    for (Compression c : {Compression::none, Compression::lz4, Compression::snappy})
        for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{70000}, std::size_t{3000000}}) {
            const Bytes body = sample(n, static_cast<unsigned>(n));
            Bytes packed{0xEE};  // compress_body appends
            compress_body(c, body, packed);
            Bytes unpacked;
            decompress_body(c, BytesView(packed).subspan(1), unpacked);
            EXPECT_EQ(unpacked, body) << to_string(c) << " " << n;
        }
}

// Spec 5: LZ4 body starts with the uncompressed length as a big-endian [int].
TEST(CompressionV4Spec5, Lz4LayoutIsBigEndianLengthThenRawBlock) {
    const Bytes body = sample(1000, 1);
    Bytes packed;
    compress_body(Compression::lz4, body, packed);
    ASSERT_GT(packed.size(), 4u);
    EXPECT_EQ(packed[0], 0x00);
    EXPECT_EQ(packed[1], 0x00);
    EXPECT_EQ(packed[2], 0x03);
    EXPECT_EQ(packed[3], 0xE8);
    Bytes direct(1000);
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(packed.data() + 4), reinterpret_cast<char*>(direct.data()),
                                static_cast<int>(packed.size() - 4), 1000);
    EXPECT_EQ(n, 1000);
    EXPECT_EQ(direct, body);
}

TEST(CompressionV4Spec5, SnappyIsRawFormat) {
    const Bytes body = sample(1000, 2);
    Bytes packed;
    compress_body(Compression::snappy, body, packed);
    std::string out;
    ASSERT_TRUE(snappy::Uncompress(reinterpret_cast<const char*>(packed.data()), packed.size(), &out));
    EXPECT_EQ(Bytes(out.begin(), out.end()), body);
}

TEST(CompressionLimits, DeclaredLengthAboveMaximumIsFrameTooLarge) {
    const Bytes body(10 * 1024 * 1024, 0);  // a real 10 MiB bomb: compresses to a few KiB
    for (Compression c : {Compression::lz4, Compression::snappy}) {
        Bytes packed;
        compress_body(c, body, packed);
        EXPECT_LT(packed.size(), 600u * 1024);
        Bytes out;
        EXPECT_EQ(error_of([&] { decompress_body(c, packed, out, 1024 * 1024); }), ProtocolErrc::frame_too_large)
            << to_string(c);
        decompress_body(c, packed, out, body.size());  // exactly at the limit is fine
        EXPECT_EQ(out.size(), body.size());
    }
}

// A few bytes announcing 200 MB: rejected from the ratio bound before any allocation.
TEST(CompressionLimits, ImpossibleRatioIsRejected) {
    Bytes lz4_lie{0x0B, 0xEB, 0xC2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    Bytes out;
    EXPECT_EQ(error_of([&] { decompress_body(Compression::lz4, lz4_lie, out); }), ProtocolErrc::compression);
    // Snappy varint 200000000 = 0x80 0x84 0xAF 0x5F, then almost nothing.
    Bytes snappy_lie{0x80, 0x84, 0xAF, 0x5F, 0x00};
    EXPECT_EQ(error_of([&] { decompress_body(Compression::snappy, snappy_lie, out); }), ProtocolErrc::compression);
}

TEST(CompressionLies, Lz4DeclaredLengthMustMatchOutput) {
    const Bytes body = sample(5000, 3);
    Bytes packed;
    compress_body(Compression::lz4, body, packed);
    for (std::uint32_t declared : {4999u, 5001u, 1u}) {
        Bytes bad = packed;
        bad[0] = static_cast<std::uint8_t>(declared >> 24);
        bad[1] = static_cast<std::uint8_t>(declared >> 16);
        bad[2] = static_cast<std::uint8_t>(declared >> 8);
        bad[3] = static_cast<std::uint8_t>(declared);
        Bytes out;
        EXPECT_EQ(error_of([&] { decompress_body(Compression::lz4, bad, out); }), ProtocolErrc::compression) << declared;
    }
}

TEST(CompressionLies, SnappyDeclaredLengthMustMatchOutput) {
    const Bytes body = sample(100, 4);
    Bytes packed;
    compress_body(Compression::snappy, body, packed);
    ASSERT_EQ(packed[0], 100);  // varint length, one byte
    for (std::uint8_t declared : {std::uint8_t{99}, std::uint8_t{101}}) {
        Bytes bad = packed;
        bad[0] = declared;
        Bytes out;
        EXPECT_EQ(error_of([&] { decompress_body(Compression::snappy, bad, out); }), ProtocolErrc::compression);
    }
}

TEST(CompressionLies, TruncatedAndGarbageInput) {
    Bytes out;
    EXPECT_EQ(error_of([&] { decompress_body(Compression::lz4, Bytes{0x00, 0x00, 0x01}, out); }), ProtocolErrc::compression);
    EXPECT_EQ(error_of([&] { decompress_body(Compression::snappy, Bytes{}, out); }), ProtocolErrc::compression);
    EXPECT_EQ(error_of([&] { decompress_body(Compression::snappy, Bytes{0x05, 0xFF, 0xFF}, out); }), ProtocolErrc::compression);
    const Bytes body = sample(3000, 5);
    for (Compression c : {Compression::lz4, Compression::snappy}) {
        Bytes packed;
        compress_body(c, body, packed);
        packed.resize(packed.size() / 2);
        EXPECT_EQ(error_of([&] { decompress_body(c, packed, out); }), ProtocolErrc::compression) << to_string(c);
    }
}

TEST(Lz4Block, ExactSizeRequired) {
    const Bytes body = sample(4000, 6);
    Bytes block(lz4_max_compressed_size(body.size()));
    block.resize(lz4_compress_block(body, block));
    Bytes out(4000);
    lz4_decompress_block(block, out);
    EXPECT_EQ(out, body);
    Bytes small(3999);
    EXPECT_EQ(error_of([&] { lz4_decompress_block(block, small); }), ProtocolErrc::compression);
    Bytes big(4001);
    EXPECT_EQ(error_of([&] { lz4_decompress_block(block, big); }), ProtocolErrc::compression);
}
