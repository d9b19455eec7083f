// ControlConnection against acass-server clusters started in-process: discovery of every node
// from one contact point, TOPOLOGY_CHANGE / SCHEMA_CHANGE refreshes, STATUS_CHANGE callbacks,
// reconnection when the control node dies, schema agreement.
#include "cluster/control_connection.hpp"
#include "net/connection.hpp"
#include "protocol/murmur3.hpp"
#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <async_cassandra/server_errors.hpp>

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <set>

using namespace async_cassandra;
using namespace async_cassandra::cluster;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

std::unique_ptr<srv::Cluster> start_nodes(int nodes) {
    srv::ClusterOptions options;
    options.port = 0;
    options.nodes = nodes;
    options.down_event_delay = 50ms;
    auto server = std::make_unique<srv::Cluster>(options);
    server->start();
    return server;
}

ControlConnectionConfig config_for(const srv::Cluster& server, std::vector<std::string> contacts = {"127.0.0.1"}) {
    ControlConnectionConfig c;
    c.contact_points = std::move(contacts);
    c.port = server.port();
    c.event_debounce = 20ms;
    c.reconnect_base = 20ms;
    c.reconnect_max = 200ms;
    c.request_timeout = 5s;
    return c;
}

std::string ep(const srv::Cluster& server, int node) { return server.address(node) + ":" + std::to_string(server.port()); }

std::set<std::string> endpoints(const ClusterStatePtr& state) {
    std::set<std::string> out;
    for (const HostInfo& h : state->metadata.hosts) out.insert(h.endpoint());
    return out;
}

// Polls `done` every 10 ms until it holds or `limit` passes. (`done` captures by reference only:
// GCC 12 mishandles non-trivial temporaries in co_await operands.)
template <class F>
asio::awaitable<bool> eventually(F done, std::chrono::milliseconds limit = 5s) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) co_return false;
        timer.expires_after(10ms);
        co_await timer.async_wait(asio::use_awaitable);
    }
    co_return true;
}

// One CQL statement on node `node` through its own connection (as another client would).
asio::awaitable<void> run_cql(const srv::Cluster& server, int node, const char* cql) {
    asio::any_io_executor ex = co_await asio::this_coro::executor;
    const std::string address = server.address(node);
    const ConnectionConfig config;
    auto c = co_await net::Connection::open(ex, address, server.port(), config);
    protocol::QueryRequest q;
    q.query = cql;
    const protocol::Request request = q;
    net::Reply reply = co_await c->send(request, 5s);
    c->close();
    if (auto* e = std::get_if<protocol::ErrorResponse>(&reply.message)) throw std::runtime_error(e->message);
}

// What the callbacks saw (they run on the control connection's strand; the test reads on its own).
struct Seen {
    std::mutex mutex;
    std::vector<std::string> lines;
    void add(std::string line) {
        std::lock_guard lock(mutex);
        lines.push_back(std::move(line));
    }
    bool contains(const std::string& line) {
        std::lock_guard lock(mutex);
        return std::find(lines.begin(), lines.end(), line) != lines.end();
    }
};

ControlConnectionCallbacks record(Seen& seen) {
    ControlConnectionCallbacks cb;
    cb.on_host_status = [&seen](const HostInfo& h, bool up) { seen.add((up ? "up " : "down ") + h.endpoint()); };
    cb.on_host_added = [&seen](const HostInfo& h) { seen.add("added " + h.endpoint()); };
    cb.on_host_removed = [&seen](const HostInfo& h) { seen.add("removed " + h.endpoint()); };
    cb.on_state = [&seen](const ClusterStatePtr& s) { seen.add("state " + std::to_string(s->generation)); };
    return cb;
}

struct CloseAtExit {
    std::shared_ptr<ControlConnection> cc;
    ~CloseAtExit() { cc->close(); }
};

}  // namespace

