#include "net/host_pool.hpp"

#include <async_cassandra/exception_message.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <limits>

namespace async_cassandra::net {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

/// Closed (a broadcast to every waiter, present and future) when a connection attempt ends.
struct HostPool::Latch : asio::experimental::concurrent_channel<void(asio::error_code, bool)> {
    using Channel = asio::experimental::concurrent_channel<void(asio::error_code, bool)>;
    Latch(const asio::any_io_executor& executor, std::size_t capacity) : Channel(executor, capacity) {}
};

HostPool::HostPool(asio::any_io_executor executor, std::string address, std::uint16_t port,
                   std::shared_ptr<const PoolSettings> settings, Initializer initializer, Listener listener)
    : strand_(asio::make_strand(executor)),
      address_(std::move(address)),
      port_(port),
      endpoint_(address_ + ":" + std::to_string(port_)),
      settings_(std::move(settings)),
      initializer_(std::move(initializer)),
      listener_(std::move(listener)),
      slots_(std::max<std::size_t>(1, settings_->size)),
      timer_(strand_) {}

HostPool::~HostPool() {
    std::lock_guard lock(mutex_);
    for (auto& c : slots_)
        if (c) c->close();
}

void HostPool::close() {
    std::vector<std::shared_ptr<Connection>> all;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        for (auto& c : slots_)
            if (c) all.push_back(std::move(c));
    }
    for (auto& c : all) c->close();
    // Ends the maintenance coroutine's wait (it holds the pool alive until then).
    asio::post(strand_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->timer_.cancel();
    });
}

std::size_t HostPool::open_connections() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(slots_.begin(), slots_.end(), [](const auto& c) { return c && c->is_open(); }));
}

std::size_t HostPool::in_flight() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& c : slots_)
        if (c && c->is_open()) n += c->in_flight();
    return n;
}

std::vector<std::shared_ptr<Connection>> HostPool::connections() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<Connection>> out;
    for (const auto& c : slots_)
        if (c && c->is_open()) out.push_back(c);
    return out;
}

std::size_t HostPool::dead_slots() const {
    std::lock_guard lock(mutex_);
    if (closed_) return 0;
    return static_cast<std::size_t>(
        std::count_if(slots_.begin(), slots_.end(), [](const auto& c) { return !c || !c->is_open(); }));
}

asio::awaitable<std::shared_ptr<Connection>> HostPool::connect() {
    ConnectionConfig config = settings_->connection;
    const int settled = settings_->settled_version->load(std::memory_order_acquire);
    if (!config.protocol_version && settled != 0) config.protocol_version = settled;
    std::shared_ptr<Connection> c;
    std::exception_ptr error;
    try {
        c = co_await Connection::open(strand_.get_inner_executor(), address_, port_, config, settings_->logger);
        if (initializer_) co_await initializer_(c);
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        if (c) c->close();
        if (listener_) listener_(error);
        std::rethrow_exception(error);
    }
    int expected = 0;
    settings_->settled_version->compare_exchange_strong(expected, static_cast<int>(c->version()));
    if (listener_) listener_(nullptr);
    co_return c;
}

bool HostPool::install(std::shared_ptr<Connection> connection) {
    {
        std::lock_guard lock(mutex_);
        if (!closed_) {
            for (auto& slot : slots_)
                if (!slot || !slot->is_open()) {
                    slot = std::move(connection);
                    return true;
                }
        }
    }
    connection->close();  // closed meanwhile, or every slot was refilled: not needed
    return false;
}

asio::awaitable<void> HostPool::open() {
    auto self = shared_from_this();
    std::exception_ptr first_error;
    bool any = false;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        std::exception_ptr error;
        try {
            any = install(co_await connect()) || any;
        } catch (...) {
            error = std::current_exception();
        }
        if (error) {
            first_error = error;
            break;  // the host is not answering: do not pay the other slots' failures too
        }
    }
    start_maintenance();
    if (!any && first_error) std::rethrow_exception(first_error);
}

std::shared_ptr<Connection> HostPool::pick() {
    std::shared_ptr<Connection> best;
    bool dead = false;
    {
        std::lock_guard lock(mutex_);
        for (const auto& c : slots_) {
            if (!c || !c->is_open()) {
                dead = true;
                continue;
            }
            if (!best || c->in_flight() < best->in_flight()) best = c;
        }
        dead = dead && !closed_;
    }
    if (dead) report_failure();
    return best;
}

