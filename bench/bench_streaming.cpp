// bench_streaming: streaming benchmarks (issues 6 and 16) for our client, run by scripts/bench.sh
// against acass-server --synthetic N. One program, three uses:
//
//   throughput   SELECT * FROM synthetic.rows streamed with execute_stream, row by row, every cell
//                read typed (pk bigint, ck int, name text, value double, ts timestamp) and folded
//                into a checksum; value and ts are also checked against the table's formulas.
//   latency      the same with --work-ms W: the caller spends W ms per page (an asio timer awaited
//                on the client's own io_context with --work timer, the realistic case; or a busy
//                loop on the client thread with --work busy), against a server delaying every page
//                (--fault delay_pages=MS). Compare --prefetch 0 with --prefetch 1.
//   memory       peak RSS (VmHWM) at the end of the run; the process is the client alone.
//
//   bench_streaming --port P [--host H] [--fetch-size 5000] [--prefetch 1] [--rows-expected N]
//                   [--max-rows N] [--protocol 4|5] [--work-ms 0] [--work timer|busy] [--yields N]
//                   [--page-timeout-ms MS (0 = none; default: the library's)] [--label L]
//                   [--ticker-ms MS] [--api row|page]
//
// --api page reads whole pages (next_page(), then Page::as<int64, int32, string_view, double,
// Timestamp>() over the synthetic table's columns in order) instead of next() per row; --work and
// --yields apply to the row API only.
// --max-rows stops the stream after N rows (leaving early closes it); --yields N lets the event
// loop run N times (co_await asio::post) at the start of every page, before the page's work and
// rows. Prints one line:
//   RESULT impl=cpp label=L fetch=F prefetch=P rows=R pages=N seconds=S cpu_s=C page_wait_s=W rps=..
//          body_bytes=B mbps=.. peak_rss_mb=.. work=timer|busy|none work_ms=W work_pages=K
//          mismatches=M checksum=C protocol=V ticks=T tick_p50_us=.. tick_p99_us=.. tick_max_us=..
// protocol is the version the connection negotiated; the tick_* figures are the lag of a
// --ticker-ms timer running on the same io_context as the stream (0 without --ticker-ms).
// cpu_s is the process's CPU time (user + system) during the stream.
// pages counts empty pages too (e.g. the last page of a table that fills its pages exactly).
// page_wait_s is the time spent in the next() calls that had to take a new page (waiting for it,
// or for the event loop to deliver it); the rest of `seconds` is the caller's row work plus the
// stream's per-row cost. body_bytes is the sum of the RESULT bodies received (counted by a
// RequestObserver: response size minus the 9-byte envelope header), the measure raw_socket_read
// prints. Exit status 0, 1 on a mismatch or a wrong row count, 2 on errors.

#include <async_cassandra/async_cassandra.hpp>

#include "bench_common.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ac = async_cassandra;
using Clock = std::chrono::steady_clock;

namespace {

enum class Work { none, timer, busy };

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 9042;
    std::int32_t fetch_size = 5000;
    std::size_t prefetch = 1;
    std::optional<std::int64_t> rows_expected;
    std::optional<std::int64_t> max_rows;
    std::optional<int> protocol;
    double work_ms = 0;
    Work work = Work::timer;
    std::optional<std::int64_t> page_timeout_ms;  // nullopt = the library's default; 0 = none
    int yields = 0;  // event-loop passes (asio::post round trips) at the start of each page
    std::string label = "stream";
    double ticker_ms = 0;  // > 0: a ticker on the same io_context records its lag (responsiveness)
    bool by_page = false;  // --api page: next_page() + Page::as<...>() instead of next() per row
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "bench_streaming: %s\nusage: bench_streaming --port P [--host H] [--fetch-size N] [--prefetch N]\n"
                 "       [--rows-expected N] [--max-rows N] [--protocol 4|5] [--work-ms W] [--work timer|busy]\n"
                 "       [--label L] [--ticker-ms MS] [--api row|page]\n",
                 why);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc) usage("missing value after a flag");
        const std::string value = argv[++i];
        if (flag == "--host") o.host = value;
        else if (flag == "--port") o.port = static_cast<std::uint16_t>(std::stoul(value));
        else if (flag == "--fetch-size") o.fetch_size = static_cast<std::int32_t>(std::stol(value));
        else if (flag == "--prefetch") o.prefetch = std::stoul(value);
        else if (flag == "--rows-expected") o.rows_expected = std::stoll(value);
        else if (flag == "--max-rows") o.max_rows = std::stoll(value);
        else if (flag == "--protocol") o.protocol = std::stoi(value);
        else if (flag == "--work-ms") o.work_ms = std::stod(value);
        else if (flag == "--work") {
            if (value == "timer") o.work = Work::timer;
            else if (value == "busy") o.work = Work::busy;
            else usage("--work must be timer or busy");
        } else if (flag == "--page-timeout-ms") o.page_timeout_ms = std::stoll(value);
        else if (flag == "--yields") o.yields = std::stoi(value);
        else if (flag == "--label") o.label = value;
        else if (flag == "--ticker-ms") o.ticker_ms = std::stod(value);
        else if (flag == "--api") {
            if (value == "page") o.by_page = true;
            else if (value != "row") usage("--api must be row or page");
        }
        else usage("unknown flag");
    }
    if (o.fetch_size <= 0) usage("--fetch-size must be > 0");
    if (o.work_ms <= 0) o.work = Work::none;
    return o;
}

