// The client side of scripts/soak.sh: a mixed workload (streams and a parallel scan of
// synthetic.rows, prepared point reads, idempotent and non-idempotent inserts) against a running
// acass-server while the script rotates faults on it, sampling every second what a leak would
// show: the process's RSS, its open sockets, the stream ids in flight, connections and
// throughput. Every row read is checked (stream and scan: each row exactly once; point reads:
// the value written; a write that succeeded is read back), and every failure is tallied by its
// typed error.
//
//   acass_soak_driver --port P [--host H]... --seconds N --rows R --csv FILE [--phase-file FILE]
//                     [--warmup S] [--check] [--max-rss-growth-mb M] [--allow-error NAME]...
//
// With --check it exits 1 unless: RSS after warm-up grew by at most M MB (median of the last five
// samples against the median of the five after warm-up), no stream id is still in flight once the
// workload stopped and the session went idle, no socket is left open after Cluster::shutdown(),
// no row was lost, duplicated or wrong, and every error is one of the --allow-error names.
#include "support/error_names.hpp"
#include "support/synthetic_rows.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ac = async_cassandra;
using namespace std::chrono_literals;

namespace {

struct Options {
    std::vector<std::string> hosts{"127.0.0.1"};
    std::uint16_t port = 9042;
    int seconds = 60;
    int warmup = 10;
    std::int64_t rows = 20000;
    std::string csv = "soak.csv";
    std::string phase_file;
    bool check = false;
    double max_rss_growth_mb = 8;
    std::vector<std::string> allowed_errors;
};

constexpr int kKeys = 5000;  // point-read / insert key space (bounded: the tallies stay bounded)

std::int64_t rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    return 0;
}

int open_sockets() {
    int n = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        std::error_code link_ec;
        const auto target = std::filesystem::read_symlink(entry.path(), link_ec);
        if (!link_ec && target.string().rfind("socket:", 0) == 0) ++n;
    }
    return n;
}

std::string read_phase(const std::string& file) {
    if (file.empty()) return "";
    std::ifstream in(file);
    std::string phase;
    std::getline(in, phase);
    return phase;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::use_awaitable);
}

/// What the workload did so far (one thread: no locking).
struct Tally {
    std::int64_t reads = 0, writes = 0, stream_rows = 0, streams = 0, scans = 0;
    std::map<std::pair<std::string, std::string>, std::int64_t> errors;  // by (workload, typed error name)
    std::vector<std::string> data_errors;        // lost, duplicated or wrong rows (never allowed)
    std::vector<std::int8_t> written = std::vector<std::int8_t>(kKeys, 0);  // keys whose insert succeeded
    bool stop = false;
    int running = 0;

    void error(const char* workload, const std::exception_ptr& e) { ++errors[{workload, acass_test::error_name(e)}]; }
    void data_error(std::string what) {
        if (data_errors.size() < 20) data_errors.push_back(std::move(what));
        else ++errors[{"data", "more data errors"}];
    }
    /// Tallies a full read of the table: its error, or what was wrong with its rows. True when
    /// it read every row exactly once.
    bool checked(const char* workload, const std::exception_ptr& e, const acass_test::SyntheticTally& rows) {
        const std::string problems = rows.problems(!e);
        if (!problems.empty()) data_error(std::string(workload) + ": " + problems);
        if (e) error(workload, e);
        return !e && problems.empty();
    }
};

asio::awaitable<void> stream_worker(ac::Session session, const Options& o, Tally& t) {
    ++t.running;
    while (!t.stop) {
        ac::Statement st("SELECT * FROM synthetic.rows");
        st.set_idempotent();
        ac::StreamConfig config;
        config.fetch_size = 500;
        config.page_timeout = 20s;
        acass_test::SyntheticTally rows(o.rows);
        std::exception_ptr error;
        try {
            ac::ResultStream stream = co_await ac::execute_stream(session, st, config);
            while (auto row = co_await stream.next()) {
                rows.add(*row);
                ++t.stream_rows;
            }
        } catch (...) {
            error = std::current_exception();
        }
        if (t.checked("stream", error, rows)) ++t.streams;
        co_await sleep_for(1s);  // paced: the machine is shared; the soak measures leaks, not speed
    }
    --t.running;
}

asio::awaitable<void> scan_worker(ac::Session session, const Options& o, Tally& t) {
    ++t.running;
    while (!t.stop) {
        ac::ScanConfig config;
        config.table = "synthetic.rows";
        config.splits = 8;
        config.concurrency = 2;
        config.stream.fetch_size = 500;
        config.stream.page_timeout = 20s;
        acass_test::SyntheticTally rows(o.rows);
        std::exception_ptr error;
        try {
            co_await ac::scan_table(session, config, [&](std::size_t, const ac::Page& page) {
                for (ac::Row row : page) {
                    rows.add(row);
                    ++t.stream_rows;
                }
            });
        } catch (...) {
            error = std::current_exception();
        }
        if (t.checked("scan", error, rows)) ++t.scans;
        co_await sleep_for(2s);
    }
    --t.running;
}

