// HostPool: the connections to one host for one keyspace, kept filled in the background.
//
// A pool has `size` slots. open() fills them at start; afterwards one maintenance coroutine
// (on the pool's strand) refills dead slots with exponential back-off (ReconnectionConfig base
// doubling up to max). It sleeps until woken — by pick() finding a dead slot, by a failed send
// (report_failure), by an UP event (wake_now, which also resets the back-off) — never polling.
// Every connection attempt reports the host reachable or not to the pool's listener, which is
// how the cluster marks hosts up and down: a down host's pool keeps probing with back-off.
//
// The protocol version is negotiated once per cluster: the first connection to open (of any
// pool sharing `settled_version`) settles it, later connections open with it directly.
//
// Threading: every member may be called from any thread.
#pragma once

#include "net/connection.hpp"
#include "net/logging.hpp"

#include <async_cassandra/config.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace async_cassandra::net {

/// What every pool of a cluster shares.
struct PoolSettings {
    ConnectionConfig connection;
    std::size_t size = 1;
    ReconnectionConfig reconnection;
    Logger logger;
    /// 0 until the first connection of the cluster negotiated; then 4 or 5.
    std::shared_ptr<std::atomic<int>> settled_version = std::make_shared<std::atomic<int>>(0);
};

class HostPool : public std::enable_shared_from_this<HostPool> {
public:
    /// Runs on every new connection before it is used (e.g. USE keyspace); throwing refuses it.
    using Initializer = std::function<asio::awaitable<void>(std::shared_ptr<Connection>)>;
    /// Told after every connection attempt whether the host answered (error null) or not.
    using Listener = std::function<void(std::exception_ptr error)>;

    HostPool(asio::any_io_executor executor, std::string address, std::uint16_t port,
             std::shared_ptr<const PoolSettings> settings, Initializer initializer, Listener listener);
    ~HostPool();
    HostPool(const HostPool&) = delete;
    HostPool& operator=(const HostPool&) = delete;

    /// Opens the slots now, one after the other; stops at the first failure, which is thrown
    /// when no slot could be opened. Then starts the maintenance coroutine.
    asio::awaitable<void> open();
    /// The open connection with the fewest requests in flight, or null when none is open (the
    /// maintenance coroutine is woken for dead slots).
    std::shared_ptr<Connection> pick();
    /// pick(), or, when nothing is open, one connection opened now (throws its failure).
    asio::awaitable<std::shared_ptr<Connection>> acquire();
    /// What acquire() returns without waiting: pick(), null when a connection must be opened
    /// first (then co_await acquire()). Spares a request the coroutine of acquire().
    std::shared_ptr<Connection> acquire_open();
    /// A request on `connection` failed with a connection error: refill soon.
    void report_failure();
    /// Retry now and forget the back-off (the host was announced UP).
    void wake_now();
    /// Takes `connection` out of rotation (e.g. its keyspace changed under it); it is closed
    /// once its requests in flight have completed.
    void retire(const std::shared_ptr<Connection>& connection);
    /// Closes every connection; pending requests fail with ConnectionClosed. Idempotent.
    void close();

    std::size_t open_connections() const;
    std::size_t in_flight() const;
    std::vector<std::shared_ptr<Connection>> connections() const;
    const std::string& endpoint() const noexcept { return endpoint_; }

private:
    asio::awaitable<std::shared_ptr<Connection>> connect();
    asio::awaitable<void> maintain();
    void start_maintenance();
    /// Opens one connection into a free slot, or waits for the attempt already running.
    asio::awaitable<void> connect_one();
    bool install(std::shared_ptr<Connection> connection);
    std::size_t dead_slots() const;

    asio::strand<asio::any_io_executor> strand_;
    std::string address_;
    std::uint16_t port_;
    std::string endpoint_;
    std::shared_ptr<const PoolSettings> settings_;
    Initializer initializer_;
    Listener listener_;

    mutable std::mutex mutex_;  ///< guards slots_, closed_, connecting_, last_error_
    std::vector<std::shared_ptr<Connection>> slots_;
    bool closed_ = false;
    struct Latch;
    std::shared_ptr<Latch> connecting_;  ///< the attempt in progress (closed when it ends)
    std::exception_ptr last_error_;      ///< of the last attempt
    std::atomic<bool> maintaining_{false};

    // Strand only.
    asio::steady_timer timer_;
    bool woken_ = false;
    std::chrono::milliseconds backoff_{0};
};

}  // namespace async_cassandra::net
