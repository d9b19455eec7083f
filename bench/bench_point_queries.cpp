// Point-query benchmark (issue 5): single-row reads by primary key through a prepared statement,
//
//   SELECT * FROM synthetic.rows WHERE pk = ? AND ck = ?
//
// against a running acass-server started with --synthetic ROWS (pk in [0, ROWS/100), ck in
// [0, 100)). For each concurrency level C it keeps exactly C requests in flight (C worker
// coroutines, each issuing its next request as soon as the previous one completes) until N
// requests have completed, and reports throughput and p50/p99 latency.
//
// A standalone program rather than a Google Benchmark case: it needs a live server and a
// closed-loop load generator whose latency histogram is the result, which does not fit
// Benchmark's "time one iteration" model.
//
// The client runs on one io_context thread: the comparison peer (bench/python/point_queries.py,
// the DataStax driver) is likewise one event-loop thread plus the submitting thread, and the
// server shares the same (small) machine.
//
// Output: one line per level, "RESULT impl=cpp config=tuned|default op=select|insert conc=C
// requests=N errors=E seconds=S rps=R p50_us=P50 p99_us=P99 cpu_us_per_req=U protocol=V" (V: the
// version the connection negotiated), parsed by scripts/bench.sh; --markdown adds a table.
// --config default builds the ClusterConfig a user's program has (contact point and port only);
// --op insert measures prepared INSERTs into bench.inserts (created if missing) instead.
#include <async_cassandra/async_cassandra.hpp>

#include "bench_common.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ac = async_cassandra;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 9042;
    std::int64_t rows = 1'000'000;  // must match the server's --synthetic ROWS
    std::vector<std::size_t> levels{1, 64, 1024};
    std::size_t requests = 20'000;
    std::size_t requests_c1 = 0;  // 0 = same as requests
    std::size_t warmup = 2'000;
    std::optional<int> protocol;  // nullopt = negotiate
    std::size_t connections = 1;
    bool markdown = false;
    // "tuned": one connection, heartbeats off, room for every request in flight (what this
    // benchmark always did); "default": a ClusterConfig with the contact point and port only,
    // as a user's program written from the README has it.
    std::string config = "tuned";
    // "select": the prepared point query; "insert": a prepared INSERT of one row per request
    // into bench.inserts (created here), same key distribution.
    std::string op = "select";
};

struct LevelResult {
    std::size_t concurrency = 0;
    std::size_t requests = 0;
    std::size_t errors = 0;
    double seconds = 0;
    double p50_us = 0;
    double p99_us = 0;
    double rps() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--host H] [--port P] [--rows ROWS] [--concurrency 1,64,1024]\n"
                 "          [--requests N] [--requests-c1 N] [--warmup N] [--protocol 4|5]\n"
                 "          [--connections K] [--config tuned|default] [--op select|insert] [--markdown]\n",
                 argv0);
    std::exit(2);
}

std::vector<std::size_t> parse_list(const std::string& s) {
    std::vector<std::size_t> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(std::stoul(item));
    return out;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage(argv[0]);
            return argv[++i];
        };
        if (a == "--host") o.host = next();
        else if (a == "--port") o.port = static_cast<std::uint16_t>(std::stoul(next()));
        else if (a == "--rows") o.rows = std::stoll(next());
        else if (a == "--concurrency") o.levels = parse_list(next());
        else if (a == "--requests") o.requests = std::stoul(next());
        else if (a == "--requests-c1") o.requests_c1 = std::stoul(next());
        else if (a == "--warmup") o.warmup = std::stoul(next());
        else if (a == "--protocol") o.protocol = std::stoi(next());
        else if (a == "--connections") o.connections = std::stoul(next());
        else if (a == "--markdown") o.markdown = true;
        else if (a == "--config") o.config = next();
        else if (a == "--op") o.op = next();
        else usage(argv[0]);
    }
    if (o.rows < 100 || o.levels.empty() || o.requests == 0) usage(argv[0]);
    if ((o.config != "tuned" && o.config != "default") || (o.op != "select" && o.op != "insert")) usage(argv[0]);
    return o;
}

