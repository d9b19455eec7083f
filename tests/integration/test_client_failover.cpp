// The cluster-aware request path against acass-server --nodes 3 (in-process, free port): discovery
// from one contact point, prepared single-partition requests only on replicas (token-aware) and
// only in the local data center (DC-aware, 2 DCs x 3 nodes), requests spread over every node,
// nodes added and removed and the schema changed at run time (TOPOLOGY_CHANGE / SCHEMA_CHANGE
// reach Cluster::metadata(), its hosts and its routing), each rule of the default retry policy
// driven by the node's fault rules (counted on the nodes), hosts marked down and brought back,
// NoHostAvailable with each host's cause, a 1,000,000-row stream and a parallel scan whose node
// is stopped while it holds one of their requests and still see every row exactly once, several
// threads running the Cluster's io_context, and several io_contexts sharing one Cluster.

#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <asio.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include "support/cluster_helpers.hpp"
#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <thread>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

using acass_test::config_for_all_nodes;
using acass_test::error_rule;
using acass_test::error_under;
using acass_test::sleep_for;
using acass_test::start_nodes;
using acass_test::synthetic_index;
using acass_test::total_queries;
using acass_test::run;
using acass_test::wait_for_host;

asio::awaitable<void> create_schema(Session& session) {
    co_await session.execute(
        "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
    co_await session.execute("CREATE TABLE IF NOT EXISTS ks.kv (k int PRIMARY KEY, v text)");
    // Let the control connection's refresh after the SCHEMA_CHANGE events (debounced) finish, so
    // that the counts below are the test's requests only.
    co_await sleep_for(std::chrono::milliseconds(600));
}

/// Runs `body(session)` with a Session of a Cluster of every node of `server`, once ks.kv exists.
template <class F>
void run_with_schema(srv::Cluster& server, F body) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(server));
        Session session = co_await cluster.connect();
        co_await create_schema(session);
        co_await body(session);
    });
}

Statement insert_statement(int k, bool idempotent) {
    Statement st("INSERT INTO ks.kv (k, v) VALUES (" + std::to_string(k) + ", 'x')");
    st.set_idempotent(idempotent);
    return st;
}

}  // namespace

TEST(ClusterRouting, RequestsSpreadOverEveryNode) {
    auto server = start_nodes(3);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        server->reset_stats();
        for (int i = 0; i < 30; ++i) co_await session.execute("SELECT key FROM system.local");
        for (int node = 1; node <= 3; ++node) EXPECT_EQ(server->stats(node).queries, 10u) << "node " << node;
        EXPECT_EQ(cluster.hosts().size(), 3u);
    });
}

// ---------------------------------------------------------------- discovery and routing

TEST(Discovery, OneContactPointFindsEveryNode) {
    auto server = start_nodes(3);
    run([&](auto ex) -> asio::awaitable<void> {
        auto config = acass_test::config_for(*server);  // 127.0.0.1 only
        Cluster cluster(ex, config);
        Session session = co_await cluster.connect();
        EXPECT_EQ(cluster.hosts().size(), 3u);
        EXPECT_EQ(cluster.metadata().hosts.size(), 3u);
        server->reset_stats();
        for (int i = 0; i < 30; ++i) co_await session.execute("SELECT key FROM system.local");
        for (int node = 1; node <= 3; ++node) EXPECT_GT(server->stats(node).queries, 0u) << "node " << node;
    });
}

TEST(Discovery, TwoDataCentersWithRacksFromOneContactPoint) {
    srv::ClusterOptions options;
    options.port = 0;
    options.nodes = 3;
    options.datacenters = 2;
    options.racks = 2;
    srv::Cluster server(options);
    server.start();
    run([&](auto ex) -> asio::awaitable<void> {
        auto config = acass_test::config_for(server);
        config.contact_points = {server.address(5)};  // one node of dc2
        Cluster cluster(ex, config);
        Session session = co_await cluster.connect();
        const ClusterMetadata meta = cluster.metadata();
        CO_ASSERT_TRUE(meta.hosts.size() == 6u);
        EXPECT_EQ(cluster.hosts().size(), 6u);
        for (int node = 1; node <= 6; ++node) {
            const HostInfo* h = meta.host(server.address(node) + ":" + std::to_string(server.port()));
            CO_ASSERT_TRUE(h != nullptr);
            // Nodes 1..3 in dc1, 4..6 in dc2; the k-th node of a data center in rack ((k-1) mod 2)+1.
            EXPECT_EQ(h->datacenter, node <= 3 ? "dc1" : "dc2") << node;
            EXPECT_EQ(h->rack, "rack" + std::to_string((node - 1) % 3 % 2 + 1)) << node;
            EXPECT_FALSE(h->tokens.empty());
        }
        for (const HostPtr& h : cluster.hosts()) {
            const HostInfo* info = meta.host(h->endpoint());
            CO_ASSERT_TRUE(info != nullptr);
            EXPECT_EQ(h->datacenter(), info->datacenter);
            EXPECT_EQ(h->rack(), info->rack);
        }
    });
}

