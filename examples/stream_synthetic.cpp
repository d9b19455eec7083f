// stream_synthetic: streams the whole of synthetic.rows (acass-server --synthetic ROWS) row by row
// with execute_stream and checks every row against the generator's formulas:
//   name = 'name-<pk>-<ck>', value = pk * 0.5 + ck, ts = 1700000000000 + pk * 1000 + ck,
// and that each partition arrives whole (ck = 0, 1, 2, ... in order). Memory stays bounded by
// (1 + prefetch) pages whatever the table size: the progress line shows the resident set.
//
//   stream_synthetic --host 127.0.0.1 --port P [--rows-expected N] [--fetch-size 5000] [--prefetch 1]
//
// Exit status: 0 when every row matched (and the count, with --rows-expected), 1 on any
// mismatch, 2 on a usage or driver error.

#include <async_cassandra/async_cassandra.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace ac = async_cassandra;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 9042;
    std::optional<std::int64_t> rows_expected;
    std::int32_t fetch_size = 5000;
    std::size_t prefetch = 1;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "stream_synthetic: %s\nusage: stream_synthetic --host H --port P [--rows-expected N] "
                 "[--fetch-size N] [--prefetch N]\n",
                 why);
    std::exit(2);
}

std::int64_t parse_int(std::string_view text, const char* flag) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0) usage(flag);
    return v;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") usage("streams and verifies synthetic.rows");
        if (i + 1 >= argc) usage("missing value after a flag");
        const std::string_view value = argv[++i];
        if (flag == "--host")
            o.host = value;
        else if (flag == "--port")
            o.port = static_cast<std::uint16_t>(parse_int(value, "bad --port"));
        else if (flag == "--rows-expected")
            o.rows_expected = parse_int(value, "bad --rows-expected");
        else if (flag == "--fetch-size")
            o.fetch_size = static_cast<std::int32_t>(parse_int(value, "bad --fetch-size"));
        else if (flag == "--prefetch")
            o.prefetch = static_cast<std::size_t>(parse_int(value, "bad --prefetch"));
        else
            usage("unknown flag");
    }
    return o;
}

/// Current resident set in MB (second field of /proc/self/statm, in pages).
double rss_mb() {
    std::ifstream statm("/proc/self/statm");
    long size = 0, resident = 0;
    statm >> size >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

/// Peak resident set in MB (VmHWM of /proc/self/status, in kB).
double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    return 0;
}

/// Progress output: every 0.5 s rewritten in place on a terminal; on a pipe or file (CI logs)
/// one line per second at most, so that the log stays readable.
class Progress {
public:
    Progress() : tty_(isatty(STDOUT_FILENO) != 0), start_(Clock::now()), last_(start_) {}

    void maybe_print(std::int64_t rows, std::int64_t pages) {
        const auto now = Clock::now();
        if (now - last_ < (tty_ ? std::chrono::milliseconds(500) : std::chrono::milliseconds(1000))) return;
        last_ = now;
        std::printf("%s%12lld rows %12.0f rows/s %8lld pages  RSS %7.1f MB%s", tty_ ? "\r" : "",
                    static_cast<long long>(rows), static_cast<double>(rows) / seconds(), static_cast<long long>(pages),
                    rss_mb(), tty_ ? "" : "\n");
        std::fflush(stdout);
    }
    void finish() {
        if (tty_) std::printf("\n");
    }
    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    bool tty_;
    Clock::time_point start_;
    Clock::time_point last_;
};

/// Checks the synthetic table's invariants row by row, without remembering rows (so that memory
/// stays flat): the formulas, ck = 0, 1, 2, ... within a partition, and (at the end) that the
/// partitions seen are exactly 0 .. P-1 once each (count and sum of their pks).
class Verifier {
public:
    void check(const ac::Row& row) {
        if (!resolved_) resolve(row);
        const auto pk = row.get<std::int64_t>(pk_);
        const auto ck = row.get<std::int32_t>(ck_);
        bool ok = row.get<double>(value_) == static_cast<double>(pk) * 0.5 + ck &&
                  row.get<ac::Timestamp>(ts_).milliseconds == 1700000000000 + pk * 1000 + ck;
        // name-<pk>-<ck> built without allocating (this runs ten million times in the demo).
        // The pk's digits end by offset 40 at most (20 digits fit), leaving room for "-<ck>".
        char expected[64] = "name-";
        char* p = std::to_chars(expected + 5, expected + 40, pk).ptr;
        *p = '-';
        p = std::to_chars(p + 1, expected + sizeof expected, ck).ptr;
        ok = ok && row.get<std::string_view>(name_) == std::string_view(expected, static_cast<std::size_t>(p - expected));
        // A partition starts at ck 0 and continues without gaps (rows come in clustering order).
        if (ck == 0) {
            ++partitions_;
            pk_sum_ += pk;
        } else if (pk != last_pk_ || ck != last_ck_ + 1) {
            ok = false;
        }
        last_pk_ = pk;
        last_ck_ = ck;
        if (!ok && ++mismatches_ <= 5)
            std::fprintf(stderr, "\nmismatch at pk=%lld ck=%d\n", static_cast<long long>(pk), static_cast<int>(ck));
    }

