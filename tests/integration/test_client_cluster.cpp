// The client against the embedded node (acass-server's library, in-process on a free port):
// v4/v5 with and without compression, authentication, 10,000 concurrent queries on one
// connection, timeout with a late response, UNPREPARED recovery, server errors, and recovery after
// a corrupt frame.

#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <asio.hpp>
#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

using acass_test::run;

std::unique_ptr<srv::Cluster> start_server(std::vector<int> versions = {4, 5},
                                           std::optional<std::pair<std::string, std::string>> credentials = {}) {
    acass_test::ServerSetup setup;
    setup.protocol_versions = std::move(versions);
    setup.credentials = std::move(credentials);
    return acass_test::start_server(std::move(setup));
}
using acass_test::config_for;

asio::awaitable<void> create_schema(Session& session) {
    co_await session.execute(
        "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    co_await session.execute("CREATE TABLE IF NOT EXISTS ks.kv (k int PRIMARY KEY, v text)");
}

}  // namespace

class ClientAgainstServer
    : public ::testing::TestWithParam<std::tuple<std::vector<int>, std::optional<int>, CompressionAlgorithm>> {};

TEST_P(ClientAgainstServer, CrudWithPreparedAndSimpleStatements) {
    auto [versions, version, compression] = GetParam();
    auto server = start_server(versions);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, version, compression));
        Session session = co_await cluster.connect();
        co_await create_schema(session);
        co_await session.set_keyspace("ks");
        PreparedStatement insert = co_await session.prepare("INSERT INTO kv (k, v) VALUES (?, ?)");
        for (int k = 0; k < 50; ++k) co_await session.execute(insert.bind(k, "value " + std::to_string(k)));
        co_await session.execute_batch(Batch::logged()
                                           .add("INSERT INTO kv (k, v) VALUES (?, ?)", 100, "batched")
                                           .add(insert.bind(101, std::string(70000, 'x'))));

        ResultSet one = co_await session.execute("SELECT k, v FROM kv WHERE k = ?", 7);
        CO_ASSERT_TRUE(one.one());
        EXPECT_EQ(one.one()->get<std::int32_t>("k"), 7);
        EXPECT_EQ(one.one()->get<std::string_view>("v"), "value 7");

        Statement all("SELECT k, v FROM kv");
        all.set_page_size(7);  // forces paging: execute() follows every page
        ResultSet rs = co_await session.execute(all);
        EXPECT_EQ(rs.size(), 52u);
        EXPECT_GT(rs.pages().size(), 7u);
        std::set<int> keys;
        for (const Row& row : rs) keys.insert(row.get<std::int32_t>(0));
        EXPECT_EQ(keys.size(), 52u);

        PreparedStatement select = co_await session.prepare("SELECT v FROM kv WHERE k = ?");
        ResultSet big = co_await session.execute(select.bind(101));
        CO_ASSERT_TRUE(big.one());
        EXPECT_EQ(big.one()->get<std::string>(0).size(), 70000u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

INSTANTIATE_TEST_SUITE_P(
    VersionsAndCompression, ClientAgainstServer,
    ::testing::Values(std::make_tuple(std::vector<int>{4, 5}, std::optional<int>(4), CompressionAlgorithm::none),
                      std::make_tuple(std::vector<int>{4, 5}, std::optional<int>(4), CompressionAlgorithm::lz4),
                      std::make_tuple(std::vector<int>{4, 5}, std::optional<int>(4), CompressionAlgorithm::snappy),
                      std::make_tuple(std::vector<int>{4, 5}, std::optional<int>(5), CompressionAlgorithm::none),
                      std::make_tuple(std::vector<int>{4, 5}, std::optional<int>(5), CompressionAlgorithm::lz4),
                      std::make_tuple(std::vector<int>{4, 5}, std::optional<int>(), CompressionAlgorithm::lz4),
                      std::make_tuple(std::vector<int>{4}, std::optional<int>(), CompressionAlgorithm::none)));

TEST(ClientAgainstServerAuth, GoodAndBadCredentials) {
    auto server = start_server({4, 5}, std::make_pair(std::string("alice"), std::string("secret")));
    run([&](auto ex) -> asio::awaitable<void> {
        auto good = config_for(*server);
        good.connection.auth = PlainTextAuth{"alice", "secret"};
        Cluster cluster(ex, good);
        Session session = co_await cluster.connect();
        ResultSet rs = co_await session.execute("SELECT release_version FROM system.local");
        EXPECT_EQ(rs.size(), 1u);
        co_await session.shutdown();

        auto bad = config_for(*server);
        bad.connection.auth = PlainTextAuth{"alice", "wrong"};
        Cluster bad_cluster(ex, bad);
        bool rejected = false;
        try {
            co_await bad_cluster.connect();
        } catch (const AuthenticationError&) {
            rejected = true;
        }
        EXPECT_TRUE(rejected);

        auto none = config_for(*server);  // no credentials at all: a distinct, typed error
        Cluster anonymous(ex, none);
        std::string what;
        try {
            co_await anonymous.connect();
        } catch (const CredentialsRequired& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("PasswordAuthenticator"), std::string::npos) << what;
    });
}

TEST(ClientAgainstServerLoad, TenThousandConcurrentQueriesOnOneConnection) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(*server);
        cfg.connections_per_host = 1;
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        co_await create_schema(session);
        PreparedStatement insert = co_await session.prepare("INSERT INTO ks.kv (k, v) VALUES (?, ?)");
        std::vector<std::tuple<std::int32_t, std::string>> rows;
        for (int k = 0; k < 10000; ++k) rows.emplace_back(k, "v" + std::to_string(k));
        ConcurrencyOptions wide;
        wide.concurrency = 10000;
        std::vector<ExecutionOutcome> inserted = co_await session.execute_concurrent(insert, rows, wide);
        for (const auto& o : inserted) EXPECT_TRUE(o.ok());

        PreparedStatement select = co_await session.prepare("SELECT k, v FROM ks.kv WHERE k = ?");
        std::vector<std::tuple<std::int32_t>> keys;
        for (int k = 0; k < 10000; ++k) keys.emplace_back(k);
        std::vector<ExecutionOutcome> outcomes = co_await session.execute_concurrent(select, keys, wide);
        int matching = 0;
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            if (!outcomes[i].ok()) continue;
            std::optional<Row> row = outcomes[i].result.one();
            if (row && row->get<std::int32_t>(0) == static_cast<std::int32_t>(i) &&
                row->get<std::string_view>(1) == "v" + std::to_string(i))
                ++matching;
        }
        EXPECT_EQ(matching, 10000);
        EXPECT_EQ(session.open_connections(), 1u);
        EXPECT_EQ(server->stats(1).connections, 2u);  // the pool's and the control connection
        co_await session.shutdown();
    });
}

