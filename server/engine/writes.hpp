// Writes: INSERT, UPDATE, DELETE (with IF [NOT] EXISTS, TTL, timestamps, collection and counter
// arithmetic) and unlogged/logged batches of them, all or nothing.
#pragma once

#include "server/engine/engine_internal.hpp"

#include <span>

namespace async_cassandra::server::detail {

/// Full primary key values of a write: each pk / ck column -> candidate values (= or IN).
struct KeyValues {
    std::vector<std::vector<Bytes>> pk;  ///< per pk column
    std::vector<std::vector<Bytes>> ck;  ///< per ck column (may be partially filled for DELETE)
    std::vector<Restriction> ck_ranges;  ///< DELETE with clustering slices
};

KeyValues write_keys(const TableSchema& s, const std::vector<cql::Relation>& where,
                     std::span<const protocol::ValueView> bound, bool allow_partial_ck);

/// The table `q` names, refusing system keyspaces and the synthetic table.
Table& writable_table(Engine::Impl& impl, const cql::QualifiedName& q, const std::string& ks);

/// One statement under the caller's exclusive lock; a result only for conditional statements.
std::optional<ExecutionResult> do_insert(Engine::Impl& impl, const cql::InsertStmt& st, const std::string& ks,
                                         std::span<const protocol::ValueView> bound, std::int64_t default_ts);
std::optional<ExecutionResult> do_update(Engine::Impl& impl, const cql::UpdateStmt& st, const std::string& ks,
                                         std::span<const protocol::ValueView> bound, std::int64_t default_ts);
std::optional<ExecutionResult> do_delete(Engine::Impl& impl, const cql::DeleteStmt& st, const std::string& ks,
                                         std::span<const protocol::ValueView> bound);

/// Executes a write statement or a BATCH statement text: takes the lock, rolls back on failure.
ExecutionResult run_write(Engine::Impl& impl, const cql::Statement& st, const cql::ParsedStatement& ps,
                          const std::string& ks, const std::vector<protocol::ValueView>& values,
                          const std::vector<std::string_view>& names, std::optional<std::int64_t> default_ts,
                          const PreparedEntry* prepared = nullptr);

}  // namespace async_cassandra::server::detail
