// Fuzz target for the client connection's read path (issue 17): a valid handshake, then arbitrary
// server bytes. The fake transport is a tiny peer coroutine on a loopback socket in the same
// io_context (net::Connection owns a TCP socket; there is no other seam to feed it bytes).
// The peer answers OPTIONS and STARTUP, waits until the client's three QUERY requests arrived
// (so that responses in the input meet requests in flight on streams 0..2), writes the input, and
// shuts its sending side down, so the client always sees the end of the stream after the input.
// Whatever the bytes, each request must end with a reply or an async_cassandra::Error, and the
// connection must end closed with no request left in flight: never a crash (ASan/UBSan), another
// exception, or a hang; and a reply that is delivered always has a shape that can answer its
// request (SELECT / INSERT / USE in flight: protocol::response_mismatch).
//
// Input: byte 0 selects the mode: bit 0 = protocol v5 (else v4); bit 1 = v5 only: send the rest
// as is (else wrapped into valid self-contained segments, so that the fuzzer reaches the
// envelopes behind the CRCs). The rest is what the server sends after the three requests.

#include "fuzz_fail.hpp"
#include "net/connection.hpp"
#include "protocol/expected_response.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"
#include "protocol/segment.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace async_cassandra;
namespace p = async_cassandra::protocol;
using namespace std::chrono_literals;

using acass_fuzz::fail;

namespace {

constexpr int kRequests = 3;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

p::Bytes response_frame(p::ProtocolVersion version, std::int16_t stream, const p::Response& message) {
    p::Bytes out;
    p::encode_response_frame(out, version, stream, message);
    return out;
}

// The peer: handshake, wait for the requests, send `tail`, end the stream, drain until the client
// closes.
asio::awaitable<void> peer(asio::ip::tcp::acceptor& acceptor, p::ProtocolVersion version, bool wrap, p::Bytes tail) {
    auto [aec, socket] = co_await acceptor.async_accept(use_tuple);
    if (aec) co_return;
    p::FrameDecoder decoder;
    p::Bytes buf(4096);
    int queries = 0;
    bool ready_sent = false;
    while (queries < kRequests) {
        auto [rec, n] = co_await socket.async_read_some(asio::buffer(buf), use_tuple);
        if (rec) co_return;
        decoder.feed(p::BytesView(buf.data(), n));
        while (auto env = decoder.next()) {
            if (ready_sent) {
                ++queries;
                continue;
            }
            p::Bytes out;
            if (env->header.opcode == p::Opcode::options) {
                p::SupportedResponse supported;
                supported.options["CQL_VERSION"] = {"3.0.0"};
                out = response_frame(version, env->header.stream, supported);
            } else {
                out = response_frame(version, env->header.stream, p::ReadyResponse{});
                ready_sent = true;
                // v5: what follows READY is framed (native_protocol_v5.spec 2.3.1).
                if (version == p::ProtocolVersion::v5) decoder.enable_segments(p::Compression::none);
            }
            auto [wec, written] = co_await asio::async_write(socket, asio::buffer(out), use_tuple);
            if (wec) co_return;
        }
    }
    p::Bytes out;
    if (version == p::ProtocolVersion::v5 && wrap) {
        for (std::size_t at = 0; at < tail.size(); at += p::kMaxSegmentPayload)
            p::encode_segment(out, p::BytesView(tail).subspan(at, std::min(p::kMaxSegmentPayload, tail.size() - at)),
                              true, false);
    } else {
        out = std::move(tail);
    }
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(out), use_tuple);
    if (wec) co_return;
    std::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    for (;;) {
        auto [rec, n] = co_await socket.async_read_some(asio::buffer(buf), use_tuple);
        if (rec) co_return;
    }
}

// The requests in flight: statements of different kinds, so that answers of every shape meet a
// request they can answer and one they cannot (protocol::response_mismatch).
constexpr const char* kQueries[kRequests] = {"SELECT * FROM ks.t", "INSERT INTO ks.t (k) VALUES (1)", "USE ks"};

// One request; counts itself in `finished` whatever the outcome, aborts on an untyped exception
// and on a delivered reply that cannot answer the request (stream id mix-ups are never delivered).
asio::awaitable<void> one_request(std::shared_ptr<net::Connection> conn, int index, int& finished) {
    p::QueryRequest query;
    query.query = kQueries[index];
    const p::Request request = query;
    try {
        net::Reply reply = co_await conn->send(request, 2s);
        if (p::response_mismatch(p::expected_response(request), reply.message))
            fail("a reply that cannot answer its request was delivered");
    } catch (const Error&) {
    } catch (...) {
        fail("a request ended with an exception that is not an async_cassandra::Error");
    }
    ++finished;
}

void run_one(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return;
    const auto version = (data[0] & 1) ? p::ProtocolVersion::v5 : p::ProtocolVersion::v4;
    const bool wrap = (data[0] & 2) == 0;
    p::Bytes tail(data + 1, data + size);

    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    asio::co_spawn(io, peer(acceptor, version, wrap, std::move(tail)), asio::detached);

    int finished = 0;
    std::shared_ptr<net::Connection> conn;
    auto client = [&]() -> asio::awaitable<void> {
        ConnectionConfig config;
        config.protocol_version = static_cast<int>(version);
        config.connect_timeout = 5s;
        config.heartbeat_interval.reset();
        config.max_body_size = 1 << 20;
        try {
            conn = co_await net::Connection::open(io.get_executor(), "127.0.0.1", port, config);
        } catch (...) {
            fail("the valid handshake did not open the connection");
        }
        conn->set_event_handler([](const p::EventResponse&) {});
        for (int i = 0; i < kRequests; ++i) asio::co_spawn(io, one_request(conn, i, finished), asio::detached);
    };
    asio::co_spawn(io, client(), asio::detached);
    // Everything ends by itself once the client saw the end of the stream; the bound catches a hang.
    io.run_for(10s);
    if (!conn) fail("the valid handshake did not open the connection");
    if (finished != kRequests) fail("a request neither completed nor failed (hang)");
    if (conn->is_open()) fail("the connection is still open after the server ended the stream");
    if (conn->in_flight() != 0) fail("a stream id is still in flight after the connection closed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    run_one(data, size);
    return 0;
}
