// Observability of the client: a per-request hook (RequestObserver), a built-in metrics collector
// that renders the Prometheus text exposition format (MetricsCollector), and logging through one
// configurable sink (LogSink). All of them are installed through ClusterConfig; there is no
// global state.
//
//   auto metrics = std::make_shared<ac::MetricsCollector>();
//   ac::ClusterConfig config{.contact_points = {"127.0.0.1"}};
//   config.observer = metrics;
//   config.log_sink = ac::stderr_log_sink();
//   ...
//   http_response.body = metrics->render_prometheus();
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace async_cassandra {

// ---------------------------------------------------------------- request hook

/// What a request was. `page` is any request that continues a result (it carries a paging
/// state: the second and later pages of execute(), execute_page() with a paging state);
/// the first page of a simple/bound statement is `query`/`execute`.
enum class RequestKind : std::uint8_t { query, execute, batch, prepare, page };
inline constexpr std::size_t kRequestKindCount = 5;

/// "query", "execute", "batch", "prepare", "page".
const char* to_string(RequestKind kind) noexcept;

/// One request sent to a node and its outcome. Views are valid only during the observer call.
struct RequestEvent {
    std::string_view host;  ///< "host:port" of the connection the request went to
    RequestKind kind = RequestKind::query;
    /// From handing the request to the connection to its response (or failure), including a
    /// wait for a free stream id.
    std::chrono::nanoseconds latency{0};
    bool ok = false;
    /// Empty on success; otherwise the name of the error's class in this library, e.g.
    /// "ReadTimeout", "SyntaxError", "Unprepared" (a server ERROR), "Timeout", "ConnectionClosed",
    /// "RequestCancelled", "ProtocolError" (client-side failures).
    std::string_view error_type;
    std::int64_t rows = 0;  ///< rows in the response (0 for non-row results and failures)
    /// Size of the encoded request envelope as queued (v4 body compression included, v5
    /// segment framing excluded); 0 when the request failed without a response.
    std::size_t request_bytes = 0;
    /// Size of the response envelope, header + decompressed body; 0 without a response.
    std::size_t response_bytes = 0;
    /// Warnings the server sent with the response (WARNING flag), e.g. tombstones read.
    std::span<const std::string> warnings;
};

/// Receives one RequestEvent per request the session sends: each page of a paged execute(),
/// each execute_page(), each batch and prepare (internal re-prepares after UNPREPARED
/// included; an UNPREPARED answer is itself reported as a failed request). Requests that never
/// reached a connection (NoHostAvailable, shut-down session) are not reported.
class RequestObserver {
public:
    virtual ~RequestObserver() = default;
    /// Runs on the I/O path, on the executor thread that resumes the request, concurrently for
    /// concurrent requests: must be thread-safe, cheap and must not block.
    virtual void on_request(const RequestEvent& event) noexcept = 0;
};

// ---------------------------------------------------------------- metrics collector

/// A RequestObserver that aggregates events into counters and a latency histogram and renders
/// them in the Prometheus text exposition format (version 0.0.4). Thread-safe: counters and the
/// histogram are relaxed atomics; only the per-error-type counters take a (short) lock, and only
/// for failed requests.
///
/// Metrics: acass_requests_total{kind,outcome="ok"|"error"},
/// acass_request_errors_total{kind,error_type}, acass_request_duration_seconds{kind} (histogram,
/// buckets 0.1ms..10s), acass_rows_total, acass_bytes_sent_total, acass_bytes_received_total.
class MetricsCollector final : public RequestObserver {
public:
    /// Upper bounds (seconds) of the histogram buckets, +Inf excluded.
    static constexpr std::array<double, 16> kBucketBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                          0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                          1.0,    2.5,     5.0,    10.0};

    MetricsCollector() = default;
    MetricsCollector(const MetricsCollector&) = delete;
    MetricsCollector& operator=(const MetricsCollector&) = delete;

    /// Adds one request to the aggregates. Never throws (allocation failure for a new error
    /// type drops that error-type count only).
    void on_request(const RequestEvent& event) noexcept override;

    /// The current values in Prometheus text format: "# HELP"/"# TYPE" before each metric family,
    /// cumulative histogram buckets ending with le="+Inf", `_count` equal to the +Inf bucket,
    /// label values escaped (\\, \", \n). Concurrent on_request() calls may or may not be
    /// included; each histogram is internally consistent.
    std::string render_prometheus() const;

    /// Requests of `kind` that succeeded (`ok`) or failed.
    std::uint64_t requests(RequestKind kind, bool ok) const noexcept;
    /// Failed requests (all kinds) whose error_type is `error_type`.
    std::uint64_t errors(std::string_view error_type) const;
    std::uint64_t rows_total() const noexcept { return rows_.load(std::memory_order_relaxed); }
    std::uint64_t bytes_sent_total() const noexcept { return bytes_sent_.load(std::memory_order_relaxed); }
    std::uint64_t bytes_received_total() const noexcept { return bytes_received_.load(std::memory_order_relaxed); }

private:
    static constexpr std::size_t kBuckets = kBucketBounds.size() + 1;  // + the +Inf bucket
    struct Histogram {
        std::array<std::atomic<std::uint64_t>, kBuckets> buckets{};  ///< non-cumulative
        std::atomic<std::uint64_t> sum_ns{0};
    };

    std::array<std::array<std::atomic<std::uint64_t>, 2>, kRequestKindCount> requests_{};  ///< [kind][ok]
    std::array<Histogram, kRequestKindCount> latency_{};
    std::atomic<std::uint64_t> rows_{0};
    std::atomic<std::uint64_t> bytes_sent_{0};
    std::atomic<std::uint64_t> bytes_received_{0};
    mutable std::mutex errors_mutex_;  ///< guards errors_
    std::map<std::pair<RequestKind, std::string>, std::uint64_t> errors_;
};

/// Escapes a Prometheus label value: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);

// ---------------------------------------------------------------- logging

enum class LogLevel : std::uint8_t { trace, debug, info, warn, error, off };

/// "trace", "debug", "info", "warn", "error", "off".
const char* to_string(LogLevel level) noexcept;

/// Receives every log line of the library at or above ClusterConfig::log_level. Called from
/// I/O threads, possibly concurrently: must be thread-safe and should not block. Exceptions it
/// throws are swallowed. The message has no trailing newline.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

/// A sink writing "acass <level>: <message>\n" to stderr (one write per line).
LogSink stderr_log_sink();

}  // namespace async_cassandra
