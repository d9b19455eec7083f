// The streaming layer: a background fetcher coroutine per stream, a bounded page queue, and the
// consumer side (ResultStream). See include/async_cassandra/stream.hpp for the contract.
//
// Concurrency: everything the fetcher and the consumer share lives in StreamState under `mutex`
// (short critical sections, never held across a suspension). Wake-ups go through capacity-1
// concurrent channels used as level-triggered signals (try_send never blocks; a lost wake-up is
// impossible because every waiter re-checks the state after waking). The fetcher runs on a strand;
// its cancellation signal is only emitted on that strand.
#include <async_cassandra/stream.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/channel_error.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <string_view>
#include <vector>
#include <mutex>
#include <system_error>
#include <utility>

namespace async_cassandra {

namespace {
bool is_cancellation(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const RequestCancelled&) {
        return true;
    } catch (const std::system_error& se) {
        return se.code() == asio::error::operation_aborted ||
               se.code() == asio::experimental::error::channel_cancelled;
    } catch (...) {
        return false;
    }
}

auto as_tuple_awaitable() { return asio::experimental::as_tuple(asio::use_awaitable); }
}  // namespace

// ---------------------------------------------------------------- retry policies

bool ExponentialBackoffRetry::is_transient(const std::exception_ptr& error) {
    if (!error) return false;
    try {
        std::rethrow_exception(error);
    } catch (const Timeout&) {
        return true;
    } catch (const ConnectionClosed&) {
        return true;
    } catch (const NoHostAvailable&) {
        return true;
    } catch (const Overloaded&) {
        return true;
    } catch (const IsBootstrapping&) {
        return true;
    } catch (const Unavailable&) {
        return true;
    } catch (const ReadTimeout&) {
        return true;
    } catch (const ServerInternalError&) {
        return true;
    } catch (...) {
        return false;
    }
}

RetryDecision ExponentialBackoffRetry::decide(const std::exception_ptr& error, int attempt) const {
    if (!is_transient(error)) return RetryDecision::rethrow();
    if (attempt > max_retries_) return RetryDecision::give_up();
    auto delay = base_delay_;
    for (int i = 1; i < attempt && delay < max_delay_; ++i) delay *= 2;
    if (delay > max_delay_) delay = max_delay_;
    return RetryDecision::retry_after(delay);
}

RetryDecision NoRetry::decide(const std::exception_ptr& error, int) const {
    return ExponentialBackoffRetry::is_transient(error) ? RetryDecision::give_up() : RetryDecision::rethrow();
}

// ---------------------------------------------------------------- resume points

namespace {
constexpr std::string_view kResumeMagic = "acass-resume-1";
}

std::string ResumePoint::to_string() const {
    std::string out(kResumeMagic);
    out += ' ';
    out += paging_state ? paging_state->to_string() : "-";  // "0x": an empty (but present) state
    out += ' ';
    out += std::to_string(rows_to_skip);
    out += finished ? " 1" : " 0";
    return out;
}

ResumePoint ResumePoint::from_string(std::string_view text) {
    auto fail = [&](const char* why) -> ResumePoint {
        std::string shown(text.substr(0, 80));
        throw UsageError(std::string("invalid resume point (") + why + "): \"" + shown + "\"");
    };
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    std::vector<std::string_view> fields;
    while (!text.empty()) {
        const auto space = text.find(' ');
        fields.push_back(text.substr(0, space));
        if (space == std::string_view::npos) break;
        text.remove_prefix(space + 1);
    }
    if (fields.size() != 4) return fail("expected 4 space-separated fields");
    if (fields[0] != kResumeMagic) return fail("unknown format tag");
    ResumePoint point;
    if (fields[1] != "-") {
        try {
            point.paging_state = PagingState::from_string(fields[1]);
        } catch (const UsageError&) {
            return fail(fields[1].size() % 2 != 0 ? "odd number of hex digits" : "bad hex digit in the paging state");
        }
    }
    const std::string_view rows = fields[2];
    if (rows.empty() || rows.size() > 18 || rows.find_first_not_of("0123456789") != std::string_view::npos)
        return fail("rows to skip is not a non-negative integer");
    for (char c : rows) point.rows_to_skip = point.rows_to_skip * 10 + (c - '0');
    if (fields[3] != "0" && fields[3] != "1") return fail("finished flag must be 0 or 1");
    point.finished = fields[3] == "1";
    if (point.finished && (point.paging_state || point.rows_to_skip != 0))
        return fail("a finished point carries no state");
    return point;
}

