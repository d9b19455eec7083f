// Building the public Page (row.hpp) from a decoded Rows result (messages.hpp): the one place
// where the protocol layer's result types meet the API's pages. Not installed: the public headers
// never name protocol types.
#pragma once

#include <async_cassandra/response_info.hpp>
#include <async_cassandra/row.hpp>

#include "protocol/bytes.hpp"
#include "protocol/messages.hpp"

#include <memory>
#include <vector>

namespace async_cassandra::protocol {

/// Builds a page over `result.rows_content`, which must point into `*body` (kept alive by the
/// page). Validates the framing of every cell once (and the size of fixed-size values):
/// ProtocolError on malformed input. Columns come from the result's metadata; when the result
/// was sent without metadata (skip_metadata), `known_columns` supplies them (UsageError when
/// missing or of the wrong count). When the metadata equals `known_columns`, that object is
/// shared instead of building a new one.
/// `info`: what the server said with the response (warnings, tracing id, custom payload).
Page page_from_rows(std::shared_ptr<const Bytes> body, RowsResult result,
                    std::shared_ptr<const Columns> known_columns = nullptr,
                    std::shared_ptr<const ResponseInfo> info = nullptr);

/// The columns described by result or prepared metadata.
std::shared_ptr<const Columns> columns_from_specs(const std::vector<ColumnSpec>& specs);

}  // namespace async_cassandra::protocol

namespace async_cassandra::detail {
/// walk_rows' cell-by-cell walk, which it takes for pages of a few rows (and its fast path falls
/// back to, row by row): the same result, row starts and errors for any input. Declared here so
/// that the rows fuzz target can compare the two.
RowsWalk walk_rows_cell_by_cell(const std::uint8_t* data, std::size_t size, std::size_t rows, std::size_t cols,
                                const std::uint32_t* fixed, const Column* strict, std::uint32_t* row_offsets);
}  // namespace async_cassandra::detail
