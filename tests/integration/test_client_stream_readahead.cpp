// Read-ahead hand-over on a one-thread io_context, with a consumer that never yields.
//
// With prefetch_pages >= 1 the request for page N+1 must be on the wire by the time the caller
// gets page N: a CPU-bound caller does not return to the event loop until it has finished the
// page, so a request still queued in the client at hand-over time would only leave afterwards and
// read-ahead would overlap nothing. The test blocks the (only) client thread right after each
// hand-over and watches the node's request counter from there: the next page's request must
// arrive while the client cannot run a single handler. The deadline is a generous bound on a
// loopback write, not a performance target.
#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>
#include <async_cassandra/stream.hpp>

#include <asio/use_awaitable.hpp>

#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>

using namespace async_cassandra;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kRows = 5000;
constexpr std::int32_t kFetch = 500;  // 10 pages

/// Spins on the calling thread (never yielding to its io_context) until the node has received
/// `wanted` queries or `limit` has passed; returns what it saw last.
std::uint64_t spin_until_queries(const server::net::Cluster& server, std::uint64_t wanted,
                                 std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::uint64_t seen = server.stats(1).queries;
    while (seen < wanted && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);  // blocks the client thread: no handler of it runs
        seen = server.stats(1).queries;
    }
    return seen;
}

class ReadAheadHandOver : public ::testing::TestWithParam<int> {};

TEST_P(ReadAheadHandOver, NextPageRequestIsOnTheWireBeforeACallerThatNeverYields) {
    auto server = acass_test::start_server({.synthetic_rows = kRows});
    acass_test::run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, acass_test::config_for(*server, GetParam()));
        Session session = co_await cluster.connect();
        StreamConfig config;
        config.fetch_size = kFetch;
        config.prefetch_pages = 1;
        Statement query("SELECT * FROM synthetic.rows");
        const std::uint64_t before = server->stats(1).queries;
        auto stream = co_await execute_stream(session, query, config);

        std::int64_t rows = 0;
        std::int64_t page_seen = 0;
        int late = 0;
        while (auto row = co_await stream.next()) {
            ++rows;
            const std::int64_t page = stream.page_number();
            if (page == page_seen) continue;
            page_seen = page;
            if (page * kFetch >= kRows) continue;  // the last page: nothing more to ask for
            // First row of page `page`: the request for page + 1 must already be at the node.
            const std::uint64_t wanted = before + static_cast<std::uint64_t>(page) + 1;
            const std::uint64_t seen = spin_until_queries(*server, wanted, 2s);
            if (seen < wanted) {
                ++late;
                ADD_FAILURE() << "page " << page << " handed over before the request for page " << page + 1
                              << " left the client (node saw " << seen - before << " of " << wanted - before
                              << " queries)";
            }
        }
        EXPECT_EQ(rows, kRows);
        EXPECT_EQ(late, 0);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

INSTANTIATE_TEST_SUITE_P(Versions, ReadAheadHandOver, ::testing::Values(4, 5),
                         [](const auto& info) { return "v" + std::to_string(info.param); });

}  // namespace