TEST(TokenAware, PreparedSinglePartitionRequestsLandOnlyOnReplicas) {
    acass_test::ServerSetup setup;
    setup.nodes = 3;
    auto server = acass_test::start_server(std::move(setup));
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, acass_test::config_for(*server));
        Session session = co_await cluster.connect();
        co_await session.execute(
            "CREATE KEYSPACE routed WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        co_await session.execute("CREATE TABLE routed.kv (k int PRIMARY KEY, v text)");
        for (int i = 0; i < 200 && !cluster.metadata().keyspace("routed"); ++i) co_await sleep_for(10ms);
        CO_ASSERT_TRUE(cluster.metadata().keyspace("routed"));
        co_await sleep_for(600ms);  // the control connection's refresh after the DDL events
        PreparedStatement insert = co_await session.prepare("INSERT INTO routed.kv (k, v) VALUES (?, ?)");
        PreparedStatement select = co_await session.prepare("SELECT v FROM routed.kv WHERE k = ?");
        server->reset_stats();
        for (int k = 0; k < 150; ++k) {
            co_await session.execute(insert.bind(k, "v"));
            co_await session.execute(select.bind(k));
        }
        std::uint64_t replica = 0;
        for (int node = 1; node <= 3; ++node) {
            EXPECT_EQ(server->stats(node).non_replica_requests, 0u) << "node " << node;
            EXPECT_GT(server->stats(node).replica_requests, 0u) << "node " << node;
            replica += server->stats(node).replica_requests;
        }
        EXPECT_EQ(replica, 300u);
    });
}

TEST(DcAware, RequestsStayInTheLocalDataCenter) {
    auto server = [] {
        srv::ClusterOptions options;
        options.port = 0;
        options.nodes = 3;
        options.datacenters = 2;
        auto s = std::make_unique<srv::Cluster>(options);
        s->start();
        return s;
    }();
    run([&](auto ex) -> asio::awaitable<void> {
        auto config = acass_test::config_for(*server);
        config.local_dc = "dc2";
        Cluster cluster(ex, config);
        Session session = co_await cluster.connect();
        co_await session.execute(
            "CREATE KEYSPACE nts WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 2}");
        co_await session.execute("CREATE TABLE nts.kv (k int PRIMARY KEY, v text)");
        for (int i = 0; i < 200 && !cluster.metadata().keyspace("nts"); ++i) co_await sleep_for(10ms);
        CO_ASSERT_TRUE(cluster.metadata().keyspace("nts"));
        co_await sleep_for(600ms);  // the control connection's refresh after the DDL events
        PreparedStatement insert = co_await session.prepare("INSERT INTO nts.kv (k, v) VALUES (?, ?)");
        server->reset_stats();
        for (int k = 0; k < 120; ++k) co_await session.execute(insert.bind(k, "v"));
        for (int i = 0; i < 30; ++i) co_await session.execute("SELECT key FROM system.local");
        for (int node = 1; node <= 3; ++node) EXPECT_EQ(server->stats(node).queries, 0u) << "dc1 node " << node;
        for (int node = 4; node <= 6; ++node) {
            EXPECT_GT(server->stats(node).queries, 0u) << "dc2 node " << node;
            EXPECT_EQ(server->stats(node).non_replica_requests, 0u) << "dc2 node " << node;
        }
    });
}

// ---------------------------------------------------------------- topology and schema events

/// Waits (up to 5 s, polling every 10 ms) until `done()` holds.
template <class F>
asio::awaitable<bool> eventually(F done) {
    for (int i = 0; i < 500; ++i) {
        if (done()) co_return true;
        co_await sleep_for(10ms);
    }
    co_return done();
}

bool has_host(const HostList& hosts, const std::string& endpoint) {
    return std::any_of(hosts.begin(), hosts.end(), [&](const HostPtr& h) { return h->endpoint() == endpoint; });
}

