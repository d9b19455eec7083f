// Connection against the scripted fake server: handshake (v4/v5, negotiation, compression,
// SASL PLAIN), multiplexing, timeouts with orphaned ids, cancellation, connection loss, malformed
// frames, back-pressure.

#include "integration/fake_server.hpp"
#include "net/connection.hpp"

#include <asio/experimental/awaitable_operators.hpp>

#include "support/run_coroutine.hpp"
#include "protocol/bytes.hpp"

#include <gtest/gtest.h>

#include <asio/detached.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

using namespace async_cassandra;
using namespace async_cassandra::testing;
using namespace std::chrono_literals;

namespace {

/// Runs a coroutine to completion on a fresh io_context; rethrows its exception.
using acass_test::run;

protocol::QueryRequest query(std::string_view text) {
    protocol::QueryRequest q;
    q.query = text;
    return q;
}

/// Short stand-in for a query text (a [string] holds at most 65535 bytes).
std::string tag(std::string_view text) {
    if (text.size() <= 100) return std::string(text);
    return std::string(text.substr(0, 100)) + "#" + std::to_string(text.size());
}

/// Echo handler: answers QUERY with SetKeyspaceResult{tag(query text)}.
Action echo(const RequestInfo& info) {
    Action a;
    if (auto* q = std::get_if<protocol::QueryRequest>(&info.request))
        a.response = protocol::ResultResponse{protocol::SetKeyspaceResult{tag(q->query)}};
    return a;
}

std::string echoed(const net::Reply& r) {
    auto* result = std::get_if<protocol::ResultResponse>(&r.message);
    if (!result) return "<not a result>";
    auto* ks = std::get_if<protocol::SetKeyspaceResult>(result);
    return ks ? ks->keyspace : "<not set_keyspace>";
}

ConnectionConfig config(std::optional<int> version = std::nullopt) {
    ConnectionConfig c;
    c.protocol_version = version;
    c.connect_timeout = 5s;
    return c;
}

}  // namespace

class ConnectionHandshake : public ::testing::TestWithParam<std::tuple<std::optional<int>, CompressionAlgorithm>> {};

TEST_P(ConnectionHandshake, QueriesWorkAfterHandshake) {
    auto [version, compression] = GetParam();
    FakeServer server(echo);
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config(version);
        cfg.compression = compression;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        EXPECT_EQ(static_cast<int>(conn->version()), version.value_or(5));
        for (int i = 0; i < 3; ++i) {
            std::string text = "ECHO " + std::to_string(i) + std::string(i * 100000, 'x');
            auto q = query(text);
            auto reply = co_await conn->send(q, 5s);
            EXPECT_EQ(echoed(reply), tag(text));
        }
        conn->close();
    });
}

INSTANTIATE_TEST_SUITE_P(
    VersionsAndCompression, ConnectionHandshake,
    ::testing::Values(std::make_tuple(std::optional<int>(4), CompressionAlgorithm::none),
                      std::make_tuple(std::optional<int>(4), CompressionAlgorithm::lz4),
                      std::make_tuple(std::optional<int>(4), CompressionAlgorithm::snappy),
                      std::make_tuple(std::optional<int>(5), CompressionAlgorithm::none),
                      std::make_tuple(std::optional<int>(5), CompressionAlgorithm::lz4),
                      std::make_tuple(std::optional<int>(), CompressionAlgorithm::none)));

TEST(Connection, NegotiationFallsBackToV4) {
    FakeServerOptions options;
    options.versions = {4};
    FakeServer server(echo, options);
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config());
        EXPECT_EQ(conn->version(), protocol::ProtocolVersion::v4);
        auto q = query("ECHO 1");
        EXPECT_EQ(echoed(co_await conn->send(q, 5s)), "ECHO 1");
        conn->close();
    });
}

