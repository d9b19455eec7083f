// execute_stream against the embedded node (in-process, free port) and its generated table
// synthetic.rows: pk bigint, ck int (100 rows per partition), name = 'name-<pk>-<ck>',
// value = pk * 0.5 + ck, ts = 1700000000000 + pk * 1000 + ck.
#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>
#include <async_cassandra/stream.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/io_context.hpp>

#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <utility>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

constexpr std::int64_t kRows = 2550;  // 26 partitions, the last one with 50 rows

using acass_test::run;

std::unique_ptr<srv::Cluster> start_server() {
    srv::ClusterOptions options;
    options.port = 0;
    options.synthetic_rows = kRows;
    auto server = std::make_unique<srv::Cluster>(options);
    server->start();
    return server;
}

ClusterConfig config_for(const srv::Cluster& server, std::optional<int> version) {
    ClusterConfig c;
    c.contact_points = {"127.0.0.1"};
    c.port = server.port();
    c.connection.protocol_version = version;
    c.request_timeout = 10s;
    return c;
}

/// Checks one synthetic row and returns its (pk, ck).
std::pair<std::int64_t, std::int32_t> check_row(const Row& row) {
    const auto pk = row.get<std::int64_t>("pk");
    const auto ck = row.get<std::int32_t>("ck");
    EXPECT_EQ(row.get<std::string_view>("name"), "name-" + std::to_string(pk) + "-" + std::to_string(ck));
    EXPECT_DOUBLE_EQ(row.get<double>("value"), static_cast<double>(pk) * 0.5 + ck);
    EXPECT_EQ(row.get<Timestamp>("ts").milliseconds, 1700000000000 + pk * 1000 + ck);
    return {pk, ck};
}

std::size_t unique_count(const std::multiset<std::pair<std::int64_t, std::int32_t>>& keys) {
    return std::set<std::pair<std::int64_t, std::int32_t>>(keys.begin(), keys.end()).size();
}

StreamConfig stream_config(std::int32_t fetch, std::size_t prefetch) {
    StreamConfig c;
    c.fetch_size = fetch;
    c.prefetch_pages = prefetch;
    c.page_timeout = 10s;
    return c;
}

}  // namespace

class StreamAgainstServer : public ::testing::TestWithParam<std::tuple<int, std::size_t>> {};

TEST_P(StreamAgainstServer, EveryRowExactlyOnce) {
    auto [version, prefetch] = GetParam();
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, version));
        Session session = co_await cluster.connect();
        std::set<std::pair<std::int64_t, std::int32_t>> keys;
        std::int64_t callback_total = 0;
        StreamConfig c = stream_config(100, prefetch);
        c.page_callback = [&](std::int64_t, std::int64_t, std::int64_t total) { callback_total = total; };
        Statement st("SELECT * FROM synthetic.rows");
        {
            auto stream = co_await execute_stream(session, st, c);
            while (auto row = co_await stream.next()) keys.insert(check_row(*row));
            EXPECT_EQ(stream.total_rows_fetched(), kRows);
            EXPECT_GE(stream.page_number(), 26);
            EXPECT_FALSE(stream.paging_state().has_value());
        }
        EXPECT_EQ(static_cast<std::int64_t>(keys.size()), kRows);
        EXPECT_EQ(callback_total, kRows);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

INSTANTIATE_TEST_SUITE_P(VersionsAndPrefetch, StreamAgainstServer,
                         ::testing::Values(std::make_tuple(4, std::size_t{0}), std::make_tuple(4, std::size_t{2}),
                                           std::make_tuple(5, std::size_t{1}), std::make_tuple(5, std::size_t{3})));

