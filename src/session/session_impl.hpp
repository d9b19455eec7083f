// Internal state of a Session: its keyspace and the shared pools of that keyspace, the
// prepared-statement cache, and the operations, each a thin layer over the RequestExecutor
// (build the request, run it through the executor, turn the reply into a result).
#pragma once

#include "cluster/cluster_core.hpp"
#include "session/request_builder.hpp"
#include "session/request_executor.hpp"

#include <async_cassandra/config.hpp>
#include <async_cassandra/session.hpp>

#include <asio/awaitable.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace async_cassandra::detail {

/// One page of a result plus the non-row parts of the response.
struct PageReply {
    std::optional<Page> page;  ///< set for a Rows result
    std::optional<std::string> keyspace_set;
    std::optional<SchemaChangeInfo> schema_change;
    ResponseInfo info;  ///< warnings, tracing id, custom payload (also on `page`)
};

class SessionImpl : public std::enable_shared_from_this<SessionImpl> {
public:
    SessionImpl(std::shared_ptr<cluster::ClusterCore> core, std::string keyspace);
    ~SessionImpl();

    /// Opens the pools of the usable hosts; throws NoHostAvailable when no host could be
    /// reached, the host's own error when it refused (bad credentials, unknown keyspace).
    asio::awaitable<void> start();

    /// A statement moved into the operation that executes it: the frame owns it, so the
    /// StatementRef made of it stays valid for every page.
    using OwnedStatement = std::variant<Statement, BoundStatement, std::shared_ptr<const BoundStatement>>;
    /// Every page of `statement`, or the error (returned, never thrown). One coroutine frame per
    /// execution: the paging loop, each page's request through the executor and its reply turned
    /// into the result all run in it (with 1,024 requests in flight every frame and every byte of
    /// one is held 1,024 times over: the caches hold fewer of them).
    asio::awaitable<std::pair<std::exception_ptr, ResultSet>> execute_all(OwnedStatement statement);
    asio::awaitable<PageReply> execute_one(StatementRef st, std::optional<PagingState> paging_state,
                                           std::optional<std::int32_t> page_size);
    asio::awaitable<ResultSet> execute_batch(const Batch& batch);
    asio::awaitable<PreparedStatement> prepare(std::string query);
    asio::awaitable<void> set_keyspace(std::string keyspace);
    asio::awaitable<std::vector<ExecutionOutcome>> execute_concurrent(std::size_t count,
                                                                      std::function<BoundStatement(std::size_t)> make,
                                                                      std::size_t concurrency);
    void shutdown();
    std::string keyspace() const;
    std::size_t open_connections() const;
    std::size_t in_flight_requests() const;
    const ClusterConfig& config() const noexcept { return core_->config(); }
    std::optional<int> protocol_version() const noexcept { return core_->protocol_version(); }
    ClusterMetadata metadata() const { return core_->metadata(); }

private:
    struct PrepareEntry;

    /// An executor over the current keyspace's pools (throws ConnectionClosed after shutdown).
    RequestExecutor executor() const;
    /// Opens `pools` on every usable host (see start()).
    asio::awaitable<void> open_pools(std::shared_ptr<cluster::KeyspacePools> pools);
    /// The pools of `keyspace`, attached to this session and opened (detached again on failure):
    /// the one path of start() and set_keyspace().
    asio::awaitable<std::shared_ptr<cluster::KeyspacePools>> attach_pools(std::string keyspace);
    /// Runs `request` (owned by the coroutine frame) through the executor.
    asio::awaitable<PageReply> run(RequestBuilder request, const PreparedData* prepared);
    /// Runs `request` through `exec` to an answer in `out` (not a coroutine: see session_impl.cpp).
    asio::awaitable<void> send(RequestExecutor& exec, RequestBuilder& request, RequestExecutor::Answer& out) const;
    /// What execute_all() must still await after a page's answer.
    struct AfterPage {
        bool schema_changed = false;    ///< DDL: wait for schema agreement
        bool keyspace_changed = false;  ///< USE to another keyspace: move the session there
    };
    /// Adds `answer`'s page and response parts to `rs`; `next` becomes the next page's paging
    /// state (nullopt: the last page). A plain function: its locals stay out of the frame.
    AfterPage add_answer(ResultSet& rs, const RequestExecutor& exec, RequestExecutor::Answer& answer,
                         const PreparedData* prepared, std::optional<PagingState>& next);
    PageReply to_page_reply(net::Reply& reply, const PreparedData* prepared);
    /// The result of `answer`, the reply to a request run through `exec` (see run()).
    PageReply page_reply_of(const RequestExecutor& exec, RequestExecutor::Answer& answer, const PreparedData* prepared);
    asio::awaitable<void> run_concurrent_worker(std::shared_ptr<struct ConcurrentState> state);

    std::shared_ptr<cluster::ClusterCore> core_;
    mutable std::mutex mutex_;  ///< guards everything below
    std::string keyspace_;
    std::shared_ptr<cluster::KeyspacePools> pools_;  ///< null after shutdown
    std::map<std::string, std::shared_ptr<PrepareEntry>> prepared_;
};

}  // namespace async_cassandra::detail
