#include "session/request_executor.hpp"

#include <async_cassandra/exception_message.hpp>

#include "net/error_mapping.hpp"
#include "protocol/rows_page.hpp"
#include "session/error_classifier.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <mutex>

namespace async_cassandra::detail {

namespace {
using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_no_host(std::vector<NoHostAvailable::HostFailure> failures) {
    std::string what = "no host available:";
    if (failures.empty()) what += " no host to try (every host is down or filtered out by the load-balancing policy)";
    for (const auto& f : failures) what += " [" + f.host + ": " + exception_message(f.error) + "]";
    throw NoHostAvailable(what, std::move(failures));
}
}  // namespace

std::optional<std::chrono::milliseconds> RequestExecutor::timeout_of(const StatementOptions& options) const {
    if (options.no_timeout) return std::nullopt;
    if (options.timeout) return options.timeout;
    return core_->config().request_timeout;
}

asio::awaitable<net::Reply> RequestExecutor::send_once(const std::shared_ptr<net::Connection>& connection,
                                                       const protocol::Request& request,
                                                       const StatementOptions& options, RequestKind kind,
                                                       bool observed, const protocol::ExpectedResponse* expected) {
    // Not a coroutine: without an observer the connection's operation is all there is to await.
    const std::uint8_t flags = options.tracing ? protocol::frame_flags::tracing : 0;
    RequestObserver* observer = observed ? core_->config().observer.get() : nullptr;
    if (!observer) return connection->send(request, timeout_of(options), flags, expected);
    return send_observed(connection, request, timeout_of(options), flags, kind, expected, *observer);
}

asio::awaitable<net::Reply> RequestExecutor::send_observed(const std::shared_ptr<net::Connection>& connection,
                                                           const protocol::Request& request,
                                                           std::optional<std::chrono::milliseconds> timeout,
                                                           std::uint8_t flags, RequestKind kind,
                                                           const protocol::ExpectedResponse* expected,
                                                           RequestObserver& observer) {
    const auto start = Clock::now();
    std::optional<net::Reply> reply;
    std::exception_ptr error;
    try {
        reply = co_await connection->send(request, timeout, flags, expected);
    } catch (...) {
        error = std::current_exception();
    }
    const std::string endpoint = connection->endpoint();  // RequestEvent::host is a view of it
    RequestEvent event;
    event.host = endpoint;
    event.kind = kind;
    event.latency = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
    if (error) {
        event.error_type = error_type_of(error);
        observer.on_request(event);
        std::rethrow_exception(error);
    }
    event.request_bytes = reply->request_bytes;
    event.response_bytes = reply->response_bytes;
    if (reply->prefix) event.warnings = reply->prefix->warnings;
    if (auto* e = std::get_if<protocol::ErrorResponse>(&reply->message)) {
        event.error_type = error_type_of(e->code);
    } else {
        event.ok = true;
        if (auto* result = std::get_if<protocol::ResultResponse>(&reply->message))
            if (auto* rows = std::get_if<protocol::RowsResult>(result)) event.rows = rows->row_count;
    }
    observer.on_request(event);
    co_return std::move(*reply);
}

asio::awaitable<void> RequestExecutor::reprepare(const std::shared_ptr<net::Connection>& connection,
                                                 const PreparedData& prepared) {
    const auto& logger = core_->logger();
    if (logger.enabled(LogLevel::info))
        logger.log(LogLevel::info, "statement unprepared on " + connection->endpoint() + "; re-preparing: " +
                                       prepared.query.substr(0, 200));
    protocol::PrepareRequest p;
    p.query = prepared.query;
    const protocol::Request request = p;
    const StatementOptions defaults;
    net::Reply reply = co_await send_once(connection, request, defaults, RequestKind::prepare);
    if (auto* e = std::get_if<protocol::ErrorResponse>(&reply.message)) net::throw_server_error(*e);
    auto* result = std::get_if<protocol::ResultResponse>(&reply.message);
    auto* pr = result ? std::get_if<protocol::PreparedResult>(result) : nullptr;
    if (!pr) throw ProtocolError(ProtocolErrc::invalid_value, "PREPARE was not answered with a Prepared result");
    std::lock_guard lock(prepared.mutex);
    auto& data = const_cast<PreparedData&>(prepared);
    data.id = pr->id;
    data.result_metadata_id = pr->result_metadata_id;
    // The columns the (maybe new) result metadata id stands for: an EXECUTE is checked against them.
    data.result_columns =
        pr->result_metadata.columns.empty() ? nullptr : protocol::columns_from_specs(pr->result_metadata.columns);
}

/// The query plan of one request, shared by its executions (speculative ones included): each
/// host is taken once, and every failure is recorded for NoHostAvailable.
struct RequestExecutor::Plan {
    std::mutex mutex;
    HostList hosts;
    std::size_t next = 0;
    std::vector<NoHostAvailable::HostFailure> failures;
    bool only_unreachable = true;  ///< no host has answered with an error yet

