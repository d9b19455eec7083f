// Fault injection for the embedded node: rules that match requests by a substring of their query
// text and change how (or whether) the node answers. Shared by all nodes of a Cluster; rules can
// be added and cleared from any thread while the cluster runs.
#pragma once

#include <async_cassandra/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace async_cassandra::server::net {

enum class FaultKind : std::uint8_t {
    delay,            ///< answer every matching request `delay` later
    delay_pages,      ///< like delay, but only Rows responses that have more pages or resume paging
    drop_after_pages, ///< after `pages` Rows responses matched, close the connection instead of answering
    drop_mid_frame,   ///< write the first half of the response, then close the connection
    error,            ///< answer with `error_code` (proper extra body) instead of executing
    stall,            ///< never answer (the connection stays open)
    corrupt_frame,    ///< send the response with a corrupted header (v4) or checksum (v5)
    wrong_stream,     ///< send the response on another stream id
    warn,             ///< add `warning` to the response's warnings (WARNING flag), like a tombstone warning
};

/// How an injected WRITE_TIMEOUT / CAS_WRITE_UNKNOWN is shaped for lightweight transactions, as
/// Cassandra 4.0-5.0 encode them (transport/messages/ErrorMessage.java).
enum class LwtShape : std::uint8_t {
    none,
    /// Paxos commit timeout: writeType SIMPLE, and on v5 the 2-byte contention count after it
    /// (StorageProxy wraps it in a CasWriteTimeoutException, whose encoder always adds the count).
    commit_timeout,
    /// Paxos prepare/propose timeout: writeType CAS, contention count on v5; consistency SERIAL.
    cas_timeout,
    /// v5: CAS_WRITE_UNKNOWN (0x1700) <cl><received><blockfor>; v4 clients get WRITE_TIMEOUT CAS.
    cas_unknown,
};

struct FaultRule {
    FaultKind kind = FaultKind::delay;
    /// Substring of the query text (QUERY, PREPARE, EXECUTE via its prepared text, BATCH via any of
    /// its statements); empty matches every QUERY/PREPARE/EXECUTE/BATCH.
    std::string pattern;
    int node = 0;  ///< 1-based node id, 0 = every node
    std::chrono::milliseconds delay{5};
    ServerErrorCode error_code = ServerErrorCode::overloaded;
    LwtShape lwt = LwtShape::none;  ///< error: the LWT shapes (error=lwt_commit_timeout, ...)
    /// error=read_timeout / write_timeout: the replica counts the node reports (how many replicas
    /// answered, how many the consistency level needed) and, for read_timeout, whether the data
    /// replica was among them. A driver's retry decision hangs on these (a read timeout with
    /// received >= block_for and no data is worth one more try on the same coordinator).
    std::int32_t received = 0;
    std::int32_t block_for = 1;
    bool data_present = false;
    /// error=write_timeout: the write type reported (SIMPLE, BATCH, BATCH_LOG, UNLOGGED_BATCH,
    /// COUNTER, ...); empty = BATCH for a BATCH request, SIMPLE otherwise.
    std::string write_type;
    std::string warning;            ///< warn: the warning text
    std::int64_t pages = 1;  ///< drop_after_pages
    /// Fire only on the nth matching request (1-based, counted per rule); 0 = every match.
    std::int64_t nth = 0;
    double fraction = 1.0;  ///< with nth == 0: probability that a match fires
    std::int64_t max_hits = -1;  ///< stop firing after this many hits; -1 = unlimited
    /// false: PREPARE requests never match (key prepare=0), so that the rule hits executions only.
    bool match_prepare = true;
};

/// Parses "kind[,key=value]..." for the --fault flag, e.g.
/// "error=read_timeout,nth=3,pattern=FROM ks.t", "delay=5,pattern=synthetic", "stall,node=2",
/// "warn=Read 10 live rows and 1001 tombstone cells,pattern=FROM ks.t".
/// Keys: pattern (last: it takes the rest of the rule, commas included), node, nth, fraction,
/// max_hits, pages, delay (ms; also the value of delay kinds), prepare (0: not PREPARE requests),
/// received, block_for, data_present (0 or 1), write_type (the timeouts' extra fields, e.g.
/// "error=read_timeout,received=1,block_for=1").
/// Throws UsageError.
FaultRule parse_fault(std::string_view spec);

/// What to do for one request, decided when it arrives.
struct FaultDecision {
    std::optional<FaultKind> action;  ///< the single rule that fired for the request itself
    ServerErrorCode error_code = ServerErrorCode::overloaded;
    LwtShape lwt = LwtShape::none;
    std::int32_t received = 0;    ///< error: the rule's timeout fields
    std::int32_t block_for = 1;
    bool data_present = false;
    std::string write_type;
    std::vector<std::string> warnings;       ///< warn rules that fired (added to the response)
    std::chrono::milliseconds delay{0};      ///< delay (all responses)
    std::chrono::milliseconds page_delay{0}; ///< delay_pages (decided after execution)
    int page_rule = -1;                      ///< drop_after_pages rule index, counted on Rows results
};

class FaultInjector {
public:
    /// Adds a rule; returns its index.
    std::size_t add(FaultRule rule);
    void clear();
    bool empty() const noexcept { return count_.load(std::memory_order_relaxed) == 0; }

    /// Decides for a request with `query` text on `node` (`prepare`: the request is a PREPARE).
    FaultDecision decide(int node, std::string_view query, bool prepare = false);
    /// A Rows response for a request matched by drop_after_pages rule `rule` is about to be sent;
    /// returns false when the connection should be dropped instead.
    bool allow_page(int rule);
    /// Times rule `index` fired.
    std::int64_t hits(std::size_t index) const;

private:
    struct Entry {
        FaultRule rule;
        std::int64_t matches = 0;
        std::int64_t hits = 0;
        std::int64_t pages_sent = 0;
    };
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
    std::atomic<std::size_t> count_{0};
    std::mt19937_64 rng_{12345};
};

}  // namespace async_cassandra::server::net
