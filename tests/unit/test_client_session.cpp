// Cluster/Session against the scripted fake server: rows and paging, prepare cache, binding
// errors, UNPREPARED recovery, server error types, batches, execute_concurrent, keyspaces,
// recovery after a malformed frame, NoHostAvailable.

#include "integration/fake_server.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include "support/run_coroutine.hpp"
#include "protocol/bytes.hpp"
#include "protocol/expected_response.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace async_cassandra;
using namespace async_cassandra::testing;
using namespace std::chrono_literals;

namespace {

using acass_test::run;

// gtest's ASSERT_* return from the function: not usable in coroutines.
#define CO_ASSERT_TRUE(c)                            \
    do {                                             \
        if (!(c)) {                                  \
            ADD_FAILURE() << "assertion failed: " #c; \
            co_return;                               \
        }                                            \
    } while (0)
#define CO_ASSERT_EQ(a, b)         \
    do {                           \
        EXPECT_EQ(a, b);           \
        if (!((a) == (b))) co_return; \
    } while (0)

const protocol::Bytes kInsertId{1, 2, 3};

/// A tiny scripted "engine" answering the statements the tests use.
struct Engine {
    std::mutex mutex;
    std::atomic<int> prepares{0};
    std::atomic<int> executes{0};
    std::atomic<bool> forget_prepared{false};
    std::vector<std::string> uses;
    std::vector<std::pair<std::int32_t, std::string>> inserted;
    std::atomic<int> batches{0};

    static protocol::Response error(ServerErrorCode code, std::string message) {
        protocol::ErrorResponse e;
        e.code = code;
        e.message = std::move(message);
        return e;
    }

    Action operator()(const RequestInfo& info) {
        Action a;
        if (auto* q = std::get_if<protocol::QueryRequest>(&info.request)) {
            std::string text(q->query);
            if (text.rfind("USE ", 0) == 0) {
                std::lock_guard lock(mutex);
                uses.push_back(text.substr(4));
                if (text.substr(4) == "missing") {
                    a.response = error(ServerErrorCode::invalid, "Keyspace 'missing' does not exist");
                } else {
                    a.response = protocol::ResultResponse{protocol::SetKeyspaceResult{text.substr(4)}};
                }
            } else if (text == "SELECT pages") {
                int page = q->params.paging_state ? (*q->params.paging_state)[0] : 0;
                std::optional<protocol::Bytes> next;
                if (page < 2) next = protocol::Bytes{static_cast<std::uint8_t>(page + 1)};
                std::vector<std::string> rows;
                for (int i = 0; i < (page == 1 ? 0 : 2); ++i)  // page 1 is empty but not the last
                    rows.push_back("p" + std::to_string(page) + "-" + std::to_string(i));
                a.response = text_rows(rows, a.storage, next);
            } else if (text == "SELECT echo ?") {
                std::vector<std::string> rows;
                for (const auto& v : q->params.values)
                    rows.emplace_back(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size());
                a.response = text_rows(rows, a.storage);
            } else if (text == "SELECT syntax") {
                a.response = error(ServerErrorCode::syntax_error, "line 1:7 no viable alternative");
            } else if (text == "SELECT malformed") {
                a.raw = protocol::Bytes{0x84, 0, 0, 0, 0x77, 0, 0, 0, 0};
            } else if (text.rfind("CREATE", 0) == 0) {
                a.response = protocol::ResultResponse{protocol::SchemaChange{"CREATED", "TABLE", "ks", "t", {}}};
            } else {
                a.response = protocol::ResultResponse{protocol::VoidResult{}};
            }
        } else if (auto* p = std::get_if<protocol::PrepareRequest>(&info.request)) {
            ++prepares;
            if (p->query != "INSERT INTO t (a, b) VALUES (?, ?)") {
                a.response = error(ServerErrorCode::invalid, "unknown table");
                return a;
            }
            forget_prepared = false;
            protocol::PreparedResult r;
            r.id = kInsertId;
            r.result_metadata_id = {9};
            r.metadata.columns = {{"ks", "t", "a", DataType::simple(TypeKind::int_)},
                                  {"ks", "t", "b", DataType::simple(TypeKind::varchar)}};
            r.result_metadata.no_metadata = true;
            a.response = protocol::ResultResponse{std::move(r)};
            a.delay = 20ms;  // gives concurrent prepare() calls time to pile up
        } else if (auto* e = std::get_if<protocol::ExecuteRequest>(&info.request)) {
            ++executes;
            if (forget_prepared || !std::equal(e->id.begin(), e->id.end(), kInsertId.begin(), kInsertId.end())) {
                protocol::ErrorResponse u;
                u.code = ServerErrorCode::unprepared;
                u.message = "Prepared query with ID 010203 not found";
                u.unprepared_id = protocol::Bytes(e->id.begin(), e->id.end());
                a.response = u;
                return a;
            }
            auto a_value = e->params.values.at(0);
            std::int32_t av = (a_value.bytes[0] << 24) | (a_value.bytes[1] << 16) | (a_value.bytes[2] << 8) |
                              a_value.bytes[3];
            auto b_value = e->params.values.at(1);
            std::string bv = b_value.is_null() ? "<null>"
                                               : std::string(reinterpret_cast<const char*>(b_value.bytes.data()),
                                                             b_value.bytes.size());
            if (bv == "bad") {
                a.response = error(ServerErrorCode::invalid, "bad value");
                return a;
            }
            std::lock_guard lock(mutex);
            inserted.emplace_back(av, bv);
            a.response = protocol::ResultResponse{protocol::VoidResult{}};
        } else if (auto* b = std::get_if<protocol::BatchRequest>(&info.request)) {
            ++batches;
            if (b->type != protocol::BatchType::logged || b->statements.size() != 2 || b->statements[0].is_prepared ||
                !b->statements[1].is_prepared)
                a.response = error(ServerErrorCode::invalid, "unexpected batch");
            else
                a.response = protocol::ResultResponse{protocol::VoidResult{}};
        }
        return a;
    }
};

/// The log lines of a test's clusters that say a request timed out. The fake server answers every
/// request at once (or after a scripted delay of 20 ms), so here a timeout is a request that was
/// never answered or never woken. Once, every test of this file waited out 5 s like that (the
/// control connection's REGISTER went unanswered) and still passed: SessionTest fails on any.
struct TimeoutLog {
    std::mutex mutex;
    std::vector<std::string> lines;
};
TimeoutLog& timeout_log() {
    static TimeoutLog log;
    return log;
}

ClusterConfig config_for(const FakeServer& server, std::optional<int> version = std::nullopt) {
    ClusterConfig c;
    c.contact_points = {"127.0.0.1"};
    c.port = server.port();
    c.connection.protocol_version = version;
    c.request_timeout = 5s;
    c.log_level = LogLevel::debug;  // the connection logs each timed-out request at debug
    c.log_sink = [](LogLevel, std::string_view message) {
        if (message.find("timed out") == std::string_view::npos) return;
        auto& log = timeout_log();
        std::lock_guard lock(log.mutex);
        log.lines.emplace_back(message);
    };
    return c;
}

}  // namespace

