// Conformance of one client connection with what real servers send, v4 and v5, against the raw
// scripted peer of raw_server.hpp (every server byte hand-written). Sources of each shape:
//   [spec4]/[spec5] = apache/cassandra doc/native_protocol_v4.spec / native_protocol_v5.spec
//   [ErrorMessage]  = apache/cassandra src/java/org/apache/cassandra/transport/messages/ErrorMessage.java,
//                     ErrorMessage.codec.encode()
//   [ResultMessage] = apache/cassandra .../transport/messages/ResultMessage.java, codec encode()
//   [Event]         = apache/cassandra src/java/org/apache/cassandra/transport/Event.java, serializeEvent()
//   [Frame]         = apache/cassandra src/java/org/apache/cassandra/transport/Envelope.java (Header encode)

#include "conformance/raw_server.hpp"
#include "net/connection.hpp"
#include "net/error_mapping.hpp"
#include "support/run_coroutine.hpp"

#include <async_cassandra/auth.hpp>
#include <async_cassandra/exception_message.hpp>

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <lz4.h>

using namespace async_cassandra;
using namespace conformance;
using namespace std::chrono_literals;
using acass_test::run;

// gtest's ASSERT_* return void: not usable in a coroutine.
#define CO_ASSERT_TRUE(cond)                     \
    do {                                         \
        if (!(cond)) {                           \
            ADD_FAILURE() << "failed: " #cond;   \
            co_return;                           \
        }                                        \
    } while (0)

namespace {

constexpr const char* kLwt = "INSERT INTO ks.t (k, v) VALUES (1, 1) IF NOT EXISTS";

ConnectionConfig config(std::optional<int> version) {
    ConnectionConfig c;
    c.protocol_version = version;
    c.connect_timeout = 5s;
    c.heartbeat_interval.reset();
    return c;
}

protocol::QueryRequest query(std::string_view text) {
    protocol::QueryRequest q;
    q.query = text;
    return q;
}

std::uint8_t resp(int version) { return static_cast<std::uint8_t>(0x80 | version); }

/// Sends `n` queries at once on `conn` and collects each outcome (reply or exception).
struct Outcomes {
    std::vector<std::optional<net::Reply>> replies;
    std::vector<std::exception_ptr> errors;
};
asio::awaitable<Outcomes> send_all(std::shared_ptr<net::Connection> conn, std::vector<std::string> texts) {
    auto ex = co_await asio::this_coro::executor;
    Outcomes out;
    out.replies.resize(texts.size());
    out.errors.resize(texts.size());
    auto done = std::make_shared<std::atomic<std::size_t>>(0);
    auto storage = std::make_shared<std::vector<std::string>>(std::move(texts));
    for (std::size_t i = 0; i < storage->size(); ++i) {
        asio::co_spawn(
            ex,
            [conn, storage, i]() -> asio::awaitable<net::Reply> {
                const protocol::Request q = query((*storage)[i]);
                co_return co_await conn->send(q, 10s);
            },
            [&out, done, i](std::exception_ptr e, net::Reply r) {
                if (e) out.errors[i] = e;
                else out.replies[i] = std::move(r);
                ++*done;
            });
    }
    asio::steady_timer t(ex);
    for (int waited = 0; *done < storage->size() && waited < 2000; ++waited) {
        t.expires_after(5ms);
        co_await t.async_wait(asio::use_awaitable);
    }
    EXPECT_EQ(done->load(), storage->size());
    co_return out;
}

bool is_void(const std::optional<net::Reply>& r) {
    if (!r) return false;
    auto* result = std::get_if<protocol::ResultResponse>(&r->message);
    return result && std::holds_alternative<protocol::VoidResult>(*result);
}

template <class E>
std::optional<E> error_as(const std::exception_ptr& e) {
    try {
        if (e) std::rethrow_exception(e);
    } catch (const E& typed) {
        return typed;
    } catch (...) {
    }
    return std::nullopt;
}

/// The ERROR body of a Paxos commit-phase timeout as Cassandra 4.0-5.0 send it: StorageProxy
/// wraps the commit's WriteTimeoutException (writeType SIMPLE) in a CasWriteTimeoutException,
/// and [ErrorMessage] writes <contentions> after <writeType> for it on v5 only.
Bytes lwt_commit_timeout(int version) {
    Golden g;
    g.i32(0x1100).str("Operation timed out - received only 0 responses.");
    g.u16(0x0004 /* QUORUM */).i32(0).i32(2).str("SIMPLE");
    if (version >= 5) g.u16(3);
    return g.build();
}

class Wire : public ::testing::TestWithParam<int> {};

}  // namespace

