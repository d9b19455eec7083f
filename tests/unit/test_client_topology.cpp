// The pure topology layer: system.local / peers rows -> hosts (topology_reader), system_schema
// rows -> keyspaces (schema_reader), and replica placement on the token ring (token_map), checked
// against placements worked out by hand from Cassandra's SimpleStrategy and
// NetworkTopologyStrategy (locator/NetworkTopologyStrategy.java, calculateNaturalEndpoints).
#include "cluster/cluster_state.hpp"
#include "cluster/schema_reader.hpp"
#include "cluster/token_map.hpp"
#include "cluster/topology_reader.hpp"
#include "support/rows_builder.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>

using namespace async_cassandra;
using namespace async_cassandra::cluster;
using acass_test::RowsBuilder;

namespace {

DataTypePtr text() { return DataType::simple(TypeKind::varchar); }
DataTypePtr inet() { return DataType::simple(TypeKind::inet); }
DataTypePtr uuid() { return DataType::simple(TypeKind::uuid); }
DataTypePtr int_() { return DataType::simple(TypeKind::int_); }
DataTypePtr text_set() { return DataType::set_of(text()); }

using Tokens = std::set<std::string>;
const Uuid id1 = Uuid::parse("11111111-1111-1111-1111-111111111111");
const Uuid id2 = Uuid::parse("22222222-2222-2222-2222-222222222222");
const Uuid id3 = Uuid::parse("33333333-3333-3333-3333-333333333333");
const Uuid schema_a = Uuid::parse("aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa");

Page local_page() {
    return RowsBuilder()
        .column("key", text())
        .column("cluster_name", text())
        .column("partitioner", text())
        .column("data_center", text())
        .column("rack", text())
        .column("host_id", uuid())
        .column("release_version", text())
        .column("schema_version", uuid())
        .column("rpc_address", inet())
        .column("tokens", text_set())
        .row(std::string("local"), std::string("Test Cluster"), std::string("org.apache.cassandra.dht.Murmur3Partitioner"),
             std::string("dc1"), std::string("rack1"), id1, std::string("4.1.3"), schema_a, Inet::v4(0, 0, 0, 0),
             Tokens{"100", "-5"})
        .page();
}

RowsBuilder peers_v2_columns() {
    return RowsBuilder()
        .column("peer", inet())
        .column("peer_port", int_())
        .column("native_address", inet())
        .column("native_port", int_())
        .column("data_center", text())
        .column("rack", text())
        .column("host_id", uuid())
        .column("release_version", text())
        .column("schema_version", uuid())
        .column("tokens", text_set());
}

RowsBuilder peers_columns() {
    return RowsBuilder()
        .column("peer", inet())
        .column("data_center", text())
        .column("rack", text())
        .column("host_id", uuid())
        .column("rpc_address", inet())
        .column("tokens", text_set());
}

}  // namespace

