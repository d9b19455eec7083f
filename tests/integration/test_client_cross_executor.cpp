// Connection::send() and Session::execute() awaited from a coroutine on another io_context (its
// own thread) than the one the connection lives on: answers, timeouts and cancellations while
// waiting for a stream id, and connection loss all complete on the caller's thread; nothing is
// left behind (the caller's io_context runs out of work by itself, the connection is freed).
// Run under TSan (scripts/test.sh) and ASan.

#include "integration/fake_server.hpp"
#include "net/connection.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace async_cassandra;
using namespace async_cassandra::testing;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

/// The executor of the caller's io_context (run by the test's thread).
using Caller = asio::io_context::executor_type;

/// An io_context run by `threads` threads of its own until destroyed: where the connections live.
class ConnectionThreads {
public:
    explicit ConnectionThreads(int threads = 2) : work_(asio::make_work_guard(io_)) {
        for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    ~ConnectionThreads() { join(); }
    /// Lets the threads finish once the connections' work is done.
    void join() {
        work_.reset();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }
    asio::any_io_executor executor() { return io_.get_executor(); }
    bool runs_here() const {
        for (auto& t : threads_)
            if (t.get_id() == std::this_thread::get_id()) return true;
        return false;
    }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
};

/// Runs `body(caller_executor)` on a fresh io_context driven by this thread (the caller's). The
/// io_context must run out of work by itself within `limit`: an operation that never completed
/// (a leaked request) would keep it busy. Rethrows what the body threw.
template <class F>
void run_caller(F body, std::chrono::seconds limit = 30s) {
    asio::io_context io;
    std::exception_ptr error;
    bool finished = false;
    asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
        error = e;
        finished = true;
    });
    io.run_for(limit);
    EXPECT_TRUE(finished) << "the caller's coroutine did not finish";
    EXPECT_TRUE(io.stopped()) << "work left on the caller's io_context (an operation never completed)";
    if (error) std::rethrow_exception(error);
}

/// Expects the calling coroutine to run on `caller` and on the thread `thread`.
#define EXPECT_ON_CALLER(caller, thread)                          \
    do {                                                          \
        EXPECT_TRUE((caller).running_in_this_thread());           \
        EXPECT_EQ(std::this_thread::get_id(), (thread));          \
    } while (0)

protocol::QueryRequest query(std::string_view text) {
    protocol::QueryRequest q;
    q.query = text;
    return q;
}

std::string echoed(const net::Reply& r) {
    auto* result = std::get_if<protocol::ResultResponse>(&r.message);
    auto* ks = result ? std::get_if<protocol::SetKeyspaceResult>(result) : nullptr;
    return ks ? ks->keyspace : "<not an echo>";
}

/// Answers QUERY with its text; "slow..." after 200 ms, "hang..." never. Counts what it saw.
struct EchoScript {
    std::mutex mutex;
    std::vector<std::string> seen;
    Action operator()(const RequestInfo& info) {
        Action a;
        auto* q = std::get_if<protocol::QueryRequest>(&info.request);
        if (!q) return a;
        const std::string text(q->query);
        {
            std::lock_guard lock(mutex);
            seen.push_back(text);
        }
        if (text.starts_with("hang")) a.drop = true;
        else a.response = protocol::ResultResponse{protocol::SetKeyspaceResult{text}};
        if (text.starts_with("slow")) a.delay = 200ms;
        return a;
    }
    std::vector<std::string> queries() {
        std::lock_guard lock(mutex);
        return seen;
    }
};

std::shared_ptr<EchoScript> script() { return std::make_shared<EchoScript>(); }
FakeServer::Handler handler_of(std::shared_ptr<EchoScript> s) {
    return [s](const RequestInfo& info) { return (*s)(info); };
}

ConnectionConfig config(std::size_t max_in_flight) {
    ConnectionConfig c;
    c.protocol_version = 5;
    c.connect_timeout = 5s;
    c.max_in_flight = max_in_flight;
    return c;
}

/// Waits on `ex` until `done()` or 10 s.
template <class Done>
asio::awaitable<void> wait_for(asio::any_io_executor ex, Done done) {
    return acass_test::poll_until(std::move(ex), std::move(done), 10s);
}

/// Waits (up to 5 s) until the connection's reader has let go of it after close().
void expect_freed(const std::weak_ptr<net::Connection>& weak) {
    for (int i = 0; i < 500 && !weak.expired(); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(weak.expired()) << "the connection was not freed after close()";
}

/// A scripted node, a connection io_context on two threads of its own, and the test's thread as
/// the caller's; TearDown checks that the connection opened by open() was freed.
class CrossExecutor : public ::testing::Test {
protected:
    /// Opens the connection on the connection threads, from the caller's coroutine.
    asio::awaitable<std::shared_ptr<net::Connection>> open(std::size_t max_in_flight) {
        auto conn = co_await net::Connection::open(node_io.executor(), "127.0.0.1", server.port(), config(max_in_flight));
        weak = conn;
        co_return conn;
    }
    void TearDown() override {
        expect_freed(weak);
    }

    std::shared_ptr<EchoScript> s = script();
    FakeServer server{handler_of(s)};
    ConnectionThreads node_io;
    const std::thread::id main_thread = std::this_thread::get_id();
    std::weak_ptr<net::Connection> weak;
};

}  // namespace

