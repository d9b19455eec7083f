// SELECT planning: output columns, partition keys or token range, clustering restrictions,
// filters, order, LIMIT and PER PARTITION LIMIT (SelectPlan in engine_internal.hpp).
#pragma once

#include "server/engine/engine_internal.hpp"

#include <span>

namespace async_cassandra::server::detail {

/// The result columns of `st`; throws Invalid for selectors Cassandra rejects.
std::shared_ptr<const SelectOutputs> select_outputs(const cql::SelectStmt& st, const TableSchema& s);
/// Plans `st` with its bound values; throws Invalid for restrictions Cassandra rejects.
/// `outputs`, when given, are select_outputs(st, *schema) computed earlier under the same schema.
SelectPlan plan_select(const cql::SelectStmt& st, std::shared_ptr<const TableSchema> schema,
                       std::span<const protocol::ValueView> bound,
                       std::shared_ptr<const SelectOutputs> outputs = nullptr);

}  // namespace async_cassandra::server::detail