class SessionTest : public ::testing::TestWithParam<int> {
protected:
    void SetUp() override {
        std::lock_guard lock(timeout_log().mutex);
        timeout_log().lines.clear();
    }
    // Every request of these tests ends with the server's answer, never with its timeout.
    void TearDown() override {
        std::lock_guard lock(timeout_log().mutex);
        for (const auto& line : timeout_log().lines) ADD_FAILURE() << "a request ended by its timeout: " << line;
    }

    Engine engine;
    FakeServer server{std::ref(engine)};
};

TEST_P(SessionTest, RowsAndOne) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        ResultSet rs = co_await session.execute("SELECT echo ?", std::string("hello"), "world");
        CO_ASSERT_EQ(rs.size(), 2u);
        EXPECT_EQ(rs.columns().size(), 1u);
        std::vector<std::string> got;
        for (const Row& row : rs) got.emplace_back(row.get<std::string_view>("v"));
        EXPECT_EQ(got, (std::vector<std::string>{"hello", "world"}));
        auto one = rs.one();
        CO_ASSERT_TRUE(one);
        EXPECT_EQ(one->get<std::string>(0), "hello");
        EXPECT_EQ(rs.at(1).get<std::string>(0), "world");

        ResultSet none = co_await session.execute("INSERT INTO x");
        EXPECT_FALSE(none.has_rows());
        EXPECT_FALSE(none.one());
        ResultSet ddl = co_await session.execute("CREATE TABLE t");
        CO_ASSERT_TRUE(ddl.schema_change());
        EXPECT_EQ(ddl.schema_change()->change_type, "CREATED");
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST_P(SessionTest, ExecuteFollowsEveryPageAndExecutePageReturnsOne) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        ResultSet rs = co_await session.execute("SELECT pages");
        EXPECT_EQ(rs.pages().size(), 3u);
        std::vector<std::string> got;
        for (const Row& row : rs) got.emplace_back(row.get<std::string_view>(0));
        EXPECT_EQ(got, (std::vector<std::string>{"p0-0", "p0-1", "p2-0", "p2-1"}));

        Page first = co_await session.execute_page(Statement("SELECT pages"), std::nullopt, 2);
        EXPECT_EQ(first.size(), 2u);
        CO_ASSERT_TRUE(first.has_more_pages());
        Page second = co_await session.execute_page(Statement("SELECT pages"), first.paging_state(), 2);
        EXPECT_EQ(second.size(), 0u);
        EXPECT_TRUE(second.has_more_pages());
        co_await session.shutdown();
    });
}

