// MetricsCollector and the small helpers of observability.hpp.
#include <async_cassandra/observability.hpp>

#include <charconv>
#include <cstdio>
#include <unistd.h>

namespace async_cassandra {

const char* to_string(RequestKind kind) noexcept {
    switch (kind) {
        case RequestKind::query: return "query";
        case RequestKind::execute: return "execute";
        case RequestKind::batch: return "batch";
        case RequestKind::prepare: return "prepare";
        case RequestKind::page: return "page";
    }
    return "unknown";
}

const char* to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::trace: return "trace";
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
        case LogLevel::off: return "off";
    }
    return "unknown";
}

LogSink stderr_log_sink() {
    return [](LogLevel level, std::string_view message) {
        std::string line = "acass ";
        line += to_string(level);
        line += ": ";
        line += message;
        line += '\n';
        // One write(2) so that lines of concurrent threads do not interleave.
        const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
        (void)ignored;
    };
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            default: out += c;
        }
    }
    return out;
}

namespace {
constexpr std::size_t kind_index(RequestKind k) noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < kRequestKindCount ? i : 0;
}

/// Shortest fixed-notation decimal that reads back as `v`: "0.0001" rather than "1e-04", so that
/// le labels look like every other exporter's (label values are compared as strings).
std::string format_double(double v) {
    char buf[400];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    if (ec != std::errc()) return "NaN";
    return std::string(buf, end);
}

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}
}  // namespace

void MetricsCollector::on_request(const RequestEvent& event) noexcept {
    const std::size_t k = kind_index(event.kind);
    requests_[k][event.ok ? 1 : 0].fetch_add(1, std::memory_order_relaxed);

    const std::int64_t ns = event.latency.count() < 0 ? 0 : event.latency.count();
    const double seconds = static_cast<double>(ns) / 1e9;
    std::size_t b = 0;
    while (b < kBucketBounds.size() && seconds > kBucketBounds[b]) ++b;  // le: inclusive bound
    latency_[k].buckets[b].fetch_add(1, std::memory_order_relaxed);
    latency_[k].sum_ns.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);

    if (event.rows > 0) rows_.fetch_add(static_cast<std::uint64_t>(event.rows), std::memory_order_relaxed);
    bytes_sent_.fetch_add(event.request_bytes, std::memory_order_relaxed);
    bytes_received_.fetch_add(event.response_bytes, std::memory_order_relaxed);

    if (!event.ok) {
        try {
            std::string type(event.error_type.empty() ? std::string_view("unknown") : event.error_type);
            std::lock_guard lock(errors_mutex_);
            ++errors_[{event.kind, std::move(type)}];
        } catch (...) {
            // Out of memory: the per-type count is lost; requests_ already counted the failure.
        }
    }
}

std::uint64_t MetricsCollector::requests(RequestKind kind, bool ok) const noexcept {
    return requests_[kind_index(kind)][ok ? 1 : 0].load(std::memory_order_relaxed);
}

std::uint64_t MetricsCollector::errors(std::string_view error_type) const {
    std::lock_guard lock(errors_mutex_);
    std::uint64_t n = 0;
    for (const auto& [key, count] : errors_)
        if (key.second == error_type) n += count;
    return n;
}

std::string MetricsCollector::render_prometheus() const {
    std::string out;
    out.reserve(8192);

    family(out, "acass_requests_total", "counter", "Requests sent to nodes, by kind and outcome.");
    for (std::size_t k = 0; k < kRequestKindCount; ++k)
        for (int ok : {1, 0}) {
            out += "acass_requests_total{kind=\"";
            out += to_string(static_cast<RequestKind>(k));
            out += ok ? "\",outcome=\"ok\"} " : "\",outcome=\"error\"} ";
            out += std::to_string(requests_[k][static_cast<std::size_t>(ok)].load(std::memory_order_relaxed));
            out += '\n';
        }

    family(out, "acass_request_errors_total", "counter", "Failed requests, by kind and error type.");
    {
        std::lock_guard lock(errors_mutex_);
        for (const auto& [key, count] : errors_) {
            out += "acass_request_errors_total{kind=\"";
            out += to_string(key.first);
            out += "\",error_type=\"";
            out += escape_label_value(key.second);
            out += "\"} ";
            out += std::to_string(count);
            out += '\n';
        }
    }

    family(out, "acass_request_duration_seconds", "histogram", "Request latency, by kind.");
    for (std::size_t k = 0; k < kRequestKindCount; ++k) {
        const std::string kind = to_string(static_cast<RequestKind>(k));
        // Snapshot first: cumulative sums and _count are computed from one set of loads, so
        // they are consistent even while other threads keep adding.
        std::array<std::uint64_t, kBuckets> counts{};
        for (std::size_t b = 0; b < kBuckets; ++b) counts[b] = latency_[k].buckets[b].load(std::memory_order_relaxed);
        const std::uint64_t sum_ns = latency_[k].sum_ns.load(std::memory_order_relaxed);
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < kBuckets; ++b) {
            cumulative += counts[b];
            out += "acass_request_duration_seconds_bucket{kind=\"" + kind + "\",le=\"";
            out += b < kBucketBounds.size() ? format_double(kBucketBounds[b]) : std::string("+Inf");
            out += "\"} ";
            out += std::to_string(cumulative);
            out += '\n';
        }
        out += "acass_request_duration_seconds_sum{kind=\"" + kind + "\"} ";
        out += format_double(static_cast<double>(sum_ns) / 1e9);
        out += "\nacass_request_duration_seconds_count{kind=\"" + kind + "\"} ";
        out += std::to_string(cumulative);
        out += '\n';
    }

    family(out, "acass_rows_total", "counter", "Rows received in results.");
    out += "acass_rows_total " + std::to_string(rows_total()) + "\n";
    family(out, "acass_bytes_sent_total", "counter", "Bytes of request envelopes sent.");
    out += "acass_bytes_sent_total " + std::to_string(bytes_sent_total()) + "\n";
    family(out, "acass_bytes_received_total", "counter", "Bytes of response envelopes received.");
    out += "acass_bytes_received_total " + std::to_string(bytes_received_total()) + "\n";
    return out;
}

}  // namespace async_cassandra