// Nodes join and leave while the client runs (TOPOLOGY_CHANGE NEW_NODE / REMOVED_NODE), and
// another client changes the schema (SCHEMA_CHANGE): the Cluster's metadata, its hosts and its
// token-aware routing follow, without any call from the application.
TEST(TopologyEvents, NodesAddedAndRemovedAndSchemaChangesReachTheCluster) {
    auto server = start_nodes(4);
    server->remove_node(4);  // not a member when the client starts: it joins later
    const auto ep = [&](int node) { return server->address(node) + ":" + std::to_string(server->port()); };
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, acass_test::config_for(*server));  // one contact point
        Session session = co_await cluster.connect();
        EXPECT_EQ(cluster.metadata().hosts.size(), 3u);
        EXPECT_EQ(cluster.metadata().host(ep(4)), nullptr);

        server->add_node(4);
        CO_ASSERT_TRUE(co_await eventually([&] { return cluster.metadata().host(ep(4)) != nullptr; }));
        CO_ASSERT_TRUE(co_await eventually([&] { return has_host(cluster.hosts(), ep(4)); }));
        {
            const ClusterMetadata meta = cluster.metadata();
            const HostInfo* added = meta.host(ep(4));
            EXPECT_EQ(meta.hosts.size(), 4u);
            EXPECT_EQ(added->datacenter, "datacenter1");
            EXPECT_EQ(added->rack, "rack1");
            EXPECT_FALSE(added->tokens.empty());
            EXPECT_FALSE(added->host_id.empty());
        }
        server->reset_stats();
        for (int i = 0; i < 40; ++i) co_await session.execute("SELECT key FROM system.local");
        for (int node = 1; node <= 4; ++node) EXPECT_EQ(server->stats(node).queries, 10u) << "node " << node;

        // Schema changed by another client, through another node.
        {
            auto other_config = acass_test::config_for(*server);
            other_config.contact_points = {server->address(3)};
            Cluster other(ex, other_config);
            Session ddl = co_await other.connect();
            co_await ddl.execute(
                "CREATE KEYSPACE evks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
            co_await ddl.execute("CREATE TABLE evks.t (k int PRIMARY KEY, v text)");
            co_await other.shutdown();
        }
        CO_ASSERT_TRUE(co_await eventually([&] { return cluster.metadata().table("evks", "t") != nullptr; }));
        {
            const ClusterMetadata meta = cluster.metadata();
            const TableMetadata* t = meta.table("evks", "t");
            CO_ASSERT_TRUE(t->partition_key.size() == 1u);
            EXPECT_EQ(t->partition_key[0].name, "k");
            EXPECT_EQ(t->columns.size(), 2u);
        }
        co_await session.execute("ALTER TABLE evks.t ADD extra int");
        CO_ASSERT_TRUE(co_await eventually([&] {
            const ClusterMetadata meta = cluster.metadata();
            const TableMetadata* t = meta.table("evks", "t");
            return t && t->column("extra") != nullptr;
        }));
        // The token map knows the new keyspace and the new node: prepared writes land on their
        // one replica each, node 4 included.
        co_await sleep_for(300ms);  // the refresh after our own ALTER
        PreparedStatement insert = co_await session.prepare("INSERT INTO evks.t (k, v) VALUES (?, ?)");
        server->reset_stats();
        for (int k = 0; k < 200; ++k) co_await session.execute(insert.bind(k, "v"));
        for (int node = 1; node <= 4; ++node) {
            EXPECT_EQ(server->stats(node).non_replica_requests, 0u) << "node " << node;
            EXPECT_GT(server->stats(node).replica_requests, 0u) << "node " << node;
        }

        server->remove_node(2);
        CO_ASSERT_TRUE(co_await eventually([&] { return cluster.metadata().host(ep(2)) == nullptr; }));
        CO_ASSERT_TRUE(co_await eventually([&] { return !has_host(cluster.hosts(), ep(2)); }));
        EXPECT_EQ(cluster.metadata().hosts.size(), 3u);
        server->reset_stats();
        for (int k = 0; k < 200; ++k) co_await session.execute(insert.bind(k, "w"));
        for (int node : {1, 3, 4}) EXPECT_EQ(server->stats(node).non_replica_requests, 0u) << "node " << node;
        EXPECT_EQ(server->stats(2).queries, 0u);

        co_await session.execute("DROP TABLE evks.t");
        CO_ASSERT_TRUE(co_await eventually([&] { return cluster.metadata().table("evks", "t") == nullptr; }));
    });
}

// ---------------------------------------------------------------- retry rules

TEST(RetryRules, NonIdempotentWriteUnderWriteTimeoutIsSentExactlyOnce) {
    auto server = start_nodes(3);
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        server->faults().add(error_rule(ServerErrorCode::write_timeout, "INSERT INTO ks.kv"));
        for (bool idempotent : {false, true}) {
            server->reset_stats();
            auto [error, result] = co_await session.try_execute(insert_statement(1, idempotent));
            CO_ASSERT_TRUE(error);
            EXPECT_THROW(std::rethrow_exception(error), WriteTimeout);
            // Not idempotent: once. Idempotent: the same coordinator once more, then the error.
            EXPECT_EQ(total_queries(*server), idempotent ? 2u : 1u) << "idempotent " << idempotent;
        }
    });
}

TEST(RetryRules, ReadTimeoutWithoutEnoughRepliesIsNotRetried) {
    auto server = start_nodes(3);
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        // The node answers received=0 < block_for=1: the replicas did not answer, retrying the
        // same coordinator would not help.
        Statement select("SELECT v FROM ks.kv WHERE k = 1");
        select.set_idempotent();
        std::exception_ptr error = co_await error_under(*server, error_rule(ServerErrorCode::read_timeout, "FROM ks.kv"),
                                                        [&] { return session.execute(select); });
        CO_ASSERT_TRUE(error);
        EXPECT_THROW(std::rethrow_exception(error), ReadTimeout);
        EXPECT_EQ(total_queries(*server), 1u);
    });
}

/// The node whose query count is `n` (0 when none or several are).
int only_node_with(const srv::Cluster& server, std::uint64_t n) {
    int found = 0;
    for (int node = 1; node <= server.node_count(); ++node) {
        const std::uint64_t q = server.stats(node).queries;
        if (q == 0) continue;
        if (q != n || found != 0) return 0;
        found = node;
    }
    return found;
}

