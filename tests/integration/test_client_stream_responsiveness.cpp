// Responsiveness of the event loop while a large result streams through it.
//
// The embedded node runs on its own I/O thread (srv::Cluster::start), so the client's loop below
// (one io_context, one thread) measures only the client's work: a 1 ms steady_timer ticker
// records the lag of every tick (actual wake-up - expiry) while one coroutine streams and
// verifies 1,000,000 rows (fetch_size 5000, prefetch 1) and 20 point queries are issued at
// intervals over the stream on the same loop. The numbers are printed for the docs; the
// assertions are deliberately generous (a loaded 2-core CI machine) except for correctness.

#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kRows = 1'000'000;
constexpr int kPointQueries = 20;
constexpr std::int64_t kQueryEvery = kRows / kPointQueries;  // first at kQueryEvery / 2

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

/// The q-quantile (0..1) of `v` (sorted in place).
double quantile(std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    return v[i];
}

/// Column positions of synthetic.rows, looked up once (SELECT * need not keep the schema order).
struct Cols {
    std::size_t pk, ck, name, value, ts;
    explicit Cols(const Row& row)
        : pk(row.column_index("pk")), ck(row.column_index("ck")), name(row.column_index("name")),
          value(row.column_index("value")), ts(row.column_index("ts")) {}
};

/// Whether a synthetic row matches the generator's formulas.
bool row_ok(const Row& row, const Cols& c, std::int64_t pk, std::int32_t ck) {
    return row.get<std::string_view>(c.name) == "name-" + std::to_string(pk) + "-" + std::to_string(ck) &&
           row.get<double>(c.value) == static_cast<double>(pk) * 0.5 + ck &&
           row.get<Timestamp>(c.ts).milliseconds == 1700000000000 + pk * 1000 + ck;
}

/// Ticks every 1 ms until `stop`, recording each tick's lag behind its expiry.
asio::awaitable<void> ticker(std::vector<double>& lags_ms, const bool& stop) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!stop) {
        timer.expires_after(1ms);
        co_await timer.async_wait(asio::use_awaitable);
        lags_ms.push_back(ms(Clock::now() - timer.expiry()));
    }
}

struct PointQueryResults {
    int completed = 0;
    int correct = 0;
    std::vector<double> latencies_ms;
    std::string first_error;
};

/// One point query on the shared loop; its latency includes waiting behind the stream's work.
asio::awaitable<void> point_query(Session session, PreparedStatement prepared, std::int64_t pk, std::int32_t ck,
                                  PointQueryResults& out) {
    const auto start = Clock::now();
    try {
        BoundStatement bound = prepared.bind(pk, ck);  // a local: no temporaries inside co_await
        ResultSet rs = co_await session.execute(bound);
        out.latencies_ms.push_back(ms(Clock::now() - start));
        if (rs.size() == 1) {
            const Row row = rs.at(0);
            const Cols c(row);
            if (row.get<std::int64_t>(c.pk) == pk && row.get<std::int32_t>(c.ck) == ck && row_ok(row, c, pk, ck))
                ++out.correct;
        }
    } catch (const std::exception& e) {
        if (out.first_error.empty()) out.first_error = e.what();
    }
    ++out.completed;
}

}  // namespace

