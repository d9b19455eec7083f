// ETL pipeline: extract synthetic.rows with a stream, transform each row, load the results into
// another table with concurrent prepared INSERTs — a bounded window of them per page, while the
// stream already downloads the next page (prefetch) — and report processed / failed / rows/s.
//
// A row whose transform fails (bad data) or whose INSERT fails is counted as failed and the
// pipeline goes on; --poison-every N makes every Nth row "bad" to show the first path, and a
// server started with a fault rule on the INSERTs (see CMakeLists.txt) shows the second.
//
//   etl_pipeline --host H --port P [--rows-expected N] [--fetch-size 2000] [--concurrency 32]
//                [--poison-every 0] [--keyspace etl_demo] [--expect-insert-failures 0|1]
//
// The destination table (KEYSPACE.enriched) is dropped and created afresh on every run.
// Checks: processed = rows streamed (= --rows-expected), COUNT(*) of the destination = processed
// - failed, the transform failures are exactly the poisoned rows, INSERT failures happened only
// when expected, and sampled destination rows hold the transformed values.
#include "example_support.hpp"

#include <cctype>
#include <stdexcept>
#include <tuple>

namespace ac = async_cassandra;
using example::Args;

namespace {

/// One destination row: (pk, ck, label, score, bucket).
using Enriched = std::tuple<std::int64_t, std::int32_t, std::string, double, std::int32_t>;

/// The transform: upper-case label, doubled score, a bucket of ten clustering keys. Throws for
/// rows it cannot handle (here: the simulated bad rows).
Enriched transform(const ac::Row& row, std::int64_t row_number, std::int64_t poison_every) {
    const auto pk = row.get<std::int64_t>(0);
    const auto ck = row.get<std::int32_t>(1);
    if (poison_every > 0 && row_number % poison_every == 0)
        throw std::invalid_argument("bad source row pk=" + std::to_string(pk) + " ck=" + std::to_string(ck));
    std::string label(row.get<std::string_view>(2));
    for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return {pk, ck, std::move(label), row.get<double>(3) * 2, ck / 10};
}

asio::awaitable<int> run_pipeline(ac::Session session, Args args) {
    const auto expected = args.optional_int_flag("rows-expected");
    const auto fetch_size = static_cast<std::int32_t>(args.int_flag("fetch-size", 2000));
    const auto concurrency =
        static_cast<std::size_t>(std::max<std::int64_t>(1, args.int_flag("concurrency", 32)));
    const std::int64_t poison_every = args.int_flag("poison-every", 0);
    const std::string keyspace = args.text_flag("keyspace", "etl_demo");
    const bool expect_insert_failures = args.int_flag("expect-insert-failures", 0) != 0;
    args.reject_unknown();
    const std::string table = keyspace + ".enriched";

    // The destination, created afresh.
    co_await session.execute("CREATE KEYSPACE IF NOT EXISTS " + keyspace +
                             " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    co_await session.execute("DROP TABLE IF EXISTS " + table);
    co_await session.execute(
        "CREATE TABLE " + table +
        " (pk bigint, ck int, label text, score double, bucket int, PRIMARY KEY (pk, ck))");
    const ac::PreparedStatement insert = co_await session.prepare(
        "INSERT INTO " + table + " (pk, ck, label, score, bucket) VALUES (?, ?, ?, ?, ?)");

    ac::StreamConfig config;
    config.fetch_size = fetch_size;
    config.prefetch_pages = 1;  // extract the next page while this one loads
    ac::ConcurrencyOptions window;
    window.concurrency = concurrency;
    ac::Statement extract("SELECT pk, ck, name, value FROM synthetic.rows");

    std::int64_t processed = 0, loaded = 0, transform_failed = 0, insert_failed = 0;
    std::string first_error;
    const auto start = example::Clock::now();
    {
        ac::ResultStream stream = co_await session.execute_stream(extract, config);  // closed at block end
        std::vector<Enriched> batch;
        while (auto page = co_await stream.next_page()) {
            // Transform the page (the Rows are views into it; the tuples own their strings).
            batch.clear();
            for (std::size_t i = 0; i < page->size(); ++i) {
                ++processed;
                try {
                    batch.push_back(transform((*page)[i], processed, poison_every));
                } catch (const std::exception& e) {
                    ++transform_failed;
                    if (first_error.empty()) first_error = e.what();
                }
            }
            // Load it: at most `concurrency` INSERTs in flight; one outcome per row, in order.
            const std::vector<ac::ExecutionOutcome> outcomes =
                co_await session.execute_concurrent(insert, batch, window);
            for (const auto& outcome : outcomes) {
                if (outcome.ok()) {
                    ++loaded;
                    continue;
                }
                ++insert_failed;
                if (first_error.empty()) {
                    try {
                        std::rethrow_exception(outcome.error);
                    } catch (const std::exception& e) {
                        first_error = e.what();
                    }
                }
            }
            std::printf("page %3lld: processed %7lld, loaded %7lld, failed %4lld, %8.0f rows/s\n",
                        static_cast<long long>(stream.page_number()), static_cast<long long>(processed),
                        static_cast<long long>(loaded),
                        static_cast<long long>(transform_failed + insert_failed),
                        static_cast<double>(processed) / example::seconds_since(start));
        }
    }
    const double seconds = example::seconds_since(start);
    const std::int64_t failed = transform_failed + insert_failed;
    std::printf(
        "ETL done: processed %lld, loaded %lld, failed %lld (transform %lld, insert %lld) in %.3f s: "
        "%.0f rows/s\n",
        static_cast<long long>(processed), static_cast<long long>(loaded), static_cast<long long>(failed),
        static_cast<long long>(transform_failed), static_cast<long long>(insert_failed), seconds,
        static_cast<double>(processed) / seconds);
    if (!first_error.empty()) std::printf("first failure: %s\n", first_error.c_str());

    // Verify the destination.
    const ac::ResultSet count = co_await session.execute("SELECT COUNT(*) FROM " + table);
    const std::int64_t in_destination = count.one() ? count.one()->get<std::int64_t>(0) : -1;
    std::printf("destination %s holds %lld rows\n", table.c_str(), static_cast<long long>(in_destination));
    if (in_destination != processed - failed)
        co_return example::fail("destination has " + std::to_string(in_destination) + " rows, expected " +
                                std::to_string(processed - failed));
    if (!expect_insert_failures && insert_failed != 0)
        co_return example::fail("INSERTs failed against a healthy node");
    if (expect_insert_failures && insert_failed == 0)
        co_return example::fail("no INSERT failed, but the node was told to fail some");
    const std::int64_t poisoned = poison_every > 0 ? processed / poison_every : 0;
    if (transform_failed != poisoned)
        co_return example::fail(std::to_string(transform_failed) + " transform failures, expected " +
                                std::to_string(poisoned));
    if (expected && processed != *expected)
        co_return example::fail("processed " + std::to_string(processed) + ", expected " +
                                std::to_string(*expected));

    // Sample a few rows back (partition 0 is in every synthetic table; skip rows that were poisoned).
    const ac::PreparedStatement select =
        co_await session.prepare("SELECT ck, label, score, bucket FROM " + table + " WHERE pk = ?");
    const ac::BoundStatement first_partition = select.bind(std::int64_t{0});
    const ac::ResultSet sample = co_await session.execute(first_partition);
    for (const ac::Row row : sample) {
        const auto ck = row.get<std::int32_t>(0);
        std::string want_label = example::synthetic_name(0, ck);
        for (char& c : want_label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (row.get<std::string_view>(1) != want_label ||
            row.get<double>(2) != 2 * example::synthetic_value(0, ck) || row.get<std::int32_t>(3) != ck / 10)
            co_return example::fail("destination row pk=0 ck=" + std::to_string(ck) + " holds wrong values");
    }
    if (sample.empty()) co_return example::fail("partition 0 is missing from the destination");
    std::printf("verified %zu sampled destination rows\n", sample.size());
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run(argc, argv, run_pipeline);
}