TEST(ControlConnection, DiscoversEveryNodeFromOneContactPoint) {
    auto server = start_nodes(3);
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cc = ControlConnection::create(ex, config_for(*server));
        CloseAtExit guard{cc};
        EXPECT_EQ(cc->state()->generation, 0u);
        co_await cc->start();
        ClusterStatePtr s = cc->state();
        EXPECT_EQ(endpoints(s), (std::set<std::string>{ep(*server, 1), ep(*server, 2), ep(*server, 3)}));
        EXPECT_EQ(s->metadata.hosts.front().endpoint(), ep(*server, 1));  // the control node first
        EXPECT_EQ(s->metadata.cluster_name, "Test Cluster");
        EXPECT_EQ(s->metadata.partitioner, "org.apache.cassandra.dht.Murmur3Partitioner");
        std::set<std::string> host_ids;
        for (const HostInfo& h : s->metadata.hosts) {
            EXPECT_FALSE(h.datacenter.empty()) << h.endpoint();
            EXPECT_FALSE(h.rack.empty()) << h.endpoint();
            EXPECT_FALSE(h.release_version.empty()) << h.endpoint();
            EXPECT_FALSE(h.schema_version.empty()) << h.endpoint();
            EXPECT_FALSE(h.tokens.empty()) << h.endpoint();
            host_ids.insert(h.host_id);
        }
        EXPECT_EQ(host_ids.size(), 3u);
        EXPECT_EQ(s->token_map->size(), 3u);
        EXPECT_NE(s->metadata.keyspace("system_schema"), nullptr);
        CO_ASSERT_TRUE(s->metadata.table("system", "peers_v2") != nullptr);
        EXPECT_EQ(s->metadata.table("system", "peers_v2")->partition_key.front().name, "peer");
        EXPECT_TRUE(cc->protocol_version().has_value());
        EXPECT_EQ(cc->endpoint(), ep(*server, 1));
        // A refresh publishes a new generation with the same hosts.
        co_await cc->refresh();
        EXPECT_EQ(cc->state()->generation, s->generation + 1);
        EXPECT_EQ(endpoints(cc->state()), endpoints(s));
    });
}

TEST(ControlConnection, SkipsDeadContactPointsAndReportsWhenNoneAnswers) {
    auto server = start_nodes(2);
    server->stop_node(1);
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cc = ControlConnection::create(ex, config_for(*server, {"127.0.0.1", "127.0.0.2"}));
        CloseAtExit guard{cc};
        co_await cc->start();
        EXPECT_EQ(cc->endpoint(), ep(*server, 2));
        EXPECT_EQ(cc->state()->metadata.hosts.size(), 2u);  // a stopped node stays in system.peers
    });
    server->stop_node(2);
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cc = ControlConnection::create(ex, config_for(*server, {"127.0.0.1", "127.0.0.2"}));
        CloseAtExit guard{cc};
        try {
            co_await cc->start();
            ADD_FAILURE() << "start() succeeded with every node down";
        } catch (const NoHostAvailable& e) {
            CO_ASSERT_TRUE(e.failures().size() == 2u);
            EXPECT_EQ(e.failures()[0].host, ep(*server, 1));
            EXPECT_EQ(e.failures()[1].host, ep(*server, 2));
        }
    });
}

TEST(ControlConnection, TopologyChangeRefreshesTheHosts) {
    auto server = start_nodes(3);
    Seen seen;
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cc = ControlConnection::create(ex, config_for(*server), record(seen));
        CloseAtExit guard{cc};
        co_await cc->start();
        server->remove_node(3);
        CO_ASSERT_TRUE(co_await eventually([&] { return cc->state()->metadata.hosts.size() == 2; }));
        EXPECT_TRUE(seen.contains("removed " + ep(*server, 3)));
        EXPECT_EQ(cc->state()->token_map->size(), 2u);
        server->add_node(3);
        CO_ASSERT_TRUE(co_await eventually([&] { return cc->state()->metadata.hosts.size() == 3; }));
        EXPECT_TRUE(seen.contains("added " + ep(*server, 3)));
        EXPECT_EQ(cc->state()->token_map->size(), 3u);
    });
}