TEST(StreamAgainstServerMisc, LimitAcrossPages) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows LIMIT 250");
        StreamConfig c = stream_config(100, 1);
        auto stream = co_await execute_stream(session, st, c);
        std::set<std::pair<std::int64_t, std::int32_t>> keys;
        int pages = 0;
        while (auto page = co_await stream.next_page()) {
            ++pages;
            EXPECT_LE(page->size(), 100u);
            for (Row r : *page) keys.insert(check_row(r));
        }
        EXPECT_EQ(keys.size(), 250u);
        EXPECT_GE(pages, 3);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(StreamAgainstServerMisc, ResumeFromSavedState) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        StreamConfig c = stream_config(120, 2);
        std::multiset<std::pair<std::int64_t, std::int32_t>> keys;
        std::optional<protocol::Bytes> saved;
        {
            auto stream = co_await execute_stream(session, st, c);
            for (int i = 0; i < 4; ++i) {
                auto page = co_await stream.next_page();
                if (!page) break;
                for (Row r : *page) keys.insert(check_row(r));
            }
            saved = stream.paging_state();
        }  // abandoned with a page in flight
        EXPECT_TRUE(saved.has_value());
        EXPECT_EQ(keys.size(), 480u);
        auto resumed = co_await execute_stream(session, st, c.resume_from(saved));
        while (auto row = co_await resumed.next()) keys.insert(check_row(*row));
        EXPECT_EQ(static_cast<std::int64_t>(keys.size()), kRows);
        std::set<std::pair<std::int64_t, std::int32_t>> unique(keys.begin(), keys.end());
        EXPECT_EQ(unique.size(), keys.size());  // no row twice
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(StreamAgainstServerMisc, BoundPreparedStatementAndEarlyBreak) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        PreparedStatement ps = co_await session.prepare("SELECT * FROM synthetic.rows WHERE pk = ?");
        BoundStatement bound = ps.bind(std::int64_t{7});
        bound.set_consistency(Consistency::one);
        StreamConfig c = stream_config(30, 1);
        std::set<std::int32_t> cks;
        {
            auto stream = co_await execute_stream(session, bound, c);
            while (auto row = co_await stream.next()) {
                auto [pk, ck] = check_row(*row);
                EXPECT_EQ(pk, 7);
                cks.insert(ck);
            }
            EXPECT_EQ(stream.page_number(), 4);
        }
        EXPECT_EQ(cks.size(), 100u);
        // Break early (a page in flight), then the session still serves other requests.
        Statement all("SELECT * FROM synthetic.rows");
        for (int i = 0; i < 20; ++i) {
            StreamConfig c2 = stream_config(50, 2);
            auto stream = co_await execute_stream(session, all, c2);
            int n = 0;
            while (auto row = co_await stream.next())
                if (++n == 75) break;
        }
        ResultSet rs = co_await session.execute("SELECT * FROM synthetic.rows WHERE pk = ?", std::int64_t{3});
        EXPECT_EQ(rs.size(), 100u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(StreamAgainstServerMisc, InvalidQueryFailsAtOnce) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.no_such_table");
        StreamConfig c = stream_config(100, 1);
        bool thrown = false;
        try {
            auto stream = co_await execute_stream(session, st, c);
        } catch (const InvalidRequest&) {
            thrown = true;
        }
        EXPECT_TRUE(thrown);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(StreamAgainstServerFaults, OverloadedMidStreamIsRetried) {
    auto server = start_server();
    srv::FaultRule rule;
    rule.kind = srv::FaultKind::error;
    rule.pattern = "synthetic.rows";
    rule.error_code = ServerErrorCode::overloaded;
    rule.nth = 3;  // the third page request, then its first retry
    const auto first = server->faults().add(rule);
    rule.nth = 4;
    const auto second = server->faults().add(rule);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        StreamConfig c = stream_config(200, 1);
        c.retry_policy = std::make_shared<ExponentialBackoffRetry>(3, 1ms, 10ms);
        std::multiset<std::pair<std::int64_t, std::int32_t>> keys;
        auto stream = co_await execute_stream(session, st, c);
        while (auto row = co_await stream.next()) keys.insert(check_row(*row));
        EXPECT_EQ(static_cast<std::int64_t>(keys.size()), kRows);
        EXPECT_EQ(unique_count(keys), keys.size());
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
    EXPECT_EQ(server->faults().hits(first), 1);
    EXPECT_EQ(server->faults().hits(second), 1);
}

TEST(StreamAgainstServerFaults, StalledPageTimesOutAndResumes) {
    auto server = start_server();
    srv::FaultRule rule;
    rule.kind = srv::FaultKind::stall;
    rule.pattern = "synthetic.rows";
    rule.nth = 3;
    server->faults().add(rule);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        StreamConfig c = stream_config(300, 0);
        c.page_timeout = 200ms;
        std::multiset<std::pair<std::int64_t, std::int32_t>> keys;
        std::optional<protocol::Bytes> resume;
        bool timed_out = false;
        {
            auto stream = co_await execute_stream(session, st, c);
            try {
                while (auto row = co_await stream.next()) keys.insert(check_row(*row));
            } catch (const StreamTimeout& e) {
                timed_out = true;
                resume = e.paging_state();
                EXPECT_EQ(e.paging_state(), stream.paging_state());
            }
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(keys.size(), 600u);
        auto resumed = co_await execute_stream(session, st, c.resume_from(resume));
        while (auto row = co_await resumed.next()) keys.insert(check_row(*row));
        EXPECT_EQ(static_cast<std::int64_t>(keys.size()), kRows);
        EXPECT_EQ(unique_count(keys), keys.size());
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(StreamAgainstServerFaults, SessionShutdownEndsAPendingStream) {
    auto server = start_server();
    srv::FaultRule rule;
    rule.kind = srv::FaultKind::delay_pages;
    rule.pattern = "synthetic.rows";
    rule.delay = 300ms;
    server->faults().add(rule);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        StreamConfig c = stream_config(500, 1);
        c.retry_policy = std::make_shared<NoRetry>();
        auto stream = co_await execute_stream(session, st, c);
        auto page = co_await stream.next_page();
        EXPECT_TRUE(page.has_value());
        asio::steady_timer timer(ex, 20ms);
        timer.async_wait([session, ex](asio::error_code) { asio::co_spawn(ex, session.shutdown(), asio::detached); });
        const auto start = std::chrono::steady_clock::now();
        bool failed = false;
        try {
            while (co_await stream.next_page()) {
            }
        } catch (const Error&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 250ms);
        EXPECT_EQ(page->size(), 500u);  // pages handed out stay valid
        co_await cluster.shutdown();
    });
}
