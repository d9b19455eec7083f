// Parallel token-range scans (see include/async_cassandra/scan.hpp for the contract).
//
// Structure: scan_table runs on the caller's executor; it resolves the partition key, prepares
// the range statement and starts min(concurrency, splits) worker coroutines on one strand. The
// workers take split indexes from a shared counter, stream their ranges and call on_page; all
// scan state (counters, first error, per-worker cancellation signals) lives on that strand, which
// is what keeps on_page from running concurrently. The last worker to finish wakes scan_table
// through a concurrent channel (the one object both sides touch). A failure sets `stopping` and
// emits a cancellation to every other running worker; each one closes its stream before it
// finishes, so when scan_table returns no request of the scan is still waited for.
#include <async_cassandra/scan.hpp>

#include <async_cassandra/error.hpp>
#include <async_cassandra/server_errors.hpp>

#include "protocol/partitioner.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

namespace async_cassandra {

std::vector<TokenRange> split_token_ring(std::size_t n) {
    if (n < 1 || n > max_token_splits)
        throw UsageError("split_token_ring: the split count must be between 1 and " +
                         std::to_string(max_token_splits) + ", got " + std::to_string(n));
    // (INT64_MIN, INT64_MAX] holds 2^64 - 1 tokens: offsets from INT64_MIN in unsigned arithmetic.
    const std::uint64_t total = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t base = total / n;
    const std::uint64_t extra = total % n;  // the first `extra` ranges get one token more
    const auto min_token = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min());
    std::vector<TokenRange> ranges;
    ranges.reserve(n);
    std::uint64_t offset = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t size = base + (i < extra ? 1 : 0);
        TokenRange r;
        r.start = static_cast<std::int64_t>(min_token + offset);
        offset += size;
        r.end = static_cast<std::int64_t>(min_token + offset);
        ranges.push_back(r);
    }
    return ranges;
}

std::vector<TokenRange> split_token_ring_aligned(std::size_t n, std::vector<std::int64_t> ring_tokens) {
    std::vector<TokenRange> even = split_token_ring(n);  // validates n
    std::sort(ring_tokens.begin(), ring_tokens.end());
    ring_tokens.erase(std::unique(ring_tokens.begin(), ring_tokens.end()), ring_tokens.end());
    // INT64_MIN is not a real key's token: a node token there bounds nothing.
    if (!ring_tokens.empty() && ring_tokens.front() == std::numeric_limits<std::int64_t>::min())
        ring_tokens.erase(ring_tokens.begin());
    if (ring_tokens.empty()) return even;
    // The owners' ranges, (INT64_MIN, t0], (t0, t1], ..., (tk, INT64_MAX]: the first and the last
    // belong to the same node (the wrapping range split at INT64_MIN).
    std::vector<std::int64_t> bounds{std::numeric_limits<std::int64_t>::min()};
    bounds.insert(bounds.end(), ring_tokens.begin(), ring_tokens.end());
    if (bounds.back() != std::numeric_limits<std::int64_t>::max()) bounds.push_back(std::numeric_limits<std::int64_t>::max());
    const long double ring = 18446744073709551615.0L;
    std::vector<TokenRange> ranges;
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
        const std::uint64_t size = static_cast<std::uint64_t>(bounds[i + 1]) - static_cast<std::uint64_t>(bounds[i]);
        const auto pieces = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(static_cast<long double>(n) * static_cast<long double>(size) / ring + 0.5L));
        const std::uint64_t base = size / pieces, extra = size % pieces;
        std::uint64_t offset = static_cast<std::uint64_t>(bounds[i]);
        for (std::uint64_t p = 0; p < pieces; ++p) {
            TokenRange r;
            r.start = static_cast<std::int64_t>(offset);
            offset += base + (p < extra ? 1 : 0);
            r.end = static_cast<std::int64_t>(offset);
            ranges.push_back(r);
        }
    }
    return ranges;
}