TEST(ControlConnection, SchemaChangeRefreshesKeyspacesAndTokenMap) {
    auto server = start_nodes(3);
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cc = ControlConnection::create(ex, config_for(*server));
        CloseAtExit guard{cc};
        co_await cc->start();
        EXPECT_EQ(cc->state()->metadata.keyspace("topo_ks"), nullptr);
        // DDL through another node: the control node hears of it only through SCHEMA_CHANGE.
        co_await run_cql(*server, 2,
                         "CREATE KEYSPACE topo_ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}");
        co_await run_cql(*server, 2, "CREATE TABLE topo_ks.events (a int, b text, c int, d text, PRIMARY KEY ((a, b), c))");
        CO_ASSERT_TRUE(co_await eventually([&] { return cc->state()->metadata.table("topo_ks", "events") != nullptr; }));
        const ClusterStatePtr s = cc->state();
        const TableMetadata* t = s->metadata.table("topo_ks", "events");
        CO_ASSERT_TRUE(t->partition_key.size() == 2u);
        EXPECT_EQ(t->partition_key[0].name, "a");
        EXPECT_EQ(t->partition_key[1].name, "b");
        CO_ASSERT_TRUE(t->clustering_key.size() == 1u);
        EXPECT_EQ(t->clustering_key[0].name, "c");
        EXPECT_EQ(t->columns.size(), 4u);
        EXPECT_EQ(s->metadata.keyspace("topo_ks")->replication.at("replication_factor"), "2");
        for (std::int64_t token : {std::int64_t{-5}, std::int64_t{0}, std::int64_t{1} << 60})
            EXPECT_EQ(s->token_map->replicas("topo_ks", token).size(), 2u);
        EXPECT_TRUE(co_await cc->wait_for_schema_agreement(2s));
        co_await run_cql(*server, 3, "DROP TABLE topo_ks.events");
        CO_ASSERT_TRUE(co_await eventually([&] { return cc->state()->metadata.table("topo_ks", "events") == nullptr; }));
    });
}

TEST(ControlConnection, StatusChangesAreReported) {
    auto server = start_nodes(3);
    Seen seen;
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cc = ControlConnection::create(ex, config_for(*server), record(seen));
        CloseAtExit guard{cc};
        co_await cc->start();
        server->stop_node(2);
        CO_ASSERT_TRUE(co_await eventually([&] { return seen.contains("down " + ep(*server, 2)); }));
        // A down node does not block schema agreement.
        EXPECT_TRUE(co_await cc->wait_for_schema_agreement(2s));
        server->restart_node(2);
        CO_ASSERT_TRUE(co_await eventually([&] { return seen.contains("up " + ep(*server, 2)); }));
        EXPECT_EQ(cc->endpoint(), ep(*server, 1));  // the control connection never moved
    });
}

TEST(ControlConnection, ReconnectsToAnotherNodeWhenItsNodeDies) {
    auto server = start_nodes(3);
    Seen seen;
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cc = ControlConnection::create(ex, config_for(*server), record(seen));
        CloseAtExit guard{cc};
        co_await cc->start();
        const auto before = cc->state()->generation;
        server->stop_node(1);
        CO_ASSERT_TRUE(co_await eventually([&] {
            auto e = cc->endpoint();
            return !e.empty() && e != ep(*server, 1);
        }));
        EXPECT_TRUE(seen.contains("down " + ep(*server, 1)));
        EXPECT_GT(cc->state()->generation, before);  // re-read everything from the new node
        EXPECT_EQ(cc->state()->metadata.hosts.size(), 3u);
        // Still registered for events on the new node: DDL and node changes keep arriving.
        co_await run_cql(*server, 3, "CREATE KEYSPACE after_failover WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        CO_ASSERT_TRUE(co_await eventually([&] { return cc->state()->metadata.keyspace("after_failover") != nullptr; }));
        server->restart_node(1);
        CO_ASSERT_TRUE(co_await eventually([&] { return seen.contains("up " + ep(*server, 1)); }));
    });
}

namespace {

std::unique_ptr<srv::Cluster> start_datacenters(int datacenters, int nodes, int racks, int tokens_per_node) {
    srv::ClusterOptions options;
    options.port = 0;
    options.datacenters = datacenters;
    options.nodes = nodes;
    options.racks = racks;
    options.tokens_per_node = tokens_per_node;
    auto server = std::make_unique<srv::Cluster>(options);
    server->start();
    return server;
}

}  // namespace