// ---------------------------------------------------------------- shared state

namespace detail {

/// A page and the paging state that requested it (what a row-exact resume point re-requests).
struct FetchedPage {
    Page page;
    std::optional<PagingState> request_state;
};

struct StreamState : std::enable_shared_from_this<StreamState> {
    using Signal = asio::experimental::concurrent_channel<void(asio::error_code, bool)>;
    // (not void(error_code): Asio 1.22's buffered specialization for it lacks buffer_push.)

    StreamState(asio::any_io_executor ex, PageFetcher f, StreamConfig c)
        : strand(asio::make_strand(ex)), fetcher(std::move(f)), config(std::move(c)), consumer_wake(ex, 1),
          fetcher_wake(ex, 1), stopped(ex, 1) {
        policy = config.retry_policy ? config.retry_policy : std::make_shared<ExponentialBackoffRetry>();
        next_state = config.start_state;
        if (config.start_finished) fetch_done = true;  // resumed at the end: nothing to request
    }

    // Immutable after construction.
    asio::strand<asio::any_io_executor> strand;
    PageFetcher fetcher;
    StreamConfig config;
    std::shared_ptr<const RetryPolicy> policy;
    Signal consumer_wake;  ///< the consumer re-checks the state
    Signal fetcher_wake;   ///< the fetcher re-checks the state
    Signal stopped;        ///< closed (broadcast) when the fetcher coroutine has stopped

    // Strand only.
    asio::cancellation_signal cancel;
    bool running = false;

    // Guarded by mutex.
    mutable std::mutex mutex;
    std::deque<FetchedPage> buffer;
    std::exception_ptr error;
    bool closed = false;
    std::atomic<bool> closed_flag{false};  ///< `closed`, readable without the mutex (per-row check)
    bool fetch_done = false;  ///< no more pages will be queued
    bool want = true;         ///< the consumer waits on an empty queue
    std::optional<PagingState> next_state;
    std::int64_t pages_fetched = 0;

    void wake_consumer() { consumer_wake.try_send(asio::error_code{}, true); }
    void wake_fetcher() { fetcher_wake.try_send(asio::error_code{}, true); }

    bool is_closed() const {
        std::lock_guard lock(mutex);
        return closed;
    }

    // Any thread; never blocks.
    void request_close() {
        std::deque<FetchedPage> dropped;
        {
            std::lock_guard lock(mutex);
            if (closed) return;
            closed = true;
            closed_flag.store(true, std::memory_order_relaxed);
            dropped.swap(buffer);
            error = nullptr;
        }
        dropped.clear();
        wake_consumer();
        wake_fetcher();
        asio::post(strand, [self = shared_from_this()] {
            if (self->running) self->cancel.emit(asio::cancellation_type::terminal);
        });
    }

    void start() {
        running = true;  // before the coroutine runs; read only on the strand afterwards
        asio::co_spawn(strand, run(shared_from_this()),
                       asio::bind_cancellation_slot(cancel.slot(), asio::detached));
    }

    static asio::awaitable<void> run(std::shared_ptr<StreamState> s) {
        std::exception_ptr failure;
        try {
            co_await s->fetch_loop();
        } catch (...) {
            failure = std::current_exception();
        }
        {
            std::lock_guard lock(s->mutex);
            if (!s->closed && failure) s->error = failure;
            s->fetch_done = true;
        }
        s->running = false;
        s->wake_consumer();
        s->stopped.close();
    }