// Must show: the LWT WRITE_TIMEOUT shape surfaces as a typed WriteTimeout with the contention
// count while 100 other requests in flight on the same connection all succeed.
TEST_P(Wire, LwtCommitTimeoutFailsOnlyItsRequest) {
    const int v = GetParam();
    RawServer server([&](RawConn& c, int) {
        handshake(c);
        std::vector<Frame> all;
        for (int i = 0; i < 101; ++i) all.push_back(c.read());  // all 101 in flight at once
        for (const auto& f : all)
            if (f.query() == kLwt) c.send(envelope(resp(v), 0, f.stream, kError, lwt_commit_timeout(v)));
        for (const auto& f : all)
            if (f.query() != kLwt) c.send(envelope(resp(v), 0, f.stream, kResult, void_result()));
        for (;;) c.read();
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(v));
        std::vector<std::string> texts(101);
        for (int i = 0; i < 101; ++i) texts[i] = i == 50 ? kLwt : "INSERT INTO ks.t (k, v) VALUES (" + std::to_string(i) + ", 0)";
        Outcomes out = co_await send_all(conn, texts);
        for (int i = 0; i < 101; ++i) {
            if (i == 50) continue;
            EXPECT_FALSE(out.errors[i]) << i;
            EXPECT_TRUE(is_void(out.replies[i])) << i;
        }
        CO_ASSERT_TRUE(out.replies[50]);
        auto* e = std::get_if<protocol::ErrorResponse>(&out.replies[50]->message);
        CO_ASSERT_TRUE(e);
        auto wt = error_as<WriteTimeout>(net::make_server_error(*e));
        CO_ASSERT_TRUE(wt);
        EXPECT_EQ(wt->write_type(), "SIMPLE");
        EXPECT_EQ(wt->consistency(), Consistency::quorum);
        EXPECT_EQ(wt->block_for(), 2);
        EXPECT_EQ(wt->contentions(), v >= 5 ? 3 : 0);
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
}

// [spec4]/[spec5] section 1: "clients should expect ... more data than they know" and ignore it.
// Every response kind with extra bytes after its known fields, handshake included.
TEST_P(Wire, TrailingBytesAfterEveryResponseAreIgnored) {
    const int v = GetParam();
    const Bytes extra = {0xCA, 0xFE, 0x00, 0x01, 0x02};
    auto plus = [&](Bytes b) {
        b.insert(b.end(), extra.begin(), extra.end());
        return b;
    };
    RawServer server([&](RawConn& c, int) {
        for (bool started = false; !started;) {
            Frame f = c.read();
            if (f.opcode == kOptions) c.send(envelope(resp(v), 0, f.stream, kSupported, plus(supported_body())));
            if (f.opcode == kStartup) {
                c.send(envelope(resp(v), 0, f.stream, kReady, extra));  // READY: empty body + extra
                c.framed = v == 5;
                started = true;
            }
        }
        for (;;) {
            Frame f = c.read();
            const std::string q = f.query();
            Bytes body;
            if (q == "void") body = void_result();
            if (q == "rows")  // 4.2.5.2: global spec ks.t, one int column, two rows
                body = Golden().i32(2).i32(0x0001).i32(1).str("ks").str("t").str("v").u16(0x0009).i32(2)
                           .bytes({0, 0, 0, 7}).bytes({0, 0, 0, 8}).build();
            if (q == "use") body = Golden().i32(3).str("ks").build();
            if (q == "schema") body = Golden().i32(5).str("CREATED").str("TABLE").str("ks").str("t").build();
            if (q == "options") body = supported_body();
            const std::uint8_t op = q == "invalid" || q == "unavailable" ? kError : kResult;
            if (q == "invalid") body = Golden().i32(0x2200).str("unconfigured table t").build();
            if (q == "unavailable") body = Golden().i32(0x1000).str("Cannot achieve consistency").u16(4).i32(2).i32(1).build();
            c.send(envelope(resp(v), 0, f.stream, op, plus(body)));
        }
    });
    // The count of ignored bytes goes to a debug log line per response.
    auto debug_lines = std::make_shared<std::vector<std::string>>();
    auto log_mutex = std::make_shared<std::mutex>();
    const net::Logger logger(
        [debug_lines, log_mutex](LogLevel level, std::string_view message) {
            std::lock_guard lock(*log_mutex);
            if (level == LogLevel::debug) debug_lines->emplace_back(message);
        },
        LogLevel::debug);
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(v), logger);
        EXPECT_EQ(static_cast<int>(conn->version()), v);
        const std::vector<std::string> texts1 = {"void", "rows", "use", "schema", "invalid", "unavailable"};
        Outcomes out = co_await send_all(conn, texts1);
        for (auto& e : out.errors) EXPECT_FALSE(e);
        EXPECT_TRUE(is_void(out.replies[0]));
        auto& rows = std::get<protocol::RowsResult>(std::get<protocol::ResultResponse>(out.replies[1]->message));
        EXPECT_EQ(rows.row_count, 2);
        EXPECT_EQ(std::get<protocol::SetKeyspaceResult>(std::get<protocol::ResultResponse>(out.replies[2]->message)).keyspace, "ks");
        EXPECT_EQ(std::get<protocol::SchemaChange>(std::get<protocol::ResultResponse>(out.replies[3]->message)).name, "t");
        EXPECT_EQ(std::get<protocol::ErrorResponse>(out.replies[4]->message).code, ServerErrorCode::invalid);
        EXPECT_EQ(std::get<protocol::ErrorResponse>(out.replies[5]->message).alive, 1);
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
    std::lock_guard lock(*log_mutex);
    std::size_t logged = 0;
    for (const auto& line : *debug_lines) logged += line.find("ignored 5 trailing bytes after the") != std::string::npos;
    // SUPPORTED, READY and the six answers above.
    EXPECT_EQ(logged, 8u);
}

