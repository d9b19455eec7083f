// scan_table (parallel token-range scans) against the embedded node: ring splitting, every row
// exactly once for several split/concurrency settings, the concurrency bound, serialized
// callbacks (also on a multi-threaded io_context), composite partition keys, and failures that
// stop every stream.

#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>
#include <async_cassandra/scan.hpp>
#include <async_cassandra/stream.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

constexpr std::int64_t kRows = 25000;  // synthetic.rows: 250 partitions of 100 rows

using acass_test::config_for;
using acass_test::run;
using Key = std::pair<std::int64_t, std::int32_t>;

std::unique_ptr<srv::Cluster> start_server() {
    acass_test::ServerSetup setup;
    setup.synthetic_rows = kRows;
    return acass_test::start_server(std::move(setup));
}

StreamConfig small_pages() {
    StreamConfig c;
    c.fetch_size = 700;
    c.prefetch_pages = 1;
    c.page_timeout = 10s;
    return c;
}

/// A scan of synthetic.rows' key columns (pk, ck) in small pages.
ScanConfig key_scan(std::size_t splits, std::size_t concurrency) {
    ScanConfig config;
    config.table = "synthetic.rows";
    config.columns = {"pk", "ck"};
    config.splits = splits;
    config.concurrency = concurrency;
    config.stream = small_pages();
    return config;
}

/// Every (pk, ck) of synthetic.rows through one plain stream: the reference.
asio::awaitable<std::multiset<Key>> reference_keys(Session session) {
    Statement st("SELECT pk, ck FROM synthetic.rows");
    StreamConfig c = small_pages();
    auto stream = co_await execute_stream(session, st, c);
    std::multiset<Key> keys;
    while (auto row = co_await stream.next()) keys.emplace(row->get<std::int64_t>(0), row->get<std::int32_t>(1));
    co_return keys;
}

using acass_test::wait_until_idle;

/// True when scan_table refuses `config` with a UsageError before streaming anything.
asio::awaitable<bool> scan_refused(Session session, ScanConfig config) {
    try {
        co_await scan_table(session, config, [](std::size_t, const Page&) {});
    } catch (const UsageError&) {
        co_return true;
    }
    co_return false;
}

}  // namespace

// ---------------------------------------------------------------- split_token_ring

TEST(SplitTokenRing, OneRangeIsTheWholeRing) {
    const auto ranges = split_token_ring(1);
    ASSERT_EQ(ranges.size(), 1u);
    EXPECT_EQ(ranges[0].start, std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(ranges[0].end, std::numeric_limits<std::int64_t>::max());
}

TEST(SplitTokenRing, ContiguousCoveringAndEven) {
    for (std::size_t n : {2u, 3u, 7u, 8u, 64u, 1000u, 65537u}) {
        SCOPED_TRACE(n);
        const auto ranges = split_token_ring(n);
        ASSERT_EQ(ranges.size(), n);
        EXPECT_EQ(ranges.front().start, std::numeric_limits<std::int64_t>::min());
        EXPECT_EQ(ranges.back().end, std::numeric_limits<std::int64_t>::max());
        std::uint64_t smallest = std::numeric_limits<std::uint64_t>::max(), largest = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (i > 0) {
                ASSERT_EQ(ranges[i].start, ranges[i - 1].end) << i;
            }
            ASSERT_LT(ranges[i].start, ranges[i].end) << i;
            const std::uint64_t size =
                static_cast<std::uint64_t>(ranges[i].end) - static_cast<std::uint64_t>(ranges[i].start);
            smallest = std::min(smallest, size);
            largest = std::max(largest, size);
        }
        EXPECT_LE(largest - smallest, 1u);
    }
}

TEST(SplitTokenRing, RejectsBadCounts) {
    EXPECT_THROW(split_token_ring(0), UsageError);
    EXPECT_THROW(split_token_ring(max_token_splits + 1), UsageError);
}