TEST(Connection, PlainTextAuthGoodAndBad) {
    FakeServerOptions options;
    options.auth = std::make_pair(std::string("cassandra"), std::string("pw"));
    FakeServer server(echo, options);
    run([&](auto ex) -> asio::awaitable<void> {
        auto good = config();
        good.auth = PlainTextAuth{"cassandra", "pw"};
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), good);
        auto q = query("ECHO 1");
        EXPECT_EQ(echoed(co_await conn->send(q, 5s)), "ECHO 1");
        conn->close();

        auto bad = config(4);
        bad.auth = PlainTextAuth{"cassandra", "wrong"};
        bool threw = false;
        try {
            co_await net::Connection::open(ex, "127.0.0.1", server.port(), bad);
        } catch (const AuthenticationError&) {
            threw = true;
        }
        EXPECT_TRUE(threw);

        threw = false;
        try {
            co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(5));
        } catch (const ConfigurationError&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
    });
}

TEST(Connection, ConnectRefusedIsConnectionClosed) {
    std::uint16_t port;
    {
        asio::io_context io;
        asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }
    run([&](auto ex) -> asio::awaitable<void> {
        bool threw = false;
        try {
            co_await net::Connection::open(ex, "127.0.0.1", port, config());
        } catch (const ConnectionClosed&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
    });
}

TEST(Connection, TenThousandConcurrentRequestsNoCrossedResponses) {
    // Answers come back in a scrambled order (random delays).
    auto rng = std::make_shared<std::mt19937>(42);
    FakeServer server([rng](const RequestInfo& info) {
        Action a = echo(info);
        a.delay = std::chrono::milliseconds((*rng)() % 3);
        return a;
    });
    for (int version : {4, 5}) {
        run([&](auto ex) -> asio::awaitable<void> {
            auto cfg = config(version);
            cfg.max_in_flight = 1024;  // 10,000 requests > ids: exercises back-pressure too
            auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
            constexpr int kRequests = 10000;
            auto ok = std::make_shared<int>(0);
            auto done = std::make_shared<int>(0);
            for (int i = 0; i < kRequests; ++i) {
                asio::co_spawn(
                    ex,
                    [conn, i, ok, done]() -> asio::awaitable<void> {
                        std::string text = "q" + std::to_string(i);
                        auto q = query(text);
                        auto r = co_await conn->send(q, 30s);
                        if (echoed(r) == text) ++*ok;
                        ++*done;
                    },
                    [](std::exception_ptr e) {
                        if (e) ADD_FAILURE() << "request failed";
                    });
            }
            asio::steady_timer t(ex);
            while (*done < kRequests) {
                t.expires_after(5ms);
                co_await t.async_wait(asio::use_awaitable);
            }
            EXPECT_EQ(*ok, kRequests);
            EXPECT_EQ(conn->in_flight(), 0u);
            conn->close();
        });
    }
}

TEST(Connection, TimeoutOrphansIdAndLateResponseIsDropped) {
    FakeServer server([](const RequestInfo& info) {
        Action a = echo(info);
        auto* q = std::get_if<protocol::QueryRequest>(&info.request);
        if (q && q->query == "slow") a.delay = 300ms;
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config(4);
        cfg.max_in_flight = 1;  // the next request must reuse the orphaned id
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        auto slow = query("slow");
        bool timed_out = false;
        auto started = std::chrono::steady_clock::now();
        try {
            co_await conn->send(slow, 50ms);
        } catch (const Timeout&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 250ms);
        EXPECT_EQ(conn->orphans(), 1u);
        // Waits for the id; must get its own answer, not the late "slow".
        auto fast = query("fast");
        EXPECT_EQ(echoed(co_await conn->send(fast, 5s)), "fast");
        EXPECT_EQ(conn->orphans(), 0u);
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
}

TEST(Connection, CancellationAbandonsRequest) {
    using namespace asio::experimental::awaitable_operators;
    FakeServer server([](const RequestInfo& info) {
        Action a = echo(info);
        auto* q = std::get_if<protocol::QueryRequest>(&info.request);
        if (q && q->query == "slow") a.delay = 300ms;
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(5));
        auto slow = query("slow");
        asio::steady_timer timer(ex, 30ms);
        auto started = std::chrono::steady_clock::now();
        auto result = co_await (conn->send(slow, std::nullopt) || timer.async_wait(asio::use_awaitable));
        EXPECT_EQ(result.index(), 1u);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 250ms);
        auto fast = query("fast");
        EXPECT_EQ(echoed(co_await conn->send(fast, 5s)), "fast");
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
}

TEST(Connection, ConnectionLossFailsAllPending) {
    FakeServer server([](const RequestInfo& info) {
        Action a;
        auto* q = std::get_if<protocol::QueryRequest>(&info.request);
        if (q && q->query == "close") a.close = true;
        else a.drop = true;
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(4));
        auto failed = std::make_shared<int>(0);
        for (int i = 0; i < 20; ++i) {
            asio::co_spawn(
                ex,
                [conn]() -> asio::awaitable<void> {
                    auto q = query("hang");
                    co_await conn->send(q, std::nullopt);
                },
                [failed](std::exception_ptr e) {
                    try {
                        if (e) std::rethrow_exception(e);
                    } catch (const ConnectionClosed&) {
                        ++*failed;
                    } catch (...) {
                    }
                });
        }
        asio::steady_timer t(ex, 50ms);
        co_await t.async_wait(asio::use_awaitable);
        bool closed = false;
        try {
            auto q = query("close");
            co_await conn->send(q, 5s);
        } catch (const ConnectionClosed&) {
            closed = true;
        }
        EXPECT_TRUE(closed);
        t.expires_after(20ms);
        co_await t.async_wait(asio::use_awaitable);
        EXPECT_EQ(*failed, 20);
        EXPECT_FALSE(conn->is_open());
        bool rejected = false;
        try {
            auto q = query("after");
            co_await conn->send(q, 5s);
        } catch (const ConnectionClosed&) {
            rejected = true;
        }
        EXPECT_TRUE(rejected);
    });
}

// A broken envelope loses the byte stream: pending requests fail as on a dropped connection
// (ConnectionClosed, which retry policies treat as connection loss), with the ProtocolError as
// the cause.
TEST(Connection, MalformedFrameClosesAsConnectionLossWithProtocolErrorCause) {
    FakeServer server([](const RequestInfo& info) {
        Action a;
        // A response header with an unknown opcode 0x77.
        a.raw = protocol::Bytes{0x84, 0x00, static_cast<std::uint8_t>(info.header.stream >> 8),
                                static_cast<std::uint8_t>(info.header.stream), 0x77, 0, 0, 0, 0};
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(4));
        bool protocol_error = false;
        try {
            auto q = query("ECHO 1");
            co_await conn->send(q, 5s);
        } catch (const ConnectionClosed& e) {
            try {
                if (e.cause()) std::rethrow_exception(e.cause());
            } catch (const ProtocolError& cause) {
                protocol_error = cause.code() == ProtocolErrc::unknown_opcode;
            }
        }
        EXPECT_TRUE(protocol_error);
        EXPECT_FALSE(conn->is_open());
    });
}

TEST(Connection, HeartbeatKeepsIdleConnectionOpen) {
    std::atomic<int> options{0};
    FakeServer server(echo);
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config(5);
        cfg.heartbeat_interval = 30ms;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        asio::steady_timer t(ex, 200ms);
        co_await t.async_wait(asio::use_awaitable);
        EXPECT_TRUE(conn->is_open());
        if (!conn->is_open()) {
            try {
                std::rethrow_exception(conn->close_reason());
            } catch (const std::exception& e) {
                ADD_FAILURE() << "closed: " << e.what();
            }
        }
        auto q = query("x");
        EXPECT_EQ(echoed(co_await conn->send(q, 5s)), "x");
        conn->close();
    });
    (void)options;
}