std::vector<TokenRange> scan_ranges(const Session& session, std::size_t n) {
    return split_token_ring_aligned(n, session.metadata().ring_tokens());  // none: split_token_ring(n)
}

namespace {

// " FROM table WHERE token(k1, k2) > ? AND token(k1, k2) <= ?"
std::string range_clause(const std::string& table, const std::vector<std::string>& partition_key) {
    if (partition_key.empty()) throw UsageError("scan_statement: the partition key is empty");
    std::string key;
    for (std::size_t i = 0; i < partition_key.size(); ++i)
        key += (i ? ", " : "") + quote_cql_identifier(partition_key[i]);
    return " FROM " + table + " WHERE token(" + key + ") > ? AND token(" + key + ") <= ?";
}

}  // namespace

std::string scan_statement(const std::string& table, const std::vector<std::string>& columns,
                           const std::vector<std::string>& partition_key) {
    std::string select = "SELECT ";
    if (columns.empty()) select += "*";
    for (std::size_t i = 0; i < columns.size(); ++i) select += (i ? ", " : "") + quote_cql_identifier(columns[i]);
    return select + range_clause(table, partition_key);
}

std::string scan_count_statement(const std::string& table, const std::vector<std::string>& partition_key) {
    return "SELECT count(*)" + range_clause(table, partition_key);
}

