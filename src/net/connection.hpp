// One CQL connection: TCP socket, handshake, and a multiplexer of concurrent requests over
// stream ids (one reader coroutine; the first request of a burst is written at once, the others
// every kFramesPerWrite requests and at the end of the burst, with non-blocking writes).
//
// TLS (ConnectionConfig::tls): asio::ssl over the TCP socket, with chain and host-name
// verification, before the CQL handshake.
//
// Threading: every piece of state lives on the connection's strand. send() may be awaited from
// any executor: it hands a small operation object to the strand (no coroutine of its own), and
// the answer is posted back to the caller's executor.
// Lifetime: the reader coroutine and a write in flight keep the connection alive until it is closed; callers
// hold it by shared_ptr.
#pragma once

#include "net/framing.hpp"
#include "net/logging.hpp"
#include "net/stream_ids.hpp"
#include "protocol/expected_response.hpp"
#include "protocol/messages.hpp"

#include <async_cassandra/config.hpp>
#include <async_cassandra/server_errors.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace async_cassandra::net {

/// The prefix of a response body as the public ResponseInfo.
ResponseInfo response_info_of(const protocol::BodyPrefix& prefix);

/// A decoded response. `body` owns the bytes that views in `message` (rows) point into (the
/// envelope's storage: its body, or a read buffer holding it).
struct Reply {
    protocol::FrameHeader header;
    std::shared_ptr<protocol::Bytes> body;
    /// Warnings, tracing id, custom payload; null when the response had none (the usual case: a
    /// pointer keeps the reply, which every request's frames and operation hold, small).
    std::shared_ptr<const protocol::BodyPrefix> prefix;
    protocol::Response message;
    std::size_t request_bytes = 0;   ///< encoded request envelope as queued (see RequestEvent)
    std::size_t response_bytes = 0;  ///< response envelope: header + decompressed body
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    using Executor = asio::any_io_executor;
    using Clock = std::chrono::steady_clock;

    /// Connects to host:port and performs the handshake (version negotiation, OPTIONS, STARTUP,
    /// authentication). Throws ConnectionClosed (connect failure), Timeout (connect_timeout),
    /// AuthenticationError / ServerError (rejected), ConfigurationError (server wants
    /// credentials we do not have). Completes on the caller's executor. `logger` receives the
    /// connection's lifecycle lines (open with the negotiated version, version fallback, close
    /// and its reason, heartbeat failures, orphaned stream ids).
    static asio::awaitable<std::shared_ptr<Connection>> open(Executor executor, std::string host,
                                                             std::uint16_t port, ConnectionConfig config,
                                                             Logger logger = {});

    /// Sends one request and waits for its response (an ERROR response is returned, not thrown).
    /// `request` views must stay valid until completion. Waits for a free stream id when all are
    /// in use (back-pressure). Throws ConnectionClosed/ProtocolError when the connection fails,
    /// Timeout after `timeout`, RequestCancelled when the awaiting operation is cancelled (both
    /// orphan the stream id until the late response arrives), ProtocolError/TypeError when the
    /// request cannot be encoded. Completes on the caller's executor.
    /// `expected` (null: what the request alone tells, protocol::expected_response) must stay valid
    /// until completion too: an answer that cannot belong to the request (another request's,
    /// the server mixed up stream ids) is treated like a lost byte stream: the connection closes
    /// and every request on it fails with ConnectionClosed.
    asio::awaitable<Reply> send(const protocol::Request& request, std::optional<std::chrono::milliseconds> timeout,
                                std::uint8_t flags = 0, const protocol::ExpectedResponse* expected = nullptr);

    /// Closes the socket and fails every pending request with ConnectionClosed. Idempotent,
    /// thread-safe, returns at once.
    void close();

    bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }
    protocol::ProtocolVersion version() const noexcept { return version_; }
    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }
    /// "host:port".
    std::string endpoint() const { return host_ + ":" + std::to_string(port_); }
    /// Requests waiting for a response (approximate when read off the strand).
    std::size_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
    std::size_t orphans() const noexcept { return orphans_.load(std::memory_order_relaxed); }
    /// The exception that closed the connection (null while open). Read it only after
    /// is_open() returned false (it is written on the strand before open_ is cleared).
    std::exception_ptr close_reason() const;
    /// Called on the strand for every server-pushed EVENT (stream -1). Set before use.
    void set_event_handler(std::function<void(const protocol::EventResponse&)> handler) {
        event_handler_ = std::move(handler);
    }

    /// Called once, on the strand, with the reason when the connection closes (also by close());
    /// called at once (on the strand) when it is already closed. Lets an owner react to a dead
    /// node without polling is_open(). Safe to call from any thread.
    void set_close_handler(std::function<void(std::exception_ptr)> handler);

    Connection(Executor executor, std::string host, std::uint16_t port, ConnectionConfig config,
               protocol::ProtocolVersion version, Logger logger = {});
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    struct Waiter;  ///< one request in flight (public for the operation type in connection.cpp)

