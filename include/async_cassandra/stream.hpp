// Streaming of large results: rows or pages are pulled one page at a time, with bounded read-ahead,
// without blocking the event loop and with memory bounded by (1 + prefetch_pages) pages.
//
//   StreamConfig config;
//   config.fetch_size = 5000;
//   auto stream = co_await execute_stream(session, statement, config);
//   // StreamConfig{} inside the co_await is fine too: it is not an aggregate (GCC 12 note in
//   // session.hpp), so designated initialisers are not available; set the fields instead.
//   while (auto row = co_await stream.next()) { ... }        // row valid until the next next()
//   // or, without a coroutine round trip per row: try_next() (rows of the page in hand), then
//   // co_await next() when it returns nullopt (see try_next())
//   // or: while (auto page = co_await stream.next_page()) { for (Row r : *page) ... }
//
// Design: one background fetcher coroutine per stream (on a strand of the executor that called
// execute_stream) requests pages through an abstract PageFetcher and queues them; the caller takes
// them with next()/next_page(). At most one page request is in flight (the next paging state comes
// with the previous page). Leaving early (break, exception, destruction, close(), cancellation of
// the consuming coroutine followed by destruction) drops every queued page and cancels the request
// in flight through its cancellation slot (a Session then orphans the stream id); the destructor
// never blocks. The stream must be destroyed before the io_context of its executor.
//
// Threading: one consumer at a time may call next()/next_page() (from any executor); close() and
// the destructor may run concurrently with a suspended next()/next_page() (from any thread).
#pragma once

#include <async_cassandra/error.hpp>
#include <async_cassandra/paging_state.hpp>
#include <async_cassandra/row.hpp>
#include <async_cassandra/server_errors.hpp>
#include <async_cassandra/session.hpp>
#include <async_cassandra/statement.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace async_cassandra {

/// Requests one page: `paging_state` (nullopt = first page) and `page_size` (nullopt = the
/// statement's/cluster's default). Must honour the cancellation slot of the awaiting coroutine
/// (abandon the request, throw). Called only from the stream's fetcher coroutine, one call at a
/// time. Session::execute_page is the production implementation; tests script fake pages.
using PageFetcher =
    std::function<asio::awaitable<Page>(std::optional<PagingState> paging_state, std::optional<std::int32_t> page_size)>;

/// What to do with a failed page request.
struct RetryDecision {
    enum class Action {
        retry,    ///< request the same page again (same paging state) after `delay`
        rethrow,  ///< not retryable: the caller gets the original exception
        give_up,  ///< retryable but out of attempts: the caller gets a StreamError
    };
    Action action = Action::rethrow;
    std::chrono::milliseconds delay{0};

    static RetryDecision retry_after(std::chrono::milliseconds d) {
        RetryDecision r;
        r.action = Action::retry;
        r.delay = d;
        return r;
    }
    static RetryDecision rethrow() { return RetryDecision{}; }
    static RetryDecision give_up() {
        RetryDecision r;
        r.action = Action::give_up;
        return r;
    }
};

/// Decides whether a failed page request is retried. Called from the fetcher coroutine; must be
/// thread-safe if shared between streams (decide is const). Cancellation is never retried (the
/// policy is not asked).
class RetryPolicy {
public:
    virtual ~RetryPolicy() = default;
    /// `error` is the failure of attempt number `attempt` (1 = first request of this page).
    virtual RetryDecision decide(const std::exception_ptr& error, int attempt) const = 0;
};

