// One client connection: a reader coroutine that decodes frames and answers them synchronously
// (the engine is in-memory), and a writer coroutine that flushes everything answered so far in one
// socket write. Responses are encoded straight into the writer's buffer, so serving a page costs
// one copy of its rows and no per-row work here.
#include "server/net/node.hpp"

#include <asio/experimental/as_tuple.hpp>

#include <array>
#include <cctype>
#include <iostream>

namespace async_cassandra::server::net {

namespace p = async_cassandra::protocol;
using asio::use_awaitable;
using asio::experimental::as_tuple;

namespace {

/// Reader back-pressure: stop reading while this much output waits for the socket.
constexpr std::size_t kMaxPendingOutput = 8u << 20;
constexpr std::size_t kReadChunk = 64u << 10;
/// How long a connection that is being closed waits for the peer to read our last words.
constexpr auto kLingerTime = std::chrono::seconds(2);

Consistency consistency_of(const p::Request& req) {
    if (auto* q = std::get_if<p::QueryRequest>(&req)) return q->params.consistency;
    if (auto* e = std::get_if<p::ExecuteRequest>(&req)) return e->params.consistency;
    if (auto* b = std::get_if<p::BatchRequest>(&req)) return b->consistency;
    return Consistency::one;
}

p::ErrorResponse injected_error(const FaultDecision& fault, const p::Request& req) {
    const ServerErrorCode code = fault.error_code;
    p::ErrorResponse e;
    e.code = code;
    e.consistency = consistency_of(req);
    switch (code) {
        case ServerErrorCode::unavailable:
            e.message = "Cannot achieve consistency level " + std::string(to_string(e.consistency));
            e.required = 1;
            e.alive = 0;
            break;
        case ServerErrorCode::read_timeout:
            e.message = "Operation timed out - received only " + std::to_string(fault.received) + " responses.";
            e.received = fault.received;
            e.block_for = fault.block_for;
            e.data_present = fault.data_present;
            break;
        case ServerErrorCode::write_timeout:
            e.message = "Operation timed out - received only " + std::to_string(fault.received) + " responses.";
            e.received = fault.received;
            e.block_for = fault.block_for;
            e.write_type = !fault.write_type.empty()                   ? fault.write_type
                           : std::holds_alternative<p::BatchRequest>(req) ? "BATCH"
                                                                          : "SIMPLE";
            break;
        case ServerErrorCode::overloaded: e.message = "Server is in overloaded state. Cannot accept more requests"; break;
        case ServerErrorCode::is_bootstrapping: e.message = "Cannot read from a bootstrapping node"; break;
        case ServerErrorCode::truncate_error: e.message = "Truncate failed (injected)"; break;
        default: e.message = "Injected server error"; break;
    }
    return e;
}

/// WRITE_TIMEOUT / CAS_WRITE_UNKNOWN of a lightweight transaction, byte by byte as Cassandra
/// 4.0-5.0 encode them (ErrorMessage.java): our own codec writes the contention count only for
/// writeType CAS, but Cassandra writes it for every CAS write timeout, the SIMPLE commit one too.
p::Bytes lwt_error_body(LwtShape shape, const p::Request& req, p::ProtocolVersion version) {
    const bool v5 = version >= p::ProtocolVersion::v5;
    Consistency serial = Consistency::serial;
    if (auto* q = std::get_if<p::QueryRequest>(&req); q && q->params.serial_consistency) serial = *q->params.serial_consistency;
    if (auto* e = std::get_if<p::ExecuteRequest>(&req); e && e->params.serial_consistency) serial = *e->params.serial_consistency;
    if (auto* b = std::get_if<p::BatchRequest>(&req); b && b->serial_consistency) serial = *b->serial_consistency;
    p::Bytes body;
    p::ByteWriter w(body);
    if (shape == LwtShape::cas_unknown && v5) {
        w.write_i32(static_cast<std::int32_t>(ServerErrorCode::cas_write_unknown));
        w.write_string("CAS operation result is unknown - proposal accepted by 1 but not a quorum.");
        w.write_u16(static_cast<std::uint16_t>(serial));
        w.write_i32(1);  // received
        w.write_i32(2);  // block_for
        return body;
    }
    const bool commit = shape == LwtShape::commit_timeout;
    const Consistency cl = commit ? consistency_of(req) : serial;
    w.write_i32(static_cast<std::int32_t>(ServerErrorCode::write_timeout));
    w.write_string(commit ? "Operation timed out - received only 0 responses."
                          : "Operation timed out - received only 1 responses.");
    w.write_u16(static_cast<std::uint16_t>(cl));
    w.write_i32(commit ? 0 : 1);  // received
    w.write_i32(commit ? 1 : 2);  // block_for
    w.write_string(commit ? "SIMPLE" : "CAS");
    if (v5) w.write_u16(1);       // contentions: 1 contended Paxos round
    return body;
}

bool is_rows(const p::Response& r) {
    auto* result = std::get_if<p::ResultResponse>(&r);
    return result && std::holds_alternative<p::RowsResult>(*result);
}

}  // namespace

Connection::Connection(Node& node, asio::ip::tcp::socket socket)
    : node_(node),
      socket_(std::move(socket)),
      wake_(socket_.get_executor(), std::chrono::steady_clock::time_point::max()),
      drained_(socket_.get_executor(), std::chrono::steady_clock::time_point::max()),
      watchdog_(socket_.get_executor()),
      decoder_(node.cluster.options.max_body_size_before_ready) {
    state_.node_id = node.id;
    if (node.cluster.tls) tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *node.cluster.tls);
}

