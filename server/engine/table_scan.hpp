// Scanning a stored (or generated) table for a select plan, one page at a time.
#pragma once

#include "server/engine/engine_internal.hpp"

namespace async_cassandra::server::detail {

/// Runs `plan` over `table` from `resume`, writing up to `page_size` rows (0: all) to `out`.
/// COUNT plans only count (PageResult::counted).
PageResult scan_table(const Table& table, const SelectPlan& plan, const std::optional<PagingState>& resume,
                      std::int32_t page_size, Bytes& out);

}  // namespace async_cassandra::server::detail
