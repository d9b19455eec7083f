// Boilerplate shared by the streaming examples, so that each example file shows its pattern and
// little else: command-line flags, connecting and always shutting the session down, running the
// example's coroutine on a one-thread io_context, and a few small helpers.
//
// Every example is run the same way:
//   EXAMPLE --host 127.0.0.1 --port PORT [--rows-expected N] [--flag value ...]
// and exits 0 when its own checks passed, 1 when one failed, 2 on a usage or driver error.
#pragma once

#include <async_cassandra/async_cassandra.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace example {

namespace ac = async_cassandra;
using Clock = std::chrono::steady_clock;

/// The command line: --host and --port, which every example takes, plus `--name value` pairs that
/// each example reads with int_flag()/text_flag() (unknown names are reported, so typos do not
/// pass silently).
class Args {
public:
    std::string program;
    std::string host = "127.0.0.1";
    std::uint16_t port = 9042;

    static Args parse(int argc, char** argv) {
        Args a;
        a.program = argc > 0 ? argv[0] : "example";
        if (auto slash = a.program.rfind('/'); slash != std::string::npos) a.program.erase(0, slash + 1);
        for (int i = 1; i < argc; ++i) {
            std::string flag = argv[i];
            if (flag == "--help" || flag == "-h" || flag.rfind("--", 0) != 0 || i + 1 >= argc) {
                std::fprintf(stderr, "usage: %s --host H --port P [--rows-expected N] [--flag value ...]\n",
                             a.program.c_str());
                std::exit(2);
            }
            std::string value = argv[++i];
            if (flag == "--host")
                a.host = value;
            else if (flag == "--port")
                a.port = static_cast<std::uint16_t>(a.parse_int(flag, value));
            else
                a.flags_[flag.substr(2)] = value;
        }
        return a;
    }

    /// The integer value of --name, or `fallback` when absent; exits with 2 when malformed.
    std::int64_t int_flag(const std::string& name, std::int64_t fallback) const {
        used_.push_back(name);
        auto it = flags_.find(name);
        return it == flags_.end() ? fallback : parse_int("--" + name, it->second);
    }
    std::optional<std::int64_t> optional_int_flag(const std::string& name) const {
        used_.push_back(name);
        auto it = flags_.find(name);
        if (it == flags_.end()) return std::nullopt;
        return parse_int("--" + name, it->second);
    }
    std::string text_flag(const std::string& name, std::string fallback) const {
        used_.push_back(name);
        auto it = flags_.find(name);
        return it == flags_.end() ? fallback : it->second;
    }
    /// Call after reading every flag: exits with 2 when the command line had one nobody read.
    void reject_unknown() const {
        for (const auto& [name, value] : flags_) {
            if (std::find(used_.begin(), used_.end(), name) == used_.end()) {
                std::fprintf(stderr, "%s: unknown flag --%s\n", program.c_str(), name.c_str());
                std::exit(2);
            }
        }
    }

private:
    std::int64_t parse_int(const std::string& flag, const std::string& text) const {
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
            std::fprintf(stderr, "%s: bad value for %s: '%s'\n", program.c_str(), flag.c_str(), text.c_str());
            std::exit(2);
        }
        return v;
    }

    std::map<std::string, std::string> flags_;
    mutable std::vector<std::string> used_;
};

/// An example's body: gets a connected session, returns the exit status.
using ExampleBody = asio::awaitable<int> (*)(ac::Session session, Args args);

namespace detail {
inline asio::awaitable<int> connect_and_run(Args args, ExampleBody body) {
    auto executor = co_await asio::this_coro::executor;
    ac::ClusterConfig config;
    config.contact_points = {args.host};
    config.port = args.port;
    ac::Cluster cluster(executor, config);
    ac::Session session = co_await cluster.connect();
    // Whatever the body does (return or throw), the connections are closed before we leave:
    // a coroutine cannot co_await in a destructor or a catch block, so keep the error and
    // rethrow it after the shutdown.
    int status = 2;
    std::exception_ptr error;
    try {
        status = co_await body(session, args);
    } catch (...) {
        error = std::current_exception();
    }
    co_await session.shutdown();
    co_await cluster.shutdown();
    if (error) std::rethrow_exception(error);
    co_return status;
}
}  // namespace detail

/// Runs `body` on a single-threaded io_context with a session connected to --host/--port and
/// returns the process exit status (2 when the body or the connection threw).
inline int run(int argc, char** argv, ExampleBody body) {
    const Args args = Args::parse(argc, argv);
    asio::io_context io;
    int status = 2;
    asio::co_spawn(io, detail::connect_and_run(args, body), [&](std::exception_ptr error, int result) {
        if (!error) {
            status = result;
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: error: %s\n", args.program.c_str(), e.what());
        }
    });
    io.run();
    return status;
}

/// Seconds since `start`.
inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The synthetic table's generator (acass-server --synthetic ROWS): ceil(ROWS/100) partitions
/// pk = 0, 1, ..., each with ck = 0 .. 99 (the last one may be shorter).
inline std::int64_t synthetic_rows_in(std::int64_t total_rows, std::int64_t pk) {
    return std::clamp<std::int64_t>(total_rows - pk * 100, 0, 100);
}
inline std::string synthetic_name(std::int64_t pk, std::int32_t ck) {
    return "name-" + std::to_string(pk) + "-" + std::to_string(ck);
}
inline double synthetic_value(std::int64_t pk, std::int32_t ck) {
    return static_cast<double>(pk) * 0.5 + ck;
}

/// Prints `what` to stderr and returns 1: `if (bad) co_return fail("...")`.
inline int fail(const std::string& what) {
    std::fprintf(stderr, "CHECK FAILED: %s\n", what.c_str());
    return 1;
}

}  // namespace example
