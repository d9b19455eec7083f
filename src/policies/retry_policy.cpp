// DefaultRetryPolicy: the classic rules (see the table in retry_policy.hpp and docs/cluster.md).
#include <async_cassandra/retry_policy.hpp>
#include <async_cassandra/server_errors.hpp>

namespace async_cassandra {

const char* to_string(RequestErrorKind kind) noexcept {
    switch (kind) {
        case RequestErrorKind::read_timeout: return "read_timeout";
        case RequestErrorKind::write_timeout: return "write_timeout";
        case RequestErrorKind::unavailable: return "unavailable";
        case RequestErrorKind::overloaded: return "overloaded";
        case RequestErrorKind::is_bootstrapping: return "is_bootstrapping";
        case RequestErrorKind::server_error: return "server_error";
        case RequestErrorKind::read_failure: return "read_failure";
        case RequestErrorKind::connection_lost: return "connection_lost";
        case RequestErrorKind::client_timeout: return "client_timeout";
        case RequestErrorKind::request_error: return "request_error";
        case RequestErrorKind::cancelled: return "cancelled";
        case RequestErrorKind::other: return "other";
    }
    return "other";
}

RetryAction DefaultRetryPolicy::decide(const RetryContext& c) const {
    switch (c.kind) {
        case RequestErrorKind::read_timeout: {
            // Enough replicas answered but the one asked for data did not: one more try on the
            // same coordinator usually succeeds (the data read is retried by it).
            try {
                std::rethrow_exception(c.error);
            } catch (const ReadTimeout& e) {
                if (c.retries == 0 && e.received() >= e.block_for() && !e.data_present())
                    return RetryAction::retry_same_host;
            } catch (...) {
            }
            return RetryAction::rethrow;
        }
        case RequestErrorKind::write_timeout: {
            if (c.retries != 0) return RetryAction::rethrow;
            try {
                std::rethrow_exception(c.error);
            } catch (const WriteTimeout& e) {
                // The batch log write of a logged batch timed out: the batch was not applied yet.
                if (e.write_type() == "BATCH_LOG") return RetryAction::retry_same_host;
            } catch (...) {
            }
            return c.idempotent ? RetryAction::retry_same_host : RetryAction::rethrow;
        }
        case RequestErrorKind::unavailable:
            return c.retries == 0 ? RetryAction::retry_next_host : RetryAction::rethrow;
        case RequestErrorKind::overloaded:
        case RequestErrorKind::is_bootstrapping:
        case RequestErrorKind::connection_lost:
        case RequestErrorKind::client_timeout:
            return c.idempotent ? RetryAction::retry_next_host : RetryAction::rethrow;
        default:
            return RetryAction::rethrow;
    }
}

}  // namespace async_cassandra