TEST(TopologyReader, LocalAndPeersV2) {
    Page peers = peers_v2_columns()
                     .row(Inet::v4(10, 0, 0, 2), 7000, Inet::v4(192, 168, 0, 2), 9043, std::string("dc2"),
                          std::string("rack9"), id2, std::string("4.1.4"), schema_a, Tokens{"-9000000000000000000"})
                     .page();
    Topology t = read_topology(local_page(), peers, {"127.0.0.1", 9042}, 9042);
    EXPECT_EQ(t.cluster_name, "Test Cluster");
    EXPECT_EQ(t.partitioner, "org.apache.cassandra.dht.Murmur3Partitioner");
    ASSERT_EQ(t.hosts.size(), 2u);
    // The local node is where we connected, not its (unspecified) rpc_address.
    const HostInfo& local = t.hosts[0];
    EXPECT_EQ(local.endpoint(), "127.0.0.1:9042");
    EXPECT_EQ(local.datacenter, "dc1");
    EXPECT_EQ(local.rack, "rack1");
    EXPECT_EQ(local.host_id, "11111111-1111-1111-1111-111111111111");
    EXPECT_EQ(local.release_version, "4.1.3");
    EXPECT_EQ(local.schema_version, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa");
    EXPECT_EQ(local.tokens, (std::vector<std::int64_t>{-5, 100}));  // sorted numerically
    const HostInfo& peer = t.hosts[1];
    EXPECT_EQ(peer.endpoint(), "192.168.0.2:9043");  // native_address + native_port, not `peer`
    EXPECT_EQ(peer.datacenter, "dc2");
    EXPECT_EQ(peer.rack, "rack9");
    EXPECT_EQ(peer.host_id, "22222222-2222-2222-2222-222222222222");
    EXPECT_EQ(peer.release_version, "4.1.4");
    EXPECT_EQ(peer.tokens, (std::vector<std::int64_t>{-9000000000000000000LL}));
    EXPECT_TRUE(t.skipped.empty());
}

TEST(TopologyReader, PeersRpcAddressFallbacksAndIncompleteRows) {
    Page peers = peers_columns()
                     // rpc_address 0.0.0.0: the node listens everywhere, connect to `peer`.
                     .row(Inet::v4(10, 0, 0, 2), std::string("dc1"), std::string("r1"), id2, Inet::v4(0, 0, 0, 0),
                          Tokens{"1"})
                     // no rpc address at all
                     .row(Inet::v4(10, 0, 0, 3), std::string("dc1"), std::string("r1"), id3, std::nullopt, Tokens{"2"})
                     // no host id (a node still joining)
                     .row(Inet::v4(10, 0, 0, 4), std::string("dc1"), std::string("r1"), std::nullopt,
                          Inet::v4(10, 0, 0, 4), Tokens{"3"})
                     // no data center / no rack / no tokens
                     .row(Inet::v4(10, 0, 0, 5), std::nullopt, std::string("r1"), id3, Inet::v4(10, 0, 0, 5), Tokens{"4"})
                     .row(Inet::v4(10, 0, 0, 6), std::string("dc1"), std::nullopt, id3, Inet::v4(10, 0, 0, 6), Tokens{"5"})
                     .row(Inet::v4(10, 0, 0, 7), std::string("dc1"), std::string("r1"), id3, Inet::v4(10, 0, 0, 7), Tokens{})
                     // a token that is not a Murmur3 integer
                     .row(Inet::v4(10, 0, 0, 8), std::string("dc1"), std::string("r1"), id3, Inet::v4(10, 0, 0, 8),
                          Tokens{"abc"})
                     // the same endpoint twice
                     .row(Inet::v4(10, 0, 0, 9), std::string("dc1"), std::string("r1"), id3, Inet::v4(10, 0, 0, 2),
                          Tokens{"6"})
                     .page();
    Topology t = read_topology(local_page(), peers, {"127.0.0.1", 9042}, 9042);
    ASSERT_EQ(t.hosts.size(), 2u);
    EXPECT_EQ(t.hosts[1].endpoint(), "10.0.0.2:9042");
    EXPECT_EQ(t.hosts[1].tokens, (std::vector<std::int64_t>{1}));
    ASSERT_EQ(t.skipped.size(), 7u);
    EXPECT_NE(t.skipped[0].find("no rpc address"), std::string::npos) << t.skipped[0];
    EXPECT_NE(t.skipped[1].find("no host_id"), std::string::npos) << t.skipped[1];
    EXPECT_NE(t.skipped[2].find("no data_center"), std::string::npos) << t.skipped[2];
    EXPECT_NE(t.skipped[3].find("no rack"), std::string::npos) << t.skipped[3];
    EXPECT_NE(t.skipped[4].find("no tokens"), std::string::npos) << t.skipped[4];
    EXPECT_NE(t.skipped[5].find("Murmur3"), std::string::npos) << t.skipped[5];
    EXPECT_NE(t.skipped[6].find("twice"), std::string::npos) << t.skipped[6];
}

TEST(TopologyReader, AddressTranslatorAppliesToPeersOnly) {
    Page peers = peers_columns()
                     .row(Inet::v4(10, 0, 0, 2), std::string("dc1"), std::string("r1"), id2, Inet::v4(10, 0, 0, 2),
                          Tokens{"1"})
                     .page();
    AddressTranslator nat = [](const NodeAddress& a) {
        return NodeAddress{a.address == "10.0.0.2" ? "203.0.113.2" : a.address, static_cast<std::uint16_t>(a.port + 1)};
    };
    Topology t = read_topology(local_page(), peers, {"127.0.0.1", 9042}, 9042, nat);
    ASSERT_EQ(t.hosts.size(), 2u);
    EXPECT_EQ(t.hosts[0].endpoint(), "127.0.0.1:9042");
    EXPECT_EQ(t.hosts[1].endpoint(), "203.0.113.2:9043");
}

TEST(TopologyReader, WrongTypeInAPeerRowSkipsOnlyThatRow) {
    // rack sent as an int: the row cannot be read; the local node is still known.
    Page peers = RowsBuilder()
                     .column("peer", inet())
                     .column("rpc_address", inet())
                     .column("rack", int_())
                     .row(Inet::v4(10, 0, 0, 2), Inet::v4(10, 0, 0, 2), 3)
                     .page();
    Topology t = read_topology(local_page(), peers, {"127.0.0.1", 9042}, 9042);
    EXPECT_EQ(t.hosts.size(), 1u);
    EXPECT_EQ(t.skipped.size(), 1u);
}

TEST(TopologyReader, EmptyLocalIsAnError) {
    Page empty_local = RowsBuilder().column("key", text()).page();
    EXPECT_THROW(read_topology(empty_local, Page{}, {"127.0.0.1", 9042}, 9042), ProtocolError);
}

TEST(TopologyReader, OtherPartitionersKeepHostsWithoutTokens) {
    Page local = RowsBuilder()
                     .column("partitioner", text())
                     .column("tokens", text_set())
                     .row(std::string("org.apache.cassandra.dht.RandomPartitioner"),
                          Tokens{"170141183460469231731687303715884105727"})
                     .page();
    Topology t = read_topology(local, Page{}, {"::1", 9042}, 9042);
    ASSERT_EQ(t.hosts.size(), 1u);
    EXPECT_TRUE(t.hosts[0].tokens.empty());
    EXPECT_EQ(t.hosts[0].endpoint(), "[::1]:9042");
}

// ---------------------------------------------------------------- schema

TEST(SchemaReader, KeyspacesTablesAndKeysInOrder) {
    using Map = std::map<std::string, std::string>;
    Page keyspaces = RowsBuilder()
                         .column("keyspace_name", text())
                         .column("durable_writes", DataType::simple(TypeKind::boolean))
                         .column("replication", DataType::map_of(text(), text()))
                         .row(std::string("ks"), true,
                              Map{{"class", "org.apache.cassandra.locator.NetworkTopologyStrategy"}, {"dc1", "3"}})
                         .row(std::string("empty"), false, Map{{"class", "SimpleStrategy"}, {"replication_factor", "1"}})
                         .page();
    Page tables = RowsBuilder()
                      .column("keyspace_name", text())
                      .column("table_name", text())
                      .row(std::string("ks"), std::string("events"))
                      .row(std::string("gone"), std::string("t"))  // keyspace dropped between the reads
                      .page();
    RowsBuilder cols;
    cols.column("keyspace_name", text())
        .column("table_name", text())
        .column("column_name", text())
        .column("clustering_order", text())
        .column("kind", text())
        .column("position", int_())
        .column("type", text());
    auto col = [&](const char* name, const char* order, const char* kind, int pos, const char* type) {
        cols.row(std::string("ks"), std::string("events"), std::string(name), std::string(order), std::string(kind), pos,
                 std::string(type));
    };
    // Rows come sorted by name, as system_schema.columns clusters them; keys must be re-ordered.
    col("bucket", "none", "partition_key", 1, "int");
    col("day", "none", "partition_key", 0, "date");
    col("payload", "none", "regular", -1, "blob");
    col("seq", "asc", "clustering", 1, "bigint");
    col("shared", "none", "static", -1, "text");
    col("ts", "desc", "clustering", 0, "timestamp");
    col("a_col", "none", "regular", -1, "frozen<list<text>>");
    cols.row(std::string("ks"), std::string("nope"), std::string("x"), std::string("none"), std::string("regular"), -1,
             std::string("int"));  // table unknown: ignored
    KeyspaceMap schema = read_schema(keyspaces, tables, cols.page());

    ASSERT_EQ(schema.size(), 2u);
    const KeyspaceMetadata& ks = schema.at("ks");
    EXPECT_EQ(ks.replication.at("dc1"), "3");
    EXPECT_TRUE(ks.durable_writes);
    EXPECT_FALSE(schema.at("empty").durable_writes);
    EXPECT_TRUE(schema.at("empty").tables.empty());
    ASSERT_EQ(ks.tables.size(), 1u);
    const TableMetadata* t = ks.table("events");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->keyspace, "ks");
    auto names = [](const std::vector<ColumnMetadata>& v) {
        std::vector<std::string> out;
        for (const auto& c : v) out.push_back(c.name);
        return out;
    };
    EXPECT_EQ(names(t->partition_key), (std::vector<std::string>{"day", "bucket"}));
    EXPECT_EQ(names(t->clustering_key), (std::vector<std::string>{"ts", "seq"}));
    EXPECT_EQ(names(t->columns), (std::vector<std::string>{"day", "bucket", "ts", "seq", "shared", "a_col", "payload"}));
    EXPECT_EQ(t->clustering_key[0].clustering_order, "desc");
    EXPECT_EQ(t->partition_key[0].type, "date");
    ASSERT_NE(t->column("a_col"), nullptr);
    EXPECT_EQ(t->column("a_col")->type, "frozen<list<text>>");
    EXPECT_EQ(t->column("missing"), nullptr);
}