// Many requests from two caller threads at once on one connection whose io_context runs on two
// other threads; with 4 stream ids most requests wait for one. Every answer is the request's
// own and resumes its caller on the caller's thread.
TEST_F(CrossExecutor, SendCompletesOnTheCallersThread) {
    std::shared_ptr<net::Connection> conn;
    run_caller([&](Caller caller) -> asio::awaitable<void> {
        conn = co_await open(4);
        EXPECT_ON_CALLER(caller, main_thread);
    });
    ASSERT_TRUE(conn);

    constexpr int kPerCaller = 500;
    std::atomic<int> good{0}, wrong_thread{0}, failed{0};
    auto load = [&](int caller_id) {
        run_caller([&, caller_id](Caller caller) -> asio::awaitable<void> {
            const auto thread = std::this_thread::get_id();
            auto done = std::make_shared<int>(0);
            for (int i = 0; i < kPerCaller; ++i) {
                asio::co_spawn(
                    caller,
                    [&, caller, thread, caller_id, i]() -> asio::awaitable<void> {
                        const std::string text = "c" + std::to_string(caller_id) + "-" + std::to_string(i);
                        auto q = query(text);
                        net::Reply r = co_await conn->send(q, 20s);
                        if (!caller.running_in_this_thread() || std::this_thread::get_id() != thread) ++wrong_thread;
                        if (echoed(r) == text) ++good;
                    },
                    [&, done](std::exception_ptr e) {
                        if (e) ++failed;
                        ++*done;
                    });
            }
            co_await wait_for(caller, [&] { return *done == kPerCaller; });
        });
    };
    std::thread a([&] { load(1); });
    std::thread b([&] { load(2); });
    a.join();
    b.join();
    EXPECT_EQ(good.load(), 2 * kPerCaller);
    EXPECT_EQ(wrong_thread.load(), 0);
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(conn->in_flight(), 0u);
    EXPECT_EQ(s->queries().size(), 2u * kPerCaller);
    conn->close();
    conn.reset();
}

// The only stream id is held by a slow request; a request from another thread that waits for an
// id times out there with "no free stream id", is never sent, and the queue keeps working.
TEST_F(CrossExecutor, TimeoutWhileWaitingForAStreamId) {
    run_caller([&](Caller caller) -> asio::awaitable<void> {
        auto conn = co_await open(1);
        auto slow_answer = std::make_shared<std::string>();
        asio::co_spawn(
            caller,
            [conn, slow_answer]() -> asio::awaitable<void> {
                auto q = query("slow");
                *slow_answer = echoed(co_await conn->send(q, 5s));
            },
            asio::detached);
        asio::steady_timer t(caller, 20ms);
        co_await t.async_wait(asio::use_awaitable);
        std::string message;
        const auto started = std::chrono::steady_clock::now();
        try {
            auto q = query("queued");
            co_await conn->send(q, 40ms);
        } catch (const Timeout& e) {
            message = e.what();
        }
        EXPECT_ON_CALLER(caller, main_thread);
        EXPECT_NE(message.find("no free stream id"), std::string::npos) << message;
        EXPECT_LT(std::chrono::steady_clock::now() - started, 180ms) << "timed out only after the slow answer";
        co_await wait_for(caller, [&] { return !slow_answer->empty(); });
        EXPECT_EQ(*slow_answer, "slow");
        auto fast = query("fast");
        EXPECT_EQ(echoed(co_await conn->send(fast, 5s)), "fast");
        EXPECT_ON_CALLER(caller, main_thread);
        EXPECT_EQ(conn->orphans(), 0u);
        EXPECT_EQ(conn->in_flight(), 0u);
        conn->close();
    });
    EXPECT_EQ(s->queries(), (std::vector<std::string>{"slow", "fast"}));
}

// Cancelled from another thread (awaitable_operators `||` with a timer on the caller's
// io_context) while waiting for a stream id: the request leaves the queue unsent, the caller
// resumes on its own thread, and the request queued behind it still runs, in order.
TEST_F(CrossExecutor, CancelWhileWaitingForAStreamId) {
    run_caller([&](Caller caller) -> asio::awaitable<void> {
        auto conn = co_await open(1);
        auto results = std::make_shared<std::vector<std::string>>();
        for (std::string text : {"slow", "cancelled", "after"}) {
            asio::co_spawn(
                caller,
                [conn, text, results, caller, main_thread = main_thread]() -> asio::awaitable<void> {
                    auto q = query(text);
                    if (text == "cancelled") {
                        asio::steady_timer timer(caller, 30ms);
                        auto r = co_await (conn->send(q, 5s) || timer.async_wait(asio::use_awaitable));
                        results->push_back(r.index() == 1 ? "cancelled:ok" : "cancelled:answered");
                    } else {
                        results->push_back(echoed(co_await conn->send(q, 5s)));
                    }
                    EXPECT_ON_CALLER(caller, main_thread);
                },
                asio::detached);
        }
        co_await wait_for(caller, [&] { return results->size() == 3; });
        EXPECT_EQ(*results, (std::vector<std::string>{"cancelled:ok", "slow", "after"}));
        EXPECT_EQ(conn->orphans(), 0u);
        EXPECT_EQ(conn->in_flight(), 0u);
        conn->close();
    });
    EXPECT_EQ(s->queries(), (std::vector<std::string>{"slow", "after"}));
}