/// Shared by the workers of one level. Everything runs on one thread, so plain counters do.
struct Run {
    ac::Session session;
    ac::PreparedStatement prepared;
    std::size_t total = 0;
    std::size_t issued = 0;
    std::size_t errors = 0;
    std::int64_t partitions = 0;
    std::mt19937_64 rng{42};  // fixed seed: every run reads the same key sequence
    std::vector<std::int64_t> latencies_ns;
    std::string first_error;
    bool insert = false;
};

asio::awaitable<void> worker(Run& run) {
    std::uniform_int_distribution<std::int64_t> pk_dist(0, run.partitions - 1);
    std::uniform_int_distribution<std::int32_t> ck_dist(0, 99);
    while (run.issued < run.total) {
        ++run.issued;
        const std::int64_t pk = pk_dist(run.rng);
        const std::int32_t ck = ck_dist(run.rng);
        // Binding is part of the measured request: a real caller binds per request too.
        const auto start = Clock::now();
        ac::BoundStatement bound = run.insert
                                       ? run.prepared.bind(pk, ck, std::string_view("bench-row-value"),
                                                           static_cast<double>(pk) * 0.5 + ck,
                                                           ac::Timestamp{1700000000000 + pk * 1000 + ck})
                                       : run.prepared.bind(pk, ck);
        auto [error, result] = co_await run.session.try_execute(std::move(bound));
        const auto stop = Clock::now();
        // A point query must return exactly its row (an insert no row); anything else counts as
        // an error so a broken server or client cannot look fast.
        if (error || result.size() != (run.insert ? 0u : 1u)) {
            if (run.errors++ == 0) {
                try {
                    if (error) std::rethrow_exception(error);
                    run.first_error = "expected 1 row, got " + std::to_string(result.size());
                } catch (const std::exception& e) {
                    run.first_error = e.what();
                }
            }
        }
        run.latencies_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count());
    }
}

/// Runs `total` requests with `concurrency` workers; returns when all have completed.
asio::awaitable<LevelResult> run_level(ac::Session session, ac::PreparedStatement prepared, std::int64_t partitions,
                                       std::size_t concurrency, std::size_t total, bool insert) {
    auto ex = co_await asio::this_coro::executor;
    Run run;
    run.session = session;
    run.prepared = prepared;
    run.total = total;
    run.partitions = partitions;
    run.insert = insert;
    run.latencies_ns.reserve(total);

    std::size_t done = 0;
    // The timer is a completion signal: the last worker to finish cancels it.
    asio::steady_timer all_done(ex, Clock::time_point::max());
    const auto start = Clock::now();
    for (std::size_t i = 0; i < concurrency; ++i) {
        asio::co_spawn(ex, worker(run), [&](std::exception_ptr e) {
            if (e && run.first_error.empty()) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    run.first_error = std::string("worker died: ") + x.what();
                }
            }
            if (++done == concurrency) all_done.cancel();
        });
    }
    // cancel() only wakes a waiter already queued, so do not wait if every worker is done.
    if (done < concurrency) {
        try {
            co_await all_done.async_wait(asio::use_awaitable);
        } catch (const std::system_error&) {
            // operation_aborted: every worker has finished.
        }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    LevelResult r;
    r.concurrency = concurrency;
    r.requests = run.latencies_ns.size();
    r.errors = run.errors;
    r.seconds = seconds;
    auto& lat = run.latencies_ns;
    auto pct = [&](double q) {
        if (lat.empty()) return 0.0;
        const auto k = static_cast<std::size_t>(q * static_cast<double>(lat.size() - 1));
        std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(k), lat.end());
        return static_cast<double>(lat[k]) / 1000.0;
    };
    r.p50_us = pct(0.50);
    r.p99_us = pct(0.99);
    if (!run.first_error.empty()) std::fprintf(stderr, "conc=%zu: first error: %s\n", concurrency, run.first_error.c_str());
    co_return r;
}

