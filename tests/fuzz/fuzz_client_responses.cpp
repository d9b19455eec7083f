// Fuzz target for the client connection's read path (issue 17): a valid handshake, then arbitrary
// server bytes, over a loopback socket pair in one io_context (the fake transport: a tiny peer
// coroutine). Whatever the bytes, the three requests in flight must each end with a reply or an
// async_cassandra::Error, within a bounded time: never a crash (ASan/UBSan), another exception,
// or a hang.
//
// Input: byte 0 selects the mode: bit 0 = protocol v5 (else v4); bit 1 = v5 only: send the rest
// as is (else wrapped into valid self-contained segments, so that the fuzzer reaches the
// envelopes behind the CRCs). The rest is what the server sends after READY.
// GCC 12 reports a false -Wmismatched-new-delete on Asio's awaitable frame allocator.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include "net/connection.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"
#include "protocol/segment.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace async_cassandra;
namespace p = async_cassandra::protocol;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_client_responses: %s\n", what);
    std::abort();
}

// The peer: answers OPTIONS and STARTUP, then writes `tail` and closes after a short while.
asio::awaitable<void> peer(asio::ip::tcp::acceptor& acceptor, p::ProtocolVersion version, bool wrap, p::Bytes tail) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    p::FrameDecoder decoder;
    p::Bytes buf(4096);
    for (int answered = 0; answered < 2;) {
        std::size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::use_awaitable);
        decoder.feed(p::BytesView(buf.data(), n));
        while (auto env = decoder.next()) {
            p::Bytes out;
            if (env->header.opcode == p::Opcode::options) {
                p::SupportedResponse s;
                s.options["CQL_VERSION"] = {"3.0.0"};
                p::encode_response_frame(out, version, env->header.stream, s);
            } else {
                p::encode_response_frame(out, version, env->header.stream, p::ReadyResponse{});
            }
            co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
            ++answered;
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
    co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
    asio::steady_timer linger(socket.get_executor(), 20ms);
    co_await linger.async_wait(asio::use_awaitable);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto version = (data[0] & 1) ? p::ProtocolVersion::v5 : p::ProtocolVersion::v4;
    const bool wrap = (data[0] & 2) == 0;
    p::Bytes tail(data + 1, data + size);

    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    asio::co_spawn(io, peer(acceptor, version, wrap, std::move(tail)), asio::detached);

    int finished = 0;
    bool opened = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            ConnectionConfig config;
            config.protocol_version = static_cast<int>(version);
            config.connect_timeout = 2s;
            config.heartbeat_interval.reset();
            config.max_body_size = 1 << 20;
            auto conn = co_await net::Connection::open(io.get_executor(), "127.0.0.1", port, config);
            opened = true;
            conn->set_event_handler([](const p::EventResponse&) {});
            for (int i = 0; i < 3; ++i) {
                asio::co_spawn(
                    io,
                    [conn, &finished]() -> asio::awaitable<void> {
                        p::QueryRequest q;
                        q.query = "SELECT * FROM ks.t";
                        const p::Request request = q;
                        try {
                            net::Reply r = co_await conn->send(request, 500ms);
                            (void)r;
                        } catch (const Error&) {
                        }
                        ++finished;
                    },
                    [](std::exception_ptr e) {
                        if (e) fail("a request ended with an exception that is not an async_cassandra::Error");
                    });
            }
        },
        [](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const Error&) {
            } catch (...) {
                fail("open() failed with an exception that is not an async_cassandra::Error");
            }
        });
    io.run_for(5s);
    if (!opened) fail("the valid handshake did not open the connection");
    if (finished != 3) fail("a request neither completed nor failed within its timeout (hang)");
    return 0;
}
