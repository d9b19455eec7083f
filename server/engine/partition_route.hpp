// The one partition a request touches, if it touches exactly one (replica accounting and the
// batch size warning), or the token range a range scan reads (replica accounting); never
// executes anything.
#pragma once

#include "server/engine/engine_internal.hpp"

#include <span>

namespace async_cassandra::server::detail {

/// (keyspace, token) of the one partition `st` touches; nullopt when it is not exactly one.
/// Throws like the statement's execution would for bad input (the caller maps that to nullopt).
using PartitionOf = std::optional<std::pair<std::string, std::int64_t>>;

/// `shape`: the prepared statement's of `st`, under the current schema, when `st` was prepared.
PartitionOf single_partition(Engine::Impl& impl, const cql::Statement& st, const std::string& ks,
                             std::span<const protocol::ValueView> bound, const PreparedShape* shape = nullptr);

/// The route of a planned SELECT: its one partition, or the token range it is restricted to (a
/// scan of a token range); nullopt for anything else. Replication is left empty.
std::optional<PartitionRoute> select_route(const SelectPlan& plan, const std::string& keyspace);
/// Fills in `route.replication` from its keyspace (caller holds the lock); false when it is gone.
bool with_replication(const Engine::Impl& impl, PartitionRoute& route);

}  // namespace async_cassandra::server::detail
