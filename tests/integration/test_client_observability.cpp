// Observability against the embedded node (in-process, free port): the RequestObserver sees one
// event per request with the right kind, rows, bytes and error type (server errors, client
// timeouts, UNPREPARED recovery, paging); MetricsCollector fed by a real session; the log sink
// receives the connection-open line with the negotiated protocol version, the v5 -> v4 fallback,
// the re-prepare and the orphaned stream id.

#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>
#include <async_cassandra/observability.hpp>

#include <asio.hpp>
#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

using acass_test::run;

std::unique_ptr<srv::Cluster> start_server(std::vector<int> versions = {4, 5}) {
    acass_test::ServerSetup setup;
    setup.protocol_versions = std::move(versions);
    return acass_test::start_server(std::move(setup));
}

/// An owning copy of a RequestEvent.
struct Seen {
    std::string host;
    RequestKind kind;
    std::chrono::nanoseconds latency;
    bool ok;
    std::string error_type;
    std::int64_t rows;
    std::size_t request_bytes;
    std::size_t response_bytes;
};

class Recorder final : public RequestObserver {
public:
    void on_request(const RequestEvent& e) noexcept override {
        std::lock_guard lock(mutex_);
        seen_.push_back({std::string(e.host), e.kind, e.latency, e.ok, std::string(e.error_type), e.rows,
                         e.request_bytes, e.response_bytes});
    }
    /// Events recorded so far; clears the record.
    std::vector<Seen> take() {
        std::lock_guard lock(mutex_);
        return std::exchange(seen_, {});
    }

private:
    std::mutex mutex_;
    std::vector<Seen> seen_;
};

struct LogLines {
    std::mutex mutex;
    std::vector<std::pair<LogLevel, std::string>> lines;

    LogSink sink() {
        return [this](LogLevel level, std::string_view message) {
            std::lock_guard lock(mutex);
            lines.emplace_back(level, std::string(message));
        };
    }
    /// The first line containing `needle`, or empty.
    std::optional<std::pair<LogLevel, std::string>> find(std::string_view needle) {
        std::lock_guard lock(mutex);
        for (const auto& l : lines)
            if (l.second.find(needle) != std::string::npos) return l;
        return std::nullopt;
    }
};

using acass_test::config_for;

std::string endpoint_of(const srv::Cluster& server) { return "127.0.0.1:" + std::to_string(server.port()); }

}  // namespace

