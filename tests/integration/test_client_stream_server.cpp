// execute_stream against the embedded node (in-process, free port) and its generated table
// synthetic.rows: pk bigint, ck int (100 rows per partition), name = 'name-<pk>-<ck>',
// value = pk * 0.5 + ck, ts = 1700000000000 + pk * 1000 + ck.
#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>
#include <async_cassandra/stream.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/io_context.hpp>

#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"
#include "protocol/bytes.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>
#include <string>
#include <utility>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

constexpr std::int64_t kRows = 2550;  // 26 partitions, the last one with 50 rows

using acass_test::run;

std::unique_ptr<srv::Cluster> start_server() {
    acass_test::ServerSetup setup;
    setup.synthetic_rows = kRows;
    return acass_test::start_server(std::move(setup));
}
using acass_test::config_for;
using acass_test::wait_until_idle;

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
        std::optional<PagingState> saved;
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
        std::optional<PagingState> resume;
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

// ---------------------------------------------------------------- row-exact resume points

namespace {

using Key = std::pair<std::int64_t, std::int32_t>;

/// Every key of the synthetic table in stream order (one uninterrupted stream).
asio::awaitable<std::vector<Key>> all_keys(Session session, const Statement& st) {
    StreamConfig c = stream_config(1000, 1);
    auto stream = co_await execute_stream(session, st, c);
    std::vector<Key> keys;
    while (auto row = co_await stream.next()) keys.push_back(check_row(*row));
    co_return keys;
}

}  // namespace

TEST(StreamAgainstServerResume, RowExactResumeMidPageWithAnyFetchSize) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        const std::vector<Key> expected = co_await all_keys(session, st);
        EXPECT_EQ(static_cast<std::int64_t>(expected.size()), kRows);
        // Stop after `stop` rows (mid-page, on page edges, at the end), save the point as text,
        // resume with another fetch size: the two parts together are the table, in order, once.
        struct Case {
            std::int64_t stop;
            std::int32_t fetch;
            std::int32_t resumed_fetch;
            std::size_t prefetch;
        };
        const std::vector<Case> cases = {{0, 100, 100, 1},     {1, 100, 100, 0},    {15, 100, 7, 2},
                                         {99, 100, 1000, 1},   {100, 100, 100, 1},  {101, 100, 33, 0},
                                         {1234, 100, 500, 3},  {1234, 1000, 10, 1}, {kRows - 1, 100, 100, 1},
                                         {kRows, 100, 100, 1}, {kRows, 2550, 5, 1}};
        for (const Case& k : cases) {
            SCOPED_TRACE("stop " + std::to_string(k.stop) + " fetch " + std::to_string(k.fetch) + " then " +
                         std::to_string(k.resumed_fetch));
            std::vector<Key> seen;
            std::string saved;
            {
                StreamConfig c = stream_config(k.fetch, k.prefetch);
                auto stream = co_await execute_stream(session, st, c);
                while (static_cast<std::int64_t>(seen.size()) < k.stop) {
                    auto row = co_await stream.next();
                    if (!row) break;
                    seen.push_back(check_row(*row));
                }
                if (k.stop == kRows) {  // consume the end too: the point must then say "finished"
                    {
                        auto after_end = co_await stream.next();
                        EXPECT_FALSE(after_end.has_value());
                    }
                    EXPECT_TRUE(stream.resume_point().finished);
                }
                saved = stream.resume_point().to_string();
            }  // abandoned with pages buffered and maybe one in flight
            const ResumePoint point = ResumePoint::from_string(saved);
            EXPECT_EQ(point.to_string(), saved);
            StreamConfig c = stream_config(k.resumed_fetch, 1);
            std::int64_t callback_rows = 0;
            c.page_callback = [&](std::int64_t, std::int64_t rows, std::int64_t) { callback_rows += rows; };
            auto resumed = co_await execute_stream(session, st, c.resume_from(point));
            std::int64_t resumed_rows = 0;
            while (auto row = co_await resumed.next()) {
                seen.push_back(check_row(*row));
                ++resumed_rows;
            }
            EXPECT_EQ(resumed.total_rows_fetched(), resumed_rows);  // skipped rows are not counted
            EXPECT_EQ(callback_rows, resumed_rows);
            EXPECT_TRUE(resumed.resume_point().finished);
            EXPECT_EQ(seen, expected);
        }
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(StreamAgainstServerResume, PageConsumerAndMixedConsumerResume) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        const std::vector<Key> expected = co_await all_keys(session, st);
        std::vector<Key> seen;
        ResumePoint point;
        {
            StreamConfig c = stream_config(90, 1);
            auto stream = co_await execute_stream(session, st, c);
            EXPECT_EQ(stream.resume_point(), ResumePoint{});  // nothing consumed: the start
            for (int i = 0; i < 3; ++i) {
                auto page = co_await stream.next_page();
                for (Row r : *page) seen.push_back(check_row(r));
            }
            // Three whole pages taken: the point is the page-granular state after them.
            EXPECT_EQ(stream.resume_point().paging_state, stream.paging_state());
            EXPECT_EQ(stream.resume_point().rows_to_skip, 0);
            for (int i = 0; i < 40; ++i) {
                auto row = co_await stream.next();
                seen.push_back(check_row(*row));
            }
            point = stream.resume_point();
            EXPECT_EQ(point.rows_to_skip, 40);
        }
        // Resume page by page: the first page starts exactly at the next row.
        StreamConfig c = stream_config(64, 0);
        auto resumed = co_await execute_stream(session, st, c.resume_from(point));
        while (auto page = co_await resumed.next_page())
            for (Row r : *page) seen.push_back(check_row(r));
        EXPECT_EQ(seen, expected);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(StreamAgainstServerResume, ResumePointTextIsValidated) {
    ResumePoint p;
    p.paging_state = PagingState(Bytes{0x00, 0xab, 0xff});
    p.rows_to_skip = 42;
    EXPECT_EQ(p.to_string(), "acass-resume-1 00abff 42 0");
    EXPECT_EQ(ResumePoint::from_string("acass-resume-1 00ABFF 42 0\n"), p);
    ResumePoint start;
    EXPECT_EQ(ResumePoint::from_string(start.to_string()), start);
    ResumePoint empty_state;
    empty_state.paging_state.emplace();
    EXPECT_EQ(ResumePoint::from_string(empty_state.to_string()), empty_state);
    ResumePoint end;
    end.finished = true;
    EXPECT_EQ(ResumePoint::from_string(end.to_string()), end);
    for (const char* bad : {"", "acass-resume-1", "acass-resume-2 - 0 0", "acass-resume-1 abc 0 0",
                            "acass-resume-1 zz 0 0", "acass-resume-1 - -1 0", "acass-resume-1 - 1x 0",
                            "acass-resume-1 - 0 2", "acass-resume-1 00 0 1", "acass-resume-1 - 0 0 extra",
                            "acass-resume-1 - 99999999999999999999 0"})
        EXPECT_THROW(ResumePoint::from_string(bad), UsageError) << bad;
}