// An intact envelope whose body cannot be decoded fails only its request, with the opcode and
// the reason; a body announcing a cell past its end stays a typed (truncated) error.
TEST_P(Wire, UndecodableBodyFailsOnlyItsRequest) {
    const int v = GetParam();
    RawServer server([&](RawConn& c, int) {
        handshake(c);
        std::vector<Frame> all;
        for (int i = 0; i < 4; ++i) all.push_back(c.read());
        for (const auto& f : all) {
            Bytes body = void_result();
            if (f.query() == "bad-kind") body = Golden().i32(0x7777).build();  // no such result kind
            if (f.query() == "past-end")  // one int cell announcing 1000 bytes (4.2.5.2)
                body = Golden().i32(2).i32(0x0001).i32(1).str("ks").str("t").str("v").u16(0x0009).i32(1).i32(1000).build();
            c.send(envelope(resp(v), 0, f.stream, kResult, body));
        }
        for (;;) c.send(envelope(resp(v), 0, c.read().stream, kResult, void_result()));
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(v));
        const std::vector<std::string> texts2 = {"a", "bad-kind", "past-end", "b"};
        Outcomes out = co_await send_all(conn, texts2);
        EXPECT_TRUE(is_void(out.replies[0]));
        EXPECT_TRUE(is_void(out.replies[3]));
        auto bad_kind = error_as<ResponseDecodeError>(out.errors[1]);
        CO_ASSERT_TRUE(bad_kind);
        EXPECT_EQ(bad_kind->opcode(), 0x08);
        EXPECT_EQ(bad_kind->opcode_name(), "RESULT");
        EXPECT_EQ(bad_kind->code(), ProtocolErrc::invalid_value);
        auto past_end = error_as<ResponseDecodeError>(out.errors[2]);
        CO_ASSERT_TRUE(past_end);
        EXPECT_EQ(past_end->code(), ProtocolErrc::truncated);
        EXPECT_TRUE(conn->is_open());
        // The connection keeps working.
        const std::vector<std::string> texts3 = {"c"};
        Outcomes after = co_await send_all(conn, texts3);
        EXPECT_TRUE(is_void(after.replies[0]));
        conn->close();
    });
}