TEST(SchemaReader, MissingColumnIsAnError) {
    Page keyspaces = RowsBuilder().column("keyspace_name", text()).row(std::string("ks")).page();
    EXPECT_THROW(read_schema(keyspaces, Page{}, Page{}), ProtocolError);
}

// ---------------------------------------------------------------- token map

namespace {

HostInfo host(std::string address, std::vector<std::int64_t> tokens, std::string dc = "dc1", std::string rack = "r1") {
    HostInfo h;
    h.address = std::move(address);
    h.port = 9042;
    h.datacenter = std::move(dc);
    h.rack = std::move(rack);
    h.tokens = std::move(tokens);
    return h;
}

KeyspaceMap keyspace(std::string name, std::map<std::string, std::string> replication) {
    KeyspaceMap m;
    KeyspaceMetadata ks;
    ks.name = name;
    ks.replication = std::move(replication);
    m.emplace(std::move(name), std::move(ks));
    return m;
}

std::vector<std::string> list(std::span<const std::string> s) { return {s.begin(), s.end()}; }

const std::string A = "10.0.0.1:9042", B = "10.0.0.2:9042", C = "10.0.0.3:9042", D = "10.0.0.4:9042",
                  E = "10.0.0.5:9042", F = "10.0.0.6:9042";

}  // namespace