/// Adds up the RESULT body bytes of every request (runs on the I/O path: one relaxed add).
class BodyBytes : public ac::RequestObserver {
public:
    void on_request(const ac::RequestEvent& event) noexcept override {
        if (event.response_bytes > kEnvelopeHeader)
            bytes_.fetch_add(event.response_bytes - kEnvelopeHeader, std::memory_order_relaxed);
    }
    std::uint64_t total() const noexcept { return bytes_.load(std::memory_order_relaxed); }

private:
    static constexpr std::size_t kEnvelopeHeader = 9;
    std::atomic<std::uint64_t> bytes_{0};
};

/// What one row contributes: every cell read with its type, folded so that nothing is optimised
/// away, plus the cheap formula checks of the synthetic table.
struct RowReader {
    std::size_t pk = 0, ck = 0, name = 0, value = 0, ts = 0;
    bool resolved = false;
    std::uint64_t checksum = 0;
    std::int64_t mismatches = 0;

    void read(const ac::Row& row) {
        if (!resolved) {  // positions looked up once, not by name on every row
            pk = row.column_index("pk");
            ck = row.column_index("ck");
            name = row.column_index("name");
            value = row.column_index("value");
            ts = row.column_index("ts");
            resolved = true;
        }
        const auto k = row.get<std::int64_t>(pk);
        const auto c = row.get<std::int32_t>(ck);
        const auto n = row.get<std::string_view>(name);
        const auto v = row.get<double>(value);
        const auto t = row.get<ac::Timestamp>(ts).milliseconds;
        fold(k, c, n, v, t);
    }

    void fold(std::int64_t k, std::int32_t c, std::string_view n, double v, std::int64_t t) {
        checksum += static_cast<std::uint64_t>(k) * 31 + static_cast<std::uint64_t>(c) + n.size() +
                    static_cast<std::uint64_t>(n.empty() ? 0 : n.back()) + static_cast<std::uint64_t>(t);
        if (v != static_cast<double>(k) * 0.5 + c || t != 1700000000000 + k * 1000 + c) ++mismatches;
    }
};

/// A periodic timer on the client's io_context that records how late each tick runs (actual minus
/// scheduled time): the event loop's responsiveness while the stream is consumed on the same thread.
/// Ticks are scheduled on a fixed grid, so one late tick does not shift the ones after it.
struct Ticker {
    std::vector<std::int64_t> lag_ns;
    bool stop = false;

    asio::awaitable<void> run(Clock::duration interval) {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        auto due = Clock::now() + interval;
        while (!stop) {
            timer.expires_at(due);
            co_await timer.async_wait(asio::use_awaitable);
            const auto now = Clock::now();
            lag_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(now - due).count());
            while (due <= now) due += interval;  // ticks missed while blocked are not queued up
        }
    }

    double percentile_us(double q) {
        if (lag_ns.empty()) return 0;
        const auto k = static_cast<std::size_t>(q * static_cast<double>(lag_ns.size() - 1));
        std::nth_element(lag_ns.begin(), lag_ns.begin() + static_cast<std::ptrdiff_t>(k), lag_ns.end());
        return static_cast<double>(lag_ns[k]) / 1000.0;
    }
};

void busy_wait(double ms) {
    const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms));
    while (Clock::now() < until) {
    }
}

