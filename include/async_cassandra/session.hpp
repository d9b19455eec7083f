// Session: executes statements on the connections of a Cluster (see cluster.hpp).
//
// Threading: a Session may be used from any number of coroutines at once, on any executor;
// every operation completes on the awaiting coroutine's executor. Cancellation: the awaiting
// coroutine's cancellation slot (e.g. awaitable_operators `||`, parallel_group) abandons the
// request in flight (its stream id stays reserved until the server answers) and throws
// RequestCancelled. A Session is a cheap handle (shared state): copies use the same pool.
//
// GCC 12 note: GCC 12 destroys an aggregate-initialised temporary inside a co_await expression
// twice (`co_await f(Agg{...})`, `co_await f({...})` for an aggregate parameter: a double free).
// Types with constructors are not affected. Every type of this API that a call takes by value
// (Statement, BoundStatement, Batch, StreamConfig, ScanConfig, StatementOptions, ResumePoint,
// PagingState, Value, Decimal, ...) has a constructor, so `co_await session.execute_stream(
// Statement{"..."}, StreamConfig{})` is safe; what stays unsafe is your own aggregates (and
// std::vector/std::map braced lists, which GCC 12 rejects inside co_await): name them in a local
// variable first. tests/integration/test_client_co_await_temporaries.cpp guards this under ASan.
#pragma once

#include <async_cassandra/config.hpp>
#include <async_cassandra/metadata.hpp>
#include <async_cassandra/paging_state.hpp>
#include <async_cassandra/result.hpp>
#include <async_cassandra/server_errors.hpp>
#include <async_cassandra/statement.hpp>

#include <asio/awaitable.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace async_cassandra {

namespace detail {
class SessionImpl;
}

// Defined in stream.hpp, which includes this header (so only declared here; include stream.hpp,
// or the umbrella async_cassandra.hpp, to call execute_stream).
class ResultStream;
struct StreamConfig;

/// Outcome of one item of Session::execute_concurrent.
struct ExecutionOutcome {
    std::exception_ptr error;  ///< null on success
    ResultSet result;
    bool ok() const noexcept { return !error; }
};

/// Options of Session::execute_concurrent.
struct ConcurrencyOptions {
    /// Statements in flight at once (>= 1).
    std::size_t concurrency = 50;
};

/// Executes statements on a Cluster's connections: a cheap, copyable handle usable from any
/// number of coroutines at once (see the file comment for threading and cancellation).
class Session {
public:
    /// A session that is not connected (every operation throws UsageError).
    Session() = default;
    explicit Session(std::shared_ptr<detail::SessionImpl> impl) : impl_(std::move(impl)) {}

    /// Executes `query` with `values` bound to its markers as their natural CQL types and
    /// returns every page of the result (following the paging state). Throws ServerError
    /// subclasses (what the node said), Timeout, ConnectionClosed, NoHostAvailable,
    /// RequestCancelled, TypeError (a value cannot be encoded).
    template <class... Ts>
    asio::awaitable<ResultSet> execute(std::string_view query, const Ts&... values) const {
        Statement s{std::string(query)};
        (s.bind(Value(values)), ...);
        return execute(std::move(s));
    }
    /// Executes a simple statement (every page). Errors as above.
    asio::awaitable<ResultSet> execute(Statement statement) const;
    /// Executes a bound prepared statement (every page). Re-prepares once on UNPREPARED.
    asio::awaitable<ResultSet> execute(BoundStatement statement) const;
    /// Executes a bound statement the caller keeps (to retry it, to report it): the request is
    /// encoded straight from `*statement`, its values are not copied (execute(BoundStatement)
    /// holds a copy: with large values that is one more value in memory). UsageError if null.
    asio::awaitable<ResultSet> execute(std::shared_ptr<const BoundStatement> statement) const;
    /// Executes a BATCH. Re-prepares once on UNPREPARED.
    asio::awaitable<ResultSet> execute_batch(Batch batch) const;