TEST(Connection, TooManyOrphansClosesTheConnection) {
    FakeServer server([](const RequestInfo&) {
        Action a;
        a.drop = true;  // never answers: every timed-out request stays orphaned
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config(4);
        cfg.max_orphans = 3;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        int timeouts = 0;
        for (int i = 0; i < 3; ++i) {
            try {
                auto q = query("never");
                co_await conn->send(q, 10ms);
            } catch (const Timeout&) {
                ++timeouts;
            }
            EXPECT_EQ(conn->is_open(), i < 2) << i;
        }
        EXPECT_EQ(timeouts, 3);
    });
}

// Back-pressure: a request waiting for a free stream id (all in use) times out with its own
// message and was never sent; the request holding the id is unaffected.
TEST(Connection, TimeoutWhileWaitingForAStreamIdSendsNothing) {
    auto sent = std::make_shared<std::atomic<int>>(0);
    FakeServer server([sent](const RequestInfo& info) {
        Action a = echo(info);
        auto* q = std::get_if<protocol::QueryRequest>(&info.request);
        if (q && q->query != "slow") ++*sent;
        if (q && q->query == "slow") a.delay = 200ms;
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config(5);
        cfg.max_in_flight = 1;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        auto slow_done = std::make_shared<std::string>();
        asio::co_spawn(
            ex,
            [conn, slow_done]() -> asio::awaitable<void> {
                auto q = query("slow");
                *slow_done = echoed(co_await conn->send(q, 5s));
            },
            asio::detached);
        asio::steady_timer t(ex, 20ms);
        co_await t.async_wait(asio::use_awaitable);
        std::string message;
        try {
            auto q = query("queued");
            co_await conn->send(q, 30ms);
        } catch (const Timeout& e) {
            message = e.what();
        }
        EXPECT_NE(message.find("no free stream id"), std::string::npos) << message;
        t.expires_after(300ms);
        co_await t.async_wait(asio::use_awaitable);
        EXPECT_EQ(*slow_done, "slow");
        EXPECT_EQ(sent->load(), 0);
        EXPECT_EQ(conn->orphans(), 0u);
        auto fast = query("fast");
        EXPECT_EQ(echoed(co_await conn->send(fast, 5s)), "fast");
        conn->close();
    });
}

