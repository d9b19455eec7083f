// v5 segments: native_protocol_v5.spec section 2.1 (uncompressed), 2.2 (LZ4) and PROTOCOL-NOTES.md
// "v5 outer framing" (little-endian fields, CRC24 test vector, seeded CRC32).
#include "protocol/compression.hpp"
#include "protocol/crc.hpp"
#include "protocol/segment.hpp"
#include "support/protocol_errc.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

namespace {

Bytes random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
}

Bytes compressible_bytes(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>("abcabcabd"[i % 9]);
    return b;
}

std::uint64_t load_le(const Bytes& b, std::size_t at, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | b[at + i];
    return v;
}

void store_le(Bytes& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A segment built by hand, so that tests can make headers that lie yet carry a valid CRC24.
Bytes handmade_lz4_segment(std::uint64_t header_bits, const Bytes& payload) {
    Bytes out;
    store_le(out, header_bits, 5);
    store_le(out, crc24(BytesView(out).first(5)), 3);
    out.insert(out.end(), payload.begin(), payload.end());
    store_le(out, segment_crc32(payload), 4);
    return out;
}

using acass_test::error_of;

}  // namespace

// PROTOCOL-NOTES: length 50, self-contained -> header integer 0x20032 = 32 00 02, CRC24 a5 ff ee.
TEST(SegmentSpec2_1, UncompressedHeaderMatchesNotesVector) {
    const Bytes payload = random_bytes(50, 1);
    Bytes out;
    encode_segment(out, payload, true, false);
    ASSERT_EQ(out.size(), 6 + 50 + 4u);
    EXPECT_EQ(Bytes(out.begin(), out.begin() + 6), (Bytes{0x32, 0x00, 0x02, 0xA5, 0xFF, 0xEE}));
    EXPECT_EQ(Bytes(out.begin() + 6, out.begin() + 56), payload);
    EXPECT_EQ(load_le(out, 56, 4), segment_crc32(payload));  // trailer is little-endian
}

TEST(SegmentSpec2_1, UncompressedRoundTripBothFlags) {
    for (bool sc : {true, false}) {
        const Bytes payload = random_bytes(1000, 2);
        Bytes out;
        encode_segment(out, payload, sc, false);
        EXPECT_EQ((load_le(out, 0, 3) >> 17) & 1, sc ? 1u : 0u);
        Bytes scratch;
        auto seg = decode_segment(out, false, scratch);
        ASSERT_TRUE(seg);
        EXPECT_EQ(seg->self_contained, sc);
        EXPECT_EQ(seg->wire_size, out.size());
        EXPECT_EQ(Bytes(seg->payload.begin(), seg->payload.end()), payload);
    }
}

// Spec 2.1: payload up to 2^17 - 1 bytes.
TEST(SegmentSpec2_1, MaximumPayloadAndOneMore) {
    const Bytes max = random_bytes(kMaxSegmentPayload, 3);
    Bytes out;
    encode_segment(out, max, false, false);
    EXPECT_EQ(load_le(out, 0, 3) & 0x1FFFF, kMaxSegmentPayload);
    Bytes scratch;
    auto seg = decode_segment(out, false, scratch);
    ASSERT_TRUE(seg);
    EXPECT_EQ(seg->payload.size(), kMaxSegmentPayload);

    const Bytes too_big(kMaxSegmentPayload + 1, 0);
    EXPECT_EQ(error_of([&] { encode_segment(out, too_big, true, false); }), ProtocolErrc::invalid_length);
    EXPECT_EQ(error_of([&] { encode_segment(out, too_big, true, true); }), ProtocolErrc::invalid_length);
}

// Spec 2.2: 17 bits compressed length, 17 bits uncompressed length, self-contained at bit 34,
// CRC24 of those 5 bytes, CRC32 over the compressed payload.
TEST(SegmentSpec2_2, Lz4HeaderLayout) {
    const Bytes payload = compressible_bytes(5000);
    Bytes out;
    encode_segment(out, payload, true, true);
    const std::uint64_t bits = load_le(out, 0, 5);
    const std::size_t compressed = bits & 0x1FFFF;
    EXPECT_LT(compressed, payload.size());
    EXPECT_EQ((bits >> 17) & 0x1FFFF, payload.size());
    EXPECT_EQ((bits >> 34) & 1, 1u);
    EXPECT_EQ(load_le(out, 5, 3), crc24(BytesView(out).first(5)));
    ASSERT_EQ(out.size(), 8 + compressed + 4);
    EXPECT_EQ(load_le(out, 8 + compressed, 4), segment_crc32(BytesView(out).subspan(8, compressed)));

    Bytes scratch;
    auto seg = decode_segment(out, true, scratch);
    ASSERT_TRUE(seg);
    EXPECT_TRUE(seg->self_contained);
    EXPECT_EQ(Bytes(seg->payload.begin(), seg->payload.end()), payload);
}