    /// Error-code style: never throws for request failures; the exception_ptr is null on
    /// success (std::bad_alloc may still propagate).
    asio::awaitable<std::pair<std::exception_ptr, ResultSet>> try_execute(Statement statement) const;
    asio::awaitable<std::pair<std::exception_ptr, ResultSet>> try_execute(BoundStatement statement) const;
    asio::awaitable<std::pair<std::exception_ptr, ResultSet>> try_execute(
        std::shared_ptr<const BoundStatement> statement) const;

    /// One request, one page: sends `statement` with `paging_state` (nullopt = first page) and
    /// `page_size` (nullopt = the statement's or the cluster's default) and returns that page;
    /// Page::paging_state() continues it. For the streaming layer and manual paging. A statement
    /// that returns no rows yields an empty page without columns.
    asio::awaitable<Page> execute_page(Statement statement, std::optional<PagingState> paging_state,
                                       std::optional<std::int32_t> page_size = std::nullopt) const;
    asio::awaitable<Page> execute_page(BoundStatement statement, std::optional<PagingState> paging_state,
                                       std::optional<std::int32_t> page_size = std::nullopt) const;

    /// Streams the result page by page with bounded memory: the same as the free functions
    /// execute_stream(session, statement, config) of stream.hpp (see there for errors).
    asio::awaitable<ResultStream> execute_stream(Statement statement, StreamConfig config) const;
    asio::awaitable<ResultStream> execute_stream(BoundStatement statement, StreamConfig config) const;

    /// Prepares `query` (cached per session: the same text yields the same PreparedStatement,
    /// with one PREPARE in flight per text). Throws like execute().
    asio::awaitable<PreparedStatement> prepare(std::string query) const;

    /// Executes `prepared` once per element of `params` (each a tuple of values, bound with
    /// PreparedStatement::bind_tuple), at most `options.concurrency` at a time, and returns the
    /// outcome of each in order. Never throws for an item's failure (see ExecutionOutcome).
    /// `params` must stay alive until completion; items are bound lazily.
    template <std::ranges::random_access_range R>
    asio::awaitable<std::vector<ExecutionOutcome>> execute_concurrent(PreparedStatement prepared, const R& params,
                                                                      ConcurrencyOptions options = {}) const {
        const std::size_t n = static_cast<std::size_t>(std::ranges::size(params));
        auto first = std::ranges::begin(params);
        std::function<BoundStatement(std::size_t)> make = [prepared, first](std::size_t i) {
            return prepared.bind_tuple(*(first + static_cast<std::ptrdiff_t>(i)));
        };
        return execute_concurrent_impl(n, std::move(make), options);
    }

    /// Runs USE on every pooled connection (and on connections opened later). Throws like
    /// execute(); InvalidRequest for an unknown keyspace.
    asio::awaitable<void> set_keyspace(std::string keyspace) const;
    /// The current keyspace ("" when none).
    std::string keyspace() const;

    /// Closes every connection; pending requests fail with ConnectionClosed. Idempotent.
    asio::awaitable<void> shutdown() const;

    /// Number of open pooled connections (diagnostics).
    std::size_t open_connections() const;
    /// Requests sent and not yet answered, over every open connection, including those whose
    /// caller gave up (timeout, cancellation, abandoned stream) while their stream id waits for the
    /// late response. Diagnostics: returns to zero once the session is idle.
    std::size_t in_flight_requests() const;
    /// The CQL protocol version (4 or 5) this session's cluster negotiated once, on its first
    /// connection, and uses for every connection; nullopt for a Session that is not connected.
    std::optional<int> protocol_version() const;
    /// The metadata of this session's cluster (Cluster::metadata(): hosts with their tokens,
    /// schema) as its control connection last read it; empty for a Session that is not
    /// connected or whose cluster has no control connection.
    ClusterMetadata metadata() const;

private:
    asio::awaitable<std::vector<ExecutionOutcome>> execute_concurrent_impl(
        std::size_t count, std::function<BoundStatement(std::size_t)> make, ConcurrencyOptions options) const;
    detail::SessionImpl& checked() const;

    std::shared_ptr<detail::SessionImpl> impl_;
};

}  // namespace async_cassandra