TEST(TokenMap, SimpleStrategyWalksTheRing) {
    std::vector<HostInfo> hosts{host("10.0.0.1", {-100}), host("10.0.0.2", {0}), host("10.0.0.3", {100})};
    auto map = TokenMap::build(hosts, keyspace("ks", {{"class", "org.apache.cassandra.locator.SimpleStrategy"},
                                                      {"replication_factor", "2"}}));
    EXPECT_EQ(list(map->replicas("ks", -150)), (std::vector{A, B}));
    EXPECT_EQ(list(map->replicas("ks", -100)), (std::vector{A, B}));  // a token owns itself
    EXPECT_EQ(list(map->replicas("ks", -99)), (std::vector{B, C}));
    EXPECT_EQ(list(map->replicas("ks", 50)), (std::vector{C, A}));
    EXPECT_EQ(list(map->replicas("ks", 101)), (std::vector{A, B}));  // wraps around
    EXPECT_EQ(map->primary_owner(101), A);
    EXPECT_TRUE(map->replicas("other", 0).empty());

    auto rf5 = TokenMap::build(hosts, keyspace("ks", {{"class", "SimpleStrategy"}, {"replication_factor", "5"}}));
    EXPECT_EQ(list(rf5->replicas("ks", 0)), (std::vector{B, C, A}));  // every node once
}

TEST(TokenMap, VnodesCountEachNodeOnce) {
    std::vector<HostInfo> hosts{host("10.0.0.1", {-100, 50}), host("10.0.0.2", {0}), host("10.0.0.3", {100})};
    auto map = TokenMap::build(hosts, keyspace("ks", {{"class", "SimpleStrategy"}, {"replication_factor", "2"}}));
    EXPECT_EQ(list(map->replicas("ks", 10)), (std::vector{A, C}));
    EXPECT_EQ(list(map->replicas("ks", -50)), (std::vector{B, A}));
    EXPECT_EQ(map->size(), 4u);
}

