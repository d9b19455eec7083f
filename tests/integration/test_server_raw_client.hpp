// A deliberately dumb, blocking CQL client for the front-end tests of acass-server: it speaks
// through the shared protocol codec (FrameEncoder/FrameDecoder, encode_request/decode_response)
// and nothing else, so a test sees exactly the frames the server sent.
#pragma once

#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"

#include <asio.hpp>
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace acass_test {

namespace p = async_cassandra::protocol;

struct Received {
    p::FrameHeader header;
    p::BodyPrefix prefix;
    p::Response response;
    /// The decoded body: rows, strings and bytes in `response` and `prefix` are views into it.
    std::shared_ptr<p::Bytes> body;
};

class RawClient {
public:
    RawClient(const std::string& host, std::uint16_t port)
        : io_(std::make_unique<asio::io_context>()), socket_(*io_) {
        socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
        socket_.set_option(asio::ip::tcp::no_delay(true));
    }

    /// Encodes and sends one request (through segments once enable_segments() was called).
    void send(p::ProtocolVersion v, std::int16_t stream, const p::Request& req, std::uint8_t flags = 0) {
        p::Bytes out;
        queue(out, v, stream, req, flags);
        send_raw(out);
    }
    /// Appends one request to `out` without sending (for pipelining many in one write).
    void queue(p::Bytes& out, p::ProtocolVersion v, std::int16_t stream, const p::Request& req,
               std::uint8_t flags = 0) {
        p::FrameHeader h;
        h.version = static_cast<std::uint8_t>(v);
        h.flags = flags;
        h.stream = stream;
        h.opcode = p::opcode_of(req);
        p::Bytes& buf = encoder_.begin_envelope(out, h);
        p::ByteWriter w(buf);
        p::encode_request(w, req, v);
        encoder_.end_envelope();
        encoder_.flush(out);
    }
    void send_raw(p::BytesView bytes) { asio::write(socket_, asio::buffer(bytes.data(), bytes.size())); }

    /// Next envelope, or nullopt if the server closed the connection. Fails the test on timeout.
    std::optional<p::Envelope> read_envelope(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto env = decoder_.next()) return env;
            if (eof_) return std::nullopt;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) throw std::runtime_error("timed out waiting for a frame");
            pollfd pfd{socket_.native_handle(), POLLIN, 0};
            int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
            if (r == 0) throw std::runtime_error("timed out waiting for a frame");
            auto span = decoder_.prepare();
            asio::error_code ec;
            std::size_t n = socket_.read_some(asio::buffer(span.data(), span.size()), ec);
            if (ec) {
                eof_ = true;
                decoder_.commit(0);
                continue;
            }
            decoder_.commit(n);
        }
    }

    /// Next response, decoded. Fails the test if the connection closed instead.
    Received read(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto env = read_envelope(timeout);
        if (!env) throw std::runtime_error("connection closed by the server");
        Received r;
        r.header = env->header;
        r.body = env->storage;
        p::ByteReader in(env->body_view());
        r.prefix = p::decode_body_prefix(in, env->header.flags, true);
        r.response = p::decode_response(env->header.opcode, in.rest(),
                                        static_cast<p::ProtocolVersion>(env->header.version));
        return r;
    }

    /// True if the server closes the connection within `timeout` (pending frames are skipped).
    bool closed_within(std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        try {
            while (std::chrono::steady_clock::now() < deadline) {
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
                if (!read_envelope(left)) return true;
            }
        } catch (const async_cassandra::ProtocolError&) {
            // Garbage followed by the end of the stream also counts as closed.
            return wait_eof(deadline);
        } catch (const std::runtime_error&) {
            return false;
        }
        return false;
    }

    /// Reads raw bytes until EOF or the deadline; true on EOF.
    bool wait_eof(std::chrono::steady_clock::time_point deadline) {
        std::uint8_t buf[4096];
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd pfd{socket_.native_handle(), POLLIN, 0};
            if (::poll(&pfd, 1, static_cast<int>(left.count())) == 0) return false;
            asio::error_code ec;
            socket_.read_some(asio::buffer(buf), ec);
            if (ec) return true;
        }
    }

    /// OPTIONS is optional; STARTUP with `compression`, then READY (or the auth exchange).
    void startup(p::ProtocolVersion v, p::Compression compression = p::Compression::none,
                 const std::optional<std::pair<std::string, std::string>>& creds = std::nullopt) {
        p::StartupRequest s;
        s.options["CQL_VERSION"] = "3.0.0";
        if (compression != p::Compression::none) s.options["COMPRESSION"] = std::string(p::to_string(compression));
        send(v, 1, s);
        auto r = read();
        if (creds) {
            ASSERT_TRUE(std::holds_alternative<p::AuthenticateResponse>(r.response));
        } else {
            ASSERT_TRUE(std::holds_alternative<p::ReadyResponse>(r.response));
        }
        switch_framing(v, compression);
        if (creds) {
            std::string token = std::string(1, '\0') + creds->first + std::string(1, '\0') + creds->second;
            send(v, 2, p::AuthResponseRequest{p::Bytes(token.begin(), token.end())});
            auto a = read();
            ASSERT_TRUE(std::holds_alternative<p::AuthSuccessResponse>(a.response));
        }
    }
    /// After READY/AUTHENTICATE: v5 segments or v4 body compression, as the server does.
    void switch_framing(p::ProtocolVersion v, p::Compression compression) {
        if (v == p::ProtocolVersion::v5) {
            encoder_.enable_segments(compression);
            decoder_.enable_segments(compression);
        } else {
            encoder_.set_compression(compression);
            decoder_.set_compression(compression);
        }
    }

    p::FrameDecoder& decoder() { return decoder_; }
    asio::ip::tcp::socket& socket() { return socket_; }

private:
    std::unique_ptr<asio::io_context> io_;  // on the heap so that the client can move
    asio::ip::tcp::socket socket_;
    p::FrameEncoder encoder_;
    p::FrameDecoder decoder_;
    bool eof_ = false;
};

template <class T>
const T& as(const Received& r) {
    if (auto* e = std::get_if<p::ErrorResponse>(&r.response))
        throw std::runtime_error("server error " + std::to_string(static_cast<int>(e->code)) + ": " + e->message);
    return std::get<T>(r.response);
}

inline const p::ErrorResponse& as_error(const Received& r) {
    if (!std::holds_alternative<p::ErrorResponse>(r.response)) throw std::runtime_error("expected an ERROR");
    return std::get<p::ErrorResponse>(r.response);
}

inline p::QueryRequest query(std::string_view text) {
    p::QueryRequest q;
    q.query = text;
    q.params.consistency = async_cassandra::Consistency::one;
    return q;
}

}  // namespace acass_test
