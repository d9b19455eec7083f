// The cluster-aware request path against acass-server --nodes 3 (in-process, free port): discovery
// from one contact point, prepared single-partition requests only on replicas (token-aware) and
// only in the local data center (DC-aware, 2 DCs x 3 nodes), requests spread over every node, each rule of the default retry policy driven by the node's fault rules
// (counted on the nodes), hosts marked down and brought back, NoHostAvailable with each host's
// cause, a 1,000,000-row stream and a parallel scan that lose a node midway and still see every
// row exactly once, and several threads running the Cluster's io_context.
// GCC 12 reports a false -Wmismatched-new-delete on Asio's awaitable frame allocator.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <asio.hpp>
#include "support/cluster_helpers.hpp"
#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

using acass_test::config_for_all_nodes;
using acass_test::error_rule;
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

// ---------------------------------------------------------------- retry rules

TEST(RetryRules, NonIdempotentWriteUnderWriteTimeoutIsSentExactlyOnce) {
    auto server = start_nodes(3);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        co_await create_schema(session);
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
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        co_await create_schema(session);
        // The node answers received=0 < block_for=1: the replicas did not answer, retrying the
        // same coordinator would not help.
        server->faults().add(error_rule(ServerErrorCode::read_timeout, "FROM ks.kv"));
        server->reset_stats();
        Statement select("SELECT v FROM ks.kv WHERE k = 1");
        select.set_idempotent();
        auto [error, result] = co_await session.try_execute(select);
        CO_ASSERT_TRUE(error);
        EXPECT_THROW(std::rethrow_exception(error), ReadTimeout);
        EXPECT_EQ(total_queries(*server), 1u);
    });
}

TEST(RetryRules, UnavailableTriesTheNextHostOnce) {
    auto server = start_nodes(3);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        co_await create_schema(session);
        // Only node 1 is short of replicas: every request succeeds, idempotent or not.
        const std::size_t rule = server->faults().add(error_rule(ServerErrorCode::unavailable, "FROM ks.kv", 1));
        for (int i = 0; i < 9; ++i) co_await session.execute("SELECT v FROM ks.kv WHERE k = 1");
        EXPECT_EQ(server->faults().hits(rule), 3);
        // Every node unavailable: two attempts (the first host, then the next one), then the error.
        server->faults().clear();
        server->faults().add(error_rule(ServerErrorCode::unavailable, "FROM ks.kv"));
        server->reset_stats();
        auto [error, result] = co_await session.try_execute(Statement("SELECT v FROM ks.kv WHERE k = 1"));
        CO_ASSERT_TRUE(error);
        EXPECT_THROW(std::rethrow_exception(error), Unavailable);
        EXPECT_EQ(total_queries(*server), 2u);
    });
}

class NextHostOnlyWhenIdempotent : public ::testing::TestWithParam<ServerErrorCode> {};

TEST_P(NextHostOnlyWhenIdempotent, FailuresOfOneNode) {
    const ServerErrorCode code = GetParam();
    auto server = start_nodes(3);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        co_await create_schema(session);
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

TEST(RetryRules, ClientTimeoutGoesToTheNextHostOnlyWhenIdempotent) {
    auto server = start_nodes(3);
    srv::FaultRule slow;
    slow.kind = srv::FaultKind::delay;
    slow.pattern = "FROM ks.kv";
    slow.node = 3;
    slow.delay = 400ms;
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for_all_nodes(*server));
        Session session = co_await cluster.connect();
        co_await create_schema(session);
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
        ResultStream stream = co_await execute_stream(session, st, config);
        std::vector<std::uint8_t> seen(kRows, 0);
        std::int64_t rows = 0, duplicates = 0;
        bool stopped = false;
        while (auto row = co_await stream.next()) {
            const std::size_t index = synthetic_index(*row);
            CO_ASSERT_TRUE(index < seen.size());
            duplicates += seen[index]++ != 0;
            if (++rows == 300'000 && !stopped) {
                server->stop_node(2);
                stopped = true;
            }
        }
        EXPECT_TRUE(stopped);
        EXPECT_EQ(rows, kRows);
        EXPECT_EQ(duplicates, 0);
        EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), kRows);
    });
}

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
        std::vector<std::uint8_t> seen(kRows, 0);
        std::int64_t rows = 0, duplicates = 0;
        bool stopped = false;
        ScanStats stats = co_await scan_table(session, config, [&](std::size_t, const Page& page) {
            for (Row row : page) {
                const std::size_t index = synthetic_index(row);
                if (index >= seen.size()) continue;
                duplicates += seen[index]++ != 0;
                ++rows;
            }
            if (rows > 20'000 && !stopped) {
                server->stop_node(3);
                stopped = true;
            }
        });
        EXPECT_TRUE(stopped);
        EXPECT_EQ(rows, kRows);
        EXPECT_EQ(stats.rows, kRows);
        EXPECT_EQ(duplicates, 0);
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