TEST(RetryRules, ReadTimeoutWithEnoughRepliesButNoDataIsRetriedOnceOnTheSameHost) {
    auto server = start_nodes(3);
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        co_await session.execute("INSERT INTO ks.kv (k, v) VALUES (1, 'one')");
        // received 1 >= block_for 1, data_present 0: the coordinator heard from enough replicas
        // but not from the one asked for the data; one more try on the same node. The statement
        // is not marked idempotent: a read is retried regardless.
        auto timeout = error_rule(ServerErrorCode::read_timeout, "FROM ks.kv");
        timeout.received = 1;
        timeout.block_for = 1;
        timeout.data_present = false;
        timeout.nth = 1;  // only the first read times out: the retry gets the row
        const std::size_t first_only = server->faults().add(timeout);
        server->reset_stats();
        ResultSet rs = co_await session.execute("SELECT v FROM ks.kv WHERE k = 1");
        EXPECT_EQ(server->faults().hits(first_only), 1);
        CO_ASSERT_TRUE(rs.one());
        EXPECT_EQ(rs.one()->get<std::string>(0), "one");
        EXPECT_NE(only_node_with(*server, 2), 0) << "the retry went to another node";
        EXPECT_EQ(total_queries(*server), 2u);

        // Every read times out the same way: retried once, on the same node, then the error.
        const Statement select("SELECT v FROM ks.kv WHERE k = 1");
        auto read = [&] { return session.execute(select); };
        timeout.nth = 0;
        std::exception_ptr error = co_await error_under(*server, timeout, read);
        CO_ASSERT_TRUE(error);
        try {
            std::rethrow_exception(error);
        } catch (const ReadTimeout& e) {
            EXPECT_EQ(e.received(), 1);
            EXPECT_EQ(e.block_for(), 1);
            EXPECT_FALSE(e.data_present());
        } catch (...) {
            ADD_FAILURE() << "not a ReadTimeout";
        }
        EXPECT_NE(only_node_with(*server, 2), 0);
        EXPECT_EQ(total_queries(*server), 2u);

        // The data replica answered (data_present 1): the read itself timed out; not retried.
        timeout.data_present = true;
        error = co_await error_under(*server, timeout, read);
        CO_ASSERT_TRUE(error);
        EXPECT_THROW(std::rethrow_exception(error), ReadTimeout);
        EXPECT_EQ(total_queries(*server), 1u);
    });
}

TEST(RetryRules, BatchLogWriteTimeoutIsRetriedOnTheSameHostEvenWhenNotIdempotent) {
    auto server = start_nodes(3);
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        auto timeout = error_rule(ServerErrorCode::write_timeout, "INSERT INTO ks.kv");
        timeout.write_type = "BATCH_LOG";  // the batch log write timed out: nothing applied yet
        timeout.nth = 1;
        server->faults().add(timeout);
        server->reset_stats();
        Batch batch = Batch::logged();
        batch.add(Statement("INSERT INTO ks.kv (k, v) VALUES (10, 'a')"));
        batch.add(Statement("INSERT INTO ks.kv (k, v) VALUES (11, 'b')"));
        co_await session.execute_batch(batch);
        EXPECT_NE(only_node_with(*server, 2), 0);
        EXPECT_EQ(total_queries(*server), 2u);

        // The batch itself timed out (write type BATCH) and it is not idempotent: sent once.
        timeout.write_type = "BATCH";
        std::exception_ptr error = co_await error_under(*server, timeout, [&] { return session.execute_batch(batch); });
        CO_ASSERT_TRUE(error);
        EXPECT_THROW(std::rethrow_exception(error), WriteTimeout);
        EXPECT_EQ(total_queries(*server), 1u);
    });
}

TEST(RetryRules, UnavailableTriesTheNextHostOnce) {
    auto server = start_nodes(3);
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        // Only node 1 is short of replicas: every request succeeds, idempotent or not.
        const std::size_t rule = server->faults().add(error_rule(ServerErrorCode::unavailable, "FROM ks.kv", 1));
        for (int i = 0; i < 9; ++i) co_await session.execute("SELECT v FROM ks.kv WHERE k = 1");
        EXPECT_EQ(server->faults().hits(rule), 3);
        // Every node unavailable: two attempts (the first host, then the next one), then the error.
        const Statement select("SELECT v FROM ks.kv WHERE k = 1");
        std::exception_ptr error = co_await error_under(*server, error_rule(ServerErrorCode::unavailable, "FROM ks.kv"),
                                                        [&] { return session.execute(select); });
        CO_ASSERT_TRUE(error);
        EXPECT_THROW(std::rethrow_exception(error), Unavailable);
        EXPECT_EQ(total_queries(*server), 2u);
    });
}

class NextHostOnlyWhenIdempotent : public ::testing::TestWithParam<ServerErrorCode> {};

TEST_P(NextHostOnlyWhenIdempotent, FailuresOfOneNode) {
    const ServerErrorCode code = GetParam();
    auto server = start_nodes(3);
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        server->faults().add(error_rule(code, "INSERT INTO ks.kv", 2));
        server->reset_stats();
        int failed = 0;
        for (int k = 0; k < 9; ++k) {
            auto [error, result] = co_await session.try_execute(insert_statement(k, true));
            failed += error != nullptr;
        }
        EXPECT_EQ(failed, 0);  // idempotent: node 2's refusals went to the next node
        EXPECT_EQ(server->stats(2).queries, 3u);
        EXPECT_EQ(total_queries(*server), 12u);

        server->reset_stats();
        failed = 0;
        for (int k = 0; k < 9; ++k) {
            auto [error, result] = co_await session.try_execute(insert_statement(k, false));
            if (error) {
                ++failed;
                try {
                    std::rethrow_exception(error);
                } catch (const ServerError& e) {
                    EXPECT_EQ(e.code(), code);
                }
            }
        }
        // Not idempotent: what node 2 refused is the caller's error, sent nowhere else.
        EXPECT_EQ(failed, 3);
        EXPECT_EQ(total_queries(*server), 9u);
    });
}