TEST(ClientObservability, ObserverSeesKindsRowsBytesAndErrors) {
    auto server = start_server();
    srv::FaultRule rt;
    rt.kind = srv::FaultKind::error;
    rt.pattern = "read_timeout_please";
    rt.error_code = ServerErrorCode::read_timeout;
    server->faults().add(rt);
    auto recorder = std::make_shared<Recorder>();
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(*server);
        cfg.observer = recorder;
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        EXPECT_TRUE(recorder->take().empty()) << "the handshake is not a request of the application";

        co_await session.execute(
            "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        co_await session.execute("CREATE TABLE IF NOT EXISTS ks.kv (k int PRIMARY KEY, v text)");
        auto ddl = recorder->take();
        EXPECT_EQ(ddl.size(), 2u);
        for (const auto& e : ddl) {
            EXPECT_EQ(e.kind, RequestKind::query);
            EXPECT_TRUE(e.ok);
            EXPECT_TRUE(e.error_type.empty());
            EXPECT_EQ(e.rows, 0);
            EXPECT_EQ(e.host, endpoint_of(*server));
            EXPECT_GT(e.latency.count(), 0);
            EXPECT_GT(e.request_bytes, 9u);  // header + body
            EXPECT_GT(e.response_bytes, 9u);
        }

        // prepare + 7 executes
        PreparedStatement insert = co_await session.prepare("INSERT INTO ks.kv (k, v) VALUES (?, ?)");
        for (int k = 0; k < 7; ++k) co_await session.execute(insert.bind(k, "v" + std::to_string(k)));
        auto writes = recorder->take();
        EXPECT_EQ(writes.size(), 8u);
        if (!writes.empty()) {
            EXPECT_EQ(writes[0].kind, RequestKind::prepare);
            EXPECT_TRUE(writes[0].ok);
        }
        EXPECT_EQ(std::count_if(writes.begin(), writes.end(),
                                [](const Seen& e) { return e.kind == RequestKind::execute && e.ok; }),
                  7);

        // A paged read: page size 3 over 7 rows = first page (query) + 2 continuation pages.
        Statement all("SELECT k, v FROM ks.kv");
        all.set_page_size(3);
        ResultSet rs = co_await session.execute(all);
        EXPECT_EQ(rs.size(), 7u);
        auto pages = recorder->take();
        EXPECT_EQ(pages.size(), 3u);
        if (pages.size() == 3) {
            EXPECT_EQ(pages[0].kind, RequestKind::query);
            EXPECT_EQ(pages[1].kind, RequestKind::page);
            EXPECT_EQ(pages[2].kind, RequestKind::page);
            EXPECT_EQ(pages[0].rows + pages[1].rows + pages[2].rows, 7);
            EXPECT_EQ(pages[0].rows, 3);
        }

        // execute_page: the first page is a query, a continuation is a page.
        Page first = co_await session.execute_page(all, std::nullopt, 3);
        CO_ASSERT_TRUE(first.paging_state());
        Page second = co_await session.execute_page(all, first.paging_state(), 3);
        (void)second;
        auto manual = recorder->take();
        EXPECT_EQ(manual.size(), 2u);
        if (manual.size() == 2) {
            EXPECT_EQ(manual[0].kind, RequestKind::query);
            EXPECT_EQ(manual[1].kind, RequestKind::page);
            EXPECT_EQ(manual[1].rows, 3);
        }

        // A batch.
        Batch batch;
        batch.add(insert.bind(100, "x")).add("INSERT INTO ks.kv (k, v) VALUES (101, 'y')");
        co_await session.execute_batch(batch);
        auto batches = recorder->take();
        EXPECT_EQ(batches.size(), 1u);
        if (!batches.empty()) {
            EXPECT_EQ(batches[0].kind, RequestKind::batch);
            EXPECT_TRUE(batches[0].ok);
        }

        // Server errors carry the name of the exception class.
        auto [e1, r1] = co_await session.try_execute(Statement("SELEC nonsense"));
        EXPECT_TRUE(e1);
        auto [e2, r2] = co_await session.try_execute(Statement("SELECT key AS read_timeout_please FROM system.local"));
        EXPECT_TRUE(e2);
        auto errors = recorder->take();
        EXPECT_EQ(errors.size(), 2u);
        if (errors.size() == 2) {
            EXPECT_FALSE(errors[0].ok);
            EXPECT_EQ(errors[0].error_type, "SyntaxError");
            EXPECT_EQ(errors[0].kind, RequestKind::query);
            EXPECT_FALSE(errors[1].ok);
            EXPECT_EQ(errors[1].error_type, "ReadTimeout");
            EXPECT_EQ(errors[0].rows, 0);
            EXPECT_GT(errors[1].response_bytes, 9u);  // an ERROR response is still a response
        }

        // UNPREPARED: reported as a failed execute, then the re-prepare, then the successful retry.
        server->engine().forget_prepared(1);
        co_await session.execute(insert.bind(200, "z"));
        auto recovery = recorder->take();
        EXPECT_EQ(recovery.size(), 3u);
        if (recovery.size() == 3) {
            EXPECT_EQ(recovery[0].kind, RequestKind::execute);
            EXPECT_EQ(recovery[0].error_type, "Unprepared");
            EXPECT_EQ(recovery[1].kind, RequestKind::prepare);
            EXPECT_TRUE(recovery[1].ok);
            EXPECT_EQ(recovery[2].kind, RequestKind::execute);
            EXPECT_TRUE(recovery[2].ok);
        }
        co_await session.shutdown();
    });
}

TEST(ClientObservability, ClientTimeoutIsReportedAndOrphanIsLogged) {
    auto server = start_server();
    srv::FaultRule delay;
    delay.kind = srv::FaultKind::delay;
    delay.pattern = "slow";
    delay.delay = 300ms;
    server->faults().add(delay);
    auto recorder = std::make_shared<Recorder>();
    LogLines logs;
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(*server, 5);
        cfg.observer = recorder;
        cfg.log_sink = logs.sink();
        cfg.log_level = LogLevel::debug;
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        Statement slow("SELECT key AS slow FROM system.local");
        slow.set_timeout(50ms);
        auto [error, rs] = co_await session.try_execute(slow);
        EXPECT_TRUE(error);
        auto seen = recorder->take();
        EXPECT_EQ(seen.size(), 1u);
        if (!seen.empty()) {
            EXPECT_FALSE(seen[0].ok);
            EXPECT_EQ(seen[0].error_type, "Timeout");
            EXPECT_GE(seen[0].latency, 50ms);
            EXPECT_EQ(seen[0].response_bytes, 0u);
        }
        EXPECT_TRUE(logs.find("orphaned"));
        // The late response frees the id; the next request still works.
        asio::steady_timer wait(ex, 400ms);
        co_await wait.async_wait(asio::use_awaitable);
        co_await session.execute("SELECT key FROM system.local");
        EXPECT_TRUE(logs.find("late response on orphaned stream"));
        co_await session.shutdown();
    });
}

