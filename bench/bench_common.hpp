// Helpers shared by the client benchmark programs (bench_streaming, bench_point_queries): the
// process's CPU time and peak RSS, and the protocol version the client negotiated (read from the
// library's "connection to ... open: protocol vN" log line, since the API does not expose it).
#pragma once

#include <async_cassandra/async_cassandra.hpp>

#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

namespace bench {

/// Peak resident set in MB (VmHWM of /proc/self/status, in kB).
inline double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    return 0;
}

/// CPU time (user + system) of this process so far, in seconds.
inline double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto to_s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return to_s(usage.ru_utime) + to_s(usage.ru_stime);
}

/// Installs a log sink on `config` that records the protocol version of the last connection
/// opened; the returned value stays 0 until a connection has opened.
inline std::shared_ptr<int> record_negotiated_protocol(async_cassandra::ClusterConfig& config) {
    auto version = std::make_shared<int>(0);
    config.log_level = async_cassandra::LogLevel::info;
    config.log_sink = [version](async_cassandra::LogLevel, std::string_view message) {
        constexpr std::string_view marker = "open: protocol v";
        if (const auto at = message.find(marker); at != std::string_view::npos && at + marker.size() < message.size())
            *version = message[at + marker.size()] - '0';
    };
    return version;
}

}  // namespace bench