TEST(StreamResponsiveness, TickerAndPointQueriesStayResponsiveDuringMillionRowStream) {
    srv::ClusterOptions server_options;
    server_options.port = 0;
    server_options.synthetic_rows = kRows;
    srv::Cluster server(server_options);
    server.start();  // the node's own I/O thread

    asio::io_context io;  // run by this thread only: client, ticker, stream and queries
    std::vector<double> lags_ms;
    PointQueryResults queries;
    std::int64_t rows = 0, bad_rows = 0, duplicates = 0, pages = 0;
    double stream_seconds = 0;
    bool finished = false;
    std::exception_ptr error;
    // Here rather than in the coroutine: if it throws, its completion stops the ticker, so that
    // io.run() returns instead of ticking forever.
    bool stop_ticker = false;
    bool ticker_done = false;

    auto body = [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        ClusterConfig config;
        config.contact_points = {"127.0.0.1"};
        config.port = server.port();
        config.request_timeout = 30s;
        Cluster cluster(ex, config);
        Session session = co_await cluster.connect();
        PreparedStatement point = co_await session.prepare("SELECT * FROM synthetic.rows WHERE pk = ? AND ck = ?");

        asio::co_spawn(ex, ticker(lags_ms, stop_ticker), [&](std::exception_ptr) { ticker_done = true; });

        StreamConfig stream_config;
        stream_config.fetch_size = 5000;
        stream_config.prefetch_pages = 1;
        stream_config.page_timeout = 60s;
        stream_config.page_callback = [&](std::int64_t n, std::int64_t, std::int64_t) { pages = n; };
        Statement all("SELECT * FROM synthetic.rows");
        std::vector<std::uint8_t> seen(static_cast<std::size_t>(kRows));  // every row exactly once
        const auto start = Clock::now();
        {
            ResultStream stream = co_await session.execute_stream(all, stream_config);
            std::optional<Cols> cols;
            while (auto row = co_await stream.next()) {
                if (!cols) cols.emplace(*row);
                const auto pk = row->get<std::int64_t>(cols->pk);
                const auto ck = row->get<std::int32_t>(cols->ck);
                const std::int64_t key = pk * 100 + ck;
                if (pk < 0 || ck < 0 || ck >= 100 || key >= kRows || !row_ok(*row, *cols, pk, ck))
                    ++bad_rows;
                else if (seen[static_cast<std::size_t>(key)]++ != 0)
                    ++duplicates;
                // Point queries spread over the stream, running concurrently with it.
                if (++rows % kQueryEvery == kQueryEvery / 2) {
                    const std::int64_t i = rows / kQueryEvery;
                    const std::int64_t qpk = (i * 2477) % (kRows / 100);
                    const auto qck = static_cast<std::int32_t>((i * 37) % 100);
                    asio::co_spawn(ex, point_query(session, point, qpk, qck, queries), asio::detached);
                }
            }
        }
        stream_seconds = std::chrono::duration<double>(Clock::now() - start).count();

        // Let the last point queries finish (bounded wait), then stop the ticker.
        asio::steady_timer wait(ex);
        for (int i = 0; i < 3000 && queries.completed < kPointQueries; ++i) {
            wait.expires_after(10ms);
            co_await wait.async_wait(asio::use_awaitable);
        }
        stop_ticker = true;
        while (!ticker_done) {
            wait.expires_after(2ms);
            co_await wait.async_wait(asio::use_awaitable);
        }
        co_await session.shutdown();
        co_await cluster.shutdown();
    };
    asio::co_spawn(io, body(), [&](std::exception_ptr e) {
        error = e;
        finished = true;
        stop_ticker = true;
    });
    io.run();
    server.stop();
    ASSERT_TRUE(finished);
    if (error) std::rethrow_exception(error);

    // Correctness: every row once and matching the formulas, every point query answered right.
    EXPECT_EQ(rows, kRows);
    EXPECT_EQ(bad_rows, 0);
    EXPECT_EQ(duplicates, 0);
    EXPECT_EQ(queries.completed, kPointQueries) << queries.first_error;
    EXPECT_EQ(queries.correct, kPointQueries) << queries.first_error;

    // The numbers for the docs (quantile() sorts, so take them before the vectors are reused).
    const std::size_t ticks = lags_ms.size();
    const double lag_p50 = quantile(lags_ms, 0.50), lag_p99 = quantile(lags_ms, 0.99),
                 lag_p999 = quantile(lags_ms, 0.999), lag_max = lags_ms.empty() ? 0 : lags_ms.back();
    std::vector<double> latencies = queries.latencies_ms;
    std::string latency_list;
    for (double l : queries.latencies_ms) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.2f", latency_list.empty() ? "" : " ", l);
        latency_list += buf;
    }
    const double q_p50 = quantile(latencies, 0.50), q_max = latencies.empty() ? 0 : latencies.back();
    std::printf("stream: %lld rows, %lld pages in %.2f s (%.0f rows/s), fetch_size 5000, prefetch 1\n",
                static_cast<long long>(rows), static_cast<long long>(pages), stream_seconds,
                static_cast<double>(rows) / stream_seconds);
    std::printf("1 ms ticker: %zu ticks, lag p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n", ticks, lag_p50,
                lag_p99, lag_p999, lag_max);
    std::printf("point queries: %d/%d correct, latency p50 %.3f ms, max %.3f ms; each (ms): %s\n", queries.correct,
                kPointQueries, q_p50, q_max, latency_list.c_str());
    RecordProperty("tick_lag_p99_us", static_cast<int>(lag_p99 * 1000));
    RecordProperty("tick_lag_max_us", static_cast<int>(lag_max * 1000));
    RecordProperty("point_query_max_us", static_cast<int>(q_max * 1000));

    // The ticker ran throughout (a stream of ~1 s or more gives hundreds of ticks at least) and
    // the loop was never blocked for long: the goal is p99 < 1 ms; 50 ms tolerates a loaded CI.
    EXPECT_GE(ticks, 10u);
    EXPECT_LT(lag_p99, 50.0);
}
