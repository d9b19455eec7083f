// Engine: replica placement (SimpleStrategy, NetworkTopologyStrategy with racks, as Cassandra's
// calculateNaturalReplicas walks the ring) and Engine::route (the one partition a request touches).
#include "test_server_engine_util.hpp"

#include "protocol/murmur3.hpp"
#include "server/engine/replica_placement.hpp"

using namespace engine_test;

namespace {

NodeInfo node(int id, std::string dc, std::string rack, std::vector<std::int64_t> tokens) {
    NodeInfo n;
    n.id = id;
    n.address = "127.0.0." + std::to_string(id);
    n.data_center = std::move(dc);
    n.rack = std::move(rack);
    n.tokens = std::move(tokens);
    return n;
}

using Repl = std::map<std::string, std::string>;
const std::string kSimple = "org.apache.cassandra.locator.SimpleStrategy";
const std::string kNts = "org.apache.cassandra.locator.NetworkTopologyStrategy";

TEST(ServerPlacement, SimpleStrategyWalksTheRingFromTheFirstTokenAtOrAfter) {
    ClusterView v;
    v.nodes = {node(1, "datacenter1", "rack1", {-100}), node(2, "datacenter1", "rack1", {0}),
               node(3, "datacenter1", "rack1", {100})};
    ReplicaPlacement p(v);
    Repl rf2{{"class", kSimple}, {"replication_factor", "2"}};
    EXPECT_EQ(p.replicas(rf2, 50, 1), (std::vector<int>{3, 1}));
    EXPECT_EQ(p.replicas(rf2, 100, 1), (std::vector<int>{3, 1}));   // a token owns itself
    EXPECT_EQ(p.replicas(rf2, 101, 1), (std::vector<int>{1, 2}));   // past the last: wraps
    EXPECT_EQ(p.replicas(rf2, -1000, 1), (std::vector<int>{1, 2}));
    // Short class name, RF above the node count, RF 0.
    EXPECT_EQ(p.replicas({{"class", "SimpleStrategy"}, {"replication_factor", "5"}}, 0, 1), (std::vector<int>{2, 3, 1}));
    EXPECT_TRUE(p.replicas({{"class", kSimple}, {"replication_factor", "0"}}, 0, 1).empty());
    EXPECT_TRUE(p.replicas({{"class", kSimple}}, 0, 1).empty());
    EXPECT_EQ(p.replicas({{"class", "org.apache.cassandra.locator.LocalStrategy"}}, 0, 2), (std::vector<int>{2}));
    EXPECT_EQ(p.replicas({{"class", "EverywhereStrategy"}}, 0, 2), (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(p.replicas({{"class", "NoSuchStrategy"}}, 0, 2).empty());
}

TEST(ServerPlacement, RangeReplicasAreTheNodesCommonToEveryPartOfTheRange) {
    ClusterView v;
    v.nodes = {node(1, "datacenter1", "rack1", {-100}), node(2, "datacenter1", "rack1", {0}),
               node(3, "datacenter1", "rack1", {100})};
    ReplicaPlacement p(v);
    Repl rf1{{"class", kSimple}, {"replication_factor", "1"}};
    Repl rf2{{"class", kSimple}, {"replication_factor", "2"}};
    EXPECT_EQ(p.range_replicas(rf1, -99, 0, 1), (std::vector<int>{2}));  // (-100, 0]: node 2's range
    EXPECT_EQ(p.range_replicas(rf1, -50, -50, 1), (std::vector<int>{2}));
    EXPECT_TRUE(p.range_replicas(rf1, -99, 1, 1).empty());                 // one token into node 3's
    EXPECT_EQ(p.range_replicas(rf1, 101, 1000, 1), (std::vector<int>{1}));  // past the last: wraps
    EXPECT_EQ(p.range_replicas(rf2, -50, 50, 1), (std::vector<int>{3}));   // {2,3} and {3,1}
    EXPECT_EQ(p.range_replicas({{"class", "EverywhereStrategy"}}, -1000, 1000, 2), (std::vector<int>{1, 2, 3}));
}

TEST(ServerPlacement, SimpleStrategyWithVnodesSkipsRepeatedNodes) {
    ClusterView v;
    v.nodes = {node(1, "datacenter1", "rack1", {0, 10}), node(2, "datacenter1", "rack1", {20}),
               node(3, "datacenter1", "rack1", {30})};
    ReplicaPlacement p(v);
    EXPECT_EQ(p.replicas({{"class", kSimple}, {"replication_factor", "2"}}, -5, 1), (std::vector<int>{1, 2}));
}

TEST(ServerPlacement, NetworkTopologyStrategyPrefersDistinctRacks) {
    // Ring: 0 n1(dc1,r1)  5 n4(dc2,r1)  10 n2(dc1,r1)  15 n5(dc2,r1)  20 n3(dc1,r2)
    ClusterView v;
    v.nodes = {node(1, "dc1", "rack1", {0}), node(2, "dc1", "rack1", {10}), node(3, "dc1", "rack2", {20}),
               node(4, "dc2", "rack1", {5}), node(5, "dc2", "rack1", {15})};
    ReplicaPlacement p(v);
    // dc1: 2 racks for RF 2, so n2 (a second node of rack1) is passed over for n3 (rack2).
    EXPECT_EQ(p.replicas({{"class", kNts}, {"dc1", "2"}, {"dc2", "1"}}, -5, 1), (std::vector<int>{1, 4, 3}));
    // RF 3 with 2 racks: one rack repeat is allowed, taken by the first node met (n2).
    EXPECT_EQ(p.replicas({{"class", kNts}, {"dc1", "3"}, {"dc2", "1"}}, -5, 1), (std::vector<int>{1, 4, 2, 3}));
    // Starting elsewhere on the ring.
    EXPECT_EQ(p.replicas({{"class", kNts}, {"dc1", "2"}}, 12, 1), (std::vector<int>{3, 1}));
    // RF above the data center's size: every node of it; one rack means repeats are needed.
    EXPECT_EQ(p.replicas({{"class", kNts}, {"dc2", "5"}}, 0, 1), (std::vector<int>{4, 5}));
    // A bare replication_factor applies to every data center (Cassandra 4.0+ expansion).
    EXPECT_EQ(p.replicas({{"class", kNts}, {"replication_factor", "1"}}, -5, 1), (std::vector<int>{1, 4}));
    // Unknown data centers and RF 0 place nothing.
    EXPECT_TRUE(p.replicas({{"class", kNts}, {"dcX", "3"}}, 0, 1).empty());
    EXPECT_EQ(p.replicas({{"class", kNts}, {"dc1", "0"}, {"dc2", "2"}}, 0, 1), (std::vector<int>{4, 5}));
}

Bytes composite(std::int32_t a, std::string_view b) {
    Bytes ab = i32(a), bb = txt(b);
    return protocol::composite_routing_key({BytesView(ab), BytesView(bb)});
}

struct RouteHarness : Harness {
    RouteHarness() {
        ok("CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}");
        ok("CREATE TABLE ks.t (a int, b text, c int, v int, PRIMARY KEY ((a, b), c))");
        ok("CREATE TABLE ks.s (k int PRIMARY KEY, v int)");
    }
    std::optional<PartitionRoute> route_of(std::string_view cql, std::vector<ValueView> values = {}) {
        protocol::QueryRequest q;
        q.query = cql;
        q.params.values = std::move(values);
        return checked_route(protocol::Request{q});
    }
    /// route(), checked against the route execute() reports with the request it runs (the
    /// front end's path when no fault is set), on a copy of the connection state.
    std::optional<PartitionRoute> checked_route(const protocol::Request& request) {
        auto routed = engine.route(request, state);
        ConnectionState scratch = state;
        std::optional<PartitionRoute> executed;
        engine.execute(request, scratch, &executed);
        EXPECT_EQ(executed.has_value(), routed.has_value());
        if (routed && executed) {
            EXPECT_EQ(executed->keyspace, routed->keyspace);
            EXPECT_EQ(executed->token, routed->token);
            EXPECT_EQ(executed->range_end, routed->range_end);
            EXPECT_TRUE(executed->replication && routed->replication);
            if (executed->replication && routed->replication) {
                EXPECT_EQ(*executed->replication, *routed->replication);
            }
        }
        return routed;
    }
};

TEST(ServerRoute, SinglePartitionStatementsHaveTheirKeyspaceAndToken) {
    RouteHarness h;
    const std::int64_t token = protocol::murmur3_token(composite(7, "x"));
    for (const char* cql : {"SELECT * FROM ks.t WHERE a = 7 AND b = 'x'",
                            "SELECT v FROM ks.t WHERE a = 7 AND b = 'x' AND c > 3",
                            "INSERT INTO ks.t (c, b, a, v) VALUES (1, 'x', 7, 2)",
                            "UPDATE ks.t SET v = 1 WHERE a = 7 AND b = 'x' AND c = 1",
                            "DELETE FROM ks.t WHERE a = 7 AND b = 'x'",
                            "BEGIN BATCH INSERT INTO ks.t (a, b, c) VALUES (7, 'x', 1); "
                            "DELETE FROM ks.t WHERE a = 7 AND b = 'x' AND c = 2; APPLY BATCH"}) {
        auto r = h.route_of(cql);
        ASSERT_TRUE(r) << cql;
        EXPECT_EQ(r->keyspace, "ks") << cql;
        EXPECT_EQ(r->token, token) << cql;
        EXPECT_EQ(r->replication->at("dc1"), "2");
    }
    // Bound values, and the connection's keyspace.
    Bytes a = i32(7), b = txt("x");
    h.ok("USE ks");
    h.state.keyspace = "ks";
    auto r = h.route_of("SELECT * FROM t WHERE a = ? AND b = ?", {view(a), view(b)});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->token, token);
    Bytes k = i32(5);
    r = h.route_of("SELECT * FROM s WHERE k = ?", {view(k)});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->token, protocol::murmur3_token(k));
}

TEST(ServerRoute, MultiPartitionOrInvalidRequestsHaveNone) {
    RouteHarness h;
    for (const char* cql : {"SELECT * FROM ks.t",
                            "SELECT * FROM ks.t WHERE a = 7 AND b IN ('x', 'y')",
                            "SELECT * FROM ks.s WHERE token(k) > 5 AND token(k) <= 5",  // empty range
                            "SELECT * FROM ks.t WHERE a = 7 ALLOW FILTERING",
                            "BEGIN BATCH INSERT INTO ks.t (a, b, c) VALUES (7, 'x', 1); "
                            "INSERT INTO ks.t (a, b, c) VALUES (8, 'x', 1); APPLY BATCH",
                            "SELECT * FROM ks.nosuch WHERE k = 1", "INSERT INTO ks.s (v) VALUES (1)", "not cql",
                            "CREATE TABLE ks.u (k int PRIMARY KEY)", "USE ks"}) {
        EXPECT_FALSE(h.route_of(cql)) << cql;
    }
    // Wrong number of bound values: the request fails, nothing to count.
    EXPECT_FALSE(h.route_of("SELECT * FROM ks.s WHERE k = ?"));
}

TEST(ServerRoute, TokenRangeReadsHaveTheirRange) {
    RouteHarness h;
    auto r = h.route_of("SELECT * FROM ks.s WHERE token(k) > -10 AND token(k) <= 20");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->keyspace, "ks");
    EXPECT_EQ(r->token, -9);
    ASSERT_TRUE(r->range_end);
    EXPECT_EQ(*r->range_end, 20);
    r = h.route_of("SELECT k FROM ks.s WHERE token(k) > 0");
    ASSERT_TRUE(r && r->range_end);
    EXPECT_EQ(r->token, 1);
    EXPECT_EQ(*r->range_end, std::numeric_limits<std::int64_t>::max());
    Bytes lo = i64(-5), hi = i64(5);
    r = h.route_of("SELECT * FROM ks.s WHERE token(k) > ? AND token(k) <= ?", {view(lo), view(hi)});
    ASSERT_TRUE(r && r->range_end);
    EXPECT_EQ(r->token, -4);
    EXPECT_EQ(*r->range_end, 5);
    // A single partition has no range.
    EXPECT_FALSE(h.route_of("SELECT * FROM ks.s WHERE k = 1")->range_end);
}

