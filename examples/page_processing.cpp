// Page-by-page bulk processing: next_page() hands over a whole page at once (an owning Page that
// may outlive the stream), for work that is naturally done in batches — here a per-page
// aggregation (row count, sum/min/max of `value`, partitions touched), then a grand total.
//
//   page_processing --host H --port P [--rows-expected N] [--fetch-size 4000]
//
// Checks: no page is larger than fetch_size, and the grand totals (rows, sum of value) equal the
// generator's, computed independently from the formulas.
#include "example_support.hpp"

#include <limits>
#include <set>

namespace ac = async_cassandra;
using example::Args;

namespace {

/// What one page contributed.
struct PageSummary {
    std::int64_t rows = 0;
    double sum = 0;
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    std::size_t partitions = 0;
};

/// The batch step: one pass over the page. A real job would write the page to another system,
/// send it as one request, feed a model, ...
PageSummary summarize(const ac::Page& page) {
    const std::size_t pk_col = page.column_index("pk");
    const std::size_t value_col = page.column_index("value");
    PageSummary s;
    std::set<std::int64_t> partitions;
    for (std::size_t i = 0; i < page.size(); ++i) {
        const ac::Row row = page[i];
        const double value = row.get<double>(value_col);
        s.sum += value;
        s.min = std::min(s.min, value);
        s.max = std::max(s.max, value);
        partitions.insert(row.get<std::int64_t>(pk_col));
        ++s.rows;
    }
    s.partitions = partitions.size();
    return s;
}

asio::awaitable<int> process_pages(ac::Session session, Args args) {
    const auto expected = args.optional_int_flag("rows-expected");
    const auto fetch_size = static_cast<std::int32_t>(args.int_flag("fetch-size", 4000));
    args.reject_unknown();

    ac::StreamConfig config;
    config.fetch_size = fetch_size;
    config.prefetch_pages = 1;  // the next page downloads while this one is being processed
    ac::Statement query("SELECT pk, value FROM synthetic.rows");

    std::int64_t total_rows = 0;
    std::int64_t pages = 0;
    double total_sum = 0;
    bool oversized_page = false;
    {
        ac::ResultStream stream = co_await session.execute_stream(query, config);  // closed at block end
        while (auto page = co_await stream.next_page()) {
            const PageSummary s = summarize(*page);
            ++pages;
            total_rows += s.rows;
            total_sum += s.sum;
            if (s.rows > fetch_size) oversized_page = true;
            std::printf("page %3lld: %5lld rows, %3zu partitions, value sum %12.1f min %7.1f max %7.1f\n",
                        static_cast<long long>(stream.page_number()), static_cast<long long>(s.rows),
                        s.partitions, s.sum, s.min, s.max);
        }
    }
    std::printf("total: %lld rows in %lld pages, value sum %.1f\n", static_cast<long long>(total_rows),
                static_cast<long long>(pages), total_sum);

    if (oversized_page) co_return example::fail("a page held more than fetch_size rows");
    if (expected) {
        // The same totals from the generator's formulas (pk = 0.., ck = 0..99, value = pk/2 + ck).
        double expected_sum = 0;
        for (std::int64_t pk = 0; pk * 100 < *expected; ++pk)
            for (std::int32_t ck = 0; ck < example::synthetic_rows_in(*expected, pk); ++ck)
                expected_sum += example::synthetic_value(pk, ck);
        if (total_rows != *expected)
            co_return example::fail("rows " + std::to_string(total_rows) + ", expected " +
                                    std::to_string(*expected));
        // Every value is a multiple of 0.5 and the sums stay far below 2^52: exact in a double.
        if (total_sum != expected_sum)
            co_return example::fail("value sum " + std::to_string(total_sum) + ", expected " +
                                    std::to_string(expected_sum));
    }
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run(argc, argv, process_pages);
}
