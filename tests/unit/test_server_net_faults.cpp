// Fault rules of acass-server: the --fault syntax and which requests a rule fires on.
#include "server/net/faults.hpp"

#include <gtest/gtest.h>

namespace {

namespace net = async_cassandra::server::net;
using async_cassandra::ServerErrorCode;
using net::FaultKind;

TEST(ServerNetFaults, ParseSpecs) {
    auto r = net::parse_fault("error=read_timeout,nth=3,node=2,pattern=FROM ks.t, x");
    EXPECT_EQ(r.kind, FaultKind::error);
    EXPECT_EQ(r.error_code, ServerErrorCode::read_timeout);
    EXPECT_EQ(r.nth, 3);
    EXPECT_EQ(r.node, 2);
    EXPECT_EQ(r.pattern, "FROM ks.t, x");  // the pattern takes the rest, commas included

    auto d = net::parse_fault("delay=7");
    EXPECT_EQ(d.kind, FaultKind::delay);
    EXPECT_EQ(d.delay.count(), 7);
    EXPECT_TRUE(d.pattern.empty());

    auto dp = net::parse_fault("drop_after_pages=4,fraction=0.25");
    EXPECT_EQ(dp.kind, FaultKind::drop_after_pages);
    EXPECT_EQ(dp.pages, 4);
    EXPECT_DOUBLE_EQ(dp.fraction, 0.25);

    EXPECT_EQ(net::parse_fault("stall").kind, FaultKind::stall);
    EXPECT_EQ(net::parse_fault("wrong_stream").kind, FaultKind::wrong_stream);
    EXPECT_EQ(net::parse_fault("corrupt_frame").kind, FaultKind::corrupt_frame);
    EXPECT_EQ(net::parse_fault("drop_mid_frame").kind, FaultKind::drop_mid_frame);
    EXPECT_EQ(net::parse_fault("error=unavailable").error_code, ServerErrorCode::unavailable);
    EXPECT_EQ(net::parse_fault("error=write_timeout").error_code, ServerErrorCode::write_timeout);
    EXPECT_EQ(net::parse_fault("error=is_bootstrapping").error_code, ServerErrorCode::is_bootstrapping);

    auto rt = net::parse_fault("error=read_timeout,received=2,block_for=2,data_present=1");
    EXPECT_EQ(rt.received, 2);
    EXPECT_EQ(rt.block_for, 2);
    EXPECT_TRUE(rt.data_present);
    auto defaults = net::parse_fault("error=read_timeout");
    EXPECT_EQ(defaults.received, 0);
    EXPECT_EQ(defaults.block_for, 1);
    EXPECT_FALSE(defaults.data_present);
    EXPECT_EQ(net::parse_fault("error=write_timeout,blockfor=3").block_for, 3);
    EXPECT_EQ(net::parse_fault("error=write_timeout,write_type=BATCH_LOG").write_type, "BATCH_LOG");
    EXPECT_THROW(net::parse_fault("error=read_timeout,data_present=yes"), async_cassandra::UsageError);
    EXPECT_THROW(net::parse_fault("error=read_timeout,received=-1"), async_cassandra::UsageError);

    EXPECT_THROW(net::parse_fault(""), async_cassandra::UsageError);
    EXPECT_THROW(net::parse_fault("explode"), async_cassandra::UsageError);
    EXPECT_THROW(net::parse_fault("error=nonsense"), async_cassandra::UsageError);
    EXPECT_THROW(net::parse_fault("delay=abc"), async_cassandra::UsageError);
    EXPECT_THROW(net::parse_fault("stall,colour=red"), async_cassandra::UsageError);
}

TEST(ServerNetFaults, NthFiresOnceOnMatchingRequestsOnly) {
    net::FaultInjector f;
    auto i = f.add(net::parse_fault("error=overloaded,nth=2,pattern=users"));
    EXPECT_FALSE(f.decide(1, "SELECT * FROM users").action);
    EXPECT_FALSE(f.decide(1, "SELECT * FROM other").action);  // not counted: no match
    auto d = f.decide(1, "SELECT * FROM users");
    ASSERT_TRUE(d.action);
    EXPECT_EQ(*d.action, FaultKind::error);
    EXPECT_EQ(d.error_code, ServerErrorCode::overloaded);
    EXPECT_FALSE(f.decide(1, "SELECT * FROM users").action);
    EXPECT_EQ(f.hits(i), 1);
}

TEST(ServerNetFaults, NodeFilterMaxHitsAndDelaysAdd) {
    net::FaultInjector f;
    f.add(net::parse_fault("stall,node=2,max_hits=1"));
    f.add(net::parse_fault("delay=5"));
    f.add(net::parse_fault("delay=7"));
    f.add(net::parse_fault("delay_pages=11"));
    auto one = f.decide(1, "q");
    EXPECT_FALSE(one.action);
    EXPECT_EQ(one.delay.count(), 12);
    EXPECT_EQ(one.page_delay.count(), 11);
    EXPECT_EQ(f.decide(2, "q").action, FaultKind::stall);
    EXPECT_FALSE(f.decide(2, "q").action);  // max_hits reached
    f.clear();
    EXPECT_TRUE(f.empty());
    EXPECT_EQ(f.decide(1, "q").delay.count(), 0);
}

TEST(ServerNetFaults, DropAfterPagesCountsPages) {
    net::FaultInjector f;
    f.add(net::parse_fault("drop_after_pages=2"));
    auto d = f.decide(1, "SELECT");
    ASSERT_GE(d.page_rule, 0);
    EXPECT_TRUE(f.allow_page(d.page_rule));
    EXPECT_TRUE(f.allow_page(d.page_rule));
    EXPECT_FALSE(f.allow_page(d.page_rule));
}

TEST(ServerNetFaults, FractionIsRoughlyRespected) {
    net::FaultInjector f;
    f.add(net::parse_fault("error=overloaded,fraction=0.3"));
    int fired = 0;
    for (int i = 0; i < 10000; ++i)
        if (f.decide(1, "q").action) ++fired;
    EXPECT_GT(fired, 2500);
    EXPECT_LT(fired, 3500);
}

}  // namespace