TEST(SplitTokenRingAligned, NoRangeStraddlesAnOwnerBoundary) {
    const std::vector<std::int64_t> tokens{-6'000'000'000'000'000'000, 10, 3'000'000'000'000'000'000};
    for (std::size_t n : {1u, 2u, 3u, 16u, 100u}) {
        SCOPED_TRACE(n);
        const auto ranges = split_token_ring_aligned(n, tokens);
        ASSERT_GE(ranges.size(), std::size_t{4});  // the three nodes' ranges, the wrapping one in two parts
        EXPECT_EQ(ranges.front().start, std::numeric_limits<std::int64_t>::min());
        EXPECT_EQ(ranges.back().end, std::numeric_limits<std::int64_t>::max());
        for (std::size_t i = 0; i < ranges.size(); ++i) {
            if (i > 0) {
                ASSERT_EQ(ranges[i].start, ranges[i - 1].end);
            }
            ASSERT_LT(ranges[i].start, ranges[i].end);
            for (std::int64_t t : tokens)  // a node token only ever ends a range
                EXPECT_FALSE(ranges[i].start < t && t < ranges[i].end) << i << " straddles " << t;
        }
        if (n >= 16) {
            EXPECT_GE(ranges.size(), n - 3);
            EXPECT_LE(ranges.size(), n + 4);
        }
    }
    EXPECT_EQ(split_token_ring_aligned(5, {}), split_token_ring(5));
    EXPECT_THROW(split_token_ring_aligned(0, tokens), UsageError);
}

// Without a token map (here a session that is not connected: no metadata at all) the default
// ranges are the even slices; the split count is checked like split_token_ring's.
TEST(ScanRanges, WithoutATokenMapTheRingIsCutEvenly) {
    const Session unconnected;
    EXPECT_TRUE(unconnected.metadata().hosts.empty());
    EXPECT_EQ(scan_ranges(unconnected, 8), split_token_ring(8));
    EXPECT_THROW(scan_ranges(unconnected, 0), UsageError);
}

TEST(ScanStatement, QuotesWhatNeedsQuoting) {
    EXPECT_EQ(scan_statement("ks.t", {}, {"a", "b"}),
              "SELECT * FROM ks.t WHERE token(a, b) > ? AND token(a, b) <= ?");
    EXPECT_EQ(scan_statement("ks.t", {"Value", "x_1"}, {"My\"Key"}),
              "SELECT \"Value\", x_1 FROM ks.t WHERE token(\"My\"\"Key\") > ? AND token(\"My\"\"Key\") <= ?");
    EXPECT_EQ(quote_cql_identifier("1abc"), "\"1abc\"");
    EXPECT_EQ(quote_cql_identifier("_x"), "\"_x\"");  // CQL identifiers start with a letter
    EXPECT_THROW(scan_statement("ks.t", {}, {}), UsageError);
}

// ---------------------------------------------------------------- scans of synthetic.rows

class ScanSynthetic : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(ScanSynthetic, EveryRowExactlyOnceWithinTheConcurrencyBound) {
    const auto [splits, concurrency] = GetParam();
    auto server = start_server();
    // Slow pages a little so that streams overlap and the bound is actually exercised.
    srv::FaultRule slow;
    slow.kind = srv::FaultKind::delay;
    slow.pattern = "token(";
    slow.delay = 2ms;
    server->faults().add(slow);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        const std::multiset<Key> expected = co_await reference_keys(session);
        EXPECT_EQ(static_cast<std::int64_t>(expected.size()), kRows);