std::string value_of(int k) { return "v" + std::to_string(k); }

asio::awaitable<void> insert_worker(ac::Session session, ac::PreparedStatement insert, bool idempotent, int seed,
                                    Tally& t) {
    ++t.running;
    std::mt19937 rng(static_cast<unsigned>(seed));
    std::uniform_int_distribution<int> key(0, kKeys - 1);
    while (!t.stop) {
        const int k = key(rng);
        ac::BoundStatement bound = insert.bind(k, value_of(k));
        bound.set_idempotent(idempotent);
        auto [error, result] = co_await session.try_execute(bound);
        if (error) t.error(idempotent ? "insert" : "insert(non-idempotent)", error);
        else {
            ++t.writes;
            t.written[static_cast<std::size_t>(k)] = 1;
        }
        co_await sleep_for(2ms);
    }
    --t.running;
}

asio::awaitable<void> read_worker(ac::Session session, ac::PreparedStatement select, int seed, Tally& t) {
    ++t.running;
    std::mt19937 rng(static_cast<unsigned>(seed));
    std::uniform_int_distribution<int> key(0, kKeys - 1);
    while (!t.stop) {
        const int k = key(rng);
        const bool was_written = t.written[static_cast<std::size_t>(k)] != 0;  // before the read is sent
        ac::BoundStatement bound = select.bind(k);
        bound.set_idempotent();
        auto [error, result] = co_await session.try_execute(bound);
        if (error) t.error("read", error);
        else {
            ++t.reads;
            auto row = result.one();
            if (row && row->get<std::string>(0) != value_of(k)) t.data_error("read: wrong value for k=" + std::to_string(k));
            if (!row && was_written) t.data_error("read: k=" + std::to_string(k) + " was written but is missing");
        }
        co_await sleep_for(2ms);
    }
    --t.running;
}