// Lost byte stream (a response on a stream id with no request; v5: a payload CRC32 mismatch):
// every pending request fails with ConnectionClosed (connection loss for the retry policy),
// carrying the ProtocolError as its cause.
TEST_P(Wire, LostByteStreamClosesAsConnectionLoss) {
    const int v = GetParam();
    for (const bool bad_crc : {false, true}) {
        if (bad_crc && v == 4) continue;
        RawServer server([&](RawConn& c, int) {
            handshake(c);
            std::vector<Frame> all;
            for (int i = 0; i < 3; ++i) all.push_back(c.read());
            const Bytes answer = envelope(resp(v), 0, bad_crc ? all[0].stream : 0x3FFF, kResult, void_result());
            if (bad_crc) c.write(segment(answer, true, /*corrupt_crc=*/true));
            else c.send(answer);
            for (;;) c.read();
        });
        run([&](auto ex) -> asio::awaitable<void> {
            auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(v));
            const std::vector<std::string> texts4 = {"a", "b", "c"};
            Outcomes out = co_await send_all(conn, texts4);
            for (auto& e : out.errors) {
                auto closed = error_as<ConnectionClosed>(e);
                CO_ASSERT_TRUE(closed);
                auto cause = error_as<ProtocolError>(closed->cause());
                CO_ASSERT_TRUE(cause);
                EXPECT_EQ(cause->code(), bad_crc ? ProtocolErrc::bad_checksum : ProtocolErrc::invalid_value);
            }
            EXPECT_FALSE(conn->is_open());
        });
    }
}

// A server that answers one request on the stream id of another request in flight: the protocol
// cannot tell that answer from the right one, but the second answer for the same id, in the same
// read, gives it away. Then no response of that read is trusted: every request fails as on a lost
// connection (retryable), none gets another request's result.
TEST_P(Wire, AnswerOnAnotherRequestsStreamIsNotDelivered) {
    const int v = GetParam();
    RawServer server([&](RawConn& c, int) {
        handshake(c);
        std::vector<Frame> all;
        for (int i = 0; i < 3; ++i) all.push_back(c.read());
        // The answer to the first request on the second's stream id, then the second's own.
        Bytes both = envelope(resp(v), 0, all[1].stream, kResult, void_result());
        const Bytes own = envelope(resp(v), 0, all[1].stream, kResult, void_result());
        both.insert(both.end(), own.begin(), own.end());
        c.send(both);
        for (;;) c.read();
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(v));
        const std::vector<std::string> texts = {"a", "b", "c"};
        Outcomes out = co_await send_all(conn, texts);
        for (std::size_t i = 0; i < texts.size(); ++i) {
            EXPECT_FALSE(out.replies[i]) << "request " << texts[i] << " got a reply";
            EXPECT_TRUE(error_as<ConnectionClosed>(out.errors[i])) << "request " << texts[i];
        }
        EXPECT_FALSE(conn->is_open());
    });
}