asio::awaitable<void> main_coro(Options o, int& exit_code) {
    auto ex = co_await asio::this_coro::executor;
    ac::ClusterConfig config;
    config.contact_points = {o.host};
    config.port = o.port;
    if (o.config == "tuned") {
        config.connections_per_host = o.connections;
        config.connection.protocol_version = o.protocol;
        // 1024 in flight on one connection must not queue behind the stream-id limit.
        config.connection.max_in_flight =
            std::max<std::size_t>(2048, *std::max_element(o.levels.begin(), o.levels.end()));
        config.connection.heartbeat_interval = std::nullopt;
    } else if (o.protocol) {
        config.connection.protocol_version = o.protocol;  // the one setting a comparison must pin
    }
    const auto negotiated = bench::record_negotiated_protocol(config);
    ac::Cluster cluster(ex, config);
    ac::Session session = co_await cluster.connect();
    const bool insert = o.op == "insert";
    if (insert) {
        co_await session.execute(ac::Statement(
            "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"));
        co_await session.execute(ac::Statement("CREATE TABLE IF NOT EXISTS bench.inserts (pk bigint, ck int, name text, "
                                               "value double, ts timestamp, PRIMARY KEY (pk, ck))"));
    }
    ac::PreparedStatement prepared = co_await session.prepare(
        insert ? "INSERT INTO bench.inserts (pk, ck, name, value, ts) VALUES (?, ?, ?, ?, ?)"
               : "SELECT * FROM synthetic.rows WHERE pk = ? AND ck = ?");
    const std::int64_t partitions = o.rows / 100;  // full partitions only: every key exists

    // Warm-up: connection buffers, allocator, server caches; not reported.
    if (o.warmup > 0) (void)co_await run_level(session, prepared, partitions, 64, o.warmup, insert);

    std::vector<LevelResult> results;
    for (std::size_t c : o.levels) {
        const std::size_t n = (c == 1 && o.requests_c1 > 0) ? o.requests_c1 : o.requests;
        const double cpu_before = bench::cpu_seconds();
        LevelResult r = co_await run_level(session, prepared, partitions, c, n, insert);
        const double cpu = bench::cpu_seconds() - cpu_before;
        std::printf("RESULT impl=cpp config=%s op=%s conc=%zu requests=%zu errors=%zu seconds=%.3f rps=%.0f p50_us=%.1f "
                    "p99_us=%.1f cpu_us_per_req=%.2f protocol=%d\n",
                    o.config.c_str(), o.op.c_str(), r.concurrency, r.requests, r.errors, r.seconds, r.rps(), r.p50_us,
                    r.p99_us, r.requests ? cpu * 1e6 / static_cast<double>(r.requests) : 0.0, *negotiated);
        std::fflush(stdout);
        if (r.errors > 0) exit_code = 1;
        results.push_back(r);
    }
    if (o.markdown) {
        std::printf("\n| concurrency | requests | req/s | p50 (us) | p99 (us) | errors |\n"
                    "|---:|---:|---:|---:|---:|---:|\n");
        for (const auto& r : results)
            std::printf("| %zu | %zu | %.0f | %.1f | %.1f | %zu |\n", r.concurrency, r.requests, r.rps(), r.p50_us,
                        r.p99_us, r.errors);
    }
    co_await session.shutdown();
    co_await cluster.shutdown();
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        o = parse(argc, argv);
    } catch (const std::logic_error&) {  // std::stoul & co. on a malformed number
        usage(argv[0]);
    }
    asio::io_context io(1);  // concurrency hint 1: the whole benchmark runs on this thread
    int exit_code = 0;
    asio::co_spawn(io, main_coro(o, exit_code), [&](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "bench_point_queries: %s\n", x.what());
        }
        exit_code = 1;
    });
    io.run();
    return exit_code;
}
