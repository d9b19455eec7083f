// Stream ids (native_protocol_v4.spec 2.3: ids are i16, negative ids are server events) and the
// in-flight table with orphans.
#include "net/stream_ids.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace async_cassandra::net;

TEST(StreamIdAllocator, AllocatesLowestFreeAndAllNonNegative) {
    StreamIdAllocator ids;
    EXPECT_EQ(ids.capacity(), 32768u);
    std::set<std::int16_t> seen;
    for (std::size_t i = 0; i < kMaxStreamIds; ++i) {
        auto id = ids.allocate();
        ASSERT_TRUE(id);
        ASSERT_GE(*id, 0);
        ASSERT_TRUE(seen.insert(*id).second);
    }
    EXPECT_FALSE(ids.allocate());
    EXPECT_EQ(ids.available(), 0u);
    EXPECT_TRUE(ids.release(1234));
    EXPECT_FALSE(ids.release(1234));  // double free ignored
    EXPECT_EQ(ids.allocate(), std::int16_t{1234});
}

TEST(StreamIdAllocator, SmallCapacityRespectsBound) {
    StreamIdAllocator ids(70);
    for (int i = 0; i < 70; ++i) ASSERT_EQ(ids.allocate(), static_cast<std::int16_t>(i));
    EXPECT_FALSE(ids.allocate());
    EXPECT_FALSE(ids.release(70));
    EXPECT_FALSE(ids.release(-1));
    EXPECT_TRUE(ids.release(3));
    EXPECT_EQ(ids.allocate(), std::int16_t{3});
    EXPECT_THROW(StreamIdAllocator(0), std::invalid_argument);
    EXPECT_THROW(StreamIdAllocator(kMaxStreamIds + 1), std::invalid_argument);
}

TEST(InFlightTable, DeliversToTheRegisteredWaiter) {
    InFlightTable<int> t(8);
    auto a = t.insert(100);
    auto b = t.insert(200);
    ASSERT_TRUE(a && b);
    auto cb = t.complete(*b);
    EXPECT_EQ(cb.outcome, InFlightTable<int>::Outcome::delivered);
    EXPECT_EQ(cb.pending, 200);
    EXPECT_EQ(t.pending(), 1u);
    EXPECT_EQ(t.complete(*b).outcome, InFlightTable<int>::Outcome::unknown);  // duplicate response
    EXPECT_EQ(t.complete(-1).outcome, InFlightTable<int>::Outcome::unknown);
}

TEST(InFlightTable, OrphanedIdIsNotReusedUntilItsLateResponse) {
    InFlightTable<int> t(2);
    auto a = t.insert(1);
    auto b = t.insert(2);
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(t.orphan(*a));
    EXPECT_FALSE(t.orphan(*a));
    EXPECT_EQ(t.orphans(), 1u);
    EXPECT_EQ(t.pending(), 1u);
    // The orphaned id is still reserved: no id for a new request.
    EXPECT_FALSE(t.insert(3));
    // The late response is dropped and frees the id.
    auto late = t.complete(*a);
    EXPECT_EQ(late.outcome, InFlightTable<int>::Outcome::orphan);
    EXPECT_FALSE(late.pending);
    EXPECT_EQ(t.orphans(), 0u);
    auto c = t.insert(3);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, *a);
    // The newer request on the reused id gets its own response only.
    auto cc = t.complete(*c);
    EXPECT_EQ(cc.outcome, InFlightTable<int>::Outcome::delivered);
    EXPECT_EQ(cc.pending, 3);
}

TEST(InFlightTable, TakeAllReturnsWaitersAndClearsOrphans) {
    InFlightTable<int> t(16);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.insert(i));
    t.orphan(0);
    t.orphan(5);
    auto all = t.take_all();
    EXPECT_EQ(all.size(), 8u);
    EXPECT_EQ(t.in_use(), 0u);
    EXPECT_EQ(t.orphans(), 0u);
    EXPECT_EQ(t.available(), 16u);
}