namespace {

// Every row of a split's page must have its partition key's token in the split's range. A row
// outside it means the page answered another request: a server that sent one response on the
// stream id of another request in flight on the same connection (the protocol cannot tell them
// apart). Pages without the partition key columns (a scan of other columns) cannot be checked.
bool rows_in_range(const Page& page, const std::vector<std::string>& key, TokenRange range) {
    if (page.empty()) return true;
    std::vector<std::size_t> columns;
    for (const std::string& name : key) {
        auto index = page.columns().find(name);
        if (!index) return true;
        columns.push_back(*index);
    }
    std::vector<std::uint16_t> order(key.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint16_t>(i);
    std::vector<protocol::ValueView> values(key.size());
    for (std::size_t r = 0; r < page.size(); ++r) {
        const Row row = page[r];
        for (std::size_t i = 0; i < columns.size(); ++i) {
            auto cell = row.raw(columns[i]);
            values[i] = cell ? protocol::ValueView{protocol::ValueView::Kind::value, *cell} : protocol::ValueView{};
        }
        const std::optional<std::int64_t> token = protocol::routing_token(values, order);
        if (token && (*token <= range.start || *token > range.end)) return false;
    }
    return true;
}

/// Restarts of one split after a page outside its range, before the scan fails.
constexpr int kMaxMisroutedPages = 3;

using DoneChannel = asio::experimental::concurrent_channel<void(asio::error_code, bool)>;  // (1.22 cannot instantiate void(error_code))

// Everything the workers share; touched only on `strand` (except `done`, a concurrent channel).
struct ScanState {
    ScanState(asio::any_io_executor caller, Session s, PreparedStatement p, std::vector<TokenRange> r, StreamConfig c,
              ScanResumableHandler h, std::vector<ResumePoint> starts, std::size_t workers)
        : strand(asio::make_strand(caller)),
          session(std::move(s)),
          prepared(std::move(p)),
          ranges(std::move(r)),
          stream(std::move(c)),
          on_page(std::move(h)),
          resume(std::move(starts)),
          signals(workers),
          running(workers, false),
          done(caller, 1) {}

    asio::strand<asio::any_io_executor> strand;
    Session session;
    PreparedStatement prepared;
    std::vector<TokenRange> ranges;
    std::vector<std::string> key;  ///< partition key columns (rows_in_range)
    StreamConfig stream;
    ScanResumableHandler on_page;
    std::vector<ResumePoint> resume;  ///< where each split starts (missing = from its start)
    bool count = false;               ///< count mode: one count(*) row per split

    std::size_t next_split = 0;
    std::size_t active = 0;  ///< workers not yet finished
    bool stopping = false;
    std::exception_ptr error;  ///< the first failure
    ScanStats stats;
    std::vector<asio::cancellation_signal> signals;  ///< one per worker (a slot holds one handler)
    std::vector<bool> running;
    DoneChannel done;

    // Records the first failure and cancels every worker still running except `self` (the
    // worker reporting it, which stops by itself). On the strand.
    void stop(std::exception_ptr failure, std::size_t self = std::numeric_limits<std::size_t>::max()) {
        if (!error) error = std::move(failure);
        if (stopping) return;
        stopping = true;
        for (std::size_t w = 0; w < signals.size(); ++w)
            if (running[w] && w != self) signals[w].emit(asio::cancellation_type::terminal);
    }
};

asio::awaitable<void> scan_worker(std::shared_ptr<ScanState> s, std::size_t self) {
    while (!s->stopping && s->next_split < s->ranges.size()) {
        const std::size_t split = s->next_split++;
        const TokenRange range = s->ranges[split];
        if (split < s->resume.size() && s->resume[split].finished) {  // done in an earlier scan
            ++s->stats.splits_done;
            continue;
        }
        ResultStream stream;
        std::exception_ptr failure;
        try {
            // Where the split continues from: its resume point, then the last page delivered.
            std::optional<ResumePoint> from;
            if (split < s->resume.size() && !s->count) from = s->resume[split];  // a count is all or nothing
            for (int misrouted = 0;;) {
                BoundStatement bound = s->prepared.bind(range.start, range.end);
                bound.set_idempotent();  // a read: safe to send to another replica
                bound.options().routing_token = range.end;  // token-aware: a replica of this range
                // A node counts its range in one request, as long as it needs (the server has its
                // own read timeout), like a COUNT(*) of the whole table.
                bound.options().no_timeout = s->count;
                StreamConfig config = from ? s->stream.resume_from(*from) : s->stream;
                stream = co_await execute_stream(s->session, std::move(bound), config);
                bool restart = false;
                for (;;) {
                    std::optional<Page> page = co_await stream.next_page();
                    if (s->stopping) break;  // another split failed: deliver nothing more
                    if (!page) {
                        ++s->stats.splits_done;
                        ResumePoint end;
                        end.finished = true;
                        s->on_page(split, Page{}, end);
                        break;
                    }
                    if (!rows_in_range(*page, s->key, range)) {
                        if (++misrouted > kMaxMisroutedPages)
                            throw ProtocolError(ProtocolErrc::invalid_value,
                                                "scan_table: pages of split " + std::to_string(split) +
                                                    " keep holding rows outside its token range");
                        restart = true;
                        break;
                    }
                    if (s->count) {
                        for (const Row row : *page) s->stats.rows += row.get<std::int64_t>(0);
                    } else {
                        s->stats.rows += static_cast<std::int64_t>(page->size());
                    }
                    ++s->stats.pages;
                    from = stream.resume_point();
                    s->on_page(split, *page, *from);
                }
                if (!restart) break;
                // Drop the misrouted page and ask again from the last page delivered.
                co_await stream.close();
            }
        } catch (...) {
            failure = std::current_exception();
            // Stop the others now, not after this stream has closed: no page may be delivered
            // after the failure.
            s->stop(failure, self);
        }
        if (stream.valid()) {
            // A cancelled coroutine would throw at its next co_await: clear that to close the
            // stream, which waits until its fetcher (and the request it had in flight) is done.
            co_await asio::this_coro::reset_cancellation_state();
            co_await stream.close();
        }
        if (failure) std::rethrow_exception(failure);
    }
}

}  // namespace

asio::awaitable<ScanStats> scan_table(Session session, ScanConfig config, ScanPageHandler on_page) {
    if (!on_page) throw UsageError("scan_table: no page handler");
    // A named handler, not a temporary inside the co_await: GCC 12 mishandles temporaries of
    // co_await expressions on the exception path.
    ScanResumableHandler resumable = [h = std::move(on_page)](std::size_t split, const Page& page, const ResumePoint&) {
        if (!page.empty()) h(split, page);
    };
    ScanStats stats = co_await scan_table(std::move(session), std::move(config), std::move(resumable));
    co_return stats;
}

asio::awaitable<ScanStats> scan_table(Session session, ScanConfig config, ScanResumableHandler on_page) {
    if (config.table.empty()) throw UsageError("scan_table: no table");
    if (config.concurrency < 1) throw UsageError("scan_table: concurrency must be at least 1");
    if (!on_page) throw UsageError("scan_table: no page handler");
    if (config.stream.start_state || config.stream.skip_rows != 0 || config.stream.start_finished)
        throw UsageError("scan_table: the stream config must not carry a resume position");
    if (!config.resume.empty() && config.ranges.empty())
        throw UsageError("scan_table: resume points need the ranges they were taken on: pass ScanConfig::ranges "
                         "(keep scan_ranges() or ScanStats::ranges of the first scan), the default ones follow "
                         "the current token map");
    std::vector<TokenRange> ranges = config.ranges.empty() ? scan_ranges(session, config.splits) : std::move(config.ranges);
    if (config.resume.size() > ranges.size()) throw UsageError("scan_table: more resume points than ranges");

    std::vector<std::string> key = config.partition_key;
    if (key.empty()) {
        key = co_await read_partition_key(session, config.table);
        if (key.empty())
            throw UsageError("scan_table: no partition key for " + config.table +
                             " in system_schema.columns (unknown table?)");
    }
    if (config.count && !config.columns.empty()) throw UsageError("scan_table: count mode selects no columns");
    const std::string statement =
        config.count ? scan_count_statement(config.table, key) : scan_statement(config.table, config.columns, key);
    PreparedStatement prepared = co_await session.prepare(statement);

    const asio::any_io_executor caller = co_await asio::this_coro::executor;
    const std::size_t workers = std::min(config.concurrency, ranges.size());
    auto state = std::make_shared<ScanState>(caller, session, std::move(prepared), ranges,
                                             std::move(config.stream), std::move(on_page), std::move(config.resume),
                                             workers);
    state->key = std::move(key);
    state->count = config.count;
    // Start the workers from the strand, so that `running`/`active` are only ever touched there.
    asio::post(state->strand, [state, workers] {
        for (std::size_t w = 0; w < workers; ++w) {
            state->running[w] = true;
            ++state->active;
            auto finished = [state, w](std::exception_ptr e) {
                state->running[w] = false;
                if (e) state->stop(e);  // a worker cancelled by stop() lands here too: error already set
                if (--state->active == 0) state->done.try_send(asio::error_code{}, true);
            };
            asio::co_spawn(state->strand, scan_worker(state, w),
                           asio::bind_cancellation_slot(state->signals[w].slot(), std::move(finished)));
        }
    });

    for (;;) {
        auto [ec, finished] = co_await state->done.async_receive(asio::experimental::as_tuple(asio::use_awaitable));
        if (!ec && finished) break;
        // The awaiting coroutine was cancelled: stop the workers, then keep waiting for them.
        co_await asio::this_coro::reset_cancellation_state();
        asio::post(state->strand, [state] {
            // Already finished (its message is waiting in the channel): the scan stands as it is.
            if (state->active == 0) return;
            state->stop(std::make_exception_ptr(RequestCancelled("scan_table: cancelled")));
        });
    }
    // The channel hand-over orders the workers' writes before these reads.
    if (state->error) std::rethrow_exception(state->error);
    ScanStats stats = std::move(state->stats);
    stats.ranges = std::move(ranges);
    co_return stats;
}

}  // namespace async_cassandra
