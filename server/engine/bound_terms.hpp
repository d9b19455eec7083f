// Evaluating a statement's terms (literals and bound values) into serialized values.
#pragma once

#include "server/engine/engine_internal.hpp"

#include <span>

namespace async_cassandra::server::detail {

/// The value of `t` for column `c`; throws Invalid for null or unset (key and condition values).
Bytes eval_required(const cql::Term& t, const ColumnDef& c, std::span<const protocol::ValueView> bound);
/// LIMIT / TTL / TIMESTAMP style integers; nullopt when absent or unset.
std::optional<std::int64_t> eval_int(const std::optional<cql::Term>& t, const DataTypePtr& type, const char* what,
                                     std::span<const protocol::ValueView> bound);
/// Elements of a serialized list/set, or keys and values (k0, v0, k1, v1, ...) of a map.
std::vector<Bytes> split_collection(const Bytes& b, bool is_map = false);
/// The values a relation restricts column `c` to: one for `=` and ranges, several for IN.
std::vector<Bytes> relation_values(const cql::Relation& r, const ColumnDef& c, std::span<const protocol::ValueView> bound);
/// Every combination of one value per part (IN on several key columns).
std::vector<std::vector<Bytes>> cartesian(const std::vector<std::vector<Bytes>>& parts);

}  // namespace async_cassandra::server::detail
