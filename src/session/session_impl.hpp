// Internal state of a Session: the connection pool, the prepared-statement cache, and the
// request path (build request, pick connection, send, map errors, re-prepare, page).
#pragma once

#include "net/connection.hpp"
#include "net/logging.hpp"

#include <async_cassandra/config.hpp>
#include <async_cassandra/session.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace async_cassandra::detail {

/// What one request sends: a simple or a bound statement, its values and options.
struct StatementRef {
    const std::string* query = nullptr;                  ///< simple statement
    std::shared_ptr<const PreparedData> prepared;        ///< bound statement
    const EncodedValues* values = nullptr;
    const StatementOptions* options = nullptr;
};

/// One page of a result plus the non-row parts of the response.
struct PageReply {
    std::optional<Page> page;  ///< set for a Rows result
    std::optional<std::string> keyspace_set;
    std::optional<SchemaChangeInfo> schema_change;
    ResponseInfo info;  ///< warnings, tracing id, custom payload (also on `page`)
};

class SessionImpl : public std::enable_shared_from_this<SessionImpl> {
public:
    SessionImpl(asio::any_io_executor executor, ClusterConfig config, std::string keyspace);
    ~SessionImpl();

    /// Opens the initial pool; throws NoHostAvailable when no host could be reached.
    asio::awaitable<void> start();

    asio::awaitable<ResultSet> execute_all(StatementRef st);
    asio::awaitable<PageReply> execute_one(StatementRef st, std::optional<protocol::Bytes> paging_state,
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
    const ClusterConfig& config() const noexcept { return config_; }

private:
    struct Slot {
        std::shared_ptr<net::Connection> connection;
        bool reconnecting = false;
        std::chrono::steady_clock::time_point next_attempt{};
    };
    struct HostPool {
        std::string host;
        std::vector<Slot> slots;
    };
    struct PrepareEntry;

    asio::awaitable<std::shared_ptr<net::Connection>> acquire();
    asio::awaitable<std::shared_ptr<net::Connection>> open_connection(std::string host);
    asio::awaitable<void> reconnect(std::size_t host, std::size_t slot);
    void install(std::size_t host, std::size_t slot, std::shared_ptr<net::Connection> connection);
    /// Sends on `connection`; with a `kind` (a request on behalf of the application, or a
    /// re-prepare) the configured RequestObserver is told about it.
    asio::awaitable<net::Reply> send(std::shared_ptr<net::Connection> connection, const protocol::Request& request,
                                     const StatementOptions& options, std::optional<RequestKind> kind = std::nullopt);
    asio::awaitable<void> reprepare(std::shared_ptr<net::Connection> connection, const PreparedData& prepared);
    std::optional<std::chrono::milliseconds> timeout_of(const StatementOptions& options) const;
    PageReply to_page_reply(net::Reply& reply, const PreparedData* prepared);
    asio::awaitable<void> run_concurrent(std::shared_ptr<struct ConcurrentState> state, std::size_t workers);
    asio::awaitable<void> run_concurrent_worker(std::shared_ptr<struct ConcurrentState> state);

    asio::any_io_executor executor_;
    ClusterConfig config_;
    net::Logger logger_;  ///< from config_.log_sink / log_level; handed to every connection
    mutable std::mutex mutex_;  ///< guards everything below
    std::string keyspace_;
    std::vector<HostPool> hosts_;
    std::size_t next_ = 0;
    bool shut_down_ = false;
    std::map<std::string, std::shared_ptr<PrepareEntry>> prepared_;
};

}  // namespace async_cassandra::detail
