// SELECT planning: output columns, partition keys or token range, clustering restrictions,
// filters, order, LIMIT and PER PARTITION LIMIT (SelectPlan in engine_internal.hpp).
#pragma once

#include "server/engine/engine_internal.hpp"

#include <span>

namespace async_cassandra::server::detail {

/// The result columns of `st`; `count` is set when it selects COUNT(*).
std::vector<OutputColumn> build_outputs(const cql::SelectStmt& st, const TableSchema& s, bool& count);
/// Plans `st` with its bound values; throws Invalid for restrictions Cassandra rejects.
SelectPlan plan_select(const cql::SelectStmt& st, std::shared_ptr<const TableSchema> schema,
                       std::span<const protocol::ValueView> bound);

}  // namespace async_cassandra::server::detail
