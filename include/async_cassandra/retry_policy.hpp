// Retry policy: what the request executor does when one attempt of a request fails — try the
// same host again, try the next host of the plan, or give the error to the caller. One policy
// serves execute(), batches, prepare, every page of a stream and every range of a scan.
//
// Defaults (DefaultRetryPolicy, the classic rules of the DataStax drivers):
// | failure                               | decision                                             |
// |---------------------------------------|------------------------------------------------------|
// | ReadTimeout                           | same host once, if enough replicas answered but the data was missing; else rethrow |
// | WriteTimeout                          | same host once, for idempotent statements or a BATCH_LOG write; else rethrow |
// | Unavailable                           | next host once; else rethrow                         |
// | Overloaded, IsBootstrapping,          | next host, idempotent requests only; else rethrow    |
// | connection lost, client Timeout       |                                                      |
// | anything else                         | rethrow                                              |
// A request that is not idempotent (StatementOptions::idempotent, default false) is never sent
// a second time after it may have reached a node: a non-idempotent write is written at most once.
// A host that cannot be reached at all (no connection) is always skipped: nothing was sent.
//
// Threading: decide() is called from any thread, concurrently; it must not block.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>

namespace async_cassandra {

/// How the driver classifies the failure of one attempt (one error classifier for every path).
enum class RequestErrorKind : std::uint8_t {
    read_timeout,      ///< ReadTimeout (server)
    write_timeout,     ///< WriteTimeout (server)
    unavailable,       ///< Unavailable (server)
    overloaded,        ///< Overloaded (server)
    is_bootstrapping,  ///< IsBootstrapping (server)
    server_error,      ///< ServerInternalError (server)
    read_failure,      ///< ReadFailure / WriteFailure / FunctionFailure / CasWriteUnknown ...
    connection_lost,   ///< ConnectionClosed (or a broken frame) after the request was sent
    client_timeout,    ///< Timeout: no answer within the request timeout
    request_error,     ///< the request itself is wrong: SyntaxError, InvalidRequest, Unauthorized...
    cancelled,         ///< RequestCancelled: never retried, the policy is not asked
    other,             ///< anything else
};

/// "read_timeout", "write_timeout", ...
const char* to_string(RequestErrorKind kind) noexcept;

/// One failed attempt, as the policy sees it.
struct RetryContext {
    /// The failure (a ServerError subclass, Timeout, ConnectionClosed...).
    std::exception_ptr error;
    RequestErrorKind kind = RequestErrorKind::other;
    /// The statement was marked idempotent (prepare and USE count as idempotent).
    bool idempotent = false;
    /// Retries already made for this request (0 on the first failure).
    int retries = 0;
};

/// The policy's answer.
enum class RetryAction : std::uint8_t {
    retry_same_host,  ///< send again to the same host
    retry_next_host,  ///< send to the next host of the query plan
    rethrow,          ///< give the error to the caller
};

/// Decides what happens after a failed attempt (see the file comment).
class RequestRetryPolicy {
public:
    virtual ~RequestRetryPolicy() = default;
    virtual RetryAction decide(const RetryContext& context) const = 0;
};

/// The classic defaults of the table above.
class DefaultRetryPolicy : public RequestRetryPolicy {
public:
    RetryAction decide(const RetryContext& context) const override;
};

/// Never retries anything that reached a host (unreachable hosts are still skipped).
class FallthroughRetryPolicy : public RequestRetryPolicy {
public:
    RetryAction decide(const RetryContext&) const override { return RetryAction::rethrow; }
};

}  // namespace async_cassandra