        // Sample the requests in flight while the scan runs: each split stream keeps at most one.
        std::size_t max_in_flight = 0;
        bool scanning = true;
        bool sampler_done = false;
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
                asio::steady_timer tick(ex);
                while (scanning) {
                    max_in_flight = std::max(max_in_flight, session.in_flight_requests());
                    tick.expires_after(200us);
                    co_await tick.async_wait(asio::use_awaitable);
                }
                sampler_done = true;
            },
            asio::detached);

        ScanConfig config = key_scan(splits, concurrency);
        std::multiset<Key> seen;
        int inside = 0;
        std::int64_t pages = 0;
        std::size_t last_split = 0;
        ScanStats stats = co_await scan_table(session, config, [&](std::size_t split, const Page& page) {
            EXPECT_EQ(++inside, 1);
            last_split = std::max(last_split, split);
            ++pages;
            for (Row row : page) seen.emplace(row.get<std::int64_t>(0), row.get<std::int32_t>(1));
            --inside;
        });
        scanning = false;
        asio::steady_timer wait(ex);
        while (!sampler_done) {  // the sampler uses this frame's variables
            wait.expires_after(1ms);
            co_await wait.async_wait(asio::use_awaitable);
        }
        EXPECT_EQ(seen, expected);
        EXPECT_EQ(stats.rows, kRows);
        EXPECT_EQ(stats.pages, pages);
        // The default ranges are aligned to the node's token: about `splits`, one more at most
        // (the ring's two ends around INT64_MIN are one owner's range in two parts).
        EXPECT_GE(stats.ranges.size(), splits);
        EXPECT_LE(stats.ranges.size(), splits + 1);
        EXPECT_LT(last_split, stats.ranges.size());
        EXPECT_EQ(stats.splits_done, stats.ranges.size());
        EXPECT_GE(stats.pages, std::max<std::int64_t>(static_cast<std::int64_t>(splits) / 2, kRows / 700));
        const std::size_t workers = std::min(stats.ranges.size(), concurrency);
        EXPECT_LE(max_in_flight, workers);
        if (workers > 1) {
            EXPECT_GE(max_in_flight, 2u) << "the splits never overlapped";
        }
        EXPECT_EQ(co_await wait_until_idle(session), 0u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

INSTANTIATE_TEST_SUITE_P(SplitsAndConcurrency, ScanSynthetic,
                         ::testing::Combine(::testing::Values(std::size_t{1}, std::size_t{7}, std::size_t{64}),
                                            ::testing::Values(std::size_t{1}, std::size_t{3})));

TEST(ScanTable, SplitIndexMatchesTheRowTokens) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        ScanConfig config;
        config.table = "synthetic.rows";
        config.partition_key = {"pk"};  // given: no system_schema lookup
        config.splits = 16;
        config.concurrency = 4;
        config.stream = small_pages();
        std::int64_t rows = 0;
        // SELECT * has no token column: check with a second statement per page instead.
        PreparedStatement token_of = co_await session.prepare("SELECT token(pk) FROM synthetic.rows WHERE pk = ?");
        std::vector<std::pair<std::size_t, std::int64_t>> firsts;  // (split, pk of the page's first row)
        ScanStats stats = co_await scan_table(session, config, [&](std::size_t split, const Page& page) {
            rows += static_cast<std::int64_t>(page.size());
            firsts.emplace_back(split, page[0].get<std::int64_t>("pk"));
        });
        EXPECT_EQ(rows, kRows);
        const std::vector<TokenRange> ranges = stats.ranges;
        EXPECT_EQ(ranges, scan_ranges(session, config.splits));
        for (const auto& [split, pk] : firsts) {
            ResultSet r = co_await session.execute(token_of.bind(pk));
            std::int64_t token = 0;
            for (Row row : r) token = row.get<std::int64_t>(0);
            EXPECT_GT(token, ranges[split].start) << split;
            EXPECT_LE(token, ranges[split].end) << split;
        }
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

// Count mode: every split sends one SELECT count(*) over its range (the node counts); the
// handler sees one single-row page per split and the counts add up to the table.
TEST(ScanTable, CountModeSumsOneCountPerSplit) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        ScanConfig config;
        config.table = "synthetic.rows";
        config.splits = 13;
        config.concurrency = 3;
        config.count = true;
        std::map<std::size_t, int> pages;  // split -> pages
        std::int64_t counted = 0;
        ScanStats stats = co_await scan_table(session, config, [&](std::size_t split, const Page& page) {
            ++pages[split];
            EXPECT_EQ(page.size(), 1u);
            for (Row row : page) counted += row.get<std::int64_t>(0);
        });
        EXPECT_EQ(counted, kRows);
        EXPECT_EQ(stats.rows, kRows);
        EXPECT_EQ(stats.splits_done, stats.ranges.size());
        EXPECT_EQ(pages.size(), stats.ranges.size());
        for (const auto& [split, n] : pages) EXPECT_EQ(n, 1) << split;
        config.columns = {"pk"};  // a count selects nothing else
        EXPECT_TRUE(co_await scan_refused(session, config));
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(ScanTable, CallbackNeverConcurrentOnAMultiThreadedContext) {
    auto server = start_server();
    asio::io_context io;
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<std::int64_t> rows{0};
    std::exception_ptr error;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            Cluster cluster(ex, config_for(*server));
            Session session = co_await cluster.connect();
            ScanConfig config;
            config.table = "synthetic.rows";
            config.columns = {"pk"};
            config.splits = 24;
            config.concurrency = 6;
            config.stream = small_pages();
            co_await scan_table(session, config, [&](std::size_t, const Page& page) {
                if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
                std::this_thread::sleep_for(200us);  // widen the window another thread could use
                rows.fetch_add(static_cast<std::int64_t>(page.size()));
                inside.fetch_sub(1);
            });
            co_await session.shutdown();
            co_await cluster.shutdown();
        },
        [&](std::exception_ptr e) { error = e; });
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_EQ(rows.load(), kRows);
}

