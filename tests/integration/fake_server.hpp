// A tiny scripted CQL server for client tests: an Asio acceptor on 127.0.0.1 (free port) run by
// its own thread. It speaks the handshake (version refusal, OPTIONS/SUPPORTED, STARTUP,
// SASL PLAIN, v4 compression, v5 segments) and passes every other request to a test-supplied
// handler that decides the answer: a response, a delay, raw bytes, or closing the socket.
#pragma once

#include "net/framing.hpp"
#include "protocol/compression.hpp"
#include "protocol/messages.hpp"
#include "protocol/segment.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace async_cassandra::testing {

/// What the server does with one request. An Action with nothing set is answered with a
/// ServerError naming the request (a gap in the test's script shows up at once, as an error,
/// instead of as a request that waits for its timeout); `drop` is the way to never answer.
struct Action {
    std::optional<protocol::Response> response;   ///< sent on the request's stream
    std::chrono::milliseconds delay{0};            ///< before sending
    std::optional<protocol::Bytes> raw;            ///< bytes sent instead of a response (unframed)
    /// One whole envelope (header + body) written by the test: sent as is in v4, in one
    /// self-contained segment once v5 framing is on.
    std::optional<protocol::Bytes> raw_envelope;
    bool close = false;                            ///< close the connection instead of answering
    bool drop = false;                             ///< never answer (on purpose)
    std::shared_ptr<protocol::Bytes> storage;      ///< keeps bytes viewed by `response` alive
};

struct RequestInfo {
    protocol::FrameHeader header;
    protocol::Request request;  ///< views into `body`
    std::shared_ptr<protocol::Bytes> body;
    int connection = 0;  ///< 1-based connection number
};

struct FakeServerOptions {
    std::vector<int> versions = {4, 5};
    std::optional<std::pair<std::string, std::string>> auth;  ///< user, password
    std::vector<std::string> compression = {"lz4", "snappy"};
    /// TLS with this PEM certificate chain and private key files.
    std::optional<std::pair<std::string, std::string>> tls;
};

class FakeServer {
public:
    using Handler = std::function<Action(const RequestInfo&)>;
    using Options = FakeServerOptions;