// Spec 2.2: uncompressed length 0 = payload used as is (what a sender does when LZ4 does not help).
TEST(SegmentSpec2_2, IncompressiblePayloadIsSentAsIs) {
    const Bytes payload = random_bytes(kMaxSegmentPayload, 4);
    Bytes out;
    encode_segment(out, payload, false, true);
    const std::uint64_t bits = load_le(out, 0, 5);
    EXPECT_EQ(bits & 0x1FFFF, payload.size());
    EXPECT_EQ((bits >> 17) & 0x1FFFF, 0u);
    EXPECT_EQ((bits >> 34) & 1, 0u);
    EXPECT_EQ(Bytes(out.begin() + 8, out.begin() + 8 + static_cast<std::ptrdiff_t>(payload.size())), payload);
    Bytes scratch;
    auto seg = decode_segment(out, true, scratch);
    ASSERT_TRUE(seg);
    EXPECT_FALSE(seg->self_contained);
    EXPECT_EQ(Bytes(seg->payload.begin(), seg->payload.end()), payload);
}

TEST(SegmentDecode, IncompleteInputWaitsAtEveryLength) {
    for (bool lz4 : {false, true}) {
        Bytes out;
        encode_segment(out, compressible_bytes(300), true, lz4);
        Bytes scratch;
        for (std::size_t n = 0; n < out.size(); ++n)
            EXPECT_FALSE(decode_segment(BytesView(out).first(n), lz4, scratch)) << n;
        EXPECT_TRUE(decode_segment(out, lz4, scratch));
    }
}

// A flipped bit anywhere (header, CRC24, payload, CRC32) must be caught as bad_checksum.
TEST(SegmentDecode, EveryCorruptedByteIsBadChecksum) {
    for (bool lz4 : {false, true}) {
        Bytes good;
        encode_segment(good, random_bytes(40, 5), true, lz4);
        for (std::size_t i = 0; i < good.size(); ++i) {
            Bytes bad = good;
            bad[i] ^= 0x10;
            Bytes scratch;
            EXPECT_EQ(error_of([&] { decode_segment(bad, lz4, scratch); }), ProtocolErrc::bad_checksum)
                << "byte " << i << (lz4 ? " lz4" : " plain");
        }
    }
}

// A corrupt header is reported as soon as the header is complete, not after waiting for a
// payload whose length may be garbage.
TEST(SegmentDecode, CorruptHeaderDetectedWithoutPayload) {
    Bytes seg;
    encode_segment(seg, random_bytes(100, 6), true, false);
    seg[0] ^= 0x01;
    Bytes scratch;
    EXPECT_EQ(error_of([&] { decode_segment(BytesView(seg).first(6), false, scratch); }), ProtocolErrc::bad_checksum);
}

// Lengths that lie, with valid checksums: the LZ4 block must produce exactly the declared size.
TEST(SegmentDecode, Lz4UncompressedLengthMustMatch) {
    const Bytes plain = compressible_bytes(2000);
    Bytes good;
    encode_segment(good, plain, true, true);
    const std::size_t clen = load_le(good, 0, 5) & 0x1FFFF;
    const Bytes block(good.begin() + 8, good.begin() + 8 + static_cast<std::ptrdiff_t>(clen));
    for (std::uint64_t declared : {std::uint64_t{1999}, std::uint64_t{2001}, std::uint64_t{0x1FFFF}}) {
        Bytes bad = handmade_lz4_segment(clen | (declared << 17) | (1ull << 34), block);
        Bytes scratch;
        EXPECT_EQ(error_of([&] { decode_segment(bad, true, scratch); }), ProtocolErrc::compression) << declared;
    }
    // Garbage that claims to be an LZ4 block.
    Bytes junk = handmade_lz4_segment(3 | (100ull << 17), Bytes{0xFF, 0xFF, 0xFF});
    Bytes scratch;
    EXPECT_EQ(error_of([&] { decode_segment(junk, true, scratch); }), ProtocolErrc::compression);
    // And the handmade builder agrees with the encoder on a truthful header.
    Bytes same = handmade_lz4_segment(clen | (2000ull << 17) | (1ull << 34), block);
    EXPECT_EQ(same, good);
}

TEST(SegmentDecode, EmptyPayload) {
    for (bool lz4 : {false, true}) {
        Bytes out;
        encode_segment(out, BytesView{}, true, lz4);
        Bytes scratch;
        auto seg = decode_segment(out, lz4, scratch);
        ASSERT_TRUE(seg);
        EXPECT_TRUE(seg->payload.empty());
        EXPECT_EQ(seg->wire_size, out.size());
    }
}

// verify_segment checks both CRCs but leaves the LZ4 payload compressed for the caller.
TEST(SegmentDecode, VerifyLeavesPayloadCompressed) {
    const Bytes plain = compressible_bytes(4000);
    Bytes wire;
    encode_segment(wire, plain, false, true);
    auto v = verify_segment(wire, true);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->header.uncompressed_length, 4000u);
    EXPECT_FALSE(v->header.self_contained);
    EXPECT_EQ(v->wire_payload.size(), v->header.payload_length);
    EXPECT_EQ(v->wire_payload.data(), wire.data() + 8);
    EXPECT_EQ(v->wire_size, wire.size());
    Bytes out(4000);
    lz4_decompress_block(v->wire_payload, out);
    EXPECT_EQ(out, plain);
}