// The same mix-up with each answer in its own read, the way acass-server's `wrong_stream` fault
// sends it (an answer on the next stream id, none on its own): nothing later gives it away, so the
// shape of the answer must. A SELECT is answered with Rows ([ResultMessage] Rows for
// SelectStatement), a write with Void or Rows whose first column is `[applied]`
// (ModificationStatement.CAS_RESULT_COLUMN): the SELECT's Rows arriving on the INSERT's stream
// cannot be the INSERT's answer. The connection closes as on a lost byte stream; neither request
// gets the other's result, both fail with ConnectionClosed (retryable), and an idempotent retry
// goes to a fresh connection.
TEST_P(Wire, AnswerOfAnotherShapeInALaterReadIsNotDelivered) {
    const int v = GetParam();
    RawServer server([&](RawConn& c, int) {
        handshake(c);
        std::vector<Frame> all;
        for (int i = 0; i < 3; ++i) all.push_back(c.read());
        for (const auto& f : all)  // the unrelated request is answered properly, in its own read
            if (f.query() == "void") c.send(envelope(resp(v), 0, f.stream, kResult, void_result()));
        std::this_thread::sleep_for(50ms);
        const Frame* select = nullptr;
        const Frame* insert = nullptr;
        for (const auto& f : all) {
            if (f.query().starts_with("SELECT")) select = &f;
            if (f.query().starts_with("INSERT")) insert = &f;
        }
        // 4.2.5.2: ks.t, one varchar column v, one row: the SELECT's answer, on the INSERT's stream.
        const Bytes rows = Golden().i32(2).i32(0x0001).i32(1).str("ks").str("t").str("v").u16(0x000D).i32(1)
                               .bytes({'x'}).build();
        c.send(envelope(resp(v), 0, insert->stream, kResult, rows));
        std::this_thread::sleep_for(50ms);
        c.send(envelope(resp(v), 0, select->stream, kResult, void_result()));  // the INSERT's, misrouted
        for (;;) c.read();
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(v));
        const std::vector<std::string> texts = {"void", "SELECT v FROM ks.t WHERE k = 1",
                                                "INSERT INTO ks.t (k, v) VALUES (2, 'y')"};
        Outcomes out = co_await send_all(conn, texts);
        EXPECT_TRUE(is_void(out.replies[0])) << "answered before the mix-up";
        for (std::size_t i = 1; i < texts.size(); ++i) {
            EXPECT_FALSE(out.replies[i]) << "request '" << texts[i] << "' got another request's answer";
            auto closed = error_as<ConnectionClosed>(out.errors[i]);
            EXPECT_TRUE(closed) << texts[i];
            if (closed) {
                EXPECT_NE(exception_message(closed->cause()).find("stream ids mixed up"), std::string::npos);
            }
        }
        EXPECT_FALSE(conn->is_open());
    });
}