std::int64_t median(std::vector<std::int64_t> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

asio::awaitable<int> soak(const Options& o) {
    auto ex = co_await asio::this_coro::executor;
    ac::ClusterConfig config;
    config.contact_points = o.hosts;
    config.port = o.port;
    config.request_timeout = 2s;
    config.connection.connect_timeout = 2s;
    config.reconnection.base = 50ms;
    config.reconnection.max = 1s;
    ac::Cluster cluster(ex, config);
    ac::Session session = co_await cluster.connect();
    co_await session.execute(
        "CREATE KEYSPACE IF NOT EXISTS soak WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
    co_await session.execute("CREATE TABLE IF NOT EXISTS soak.kv (k int PRIMARY KEY, v text)");
    ac::PreparedStatement insert = co_await session.prepare("INSERT INTO soak.kv (k, v) VALUES (?, ?)");
    ac::PreparedStatement select = co_await session.prepare("SELECT v FROM soak.kv WHERE k = ?");

    Tally t;
    for (int i = 0; i < 2; ++i) asio::co_spawn(ex, stream_worker(session, o, t), asio::detached);
    asio::co_spawn(ex, scan_worker(session, o, t), asio::detached);
    for (int i = 0; i < 3; ++i) asio::co_spawn(ex, insert_worker(session, insert, true, 100 + i, t), asio::detached);
    asio::co_spawn(ex, insert_worker(session, insert, false, 200, t), asio::detached);
    for (int i = 0; i < 4; ++i) asio::co_spawn(ex, read_worker(session, select, 300 + i, t), asio::detached);

    std::ofstream csv(o.csv);
    csv << "second,rss_kb,sockets,in_flight,connections,reads_per_s,writes_per_s,stream_rows_per_s,errors,phase\n";
    std::vector<std::int64_t> rss_samples;
    const auto start = std::chrono::steady_clock::now();
    std::int64_t last_reads = 0, last_writes = 0, last_rows = 0;
    for (int second = 1; second <= o.seconds; ++second) {
        asio::steady_timer tick(ex, start + std::chrono::seconds(second));
        co_await tick.async_wait(asio::use_awaitable);
        std::int64_t errors = 0;
        for (const auto& [key, n] : t.errors) errors += n;
        const std::int64_t rss = rss_kb();
        if (second > o.warmup) rss_samples.push_back(rss);
        csv << second << ',' << rss << ',' << open_sockets() << ',' << session.in_flight_requests() << ','
            << session.open_connections() << ',' << t.reads - last_reads << ',' << t.writes - last_writes << ','
            << t.stream_rows - last_rows << ',' << errors << ',' << read_phase(o.phase_file) << '\n';
        csv.flush();
        last_reads = t.reads;
        last_writes = t.writes;
        last_rows = t.stream_rows;
    }

    // Stop the workload, let abandoned requests drain, then count what is left.
    t.stop = true;
    for (int i = 0; i < 600 && t.running > 0; ++i) co_await sleep_for(50ms);
    for (int i = 0; i < 200 && session.in_flight_requests() != 0; ++i) co_await sleep_for(50ms);
    const std::size_t leaked_ids = session.in_flight_requests();
    const int sockets_before_shutdown = open_sockets();
    co_await cluster.shutdown();
    co_await sleep_for(200ms);
    const int leaked_sockets = open_sockets();
    for (int i = 0; i < 200 && t.running > 0; ++i) co_await sleep_for(50ms);  // workers use `t`

    const std::int64_t rss_first = median({rss_samples.begin(), rss_samples.begin() + std::min<std::ptrdiff_t>(5, std::ssize(rss_samples))});
    const std::int64_t rss_last = median({rss_samples.end() - std::min<std::ptrdiff_t>(5, std::ssize(rss_samples)), rss_samples.end()});
    const double growth_mb = static_cast<double>(rss_last - rss_first) / 1024.0;

    std::printf("soak: seconds=%d reads=%lld writes=%lld stream_rows=%lld streams=%lld scans=%lld\n", o.seconds,
                static_cast<long long>(t.reads), static_cast<long long>(t.writes),
                static_cast<long long>(t.stream_rows), static_cast<long long>(t.streams),
                static_cast<long long>(t.scans));
    std::printf("soak: rss_after_warmup_kb=%lld rss_end_kb=%lld growth_mb=%.2f\n", static_cast<long long>(rss_first),
                static_cast<long long>(rss_last), growth_mb);
    std::printf("soak: in_flight_after_idle=%zu sockets_before_shutdown=%d sockets_after_shutdown=%d\n", leaked_ids,
                sockets_before_shutdown, leaked_sockets);
    for (const auto& [key, n] : t.errors)
        std::printf("soak: error %s %s=%lld\n", key.first.c_str(), key.second.c_str(), static_cast<long long>(n));
    for (const auto& e : t.data_errors) std::printf("soak: DATA ERROR %s\n", e.c_str());

    int failures = 0;
    auto fail = [&](const std::string& why) {
        std::printf("soak: FAIL %s\n", why.c_str());
        ++failures;
    };
    if (!t.data_errors.empty()) fail("rows lost, duplicated or wrong");
    if (o.check) {
        if (growth_mb > o.max_rss_growth_mb) fail("RSS grew by more than " + std::to_string(o.max_rss_growth_mb) + " MB");
        if (leaked_ids != 0) fail("stream ids still in flight after the workload went idle");
        if (leaked_sockets != 0) fail("sockets open after Cluster::shutdown()");
        for (const auto& [key, n] : t.errors)
            if (std::find(o.allowed_errors.begin(), o.allowed_errors.end(), key.second) == o.allowed_errors.end())
                fail("error not caused by the injected faults: " + key.first + " " + key.second);
        if (t.streams == 0 || t.scans == 0 || t.reads == 0 || t.writes == 0) fail("some workload never succeeded");
    }
    std::printf("soak: %s\n", failures == 0 ? "ok" : "FAILED");
    co_return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Soak workload for scripts/soak.sh"};
    app.add_option("--host", o.hosts, "contact point (repeatable)");
    app.add_option("--port", o.port, "CQL port")->required();
    app.add_option("--seconds", o.seconds, "how long to run")->check(CLI::PositiveNumber);
    app.add_option("--warmup", o.warmup, "seconds before RSS is compared");
    app.add_option("--rows", o.rows, "rows of synthetic.rows on the server")->check(CLI::PositiveNumber);
    app.add_option("--csv", o.csv, "per-second samples");
    app.add_option("--phase-file", o.phase_file, "file whose first line names the current fault phase");
    app.add_flag("--check", o.check, "exit 1 unless the soak's assertions hold");
    app.add_option("--max-rss-growth-mb", o.max_rss_growth_mb, "with --check: allowed RSS growth after warm-up");
    app.add_option("--allow-error", o.allowed_errors, "with --check: a typed error the faults may cause (repeatable)");
    CLI11_PARSE(app, argc, argv);
    if (o.warmup + 10 > o.seconds) o.warmup = std::max(1, o.seconds / 3);

    asio::io_context io;
    int status = 2;
    std::exception_ptr error;
    asio::co_spawn(io, soak(o), [&](std::exception_ptr e, int s) {
        error = e;
        status = s;
    });
    io.run();
    if (error) {
        std::fprintf(stderr, "soak: %s\n", acass_test::error_name(error).c_str());
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "soak: %s\n", e.what());
        }
        return 2;
    }
    return status;
}