    asio::awaitable<void> fetch_loop() {
        for (;;) {
            std::optional<PagingState> state;
            for (;;) {
                {
                    std::lock_guard lock(mutex);
                    if (closed || fetch_done) co_return;
                    // A page queued while the consumer waits is as good as taken: the next request
                    // leaves now, before the consumer starts on that page. Waiting for the consumer
                    // to wake us after taking it would, on a one-thread io_context, delay the request
                    // until the consumer yields again, i.e. until it has read the whole page.
                    const std::size_t ahead = buffer.size() - (want && !buffer.empty() ? 1 : 0);
                    if (ahead < config.prefetch_pages || (want && buffer.empty())) {
                        state = next_state;
                        break;
                    }
                }
                auto [ec, unused] = co_await fetcher_wake.async_receive(as_tuple_awaitable());
                (void)unused;
                if (ec) co_return;  // cancelled: the stream is closing
            }
            Page page = co_await fetch_page(state);
            bool last = false;
            {
                std::lock_guard lock(mutex);
                if (closed) co_return;
                ++pages_fetched;
                next_state = page.paging_state();
                last = !page.has_more_pages() || (config.max_pages && pages_fetched >= *config.max_pages);
                buffer.push_back(FetchedPage{std::move(page), std::move(state)});
                if (last) fetch_done = true;
            }
            wake_consumer();
            if (last) co_return;
        }
    }

    // One page, bounded by page_timeout (retries included).
    asio::awaitable<Page> fetch_page(std::optional<PagingState> state) {
        if (!config.page_timeout) co_return co_await fetch_with_retries(state);
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer timer(ex, *config.page_timeout);
        auto [order, fetch_error, page, timer_error] =
            co_await asio::experimental::make_parallel_group(
                asio::co_spawn(ex, fetch_with_retries(state), asio::experimental::deferred),
                timer.async_wait(asio::experimental::deferred))
                .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
        if (order[0] == 0) {
            if (fetch_error) std::rethrow_exception(fetch_error);
            co_return std::move(page);
        }
        if (timer_error) {  // the group itself was cancelled (stream closing)
            if (fetch_error) std::rethrow_exception(fetch_error);
            throw RequestCancelled("stream closed");
        }
        throw StreamTimeout("page not received within " + std::to_string(config.page_timeout->count()) + " ms",
                            std::move(state));
    }

    asio::awaitable<Page> fetch_with_retries(std::optional<PagingState> state) {
        std::optional<std::int32_t> size;
        if (config.fetch_size > 0) size = config.fetch_size;
        for (int attempt = 1;; ++attempt) {
            std::exception_ptr error;
            try {
                co_return co_await fetcher(state, size);
            } catch (...) {
                error = std::current_exception();
            }
            if (is_cancellation(error) || is_closed()) std::rethrow_exception(error);
            const RetryDecision d = policy->decide(error, attempt);
            switch (d.action) {
                case RetryDecision::Action::retry:
                    break;
                case RetryDecision::Action::rethrow:
                    std::rethrow_exception(error);
                case RetryDecision::Action::give_up: {
                    std::string what = "page request failed after " + std::to_string(attempt) + " attempt(s)";
                    try {
                        std::rethrow_exception(error);
                    } catch (const std::exception& e) {
                        what += ": ";
                        what += e.what();
                    } catch (...) {
                    }
                    throw StreamError(what, error, std::move(state), attempt);
                }
            }
            if (d.delay.count() > 0) {
                asio::steady_timer timer(co_await asio::this_coro::executor, d.delay);
                co_await timer.async_wait(asio::use_awaitable);
            }
        }
    }
};

}  // namespace detail

// ---------------------------------------------------------------- consumer side

ResultStream::ResultStream(std::shared_ptr<detail::StreamState> state) noexcept : state_(std::move(state)) {
    if (state_) skip_remaining_ = std::max<std::int64_t>(0, state_->config.skip_rows);
}

ResultStream::ResultStream(ResultStream&& other) noexcept { *this = std::move(other); }