TEST(ServerRoute, PreparedAndBatchRequests) {
    RouteHarness h;
    protocol::PrepareRequest prep;
    prep.query = "INSERT INTO ks.s (k, v) VALUES (?, ?)";
    auto prepared = h.engine.execute(protocol::Request{prep}, h.state);
    auto id = std::get<protocol::PreparedResult>(std::get<protocol::ResultResponse>(prepared.response)).id;
    Bytes k1 = i32(1), k2 = i32(2), v = i32(0);

    protocol::ExecuteRequest e;
    e.id = id;
    e.params.values = {view(k1), view(v)};
    auto r = h.checked_route(protocol::Request{e});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->token, protocol::murmur3_token(k1));
    // Another node has not seen the PREPARE: it answers UNPREPARED, no partition.
    ConnectionState other = h.state;
    other.node_id = 2;
    EXPECT_FALSE(h.engine.route(protocol::Request{e}, other));

    protocol::BatchRequest b;
    protocol::BatchStatement s1;
    s1.is_prepared = true;
    s1.id = id;
    s1.values = {view(k1), view(v)};
    protocol::BatchStatement s2;
    s2.query = "UPDATE ks.s SET v = 3 WHERE k = 1";
    b.statements = {s1, s2};
    r = h.checked_route(protocol::Request{b});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->token, protocol::murmur3_token(k1));
    b.statements[1].query = "UPDATE ks.s SET v = 3 WHERE k = 2";
    EXPECT_FALSE(h.checked_route(protocol::Request{b}));
    // A prepared SELECT's route comes from the plan it is executed with.
    prep.query = "SELECT v FROM ks.s WHERE k = ?";
    prepared = h.engine.execute(protocol::Request{prep}, h.state);
    e.id = std::get<protocol::PreparedResult>(std::get<protocol::ResultResponse>(prepared.response)).id;
    e.params.values = {view(k2)};
    r = h.checked_route(protocol::Request{e});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->token, protocol::murmur3_token(k2));
}

}  // namespace
