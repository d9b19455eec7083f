// Murmur3Partitioner tokens (PROTOCOL-NOTES.md "Murmur3 partitioner"). Expected values for keys
// other than the three published ones were computed with an independent Python transcription of
// Cassandra's MurmurHash.hash3_x64_128, which reproduces the published values too.
#include "protocol/murmur3.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string_view>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

namespace {
BytesView view(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

// Cassandra's own pinned vectors: apache/cassandra
// test/unit/org/apache/cassandra/utils/MurmurHashPropertyTest.java, knownTestVectors():
// hash3_x64_128({0x00}, seed 0)[0] = 5048724184180415669 and hash3_x64_128("Hello", seed 0)[0] =
// 3871253994707141660. Murmur3Partitioner's token is that first long (seed 0).
TEST(Murmur3, CassandraMurmurHashTestVectors) {
    EXPECT_EQ(murmur3_token(Bytes{0x00}), 5048724184180415669LL);
    EXPECT_EQ(murmur3_token(view("Hello")), 3871253994707141660LL);
}

// Tokens "from Cassandra" in the DataStax C# driver's test (datastax/csharp-driver
// src/Cassandra.Tests/TokenTests.cs, MurmurHashTest): a full block, and tails whose bytes are
// >= 0x80 (the sign-extension quirk).
TEST(Murmur3, DriverPublishedCassandraValues) {
    Bytes block;
    for (std::uint8_t b = 1; b <= 16; ++b) block.push_back(b);
    EXPECT_EQ(murmur3_token(block), -5563837382979743776LL);
    EXPECT_EQ(murmur3_token(Bytes(16, 0xFF)), -2824192546314762522LL);
    EXPECT_EQ(murmur3_token(Bytes(17, 0xFE)), -1672437813826982685LL);
    EXPECT_EQ(murmur3_token(Bytes{0xE2, 0xE7}), -8582699461035929883LL);
    EXPECT_EQ(murmur3_token(Bytes{0xE2, 0xE7, 0xE2, 0xE7, 0xE2, 0xE7, 0x01}), 2222373981930033306LL);
    EXPECT_EQ(murmur3_token(Bytes{0xFF, 0x01, 0x02, 0x03}), -2839127690952877842LL);
}

TEST(Murmur3, PublishedKnownValues) {
    EXPECT_EQ(murmur3_token(view("test")), -6017608668500074083LL);
    EXPECT_EQ(murmur3_token(view("xd")), 4507812186440344727LL);
    EXPECT_EQ(murmur3_token(view("primary_key")), -1632642444691073360LL);
}

// Cassandra's quirk: tail bytes are sign-extended. A plain MurmurHash3 gives a different token for
// a single 0xFF byte, so this catches an implementation that reads tail bytes as unsigned.
TEST(Murmur3, TailBytesAreSignExtended) {
    const Bytes ff{0xFF};
    EXPECT_EQ(murmur3_token(ff), -4442228696663692417LL);
    // 15 tail bytes, all >= 0x80: every tail position of both halves.
    Bytes tail15;
    for (std::uint8_t b = 0x80; b <= 0x8E; ++b) tail15.push_back(b);
    EXPECT_EQ(murmur3_token(tail15), 63099782945186636LL);
}

// Two full 16-byte blocks followed by a 1-byte tail; and exactly one block with no tail.
TEST(Murmur3, FullBlocksAndTail) {
    Bytes key33;
    for (int i = 0; i < 33; ++i) key33.push_back(static_cast<std::uint8_t>(0x80 + i));
    EXPECT_EQ(murmur3_token(key33), -7660497021261453191LL);
    EXPECT_EQ(murmur3_token(view("0123456789abcdef")), 5467490433528156583LL);
}

TEST(Murmur3, EmptyKeyIsMinimumToken) {
    EXPECT_EQ(murmur3_token(BytesView{}), std::numeric_limits<std::int64_t>::min());
}

// Composite keys: per component u16 BE length, bytes, 0x00.
TEST(Murmur3, CompositeRoutingKeyLayout) {
    const Bytes id{0x00, 0x00, 0x00, 0x01};
    Bytes key = composite_routing_key({BytesView(id), view("abc")});
    EXPECT_EQ(key, (Bytes{0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x03, 'a', 'b', 'c', 0x00}));
    EXPECT_EQ(murmur3_token(key), 8771735466527499816LL);

    const Bytes tail{0xFF, 0xFE};
    EXPECT_EQ(murmur3_token(composite_routing_key({view("key1"), BytesView(tail)})), -4248775053175943133LL);
}

TEST(Murmur3, SingleComponentIsUnwrapped) {
    Bytes key = composite_routing_key({view("test")});
    EXPECT_EQ(key, (Bytes{'t', 'e', 's', 't'}));
    EXPECT_EQ(murmur3_token(key), -6017608668500074083LL);
}

TEST(Murmur3, OversizedComponentIsRejected) {
    Bytes big(0x10000, 0x01);
    EXPECT_THROW(composite_routing_key({BytesView(big), view("x")}), ProtocolError);
}