template <class Buffers>
auto Connection::read_some(const Buffers& buffers) {
    // use_awaitable is lazy: only the chosen operation is started, when the caller awaits it.
    return tls_ ? tls_->async_read_some(buffers, as_tuple(use_awaitable))
                : socket_.async_read_some(buffers, as_tuple(use_awaitable));
}

template <class Buffers>
auto Connection::write_all(const Buffers& buffers) {
    return tls_ ? asio::async_write(*tls_, buffers, as_tuple(use_awaitable))
                : asio::async_write(socket_, buffers, as_tuple(use_awaitable));
}

asio::awaitable<bool> Connection::tls_handshake() {
    // A peer that never completes the handshake (or sends nothing) must not hold the connection
    // forever; closing the socket aborts the handshake.
    asio::steady_timer guard(socket_.get_executor(), node_.cluster.options.tls_handshake_timeout);
    guard.async_wait([weak = weak_from_this()](asio::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock(); self && !self->handshake_done_) self->close();
    });
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, as_tuple(use_awaitable));
    handshake_done_ = !ec;
    if (ec && open_ && node_.cluster.options.log_requests)
        std::cerr << "node " << node_.id << " TLS handshake failed: " << ec.message() << '\n';
    co_return !ec;
}

void Connection::start() {
    auto self = shared_from_this();
    accepted_at_ = last_activity_ = std::chrono::steady_clock::now();
    asio::co_spawn(socket_.get_executor(), [self]() { return self->read_loop(); }, asio::detached);
    asio::co_spawn(socket_.get_executor(), [self]() { return self->write_loop(); }, asio::detached);
    asio::co_spawn(socket_.get_executor(), [self]() { return self->watchdog(); }, asio::detached);
}

asio::awaitable<void> Connection::watchdog() {
    const auto& o = node_.cluster.options;
    while (open_) {
        std::chrono::steady_clock::time_point deadline;
        const char* reason = nullptr;
        if (phase_ != Phase::ready && o.handshake_timeout.count() > 0) {
            deadline = accepted_at_ + o.handshake_timeout;
            reason = "handshake not completed within the handshake timeout";
        } else if (phase_ == Phase::ready && o.idle_timeout.count() > 0) {
            deadline = last_activity_ + o.idle_timeout;
            reason = "idle for longer than the idle timeout";
        } else if (phase_ == Phase::ready) {
            co_return;  // nothing left to watch
        } else {
            deadline = std::chrono::steady_clock::time_point::max();  // wait for readiness
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            if (o.log_requests) std::cerr << "node " << node_.id << " closing a connection: " << reason << '\n';
            close();
            co_return;
        }
        // Woken at the deadline, by close(), or (no handshake timeout) never before readiness;
        // become_ready() cancels it so that the idle deadline takes over.
        watchdog_.expires_at(deadline);
        co_await watchdog_.async_wait(as_tuple(use_awaitable));
    }
}