TEST(ClientObservability, LogSinkGetsConnectionOpenWithVersionAndReprepare) {
    auto server = start_server();
    LogLines logs;
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(*server);
        cfg.log_sink = logs.sink();
        cfg.log_level = LogLevel::info;
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        auto open = logs.find("connection to " + endpoint_of(*server) + " open: protocol v5");
        EXPECT_TRUE(open);
        if (open) {
            EXPECT_EQ(open->first, LogLevel::info);
        }
        PreparedStatement p = co_await session.prepare("SELECT key FROM system.local");
        server->engine().forget_prepared(1);
        co_await session.execute(p.bind());
        EXPECT_TRUE(logs.find("re-preparing: SELECT key FROM system.local"));
        co_await session.shutdown();
    });
    // The session closed its connection: logged at info (a close we asked for).
    auto closed = logs.find("connection to " + endpoint_of(*server) + " closed by the client");
    EXPECT_TRUE(closed);
    if (closed) {
        EXPECT_EQ(closed->first, LogLevel::info);
    }
    // Nothing below the configured level.
    std::lock_guard lock(logs.mutex);
    for (const auto& [level, line] : logs.lines) EXPECT_GE(level, LogLevel::info) << line;
}

TEST(ClientObservability, VersionFallbackAndConnectFailureAreLogged) {
    auto server = start_server({4});
    LogLines logs;
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(*server);
        cfg.log_sink = logs.sink();
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        co_await session.shutdown();
    });
    EXPECT_TRUE(logs.find("protocol v5 refused by " + endpoint_of(*server)));
    EXPECT_TRUE(logs.find("connection to " + endpoint_of(*server) + " open: protocol v4"));

    const std::uint16_t dead_port = server->port();
    server->stop();
    LogLines failed;
    run([&](auto ex) -> asio::awaitable<void> {
        ClusterConfig cfg;
        cfg.contact_points = {"127.0.0.1"};
        cfg.port = dead_port;
        cfg.log_sink = failed.sink();
        cfg.log_level = LogLevel::warn;
        Cluster cluster(ex, cfg);
        bool no_host = false;
        try {
            co_await cluster.connect();
        } catch (const NoHostAvailable&) {
            no_host = true;
        }
        EXPECT_TRUE(no_host);
    });
    auto line = failed.find("cannot open connection to 127.0.0.1:" + std::to_string(dead_port));
    EXPECT_TRUE(line);
    if (line) {
        EXPECT_EQ(line->first, LogLevel::warn);
    }
}

TEST(ClientObservability, MetricsCollectorFedByASession) {
    auto server = start_server();
    auto metrics = std::make_shared<MetricsCollector>();
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(*server);
        cfg.observer = metrics;
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        for (int i = 0; i < 5; ++i) co_await session.execute("SELECT key FROM system.local");
        auto [e, r] = co_await session.try_execute(Statement("SELEC nonsense"));
        EXPECT_TRUE(e);
        co_await session.shutdown();
    });
    EXPECT_EQ(metrics->requests(RequestKind::query, true), 5u);
    EXPECT_EQ(metrics->requests(RequestKind::query, false), 1u);
    EXPECT_EQ(metrics->errors("SyntaxError"), 1u);
    EXPECT_EQ(metrics->rows_total(), 5u);
    EXPECT_GT(metrics->bytes_sent_total(), 0u);
    EXPECT_GT(metrics->bytes_received_total(), 0u);
    const std::string text = metrics->render_prometheus();
    EXPECT_NE(text.find("acass_requests_total{kind=\"query\",outcome=\"ok\"} 5\n"), std::string::npos);
    EXPECT_NE(text.find("acass_request_errors_total{kind=\"query\",error_type=\"SyntaxError\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("acass_request_duration_seconds_count{kind=\"query\"} 6\n"), std::string::npos);
    EXPECT_NE(text.find("acass_rows_total 5\n"), std::string::npos);
}

TEST(ClientObservability, LostConnectionIsLoggedAsWarning) {
    auto server = start_server();
    LogLines logs;
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(*server);
        cfg.log_sink = logs.sink();
        cfg.log_level = LogLevel::warn;
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        EXPECT_FALSE(logs.find("open: protocol")) << "info lines are below the configured level";
        server->stop();
        asio::steady_timer wait(ex);
        for (int i = 0; i < 200 && session.open_connections() > 0; ++i) {
            wait.expires_after(10ms);
            co_await wait.async_wait(asio::use_awaitable);
        }
        EXPECT_EQ(session.open_connections(), 0u);
        co_await session.shutdown();
    });
    auto lost = logs.find("connection to " + endpoint_of(*server) + " lost: ");
    EXPECT_TRUE(lost);
    if (lost) {
        EXPECT_EQ(lost->first, LogLevel::warn);
    }
}