/// Default policy: retries transient failures (Timeout, ConnectionClosed, NoHostAvailable,
/// Overloaded, IsBootstrapping, Unavailable, ReadTimeout, ServerInternalError) up to
/// `max_retries` times with exponential back-off (base_delay * 2^(attempt-1), capped at
/// max_delay); everything else (SyntaxError, InvalidRequest, Unauthorized, ...) is rethrown.
class ExponentialBackoffRetry : public RetryPolicy {
public:
    explicit ExponentialBackoffRetry(int max_retries = 3,
                                     std::chrono::milliseconds base_delay = std::chrono::milliseconds(100),
                                     std::chrono::milliseconds max_delay = std::chrono::milliseconds(5000))
        : max_retries_(max_retries), base_delay_(base_delay), max_delay_(max_delay) {}
    RetryDecision decide(const std::exception_ptr& error, int attempt) const override;
    /// Whether `error` is a transient failure worth retrying.
    static bool is_transient(const std::exception_ptr& error);

private:
    int max_retries_;
    std::chrono::milliseconds base_delay_;
    std::chrono::milliseconds max_delay_;
};

/// Never retries (transient errors give up at once: StreamError).
class NoRetry : public RetryPolicy {
public:
    RetryDecision decide(const std::exception_ptr& error, int attempt) const override;
};

/// A page request kept failing (retries exhausted). paging_state() is the state that
/// re-requests that page (nullopt: the first page of the statement); resume with
/// StreamConfig::resume_from. cause() is the last failure, attempts() the requests made.
class StreamError : public Error {
public:
    StreamError(const std::string& what, std::exception_ptr cause, std::optional<PagingState> paging_state,
                 int attempts)
        : Error(what), cause_(std::move(cause)), paging_state_(std::move(paging_state)), attempts_(attempts) {}
    const std::exception_ptr& cause() const noexcept { return cause_; }
    const std::optional<PagingState>& paging_state() const noexcept { return paging_state_; }
    int attempts() const noexcept { return attempts_; }

private:
    std::exception_ptr cause_;
    std::optional<PagingState> paging_state_;
    int attempts_;
};

/// A page did not arrive within StreamConfig::page_timeout (retries included). The request was
/// abandoned; paging_state() re-requests the same page.
class StreamTimeout : public Timeout {
public:
    StreamTimeout(const std::string& what, std::optional<PagingState> paging_state)
        : Timeout(what), paging_state_(std::move(paging_state)) {}
    const std::optional<PagingState>& paging_state() const noexcept { return paging_state_; }

private:
    std::optional<PagingState> paging_state_;
};

/// A row-exact position in a stream, to continue it later (possibly in another process): the
/// paging state that requests the page the position is in, and how many rows of the stream from
/// there have already been consumed. Unlike a bare paging state (page-granular), resuming from a
/// ResumePoint loses no row and repeats no row even when the consumer stopped in the middle of a
/// page, and whatever fetch_size the resumed stream uses. Take it with ResultStream::resume_point()
/// and continue with StreamConfig::resume_from(point) on the same statement.
struct ResumePoint {
    // A declared constructor keeps this type from being an aggregate: GCC 12 destroys an
    // aggregate-initialised temporary inside a co_await expression twice (see the GCC 12 note in session.hpp).
    ResumePoint() = default;

    /// Paging state of the page to re-request; std::nullopt = the first page of the statement.
    std::optional<PagingState> paging_state;
    /// Rows to skip after `paging_state` (those already consumed).
    std::int64_t rows_to_skip = 0;
    /// The stream had been consumed to its end: a stream resumed from here yields nothing.
    bool finished = false;

    /// Text form for resume files: one line of ASCII ("acass-resume-1 <hex state|-> <rows> <0|1>").
    std::string to_string() const;
    /// Parses to_string()'s form; throws UsageError for anything else.
    static ResumePoint from_string(std::string_view text);
    friend bool operator==(const ResumePoint&, const ResumePoint&) = default;
};

/// How execute_stream pages: page size, read-ahead, limits, progress callback, retries, resume.
struct StreamConfig {
    // A declared constructor keeps this type from being an aggregate: GCC 12 destroys an
    // aggregate-initialised temporary inside a co_await expression twice (see the GCC 12 note in session.hpp).
    StreamConfig() = default;