asio::awaitable<int> run(Options options) {
    auto executor = co_await asio::this_coro::executor;
    auto body_bytes = std::make_shared<BodyBytes>();
    ac::ClusterConfig cluster_config;
    cluster_config.contact_points = {options.host};
    cluster_config.port = options.port;
    cluster_config.connection.protocol_version = options.protocol;
    cluster_config.connection.heartbeat_interval = std::nullopt;
    cluster_config.observer = body_bytes;
    const auto negotiated = bench::record_negotiated_protocol(cluster_config);
    ac::Cluster cluster(executor, cluster_config);
    ac::Session session = co_await cluster.connect();

    ac::StreamConfig config;  // built before co_await (GCC 12: no brace temporaries inside it)
    config.fetch_size = options.fetch_size;
    config.prefetch_pages = options.prefetch;
    if (options.page_timeout_ms) {
        if (*options.page_timeout_ms > 0) config.page_timeout = std::chrono::milliseconds(*options.page_timeout_ms);
        else config.page_timeout = std::nullopt;
    }
    // The page API's typed tuples take the columns in order, so that mode names them (the same
    // columns and bytes as SELECT *, whose order is the server's).
    ac::Statement statement(options.by_page ? "SELECT pk, ck, name, value, ts FROM synthetic.rows"
                                            : "SELECT * FROM synthetic.rows");
    asio::steady_timer work_timer(executor);
    const auto work_duration =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(options.work_ms));

    auto ticker = std::make_shared<Ticker>();
    if (options.ticker_ms > 0) {
        const auto interval =
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(options.ticker_ms));
        asio::co_spawn(executor, ticker->run(interval), [ticker](std::exception_ptr) {});
    }

    RowReader reader;
    std::int64_t rows = 0;
    std::int64_t pages = 0;
    std::int64_t work_done = 0;  // pages the caller worked on (empty pages have no first row)
    Clock::duration page_wait{0};
    // The clock starts before the first request: the first page's round trip is part of the run,
    // as it is for raw_socket_read and the Python driver.
    const auto start = Clock::now();
    const double cpu_before = bench::cpu_seconds();
    const std::uint64_t bytes_before = body_bytes->total();  // connection set-up is not streaming
    {
        ac::ResultStream stream = co_await session.execute_stream(statement, config);
        // --api page: whole pages with next_page(), rows decoded as typed tuples by Page::as
        // (types checked once per page), the fastest way the API offers to read every cell.
        while (options.by_page) {
            const auto before = Clock::now();
            std::optional<ac::Page> page = co_await stream.next_page();
            page_wait += Clock::now() - before;
            if (!page) break;
            for (auto [k, c, n, v, ts] : page->as<std::int64_t, std::int32_t, std::string_view, double, ac::Timestamp>()) {
                reader.fold(k, c, n, v, ts.milliseconds);
                if (++rows == options.max_rows) break;
            }
            if (rows == options.max_rows) break;
        }
        while (!options.by_page) {
            // Rows of the page in hand without suspending (ResultStream::try_next); next() only
            // at a page boundary, where the time it takes (waiting for the network, or for the
            // event loop to run the fetcher) is added to page_wait: the rest of the run is the
            // caller's own row work.
            std::optional<ac::Row> row = stream.try_next();
            if (!row) {
                const auto before = Clock::now();
                row = co_await stream.next();
                page_wait += Clock::now() - before;
                if (!row) break;
                // First row of a new page: the caller's per-page work happens here, with the row
                // (and its page) in hand, before the page's rows are processed.
                // Letting the event loop run first lets the stream's fetcher send the next page
                // request before this thread is taken by the work or by the page's rows.
                for (int i = 0; i < options.yields; ++i) co_await asio::post(executor, asio::use_awaitable);
                if (options.work != Work::none) ++work_done;
                if (options.work == Work::timer) {
                    work_timer.expires_after(work_duration);
                    co_await work_timer.async_wait(asio::use_awaitable);
                } else if (options.work == Work::busy) {
                    busy_wait(options.work_ms);
                }
            }
            reader.read(*row);
            if (++rows == options.max_rows) break;
        }
        pages = stream.page_number();
    }  // leaving the scope closes the stream (and cancels a prefetch in flight after --max-rows)
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const std::uint64_t streamed_bytes = body_bytes->total() - bytes_before;
    const double cpu = bench::cpu_seconds() - cpu_before;
    ticker->stop = true;
    const std::size_t ticks = ticker->lag_ns.size();
    const double tick_p50 = ticker->percentile_us(0.50), tick_p99 = ticker->percentile_us(0.99),
                 tick_max = ticker->percentile_us(1.0);

    std::int64_t failures = reader.mismatches;
    if (options.rows_expected && rows != *options.rows_expected) {
        std::fprintf(stderr, "bench_streaming: %lld rows, expected %lld\n", static_cast<long long>(rows),
                     static_cast<long long>(*options.rows_expected));
        ++failures;
    }
    const char* work_name = options.work == Work::timer ? "timer" : options.work == Work::busy ? "busy" : "none";
    std::printf("RESULT impl=cpp label=%s fetch=%d prefetch=%zu rows=%lld pages=%lld seconds=%.3f cpu_s=%.3f page_wait_s=%.3f rps=%.0f "
                "body_bytes=%llu mbps=%.1f peak_rss_mb=%.1f work=%s work_ms=%g work_pages=%lld mismatches=%lld checksum=%llu "
                "protocol=%s ticks=%zu tick_p50_us=%.1f tick_p99_us=%.1f tick_max_us=%.1f\n",
                options.label.c_str(), static_cast<int>(options.fetch_size), options.prefetch,
                static_cast<long long>(rows), static_cast<long long>(pages), seconds, cpu,
                std::chrono::duration<double>(page_wait).count(),
                static_cast<double>(rows) / seconds, static_cast<unsigned long long>(streamed_bytes),
                static_cast<double>(streamed_bytes) / seconds / 1e6, bench::peak_rss_mb(), work_name, options.work_ms,
                static_cast<long long>(work_done),
                static_cast<long long>(reader.mismatches), static_cast<unsigned long long>(reader.checksum),
                std::to_string(*negotiated).c_str(), ticks, tick_p50, tick_p99,
                tick_max);
    std::fflush(stdout);
    co_await session.shutdown();
    co_await cluster.shutdown();
    co_return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    asio::io_context io;  // one thread: client, stream, per-page work and row reading share it
    int status = 2;
    asio::co_spawn(io, run(options), [&status](std::exception_ptr error, int result) {
        if (!error) {
            status = result;
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_streaming: %s\n", e.what());
        }
    });
    io.run();
    return status;
}
