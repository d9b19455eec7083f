// What `acass load` does with a failed write: the one place that decides which errors are worth
// another attempt, which ones leave the outcome unknown, and how long to wait in between.
//
// Every INSERT a load sends is idempotent: it binds only values (no counters, which need
// UPDATE, and no non-idempotent functions such as now() or uuid()), so writing a record twice
// stores the same row. That is what makes retrying timeouts and lost connections safe: a
// record whose response was lost (the write may or may not have happened) is sent again, and is
// never reported as rejected while it may be in the table.
//
// Each attempt already goes through the driver's retry policy (the statements are marked
// idempotent: same host / next host, at once). This loop adds what that policy cannot express:
// a growing pause between rounds, --max-attempts and the "cluster unreachable" deadline
// (tools/README.md, "Retries and idempotence").
#pragma once

#include <chrono>
#include <exception>
#include <string>

namespace acass_cli {

enum class WriteErrorKind {
    transient,        ///< the server said "not now" (Overloaded, timeouts, Unavailable, bootstrapping)
    unknown_outcome,  ///< the server answered that the write may or may not be applied (write timeout)
    connection_lost,  ///< the response was lost (connection closed, client timeout, corrupt frame):
                      ///< the outcome is unknown too
    unreachable,      ///< no host could take the request (NoHostAvailable)
    rejected,         ///< the server refused the record itself (Invalid, ...): retrying cannot help
    fatal,            ///< not about the record (a local file error, a bug): stop the load
};

WriteErrorKind classify_write_error(const std::exception_ptr& error);

/// Wait before attempt `attempt + 1` (attempt >= 1): exponential from 5 ms, at most 1 s, with
/// jitter so that the workers do not come back in step.
std::chrono::milliseconds retry_delay(int attempt);

}  // namespace acass_cli