INSTANTIATE_TEST_SUITE_P(Codes, NextHostOnlyWhenIdempotent,
                         ::testing::Values(ServerErrorCode::overloaded, ServerErrorCode::is_bootstrapping));

TEST(RetryRules, ConnectionLossGoesToTheNextHostOnlyWhenIdempotent) {
    auto server = start_nodes(3);
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        // Node 2 closes the connection half-way through each answer to these inserts (the write
        // may or may not have happened: only an idempotent one may be sent again).
        srv::FaultRule drop;
        drop.kind = srv::FaultKind::drop_mid_frame;
        drop.pattern = "INSERT INTO ks.kv";
        drop.node = 2;
        server->faults().add(drop);
        server->reset_stats();
        int failed = 0;
        for (int k = 0; k < 9; ++k) {
            auto [error, result] = co_await session.try_execute(insert_statement(k, true));
            failed += error != nullptr;
        }
        EXPECT_EQ(failed, 0);
        const std::uint64_t on_node2 = server->stats(2).queries;
        EXPECT_GE(on_node2, 1u);
        EXPECT_EQ(total_queries(*server), 9u + on_node2);  // each one node 2 dropped, sent again elsewhere

        server->reset_stats();
        failed = 0;
        for (int k = 0; k < 9; ++k) {
            auto [error, result] = co_await session.try_execute(insert_statement(k, false));
            if (error) {
                ++failed;
                EXPECT_THROW(std::rethrow_exception(error), ConnectionClosed);
            }
        }
        EXPECT_GE(server->stats(2).queries, 1u);
        EXPECT_EQ(static_cast<std::uint64_t>(failed), server->stats(2).queries);  // the caller's error, not resent
        EXPECT_EQ(total_queries(*server), 9u);
    });
}

TEST(RetryRules, OtherServerErrorsAreRethrownEvenWhenIdempotent) {
    auto server = start_nodes(3);
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        server->faults().add(error_rule(ServerErrorCode::server_error, "INSERT INTO ks.kv"));
        server->reset_stats();
        auto [error, result] = co_await session.try_execute(insert_statement(1, true));
        CO_ASSERT_TRUE(error);
        try {
            std::rethrow_exception(error);
        } catch (const ServerError& e) {
            EXPECT_EQ(e.code(), ServerErrorCode::server_error);
        } catch (...) {
            ADD_FAILURE() << "not a ServerError";
        }
        EXPECT_EQ(total_queries(*server), 1u);
        // A statement the node rejects (no such table) is the caller's error at once, too.
        server->reset_stats();
        Statement bad("SELECT v FROM ks.nosuch WHERE k = 1");
        bad.set_idempotent();
        auto [error2, result2] = co_await session.try_execute(bad);
        CO_ASSERT_TRUE(error2);
        EXPECT_THROW(std::rethrow_exception(error2), InvalidRequest);
        EXPECT_EQ(total_queries(*server), 1u);
    });
}

TEST(RetryRules, ClientTimeoutGoesToTheNextHostOnlyWhenIdempotent) {
    auto server = start_nodes(3);
    srv::FaultRule slow;
    slow.kind = srv::FaultKind::delay;
    slow.pattern = "FROM ks.kv";
    slow.node = 3;
    slow.delay = 400ms;
    run_with_schema(*server, [&](Session& session) -> asio::awaitable<void> {
        server->faults().add(slow);
        int failed = 0;
        for (int i = 0; i < 6; ++i) {
            Statement st("SELECT v FROM ks.kv WHERE k = 1");
            st.set_timeout(100ms);
            st.set_idempotent();
            auto [error, result] = co_await session.try_execute(st);
            failed += error != nullptr;
        }
        EXPECT_EQ(failed, 0);
        failed = 0;
        for (int i = 0; i < 6; ++i) {
            Statement st("SELECT v FROM ks.kv WHERE k = 1");
            st.set_timeout(100ms);
            auto [error, result] = co_await session.try_execute(st);
            if (error) {
                ++failed;
                EXPECT_THROW(std::rethrow_exception(error), Timeout);
            }
        }
        EXPECT_EQ(failed, 2);
        co_await acass_test::wait_until_idle(session, 2s);
    });
}

// ---------------------------------------------------------------- host state

