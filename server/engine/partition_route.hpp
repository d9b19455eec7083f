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

/// (keyspace, lowest token, highest token), both inclusive, of a SELECT restricted by token(pk)
/// to a non-empty range (a scan of a token range); nullopt for anything else.
struct TokenRangeOf {
    std::string keyspace;
    std::int64_t lo = 0;
    std::int64_t hi = 0;
};
std::optional<TokenRangeOf> token_range(Engine::Impl& impl, const cql::Statement& st, const std::string& ks,
                                        std::span<const protocol::ValueView> bound);

}  // namespace async_cassandra::server::detail