void Connection::become_ready() {
    phase_ = Phase::ready;
    decoder_.set_max_body_size(p::kDefaultMaxBodySize);
    watchdog_.cancel();
}

void Connection::close() {
    if (!open_) return;
    open_ = false;
    asio::error_code ignored;
    socket_.close(ignored);
    wake_.cancel();
    drained_.cancel();
    watchdog_.cancel();
    node_.connections.erase(this);
    node_.open.fetch_sub(1, std::memory_order_relaxed);
}

void Connection::close_after_flush() {
    closing_ = true;
    notify();
}

void Connection::push_event(const p::EventResponse& event, unsigned mask) {
    if (!open_ || closing_ || phase_ != Phase::ready || (events_ & mask) == 0) return;
    try {
        send(p::kEventStreamId, p::Response{event});
    } catch (const std::exception&) {
        // Called from another connection's request: a failure here must not surface there.
        close();
    }
}

p::FrameHeader Connection::response_header(std::int16_t stream, const p::Response& response) const {
    p::FrameHeader h;
    h.version = static_cast<std::uint8_t>(state_.version);
    h.is_response = true;
    h.stream = stream;
    h.opcode = p::opcode_of(response);
    return h;
}

void Connection::send(std::int16_t stream, const p::Response& response, const std::vector<std::string>& warnings) {
    // The body is encoded straight into the output (or the encoder's segment buffer): no copy.
    p::FrameHeader header = response_header(stream, response);
    if (!warnings.empty()) header.flags |= p::frame_flags::warning;
    try {
        encoder_.encode_in_place(pending_, header, [&](p::ByteWriter& w) {
            if (!warnings.empty()) p::encode_body_prefix(w, p::BodyPrefix{{}, warnings, {}}, header.flags, true);
            p::encode_response(w, response, state_.version);
        });
    } catch (const std::exception& e) {
        if (std::holds_alternative<p::ErrorResponse>(response)) throw;
        send_error(stream, ServerErrorCode::server_error, std::string("Cannot encode the response: ") + e.what());
        return;
    }
    notify();
}

void Connection::send_body(std::int16_t stream, p::Opcode opcode, p::BytesView body,
                           const std::vector<std::string>& warnings) {
    p::FrameHeader header;
    header.version = static_cast<std::uint8_t>(state_.version);
    header.is_response = true;
    header.stream = stream;
    header.opcode = opcode;
    p::Bytes full;
    p::ByteWriter w(full);
    if (!warnings.empty()) header.flags = p::encode_body_prefix(w, p::BodyPrefix{{}, warnings, {}}, p::frame_flags::warning, true);
    w.write_raw(body);
    encoder_.encode(pending_, header, full);
    notify();
}

void Connection::send_error(std::int16_t stream, ServerErrorCode code, std::string message) {
    p::ErrorResponse e;
    e.code = code;
    e.message = std::move(message);
    send(stream, p::Response{std::move(e)});
}

void Connection::send_raw(p::BytesView bytes) {
    encoder_.flush(pending_);
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    notify();
}

p::Bytes Connection::wire_form(std::int16_t stream, const p::Response& response) const {
    p::Bytes body;
    p::ByteWriter w(body);
    p::encode_response(w, response, state_.version);
    p::FrameEncoder enc;
    if (encoder_.segments_enabled()) enc.enable_segments(compression_);
    else enc.set_compression(compression_);
    p::Bytes out;
    enc.encode(out, response_header(stream, response), body);
    enc.flush(out);
    return out;
}

