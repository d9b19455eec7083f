// The request executor: THE loop every request of a session goes through — execute, batch,
// prepare, set_keyspace, every page of a stream and every range of a scan:
//
//   query plan (load-balancing policy) -> host -> pooled connection -> send -> classify the
//   failure -> retry on the same host / next host (retry policy) / re-prepare on UNPREPARED
//
// Hosts that cannot be reached are skipped (nothing was sent); a failure after sending is put to
// the retry policy, which never lets a non-idempotent request be sent twice. When the plan is
// exhausted the caller gets NoHostAvailable listing every host tried with its error — or, when
// exactly one host answered with an error, that error itself.
#pragma once

#include "cluster/cluster_core.hpp"
#include "net/connection.hpp"
#include "session/request_builder.hpp"

#include <asio/awaitable.hpp>

#include <memory>
#include <string>

namespace async_cassandra::detail {

class RequestExecutor {
public:
    RequestExecutor(std::shared_ptr<cluster::ClusterCore> core, std::shared_ptr<cluster::KeyspacePools> pools)
        : core_(std::move(core)), pools_(std::move(pools)) {}

    /// A non-error reply and where it came from.
    struct Answer {
        net::Reply reply;
        std::shared_ptr<net::Connection> connection;
        std::shared_ptr<net::HostPool> pool;
    };
    /// Runs `request` to a non-error reply, written to `out` (see the file comment for errors;
    /// `out` is unspecified after an error). The answer goes straight to the caller's frame
    /// instead of being returned through each frame in between: a reply is ~500 bytes, and with
    /// 1,024 requests in flight every byte a frame holds is held 1,024 times over.
    asio::awaitable<void> execute(RequestBuilder& request, const RoutingInfo& routing, Answer& out);

    /// Sends on `connection` once, telling the RequestObserver about it when `observed`.
    /// `expected`: see net::Connection::send.
    asio::awaitable<net::Reply> send_once(const std::shared_ptr<net::Connection>& connection,
                                          const protocol::Request& request, const StatementOptions& options,
                                          RequestKind kind, bool observed = true,
                                          const protocol::ExpectedResponse* expected = nullptr);

    /// Re-prepares `prepared` on `connection` (its id changes when the node forgot it).
    asio::awaitable<void> reprepare(const std::shared_ptr<net::Connection>& connection, const PreparedData& prepared);

    const std::shared_ptr<cluster::KeyspacePools>& pools() const noexcept { return pools_; }

private:
    struct Plan;
    /// One execution: walks the shared plan until a host answers (throws the error the policy
    /// rethrew, RequestCancelled, or at the end of the plan: PlanExhausted, or the request's final
    /// error when it is the `only_execution`).
    asio::awaitable<void> run_plan(RequestBuilder& request, std::shared_ptr<Plan> plan, bool only_execution,
                                   Answer& out);
    /// send_once() with a RequestObserver to tell.
    asio::awaitable<net::Reply> send_observed(const std::shared_ptr<net::Connection>& connection,
                                              const protocol::Request& request,
                                              std::optional<std::chrono::milliseconds> timeout, std::uint8_t flags,
                                              RequestKind kind, const protocol::ExpectedResponse* expected,
                                              RequestObserver& observer);
    /// Speculative executions of an idempotent request: the first answer wins.
    asio::awaitable<void> race(RequestBuilder& request, std::shared_ptr<Plan> plan, Answer& out);
    std::optional<std::chrono::milliseconds> timeout_of(const StatementOptions& options) const;

    std::shared_ptr<cluster::ClusterCore> core_;
    std::shared_ptr<cluster::KeyspacePools> pools_;
};

}  // namespace async_cassandra::detail