TEST_P(SessionTest, PrepareIsCachedWithOnePrepareInFlight) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        const std::string text = "INSERT INTO t (a, b) VALUES (?, ?)";
        auto results = std::make_shared<std::vector<PreparedStatement>>();
        auto done = std::make_shared<int>(0);
        for (int i = 0; i < 10; ++i)
            asio::co_spawn(
                ex,
                [session, text, results, done]() -> asio::awaitable<void> {
                    results->push_back(co_await session.prepare(text));
                    ++*done;
                },
                asio::detached);
        asio::steady_timer t(ex);
        while (*done < 10) {
            t.expires_after(5ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        EXPECT_EQ(engine.prepares.load(), 1);
        for (const auto& ps : *results) EXPECT_EQ(ps.data(), results->front().data());
        PreparedStatement again = co_await session.prepare(text);
        EXPECT_EQ(again.data(), results->front().data());
        EXPECT_EQ(engine.prepares.load(), 1);
        EXPECT_EQ(again.bind_markers().size(), 2u);
        EXPECT_EQ(again.bind_markers()[1].name, "b");

        bool failed = false;
        try {
            co_await session.prepare("INSERT INTO nowhere");
        } catch (const InvalidRequest&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        co_await session.shutdown();
    });
}

TEST_P(SessionTest, BindChecksArityAndTypesBeforeSending) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        PreparedStatement ps = co_await session.prepare("INSERT INTO t (a, b) VALUES (?, ?)");
        EXPECT_THROW(ps.bind(1), UsageError);
        EXPECT_THROW(ps.bind(1, "x", 3), UsageError);
        EXPECT_THROW(ps.bind("not an int", "x"), TypeError);
        EXPECT_THROW(ps.bind(1, 2.5), TypeError);
        EXPECT_EQ(engine.executes.load(), 0);
        co_await session.execute(ps.bind(std::int32_t{7}, "seven"));
        co_await session.execute(ps.bind(8, std::nullopt));
        std::lock_guard lock(engine.mutex);
        EXPECT_EQ(engine.inserted, (std::vector<std::pair<std::int32_t, std::string>>{{7, "seven"}, {8, "<null>"}}));
    });
}

TEST_P(SessionTest, UnpreparedIsRepreparedTransparently) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        PreparedStatement ps = co_await session.prepare("INSERT INTO t (a, b) VALUES (?, ?)");
        // The statement's kind, parsed once by prepare() for every EXECUTE's answer check.
        const auto modification = static_cast<std::uint8_t>(protocol::StatementKind::modification);
        EXPECT_EQ(ps.data()->statement_kind, modification);
        engine.forget_prepared = true;  // as after a node restart
        co_await session.execute(ps.bind(1, "one"));
        EXPECT_EQ(engine.prepares.load(), 2);
        EXPECT_EQ(engine.executes.load(), 2);
        EXPECT_EQ(ps.data()->statement_kind, modification);  // a re-prepare keeps the text, so the kind
        std::lock_guard lock(engine.mutex);
        CO_ASSERT_EQ(engine.inserted.size(), 1u);
    });
}

TEST_P(SessionTest, SharedBoundStatementIsSentAsIsAndKeptForTheCaller) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        PreparedStatement ps = co_await session.prepare("INSERT INTO t (a, b) VALUES (?, ?)");
        auto statement = std::make_shared<const BoundStatement>(ps.bind(5, "five"));
        const auto values_before = statement->values().bytes;
        co_await session.execute(statement);
        engine.forget_prepared = true;  // re-prepared, then sent again from the same statement
        auto [error, rs] = co_await session.try_execute(statement);
        EXPECT_FALSE(error);
        EXPECT_EQ(statement->values().bytes, values_before);  // the caller's statement, unchanged
        EXPECT_EQ(statement.use_count(), 1);                    // and no longer shared
        auto [null_error, none] = co_await session.try_execute(std::shared_ptr<const BoundStatement>());
        CO_ASSERT_TRUE(null_error);
        EXPECT_THROW(std::rethrow_exception(null_error), UsageError);
        std::lock_guard lock(engine.mutex);
        EXPECT_EQ(engine.inserted, (std::vector<std::pair<std::int32_t, std::string>>{{5, "five"}, {5, "five"}}));
    });
}

