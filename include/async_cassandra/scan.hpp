// Parallel scans of a whole table by token ranges.
//
//   ScanConfig config;                       // build it first: no brace temporaries inside co_await
//   config.table = "ks.t";
//   config.splits = 16;                      // ranges of the Murmur3 ring
//   config.concurrency = 4;                  // streams running at once
//   ScanStats stats = co_await scan_table(session, config, [&](std::size_t split, const Page& page) {
//       for (Row row : page) ...;            // never called concurrently
//   });
//
// Each split is one execute_stream of `SELECT cols FROM t WHERE token(pk) > ? AND token(pk) <= ?`
// (a prepared statement bound with the split's bounds), so every split pages with the bounded
// memory of a stream. Each split's requests are marked idempotent (a failed page goes to another
// node with the same paging state) and routed as the split's end token (StatementOptions::
// routing_token), so token-aware routing sends them to a replica owning that end of the split.
// Without explicit `ranges` the splits are aligned to the nodes' tokens (scan_ranges): no split
// straddles two owners, so that replica holds the whole split and no node has to forward part
// of it. Those default ranges follow the topology of the moment, so a resumable scan names its
// ranges explicitly (keep scan_ranges()' result with the resume points; see ScanConfig::resume).
// The scan reads a live table without a snapshot: rows written during the scan may or may not
// be seen, like any paged query.
#pragma once

#include <async_cassandra/row.hpp>
#include <async_cassandra/session.hpp>
#include <async_cassandra/stream.hpp>
#include <async_cassandra/text_codec.hpp>  // quote_cql_identifier

#include <asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace async_cassandra {

/// A range of Murmur3 tokens, start exclusive, end inclusive: (start, end].
struct TokenRange {
    std::int64_t start = 0;
    std::int64_t end = 0;
    friend bool operator==(const TokenRange&, const TokenRange&) = default;
};

/// The largest split count split_token_ring accepts.
inline constexpr std::size_t max_token_splits = std::size_t{1} << 20;

/// `n` contiguous ranges covering the whole Murmur3 ring (INT64_MIN, INT64_MAX] in order, their
/// sizes differing by at most one token. Real keys never hash to INT64_MIN (Cassandra maps it to
/// INT64_MAX), so the ranges cover every row. Throws UsageError unless 1 <= n <= max_token_splits.
std::vector<TokenRange> split_token_ring(std::size_t n);

/// About `n` contiguous ranges covering the ring in order, none straddling two owners: the
/// ring's own ranges between consecutive `ring_tokens` (the nodes' tokens, any order; the range
/// that wraps is split at INT64_MIN) are each cut into pieces in proportion to their size, at
/// least one each. Without tokens, split_token_ring(n). Throws UsageError like split_token_ring.
std::vector<TokenRange> split_token_ring_aligned(std::size_t n, std::vector<std::int64_t> ring_tokens);

/// The ranges scan_table scans when ScanConfig::ranges is empty: split_token_ring_aligned(n,
/// every node's tokens) when the session's cluster metadata (Session::metadata(), read by the
/// control connection) knows the tokens of every node, else split_token_ring(n). They depend on
/// the topology at the time of the call: a scan that may be resumed keeps them with its resume
/// points and passes them as ScanConfig::ranges. Throws UsageError like split_token_ring.
std::vector<TokenRange> scan_ranges(const Session& session, std::size_t n);

/// What scan_table reads and how.
struct ScanConfig {
    // A declared constructor keeps this type from being an aggregate: GCC 12 destroys an
    // aggregate-initialised temporary inside a co_await expression twice (see the GCC 12 note in session.hpp).
    ScanConfig() = default;