asio::awaitable<void> Connection::read_loop() {
    std::array<std::uint8_t, 16> sniff_buf{};
    // TLS: nothing is read or written before the handshake. A peer that fails it (e.g. a
    // plain-text client on a TLS port) is simply disconnected; it never reaches the decoder.
    if (tls_ && !co_await tls_handshake()) {
        close();
        co_return;
    }
    while (open_) {
        // Back-pressure: a client that sends faster than it reads must not grow our buffers.
        while (open_ && !closing_ && !out_.empty() && pending_.size() > kMaxPendingOutput)
            co_await drained_.async_wait(as_tuple(use_awaitable));
        if (!open_) break;
        if (closing_) {
            // Discard whatever the peer still sends while we linger.
            auto [ec, n] = co_await read_some(asio::buffer(sniff_buf));
            if (ec) break;
            continue;
        }
        if (!sniffed_) {
            auto [ec, n] = co_await read_some(asio::buffer(sniff_buf));
            if (ec) break;
            sniff_.insert(sniff_.end(), sniff_buf.begin(), sniff_buf.begin() + static_cast<std::ptrdiff_t>(n));
            if (sniff_.size() < 4) continue;
            sniffed_ = true;
            if (!sniff_version(sniff_)) continue;
            decoder_.feed(sniff_);
            p::Bytes().swap(sniff_);
        } else {
            auto space = decoder_.prepare(kReadChunk);
            auto [ec, n] = co_await read_some(asio::buffer(space.data(), space.size()));
            if (ec) break;
            decoder_.commit(n);
        }
        last_activity_ = std::chrono::steady_clock::now();
        try {
            while (open_ && !closing_) {
                auto envelope = decoder_.next();
                if (!envelope) break;
                handle(*envelope);
            }
        } catch (const std::exception& e) {
            // The byte stream cannot be trusted any more: tell the peer why (stream 0, as
            // Cassandra does for frame-level errors) and close this connection only.
            if (open_ && !closing_) {
                try {
                    send_error(0, ServerErrorCode::protocol_error, e.what());
                } catch (const std::exception&) {
                }
                close_after_flush();
            }
        }
    }
    close();
}

asio::awaitable<void> Connection::write_loop() {
    auto self = shared_from_this();
    while (open_) {
        encoder_.flush(pending_);
        if (pending_.empty()) {
            if (closing_) break;
            wake_.expires_at(std::chrono::steady_clock::time_point::max());
            co_await wake_.async_wait(as_tuple(use_awaitable));
            continue;
        }
        out_.clear();
        out_.swap(pending_);
        auto [ec, n] = co_await write_all(asio::buffer(out_));
        out_.clear();
        drained_.cancel();
        last_activity_ = std::chrono::steady_clock::now();
        if (ec) {
            close();
            co_return;
        }
        // Keep a bounded buffer around for the next batch instead of reallocating each time.
        if (out_.capacity() > (4u << 20)) p::Bytes().swap(out_);
    }
    if (!open_) co_return;
    // Everything is sent: half-close, so the peer reads our last frames before it sees the end,
    // and give it a moment before the socket goes (closing with unread input would reset it).
    // TLS: no close_notify, as the reader may be in a TLS read (one at a time); the peer has
    // read every record we sent before it sees the end of the stream.
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    asio::steady_timer linger(socket_.get_executor(), kLingerTime);
    co_await linger.async_wait(as_tuple(use_awaitable));
    close();
}

asio::awaitable<void> Connection::deliver_later(p::FrameHeader header, p::Bytes body,
                                                std::chrono::milliseconds delay) {
    auto self = shared_from_this();
    asio::steady_timer timer(socket_.get_executor(), delay);
    co_await timer.async_wait(as_tuple(use_awaitable));
    if (!open_ || closing_) co_return;
    encoder_.encode(pending_, header, body);
    notify();
}

bool Connection::sniff_version(p::BytesView first) {
    int version = first[0] & 0x7F;
    if (version == 4 || version == 5) return true;
    // v1/v2 headers have a one-byte stream id; v3 and later (and DSE's 0x41/0x42) two bytes.
    std::int16_t stream = version <= 2 ? static_cast<std::int8_t>(first[2])
                                       : static_cast<std::int16_t>((first[2] << 8) | first[3]);
    node_.requests.fetch_add(1, std::memory_order_relaxed);
    if (node_.cluster.options.log_requests)
        std::cerr << "node " << node_.id << " stream " << stream << " refused protocol version " << version << '\n';
    send_version_error(version, first[1], stream);
    return false;
}

