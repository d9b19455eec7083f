#include "session/session_impl.hpp"

#include <async_cassandra/cluster.hpp>
#include <async_cassandra/stream.hpp>

#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

namespace async_cassandra {

asio::awaitable<Session> Cluster::connect(std::optional<std::string> keyspace) {
    auto core = state_->core;
    co_await core->start_topology();
    auto impl = std::make_shared<detail::SessionImpl>(core, keyspace.value_or(""));
    co_await impl->start();
    co_return Session(impl);
}

void PreparedStatement::check_arity(std::size_t n) const {
    if (!data_) throw UsageError("bind() on an empty PreparedStatement");
    if (n != data_->bind_markers->size())
        throw UsageError("statement has " + std::to_string(data_->bind_markers->size()) + " bind markers, " +
                         std::to_string(n) + " values given: " + data_->query);
}

Row ResultSet::at(std::size_t i) const {
    std::size_t k = i;
    for (const auto& p : pages_) {
        if (k < p.size()) return p[k];
        k -= p.size();
    }
    throw UsageError("row " + std::to_string(i) + " out of range (" + std::to_string(size()) + " rows)");
}

const Columns& ResultSet::columns() const noexcept {
    static const Columns none;
    return pages_.empty() ? none : pages_.front().columns();
}

detail::SessionImpl& Session::checked() const {
    if (!impl_) throw UsageError("the Session is not connected");
    return *impl_;
}

namespace {
/// execute() of any statement: the session's one frame of the execution, plus this one to throw.
asio::awaitable<ResultSet> execute_throwing(std::shared_ptr<detail::SessionImpl> impl,
                                            detail::SessionImpl::OwnedStatement statement) {
    if (!impl) throw UsageError("the Session is not connected");
    auto execution = impl->execute_all(std::move(statement));  // named: GCC 12 and co_await temporaries
    std::pair<std::exception_ptr, ResultSet> outcome = co_await std::move(execution);
    if (outcome.first) std::rethrow_exception(outcome.first);
    co_return std::move(outcome.second);
}

asio::awaitable<std::pair<std::exception_ptr, ResultSet>> not_connected() {
    co_return std::pair<std::exception_ptr, ResultSet>{std::make_exception_ptr(UsageError("the Session is not connected")),
                                                       ResultSet()};
}

/// try_execute(): not a coroutine, the session's frame of the execution is the only one.
asio::awaitable<std::pair<std::exception_ptr, ResultSet>> execute_returning_error(
    const std::shared_ptr<detail::SessionImpl>& impl, detail::SessionImpl::OwnedStatement statement) {
    if (!impl) return not_connected();
    return impl->execute_all(std::move(statement));
}

}  // namespace

asio::awaitable<ResultSet> Session::execute(Statement statement) const {
    return execute_throwing(impl_, std::move(statement));
}

asio::awaitable<ResultSet> Session::execute(BoundStatement statement) const {
    return execute_throwing(impl_, std::move(statement));
}

asio::awaitable<ResultSet> Session::execute(std::shared_ptr<const BoundStatement> statement) const {
    return execute_throwing(impl_, std::move(statement));
}

asio::awaitable<ResultSet> Session::execute_batch(Batch batch) const {
    auto impl = checked().shared_from_this();
    co_return co_await impl->execute_batch(batch);
}

asio::awaitable<std::pair<std::exception_ptr, ResultSet>> Session::try_execute(Statement statement) const {
    return execute_returning_error(impl_, std::move(statement));
}

asio::awaitable<std::pair<std::exception_ptr, ResultSet>> Session::try_execute(BoundStatement statement) const {
    return execute_returning_error(impl_, std::move(statement));
}

asio::awaitable<std::pair<std::exception_ptr, ResultSet>> Session::try_execute(
    std::shared_ptr<const BoundStatement> statement) const {
    return execute_returning_error(impl_, std::move(statement));
}

asio::awaitable<Page> Session::execute_page(Statement statement, std::optional<PagingState> paging_state,
                                            std::optional<std::int32_t> page_size) const {
    auto impl = checked().shared_from_this();
    const detail::StatementRef ref = detail::statement_ref(statement);
    detail::PageReply pr = co_await impl->execute_one(ref, std::move(paging_state), page_size);
    co_return pr.page ? std::move(*pr.page) : Page();
}

asio::awaitable<Page> Session::execute_page(BoundStatement statement, std::optional<PagingState> paging_state,
                                            std::optional<std::int32_t> page_size) const {
    auto impl = checked().shared_from_this();
    const detail::StatementRef ref = detail::statement_ref(statement);
    detail::PageReply pr = co_await impl->execute_one(ref, std::move(paging_state), page_size);
    co_return pr.page ? std::move(*pr.page) : Page();
}

// Plain forwarders, not coroutines: the returned awaitable owns the arguments (the free
// functions take them by value), so nothing here outlives its frame.
asio::awaitable<ResultStream> Session::execute_stream(Statement statement, StreamConfig config) const {
    return async_cassandra::execute_stream(*this, std::move(statement), std::move(config));
}

asio::awaitable<ResultStream> Session::execute_stream(BoundStatement statement, StreamConfig config) const {
    return async_cassandra::execute_stream(*this, std::move(statement), std::move(config));
}

asio::awaitable<PreparedStatement> Session::prepare(std::string query) const {
    auto impl = checked().shared_from_this();
    co_return co_await impl->prepare(std::move(query));
}

asio::awaitable<std::vector<ExecutionOutcome>> Session::execute_concurrent_impl(
    std::size_t count, std::function<BoundStatement(std::size_t)> make, ConcurrencyOptions options) const {
    auto impl = checked().shared_from_this();
    co_return co_await impl->execute_concurrent(count, std::move(make), options.concurrency);
}

asio::awaitable<void> Session::set_keyspace(std::string keyspace) const {
    auto impl = checked().shared_from_this();
    co_await impl->set_keyspace(std::move(keyspace));
}

std::string Session::keyspace() const { return impl_ ? impl_->keyspace() : std::string(); }

asio::awaitable<void> Session::shutdown() const {
    if (impl_) impl_->shutdown();
    co_return;
}

std::size_t Session::open_connections() const { return impl_ ? impl_->open_connections() : 0; }
std::size_t Session::in_flight_requests() const { return impl_ ? impl_->in_flight_requests() : 0; }
std::optional<int> Session::protocol_version() const {
    return impl_ ? impl_->protocol_version() : std::nullopt;
}
ClusterMetadata Session::metadata() const { return impl_ ? impl_->metadata() : ClusterMetadata{}; }

}  // namespace async_cassandra