TEST(ClientAgainstServerFaults, TimeoutThenLateResponseIsDropped) {
    auto server = start_server();
    srv::FaultRule delay;
    delay.kind = srv::FaultKind::delay;
    delay.pattern = "slow";
    delay.delay = 300ms;
    server->faults().add(delay);
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(*server, 5);
        cfg.connection.max_in_flight = 1;  // the next request must wait for (and reuse) the orphaned id
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        Statement slow("SELECT key AS slow FROM system.local");
        slow.set_timeout(50ms);
        bool timed_out = false;
        try {
            co_await session.execute(slow);
        } catch (const Timeout&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        ResultSet rs = co_await session.execute("SELECT cluster_name FROM system.local");
        CO_ASSERT_TRUE(rs.one());
        EXPECT_EQ(rs.one()->get<std::string_view>(0), "Test Cluster");
        EXPECT_EQ(session.open_connections(), 1u);
        co_await session.shutdown();
    });
}

TEST(ClientAgainstServerFaults, UnpreparedIsRecovered) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        co_await create_schema(session);
        PreparedStatement insert = co_await session.prepare("INSERT INTO ks.kv (k, v) VALUES (?, ?)");
        co_await session.execute(insert.bind(1, "a"));
        server->engine().forget_prepared(1);
        co_await session.execute(insert.bind(2, "b"));
        ResultSet rs = co_await session.execute("SELECT v FROM ks.kv WHERE k = ?", 2);
        CO_ASSERT_TRUE(rs.one());
        EXPECT_EQ(rs.one()->get<std::string_view>(0), "b");
        co_await session.shutdown();
    });
}

TEST(ClientAgainstServerFaults, ServerErrorsAreTyped) {
    auto server = start_server();
    srv::FaultRule rt;
    rt.kind = srv::FaultKind::error;
    rt.pattern = "read_timeout_please";
    rt.error_code = ServerErrorCode::read_timeout;
    server->faults().add(rt);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        auto [e1, r1] = co_await session.try_execute(Statement("SELEC nonsense"));
        EXPECT_TRUE(e1);
        if (e1) {
            EXPECT_THROW(std::rethrow_exception(e1), SyntaxError);
        }
        auto [e2, r2] = co_await session.try_execute(Statement("SELECT * FROM nowhere.nothing"));
        EXPECT_TRUE(e2);
        if (e2) {
            EXPECT_THROW(std::rethrow_exception(e2), InvalidRequest);
        }
        auto [e3, r3] = co_await session.try_execute(Statement("SELECT key AS read_timeout_please FROM system.local"));
        EXPECT_TRUE(e3);
        if (e3) {
            EXPECT_THROW(std::rethrow_exception(e3), ReadTimeout);
        }
        bool exists = false;
        co_await session.execute(
            "CREATE KEYSPACE ks2 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        try {
            co_await session.execute(
                "CREATE KEYSPACE ks2 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        } catch (const AlreadyExists& e) {
            exists = e.keyspace() == "ks2";
        }
        EXPECT_TRUE(exists);
        co_await session.shutdown();
    });
}

TEST(ClientAgainstServerFaults, CorruptFrameIsProtocolErrorAndSessionRecovers) {
    auto server = start_server();
    srv::FaultRule corrupt;
    corrupt.kind = srv::FaultKind::corrupt_frame;
    corrupt.pattern = "corrupt_me";
    corrupt.max_hits = 1;
    server->faults().add(corrupt);
    for (int version : {4, 5}) {
        run([&](auto ex) -> asio::awaitable<void> {
            Cluster cluster(ex, config_for(*server, version));
            Session session = co_await cluster.connect();
            // A corrupt frame loses the byte stream: the request fails as on a dropped
            // connection, with the ProtocolError that broke it as the cause.
            bool protocol_error = false;
            try {
                co_await session.execute("SELECT key AS corrupt_me FROM system.local");
            } catch (const ConnectionClosed& e) {
                try {
                    if (e.cause()) std::rethrow_exception(e.cause());
                } catch (const ProtocolError&) {
                    protocol_error = true;
                }
            }
            EXPECT_TRUE(protocol_error) << "v" << version;
            ResultSet rs = co_await session.execute("SELECT key FROM system.local");
            EXPECT_EQ(rs.size(), 1u);
            co_await session.shutdown();
        });
        server->faults().clear();
        server->faults().add(corrupt);
    }
}