    /// Whole-table checks against the expected row count; returns the number of failures.
    std::int64_t check_totals(std::int64_t rows, std::int64_t expected) const {
        const std::int64_t partitions = (expected + 99) / 100;
        std::int64_t failures = 0;
        if (rows != expected) {
            std::fprintf(stderr, "row count %lld, expected %lld\n", static_cast<long long>(rows),
                         static_cast<long long>(expected));
            ++failures;
        }
        if (partitions_ != partitions || pk_sum_ != partitions * (partitions - 1) / 2) {
            std::fprintf(stderr, "partitions %lld (pk sum %lld), expected %lld (pk sum %lld)\n",
                         static_cast<long long>(partitions_), static_cast<long long>(pk_sum_),
                         static_cast<long long>(partitions), static_cast<long long>(partitions * (partitions - 1) / 2));
            ++failures;
        }
        return failures;
    }

    std::int64_t mismatches() const { return mismatches_; }

private:
    // Column positions looked up once rather than by name on every row.
    void resolve(const ac::Row& row) {
        pk_ = row.column_index("pk");
        ck_ = row.column_index("ck");
        name_ = row.column_index("name");
        value_ = row.column_index("value");
        ts_ = row.column_index("ts");
        resolved_ = true;
    }

    bool resolved_ = false;
    std::size_t pk_ = 0, ck_ = 0, name_ = 0, value_ = 0, ts_ = 0;
    std::int64_t last_pk_ = -1;
    std::int32_t last_ck_ = -1;
    std::int64_t partitions_ = 0;
    std::int64_t pk_sum_ = 0;
    std::int64_t mismatches_ = 0;
};

asio::awaitable<int> run(Options options) {
    auto executor = co_await asio::this_coro::executor;
    ac::ClusterConfig cluster_config;
    cluster_config.contact_points = {options.host};
    cluster_config.port = options.port;
    ac::Cluster cluster(executor, cluster_config);
    ac::Session session = co_await cluster.connect();

    std::int64_t pages = 0;
    ac::StreamConfig config;  // built before co_await (GCC 12: no brace temporaries inside it)
    config.fetch_size = options.fetch_size;
    config.prefetch_pages = options.prefetch;
    config.page_callback = [&pages](std::int64_t page_number, std::int64_t, std::int64_t) { pages = page_number; };
    ac::Statement statement("SELECT * FROM synthetic.rows");

    Verifier verifier;
    Progress progress;
    std::int64_t rows = 0;
    {
        ac::ResultStream stream = co_await session.execute_stream(statement, config);
        while (auto row = co_await stream.next()) {
            verifier.check(*row);
            // Reading the clock costs ~20 ns; every 4096 rows keeps it out of the profile.
            if ((++rows & 4095) == 0) progress.maybe_print(rows, pages);
        }
    }  // the stream (and its last page) is released here
    progress.finish();
    const double seconds = progress.seconds();

    std::int64_t failures = verifier.mismatches();
    if (options.rows_expected) failures += verifier.check_totals(rows, *options.rows_expected);
    std::printf("rows %lld  seconds %.2f  rows/s %.0f  pages %lld  peak RSS %.1f MB  mismatches %lld\n",
                static_cast<long long>(rows), seconds, static_cast<double>(rows) / seconds,
                static_cast<long long>(pages), peak_rss_mb(), static_cast<long long>(verifier.mismatches()));
    co_await session.shutdown();
    co_await cluster.shutdown();
    co_return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    asio::io_context io;  // one thread: the client, the stream and the verification share it
    int status = 2;
    asio::co_spawn(io, run(options), [&status](std::exception_ptr error, int result) {
        if (!error) {
            status = result;
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "stream_synthetic: %s\n", e.what());
        }
    });
    io.run();
    return status;
}