ResultStream& ResultStream::operator=(ResultStream&& other) noexcept {
    if (this != &other) {
        if (state_) state_->request_close();
        state_ = std::move(other.state_);
        current_ = std::move(other.current_);
        row_ = std::exchange(other.row_, 0);
        page_number_ = other.page_number_;
        total_rows_ = other.total_rows_;
        callback_errors_ = other.callback_errors_;
        last_callback_error_ = std::move(other.last_callback_error_);
        skip_remaining_ = other.skip_remaining_;
        position_ = std::move(other.position_);
    }
    return *this;
}

ResultStream::~ResultStream() {
    if (state_) state_->request_close();
}

std::size_t ResultStream::buffered_pages() const {
    if (!state_) return 0;
    std::lock_guard lock(state_->mutex);
    return state_->buffer.size();
}

const std::optional<PagingState>& ResultStream::paging_state() const noexcept {
    static const std::optional<PagingState> none;
    if (position_) return position_->after;  // after the page last taken
    return state_ ? state_->config.start_state : none;
}

ResumePoint ResultStream::resume_point() const {
    ResumePoint point;
    if (!position_) {  // nothing taken yet: where the stream started
        if (!state_) return point;
        point.paging_state = state_->config.start_state;
        point.rows_to_skip = std::max<std::int64_t>(0, state_->config.skip_rows);
        point.finished = state_->config.start_finished;
        return point;
    }
    const Position& p = *position_;
    if (p.consumed >= p.size) {  // the page is used up: continue after it
        point.paging_state = p.after;
        point.finished = !p.after.has_value();
        return point;
    }
    point.paging_state = p.request_state;
    point.rows_to_skip = p.dropped + static_cast<std::int64_t>(p.consumed);
    return point;
}

void ResultStream::deliver(const Page& page) {
    ++page_number_;
    total_rows_ += static_cast<std::int64_t>(page.size());
    if (state_->config.page_callback) {
        try {
            state_->config.page_callback(page_number_, static_cast<std::int64_t>(page.size()), total_rows_);
        } catch (...) {
            ++callback_errors_;
            last_callback_error_ = std::current_exception();
        }
    }
}

asio::awaitable<std::optional<Page>> ResultStream::take_page() {
    // Keep the state alive across suspensions even if *this is moved from meanwhile.
    std::shared_ptr<detail::StreamState> s = state_;
    if (!s) co_return std::nullopt;
    for (;;) {
        std::optional<detail::FetchedPage> page;
        bool more_coming = false;  ///< a page request is (or is about to be) in flight
        std::exception_ptr error;
        bool end = false;
        {
            std::lock_guard lock(s->mutex);
            if (s->closed) {
                end = true;
            } else if (!s->buffer.empty()) {
                page = std::move(s->buffer.front());
                s->buffer.pop_front();
                s->want = false;
                more_coming = !s->fetch_done;
            } else if (s->error) {
                error = s->error;
            } else if (s->fetch_done) {
                end = true;
            } else {
                s->want = true;
            }
        }
        if (page) {
            s->wake_fetcher();  // room in the queue
            // Rows already consumed before a resume are dropped here, page after page if needed.
            const auto drop = static_cast<std::size_t>(
                std::min<std::int64_t>(skip_remaining_, static_cast<std::int64_t>(page->page.size())));
            skip_remaining_ -= static_cast<std::int64_t>(drop);
            Page visible = page->page.drop_front(drop);
            Position p;
            p.request_state = std::move(page->request_state);
            p.after = visible.paging_state();
            p.dropped = static_cast<std::int64_t>(drop);
            p.size = visible.size();
            position_ = std::move(p);
            if (drop > 0 && visible.empty()) continue;  // wholly consumed before: not handed out
            deliver(visible);
            if (s->config.prefetch_pages > 0 && more_coming) {
                // Read-ahead: the fetcher has just asked for the next page, but on a one-thread
                // io_context the request only reaches the socket after two more handler hops
                // (the connection's strand, then its writer). Let them run before the caller
                // starts on this page, so the server works while the caller does.
                auto ex = co_await asio::this_coro::executor;
                co_await asio::post(ex, asio::use_awaitable);
                co_await asio::post(ex, asio::use_awaitable);
            }
            co_return visible;
        }
        if (error) std::rethrow_exception(error);
        if (end) co_return std::nullopt;
        s->wake_fetcher();
        auto [ec, unused] = co_await s->consumer_wake.async_receive(as_tuple_awaitable());
        (void)unused;
        if (ec) throw RequestCancelled("stream wait cancelled");
    }
}