// Cancelling a request that waits for a stream id takes it out of the queue (never sent); the
// requests queued behind it still run, in order.
TEST(Connection, CancelWhileWaitingForAStreamIdLeavesTheQueueWorking) {
    using namespace asio::experimental::awaitable_operators;
    auto order = std::make_shared<std::vector<std::string>>();
    auto mutex = std::make_shared<std::mutex>();
    FakeServer server([order, mutex](const RequestInfo& info) {
        Action a = echo(info);
        auto* q = std::get_if<protocol::QueryRequest>(&info.request);
        if (q) {
            std::lock_guard lock(*mutex);
            order->push_back(std::string(q->query));
            if (q->query == "slow") a.delay = 100ms;
        }
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config(4);
        cfg.max_in_flight = 1;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        auto results = std::make_shared<std::vector<std::string>>();
        for (std::string text : {"slow", "cancelled", "after"}) {
            asio::co_spawn(
                ex,
                [conn, text, results]() -> asio::awaitable<void> {
                    auto q = query(text);
                    if (text == "cancelled") {
                        asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
                        auto r = co_await (conn->send(q, 5s) || timer.async_wait(asio::use_awaitable));
                        results->push_back(r.index() == 1 ? "cancelled:ok" : "cancelled:answered");
                    } else {
                        results->push_back(echoed(co_await conn->send(q, 5s)));
                    }
                },
                asio::detached);
        }
        co_await acass_test::poll_until(ex, [&] { return results->size() >= 3; }, 1s);
        EXPECT_EQ(*results, (std::vector<std::string>{"cancelled:ok", "slow", "after"}));
        {
            std::lock_guard lock(*mutex);
            EXPECT_EQ(*order, (std::vector<std::string>{"slow", "after"}));
        }
        EXPECT_EQ(conn->orphans(), 0u);
        EXPECT_EQ(conn->in_flight(), 0u);
        conn->close();
    });
}