TEST(TokenMap, NetworkTopologyStrategySpreadsOverRacks) {
    // dc1: A r1, B r1, C r2, D r2; dc2: E r1, F r1. Ring: A0 E5 B10 F15 C20 D30.
    std::vector<HostInfo> hosts{host("10.0.0.1", {0}, "dc1", "r1"),  host("10.0.0.2", {10}, "dc1", "r1"),
                                host("10.0.0.3", {20}, "dc1", "r2"), host("10.0.0.4", {30}, "dc1", "r2"),
                                host("10.0.0.5", {5}, "dc2", "r1"),  host("10.0.0.6", {15}, "dc2", "r1")};
    auto map = TokenMap::build(hosts, keyspace("ks", {{"class", "org.apache.cassandra.locator.NetworkTopologyStrategy"},
                                                      {"dc1", "2"},
                                                      {"dc2", "1"}}));
    // From A: A (dc1 r1), E (dc2 done), B skipped (rack r1 used, no repeats allowed), C (r2).
    EXPECT_EQ(list(map->replicas("ks", 0)), (std::vector{A, E, C}));
    // From B: B (r1), F (dc2), C (r2).
    EXPECT_EQ(list(map->replicas("ks", 7)), (std::vector{B, F, C}));
    // From D (wraps): D (r2), A (r1), E (dc2).
    EXPECT_EQ(list(map->replicas("ks", 25)), (std::vector{D, A, E}));

    // More replicas than racks: one per rack first, then repeats in ring order.
    auto rf3 = TokenMap::build(hosts, keyspace("ks", {{"class", "NetworkTopologyStrategy"}, {"dc1", "3"}}));
    EXPECT_EQ(list(rf3->replicas("ks", 0)), (std::vector{A, B, C}));
    // From C: C (r2), D (repeat of r2 allowed: rf 3 - 2 racks = 1), A (r1).
    EXPECT_EQ(list(rf3->replicas("ks", 20)), (std::vector{C, D, A}));

    // More replicas than nodes: every node of the DC; a DC without nodes or factor 0 adds none.
    auto big = TokenMap::build(hosts, keyspace("ks", {{"class", "NetworkTopologyStrategy"},
                                                      {"dc2", "5"},
                                                      {"dc3", "2"},
                                                      {"dc1", "0"}}));
    EXPECT_EQ(list(big->replicas("ks", 0)), (std::vector{E, F}));
    // "full/transient" factors (Cassandra 4.0) count their full replicas.
    auto transient = TokenMap::build(hosts, keyspace("ks", {{"class", "NetworkTopologyStrategy"}, {"dc2", "1/1"}}));
    EXPECT_EQ(list(transient->replicas("ks", 0)), (std::vector{E}));
}

TEST(TokenMap, NetworkTopologyInvariantsOnARandomRing) {
    std::mt19937_64 rng(42);
    std::vector<HostInfo> hosts;
    for (int i = 0; i < 9; ++i) {
        std::vector<std::int64_t> tokens;
        for (int t = 0; t < 16; ++t) tokens.push_back(static_cast<std::int64_t>(rng()));
        hosts.push_back(host("10.0.1." + std::to_string(i + 1), tokens, i < 6 ? "dc1" : "dc2", "r" + std::to_string(i % 3)));
    }
    auto map = TokenMap::build(hosts, keyspace("ks", {{"class", "NetworkTopologyStrategy"}, {"dc1", "3"}, {"dc2", "2"}}));
    for (int i = 0; i < 2000; ++i) {
        auto replicas = list(map->replicas("ks", static_cast<std::int64_t>(rng())));
        ASSERT_EQ(replicas.size(), 5u);
        std::map<std::string, std::set<std::string>> racks_per_dc;
        std::set<std::string> distinct(replicas.begin(), replicas.end());
        EXPECT_EQ(distinct.size(), 5u);
        for (const auto& r : replicas) {
            const HostInfo* h = nullptr;
            for (const auto& x : hosts)
                if (x.endpoint() == r) h = &x;
            ASSERT_NE(h, nullptr);
            racks_per_dc[h->datacenter].insert(h->rack);
        }
        EXPECT_EQ(racks_per_dc["dc1"].size(), 3u);  // 3 racks in dc1: one replica per rack
        EXPECT_EQ(racks_per_dc["dc2"].size(), 2u);  // dc2 racks r0, r1, r2 (one node each)
    }
}

