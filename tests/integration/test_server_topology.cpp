// acass-server topology: data centers and racks as system.local / peers_v2 / peers report them,
// token allocation per data center, and the per-node replica / non-replica request counters that
// tests of token-aware routing read (NodeStats, the `stats N` control command).
#include "server/net/cluster.hpp"
#include "protocol/murmur3.hpp"
#include "test_server_raw_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace {

using namespace acass_test;
namespace net = async_cassandra::server::net;
using p::ProtocolVersion;

std::unique_ptr<net::Cluster> start_cluster(net::ClusterOptions o) {
    o.port = 0;
    auto c = std::make_unique<net::Cluster>(std::move(o));
    c->start();
    return c;
}

using Cells = std::vector<std::optional<p::Bytes>>;

/// Rows of a Rows result, as raw cells.
std::vector<Cells> rows_of(const Received& r) {
    const auto& rows = std::get<p::RowsResult>(as<p::ResultResponse>(r));
    std::vector<Cells> out;
    p::ByteReader in(rows.rows_content);
    for (std::int32_t i = 0; i < rows.row_count; ++i) {
        Cells row;
        for (std::int32_t c = 0; c < rows.metadata.column_count; ++c) {
            auto v = in.read_bytes();
            row.push_back(v ? std::optional<p::Bytes>(p::Bytes(v->begin(), v->end())) : std::nullopt);
        }
        out.push_back(std::move(row));
    }
    return out;
}

std::string text(const std::optional<p::Bytes>& b) { return b ? std::string(b->begin(), b->end()) : "<null>"; }

std::vector<Cells> select(RawClient& c, std::string_view cql) {
    c.send(ProtocolVersion::v4, 5, query(cql));
    return rows_of(c.read());
}

TEST(ServerTopology, DataCentersAndRacksInSystemTables) {
    net::ClusterOptions o;
    o.nodes = 3;
    o.datacenters = 2;
    o.racks = 2;
    auto cluster = start_cluster(o);
    ASSERT_EQ(cluster->node_count(), 6);
    EXPECT_EQ(cluster->address(6), "127.0.0.6");
    // Node i: dc ((i-1)/3)+1, rack ((i-1)%3 % 2)+1.
    const std::map<int, std::pair<std::string, std::string>> expected = {
        {1, {"dc1", "rack1"}}, {2, {"dc1", "rack2"}}, {3, {"dc1", "rack1"}},
        {4, {"dc2", "rack1"}}, {5, {"dc2", "rack2"}}, {6, {"dc2", "rack1"}}};

    for (int id : {1, 5}) {
        RawClient c(cluster->address(id), cluster->port());
        c.startup(ProtocolVersion::v4);
        auto local = select(c, "SELECT data_center, rack, rpc_address FROM system.local WHERE key = 'local'");
        ASSERT_EQ(local.size(), 1u);
        EXPECT_EQ(text(local[0][0]), expected.at(id).first);
        EXPECT_EQ(text(local[0][1]), expected.at(id).second);
        EXPECT_EQ(local[0][2], (p::Bytes{127, 0, 0, static_cast<std::uint8_t>(id)}));
        for (const char* table : {"system.peers_v2", "system.peers"}) {
            auto peers = select(c, std::string("SELECT peer, data_center, rack FROM ") + table);
            ASSERT_EQ(peers.size(), 5u) << table;
            std::set<int> seen;
            for (const auto& row : peers) {
                ASSERT_TRUE(row[0] && row[0]->size() == 4);
                int peer = (*row[0])[3];
                seen.insert(peer);
                EXPECT_EQ(text(row[1]), expected.at(peer).first) << table << " peer " << peer;
                EXPECT_EQ(text(row[2]), expected.at(peer).second) << table << " peer " << peer;
            }
            EXPECT_FALSE(seen.count(id)) << table;
        }
    }

    // Each data center's tokens cover the ring evenly (each owns a sixth, offset per DC), so
    // both rings alternate: no two consecutive ring tokens belong to the same data center.
    std::vector<std::pair<std::int64_t, std::string>> ring;
    for (const auto& n : cluster->view().nodes) {
        EXPECT_EQ(n.data_center, expected.at(n.id).first);
        EXPECT_EQ(n.rack, expected.at(n.id).second);
        for (auto t : n.tokens) ring.emplace_back(t, n.data_center);
    }
    std::sort(ring.begin(), ring.end());
    ASSERT_EQ(ring.size(), 6u);
    for (std::size_t i = 1; i < ring.size(); ++i) EXPECT_NE(ring[i].second, ring[i - 1].second);
}