    HostPtr take() {
        std::lock_guard lock(mutex);
        return next < hosts.size() ? hosts[next++] : nullptr;
    }
    bool exhausted() {
        std::lock_guard lock(mutex);
        return next >= hosts.size();
    }
    void fail(const Host& host, std::exception_ptr error, bool answered) {
        std::lock_guard lock(mutex);
        failures.push_back({host.endpoint(), std::move(error)});
        only_unreachable = only_unreachable && !answered;
    }
    /// The error once every execution has given up.
    [[noreturn]] void throw_final() {
        std::lock_guard lock(mutex);
        if (!only_unreachable && failures.size() == 1) std::rethrow_exception(failures.front().error);
        throw_no_host(std::move(failures));
    }
};

namespace {
/// Thrown by an execution that ran out of hosts (the request's error is decided by the caller).
struct PlanExhausted {};
}  // namespace

asio::awaitable<void> RequestExecutor::execute(RequestBuilder& request, const RoutingInfo& routing, Answer& out) {
    // Not a coroutine: the plan is made now, and run_plan's frame is the request's only one here.
    auto plan = std::make_shared<Plan>();
    {
        const cluster::HostsView view(core_->hosts());
        const LoadBalancingPolicy& balancer = core_->load_balancing();
        plan->hosts = balancer.plan(view, routing);
        if (plan->hosts.empty()) {
            // Every usable host is marked down: try them anyway (one may be back before its
            // probe noticed), so that the caller gets each host's own error.
            for (const auto& h : view.hosts())
                if (balancer.is_usable(view, *h)) plan->hosts.push_back(h);
        }
    }
    const SpeculativeExecutionPolicy* speculation = core_->speculative_execution();
    const bool single_statement = request.kind() == RequestKind::query || request.kind() == RequestKind::execute ||
                                  request.kind() == RequestKind::page;
    if (speculation && single_statement && request.idempotent() && speculation->next_delay(2) &&
        plan->hosts.size() > 1)
        return race(request, std::move(plan), out);
    return run_plan(request, std::move(plan), true, out);
}

asio::awaitable<void> RequestExecutor::run_plan(RequestBuilder& request, std::shared_ptr<Plan> plan,
                                                bool only_execution, Answer& out) {
    if (core_->is_shut_down()) throw ConnectionClosed("cluster is shut down");
    int retries = 0;
    const Host* reprepared_on = nullptr;  // once per host: another host may not know the statement either
    HostPtr current = plan->take();
    while (current) {
        const Host& host = *current;
        std::shared_ptr<net::HostPool> pool;
        std::shared_ptr<net::Connection> connection;
        std::exception_ptr error;
        try {
            pool = pools_->pool(host);
            connection = pool->acquire_open();
            if (!connection) connection = co_await pool->acquire();
        } catch (...) {
            error = std::current_exception();
        }
        if (error) {
            // Cancelled, shut down, or the host answered and refused (unknown keyspace, bad
            // credentials): another host would say the same.
            const RequestErrorKind kind = classify(error);
            if ((kind != RequestErrorKind::connection_lost && kind != RequestErrorKind::client_timeout &&
                 kind != RequestErrorKind::other) ||
                core_->is_shut_down())
                std::rethrow_exception(error);
            try {
                std::rethrow_exception(error);
            } catch (const ConfigurationError&) {
                throw;
            } catch (...) {
            }
            plan->fail(host, error, false);  // nothing was sent: next host
            current = plan->take();
            continue;
        }

        bool replied = false;
        try {
            const protocol::Request& built = request.build(connection->version());
            out.reply = co_await send_once(connection, built, request.options(), request.kind(), true,
                                           &request.expected());
            replied = true;
        } catch (...) {
            error = std::current_exception();
        }
        if (replied) {
            auto* e = std::get_if<protocol::ErrorResponse>(&out.reply.message);
            if (!e) {
                out.connection = std::move(connection);
                out.pool = std::move(pool);
                co_return;
            }
            if (e->code == ServerErrorCode::unprepared && !request.prepared().empty() && reprepared_on != &host) {
                reprepared_on = &host;
                error = nullptr;
                try {
                    for (const auto& prepared : request.prepared()) co_await reprepare(connection, *prepared);
                } catch (...) {
                    error = std::current_exception();
                }
                if (!error) continue;  // same host, new id
            } else {
                error = net::make_server_error(*e);
            }
        }

        const RequestErrorKind kind = classify(error);
        if (kind == RequestErrorKind::cancelled || core_->is_shut_down()) std::rethrow_exception(error);
        if (kind == RequestErrorKind::connection_lost) pool->report_failure();
        RetryContext context;
        context.error = error;
        context.kind = kind;
        context.idempotent = request.idempotent();
        context.retries = retries++;
        const RetryAction action = core_->retry_policy().decide(context);
        if (action == RetryAction::rethrow) std::rethrow_exception(error);
        if (action == RetryAction::retry_same_host) continue;
        plan->fail(host, error, true);
        current = plan->take();
    }
    if (only_execution) plan->throw_final();
    throw PlanExhausted{};
}

asio::awaitable<void> RequestExecutor::race(RequestBuilder& request, std::shared_ptr<Plan> plan, Answer& out) {
    // Each execution runs run_plan on its own copy of the request (built per attempt anyway),
    // taking hosts from the shared plan. Results come back through a channel large enough that
    // no execution ever waits to report; the losers are cancelled through their signals.
    using Result = std::pair<std::exception_ptr, std::shared_ptr<Answer>>;
    using Channel = asio::experimental::concurrent_channel<void(asio::error_code, Result)>;
    const SpeculativeExecutionPolicy& speculation = *core_->speculative_execution();
    const auto ex = co_await asio::this_coro::executor;
    constexpr std::size_t kMaxExecutions = 64;
    auto results = std::make_shared<Channel>(ex, kMaxExecutions);
    std::vector<std::shared_ptr<asio::cancellation_signal>> signals;
    auto self = *this;  // the executions may outlive this frame (cancelled ones finish later)

    auto launch = [&] {
        // The losers may run on after the caller's statement is gone: each execution owns a
        // deep copy of the request; its cancellation signal lives until its handler ran.
        std::shared_ptr<RequestBuilder> copy = request.detached();
        auto signal = std::make_shared<asio::cancellation_signal>();
        signals.push_back(signal);
        asio::co_spawn(
            ex,
            [self, copy, plan]() mutable -> asio::awaitable<std::shared_ptr<Answer>> {
                auto answer = std::make_shared<Answer>();
                co_await self.run_plan(*copy, plan, false, *answer);
                co_return answer;
            },
            asio::bind_cancellation_slot(
                signal->slot(), [results, copy, signal](std::exception_ptr e, std::shared_ptr<Answer> answer) {
                    results->try_send(asio::error_code{}, Result{e, std::move(answer)});
                }));
    };
    auto cancel_all = [&] {
        for (auto& s : signals) s->emit(asio::cancellation_type::terminal);
    };

    launch();
    std::size_t finished = 0;
    std::exception_ptr fatal;  ///< an error the policy rethrew: the request's error
    asio::steady_timer timer(ex);
    for (;;) {
        std::optional<std::chrono::milliseconds> delay;
        if (signals.size() < kMaxExecutions && !plan->exhausted()) delay = speculation.next_delay(signals.size() + 1);
        std::optional<Result> result;
        if (delay) {
            timer.expires_after(*delay);
            auto [order, receive_error, received, timer_error] =
                co_await asio::experimental::make_parallel_group(results->async_receive(asio::experimental::deferred),
                                                                 timer.async_wait(asio::experimental::deferred))
                    .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
            if (!receive_error) result = std::move(received);
            else if (order[0] == 0 || timer_error) {  // the caller was cancelled
                cancel_all();
                throw RequestCancelled("request cancelled");
            }
            if (!result) {
                launch();  // no answer within the delay: one more execution
                continue;
            }
        } else {
            auto [receive_error, received] =
                co_await results->async_receive(asio::experimental::as_tuple(asio::use_awaitable));
            if (receive_error) {
                cancel_all();
                throw RequestCancelled("request cancelled");
            }
            result = std::move(received);
        }
        ++finished;
        if (result->second) {
            cancel_all();  // the first answer wins
            out = std::move(*result->second);
            co_return;
        }
        bool exhausted = false;
        try {
            std::rethrow_exception(result->first);
        } catch (const PlanExhausted&) {
            exhausted = true;
        } catch (...) {
        }
        if (!exhausted && !fatal) {
            fatal = result->first;
            cancel_all();
        }
        if (finished == signals.size()) break;
    }
    if (fatal) std::rethrow_exception(fatal);
    plan->throw_final();
}

}  // namespace async_cassandra::detail