    /// The table as written in CQL: "ks.t", or "t" for the session's keyspace; quoted parts
    /// ("\"MyKs\".\"T\"") keep their case, unquoted ones are lower-cased like CQL does.
    std::string table;
    /// Column names to select (as stored, e.g. from system_schema; quoted by the scan when they
    /// are not lower-case alphanumerics/underscores). Empty = every column (*).
    std::vector<std::string> columns;
    /// Partition key column names in key order (as stored). Empty = read from
    /// system_schema.columns (UsageError when the table is not found there).
    std::vector<std::string> partition_key;
    /// Number of token ranges wanted when `ranges` is empty (1 .. max_token_splits). Ranges
    /// aligned to the nodes' tokens can be a few more: at least one per owner's range.
    std::size_t splits = 8;
    /// The ranges to scan, in order (e.g. from scan_ranges or split_token_ring_aligned); empty =
    /// scan_ranges(session, splits) when the scan starts. Split indexes given to the handlers
    /// index this list (ScanStats::ranges returns it either way).
    std::vector<TokenRange> ranges;
    /// Where each split starts (parallel to the ranges; missing entries = from the start): the
    /// `after` points a ScanResumableHandler was given by an earlier scan of the same ranges.
    /// A finished point skips its split (no request, no handler call; counted in splits_done).
    /// Needs explicit `ranges` (UsageError otherwise): the default ones follow the live token
    /// map, and points applied to the ranges of another topology would skip or repeat rows.
    std::vector<ResumePoint> resume;
    /// Splits streamed at once (>= 1).
    std::size_t concurrency = 4;
    /// Count mode: each split sends scan_count_statement (`SELECT count(*) FROM t WHERE
    /// token(k) > ? AND token(k) <= ?`) instead of reading its rows, so a node counts its range
    /// and one row per split crosses the wire. The handler gets each split's count as a page of
    /// one bigint row, then the finished call; ScanStats::rows is the sum of the counts. A
    /// split's count is all or nothing: an unfinished resume point counts the split again from
    /// its start. `columns` must be empty (UsageError). The requests have no client timeout.
    bool count = false;
    /// Paging, read-ahead, timeouts and retries of every split's stream. Its page_callback is
    /// called per split stream (page numbers restart at 1 for each split). start_state,
    /// skip_rows and start_finished must be unset (UsageError): they belong to one statement.
    StreamConfig stream;
};

/// Totals of a finished scan.
struct ScanStats {
    std::int64_t rows = 0;   ///< rows handed to on_page (count mode: the rows counted)
    std::int64_t pages = 0;  ///< non-empty pages handed to on_page
    std::size_t splits_done = 0;  ///< splits streamed to their end
    /// The ranges scanned, indexed by split: ScanConfig::ranges, or the default scan_ranges().
    std::vector<TokenRange> ranges;
};

/// Called for every non-empty page with the index of its split (into ScanStats::ranges).
/// The page owns its buffer and may be kept. An exception it throws stops the scan (below).
using ScanPageHandler = std::function<void(std::size_t split, const Page& page)>;

/// Like ScanPageHandler, with the split's resume point after `page` (ResumePoint: row-exact,
/// for ScanConfig::resume). Also called once when a split is finished, with an empty page and
/// `after.finished` set; a split that stops early (error, cancellation) gets no such call.
using ScanResumableHandler = std::function<void(std::size_t split, const Page& page, const ResumePoint& after)>;

/// Scans the whole table: one stream per token range, at most `config.concurrency` running at
/// once, splits started in index order. `on_page` runs on a strand of the caller's executor,
/// never concurrently with itself; pages of different splits interleave, pages of one split come
/// in token order. Every row is delivered once (none twice).
///
/// Errors: the first failure (a stream's error after its retries, an on_page exception, or the
/// preparation of the statement: InvalidRequest for an unknown table or column, UsageError for a
/// bad config) cancels the other streams, waits until every one has stopped and is rethrown;
/// rows delivered before it stay delivered. Cancelling the awaiting coroutine (terminal
/// cancellation) stops the streams the same way and throws RequestCancelled.
///
/// `session` must stay usable until the scan completes. Completes on the caller's executor.
asio::awaitable<ScanStats> scan_table(Session session, ScanConfig config, ScanPageHandler on_page);
/// The same, with resume points (see ScanResumableHandler).
asio::awaitable<ScanStats> scan_table(Session session, ScanConfig config, ScanResumableHandler on_page);

/// The partition key column names of `table` (written like ScanConfig::table: "ks.t", or "t"
/// for the session's keyspace), in key order and as stored, read from system_schema.columns.
/// Empty when system_schema.columns holds no partition key for it (an unknown table). Throws
/// UsageError for an empty or unbalanced name or when no keyspace is known; server errors (a
/// node without system_schema) propagate. scan_table and `acass count` use it.
asio::awaitable<std::vector<std::string>> read_partition_key(Session session, std::string table);

/// The SELECT a scan sends for each split (two bigint markers: exclusive start, inclusive end),
/// for logs and tests. `partition_key` must not be empty (UsageError).
std::string scan_statement(const std::string& table, const std::vector<std::string>& columns,
                           const std::vector<std::string>& partition_key);
/// The SELECT count(*) of ScanConfig::count (the same two markers). UsageError like above.
std::string scan_count_statement(const std::string& table, const std::vector<std::string>& partition_key);

}  // namespace async_cassandra