void Connection::send_version_error(int asked, std::uint8_t flags, std::int16_t stream) {
    auto& impl = node_.cluster;
    // The frame each emulated server sends (server/net/emulation.hpp), built byte by byte: its
    // version byte may be one our codec does not speak.
    auto refusal = impl.emulation.refusal(asked, flags, stream, impl.versions);
    p::Bytes body;
    p::ByteWriter bw(body);
    bw.write_i32(static_cast<std::int32_t>(ServerErrorCode::protocol_error));
    bw.write_string(refusal.message);
    p::Bytes out;
    p::ByteWriter w(out);
    w.write_u8(static_cast<std::uint8_t>(0x80 | refusal.version));
    w.write_u8(0);
    if (refusal.version <= 2) w.write_i8(static_cast<std::int8_t>(refusal.stream));
    else w.write_i16(refusal.stream);
    w.write_u8(static_cast<std::uint8_t>(p::Opcode::error));
    w.write_u32(static_cast<std::uint32_t>(body.size()));
    w.write_raw(p::BytesView(body));
    send_raw(out);
    // Cassandra and ScyllaDB close the connection after this answer; the drivers open a new one.
    close_after_flush();
}

std::string Connection::query_text(const p::Request& req) const {
    auto& engine = node_.cluster.engine;
    if (auto* q = std::get_if<p::QueryRequest>(&req)) return std::string(q->query);
    if (auto* pr = std::get_if<p::PrepareRequest>(&req)) return std::string(pr->query);
    if (auto* e = std::get_if<p::ExecuteRequest>(&req)) return engine.prepared_query(node_.id, e->id).value_or("");
    if (auto* b = std::get_if<p::BatchRequest>(&req)) {
        std::string text;
        for (const auto& s : b->statements) {
            if (!text.empty()) text += "; ";
            text += s.is_prepared ? engine.prepared_query(node_.id, s.id).value_or("") : std::string(s.query);
        }
        return text;
    }
    return {};
}

void Connection::handle(const p::Envelope& envelope) {
    node_.requests.fetch_add(1, std::memory_order_relaxed);
    auto& impl = node_.cluster;
    const auto& h = envelope.header;
    if (h.is_response) {
        send_error(h.stream, ServerErrorCode::protocol_error, "Response direction bit set in a request");
        close_after_flush();
        return;
    }
    if (!impl.version_enabled(h.version) && !started_) {
        send_version_error(h.version, h.flags, h.stream);
        return;
    }
    auto version = static_cast<p::ProtocolVersion>(h.version);
    if (started_ && version != state_.version) {
        send_error(h.stream, ServerErrorCode::protocol_error,
                   "Invalid message version. Got " + std::to_string(h.version) + " but previous messages on this "
                   "connection had version " + std::to_string(static_cast<int>(state_.version)));
        close_after_flush();
        return;
    }
    if (!started_) state_.version = version;  // answers before STARTUP use the frame's version

    p::Request req;
    try {
        p::ByteReader in(envelope.body_view());
        p::decode_body_prefix(in, h.flags, false);
        req = p::decode_request(h.opcode, in.rest(), version);
    } catch (const std::exception& e) {
        send_error(h.stream, ServerErrorCode::protocol_error, std::string("Invalid request body: ") + e.what());
        close_after_flush();
        return;
    }

    if (impl.options.log_requests) {
        std::cerr << "node " << node_.id << " stream " << h.stream << " " << p::to_string(h.opcode);
        if (auto text = query_text(req); !text.empty()) std::cerr << ": " << text;
        std::cerr << '\n';
    }

    switch (h.opcode) {
        case p::Opcode::options: {
            send(h.stream, p::Response{impl.emulation.supported(impl.versions)});
            return;
        }
        case p::Opcode::startup:
            if (started_) {
                send_error(h.stream, ServerErrorCode::protocol_error, "Unexpected message STARTUP, the connection is already initialized");
                return;
            }
            handle_startup(h.stream, std::get<p::StartupRequest>(req));
            return;
        case p::Opcode::auth_response:
            if (phase_ != Phase::authenticating) {
                send_error(h.stream, ServerErrorCode::protocol_error, "Unexpected message AUTH_RESPONSE");
                return;
            }
            handle_auth(h.stream, std::get<p::AuthResponseRequest>(req));
            return;
        default: break;
    }
    if (phase_ != Phase::ready) {
        send_error(h.stream, ServerErrorCode::protocol_error,
                   std::string("Unexpected message ") + p::to_string(h.opcode) +
                       (phase_ == Phase::initial ? ", expecting STARTUP or OPTIONS" : ", expecting AUTH_RESPONSE"));
        return;
    }
    if (h.opcode == p::Opcode::register_) {
        for (const auto& t : std::get<p::RegisterRequest>(req).event_types) {
            if (t == "TOPOLOGY_CHANGE") events_ |= event_mask::topology;
            else if (t == "STATUS_CHANGE") events_ |= event_mask::status;
            else if (t == "SCHEMA_CHANGE") events_ |= event_mask::schema;
            else {
                send_error(h.stream, ServerErrorCode::protocol_error, "Invalid value '" + t + "' for Type");
                return;
            }
        }
        send(h.stream, p::Response{p::ReadyResponse{}});
        return;
    }
    handle_query(h, req);
}