// ---------------------------------------------------------------- a user table

TEST(ScanTable, CompositePartitionKeyFromSystemSchema) {
    auto server = acass_test::start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        co_await session.execute(
            "CREATE KEYSPACE scan_ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        co_await session.execute("CREATE TABLE scan_ks.events (a int, b text, c int, v text, PRIMARY KEY ((a, b), c))");
        PreparedStatement insert = co_await session.prepare("INSERT INTO scan_ks.events (a, b, c, v) VALUES (?, ?, ?, ?)");
        std::set<std::tuple<std::int32_t, std::string, std::int32_t>> expected;
        for (std::int32_t a = 0; a < 60; ++a)
            for (std::int32_t c = 0; c < 5; ++c) {
                const std::string b = "b" + std::to_string(a % 7);
                co_await session.execute(insert.bind(a, b, c, std::string("v")));
                expected.emplace(a, b, c);
            }
        for (std::size_t splits : {1u, 5u, 33u}) {
            ScanConfig config;
            config.table = "scan_ks.events";  // partition key (a, b) read from system_schema
            config.columns = {"a", "b", "c"};
            config.splits = splits;
            config.concurrency = 3;
            config.stream = small_pages();
            config.stream.fetch_size = 7;  // several pages per split
            std::multiset<std::tuple<std::int32_t, std::string, std::int32_t>> seen;
            ScanStats stats = co_await scan_table(session, config, [&](std::size_t, const Page& page) {
                for (Row row : page)
                    seen.emplace(row.get<std::int32_t>(0), std::string(row.get<std::string_view>(1)),
                                 row.get<std::int32_t>(2));
            });
            EXPECT_EQ(std::set(seen.begin(), seen.end()), expected) << splits;
            EXPECT_EQ(seen.size(), expected.size()) << splits;
            EXPECT_EQ(stats.splits_done, splits);
        }
        // The table without a keyspace: the session's keyspace applies.
        co_await session.set_keyspace("scan_ks");
        ScanConfig config;
        config.table = "EVENTS";  // unquoted: lower-cased like CQL
        config.splits = 4;
        std::int64_t rows = 0;
        co_await scan_table(session, config, [&](std::size_t, const Page& page) { rows += static_cast<std::int64_t>(page.size()); });
        EXPECT_EQ(rows, static_cast<std::int64_t>(expected.size()));

        // An unknown table is refused before anything streams.
        config.table = "scan_ks.missing";
        EXPECT_TRUE(co_await scan_refused(session, config));
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

// The one home of the partition key lookup (scan_table and `acass count` both use it): names
// are read back as stored, quoted parts keep their case, a name starting with '_' is quoted.
TEST(ReadPartitionKey, StoredNamesInKeyOrder) {
    auto server = acass_test::start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        co_await session.execute(
            "CREATE KEYSPACE \"_Ks\" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        co_await session.execute(
            "CREATE TABLE \"_Ks\".\"Tab\" (\"Z\" int, y text, \"_x\" int, v text, PRIMARY KEY ((y, \"Z\"), \"_x\"))");
        std::vector<std::string> key = co_await read_partition_key(session, "\"_Ks\".\"Tab\"");
        EXPECT_EQ(key, (std::vector<std::string>{"y", "Z"}));
        // Unquoted parts are lower-cased like CQL: "_ks"."tab" does not exist.
        std::vector<std::string> none = co_await read_partition_key(session, "\"_Ks\".TAB");
        EXPECT_TRUE(none.empty());
        co_await session.set_keyspace("_Ks");  // USE "_Ks": a leading '_' needs quotes
        std::vector<std::string> in_session = co_await read_partition_key(session, "\"Tab\"");
        EXPECT_EQ(in_session, key);
        for (std::string bad : {"", "a.b.c", "\"ks.t", "ks."}) {
            bool refused = false;
            try {
                co_await read_partition_key(session, bad);
            } catch (const UsageError&) {
                refused = true;
            }
            EXPECT_TRUE(refused) << bad;
        }
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

// ---------------------------------------------------------------- failures

TEST(ScanTable, ServerErrorStopsEveryStream) {
    auto server = start_server();
    srv::FaultRule slow;
    slow.kind = srv::FaultKind::delay;
    slow.pattern = "token(";
    slow.delay = 3ms;
    server->faults().add(slow);
    srv::FaultRule rule;
    rule.kind = srv::FaultKind::error;
    rule.pattern = "token(";
    rule.error_code = ServerErrorCode::overloaded;
    rule.nth = 9;  // some pages have been delivered by then, several streams are running
    const auto fault = server->faults().add(rule);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        ScanConfig config = key_scan(16, 4);
        config.stream.retry_policy = std::make_shared<NoRetry>();
        std::int64_t calls = 0;
        std::set<Key> seen;
        bool duplicate = false;
        bool failed = false;
        try {
            co_await scan_table(session, config, [&](std::size_t, const Page& page) {
                ++calls;
                for (Row row : page)
                    if (!seen.emplace(row.get<std::int64_t>(0), row.get<std::int32_t>(1)).second) duplicate = true;
            });
        } catch (const StreamError& e) {
            failed = true;
            try {
                std::rethrow_exception(e.cause());
            } catch (const Overloaded&) {
            } catch (...) {
                ADD_FAILURE() << "unexpected cause";
            }
        }
        EXPECT_TRUE(failed);
        EXPECT_FALSE(duplicate);
        EXPECT_GT(calls, 0);
        EXPECT_LT(static_cast<std::int64_t>(seen.size()), kRows);
        // Every stream has stopped: nothing more is delivered, and the requests abandoned by the
        // cancelled streams are answered (their stream ids free) shortly after.
        const std::int64_t calls_at_error = calls;
        EXPECT_EQ(co_await wait_until_idle(session), 0u);
        asio::steady_timer wait(ex, 100ms);
        co_await wait.async_wait(asio::use_awaitable);
        EXPECT_EQ(calls, calls_at_error);
        EXPECT_EQ(session.in_flight_requests(), 0u);
        // The session is still fine.
        ResultSet r = co_await session.execute("SELECT pk FROM synthetic.rows WHERE pk = 3 LIMIT 1");
        EXPECT_EQ(r.size(), 1u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
    EXPECT_EQ(server->faults().hits(fault), 1);
}

TEST(ScanTable, HandlerExceptionStopsTheScan) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        ScanConfig config;
        config.table = "synthetic.rows";
        config.columns = {"pk"};
        config.splits = 8;
        config.concurrency = 3;
        config.stream = small_pages();
        int calls = 0;
        bool thrown = false;
        try {
            co_await scan_table(session, config, [&](std::size_t, const Page&) {
                if (++calls == 3) throw std::runtime_error("handler gave up");
            });
        } catch (const std::runtime_error& e) {
            thrown = std::string(e.what()) == "handler gave up";
        }
        EXPECT_TRUE(thrown);
        EXPECT_EQ(calls, 3);
        EXPECT_EQ(co_await wait_until_idle(session), 0u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

// Stop a scan at several points (a handler exception), then continue it from the resume points
// the handler was given: every row exactly once over all the runs, and finished splits skipped.
TEST(ScanTable, ResumePointsContinueEverySplitExactly) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        const std::multiset<Key> expected = co_await reference_keys(session);
        ScanConfig config = key_scan(12, 3);
        config.ranges = split_token_ring_aligned(12, {-100, 4'000'000'000'000'000'000});
        config.stream.fetch_size = 333;  // pages end inside partitions
        config.resume.assign(config.ranges.size(), ResumePoint{});
        std::multiset<Key> seen;
        struct Stop {};
        int runs = 0, ends = 0;
        for (bool done = false; !done && runs < 50; ++runs) {
            int pages = 0;
            try {
                co_await scan_table(session, config, [&](std::size_t split, const Page& page, const ResumePoint& after) {
                    if (page.empty()) {
                        EXPECT_TRUE(after.finished);
                        ++ends;
                    }
                    for (Row row : page) seen.emplace(row.get<std::int64_t>(0), row.get<std::int32_t>(1));
                    config.resume[split] = after;
                    if (!page.empty() && ++pages == 9) throw Stop{};
                });
                done = true;
            } catch (const Stop&) {
            }
        }
        EXPECT_GT(runs, 3);
        EXPECT_EQ(seen, expected);
        // A split whose last page already says "finished" is skipped by the next run: no end call.
        EXPECT_GE(ends, 1);
        EXPECT_LE(ends, static_cast<int>(config.ranges.size()));
        for (const ResumePoint& p : config.resume) EXPECT_TRUE(p.finished);
        // Every split finished: a scan from these points sends no row.
        std::int64_t more = 0;
        co_await scan_table(session, config, [&](std::size_t, const Page& page, const ResumePoint&) { more += page.size(); });
        EXPECT_EQ(more, 0);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(ScanTable, CancellingTheCallerStopsTheStreams) {
    auto server = start_server();
    srv::FaultRule slow;
    slow.kind = srv::FaultKind::delay;
    slow.pattern = "token(";
    slow.delay = 10ms;  // >= 10 rounds of 4 requests: the scan takes well over the 40 ms below
    server->faults().add(slow);
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        ScanConfig config;
        config.table = "synthetic.rows";
        config.columns = {"pk"};
        config.splits = 8;
        config.concurrency = 4;
        config.stream = small_pages();
        std::int64_t rows = 0;
        std::exception_ptr outcome;
        bool finished = false;
        asio::cancellation_signal cancel;
        asio::co_spawn(ex, scan_table(session, config, [&](std::size_t, const Page& page) {
                           rows += static_cast<std::int64_t>(page.size());
                       }),
                       asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, ScanStats) {
                           outcome = e;
                           finished = true;
                       }));
        asio::steady_timer timer(ex, 40ms);
        co_await timer.async_wait(asio::use_awaitable);
        EXPECT_FALSE(finished);
        cancel.emit(asio::cancellation_type::terminal);
        for (int i = 0; i < 300 && !finished; ++i) {
            timer.expires_after(10ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
        CO_ASSERT_TRUE(finished);
        bool cancelled = false;
        try {
            if (outcome) std::rethrow_exception(outcome);
        } catch (const RequestCancelled&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_LT(rows, kRows);
        EXPECT_EQ(co_await wait_until_idle(session), 0u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(ScanTable, RejectsBadConfigs) {
    auto server = start_server();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(*server));
        Session session = co_await cluster.connect();
        auto refused = [&](ScanConfig config) -> asio::awaitable<bool> {
            try {
                co_await scan_table(session, config, [](std::size_t, const Page&) {});
            } catch (const UsageError&) {
                co_return true;
            }
            co_return false;
        };
        ScanConfig good;
        good.table = "synthetic.rows";
        ScanConfig c = good;
        c.splits = 0;
        EXPECT_TRUE(co_await refused(c));
        c = good;
        c.concurrency = 0;
        EXPECT_TRUE(co_await refused(c));
        c = good;
        c.stream.skip_rows = 3;
        EXPECT_TRUE(co_await refused(c));
        c = good;
        c.table = "rows";  // no keyspace in the name nor in the session
        EXPECT_TRUE(co_await refused(c));
        // Resume points without the ranges they belong to: the default ranges follow the token
        // map, which may have changed since the points were taken.
        c = good;
        c.resume.assign(2, ResumePoint{});
        std::string message;
        try {
            co_await scan_table(session, c, [](std::size_t, const Page&) { ADD_FAILURE() << "a page was read"; });
        } catch (const UsageError& e) {
            message = e.what();
        }
        EXPECT_NE(message.find("ScanConfig::ranges"), std::string::npos) << message;
        c.ranges = split_token_ring(2);  // with them, the same points are accepted
        EXPECT_FALSE(co_await refused(c));
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

// ---------------------------------------------------------------- default ranges on a cluster

// Without ScanConfig::ranges, scan_table aligns its ranges to the nodes' tokens (three nodes of
// four tokens each; keyspace synthetic has replication factor 1): no range straddles two owners,
// so each range's requests go to the one node holding all of it. Each node counts the range
// reads it does not wholly replicate; the same scan over even slices of the ring (the default
// before) makes such reads, which shows that the count tells the two apart.
TEST(ScanTable, DefaultRangesGoToAReplicaOfTheWholeRange) {
    srv::ClusterOptions options;
    options.port = 0;
    options.nodes = 3;
    options.tokens_per_node = 4;
    options.synthetic_rows = kRows;
    srv::Cluster server(options);
    server.start();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server));
        Session session = co_await cluster.connect();
        std::vector<std::int64_t> ring;
        for (const HostInfo& h : session.metadata().hosts) ring.insert(ring.end(), h.tokens.begin(), h.tokens.end());
        CO_ASSERT_TRUE(ring.size() == 12u);
        const std::multiset<Key> expected = co_await reference_keys(session);
        ScanConfig config = key_scan(8, 3);
        server.reset_stats();
        std::multiset<Key> seen;
        ScanStats stats = co_await scan_table(session, config, [&](std::size_t, const Page& page) {
            for (Row row : page) seen.emplace(row.get<std::int64_t>(0), row.get<std::int32_t>(1));
        });
        EXPECT_EQ(seen, expected);  // every row exactly once
        EXPECT_EQ(stats.ranges, scan_ranges(session, config.splits));
        EXPECT_GE(stats.ranges.size(), 13u);  // one per owner's range at least (the wrapping one in two)
        // Contiguous over the whole ring, and no node token strictly inside a range.
        std::int64_t previous = std::numeric_limits<std::int64_t>::min();
        for (const TokenRange& r : stats.ranges) {
            EXPECT_EQ(r.start, previous);
            previous = r.end;
            for (std::int64_t token : ring) EXPECT_FALSE(token > r.start && token < r.end) << token;
        }
        EXPECT_EQ(previous, std::numeric_limits<std::int64_t>::max());
        std::uint64_t reads = 0;
        for (int node = 1; node <= 3; ++node) {
            const srv::NodeStats s = server.stats(node);
            EXPECT_EQ(s.range_non_replica_requests, 0u) << "node " << node;
            EXPECT_GT(s.range_replica_requests, 0u) << "node " << node;
            reads += s.range_replica_requests;
        }
        EXPECT_GE(reads, stats.ranges.size());  // every range read at least once

        server.reset_stats();
        config.ranges = split_token_ring(config.splits);
        ScanStats even = co_await scan_table(session, config, [](std::size_t, const Page&) {});
        EXPECT_EQ(even.rows, kRows);
        EXPECT_EQ(even.ranges, config.ranges);
        std::uint64_t straddling = 0;
        for (int node = 1; node <= 3; ++node) straddling += server.stats(node).range_non_replica_requests;
        EXPECT_GT(straddling, 0u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}