asio::awaitable<void> ResultStream::wait_first() {
    std::shared_ptr<detail::StreamState> s = state_;
    if (!s) co_return;
    for (;;) {
        std::exception_ptr error;
        {
            std::lock_guard lock(s->mutex);
            if (s->closed || !s->buffer.empty() || s->fetch_done) {
                error = s->error;
                if (!error) co_return;
            }
        }
        if (error) std::rethrow_exception(error);
        auto [ec, unused] = co_await s->consumer_wake.async_receive(as_tuple_awaitable());
        (void)unused;
        if (ec) throw RequestCancelled("stream wait cancelled");
    }
}

std::optional<Row> ResultStream::try_next() noexcept {
    if (row_ >= current_.size() || state_->closed_flag.load(std::memory_order_relaxed)) return std::nullopt;
    position_->consumed = ++row_;
    return current_[row_ - 1];
}

asio::awaitable<std::optional<Row>> ResultStream::next() {
    for (;;) {
        if (row_ < current_.size()) co_return try_next();  // nullopt when closed mid-page
        current_ = Page();  // release the finished page before waiting
        row_ = 0;
        std::optional<Page> page = co_await take_page();
        if (!page) co_return std::nullopt;
        current_ = std::move(*page);
    }
}

asio::awaitable<std::optional<Page>> ResultStream::next_page() {
    if (position_) position_->consumed = position_->size;  // unread rows of the current page are skipped
    current_ = Page();
    row_ = 0;
    for (;;) {
        std::optional<Page> page = co_await take_page();
        if (!page) co_return std::nullopt;
        position_->consumed = page->size();  // a page handed out counts as consumed
        if (!page->empty()) co_return page;
    }
}

asio::awaitable<void> ResultStream::close() {
    std::shared_ptr<detail::StreamState> s = state_;
    if (!s) co_return;
    s->request_close();
    // Completes with channel_closed once the fetcher has stopped (at once if it already has).
    auto [ec, unused] = co_await s->stopped.async_receive(as_tuple_awaitable());
    (void)ec;
    (void)unused;
}

// ---------------------------------------------------------------- entry points

asio::awaitable<ResultStream> execute_stream(PageFetcher fetcher, StreamConfig config) {
    if (!fetcher) throw UsageError("execute_stream: no page fetcher");
    if (config.max_pages && *config.max_pages <= 0) throw UsageError("execute_stream: max_pages must be >= 1");
    if (config.page_timeout && config.page_timeout->count() <= 0)
        throw UsageError("execute_stream: page_timeout must be positive");
    auto ex = co_await asio::this_coro::executor;
    auto state = std::make_shared<detail::StreamState>(ex, std::move(fetcher), std::move(config));
    state->start();
    ResultStream stream(state);
    co_await stream.wait_first();
    co_return stream;
}

asio::awaitable<ResultStream> execute_stream(Session session, Statement statement, StreamConfig config) {
    PageFetcher f = [session, st = std::move(statement)](std::optional<PagingState> paging_state,
                                                         std::optional<std::int32_t> page_size) {
        return session.execute_page(st, std::move(paging_state), page_size);
    };
    co_return co_await execute_stream(std::move(f), std::move(config));
}

asio::awaitable<ResultStream> execute_stream(Session session, BoundStatement statement, StreamConfig config) {
    PageFetcher f = [session, st = std::move(statement)](std::optional<PagingState> paging_state,
                                                         std::optional<std::int32_t> page_size) {
        return session.execute_page(st, std::move(paging_state), page_size);
    };
    co_return co_await execute_stream(std::move(f), std::move(config));
}

}  // namespace async_cassandra