    explicit FakeServer(Handler handler, Options options = {})
        : handler_(std::move(handler)), options_(std::move(options)), acceptor_(io_) {
        if (options_.tls) {
            tls_context_.use_certificate_chain_file(options_.tls->first);
            tls_context_.use_private_key_file(options_.tls->second, asio::ssl::context::pem);
        }
        asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~FakeServer() { stop(); }

    void stop() {
        if (stopped_.exchange(true)) return;
        asio::post(io_, [this] {
            std::error_code ec;
            acceptor_.close(ec);
            for (auto& weak : sessions_)
                if (auto s = weak.lock()) s->close();
            io_.stop();
        });
        thread_.join();
    }

    std::uint16_t port() const { return port_; }
    int connections() const { return connections_.load(); }
    /// Closes every open client connection (simulates a node dropping them).
    void drop_connections() {
        asio::post(io_, [this] {
            for (auto& weak : sessions_)
                if (auto s = weak.lock()) s->close();
        });
    }

private:
    struct Session : std::enable_shared_from_this<Session> {
        Session(FakeServer& server, asio::ip::tcp::socket socket, int number)
            : server_(server), socket_(std::move(socket)), signal_(socket_.get_executor()), number_(number) {}

        void close() {
            std::error_code ec;
            closed_ = true;
            socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
            socket_.close(ec);
            signal_.cancel();
        }

        asio::awaitable<void> run() {
            auto self = shared_from_this();
            constexpr auto tuple = asio::experimental::as_tuple(asio::use_awaitable);
            if (server_.options_.tls) {
                tls_.emplace(socket_, server_.tls_context_);
                auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, tuple);
                if (hec) {
                    close();
                    co_return;
                }
            }
            asio::co_spawn(socket_.get_executor(), write_loop(), asio::detached);
            std::vector<std::uint8_t> buf(65536);
            try {
                for (;;) {
                    std::error_code ec;
                    std::size_t n = 0;
                    if (tls_) std::tie(ec, n) = co_await tls_->async_read_some(asio::buffer(buf), tuple);
                    else std::tie(ec, n) = co_await socket_.async_read_some(asio::buffer(buf), tuple);
                    if (ec) break;
                    reader_.feed(protocol::BytesView(buf.data(), n));
                    while (auto env = reader_.next()) handle(std::move(*env));
                }
            } catch (const std::exception& e) {
                last_error = e.what();
                if (std::getenv("FAKE_SERVER_DEBUG")) std::fprintf(stderr, "fake server: %s\n", e.what());
            }
            close();
        }

        void handle(protocol::Envelope env) {
            const std::int16_t stream = env.header.stream;
            const int v = env.header.version;
            bool supported = false;
            for (int s : server_.options_.versions) supported |= s == v;
            if (!negotiated_ && !supported) {
                protocol::ErrorResponse e;
                e.code = ServerErrorCode::protocol_error;
                e.message = "Invalid or unsupported protocol version (" + std::to_string(v) + ")";
                send(stream, e, static_cast<protocol::ProtocolVersion>(server_.options_.versions.back()));
                return;
            }
            version_ = static_cast<protocol::ProtocolVersion>(v);
            auto request = protocol::decode_request(env.header.opcode, env.body, version_);
            if (std::holds_alternative<protocol::OptionsRequest>(request)) {
                protocol::SupportedResponse s;
                s.options["CQL_VERSION"] = {"3.0.0"};
                s.options["COMPRESSION"] = server_.options_.compression;
                send(stream, s);
                return;
            }
            if (auto* st = std::get_if<protocol::StartupRequest>(&request)) {
                negotiated_ = true;
                startup_options_ = st->options;
                auto it = st->options.find("COMPRESSION");
                if (it != st->options.end())
                    compression_ = *protocol::compression_from_name(it->second);
                if (version_ == protocol::ProtocolVersion::v5)
                    reader_.enable_segments(compression_ == protocol::Compression::lz4 ? protocol::Compression::lz4
                                                                                        : protocol::Compression::none);
                else
                    reader_.set_compression(compression_);
                if (server_.options_.auth) {
                    send(stream, protocol::AuthenticateResponse{"org.apache.cassandra.auth.PasswordAuthenticator"});
                } else {
                    send(stream, protocol::ReadyResponse{});
                }
                framed_ = version_ == protocol::ProtocolVersion::v5;
                return;
            }
            if (auto* a = std::get_if<protocol::AuthResponseRequest>(&request)) {
                protocol::Bytes expected{0};
                const auto& [user, pass] = *server_.options_.auth;
                expected.insert(expected.end(), user.begin(), user.end());
                expected.push_back(0);
                expected.insert(expected.end(), pass.begin(), pass.end());
                if (a->token && *a->token == expected) {
                    send(stream, protocol::AuthSuccessResponse{});
                } else {
                    protocol::ErrorResponse e;
                    e.code = ServerErrorCode::bad_credentials;
                    e.message = "Provided username and/or password are incorrect";
                    send(stream, e);
                }
                return;
            }
            if (std::holds_alternative<protocol::RegisterRequest>(request)) {
                // Every node answers REGISTER with READY (spec 4.1.8); the control connection
                // waits for it before reading the topology.
                send(stream, protocol::ReadyResponse{});
                return;
            }
            RequestInfo info{env.header, request, env.storage, number_};
            Action action = server_.handler_(info);
            if (action.drop) return;
            if (!action.response && !action.raw && !action.raw_envelope && !action.close) {
                protocol::ErrorResponse e;
                e.code = ServerErrorCode::server_error;
                e.message = "fake server: the test's handler has no answer for opcode " +
                            std::to_string(static_cast<int>(env.header.opcode));
                action.response = std::move(e);
            }
            if (action.delay.count() == 0) {
                perform(stream, std::move(action));
                return;
            }
            auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), action.delay);
            auto self = shared_from_this();
            timer->async_wait([self, timer, stream, action = std::move(action)](std::error_code) mutable {
                self->perform(stream, std::move(action));
            });
        }

        void perform(std::int16_t stream, Action action) {
            if (action.close) {
                close();
                return;
            }
            if (action.raw) {
                out_.insert(out_.end(), action.raw->begin(), action.raw->end());
                signal_.cancel();
                return;
            }
            if (action.raw_envelope) {
                if (framed_) protocol::encode_segment(out_, *action.raw_envelope, true, compression_ == protocol::Compression::lz4);
                else out_.insert(out_.end(), action.raw_envelope->begin(), action.raw_envelope->end());
                signal_.cancel();
                return;
            }
            if (action.response) send(stream, *action.response);
        }

        void send(std::int16_t stream, const protocol::Response& response) { send(stream, response, version_); }

        void send(std::int16_t stream, const protocol::Response& response, protocol::ProtocolVersion version) {
            protocol::Bytes frame;
            protocol::encode_response_frame(frame, version, stream, response);
            if (framed_) {
                protocol::BytesView all(frame);
                bool lz4 = compression_ == protocol::Compression::lz4;
                if (all.size() <= protocol::kMaxSegmentPayload) {
                    protocol::encode_segment(out_, all, true, lz4);
                } else {
                    for (std::size_t at = 0; at < all.size(); at += protocol::kMaxSegmentPayload)
                        protocol::encode_segment(
                            out_, all.subspan(at, std::min(protocol::kMaxSegmentPayload, all.size() - at)), false,
                            lz4);
                }
            } else if (negotiated_ && version == protocol::ProtocolVersion::v4 &&
                       compression_ != protocol::Compression::none) {
                protocol::Bytes body;
                protocol::compress_body(compression_, protocol::BytesView(frame).subspan(protocol::kFrameHeaderSize),
                                        body);
                frame[1] |= protocol::frame_flags::compression;
                protocol::ByteWriter w(frame);
                w.patch_i32(5, static_cast<std::int32_t>(body.size()));
                out_.insert(out_.end(), frame.begin(), frame.begin() + protocol::kFrameHeaderSize);
                out_.insert(out_.end(), body.begin(), body.end());
            } else {
                out_.insert(out_.end(), frame.begin(), frame.end());
            }
            signal_.cancel();
        }

        asio::awaitable<void> write_loop() {
            auto self = shared_from_this();
            protocol::Bytes writing;
            for (;;) {
                if (out_.empty()) {
                    if (closed_) break;
                    signal_.expires_at(std::chrono::steady_clock::time_point::max());
                    co_await signal_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
                    if (closed_) break;
                    continue;
                }
                writing.swap(out_);
                out_.clear();
                constexpr auto tuple = asio::experimental::as_tuple(asio::use_awaitable);
                std::error_code ec;
                if (tls_) std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, asio::buffer(writing), tuple);
                else std::tie(ec, std::ignore) = co_await asio::async_write(socket_, asio::buffer(writing), tuple);
                if (ec) break;
            }
        }

        FakeServer& server_;
        asio::ip::tcp::socket socket_;
        std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
        bool closed_ = false;
        asio::steady_timer signal_;
        int number_;
        protocol::FrameDecoder reader_;
        protocol::Bytes out_;
        protocol::ProtocolVersion version_ = protocol::ProtocolVersion::v4;
        bool negotiated_ = false;
        bool framed_ = false;
        protocol::Compression compression_ = protocol::Compression::none;
        std::map<std::string, std::string> startup_options_;
        std::string last_error;
    };

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(asio::experimental::as_tuple(asio::use_awaitable));
            if (ec) break;
            socket.set_option(asio::ip::tcp::no_delay(true));
            auto s = std::make_shared<Session>(*this, std::move(socket), ++connections_);
            sessions_.push_back(s);
            asio::co_spawn(io_, s->run(), asio::detached);
        }
    }

    Handler handler_;
    Options options_;
    asio::io_context io_;
    asio::ssl::context tls_context_{asio::ssl::context::tls_server};
    asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stopped_{false};
    std::atomic<int> connections_{0};
    std::vector<std::weak_ptr<Session>> sessions_;
};

/// A Rows result with one text column "v" holding `values` (for handlers).
inline protocol::Response text_rows(const std::vector<std::string>& values, std::shared_ptr<protocol::Bytes>& storage,
                                    std::optional<protocol::Bytes> paging_state = std::nullopt) {
    storage = std::make_shared<protocol::Bytes>();
    protocol::ByteWriter w(*storage);
    for (const auto& v : values) w.write_bytes(protocol::BytesView(reinterpret_cast<const std::uint8_t*>(v.data()), v.size()));
    protocol::RowsResult rows;
    rows.metadata.column_count = 1;
    rows.metadata.paging_state = std::move(paging_state);
    rows.metadata.columns.push_back(
        protocol::ColumnSpec{"ks", "t", "v", DataType::simple(TypeKind::varchar)});
    rows.row_count = static_cast<std::int32_t>(values.size());
    rows.rows_content = *storage;
    return protocol::ResultResponse{std::move(rows)};
}

}  // namespace async_cassandra::testing