void Connection::handle_startup(std::int16_t stream, const p::StartupRequest& req) {
    auto& impl = node_.cluster;
    if (!req.options.contains("CQL_VERSION")) {
        send_error(stream, ServerErrorCode::protocol_error, "CQL_VERSION is mandatory");
        return;
    }
    p::Compression compression = p::Compression::none;
    if (auto it = req.options.find("COMPRESSION"); it != req.options.end() && !it->second.empty()) {
        std::string name = it->second;
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        auto c = p::compression_from_name(name);
        if (!c) {
            send_error(stream, ServerErrorCode::protocol_error, "Unknown compression algorithm: " + it->second);
            return;
        }
        if (state_.version == p::ProtocolVersion::v5 && *c != p::Compression::lz4) {
            send_error(stream, ServerErrorCode::protocol_error,
                       "Unsupported compression algorithm for protocol v5: " + it->second);
            return;
        }
        compression = *c;
    }
    started_ = true;
    compression_ = compression;
    // The client may compress from its next frame on (some drivers do so before READY arrives).
    if (state_.version == p::ProtocolVersion::v4) decoder_.set_compression(compression);
    if (impl.options.credentials) {
        phase_ = Phase::authenticating;
        send(stream, p::Response{p::AuthenticateResponse{"org.apache.cassandra.auth.PasswordAuthenticator"}});
    } else {
        become_ready();
        send(stream, p::Response{p::ReadyResponse{}});
    }
    // The READY/AUTHENTICATE answer itself goes out plain; everything after it is framed
    // (v5 segments) or compressed (v4).
    if (state_.version == p::ProtocolVersion::v5) {
        encoder_.enable_segments(compression);
        decoder_.enable_segments(compression);
    } else {
        encoder_.set_compression(compression);
    }
}

void Connection::handle_auth(std::int16_t stream, const p::AuthResponseRequest& req) {
    const auto& creds = *node_.cluster.options.credentials;
    // SASL PLAIN: authzid \0 authcid \0 password.
    std::string token = req.token ? std::string(req.token->begin(), req.token->end()) : std::string();
    std::string user, password;
    std::size_t first = token.find('\0');
    if (first != std::string::npos) {
        std::size_t second = token.find('\0', first + 1);
        if (second != std::string::npos) {
            user = token.substr(first + 1, second - first - 1);
            password = token.substr(second + 1);
        }
    }
    if (first == std::string::npos || user != creds.first || password != creds.second) {
        send_error(stream, ServerErrorCode::bad_credentials,
                   "Provided username " + user + " and/or password are incorrect");
        return;
    }
    become_ready();
    send(stream, p::Response{p::AuthSuccessResponse{}});
}