TEST(StreamAgainstServerResume, FinishedPointSendsNothing) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        const auto before = server->stats(1).queries;
        ResumePoint end;
        end.finished = true;
        StreamConfig c = stream_config(100, 1);
        Statement st("SELECT * FROM synthetic.rows");
        auto stream = co_await execute_stream(session, st, c.resume_from(end));
        {
            auto after_end = co_await stream.next();
            EXPECT_FALSE(after_end.has_value());
        }
        EXPECT_TRUE(stream.resume_point().finished);
        EXPECT_EQ(server->stats(1).queries, before);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

// ---------------------------------------------------------------- connection loss mid-stream

TEST(StreamAgainstServerFaults, ConnectionDroppedAfterPagesIsRetriedOnANewConnection) {
    auto server = start_server();
    srv::FaultRule rule;
    rule.kind = srv::FaultKind::drop_after_pages;
    rule.pattern = "synthetic.rows";
    rule.pages = 5;       // the 6th page request finds its connection closed
    rule.max_hits = 1;
    const auto id = server->faults().add(rule);
    run([&](auto ex) -> asio::awaitable<void> {
        ClusterConfig config = config_for(*server, 5);
        Cluster cluster(ex, config);
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        StreamConfig c = stream_config(100, 2);
        c.retry_policy = std::make_shared<ExponentialBackoffRetry>(5, 10ms, 200ms);
        std::vector<Key> keys;
        auto stream = co_await execute_stream(session, st, c);
        while (auto row = co_await stream.next()) keys.push_back(check_row(*row));
        EXPECT_EQ(static_cast<std::int64_t>(keys.size()), kRows);
        std::set<Key> unique(keys.begin(), keys.end());
        EXPECT_EQ(unique.size(), keys.size());
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
    EXPECT_EQ(server->faults().hits(id), 1);
}

TEST(StreamAgainstServerFaults, ConnectionDropWithoutRetriesCarriesTheResumePoint) {
    auto server = start_server();
    srv::FaultRule rule;
    rule.kind = srv::FaultKind::drop_after_pages;
    rule.pattern = "synthetic.rows";
    rule.pages = 4;
    rule.max_hits = 1;
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        const std::vector<Key> expected = co_await all_keys(session, st);
        server->faults().add(rule);  // counts Rows responses from here on
        StreamConfig c = stream_config(100, 1);
        c.retry_policy = std::make_shared<NoRetry>();
        std::vector<Key> seen;
        ResumePoint point;
        bool failed = false;
        {
            auto stream = co_await execute_stream(session, st, c);
            try {
                while (auto row = co_await stream.next()) seen.push_back(check_row(*row));
            } catch (const StreamError& e) {
                failed = true;
                EXPECT_EQ(e.paging_state(), stream.resume_point().paging_state);
            }
            point = stream.resume_point();
        }
        EXPECT_TRUE(failed);
        EXPECT_EQ(seen.size(), 400u);
        auto resumed = co_await execute_stream(session, st, c.resume_from(point));
        while (auto row = co_await resumed.next()) seen.push_back(check_row(*row));
        EXPECT_EQ(seen, expected);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

// ---------------------------------------------------------------- abandoned streams

TEST(StreamAgainstServerCleanup, TenThousandAbandonedStreamsLeaveNoRequestBehind) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        ClusterConfig config = config_for(*server, std::nullopt);
        config.connections_per_host = 1;  // every stream shares one connection
        Cluster cluster(ex, config);
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        constexpr int kStreams = 10000, kWorkers = 50;
        std::int64_t rows_read = 0, cancelled = 0;
        int done_workers = 0;
        auto worker = [&](int id) -> asio::awaitable<void> {
            std::uint64_t rng = 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(id + 1);
            auto next_random = [&](std::uint64_t bound) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                return rng % bound;
            };
            for (int i = id; i < kStreams; i += kWorkers) {
                // Small pages keep the run short under ASan while still crossing page edges.
                StreamConfig c = stream_config(static_cast<std::int32_t>(2 + next_random(24)), next_random(4));
                const auto stop_after = static_cast<std::int64_t>(next_random(50));
                const auto how = next_random(4);
                if (how == 3) {
                    // Cancel the consuming coroutine while it may be waiting for a page.
                    asio::cancellation_signal cancel;
                    bool finished = false;
                    asio::co_spawn(
                        ex,
                        [&, c]() -> asio::awaitable<void> {
                            auto stream = co_await execute_stream(session, st, c);
                            while (auto row = co_await stream.next()) ++rows_read;
                        },
                        asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                            finished = true;
                            if (e) ++cancelled;
                        }));
                    asio::steady_timer t(ex, std::chrono::microseconds(200 + next_random(800)));
                    co_await t.async_wait(asio::use_awaitable);
                    cancel.emit(asio::cancellation_type::terminal);
                    while (!finished) {
                        asio::steady_timer w(ex, 1ms);
                        co_await w.async_wait(asio::use_awaitable);
                    }
                    continue;
                }
                try {
                    auto stream = co_await execute_stream(session, st, c);
                    std::int64_t n = 0;
                    while (auto row = co_await stream.next()) {
                        ++rows_read;
                        if (++n < stop_after) continue;
                        if (how == 0) break;                         // leave the loop: destructor cleans up
                        if (how == 1) throw std::runtime_error("x");  // an exception in the loop body
                        co_await stream.close();                     // explicit close, twice
                        co_await stream.close();
                        {
                            auto after_end = co_await stream.next();
                            EXPECT_FALSE(after_end.has_value());
                        }
                    }
                } catch (const std::runtime_error&) {
                }
            }
            ++done_workers;
        };
        for (int w = 0; w < kWorkers; ++w) asio::co_spawn(ex, worker(w), asio::detached);
        std::size_t peak_in_flight = 0;
        while (done_workers < kWorkers) {
            peak_in_flight = std::max(peak_in_flight, session.in_flight_requests());
            asio::steady_timer t(ex, 1ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        // Abandoned requests keep their stream ids until the late responses arrive; then none is left.
        const std::size_t left_at_end = session.in_flight_requests();
        const auto drain_start = std::chrono::steady_clock::now();
        const std::size_t left = co_await wait_until_idle(session, 5s);
        const auto drain_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - drain_start);
        std::printf("abandoned streams: rows read %lld, cancelled consumers %lld, peak in flight %zu, "
                    "in flight when the last stream ended %zu, drained after %lld ms\n",
                    static_cast<long long>(rows_read), static_cast<long long>(cancelled), peak_in_flight,
                    left_at_end, static_cast<long long>(drain_ms.count()));
        EXPECT_GT(peak_in_flight, 0u);  // the run did abandon requests in flight
        EXPECT_GT(cancelled, 0);
        EXPECT_EQ(left, 0u);
        EXPECT_EQ(session.open_connections(), 1u);
        EXPECT_GT(rows_read, 0);
        // The connection still serves requests normally.
        ResultSet rs = co_await session.execute("SELECT * FROM synthetic.rows WHERE pk = ?", std::int64_t{3});
        EXPECT_EQ(rs.size(), 100u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

// ---------------------------------------------------------------- leaving early, against the node

TEST(StreamAgainstServerBasics, MaxPagesCallbackArgumentsBreakAndException) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT * FROM synthetic.rows");
        {  // fetch 5, max 2 pages: at most 10 rows, and the callback sees (page, rows, total)
            StreamConfig c = stream_config(5, 1);
            c.max_pages = 2;
            std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> calls;
            c.page_callback = [&](std::int64_t page, std::int64_t rows, std::int64_t total) {
                calls.emplace_back(page, rows, total);
            };
            auto stream = co_await execute_stream(session, st, c);
            std::int64_t rows = 0;
            while (auto row = co_await stream.next()) {
                check_row(*row);
                ++rows;
            }
            EXPECT_EQ(rows, 10);
            EXPECT_EQ(stream.page_number(), 2);
            EXPECT_EQ(stream.total_rows_fetched(), 10);
            const std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> want = {{1, 5, 5}, {2, 5, 10}};
            EXPECT_EQ(calls, want);
            EXPECT_TRUE(stream.paging_state().has_value());  // more rows exist: resumable
        }
        {  // break at row 15 with pages read ahead
            StreamConfig c = stream_config(10, 2);
            auto stream = co_await execute_stream(session, st, c);
            int n = 0;
            while (auto row = co_await stream.next())
                if (++n == 15) break;
            EXPECT_EQ(n, 15);
            EXPECT_EQ(stream.resume_point().rows_to_skip, 5);  // 5 rows into the second page
        }
        bool thrown = false;
        try {  // an exception in the loop body at row 15
            StreamConfig c = stream_config(10, 2);
            auto stream = co_await execute_stream(session, st, c);
            int n = 0;
            while (auto row = co_await stream.next())
                if (++n == 15) throw std::runtime_error("loop body failed");
        } catch (const std::runtime_error&) {
            thrown = true;
        }
        EXPECT_TRUE(thrown);
        const std::size_t left = co_await wait_until_idle(session, 1s);
        EXPECT_EQ(left, 0u);
        ResultSet rs = co_await session.execute("SELECT * FROM synthetic.rows WHERE pk = ?", std::int64_t{4});
        EXPECT_EQ(rs.size(), 100u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(StreamAgainstServerBasics, CancellationAndCloseWhileAPageIsPending) {
    auto server = start_server();
    srv::FaultRule slow;
    slow.kind = srv::FaultKind::delay_pages;
    slow.pattern = "SELECT pk, ck FROM synthetic.rows";  // only the streams of this test
    slow.delay = 400ms;
    server->faults().add(slow);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server, std::nullopt));
        Session session = co_await cluster.connect();
        Statement st("SELECT pk, ck FROM synthetic.rows");
        StreamConfig c = stream_config(100, 1);
        c.retry_policy = std::make_shared<NoRetry>();
        {  // cancel the consumer while it waits for page 2: RequestCancelled, fast, stream still usable
            auto stream = co_await execute_stream(session, st, c);
            for (int i = 0; i < 100; ++i) {
                auto row = co_await stream.next();
                CO_ASSERT_TRUE(row.has_value());
            }
            asio::cancellation_signal cancel;
            std::exception_ptr outcome;
            bool finished = false;
            asio::co_spawn(
                ex, [&]() -> asio::awaitable<void> { (void)co_await stream.next(); },
                asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                    outcome = e;
                    finished = true;
                }));
            asio::steady_timer t(ex, 20ms);
            co_await t.async_wait(asio::use_awaitable);
            const auto cancelled_at = std::chrono::steady_clock::now();
            cancel.emit(asio::cancellation_type::terminal);
            while (!finished) {
                asio::steady_timer w(ex, 1ms);
                co_await w.async_wait(asio::use_awaitable);
            }
            EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 100ms);
            bool was_cancelled = false;
            try {
                if (outcome) std::rethrow_exception(outcome);
            } catch (const RequestCancelled&) {
                was_cancelled = true;
            }
            EXPECT_TRUE(was_cancelled);
            auto next = co_await stream.next();  // the stream goes on: the page arrives later
            EXPECT_TRUE(next.has_value());
        }
        {  // close() from another coroutine while next() waits: next() returns nullopt at once
            auto stream = co_await execute_stream(session, st, c);
            for (int i = 0; i < 100; ++i) (void)co_await stream.next();
            asio::steady_timer t(ex, 20ms);
            t.async_wait([&](asio::error_code) { asio::co_spawn(ex, stream.close(), asio::detached); });
            const auto start = std::chrono::steady_clock::now();
            auto after_close = co_await stream.next();
            EXPECT_FALSE(after_close.has_value());
            EXPECT_LT(std::chrono::steady_clock::now() - start, 300ms);  // not the 400 ms page delay
            co_await stream.close();  // idempotent
        }
        const std::size_t left = co_await wait_until_idle(session, 1s);
        EXPECT_EQ(left, 0u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}