TEST(ControlConnection, DiscoversTwoDatacentersWithRacks) {
    auto server = start_datacenters(2, 3, 2, 1);
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cc = ControlConnection::create(ex, config_for(*server, {"127.0.0.5"}));  // a dc2 node
        CloseAtExit guard{cc};
        co_await cc->start();
        ClusterStatePtr s = cc->state();
        CO_ASSERT_TRUE(s->metadata.hosts.size() == 6u);
        for (int node = 1; node <= 6; ++node) {
            const HostInfo* h = s->metadata.host(ep(*server, node));
            CO_ASSERT_TRUE(h != nullptr);
            // Nodes 1..3 in dc1, 4..6 in dc2; the k-th node of a DC in rack ((k - 1) mod 2) + 1.
            EXPECT_EQ(h->datacenter, node <= 3 ? "dc1" : "dc2") << h->endpoint();
            const int k = (node - 1) % 3 + 1;
            EXPECT_EQ(h->rack, "rack" + std::to_string((k - 1) % 2 + 1)) << h->endpoint();
        }
        EXPECT_EQ(s->metadata.hosts.front().endpoint(), ep(*server, 5));
    });
}

// The token map and the node must agree on who replicates what: every single-partition write is
// sent to each replica our token map names, and the node counts a request to a non-replica.
TEST(ControlConnection, TokenMapAgreesWithTheNodesReplicaPlacement) {
    auto server = start_datacenters(2, 3, 2, 4);
    acass_test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        co_await run_cql(*server, 1,
                         "CREATE KEYSPACE nts WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 2}");
        co_await run_cql(*server, 1, "CREATE TABLE nts.kv (k int PRIMARY KEY, v text)");
        co_await run_cql(*server, 1,
                         "CREATE KEYSPACE simple WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
        co_await run_cql(*server, 1, "CREATE TABLE simple.kv (k int PRIMARY KEY, v text)");
        auto cc = ControlConnection::create(ex, config_for(*server));
        CloseAtExit guard{cc};
        co_await cc->start();
        ClusterStatePtr s = cc->state();
        CO_ASSERT_TRUE(s->metadata.hosts.size() == 6u);
        std::map<std::string, std::shared_ptr<net::Connection>> to;
        for (int node = 1; node <= 6; ++node) {
            const std::string address = server->address(node);
            const ConnectionConfig config;
            to[ep(*server, node)] = co_await net::Connection::open(ex, address, server->port(), config);
        }
        server->reset_stats();
        std::size_t sent = 0;
        for (const char* ks : {"nts", "simple"}) {
            for (std::int32_t k = 0; k < 40; ++k) {
                const protocol::Bytes key{static_cast<std::uint8_t>(k >> 24), static_cast<std::uint8_t>(k >> 16),
                                          static_cast<std::uint8_t>(k >> 8), static_cast<std::uint8_t>(k)};
                const auto replicas = s->token_map->replicas(ks, protocol::murmur3_token(key));
                EXPECT_EQ(replicas.size(), std::string_view(ks) == "nts" ? 4u : 3u);
                const std::string cql = "INSERT INTO " + std::string(ks) + ".kv (k, v) VALUES (" + std::to_string(k) + ", 'x')";
                for (const std::string& replica : replicas) {
                    protocol::QueryRequest q;
                    q.query = cql;
                    const protocol::Request request = q;
                    net::Reply reply = co_await to.at(replica)->send(request, 5s);
                    EXPECT_FALSE(std::holds_alternative<protocol::ErrorResponse>(reply.message));
                    ++sent;
                }
            }
        }
        std::uint64_t replica_requests = 0;
        for (int node = 1; node <= 6; ++node) {
            const auto stats = server->stats(node);
            EXPECT_EQ(stats.non_replica_requests, 0u) << "node " << node;
            EXPECT_GT(stats.replica_requests, 0u) << "node " << node;
            replica_requests += stats.replica_requests;
        }
        EXPECT_EQ(replica_requests, sent);
        for (auto& [endpoint, c] : to) c->close();
    });
}
