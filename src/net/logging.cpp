#include "net/logging.hpp"

namespace async_cassandra::net {

Logger::Logger(LogSink sink, LogLevel min_level)
    : sink_(sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr), min_level_(min_level) {}

void Logger::log(LogLevel level, std::string_view message) const noexcept {
    if (!enabled(level)) return;
    try {
        (*sink_)(level, message);
    } catch (...) {
        // A failing sink loses the line; the request path goes on.
    }
}

}  // namespace async_cassandra::net