private:
    struct Tls;
    struct CancelRequest;

    asio::awaitable<void> start();
    /// On the strand: takes ownership of `w` and sends it, or queues it for a stream id.
    void begin(Waiter* w);
    /// Registers `w` under a free stream id and queues its frame; false when no id is free.
    bool start_request(Waiter* w);
    /// Starts the queued requests while stream ids are free (after an id was released).
    void start_waiting_requests();
    /// Fails `w` with Timeout or RequestCancelled; a sent request's id stays orphaned.
    void abandon(Waiter* w, bool timed_out);
    void close_if_too_many_orphans();
    /// The caller of request `serial` cancelled it (a no-op when it is no longer pending).
    void cancel_request(std::uint64_t serial);
    asio::awaitable<void> reader_loop();
    /// After a request was queued: writes at once when nothing was written since the last posted
    /// flush ran, else every kFramesPerWrite requests; a posted flush sends the rest.
    void flush();
    /// Writes every queued frame now unless a write is in flight (its completion writes what was
    /// queued meanwhile): plain TCP with a non-blocking write_some, falling back to an
    /// asynchronous write of what the socket did not take; TLS asynchronously.
    void write_queued();
    /// A write failed outside a completion handler: closes the connection from a posted handler.
    void fail_write(std::exception_ptr reason);
    /// Requests written together while a burst of handlers queues them (see flush()): at 1,024
    /// in flight a read brings ~375 answers, written back in ~6 parts instead of 1 + 374 after
    /// the whole burst; at 64 (~22 answers per read) the first request and the rest, as before.
    static constexpr std::size_t kFramesPerWrite = 64;
    asio::awaitable<void> heartbeat_loop();
    /// Request timeouts: one timer per connection, set to the earliest deadline of the requests
    /// in flight, instead of one timer per request (whose arming is a timerfd_settime system
    /// call per request whenever it is the process's earliest timer, i.e. at concurrency 1).
    asio::awaitable<void> deadline_loop();
    /// Makes deadline_loop() wake by `deadline` at the latest.
    void arm_deadline(Clock::time_point deadline);
    /// Wakes the requests whose deadline has passed and returns the earliest deadline left.
    Clock::time_point expire_requests(Clock::time_point now);
    void dispatch(protocol::Envelope envelope);
    /// Body prefix + message of a response envelope. Throws ProtocolError for a bad body.
    Reply decode_body(protocol::Envelope& envelope, protocol::ProtocolVersion version);
    asio::awaitable<void> authenticate(std::string server_class, std::optional<std::chrono::milliseconds> step_timeout);
    static constexpr int kMaxSaslRounds = 32;
    /// `requested`: closed by close() (logged at info), not by a failure (logged at warn).
    void close_with(std::exception_ptr reason, bool requested = false);
    /// Wakes the requests whose responses the current read delivered.
    void release_delivered();
    void update_counters() noexcept;

    asio::strand<Executor> strand_;
    std::string host_;
    std::uint16_t port_;
    ConnectionConfig config_;
    protocol::ProtocolVersion version_;
    asio::ip::tcp::socket socket_;
    std::unique_ptr<Tls> tls_;  ///< set when ConnectionConfig::tls is
    asio::steady_timer heartbeat_timer_;
    asio::steady_timer deadline_timer_;
    Clock::time_point next_deadline_ = Clock::time_point::max();  ///< what deadline_timer_ is set to
    protocol::FrameDecoder reader_;
    FrameWriter writer_;
    protocol::Bytes write_buffer_;
    bool writing_ = false;  ///< an async_write of (the rest of) write_buffer_ is in flight
    bool flush_posted_ = false;  ///< a flush() is posted to the strand
    std::size_t queued_frames_ = 0;  ///< requests queued since the last write
    InFlightTable<Waiter*> table_;
    std::deque<Waiter*> id_waiters_;
    std::vector<Waiter*> delivered_;  ///< answered by the read being dispatched, not yet woken
    bool switch_reader_to_segments_ = false;
    bool segment_lz4_ = false;
    Clock::time_point last_read_ = Clock::now();
    std::exception_ptr close_reason_;
    std::function<void(const protocol::EventResponse&)> event_handler_;
    std::function<void(std::exception_ptr)> close_handler_;
    Logger logger_;
    bool handshake_done_ = false;  ///< the close of a connection that never opened is logged by open()
    bool transport_ready_ = false;  ///< TCP (and TLS) up: a failure after it is the CQL handshake's
    std::atomic<bool> open_{true};
    std::atomic<std::size_t> in_flight_{0};
    std::atomic<std::size_t> orphans_{0};
    std::atomic<std::uint64_t> next_serial_{0};
};

}  // namespace async_cassandra::net