    /// Page size sent to the server; <= 0 = the statement's (or the cluster's) page size.
    std::int32_t fetch_size = 5000;
    /// Pages fetched ahead of the caller (0 = a page is requested only when the caller needs it).
    /// Memory holds at most 1 + prefetch_pages pages.
    std::size_t prefetch_pages = 1;
    /// Stop after this many pages (counted from the start or resume point).
    std::optional<std::int64_t> max_pages;
    /// Longest wait for one page (all retries included); nullopt = no limit. On expiry the
    /// request is abandoned and the caller gets StreamTimeout.
    std::optional<std::chrono::milliseconds> page_timeout = std::chrono::seconds(30);
    /// Called once per page received from the server, when the caller takes it (from next() /
    /// next_page(), on the caller's coroutine, never on the I/O path), with (page number from 1,
    /// rows in the page, rows so far including this page). Exceptions it throws are caught and
    /// counted (ResultStream::callback_errors()); the stream goes on.
    std::function<void(std::int64_t page_number, std::int64_t rows_in_page, std::int64_t total_rows)> page_callback;
    /// Retry policy for failed page requests; null = ExponentialBackoffRetry().
    std::shared_ptr<const RetryPolicy> retry_policy;
    /// Paging state to start from (see resume_from); nullopt = from the first page.
    std::optional<PagingState> start_state;
    /// Rows to drop at the start of the stream (a ResumePoint's rows_to_skip); they are not
    /// counted in total_rows_fetched() nor shown to the page callback.
    std::int64_t skip_rows = 0;
    /// Set by resume_from(a finished ResumePoint): the stream yields nothing, no request is sent.
    bool start_finished = false;

    /// A copy of this config that starts at `paging_state` (a ResultStream::paging_state(),
    /// StreamError::paging_state() or StreamTimeout::paging_state() of the same statement).
    StreamConfig resume_from(std::optional<PagingState> paging_state) const {
        StreamConfig c = *this;
        c.start_state = std::move(paging_state);
        c.skip_rows = 0;
        c.start_finished = false;
        return c;
    }
    /// A copy of this config that continues exactly at `point` (ResultStream::resume_point()).
    StreamConfig resume_from(const ResumePoint& point) const {
        StreamConfig c = *this;
        c.start_state = point.paging_state;
        c.skip_rows = point.rows_to_skip;
        c.start_finished = point.finished;
        return c;
    }
};

namespace detail {
struct StreamState;
}

/// A running stream (move-only). See the file comment for threading and lifetimes.
class ResultStream {
public:
    ResultStream() = default;
    explicit ResultStream(std::shared_ptr<detail::StreamState> state) noexcept;
    ResultStream(ResultStream&& other) noexcept;
    ResultStream& operator=(ResultStream&& other) noexcept;
    ResultStream(const ResultStream&) = delete;
    ResultStream& operator=(const ResultStream&) = delete;
    /// Closes the stream without waiting (drops pages, cancels the request in flight).
    ~ResultStream();

    /// The next row, std::nullopt at the end (or after close()). The Row is valid until the next
    /// call of next()/next_page() or the destruction of the stream (copy the values you keep).
    /// Skips empty pages. Throws StreamError / StreamTimeout (see StreamConfig), the original
    /// error when not retryable, RequestCancelled when the awaiting coroutine is cancelled (the
    /// stream stays usable). Completes on the caller's executor.
    asio::awaitable<std::optional<Row>> next();

    /// The next row of the page already received, without suspending; std::nullopt when that
    /// page is used up (or the stream was closed): then `co_await next()` waits for the next
    /// page and returns its first row. A loop written with it pays a coroutine round trip per
    /// page instead of per row (about 130 instructions per row):
    ///
    ///     for (;;) {
    ///         std::optional<Row> row = stream.try_next();
    ///         if (!row) row = co_await stream.next();  // page boundary (or the end)
    ///         if (!row) break;
    ///         ...
    ///     }
    ///
    /// Row validity and resume_point() accounting as next(). Never throws, never waits.
    std::optional<Row> try_next() noexcept;

