// A web-style service loop that keeps answering point queries while a large export streams on the
// same io_context (one thread).
//
// Nothing here blocks: the export awaits each page (next_page) and the point queries await their
// answers, so the one thread interleaves both. What keeps the point queries fast is that the
// export's per-page work is short (one page of formatting) and the stream holds at most one page
// ahead — an export that did seconds of CPU work between two co_awaits would stall every
// request behind it, which is exactly what this example measures.
//
//   service_during_export --host H --port P [--rows-expected N] [--fetch-size 2000]
//                         [--interval-ms 10] [--max-latency-ms 500] [--min-queries 5] [--out FILE]
//
// Prints the latency distribution (p50, p99, max) of the point queries answered during the export.
// Checks: the export streamed every row, every point query got the right answer, none took more
// than --max-latency-ms (a generous bound: this is a demonstration, not a benchmark), and at
// least --min-queries were answered while the export ran.
#include "example_support.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <cmath>
#include <fstream>
#include <random>

namespace ac = async_cassandra;
using example::Args;
using namespace asio::experimental::awaitable_operators;

namespace {

struct ExportResult {
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
    double seconds = 0;
};

/// The "large export": every row formatted as a CSV line, written page by page to `out` (or
/// only counted when `out` is empty). Sets `done` when finished, which stops the service loop.
asio::awaitable<ExportResult> export_table(ac::Session session, std::int32_t fetch_size, std::string out_path,
                                           bool& done) {
    ac::StreamConfig config;
    config.fetch_size = fetch_size;
    ac::Statement query("SELECT pk, ck, name, value FROM synthetic.rows");
    std::ofstream out;
    if (!out_path.empty()) out.open(out_path, std::ios::binary | std::ios::trunc);

    ExportResult result;
    const auto start = example::Clock::now();
    {
        ac::ResultStream stream = co_await session.execute_stream(query, config);  // closed at block end
        std::string buffer;
        while (auto page = co_await stream.next_page()) {
            buffer.clear();
            for (std::size_t i = 0; i < page->size(); ++i) {
                const ac::Row row = (*page)[i];
                buffer += std::to_string(row.get<std::int64_t>(0));
                buffer += ',';
                buffer += std::to_string(row.get<std::int32_t>(1));
                buffer += ',';
                buffer += row.get<std::string_view>(2);
                buffer += ',';
                buffer += std::to_string(row.get<double>(3));
                buffer += "\r\n";
            }
            if (out.is_open()) out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            result.rows += static_cast<std::int64_t>(page->size());
            result.bytes += static_cast<std::int64_t>(buffer.size());
        }
    }
    result.seconds = example::seconds_since(start);
    done = true;
    co_return result;
}

struct ServiceStats {
    std::vector<double> latencies_ms;  // one per point query answered
    std::int64_t wrong_answers = 0;
};

/// The service: every `interval` a request arrives and is answered by a point query through a
/// prepared statement, until `export_done`.
asio::awaitable<ServiceStats> answer_point_queries(ac::Session session, std::int64_t partitions,
                                                   std::chrono::milliseconds interval,
                                                   const bool& export_done) {
    const ac::PreparedStatement lookup =
        co_await session.prepare("SELECT name FROM synthetic.rows WHERE pk = ? AND ck = ?");
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::minstd_rand random(42);
    ServiceStats stats;
    while (!export_done) {
        // A key that exists: partitions before the last one are full (100 rows).
        const std::int64_t pk = static_cast<std::int64_t>(
            random() % static_cast<std::uint64_t>(std::max<std::int64_t>(1, partitions - 1)));
        const auto ck = static_cast<std::int32_t>(random() % 100);
        const ac::BoundStatement request = lookup.bind(pk, ck);
        const auto sent = example::Clock::now();
        const ac::ResultSet answer = co_await session.execute(request);
        stats.latencies_ms.push_back(example::seconds_since(sent) * 1000.0);
        if (!answer.one() || answer.one()->get<std::string_view>(0) != example::synthetic_name(pk, ck))
            ++stats.wrong_answers;

        timer.expires_after(interval);
        co_await timer.async_wait(asio::use_awaitable);
    }
    co_return stats;
}

/// The q-quantile (0..1) of sorted values, nearest-rank.
double quantile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

asio::awaitable<int> serve_during_export(ac::Session session, Args args) {
    const auto expected = args.optional_int_flag("rows-expected");
    const auto fetch_size = static_cast<std::int32_t>(args.int_flag("fetch-size", 2000));
    const auto interval = std::chrono::milliseconds(args.int_flag("interval-ms", 10));
    const double max_latency_ms = static_cast<double>(args.int_flag("max-latency-ms", 500));
    const std::int64_t min_queries = args.int_flag("min-queries", 5);
    const std::string out_path = args.text_flag("out", "");
    args.reject_unknown();

    // Point queries need keys that exist: ask the table how many partitions it has (via the row
    // count) unless the caller told us.
    std::int64_t rows_in_table = expected.value_or(0);
    if (!expected) {
        const ac::ResultSet count = co_await session.execute("SELECT COUNT(*) FROM synthetic.rows");
        rows_in_table = count.one()->get<std::int64_t>(0);
    }
    const std::int64_t partitions = (rows_in_table + 99) / 100;

    // Both run on this coroutine's executor, interleaved; if either throws, the other is cancelled.
    bool export_done = false;
    auto [exported, service] = co_await (export_table(session, fetch_size, out_path, export_done) &&
                                         answer_point_queries(session, partitions, interval, export_done));

    std::sort(service.latencies_ms.begin(), service.latencies_ms.end());
    const auto& lat = service.latencies_ms;
    std::printf("export: %lld rows, %.1f MB in %.3f s (%.0f rows/s)\n", static_cast<long long>(exported.rows),
                static_cast<double>(exported.bytes) / 1e6, exported.seconds,
                static_cast<double>(exported.rows) / exported.seconds);
    std::printf(
        "point queries during the export: %zu answered (%lld wrong), latency p50 %.2f ms, p99 %.2f ms, "
        "max %.2f ms\n",
        lat.size(), static_cast<long long>(service.wrong_answers), quantile(lat, 0.50), quantile(lat, 0.99),
        lat.empty() ? 0.0 : lat.back());

    if (expected && exported.rows != *expected)
        co_return example::fail("exported " + std::to_string(exported.rows) + " rows, expected " +
                                std::to_string(*expected));
    if (service.wrong_answers != 0) co_return example::fail("point queries returned wrong rows");
    if (static_cast<std::int64_t>(lat.size()) < min_queries)
        co_return example::fail("only " + std::to_string(lat.size()) +
                                " point queries ran during the export");
    if (!lat.empty() && lat.back() > max_latency_ms)
        co_return example::fail("a point query took " + std::to_string(lat.back()) + " ms during the export");
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run(argc, argv, serve_during_export);
}