TEST(ServerTopology, OneDataCenterKeepsCassandrasDefaultNames) {
    net::ClusterOptions o;
    o.nodes = 2;
    auto cluster = start_cluster(o);
    for (const auto& n : cluster->view().nodes) {
        EXPECT_EQ(n.data_center, "datacenter1");
        EXPECT_EQ(n.rack, "rack1");
    }
    EXPECT_THROW(net::Cluster([] {
                     net::ClusterOptions big;
                     big.nodes = 126;
                     big.datacenters = 2;
                     return big;
                 }()),
                 async_cassandra::UsageError);
}

/// The node owning `token` with one token per node and RF 1: the first token at or after it.
int owner(const net::Cluster& cluster, std::int64_t token) {
    std::vector<std::pair<std::int64_t, int>> ring;
    for (const auto& n : cluster.view().nodes) ring.emplace_back(n.tokens.at(0), n.id);
    std::sort(ring.begin(), ring.end());
    for (const auto& [t, id] : ring)
        if (t >= token) return id;
    return ring.front().second;
}

p::Bytes int_key(std::int32_t v) {
    return p::Bytes{static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> 24),
                    static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> 16),
                    static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> 8),
                    static_cast<std::uint8_t>(v)};
}

TEST(ServerTopology, ReplicaAndNonReplicaRequestsPerNode) {
    net::ClusterOptions o;
    o.nodes = 3;
    auto cluster = start_cluster(o);
    std::vector<RawClient> clients;
    for (int id = 1; id <= 3; ++id) {
        clients.emplace_back(cluster->address(id), cluster->port());
        clients.back().startup(ProtocolVersion::v4);
    }
    auto& c1 = clients[0];
    c1.send(ProtocolVersion::v4, 2,
            query("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"));
    as<p::ResultResponse>(c1.read());
    c1.send(ProtocolVersion::v4, 2, query("CREATE TABLE ks.t (k int PRIMARY KEY, v int)"));
    as<p::ResultResponse>(c1.read());
    cluster->reset_stats();

    // Every key sent to every node: exactly its owner counts it as a replica request.
    std::map<int, std::uint64_t> owned;
    const int keys = 60;
    for (int k = 0; k < keys; ++k) {
        ++owned[owner(*cluster, p::murmur3_token(int_key(k)))];
        for (auto& c : clients) {
            c.send(ProtocolVersion::v4, 3, query("INSERT INTO ks.t (k, v) VALUES (" + std::to_string(k) + ", 1)"));
            as<p::ResultResponse>(c.read());
        }
    }
    ASSERT_EQ(owned.size(), 3u) << "60 keys should spread over 3 nodes";
    for (int id = 1; id <= 3; ++id) {
        auto s = cluster->stats(id);
        EXPECT_EQ(s.replica_requests, owned[id]) << "node " << id;
        EXPECT_EQ(s.non_replica_requests, keys - owned[id]) << "node " << id;
    }

    // Not single-partition requests (a scan, an IN over two partitions), PREPARE, and
    // requests that fail are not counted.
    cluster->reset_stats();
    for (const char* cql : {"SELECT * FROM ks.t", "SELECT * FROM ks.t WHERE k IN (1, 2)", "SELECT * FROM ks.nosuch WHERE k = 1"}) {
        c1.send(ProtocolVersion::v4, 4, query(cql));
        c1.read();
    }
    p::PrepareRequest prep;
    prep.query = "SELECT * FROM ks.t WHERE k = ?";
    c1.send(ProtocolVersion::v4, 4, prep);
    auto prepared = std::get<p::PreparedResult>(as<p::ResultResponse>(c1.read()));
    EXPECT_EQ(cluster->stats(1).replica_requests + cluster->stats(1).non_replica_requests, 0u);

    // EXECUTE counts, also when a fault answers it with an error instead of running it.
    cluster->faults().add(net::parse_fault("error=write_timeout,pattern=WHERE k = ?"));
    p::Bytes key = int_key(7);
    p::ExecuteRequest e;
    e.id = prepared.id;
    e.params.values = {p::ValueView{p::ValueView::Kind::value, p::BytesView(key)}};
    c1.send(ProtocolVersion::v4, 6, e);
    EXPECT_EQ(as_error(c1.read()).code, async_cassandra::ServerErrorCode::write_timeout);
    auto s1 = cluster->stats(1);
    EXPECT_EQ(s1.replica_requests + s1.non_replica_requests, 1u);
    EXPECT_EQ(s1.replica_requests, owner(*cluster, p::murmur3_token(key)) == 1 ? 1u : 0u);
}

