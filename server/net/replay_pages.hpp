// --replay-pages: the node serves a full scan of synthetic.rows from one pre-encoded page, over and
// over, so that a streaming client is measured near the loopback limit instead of the node's
// row encoder (benchmarks only; see docs/server.md).
//
// The first page of a scan is the engine's own answer; it is kept as the scan's template and its
// paging state is replaced by a replay state (magic, template id, rows served so far). Every
// request that comes back with such a state is answered with the template's rows (one memcpy into
// the output buffer, no per-row work) and the next replay state, until the table's row count has
// been served: the last page is cut to the rows that remain and has no paging state. Each row is a
// real row of the table (the values match its formulas), but the same page's rows repeat.
//
// Replayed: a paged QUERY or EXECUTE of `SELECT ... FROM synthetic.rows` with no WHERE and no
// LIMIT. Anything else (token ranges, partitions, LIMIT, other tables) goes to the engine as usual.
// Runs on the cluster's I/O thread only (no locks).
#pragma once

#include "server/engine/engine.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace async_cassandra::server::net {

class ReplayPages {
public:
    /// `total_rows`: rows a replayed scan delivers in all (the synthetic table's row count).
    explicit ReplayPages(std::int64_t total_rows);

    /// The next page of a replayed scan when `request` carries one of our paging states;
    /// nullopt for every other request (the engine answers it).
    std::optional<ExecutionResult> next_page(const protocol::Request& request) const;

    /// True when `result` answers the first page of a scan that may be replayed (a paged
    /// QUERY/EXECUTE without paging state whose Rows result has more pages).
    static bool is_first_page(const protocol::Request& request, const ExecutionResult& result);

    /// Keeps the first page of a scan of synthetic.rows (`query` is the statement's text) as its
    /// template, and gives `result` a replay paging state. Leaves other statements' results alone.
    void remember(const protocol::Request& request, std::string_view query, const ConnectionState& state,
                  ExecutionResult& result);

private:
    struct Template {
        protocol::RowsMetadata metadata;  ///< without paging state
        std::shared_ptr<protocol::Bytes> rows;  ///< the page's rows as on the wire
        std::vector<std::size_t> row_ends;      ///< byte offset after each row in `rows`
    };
    /// (query text, rows per page, no_metadata, protocol version) -> index in templates_.
    using Key = std::tuple<std::string, std::size_t, bool, protocol::ProtocolVersion>;

    protocol::Bytes paging_state(std::uint32_t id, std::int64_t served) const;
    ExecutionResult page(const Template& t, std::uint32_t id, std::int64_t served) const;

    std::int64_t total_rows_;
    std::vector<Template> templates_;
    std::map<Key, std::uint32_t> ids_;
};

}  // namespace async_cassandra::server::net