TEST(TokenMap, UnknownStrategiesAndEmptyRings) {
    std::vector<HostInfo> hosts{host("10.0.0.1", {0})};
    KeyspaceMap ks = keyspace("local", {{"class", "org.apache.cassandra.locator.LocalStrategy"}});
    ks.merge(keyspace("custom", {{"class", "com.example.MyStrategy"}, {"replication_factor", "3"}}));
    auto map = TokenMap::build(hosts, ks);
    EXPECT_TRUE(map->replicas("local", 0).empty());
    EXPECT_TRUE(map->replicas("custom", 0).empty());
    auto empty = TokenMap::build({host("10.0.0.1", {})}, keyspace("ks", {{"class", "SimpleStrategy"}, {"replication_factor", "1"}}));
    EXPECT_TRUE(empty->empty());
    EXPECT_TRUE(empty->replicas("ks", 0).empty());
    EXPECT_TRUE(empty->ranges().empty());
    EXPECT_EQ(empty->primary_owner(0), "");
}

TEST(TokenMap, RangesCoverTheRingWithTheirReplicas) {
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    std::vector<HostInfo> hosts{host("10.0.0.1", {-100}), host("10.0.0.2", {0}), host("10.0.0.3", {100})};
    auto map = TokenMap::build(hosts, keyspace("ks", {{"class", "SimpleStrategy"}, {"replication_factor", "2"}}));
    EXPECT_EQ(map->ranges(), (std::vector<OwnedRange>{{min, -100, {A}}, {-100, 0, {B}}, {0, 100, {C}}, {100, max, {A}}}));
    EXPECT_EQ(map->ranges("ks"),
              (std::vector<OwnedRange>{{min, -100, {A, B}}, {-100, 0, {B, C}}, {0, 100, {C, A}}, {100, max, {A, B}}}));
    // A token at INT64_MAX: no empty (max, max] range.
    auto edge = TokenMap::build({host("10.0.0.1", {max})}, {});
    EXPECT_EQ(edge->ranges(), (std::vector<OwnedRange>{{min, max, {A}}}));
}

TEST(ClusterMetadata, RingTokensAreEveryNodesSortedOrNoneWhenOneIsUnknown) {
    ClusterMetadata meta;
    EXPECT_TRUE(meta.ring_tokens().empty());
    meta.hosts = {host("10.0.0.1", {100, -5}), host("10.0.0.2", {7, -5}), host("10.0.0.3", {0})};
    EXPECT_EQ(meta.ring_tokens(), (std::vector<std::int64_t>{-5, 0, 7, 100}));
    meta.hosts.push_back(host("10.0.0.4", {}));  // a node whose tokens are unknown
    EXPECT_TRUE(meta.ring_tokens().empty());
}

TEST(ClusterState, HolderSwapsSnapshots) {
    ClusterStateHolder holder;
    ClusterStatePtr first = holder.load();
    ASSERT_NE(first, nullptr);
    ASSERT_NE(first->token_map, nullptr);
    EXPECT_EQ(first->generation, 0u);
    ClusterMetadata meta;
    meta.hosts = {host("10.0.0.1", {0})};
    meta.keyspaces = keyspace("ks", {{"class", "SimpleStrategy"}, {"replication_factor", "1"}});
    holder.store(ClusterState::make(meta, 1));
    ClusterStatePtr second = holder.load();
    EXPECT_EQ(second->generation, 1u);
    EXPECT_EQ(list(second->token_map->replicas("ks", 5)), (std::vector{A}));
    EXPECT_EQ(second->metadata.host(A)->datacenter, "dc1");
    EXPECT_EQ(second->metadata.table("ks", "none"), nullptr);
    EXPECT_TRUE(first->metadata.hosts.empty());  // the old snapshot is unchanged
}