TEST(HostState, AllNodesDownIsNoHostAvailableWithEachCause) {
    auto server = start_nodes(3);
    run([&](auto ex) -> asio::awaitable<void> {
        auto config = config_for_all_nodes(*server);
        config.connection.connect_timeout = 2s;
        Cluster cluster(ex, config);
        Session session = co_await cluster.connect();
        for (int node = 1; node <= 3; ++node) server->stop_node(node);
        const auto start = std::chrono::steady_clock::now();
        std::vector<NoHostAvailable::HostFailure> failures;
        Statement st("SELECT key FROM system.local");
        st.set_idempotent();  // (a request sent before the client saw the close may fail as such)
        try {
            co_await session.execute(st);
        } catch (const NoHostAvailable& e) {
            failures = e.failures();
        }
        EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
        std::set<std::string> hosts;
        for (const auto& f : failures) {
            hosts.insert(f.host);
            EXPECT_TRUE(f.error);
        }
        EXPECT_EQ(hosts, (std::set<std::string>{server->address(1) + ":" + std::to_string(server->port()),
                                                server->address(2) + ":" + std::to_string(server->port()),
                                                server->address(3) + ":" + std::to_string(server->port())}));
    });
}

TEST(HostState, StoppedNodeIsMarkedDownAndComesBackAfterRestart) {
    auto server = start_nodes(3);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        const std::string node2 = server->address(2) + ":" + std::to_string(server->port());
        server->stop_node(2);
        for (int i = 0; i < 12; ++i) {
            Statement st("SELECT key FROM system.local");
            st.set_idempotent();
            co_await session.execute(st);  // node 2's share fails over to the others
        }
        EXPECT_TRUE(co_await wait_for_host(cluster, node2, false));
        server->reset_stats();
        for (int i = 0; i < 6; ++i) co_await session.execute("SELECT key FROM system.local");
        EXPECT_EQ(server->stats(2).queries, 0u);  // a down host is not in any plan

        server->restart_node(2);
        EXPECT_TRUE(co_await wait_for_host(cluster, node2, true));  // the probe found it
        server->reset_stats();
        for (int i = 0; i < 9; ++i) co_await session.execute("SELECT key FROM system.local");
        EXPECT_EQ(server->stats(2).queries, 3u);
    });
}

// ---------------------------------------------------------------- streams and scans lose a node

/// A rule that leaves the `nth` request for synthetic.rows on `node` unanswered, so that the
/// node can be stopped while that request is in flight.
srv::FaultRule stall_rule(int node, std::int64_t nth) {
    srv::FaultRule rule;
    rule.kind = srv::FaultKind::stall;
    rule.pattern = "synthetic.rows";
    rule.node = node;
    rule.nth = nth;
    return rule;
}

/// Stops `node` as soon as fault rule `rule` has fired (a request is then waiting on the node;
/// the stop closes its connection under it). Gives up after 60 s; `stopped` tells.
asio::awaitable<void> stop_when_hit(srv::Cluster& server, std::size_t rule, int node, std::atomic<bool>& stopped) {
    for (int i = 0; i < 30'000 && server.faults().hits(rule) == 0; ++i) co_await sleep_for(2ms);
    if (server.faults().hits(rule) == 0) co_return;
    server.stop_node(node);
    stopped = true;
}

// Pages of a stream go round robin over the nodes, one request at a time (each needs the
// previous page's paging state). Node 2 is stopped while it holds the stream's 60th or so page
// request (about row 300,000): that request is re-sent with the same paging state to another
// node, and the caller sees every row exactly once.
TEST(NodeLoss, MillionRowStreamSeesEveryRowExactlyOnce) {
    constexpr std::int64_t kRows = 1'000'000;
    auto server = start_nodes(3, kRows);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        st.set_idempotent();
        StreamConfig config;
        config.fetch_size = 5000;
        config.retry_policy = std::make_shared<NoRetry>();  // the failover is the executor's alone
        const std::size_t stall = server->faults().add(stall_rule(2, 20));
        std::atomic<bool> stopped{false};
        asio::co_spawn(ex, stop_when_hit(*server, stall, 2, stopped), asio::detached);
        ResultStream stream = co_await execute_stream(session, st, config);
        std::vector<std::uint8_t> seen(kRows, 0);
        std::int64_t rows = 0, duplicates = 0, rows_when_stopped = -1;
        while (auto row = co_await stream.next()) {
            const std::size_t index = synthetic_index(*row);
            CO_ASSERT_TRUE(index < seen.size());
            duplicates += seen[index]++ != 0;
            ++rows;
            if (stopped && rows_when_stopped < 0) rows_when_stopped = rows;
        }
        EXPECT_TRUE(stopped);
        // Mid-way: the stall hit while rows were still to come.
        EXPECT_GT(rows_when_stopped, 100'000);
        EXPECT_LT(rows_when_stopped, 600'000);
        EXPECT_EQ(rows, kRows);
        EXPECT_EQ(duplicates, 0);
        EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), kRows);
    });
}

