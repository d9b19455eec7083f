// Progress reporting with StreamConfig::page_callback and a total from SELECT COUNT(*).
//
// The callback runs once per page, on the consuming coroutine when it takes the page (never on
// the I/O path), with (page number, rows in that page, rows so far). Counting first costs one
// extra scan on the server; do it only when a percentage or an ETA is worth that.
//
//   progress_callback --host H --port P [--rows-expected N] [--fetch-size 2000]
//
// Checks: the callback saw every page exactly once, its running total ends at the COUNT(*)
// (100%), and the rows consumed equal the count (and --rows-expected).
#include "example_support.hpp"

namespace ac = async_cassandra;
using example::Args;

namespace {

asio::awaitable<int> stream_with_callback(ac::Session session, Args args) {
    const auto expected = args.optional_int_flag("rows-expected");
    const auto fetch_size = static_cast<std::int32_t>(args.int_flag("fetch-size", 2000));
    args.reject_unknown();

    // 1. The total, for the percentage. COUNT(*) returns one bigint row.
    const ac::ResultSet count_result = co_await session.execute("SELECT COUNT(*) FROM synthetic.rows");
    if (!count_result.one()) co_return example::fail("SELECT COUNT(*) returned no row");
    const std::int64_t total = count_result.one()->get<std::int64_t>(0);
    std::printf("exporting %lld rows\n", static_cast<long long>(total));

    // 2. The stream, with a callback that prints the progress of each page.
    std::int64_t callbacks = 0;
    std::int64_t last_page_number = 0;
    std::int64_t last_running_total = 0;
    bool pages_in_order = true;
    const auto start = example::Clock::now();
    ac::StreamConfig config;
    config.fetch_size = fetch_size;
    config.page_callback = [&](std::int64_t page_number, std::int64_t rows_in_page,
                               std::int64_t rows_so_far) {
        ++callbacks;
        if (page_number != last_page_number + 1 || rows_so_far != last_running_total + rows_in_page)
            pages_in_order = false;
        last_page_number = page_number;
        last_running_total = rows_so_far;
        const double percent =
            total > 0 ? 100.0 * static_cast<double>(rows_so_far) / static_cast<double>(total) : 100.0;
        std::printf("page %3lld: %6lld / %lld rows (%5.1f%%) after %.3f s\n",
                    static_cast<long long>(page_number), static_cast<long long>(rows_so_far),
                    static_cast<long long>(total), percent, example::seconds_since(start));
    };
    ac::Statement query("SELECT pk, ck, value FROM synthetic.rows");

    std::int64_t rows = 0;
    std::int64_t pages = 0;
    {
        ac::ResultStream stream = co_await session.execute_stream(query, config);  // closed at block end
        while (auto row = co_await stream.next()) {
            ++rows;  // the row-by-row work goes here; the callback fires as pages are taken
        }
        pages = stream.page_number();
        if (stream.callback_errors() != 0) co_return example::fail("the page callback threw");
    }

    std::printf("done: %lld rows, %lld pages, %lld callbacks\n", static_cast<long long>(rows),
                static_cast<long long>(pages), static_cast<long long>(callbacks));
    if (!pages_in_order) co_return example::fail("page numbers or running totals were not consecutive");
    if (callbacks != pages) co_return example::fail("callbacks != pages");
    if (last_running_total != total || rows != total)
        co_return example::fail("streamed " + std::to_string(rows) + " rows, callback total " +
                                std::to_string(last_running_total) + ", COUNT(*) " + std::to_string(total));
    if (expected && total != *expected)
        co_return example::fail("COUNT(*) " + std::to_string(total) + ", expected " +
                                std::to_string(*expected));
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run(argc, argv, stream_with_callback);
}