void HostPool::start_maintenance() {
    if (!maintaining_.exchange(true)) asio::co_spawn(strand_, maintain(), asio::detached);
}

std::shared_ptr<Connection> HostPool::acquire_open() {
    start_maintenance();  // a pool first used here (not opened by a session) refills itself too
    return pick();
}

asio::awaitable<std::shared_ptr<Connection>> HostPool::acquire() {
    if (auto c = acquire_open()) co_return c;
    {
        std::lock_guard lock(mutex_);
        if (closed_) throw ConnectionClosed("connection pool to " + endpoint_ + " is closed");
    }
    auto self = shared_from_this();
    co_await connect_one();
    if (auto c = pick()) co_return c;
    throw ConnectionClosed("connection pool to " + endpoint_ + " is closed");
}

asio::awaitable<void> HostPool::connect_one() {
    // One attempt at a time per pool: a request that finds the pool empty and the maintenance
    // coroutine share the same attempt instead of opening two connections for one slot.
    std::shared_ptr<Latch> attempt;
    bool owner = false;
    {
        std::lock_guard lock(mutex_);
        if (!connecting_) {
            connecting_ = std::make_shared<Latch>(strand_.get_inner_executor(), 0);
            owner = true;
        }
        attempt = connecting_;
    }
    if (!owner) {
        co_await attempt->async_receive(use_tuple);  // completes when the attempt closes it
        std::exception_ptr error;
        {
            std::lock_guard lock(mutex_);
            error = last_error_;
        }
        if (error) std::rethrow_exception(error);
        co_return;
    }
    std::exception_ptr error;
    try {
        install(co_await connect());
    } catch (...) {
        error = std::current_exception();
    }
    {
        std::lock_guard lock(mutex_);
        connecting_.reset();
        last_error_ = error;
    }
    attempt->close();
    if (error) std::rethrow_exception(error);
}

void HostPool::report_failure() {
    // Soft wake-up: ends an idle wait, never a back-off wait.
    asio::post(strand_, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->woken_ = true;
        if (self->backoff_.count() == 0) self->timer_.cancel();
    });
}

void HostPool::wake_now() {
    asio::post(strand_, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->woken_ = true;
        self->backoff_ = std::chrono::milliseconds(0);
        self->timer_.cancel();
    });
}

void HostPool::retire(const std::shared_ptr<Connection>& connection) {
    {
        std::lock_guard lock(mutex_);
        for (auto& slot : slots_)
            if (slot == connection) slot.reset();
    }
    report_failure();
    // Close it once its own requests are done (bounded by the longest request timeout we allow).
    asio::co_spawn(
        strand_.get_inner_executor(),
        [connection]() -> asio::awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor);
            for (int i = 0; i < 600 && connection->is_open() && connection->in_flight() > 0; ++i) {
                t.expires_after(std::chrono::milliseconds(50));
                co_await t.async_wait(use_tuple);
            }
            connection->close();
        },
        asio::detached);
}

asio::awaitable<void> HostPool::maintain() {
    // Keeps the pool alive until close(), which every owner calls (KeyspacePools on its way out):
    // the wait below must never outlive the timer it waits on.
    auto self = shared_from_this();
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (closed_) co_return;
        }
        if (dead_slots() == 0) {
            backoff_ = std::chrono::milliseconds(0);
            if (woken_) {
                woken_ = false;
                continue;
            }
            timer_.expires_at(asio::steady_timer::time_point::max());
        } else {
            woken_ = false;
            std::exception_ptr error;
            try {
                co_await connect_one();
            } catch (...) {
                error = std::current_exception();
            }
            if (!error) {
                if (backoff_.count() != 0 && settings_->logger.enabled(LogLevel::info))
                    settings_->logger.log(LogLevel::info, "reconnected to " + endpoint_);
                backoff_ = std::chrono::milliseconds(0);
                continue;
            }
            const auto& r = settings_->reconnection;
            backoff_ = backoff_.count() == 0 ? r.base : std::min(backoff_ * 2, r.max);
            if (settings_->logger.enabled(LogLevel::warn))
                settings_->logger.log(LogLevel::warn, "reconnection to " + endpoint_ + " failed (" + exception_message(error) +
                                                          "); next attempt in " + std::to_string(backoff_.count()) +
                                                          " ms");
            timer_.expires_after(backoff_);
        }
        co_await timer_.async_wait(use_tuple);
    }
}

}  // namespace async_cassandra::net
