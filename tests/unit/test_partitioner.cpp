// Routing keys and tokens of bound statements (protocol/partitioner.hpp): the partition key
// values picked by the PREPARED result's pk indexes, composite keys serialized as Cassandra's
// CompositeType (u16 BE length, bytes, 0x00 per component).
#include "protocol/partitioner.hpp"

#include "protocol/murmur3.hpp"

#include <gtest/gtest.h>

#include <string_view>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

namespace {
BytesView view(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
ValueView value(std::string_view s) { return {ValueView::Kind::value, view(s)}; }
}  // namespace

TEST(Partitioner, SingleColumnKeyIsTheValueItself) {
    std::vector<ValueView> values{value("ignored"), value("test")};
    std::vector<std::uint16_t> pk{1};
    EXPECT_EQ(routing_key(values, pk), (Bytes{'t', 'e', 's', 't'}));
    // PROTOCOL-NOTES.md known value for "test".
    EXPECT_EQ(routing_token(values, pk), -6017608668500074083LL);
}

TEST(Partitioner, CompositeKeyFollowsPkIndexOrderNotBindOrder) {
    const Bytes id{0x00, 0x00, 0x00, 0x01};
    // Bind markers: (name, id); partition key (id, name) -> indexes {1, 0}.
    std::vector<ValueView> values{value("abc"), {ValueView::Kind::value, BytesView(id)}};
    std::vector<std::uint16_t> pk{1, 0};
    auto key = routing_key(values, pk);
    ASSERT_TRUE(key);
    EXPECT_EQ(*key, (Bytes{0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x03, 'a', 'b', 'c', 0x00}));
    EXPECT_EQ(routing_token(values, pk), murmur3_token(*key));
}

TEST(Partitioner, UnknownKeys) {
    std::vector<ValueView> values{value("a"), {ValueView::Kind::null, {}}, {ValueView::Kind::unset, {}}};
    EXPECT_FALSE(routing_key(values, std::vector<std::uint16_t>{}));      // no pk indexes (e.g. unprepared)
    EXPECT_FALSE(routing_key(values, std::vector<std::uint16_t>{3}));     // index past the values
    EXPECT_FALSE(routing_key(values, std::vector<std::uint16_t>{1}));     // null
    EXPECT_FALSE(routing_key(values, std::vector<std::uint16_t>{0, 2}));  // unset component
    // routing_token's one-column path (no key copy) refuses the same keys.
    EXPECT_FALSE(routing_token(values, std::vector<std::uint16_t>{1}));  // null
    EXPECT_FALSE(routing_token(values, std::vector<std::uint16_t>{2}));  // unset
    EXPECT_FALSE(routing_token(values, std::vector<std::uint16_t>{3}));  // index past the values
    const Bytes big(0x10000, 0x01);
    std::vector<ValueView> large{{ValueView::Kind::value, BytesView(big)}, value("x")};
    EXPECT_FALSE(routing_key(large, std::vector<std::uint16_t>{0, 1}));  // too long for CompositeType
    EXPECT_TRUE(routing_key(large, std::vector<std::uint16_t>{0}));      // fine as a single key
}
