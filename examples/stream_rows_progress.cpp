// Row streaming with a progress line every 1,000 rows.
//
// The stream keeps one page in hand and one on the wire (prefetch_pages = 1), so memory stays at
// about two pages whatever the table size; each Row is a view into the current page and is only
// valid until the next next() — copy what you want to keep.
//
//   stream_rows_progress --host H --port P [--rows-expected N] [--fetch-size 5000] [--every 1000]
//
// Checks: every row's name matches the generator ('name-<pk>-<ck>') and, with --rows-expected,
// the number of rows.
#include "example_support.hpp"

namespace ac = async_cassandra;
using example::Args;

namespace {

asio::awaitable<int> stream_with_progress(ac::Session session, Args args) {
    const auto expected = args.optional_int_flag("rows-expected");
    const auto fetch_size = static_cast<std::int32_t>(args.int_flag("fetch-size", 5000));
    const std::int64_t every = std::max<std::int64_t>(1, args.int_flag("every", 1000));
    args.reject_unknown();

    ac::StreamConfig config;  // built before co_await (GCC 12: no brace temporaries inside it)
    config.fetch_size = fetch_size;
    config.prefetch_pages = 1;
    ac::Statement query("SELECT pk, ck, name FROM synthetic.rows");

    const auto start = example::Clock::now();
    std::int64_t rows = 0;
    std::int64_t bad_rows = 0;
    {
        // RAII: leaving this block by any path (end, break, exception) destroys the stream, which
        // drops its buffered pages and cancels the page request still in flight.
        ac::ResultStream stream = co_await session.execute_stream(query, config);
        while (auto row = co_await stream.next()) {
            const auto pk = row->get<std::int64_t>(0);
            const auto ck = row->get<std::int32_t>(1);
            if (row->get<std::string_view>(2) != example::synthetic_name(pk, ck)) ++bad_rows;
            if (++rows % every == 0)
                std::printf("progress: %lld rows (page %lld, %.0f rows/s)\n", static_cast<long long>(rows),
                            static_cast<long long>(stream.page_number()),
                            rows / example::seconds_since(start));
        }
    }
    const double seconds = example::seconds_since(start);
    std::printf("done: %lld rows in %.3f s (%.0f rows/s), %lld bad rows\n", static_cast<long long>(rows),
                seconds, rows / seconds, static_cast<long long>(bad_rows));

    if (bad_rows != 0)
        co_return example::fail(std::to_string(bad_rows) + " rows did not match the generator");
    if (expected && rows != *expected)
        co_return example::fail("streamed " + std::to_string(rows) + " rows, expected " +
                                std::to_string(*expected));
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run(argc, argv, stream_with_progress);
}