/// Three nodes, a client of node 1, and ks.t (k int PRIMARY KEY) in a keyspace of one replica.
struct ThreeNodesOneReplica {
    std::unique_ptr<net::Cluster> cluster = [] {
        net::ClusterOptions o;
        o.nodes = 3;
        return start_cluster(o);
    }();
    RawClient c{cluster->address(1), cluster->port()};
    ThreeNodesOneReplica() {
        c.startup(ProtocolVersion::v4);
        run("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        run("CREATE TABLE ks.t (k int PRIMARY KEY)");
    }
    void run(std::string_view cql) {
        c.send(ProtocolVersion::v4, 2, query(cql));
        as<p::ResultResponse>(c.read());
    }
};

TEST(ServerTopology, PlacementFollowsNodesLeavingAndJoining) {
    ThreeNodesOneReplica ring;
    auto& cluster = ring.cluster;

    // A key owned by node 2; once node 2 leaves the ring, node 1 or 3 takes it over.
    int key = 0;
    while (owner(*cluster, p::murmur3_token(int_key(key))) != 2) ++key;
    auto send_key = [&] { ring.run("SELECT * FROM ks.t WHERE k = " + std::to_string(key)); };
    // Counted once before: the node's memo of replicas (per ring position) must not outlive the
    // ring it was computed on.
    cluster->reset_stats();
    send_key();
    EXPECT_EQ(cluster->stats(1).non_replica_requests, 1u);
    cluster->remove_node(2);
    const int successor = owner(*cluster, p::murmur3_token(int_key(key)));
    ASSERT_NE(successor, 2);
    cluster->reset_stats();
    send_key();
    EXPECT_EQ(cluster->stats(1).replica_requests, successor == 1 ? 1u : 0u);
    cluster->add_node(2);
    cluster->reset_stats();
    send_key();
    EXPECT_EQ(cluster->stats(1).non_replica_requests, 1u);
    // The re-added node keeps its data center and rack.
    EXPECT_EQ(cluster->view().nodes.at(1).data_center, "datacenter1");
}

TEST(ServerTopology, ReplicaCountsFollowAlterKeyspace) {
    ThreeNodesOneReplica ring;
    int key = 0;
    while (owner(*ring.cluster, p::murmur3_token(int_key(key))) == 1) ++key;
    const std::string read = "SELECT * FROM ks.t WHERE k = " + std::to_string(key);
    auto counts = [&] {
        ring.cluster->reset_stats();
        for (int i = 0; i < 3; ++i) ring.run(read);  // the same partition again: from the node's memo
        auto s = ring.cluster->stats(1);
        return std::make_pair(s.replica_requests, s.non_replica_requests);
    };
    EXPECT_EQ(counts(), std::make_pair(std::uint64_t{0}, std::uint64_t{3}));
    // Three replicas: node 1 now holds every partition, at once and for every later request.
    ring.run("ALTER KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
    EXPECT_EQ(counts(), std::make_pair(std::uint64_t{3}, std::uint64_t{0}));
    // And back: the keyspace's new replication, not the one remembered for the old map.
    ring.run("ALTER KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    EXPECT_EQ(counts(), std::make_pair(std::uint64_t{0}, std::uint64_t{3}));
}

TEST(ServerTopology, NetworkTopologyReplicationFactorIsExpandedPerDataCenter) {
    net::ClusterOptions o;
    o.nodes = 1;
    o.datacenters = 2;
    auto cluster = start_cluster(o);
    RawClient c(cluster->address(1), cluster->port());
    c.startup(ProtocolVersion::v4);
    c.send(ProtocolVersion::v4, 2,
           query("CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 1, "
                 "'dc2': 2}"));
    as<p::ResultResponse>(c.read());
    auto rows = select(c, "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'");
    ASSERT_EQ(rows.size(), 1u);
    // map<text, text>: count, then (key, value) pairs.
    p::ByteReader in(*rows[0][0]);
    std::map<std::string, std::string> repl;
    for (std::int32_t n = in.read_i32(); n > 0; --n) {
        auto k = in.read_bytes();
        auto v = in.read_bytes();
        repl[std::string(k->begin(), k->end())] = std::string(v->begin(), v->end());
    }
    EXPECT_EQ(repl, (std::map<std::string, std::string>{
                        {"class", "org.apache.cassandra.locator.NetworkTopologyStrategy"}, {"dc1", "1"}, {"dc2", "2"}}));
}

}  // namespace