// The requests that the handlers of one burst of answers (one read) issue go out while the burst
// is being handled, in batches, not all after it: the node works on them meanwhile. The server
// holds the answers to kBurst requests and sends them in one write; each answer's handler sends
// a follow-up request. The handler of the last answer waits (blocking the client's only thread)
// until the server has received most of the follow-ups: with writes queued behind a write "in
// flight" whose completion runs only after the burst, it would see a single one.
TEST(Connection, RequestsIssuedDuringABurstOfAnswersAreWrittenDuringIt) {
    constexpr int kBurst = 200;
    for (int version : {4, 5}) {
        auto follow_ups = std::make_shared<std::atomic<int>>(0);
        auto held = std::make_shared<std::vector<std::int16_t>>();  // server thread only
        FakeServer server([=](const RequestInfo& info) {
            auto* q = std::get_if<protocol::QueryRequest>(&info.request);
            if (!q || q->query != "first") {
                ++*follow_ups;
                return echo(info);
            }
            Action a;
            held->push_back(info.header.stream);
            if (held->size() < kBurst) {
                a.drop = true;  // answered below, with the others
                return a;
            }
            protocol::Bytes all;
            for (std::int16_t stream : *held) {
                protocol::Bytes frame;
                protocol::encode_response_frame(frame, static_cast<protocol::ProtocolVersion>(version), stream,
                                                protocol::ResultResponse{protocol::SetKeyspaceResult{"first"}});
                if (version == 5) protocol::encode_segment(all, frame, true, false);
                else all.insert(all.end(), frame.begin(), frame.end());
            }
            held->clear();
            a.raw = std::move(all);
            return a;
        });
        run([&](auto ex) -> asio::awaitable<void> {
            auto cfg = config(version);
            auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
            auto answered = std::make_shared<int>(0);
            auto done = std::make_shared<int>(0);
            auto seen_during_burst = std::make_shared<int>(-1);
            for (int i = 0; i < kBurst; ++i) {
                asio::co_spawn(
                    ex,
                    [=]() -> asio::awaitable<void> {
                        auto first = query("first");
                        EXPECT_EQ(echoed(co_await conn->send(first, 10s)), "first");
                        if (++*answered == kBurst) {
                            // Still inside the burst: every other follow-up has been issued.
                            const auto give_up = std::chrono::steady_clock::now() + 5s;
                            while (follow_ups->load() < kBurst / 2 && std::chrono::steady_clock::now() < give_up)
                                std::this_thread::sleep_for(1ms);
                            *seen_during_burst = follow_ups->load();
                        }
                        const std::string text = "second" + std::to_string(i);
                        auto second = query(text);
                        EXPECT_EQ(echoed(co_await conn->send(second, 10s)), text);
                        ++*done;
                    },
                    [](std::exception_ptr e) {
                        if (e) ADD_FAILURE() << "request failed";
                    });
            }
            co_await acass_test::poll_until(ex, [&] { return *done >= kBurst; }, 10s);
            EXPECT_EQ(*done, kBurst);
            EXPECT_GE(*seen_during_burst, kBurst / 2) << "v" << version;
            conn->close();
        });
    }
}

// Requests far larger than the socket's send buffer: the non-blocking write takes part of a
// batch, the rest goes out asynchronously, and what is queued meanwhile follows in order.
TEST(Connection, RequestsLargerThanTheSocketBufferArriveWholeAndInOrder) {
    FakeServer server(echo);
    for (int version : {4, 5}) {
        run([&](auto ex) -> asio::awaitable<void> {
            auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(version));
            constexpr int kRequests = 40;
            auto ok = std::make_shared<int>(0);
            auto done = std::make_shared<int>(0);
            for (int i = 0; i < kRequests; ++i) {
                asio::co_spawn(
                    ex,
                    [conn, i, ok, done]() -> asio::awaitable<void> {
                        // 100 distinct leading characters, then ~200 KB: tag() names both.
                        std::string text(100, static_cast<char>('a' + i % 26));
                        text += std::to_string(i);
                        text.resize(200'000 + static_cast<std::size_t>(i), 'x');
                        auto q = query(text);
                        auto r = co_await conn->send(q, 30s);
                        if (echoed(r) == tag(text)) ++*ok;
                        ++*done;
                    },
                    [](std::exception_ptr e) {
                        if (e) ADD_FAILURE() << "request failed";
                    });
            }
            co_await acass_test::poll_until(ex, [&] { return *done >= kRequests; }, 30s);
            EXPECT_EQ(*ok, kRequests) << "v" << version;
            conn->close();
        });
    }
}