TEST_P(SessionTest, ServerErrorsAreTypedAndTryExecuteDoesNotThrow) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        bool syntax = false;
        try {
            co_await session.execute("SELECT syntax");
        } catch (const SyntaxError& e) {
            syntax = e.server_message() == "line 1:7 no viable alternative";
        }
        EXPECT_TRUE(syntax);
        auto [error, rs] = co_await session.try_execute(Statement("SELECT syntax"));
        CO_ASSERT_TRUE(error);
        EXPECT_THROW(std::rethrow_exception(error), SyntaxError);
        auto [ok, rs2] = co_await session.try_execute(Statement("SELECT pages"));
        EXPECT_FALSE(ok);
        EXPECT_EQ(rs2.size(), 4u);
    });
}

TEST_P(SessionTest, BatchMixesSimpleAndBound) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        PreparedStatement ps = co_await session.prepare("INSERT INTO t (a, b) VALUES (?, ?)");
        co_await session.execute_batch(Batch::logged().add("INSERT INTO x VALUES (?)", 1).add(ps.bind(2, "b")));
        EXPECT_EQ(engine.batches.load(), 1);
        bool invalid = false;
        try {
            co_await session.execute_batch(Batch::unlogged().add(ps.bind(2, "b")));
        } catch (const InvalidRequest&) {
            invalid = true;
        }
        EXPECT_TRUE(invalid);
    });
}

TEST_P(SessionTest, ExecuteConcurrentReportsEachItem) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        PreparedStatement ps = co_await session.prepare("INSERT INTO t (a, b) VALUES (?, ?)");
        std::vector<std::tuple<std::int32_t, std::string>> params;
        for (int i = 0; i < 500; ++i) params.emplace_back(i, i % 7 == 0 ? "bad" : "ok");
        ConcurrencyOptions options;
        options.concurrency = 20;
        auto outcomes = co_await session.execute_concurrent(ps, params, options);
        CO_ASSERT_EQ(outcomes.size(), 500u);
        int failures = 0;
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            EXPECT_EQ(outcomes[i].ok(), i % 7 != 0) << i;
            if (!outcomes[i].ok()) {
                ++failures;
                EXPECT_THROW(std::rethrow_exception(outcomes[i].error), InvalidRequest);
            }
        }
        EXPECT_EQ(failures, 72);
        std::lock_guard lock(engine.mutex);
        EXPECT_EQ(engine.inserted.size(), 428u);
    });
}

TEST_P(SessionTest, KeyspaceIsAppliedToEveryPooledConnection) {
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config_for(server, GetParam());
        cfg.connections_per_host = 2;
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect("ks1");
        EXPECT_EQ(session.open_connections(), 2u);
        EXPECT_EQ(session.keyspace(), "ks1");
        co_await session.set_keyspace("ks2");
        EXPECT_EQ(session.keyspace(), "ks2");
        {
            std::lock_guard lock(engine.mutex);
            EXPECT_EQ(engine.uses, (std::vector<std::string>{"ks1", "ks1", "ks2", "ks2"}));
        }
        bool invalid = false;
        try {
            co_await session.set_keyspace("missing");
        } catch (const InvalidRequest&) {
            invalid = true;
        }
        EXPECT_TRUE(invalid);
        EXPECT_EQ(session.keyspace(), "ks2");

        invalid = false;
        try {
            co_await cluster.connect("missing");
        } catch (const InvalidRequest&) {
            invalid = true;
        }
        EXPECT_TRUE(invalid);
    });
}

TEST_P(SessionTest, RecoversOnNewConnectionAfterMalformedFrame) {
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        // The byte stream is lost: the connection closes and the request fails as on a dropped
        // connection, with the ProtocolError that broke it as the cause.
        bool protocol_error = false;
        try {
            co_await session.execute("SELECT malformed");
        } catch (const ConnectionClosed& e) {
            try {
                if (e.cause()) std::rethrow_exception(e.cause());
            } catch (const ProtocolError&) {
                protocol_error = true;
            }
        }
        EXPECT_TRUE(protocol_error);
        ResultSet rs = co_await session.execute("SELECT pages");
        EXPECT_EQ(rs.size(), 4u);
        // The control connection's attempt (this fake node has no system tables), the broken
        // connection and its replacement.
        EXPECT_EQ(server.connections(), 3);
    });
}

INSTANTIATE_TEST_SUITE_P(ProtocolVersions, SessionTest, ::testing::Values(4, 5));

TEST(Session, NoHostAvailableCarriesEachHost) {
    std::uint16_t port;
    {
        asio::io_context io;
        asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }
    run([&](auto ex) -> asio::awaitable<void> {
        ClusterConfig cfg;
        cfg.contact_points = {"127.0.0.1", "localhost"};
        cfg.port = port;
        Cluster cluster(ex, cfg);
        bool nha = false;
        try {
            co_await cluster.connect();
        } catch (const NoHostAvailable& e) {
            nha = e.failures().size() == 2;
        }
        EXPECT_TRUE(nha);
    });
    EXPECT_THROW(Cluster(asio::system_executor(), ClusterConfig{}), ConfigurationError);
}