// The node drops the connection while requests from another thread are in flight (2) and waiting
// for a stream id (8): every one fails with ConnectionClosed on the caller's thread; a send after
// the loss fails at once the same way.
TEST_F(CrossExecutor, ConnectionLossFailsEveryWaitingRequest) {
    run_caller([&](Caller caller) -> asio::awaitable<void> {
        auto conn = co_await open(2);
        auto closed = std::make_shared<int>(0);
        auto other = std::make_shared<int>(0);
        for (int i = 0; i < 10; ++i) {
            asio::co_spawn(
                caller,
                [conn, i, closed, other, caller, main_thread = main_thread]() -> asio::awaitable<void> {
                    try {
                        const std::string text = "hang" + std::to_string(i);
                        auto q = query(text);
                        co_await conn->send(q, std::nullopt);
                        ++*other;
                    } catch (const ConnectionClosed&) {
                        ++*closed;
                    } catch (...) {
                        ++*other;
                    }
                    EXPECT_ON_CALLER(caller, main_thread);
                },
                asio::detached);
        }
        co_await wait_for(caller, [&] { return s->queries().size() == 2; });
        EXPECT_EQ(conn->in_flight(), 2u);
        server.drop_connections();
        co_await wait_for(caller, [&] { return *closed + *other == 10; });
        EXPECT_EQ(*closed, 10);
        EXPECT_EQ(*other, 0);
        EXPECT_FALSE(conn->is_open());
        bool rejected = false;
        try {
            auto q = query("after");
            co_await conn->send(q, 5s);
        } catch (const ConnectionClosed&) {
            rejected = true;
        }
        EXPECT_TRUE(rejected);
        EXPECT_ON_CALLER(caller, main_thread);
    });
    EXPECT_EQ(s->queries().size(), 2u);
}

// Session::execute from an io_context of the caller's own while the Cluster's connections live on
// another one (two threads): results, a request timeout while the only stream id is held, and a
// cancellation all complete on the caller's thread, and no request stays in flight.
TEST(CrossExecutorSession, ExecuteFromAnotherIoContext) {
    auto server = acass_test::start_server();
    {
        server::net::FaultRule delay;
        delay.kind = server::net::FaultKind::delay;
        delay.pattern = "slow";
        delay.delay = 300ms;
        server->faults().add(delay);
    }
    ConnectionThreads node_io;
    auto cfg = acass_test::config_for(*server, 5);
    cfg.connection.max_in_flight = 1;  // one stream id: the second request waits for it
    auto cluster = std::make_unique<Cluster>(node_io.executor(), cfg);
    const auto main_thread = std::this_thread::get_id();
    run_caller([&](Caller caller) -> asio::awaitable<void> {
        Session session = co_await cluster->connect();
        EXPECT_ON_CALLER(caller, main_thread);
        ResultSet rs = co_await session.execute("SELECT cluster_name FROM system.local");
        EXPECT_ON_CALLER(caller, main_thread);
        CO_ASSERT_TRUE(rs.one());
        EXPECT_EQ(rs.one()->get<std::string_view>(0), "Test Cluster");

        // The slow request holds the only id; the next one times out waiting for it.
        auto slow_done = std::make_shared<bool>(false);
        asio::co_spawn(
            caller,
            [session, slow_done]() -> asio::awaitable<void> {
                Statement slow("SELECT key AS slow FROM system.local");
                co_await session.execute(slow);
                *slow_done = true;
            },
            asio::detached);
        asio::steady_timer t(caller, 20ms);
        co_await t.async_wait(asio::use_awaitable);
        Statement queued("SELECT key FROM system.local");
        queued.set_timeout(50ms);
        bool timed_out = false;
        try {
            co_await session.execute(queued);
        } catch (const Timeout&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_ON_CALLER(caller, main_thread);

        // Cancelled by the caller while the slow request still holds the id.
        Statement cancelled("SELECT key FROM system.local");
        asio::steady_timer timer(caller, 30ms);
        auto r = co_await (session.execute(cancelled) || timer.async_wait(asio::use_awaitable));
        EXPECT_EQ(r.index(), 1u);
        EXPECT_ON_CALLER(caller, main_thread);

        co_await wait_for(caller, [&] { return *slow_done; });
        EXPECT_TRUE(*slow_done);
        EXPECT_EQ(co_await acass_test::wait_until_idle(session), 0u);
        co_await cluster->shutdown();
        EXPECT_ON_CALLER(caller, main_thread);
    });
    cluster.reset();
    node_io.join();
}
