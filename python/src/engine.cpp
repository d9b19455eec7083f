// The I/O thread and the driver operations of the Python binding (see engine.hpp). The only
// translation unit of the module that includes Asio.

#include "engine.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <system_error>
#include <thread>

namespace acpy {

namespace {

std::atomic<std::int64_t> g_live_streams{0};

/// Never destroyed: handles held by Python objects may be released after the interpreter's
/// atexit handlers ran, and a stream must not outlive its io_context.
struct Engine {
    asio::io_context io{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
    std::mutex mutex;
    bool stopped = false;
};

Engine& engine() {
    static Engine* e = new Engine();
    return *e;
}

/// Runs `body` (a coroutine returning Payload) on the I/O thread and pushes its outcome.
template <class Body>
void run(QueuePtr queue, std::uint64_t token, Body body) {
    asio::co_spawn(
        engine().io,
        [queue = std::move(queue), token, body = std::move(body)]() mutable -> asio::awaitable<void> {
            Completion c;
            c.token = token;
            try {
                c.value = co_await body();
            } catch (...) {
                c.error = std::current_exception();
            }
            queue->push(std::move(c));
        },
        asio::detached);
}

}  // namespace

CompletionQueue::CompletionQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

CompletionQueue::~CompletionQueue() {
    if (fd_ >= 0) ::close(fd_);
}

void CompletionQueue::push(Completion c) {
    bool was_empty;
    {
        std::lock_guard lock(mutex_);
        was_empty = items_.empty();
        items_.push_back(std::move(c));
    }
    if (was_empty) {
        // One wake-up per batch: the reader takes everything queued until it drains.
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
    }
}

std::vector<Completion> CompletionQueue::drain() {
    std::uint64_t counter = 0;
    [[maybe_unused]] auto n = ::read(fd_, &counter, sizeof counter);  // reset before taking (no lost wake-up)
    std::vector<Completion> out;
    std::lock_guard lock(mutex_);
    out.swap(items_);
    return out;
}

void start_engine() {
    Engine& e = engine();
    std::lock_guard lock(e.mutex);
    if (e.thread.joinable() || e.stopped) return;
    e.work.emplace(e.io.get_executor());
    e.thread = std::thread([&e] { e.io.run(); });
}

void stop_engine() {
    Engine& e = engine();
    std::lock_guard lock(e.mutex);
    if (e.stopped) return;
    e.stopped = true;
    e.work.reset();
    e.io.stop();
    if (e.thread.joinable()) e.thread.join();
}

void post_to_io(std::function<void()> fn) { asio::post(engine().io, std::move(fn)); }

std::int64_t live_streams() noexcept { return g_live_streams.load(); }

StreamBox::StreamBox() { g_live_streams.fetch_add(1); }
StreamBox::~StreamBox() { g_live_streams.fetch_sub(1); }

std::shared_ptr<ac::Cluster> make_cluster(ac::ClusterConfig config) {
    return io_owned(ac::Cluster(engine().io.get_executor(), std::move(config)));
}

void cluster_connect(std::shared_ptr<ac::Cluster> cluster, std::optional<std::string> keyspace, QueuePtr queue,
                     std::uint64_t token) {
    run(std::move(queue), token, [cluster, keyspace]() -> asio::awaitable<Payload> {
        ac::Session session = co_await cluster->connect(keyspace);
        co_return io_owned(std::move(session));
    });
}

void cluster_shutdown(std::shared_ptr<ac::Cluster> cluster, QueuePtr queue, std::uint64_t token) {
    run(std::move(queue), token, [cluster]() -> asio::awaitable<Payload> {
        co_await cluster->shutdown();
        co_return Payload{};
    });
}

void session_execute(std::shared_ptr<ac::Session> session, AnyStatement statement, QueuePtr queue,
                     std::uint64_t token) {
    run(std::move(queue), token, [session, statement = std::move(statement)]() -> asio::awaitable<Payload> {
        ac::ResultSet rs;
        if (auto* s = std::get_if<ac::Statement>(&statement)) rs = co_await session->execute(*s);
        else rs = co_await session->execute(std::get<ac::BoundStatement>(statement));
        co_return rs;
    });
}

void session_execute_batch(std::shared_ptr<ac::Session> session, ac::Batch batch, QueuePtr queue,
                           std::uint64_t token) {
    run(std::move(queue), token, [session, batch = std::move(batch)]() -> asio::awaitable<Payload> {
        ac::ResultSet rs = co_await session->execute_batch(batch);
        co_return rs;
    });
}

void session_prepare(std::shared_ptr<ac::Session> session, std::string query, QueuePtr queue, std::uint64_t token) {
    run(std::move(queue), token, [session, query = std::move(query)]() -> asio::awaitable<Payload> {
        ac::PreparedStatement p = co_await session->prepare(query);
        co_return p;
    });
}

void session_open_stream(std::shared_ptr<ac::Session> session, AnyStatement statement, ac::StreamConfig config,
                         QueuePtr queue, std::uint64_t token) {
    run(std::move(queue), token,
        [session, statement = std::move(statement), config = std::move(config)]() -> asio::awaitable<Payload> {
            ac::ResultStream stream;
            if (auto* s = std::get_if<ac::Statement>(&statement)) stream = co_await session->execute_stream(*s, config);
            else stream = co_await session->execute_stream(std::get<ac::BoundStatement>(statement), config);
            std::shared_ptr<StreamBox> box(new StreamBox, [](StreamBox* p) { post_to_io([p] { delete p; }); });
            box->stream = std::move(stream);
            co_return box;
        });
}

void session_execute_concurrent(std::shared_ptr<ac::Session> session, std::vector<AnyStatement> statements,
                                std::size_t concurrency, QueuePtr queue, std::uint64_t token) {
    run(std::move(queue), token,
        [session, statements = std::move(statements), concurrency]() mutable -> asio::awaitable<Payload> {
            // A window of `concurrency` workers on the I/O thread take the next statement in turn.
            struct Shared {
                std::vector<AnyStatement> statements;
                std::vector<ac::ExecutionOutcome> outcomes;
                std::size_t next = 0;
                std::size_t running = 0;
                std::optional<asio::steady_timer> done;
            };
            auto shared = std::make_shared<Shared>();
            shared->statements = std::move(statements);
            shared->outcomes.resize(shared->statements.size());
            auto executor = co_await asio::this_coro::executor;
            shared->done.emplace(executor, asio::steady_timer::time_point::max());
            const std::size_t workers = std::min(std::max<std::size_t>(concurrency, 1), shared->statements.size());
            for (std::size_t w = 0; w < workers; ++w) {
                ++shared->running;
                asio::co_spawn(
                    executor,
                    [session, shared]() -> asio::awaitable<void> {
                        while (shared->next < shared->statements.size()) {
                            const std::size_t i = shared->next++;
                            ac::ExecutionOutcome& out = shared->outcomes[i];
                            try {
                                if (auto* s = std::get_if<ac::Statement>(&shared->statements[i]))
                                    out.result = co_await session->execute(*s);
                                else
                                    out.result = co_await session->execute(std::get<ac::BoundStatement>(shared->statements[i]));
                            } catch (...) {
                                out.error = std::current_exception();
                            }
                        }
                        if (--shared->running == 0) shared->done->cancel();
                    },
                    asio::detached);
            }
            if (shared->running > 0) {
                std::error_code ec;
                co_await shared->done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            co_return std::move(shared->outcomes);
        });
}

void session_shutdown(std::shared_ptr<ac::Session> session, QueuePtr queue, std::uint64_t token) {
    run(std::move(queue), token, [session]() -> asio::awaitable<Payload> {
        co_await session->shutdown();
        co_return Payload{};
    });
}

void stream_next_page(std::shared_ptr<StreamBox> box, QueuePtr queue, std::uint64_t token) {
    run(std::move(queue), token, [box]() -> asio::awaitable<Payload> {
        PageDelivery d;
        d.start = box->stream.resume_point();
        d.page = co_await box->stream.next_page();
        if (!d.page) d.end = box->stream.resume_point();
        d.page_number = box->stream.page_number();
        d.total_rows = box->stream.total_rows_fetched();
        co_return d;
    });
}

void stream_close(std::shared_ptr<StreamBox> box, QueuePtr queue, std::uint64_t token) {
    run(std::move(queue), token, [box]() -> asio::awaitable<Payload> {
        co_await box->stream.close();
        co_return Payload{};
    });
}

}  // namespace acpy
