// MetricsCollector: Prometheus rendering checked line by line, cumulative histogram buckets,
// label escaping, counters under concurrent writers; the LogLevel/RequestKind names.
#include <async_cassandra/observability.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace async_cassandra;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

/// Sample lines "name{labels} value" -> value, keyed by "name{labels}".
std::map<std::string, std::string> samples_of(const std::string& text) {
    std::map<std::string, std::string> out;
    for (const auto& line : lines_of(text)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        out[line.substr(0, space)] = line.substr(space + 1);
    }
    return out;
}

RequestEvent event(RequestKind kind, std::chrono::nanoseconds latency, bool ok = true,
                   std::string_view error_type = {}, std::int64_t rows = 0) {
    RequestEvent e;
    e.host = "127.0.0.1:9042";
    e.kind = kind;
    e.latency = latency;
    e.ok = ok;
    e.error_type = error_type;
    e.rows = rows;
    e.request_bytes = 10;
    e.response_bytes = 100;
    return e;
}

}  // namespace

TEST(ClientMetrics, EmptyCollectorRendersEveryFamilyWithZeros) {
    MetricsCollector m;
    const std::string text = m.render_prometheus();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    auto samples = samples_of(text);
    EXPECT_EQ(samples.at(R"(acass_requests_total{kind="query",outcome="ok"})"), "0");
    EXPECT_EQ(samples.at(R"(acass_requests_total{kind="page",outcome="error"})"), "0");
    EXPECT_EQ(samples.at(R"(acass_request_duration_seconds_bucket{kind="batch",le="+Inf"})"), "0");
    EXPECT_EQ(samples.at(R"(acass_request_duration_seconds_count{kind="batch"})"), "0");
    EXPECT_EQ(samples.at(R"(acass_request_duration_seconds_sum{kind="batch"})"), "0");
    EXPECT_EQ(samples.at("acass_rows_total"), "0");
    EXPECT_EQ(samples.at("acass_bytes_sent_total"), "0");
    EXPECT_EQ(samples.at("acass_bytes_received_total"), "0");
}

TEST(ClientMetrics, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
    MetricsCollector m;
    m.on_request(event(RequestKind::query, 1ms, false, "ReadTimeout"));
    const auto lines = lines_of(m.render_prometheus());
    std::map<std::string, std::string> types;  // family -> type
    std::set<std::string> helped;
    std::string current;
    for (const auto& line : lines) {
        ASSERT_FALSE(line.empty());
        if (line.rfind("# HELP ", 0) == 0) {
            const std::string name = line.substr(7, line.find(' ', 7) - 7);
            EXPECT_TRUE(helped.insert(name).second) << "HELP twice for " << name;
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream in(line.substr(7));
            std::string name, type;
            in >> name >> type;
            EXPECT_TRUE(helped.count(name)) << "TYPE before HELP for " << name;
            EXPECT_TRUE(type == "counter" || type == "histogram") << line;
            EXPECT_TRUE(types.emplace(name, type).second) << "TYPE twice for " << name;
            current = name;
            continue;
        }
        ASSERT_NE(line[0], '#') << line;
        // A sample belongs to the family whose TYPE came last (histograms: name_bucket/_sum/_count).
        const std::string name = line.substr(0, line.find_first_of("{ "));
        if (types[current] == "histogram") {
            EXPECT_TRUE(name == current + "_bucket" || name == current + "_sum" || name == current + "_count")
                << line;
        } else {
            EXPECT_EQ(name, current) << line;
        }
        // Metric name syntax and a numeric value.
        EXPECT_TRUE(std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }))
            << line;
        const std::string value = line.substr(line.rfind(' ') + 1);
        EXPECT_NO_THROW((void)std::stod(value)) << line;
    }
    EXPECT_EQ(types.at("acass_requests_total"), "counter");
    EXPECT_EQ(types.at("acass_request_errors_total"), "counter");
    EXPECT_EQ(types.at("acass_request_duration_seconds"), "histogram");
    EXPECT_EQ(types.at("acass_rows_total"), "counter");
    EXPECT_EQ(types.at("acass_bytes_sent_total"), "counter");
    EXPECT_EQ(types.at("acass_bytes_received_total"), "counter");
}