void Connection::handle_query(const p::FrameHeader& header, const p::Request& req) {
    auto& impl = node_.cluster;
    const std::int16_t stream = header.stream;
    node_.queries.fetch_add(1, std::memory_order_relaxed);
    // Before any fault: a request answered with an injected error was still sent to this node.
    // Without faults or replayed pages every request is executed, and the engine reports its route
    // with the execution (a SELECT is then planned once, not twice).
    const bool counts_route = header.opcode != p::Opcode::prepare;
    const bool route_from_execution = counts_route && impl.faults.empty() && !impl.replay;
    if (counts_route && !route_from_execution)
        if (auto route = impl.engine.route(req, state_)) impl.count_route(node_, *route);

    FaultDecision fault;
    if (!impl.faults.empty())
        fault = impl.faults.decide(node_.id, query_text(req), header.opcode == p::Opcode::prepare);
    if (fault.action == FaultKind::stall) return;
    if (fault.action == FaultKind::error) {
        if (fault.lwt != LwtShape::none) {
            send_body(stream, p::Opcode::error, lwt_error_body(fault.lwt, req, state_.version), fault.warnings);
            return;
        }
        send(stream, p::Response{injected_error(fault, req)}, fault.warnings);
        return;
    }

    ExecutionResult result;
    try {
        std::optional<ExecutionResult> replayed;
        if (impl.replay) replayed = impl.replay->next_page(req);
        if (replayed) {
            result = std::move(*replayed);
        } else {
            std::optional<PartitionRoute> route;
            result = impl.engine.execute(req, state_, route_from_execution ? &route : nullptr);
            if (route) impl.count_route(node_, *route);
            if (impl.replay && ReplayPages::is_first_page(req, result))
                impl.replay->remember(req, query_text(req), state_, result);
        }
    } catch (const std::exception& e) {
        // The engine promises not to throw; if it does, only this request fails.
        p::ErrorResponse err;
        err.code = ServerErrorCode::server_error;
        err.message = e.what();
        result.response = std::move(err);
    }
    if (result.schema_event) impl.broadcast(p::EventResponse{*result.schema_event}, event_mask::schema, 0);
    auto& warnings = result.warnings;
    warnings.insert(warnings.end(), fault.warnings.begin(), fault.warnings.end());

    const bool rows = is_rows(result.response);
    if (rows && fault.page_rule >= 0 && !impl.faults.allow_page(fault.page_rule)) {
        close();
        return;
    }
    auto delay = fault.delay;
    if (rows && fault.page_delay.count() > 0) {
        const auto& r = std::get<p::RowsResult>(std::get<p::ResultResponse>(result.response));
        bool resumed = false;
        if (auto* q = std::get_if<p::QueryRequest>(&req)) resumed = q->params.paging_state.has_value();
        if (auto* e = std::get_if<p::ExecuteRequest>(&req)) resumed = e->params.paging_state.has_value();
        if (r.metadata.has_more_pages() || resumed) delay += fault.page_delay;
    }

    if (fault.action) {
        switch (*fault.action) {
            case FaultKind::wrong_stream: {
                std::int16_t other = stream >= 32767 ? 0 : static_cast<std::int16_t>(stream + 1);
                send(other, result.response, warnings);
                return;
            }
            case FaultKind::corrupt_frame: {
                p::Bytes wire = wire_form(stream, result.response);
                // v5: a payload CRC that does not match; v4: an opcode that does not exist.
                if (encoder_.segments_enabled()) wire.back() ^= 0xFF;
                else wire[4] = 0xFF;
                send_raw(wire);
                return;
            }
            case FaultKind::drop_mid_frame: {
                p::Bytes wire = wire_form(stream, result.response);
                send_raw(p::BytesView(wire).first(std::max<std::size_t>(1, wire.size() / 2)));
                // The peer sees half a frame, then the end of the stream.
                close_after_flush();
                return;
            }
            default: break;
        }
    }
    if (delay.count() > 0) {
        p::FrameHeader header = response_header(stream, result.response);
        p::Bytes body;
        p::ByteWriter w(body);
        if (!warnings.empty())
            header.flags = p::encode_body_prefix(w, p::BodyPrefix{{}, warnings, {}}, p::frame_flags::warning, true);
        p::encode_response(w, result.response, state_.version);
        asio::co_spawn(socket_.get_executor(), deliver_later(header, std::move(body), delay), asio::detached);
        return;
    }
    send(stream, result.response, warnings);
}

}  // namespace async_cassandra::server::net
