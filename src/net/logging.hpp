// The library's internal handle on the configured LogSink (ClusterConfig::log_sink/log_level).
// Cheap to copy (a shared_ptr); passed explicitly to whoever logs, so there is no global state.
#pragma once

#include <async_cassandra/observability.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace async_cassandra::net {

class Logger {
public:
    /// A logger that drops everything.
    Logger() = default;
    /// Logs lines at or above `min_level` to `sink`; an empty sink or level off = silent.
    Logger(LogSink sink, LogLevel min_level);

    /// Whether a line at `level` would reach the sink: check it before building a costly message.
    bool enabled(LogLevel level) const noexcept {
        return sink_ && level >= min_level_ && level != LogLevel::off;
    }
    /// Passes `message` to the sink if `level` is enabled. Exceptions of the sink are swallowed
    /// (logging must never break the I/O path).
    void log(LogLevel level, std::string_view message) const noexcept;

private:
    std::shared_ptr<const LogSink> sink_;
    LogLevel min_level_ = LogLevel::off;
};

}  // namespace async_cassandra::net