TEST(ClientMetrics, CountsByKindOutcomeAndErrorType) {
    MetricsCollector m;
    m.on_request(event(RequestKind::query, 1ms, true, {}, 3));
    m.on_request(event(RequestKind::query, 1ms, true, {}, 4));
    m.on_request(event(RequestKind::query, 1ms, false, "ReadTimeout"));
    m.on_request(event(RequestKind::execute, 1ms, false, "ReadTimeout"));
    m.on_request(event(RequestKind::batch, 1ms, false, "WriteTimeout"));
    m.on_request(event(RequestKind::prepare, 1ms));
    m.on_request(event(RequestKind::page, 1ms, true, {}, 5));
    EXPECT_EQ(m.requests(RequestKind::query, true), 2u);
    EXPECT_EQ(m.requests(RequestKind::query, false), 1u);
    EXPECT_EQ(m.errors("ReadTimeout"), 2u);
    EXPECT_EQ(m.errors("WriteTimeout"), 1u);
    EXPECT_EQ(m.errors("Overloaded"), 0u);
    EXPECT_EQ(m.rows_total(), 12u);
    EXPECT_EQ(m.bytes_sent_total(), 70u);
    EXPECT_EQ(m.bytes_received_total(), 700u);

    auto s = samples_of(m.render_prometheus());
    EXPECT_EQ(s.at(R"(acass_requests_total{kind="query",outcome="ok"})"), "2");
    EXPECT_EQ(s.at(R"(acass_requests_total{kind="query",outcome="error"})"), "1");
    EXPECT_EQ(s.at(R"(acass_requests_total{kind="execute",outcome="error"})"), "1");
    EXPECT_EQ(s.at(R"(acass_requests_total{kind="batch",outcome="error"})"), "1");
    EXPECT_EQ(s.at(R"(acass_requests_total{kind="prepare",outcome="ok"})"), "1");
    EXPECT_EQ(s.at(R"(acass_requests_total{kind="page",outcome="ok"})"), "1");
    EXPECT_EQ(s.at(R"(acass_request_errors_total{kind="query",error_type="ReadTimeout"})"), "1");
    EXPECT_EQ(s.at(R"(acass_request_errors_total{kind="execute",error_type="ReadTimeout"})"), "1");
    EXPECT_EQ(s.at(R"(acass_request_errors_total{kind="batch",error_type="WriteTimeout"})"), "1");
    EXPECT_EQ(s.count(R"(acass_request_errors_total{kind="prepare",error_type="ReadTimeout"})"), 0u);
    EXPECT_EQ(s.at("acass_rows_total"), "12");
    EXPECT_EQ(s.at("acass_bytes_sent_total"), "70");
    EXPECT_EQ(s.at("acass_bytes_received_total"), "700");
}