// Token ranges stream in parallel (four at a time), each routed to a replica of its range. Node 2
// is stopped while it holds its 5th page request: that range goes on from its paging
// state on another node, the others go on elsewhere, every row exactly once.
TEST(NodeLoss, ParallelScanSeesEveryRowExactlyOnce) {
    constexpr std::int64_t kRows = 100'000;
    auto server = start_nodes(3, kRows);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        ScanConfig config;
        config.table = "synthetic.rows";
        config.splits = 24;
        config.concurrency = 4;
        config.stream.fetch_size = 1000;
        config.stream.retry_policy = std::make_shared<NoRetry>();
        const std::size_t stall = server->faults().add(stall_rule(2, 5));
        std::atomic<bool> stopped{false};
        asio::co_spawn(ex, stop_when_hit(*server, stall, 2, stopped), asio::detached);
        std::vector<std::uint8_t> seen(kRows, 0);
        std::int64_t rows = 0, duplicates = 0, rows_when_stopped = -1;
        ScanStats stats = co_await scan_table(session, config, [&](std::size_t, const Page& page) {
            for (Row row : page) {
                const std::size_t index = synthetic_index(row);
                if (index >= seen.size()) continue;
                duplicates += seen[index]++ != 0;
                ++rows;
            }
            if (stopped && rows_when_stopped < 0) rows_when_stopped = rows;
        });
        EXPECT_TRUE(stopped);
        EXPECT_GT(rows_when_stopped, 10'000);
        EXPECT_LT(rows_when_stopped, 90'000);
        EXPECT_EQ(rows, kRows);
        EXPECT_EQ(stats.rows, kRows);
        EXPECT_EQ(duplicates, 0);
        EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), kRows);
    });
}

// ---------------------------------------------------------------- scan routing

// scan_table sends each token range to a replica of that range: the owner of (start, end] is the
// replica set of `end`, as in Cassandra. With ranges aligned to the ring (split_token_ring_aligned
// over the nodes' tokens, 4 per node here) no range spans two owners, and the node counts every
// range read it does not wholly replicate: there must be none, and every node must serve some.
TEST(ScanRouting, EachTokenRangeGoesToAReplicaOfThatRange) {
    constexpr std::int64_t kRows = 30'000;
    srv::ClusterOptions options;
    options.port = 0;
    options.nodes = 3;
    options.tokens_per_node = 4;
    options.synthetic_rows = kRows;  // keyspace synthetic: SimpleStrategy, replication_factor 1
    srv::Cluster server(options);
    server.start();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, acass_test::config_for(server));
        Session session = co_await cluster.connect();
        std::vector<std::int64_t> ring;
        for (const HostInfo& h : cluster.metadata().hosts) ring.insert(ring.end(), h.tokens.begin(), h.tokens.end());
        CO_ASSERT_TRUE(ring.size() == 12u);
        ScanConfig config;
        config.table = "synthetic.rows";
        config.ranges = split_token_ring_aligned(24, ring);
        config.concurrency = 3;
        config.stream.fetch_size = 1000;
        const std::size_t ranges = config.ranges.size();
        server.reset_stats();
        ScanStats stats = co_await scan_table(session, config, [](std::size_t, const Page&) {});
        EXPECT_EQ(stats.rows, kRows);
        std::uint64_t range_reads = 0;
        for (int node = 1; node <= 3; ++node) {
            const auto s = server.stats(node);
            EXPECT_EQ(s.range_non_replica_requests, 0u) << "node " << node;
            EXPECT_GT(s.range_replica_requests, 0u) << "node " << node;
            range_reads += s.range_replica_requests;
        }
        EXPECT_GE(range_reads, ranges);  // every range read at least once (more pages for some)
    });
}

// ---------------------------------------------------------------- speculative execution

TEST(SpeculativeExecution, TheOtherNodeAnswersWhileOneIsDelayed) {
    auto server = start_nodes(3);
    srv::FaultRule slow;
    slow.kind = srv::FaultKind::delay;
    slow.pattern = "AS speculate";
    slow.node = 1;
    slow.delay = 1500ms;
    server->faults().add(slow);
    run([&](auto ex) -> asio::awaitable<void> {
        auto config = config_for_all_nodes(*server);
        config.speculative_execution = std::make_shared<ConstantSpeculativeExecutionPolicy>(50ms, 2);
        Cluster cluster(ex, config);
        Session session = co_await cluster.connect();
        server->reset_stats();
        for (int i = 0; i < 6; ++i) {
            Statement st("SELECT rpc_address AS speculate FROM system.local");
            st.set_idempotent();
            const auto start = std::chrono::steady_clock::now();
            ResultSet rs = co_await session.execute(st);
            EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms) << "request " << i;
            CO_ASSERT_TRUE(rs.one());
            EXPECT_NE(rs.one()->get<Inet>(0).to_string(), server->address(1));  // never the delayed node
        }
        EXPECT_EQ(server->stats(1).queries, 2u);  // its turn came twice; both speculated away
        EXPECT_EQ(total_queries(*server), 8u);

        // Not idempotent: never speculated, so node 1's turns wait for it.
        int slow_answers = 0;
        for (int i = 0; i < 3; ++i) {
            const auto start = std::chrono::steady_clock::now();
            co_await session.execute("SELECT rpc_address AS speculate FROM system.local");
            slow_answers += std::chrono::steady_clock::now() - start >= 1400ms;
        }
        EXPECT_EQ(slow_answers, 1);
        EXPECT_EQ(co_await acass_test::wait_until_idle(session, 3s), 0u);
    });
}

// ---------------------------------------------------------------- threads