// Several envelopes in one write (v5: one self-contained segment holds them, [spec5] 2.2):
// events on stream -1 ([Event] serializeEvent) around a RESULT; an EVENT we cannot decode is
// dropped without closing the connection.
TEST_P(Wire, PackedEventsAroundAResponse) {
    const int v = GetParam();
    RawServer server([&](RawConn& c, int) {
        handshake(c);
        Frame f = c.read();
        const auto up = Golden().str("STATUS_CHANGE").str("UP").u8(4).raw({127, 0, 0, 2}).i32(9042).build();
        const auto added = Golden().str("TOPOLOGY_CHANGE").str("NEW_NODE").u8(4).raw({127, 0, 0, 3}).i32(9042).build();
        const auto schema = Golden().str("SCHEMA_CHANGE").str("CREATED").str("KEYSPACE").str("ks2").build();
        const auto unknown = Golden().str("FUTURE_CHANGE").str("X").build();
        Bytes packed;
        for (const Bytes& body : {up, unknown, added}) {
            auto e = envelope(resp(v), 0, -1, kEvent, body);
            packed.insert(packed.end(), e.begin(), e.end());
        }
        auto r = envelope(resp(v), 0, f.stream, kResult, void_result());
        packed.insert(packed.end(), r.begin(), r.end());
        auto s = envelope(resp(v), 0, -1, kEvent, schema);
        packed.insert(packed.end(), s.begin(), s.end());
        c.send(packed);  // one segment in v5, one write in v4
        for (;;) c.read();
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(v));
        std::vector<std::string> seen;
        conn->set_event_handler([&](const protocol::EventResponse& e) {
            if (auto* s = std::get_if<protocol::StatusChangeEvent>(&e)) seen.push_back("status " + s->change_type);
            if (auto* t = std::get_if<protocol::TopologyChangeEvent>(&e)) seen.push_back("topology " + t->change_type);
            if (auto* s = std::get_if<protocol::SchemaChange>(&e)) seen.push_back("schema " + s->keyspace);
        });
        const std::vector<std::string> texts5 = {"q"};
        Outcomes out = co_await send_all(conn, texts5);
        EXPECT_TRUE(is_void(out.replies[0]));
        asio::steady_timer t(ex, 100ms);
        co_await t.async_wait(asio::use_awaitable);
        EXPECT_EQ(seen, (std::vector<std::string>{"status UP", "topology NEW_NODE", "schema ks2"}));
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
}

INSTANTIATE_TEST_SUITE_P(V4AndV5, Wire, ::testing::Values(4, 5), [](const auto& info) {
    return "v" + std::to_string(info.param);
});

// v4 section 5: with LZ4 negotiated, a server may flag even an empty READY as compressed: an empty
// body with flag 0x01, or the LZ4 form of nothing (4-byte length 0 + LZ4 block of no input).
TEST(WireV4, CompressedEmptyReady) {
    char block[16];
    const int n = LZ4_compress_default("", block, 0, sizeof block);
    ASSERT_GT(n, 0);
    Bytes lz4_empty = {0, 0, 0, 0};
    lz4_empty.insert(lz4_empty.end(), block, block + n);
    for (const Bytes& ready_body : {Bytes{}, lz4_empty}) {
        RawServer server([&](RawConn& c, int) {
            for (;;) {
                Frame f = c.read();
                if (f.opcode == kOptions) c.send(envelope(0x84, 0, f.stream, kSupported, supported_body(true)));
                if (f.opcode == kStartup) {
                    c.send(envelope(0x84, 0x01, f.stream, kReady, ready_body));
                    break;
                }
            }
            for (;;) c.read();
        });
        run([&](auto ex) -> asio::awaitable<void> {
            auto cfg = config(4);
            cfg.compression = CompressionAlgorithm::lz4;
            auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
            EXPECT_TRUE(conn->is_open());
            conn->close();
        });
    }
}

// ------------------------------------------------------------------ SASL ([spec4] 4.1.2, 4.2.7, 4.2.8)

namespace {

Bytes plain(std::string_view user, std::string_view pass) {
    Bytes t{0};
    t.insert(t.end(), user.begin(), user.end());
    t.push_back(0);
    t.insert(t.end(), pass.begin(), pass.end());
    return t;
}

/// STARTUP -> AUTHENTICATE `server_class`, then `rounds`: the token expected in each
/// AUTH_RESPONSE and the challenge answered (nullopt: AUTH_SUCCESS).
void auth_handshake(RawConn& c, int v, const std::string& server_class,
                    const std::vector<std::pair<Bytes, std::optional<Bytes>>>& rounds) {
    for (;;) {
        Frame f = c.read();
        if (f.opcode == kOptions) c.send(envelope(resp(v), 0, f.stream, kSupported, supported_body()));
        if (f.opcode == kStartup) {
            c.send(envelope(resp(v), 0, f.stream, kAuthenticate, Golden().str(server_class).build()));
            c.framed = v == 5;  // [spec5] 2.3.1: framing starts after AUTHENTICATE
            break;
        }
    }
    for (const auto& [expected, challenge] : rounds) {
        Frame f = c.read();
        if (f.opcode != kAuthResponse) throw std::runtime_error("expected AUTH_RESPONSE");
        if (f.body != Golden().bytes(expected).build()) {
            c.send(envelope(resp(v), 0, f.stream, kError, Golden().i32(0x0100).str("Bad credentials").build()));
            return;
        }
        if (challenge) c.send(envelope(resp(v), 0, f.stream, kAuthChallenge, Golden().bytes(*challenge).build()));
        else c.send(envelope(resp(v), 0, f.stream, kAuthSuccess, Golden().i32(-1).build()));
    }
}

/// A two-step mechanism: sends "hello", answers the challenge "nonce:N" with "proof:N".
class NonceAuthenticator : public Authenticator {
public:
    std::optional<AuthToken> initial_response() override { return AuthToken{'h', 'e', 'l', 'l', 'o'}; }
    std::optional<AuthToken> evaluate_challenge(const std::optional<AuthToken>& challenge) override {
        std::string c(challenge->begin(), challenge->end());
        std::string proof = "proof:" + c.substr(6);
        return AuthToken(proof.begin(), proof.end());
    }
    void on_success(const std::optional<AuthToken>&) override { *succeeded = true; }
    std::shared_ptr<bool> succeeded = std::make_shared<bool>(false);
};
struct NonceProvider : AuthProvider {
    std::unique_ptr<Authenticator> new_authenticator(std::string_view, std::string_view server_class) override {
        classes.emplace_back(server_class);
        auto a = std::make_unique<NonceAuthenticator>();
        succeeded = a->succeeded;
        return a;
    }
    std::vector<std::string> classes;
    std::shared_ptr<bool> succeeded;
};

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

class Sasl : public ::testing::TestWithParam<int> {};

}  // namespace

// Must show: a two-round SASL exchange succeeds (custom mechanism through AuthProvider).
TEST_P(Sasl, TwoRoundExchangeThroughAnAuthProvider) {
    const int v = GetParam();
    RawServer server([&](RawConn& c, int) {
        auth_handshake(c, v, "com.example.NonceAuthenticator",
                       {{bytes_of("hello"), bytes_of("nonce:42")}, {bytes_of("proof:42"), std::nullopt}});
        for (;;) {
            Frame f = c.read();
            c.send(envelope(resp(v), 0, f.stream, kResult, void_result()));
        }
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config(v);
        auto provider = std::make_shared<NonceProvider>();
        cfg.auth_provider = provider;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        EXPECT_EQ(provider->classes, std::vector<std::string>{"com.example.NonceAuthenticator"});
        EXPECT_TRUE(*provider->succeeded);
        const std::vector<std::string> texts6 = {"q"};
        Outcomes out = co_await send_all(conn, texts6);
        EXPECT_TRUE(is_void(out.replies[0]));
        conn->close();
    });
    EXPECT_TRUE(server.errors().empty());
}

// DSE's DseAuthenticator with PLAIN: mechanism name, "PLAIN-START" challenge, credentials.
TEST_P(Sasl, DseAuthenticatorPlainInTwoRounds) {
    const int v = GetParam();
    RawServer server([&](RawConn& c, int) {
        auth_handshake(c, v, "com.datastax.bdp.cassandra.auth.DseAuthenticator",
                       {{bytes_of("PLAIN"), bytes_of("PLAIN-START")}, {plain("alice", "s3cret"), std::nullopt}});
        for (;;) c.read();
    });
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = config(v);
        cfg.auth = PlainTextAuth{"alice", "s3cret"};
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
}

// Scylla's TransitionalAuthenticator (and Cassandra's PasswordAuthenticator) take PLAIN at once.
TEST_P(Sasl, ScyllaTransitionalAuthenticatorPlain) {
    const int v = GetParam();
    for (const char* cls : {"com.scylladb.auth.TransitionalAuthenticator", "org.apache.cassandra.auth.PasswordAuthenticator"}) {
        EXPECT_TRUE(is_plain_text_authenticator(cls));
        RawServer server([&](RawConn& c, int) {
            auth_handshake(c, v, cls, {{plain("bob", "pw"), std::nullopt}});
            for (;;) c.read();
        });
        run([&](auto ex) -> asio::awaitable<void> {
            auto cfg = config(v);
            cfg.auth = PlainTextAuth{"bob", "pw"};
            auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
            EXPECT_TRUE(conn->is_open());
            conn->close();
        });
    }
}

INSTANTIATE_TEST_SUITE_P(V4AndV5, Sasl, ::testing::Values(4, 5), [](const auto& info) {
    return "v" + std::to_string(info.param);
});

// ------------------------------------------------------------------ version negotiation

namespace {

/// A v4-only server whose answer to a v5 first frame is `refuse` (bytes, then close).
RawServer v4_only(Bytes refuse) {
    return RawServer([refuse](RawConn& c, int) {
        Frame first = c.read();
        if ((first.version & 0x7F) != 4) {
            if (!refuse.empty()) c.write(refuse);
            c.close();
            return;
        }
        c.send(envelope(0x84, 0, first.stream, kSupported, supported_body()));
        for (;;) {
            Frame f = c.read();
            if (f.opcode == kStartup) c.send(envelope(0x84, 0, f.stream, kReady, {}));
            else if (f.opcode == kOptions) c.send(envelope(0x84, 0, f.stream, kSupported, supported_body()));
            else c.send(envelope(0x84, 0, f.stream, kResult, void_result()));
        }
    });
}

}  // namespace

// Must show: a v5-closing server gets a v4 connection. Also: garbage in answer to the v5 frame,
// ScyllaDB's refusal (version byte 0x84, stream 0, "Invalid or unsupported protocol version: 5",
// then close; scylladb/scylladb transport/server.cc) and Cassandra 3.11's (0x85, "Beta version of
// the protocol used (5/v5-beta), but USE_BETA flag is unset"; [Frame] decoder of 3.11).
TEST(Negotiation, FallsBackToV4OnCloseGarbageAndRefusals) {
    const std::string http = "HTTP/1.1 400 Bad Request\r\n\r\n";
    const std::vector<std::pair<std::string, Bytes>> cases = {
        {"close", {}},
        {"garbage", Bytes(http.begin(), http.end())},
        {"scylla", envelope(0x84, 0, 0, kError,
                            Golden().i32(0x000A).str("Invalid or unsupported protocol version: 5").build())},
        {"cassandra-3.11",
         envelope(0x85, 0, 0, kError,
                  Golden().i32(0x000A).str("Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset").build())},
    };
    for (const auto& [name, refuse] : cases) {
        RawServer server = v4_only(refuse);
        run([&](auto ex) -> asio::awaitable<void> {
            auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(std::nullopt));
            EXPECT_EQ(conn->version(), protocol::ProtocolVersion::v4) << name;
            const std::vector<std::string> texts7 = {"q"};
            Outcomes out = co_await send_all(conn, texts7);
            EXPECT_TRUE(is_void(out.replies[0])) << name;
            conn->close();
        });
        EXPECT_EQ(server.connections(), 2) << name;
    }
}

// An explicit version is honoured: no fallback, one attempt.
TEST(Negotiation, ExplicitVersionIsNotDowngraded) {
    RawServer server = v4_only({});
    bool failed = false;
    run([&](auto ex) -> asio::awaitable<void> {
        try {
            co_await net::Connection::open(ex, "127.0.0.1", server.port(), config(5));
        } catch (const ConnectionClosed&) {
            failed = true;
        }
    });
    EXPECT_TRUE(failed);
    EXPECT_EQ(server.connections(), 1);
}