TEST(ClientMetrics, HistogramBucketsAreCumulativeWithInclusiveBounds) {
    MetricsCollector m;
    m.on_request(event(RequestKind::query, 50us));       // <= 0.0001
    m.on_request(event(RequestKind::query, 100us));      // exactly 0.0001: le is inclusive
    m.on_request(event(RequestKind::query, 3ms));        // <= 0.005
    m.on_request(event(RequestKind::query, 1s));         // exactly 1
    m.on_request(event(RequestKind::query, 20s));        // only +Inf
    m.on_request(event(RequestKind::execute, 7ms));      // another kind, separate histogram
    auto s = samples_of(m.render_prometheus());
    auto bucket = [&](const char* kind, const char* le) {
        return std::stoull(
            s.at(std::string("acass_request_duration_seconds_bucket{kind=\"") + kind + "\",le=\"" + le + "\"}"));
    };
    EXPECT_EQ(bucket("query", "0.0001"), 2u);
    EXPECT_EQ(bucket("query", "0.00025"), 2u);
    EXPECT_EQ(bucket("query", "0.0025"), 2u);
    EXPECT_EQ(bucket("query", "0.005"), 3u);
    EXPECT_EQ(bucket("query", "0.5"), 3u);
    EXPECT_EQ(bucket("query", "1"), 4u);
    EXPECT_EQ(bucket("query", "10"), 4u);
    EXPECT_EQ(bucket("query", "+Inf"), 5u);
    EXPECT_EQ(s.at(R"(acass_request_duration_seconds_count{kind="query"})"), "5");
    EXPECT_NEAR(std::stod(s.at(R"(acass_request_duration_seconds_sum{kind="query"})")), 21.00315, 1e-9);
    EXPECT_EQ(bucket("execute", "0.005"), 0u);
    EXPECT_EQ(bucket("execute", "0.01"), 1u);

    // Every bound is rendered, in increasing order, and the counts never decrease.
    const auto lines = lines_of(m.render_prometheus());
    std::vector<std::string> les;
    std::uint64_t previous = 0;
    for (const auto& line : lines) {
        if (line.rfind(R"(acass_request_duration_seconds_bucket{kind="query",le=")", 0) != 0) continue;
        const auto start = line.find("le=\"") + 4;
        les.push_back(line.substr(start, line.find('"', start) - start));
        const std::uint64_t n = std::stoull(line.substr(line.rfind(' ') + 1));
        EXPECT_GE(n, previous) << line;
        previous = n;
    }
    const std::vector<std::string> expected{"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
                                            "0.01",   "0.025",   "0.05",   "0.1",   "0.25",   "0.5",
                                            "1",      "2.5",     "5",      "10",    "+Inf"};
    EXPECT_EQ(les, expected);
}

TEST(ClientMetrics, LabelValuesAreEscaped) {
    EXPECT_EQ(escape_label_value("plain"), "plain");
    EXPECT_EQ(escape_label_value(R"(a"b)"), R"(a\"b)");
    EXPECT_EQ(escape_label_value(R"(a\b)"), R"(a\\b)");
    EXPECT_EQ(escape_label_value("a\nb"), R"(a\nb)");
    EXPECT_EQ(escape_label_value("\\\"\n"), R"(\\\"\n)");

    MetricsCollector m;
    m.on_request(event(RequestKind::query, 1ms, false, "we\"ird\\type\nx"));
    m.on_request(event(RequestKind::query, 1ms, false, ""));  // failure without a type
    const auto lines = lines_of(m.render_prometheus());
    const std::string expected = R"(acass_request_errors_total{kind="query",error_type="we\"ird\\type\nx"} 1)";
    EXPECT_NE(std::find(lines.begin(), lines.end(), expected), lines.end());
    EXPECT_NE(std::find(lines.begin(), lines.end(), R"(acass_request_errors_total{kind="query",error_type="unknown"} 1)"),
              lines.end());
    EXPECT_EQ(m.errors("we\"ird\\type\nx"), 1u);
}

TEST(ClientMetrics, ConcurrentWritersAndReaderLoseNothing) {
    MetricsCollector m;
    constexpr int kThreads = 4;
    constexpr int kPerThread = 20000;
    std::atomic<bool> stop{false};
    // A reader renders while writers write: each rendering must be internally consistent.
    std::thread reader([&] {
        while (!stop.load()) {
            auto s = samples_of(m.render_prometheus());
            EXPECT_EQ(s.at(R"(acass_request_duration_seconds_bucket{kind="query",le="+Inf"})"),
                      s.at(R"(acass_request_duration_seconds_count{kind="query"})"));
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t)
        writers.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const bool ok = i % 4 != 0;
                m.on_request(event(RequestKind::query, std::chrono::microseconds(i % 2000), ok,
                                   ok ? std::string_view{} : (t % 2 ? "ReadTimeout" : "Overloaded"), 1));
            }
        });
    for (auto& w : writers) w.join();
    stop = true;
    reader.join();
    constexpr std::uint64_t total = std::uint64_t{kThreads} * kPerThread;
    EXPECT_EQ(m.requests(RequestKind::query, true) + m.requests(RequestKind::query, false), total);
    EXPECT_EQ(m.requests(RequestKind::query, false), total / 4);
    EXPECT_EQ(m.errors("ReadTimeout") + m.errors("Overloaded"), total / 4);
    EXPECT_EQ(m.rows_total(), total);
    EXPECT_EQ(m.bytes_sent_total(), total * 10);
    auto s = samples_of(m.render_prometheus());
    EXPECT_EQ(std::stoull(s.at(R"(acass_request_duration_seconds_count{kind="query"})")), total);
}

TEST(ClientMetrics, Names) {
    EXPECT_STREQ(to_string(RequestKind::query), "query");
    EXPECT_STREQ(to_string(RequestKind::execute), "execute");
    EXPECT_STREQ(to_string(RequestKind::batch), "batch");
    EXPECT_STREQ(to_string(RequestKind::prepare), "prepare");
    EXPECT_STREQ(to_string(RequestKind::page), "page");
    EXPECT_STREQ(to_string(LogLevel::warn), "warn");
    EXPECT_LT(LogLevel::trace, LogLevel::debug);
    EXPECT_LT(LogLevel::error, LogLevel::off);
}