    /// The next non-empty page (rows not yet read with next() from the current page are
    /// skipped), std::nullopt at the end. The Page owns its buffer (may outlive the stream).
    /// Errors and cancellation as next().
    asio::awaitable<std::optional<Page>> next_page();

    /// Closes the stream: drops queued pages, cancels the request in flight, makes a pending or
    /// later next()/next_page() return std::nullopt, and completes once the fetcher coroutine has
    /// stopped. Idempotent; safe concurrently with a suspended next()/next_page().
    asio::awaitable<void> close();

    /// Pages handed to the caller so far (counting empty pages), starting at 1 for the first.
    std::int64_t page_number() const noexcept { return page_number_; }
    /// Rows in the pages handed to the caller so far.
    std::int64_t total_rows_fetched() const noexcept { return total_rows_; }
    /// Page-granular resume token: the paging state that continues after the page most recently
    /// handed to the caller (before any page: the start state); std::nullopt after the last page
    /// (and before the first one of a stream started from the beginning). Resuming from it loses
    /// no row once that whole page has been processed; a consumer that may stop in the middle of
    /// a page should save resume_point() instead.
    const std::optional<PagingState>& paging_state() const noexcept;
    /// Row-exact resume position: everything handed out so far (every row returned by next(),
    /// every page returned by next_page()) counts as consumed. Valid at any time, including
    /// after an error (it then re-requests what failed) or close(); finished once the stream
    /// reached its end. Prefer it to paging_state() for row-by-row consumers.
    ResumePoint resume_point() const;
    /// Exceptions thrown by page_callback so far, and the last one.
    std::int64_t callback_errors() const noexcept { return callback_errors_; }
    std::exception_ptr last_callback_error() const noexcept { return last_callback_error_; }
    /// Pages received and not yet handed to the caller (diagnostics; at most prefetch_pages,
    /// or 1 with prefetch_pages = 0).
    std::size_t buffered_pages() const;
    /// False for a default-constructed or moved-from stream.
    bool valid() const noexcept { return state_ != nullptr; }

    /// Waits until the first page (or the failure of its request) has arrived; used by
    /// execute_stream. Throws like next().
    asio::awaitable<void> wait_first();

private:
    asio::awaitable<std::optional<Page>> take_page();
    void deliver(const Page& page);

    std::shared_ptr<detail::StreamState> state_;
    Page current_;
    std::size_t row_ = 0;
    std::int64_t page_number_ = 0;
    std::int64_t total_rows_ = 0;
    std::int64_t callback_errors_ = 0;
    std::exception_ptr last_callback_error_;
    std::int64_t skip_remaining_ = 0;  ///< rows of a resume point not yet dropped

    /// Where the consumer is: in the page last taken from the queue (see resume_point()).
    struct Position {
        std::optional<PagingState> request_state;  ///< requested that page
        std::optional<PagingState> after;          ///< continues after it
        std::int64_t dropped = 0;                      ///< rows dropped at its front (resume skip)
        std::size_t size = 0;                          ///< rows handed out from it
        std::size_t consumed = 0;                      ///< of those, consumed so far
    };
    std::optional<Position> position_;
};

/// Starts a stream over `fetcher` on the caller's executor and waits for the first page.
/// Throws what the first page request throws (after retries), UsageError for a bad config.
/// The fetcher (and what it captures) lives until the stream's fetcher coroutine stops.
asio::awaitable<ResultStream> execute_stream(PageFetcher fetcher, StreamConfig config);

/// Streams a simple statement (every statement option applies; fetch_size overrides its page
/// size when > 0). Errors as above. The session must stay usable while the stream runs; its
/// shutdown fails the stream (ConnectionClosed / RequestCancelled...).
asio::awaitable<ResultStream> execute_stream(Session session, Statement statement, StreamConfig config);
/// Streams a bound prepared statement. Errors as above (UNPREPARED is handled by the session).
asio::awaitable<ResultStream> execute_stream(Session session, BoundStatement statement, StreamConfig config);

}  // namespace async_cassandra