TEST(Threads, SeveralThreadsRunTheClustersIoContext) {
    auto server = start_nodes(3);
    asio::io_context io;
    std::atomic<int> ok{0}, failed{0};
    std::exception_ptr error;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            Cluster cluster(ex, config_for_all_nodes(*server));
            Session session = co_await cluster.connect();
            co_await create_schema(session);
            PreparedStatement insert = co_await session.prepare("INSERT INTO ks.kv (k, v) VALUES (?, ?)");
            std::vector<std::tuple<std::int32_t, std::string>> rows;
            for (int k = 0; k < 400; ++k) rows.emplace_back(k, "v" + std::to_string(k));
            ConcurrencyOptions options;
            options.concurrency = 64;
            for (const auto& o : co_await session.execute_concurrent(insert, rows, options))
                (o.ok() ? ok : failed)++;
            server->stop_node(3);  // failover while four threads run the completions
            PreparedStatement select = co_await session.prepare("SELECT v FROM ks.kv WHERE k = ?");
            for (int k = 0; k < 400; ++k) {
                BoundStatement bound = select.bind(k);
                bound.set_idempotent();
                auto [e, result] = co_await session.try_execute(bound);
                (!e && result.one() && result.one()->get<std::string>(0) == "v" + std::to_string(k) ? ok : failed)++;
            }
            server->restart_node(3);
            co_await cluster.shutdown();
        },
        [&](std::exception_ptr e) { error = e; });
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
    EXPECT_EQ(ok.load(), 800);
    EXPECT_EQ(failed.load(), 0);
}

namespace {

/// Runs `body` on `io` with `threads` threads until it finishes; rethrows what it threw.
template <class F>
void run_on(asio::io_context& io, int threads, F body) {
    std::exception_ptr error;
    asio::co_spawn(io, body(), [&](std::exception_ptr e) { error = e; });
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    for (auto& t : pool) t.join();
    io.restart();
    if (error) std::rethrow_exception(error);
}

}  // namespace

// One Cluster (its connections on an io_context run by two threads) used at the same time from
// coroutines on two other io_contexts, each run by two threads: one Session shared across them
// and one Session per context, while a node is stopped and restarted.
TEST(Threads, SeveralIoContextsShareOneCluster) {
    auto server = start_nodes(3);
    asio::io_context cluster_io, io_a, io_b;
    auto work = asio::make_work_guard(cluster_io);
    std::vector<std::thread> cluster_threads;
    for (int i = 0; i < 2; ++i) cluster_threads.emplace_back([&] { cluster_io.run(); });
    auto cluster = std::make_unique<Cluster>(cluster_io.get_executor(), config_for_all_nodes(*server));
    std::optional<Session> shared;
    run_on(io_a, 1, [&]() -> asio::awaitable<void> {
        shared = co_await cluster->connect();
        co_await create_schema(*shared);
    });

    constexpr int kPerContext = 300;
    std::atomic<int> ok{0}, failed{0};
    // Each context: a Session of its own for the writes, the shared one for the reads; four
    // coroutines per context, on whichever of its threads.
    auto load = [&](int first, bool stop_midway) {
        return [&, first, stop_midway]() -> asio::awaitable<void> {
            Session own = co_await cluster->connect();
            PreparedStatement insert = co_await own.prepare("INSERT INTO ks.kv (k, v) VALUES (?, ?)");
            PreparedStatement select = co_await shared->prepare("SELECT v FROM ks.kv WHERE k = ?");
            auto ex = co_await asio::this_coro::executor;
            // The workers finish on any thread of the context: a thread-safe channel collects them.
            asio::experimental::concurrent_channel<void(asio::error_code, bool)> finished(ex, 4);
            for (int w = 0; w < 4; ++w) {
                asio::co_spawn(
                    ex,
                    [&, w]() -> asio::awaitable<void> {
                        for (int k = first + w; k < first + kPerContext; k += 4) {
                            if (stop_midway && k == first + kPerContext / 2) server->stop_node(3);
                            BoundStatement write = insert.bind(k, "v" + std::to_string(k));
                            write.set_idempotent();  // the same value each time: safe to repeat
                            auto [we, wr] = co_await own.try_execute(write);
                            BoundStatement read = select.bind(k);
                            read.set_idempotent();
                            auto [re, rr] = co_await shared->try_execute(read);
                            const bool good = !we && !re && rr.one() && rr.one()->get<std::string>(0) == "v" + std::to_string(k);
                            (good ? ok : failed)++;
                        }
                    },
                    [&](std::exception_ptr e) {
                        if (e) failed += 1000;
                        finished.try_send(asio::error_code{}, true);
                    });
            }
            for (int w = 0; w < 4; ++w) co_await finished.async_receive(asio::use_awaitable);
        };
    };
    std::thread context_a([&] { run_on(io_a, 2, load(0, true)); });
    std::thread context_b([&] { run_on(io_b, 2, load(kPerContext, false)); });
    context_a.join();
    context_b.join();
    server->restart_node(3);
    run_on(io_a, 1, [&]() -> asio::awaitable<void> { co_await cluster->shutdown(); });
    shared.reset();
    cluster.reset();
    work.reset();
    for (auto& t : cluster_threads) t.join();
    EXPECT_EQ(ok.load(), 2 * kPerContext);
    EXPECT_EQ(failed.load(), 0);
}
