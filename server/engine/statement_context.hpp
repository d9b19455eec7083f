// What every statement needs: clocks, result shapes, the default keyspace and name resolution.
#pragma once

#include "server/engine/engine_internal.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace async_cassandra::server::detail {

std::int64_t now_ms();
std::int64_t now_us();

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

ExecutionResult error_result(ServerErrorCode code, std::string message);
ExecutionResult void_result();

DataTypePtr bigint_type();
DataTypePtr int_type();
/// Big-endian integer of up to 8 bytes.
std::int64_t load_i64(BytesView b);

bool is_system_keyspace(const std::string& ks);
/// The request's keyspace (protocol v5 per-request keyspace) or else the connection's (USE).
std::string default_keyspace(const ConnectionState& state, std::optional<std::string_view> override_ks);
/// The keyspace of `q`, or `default_ks` when unqualified; throws Invalid when there is neither.
const std::string& keyspace_of(const cql::QualifiedName& q, const std::string& default_ks);
/// Throws Invalid for an unknown keyspace or table (caller holds the lock).
Table* find_table(Engine::Impl& impl, const cql::QualifiedName& q, const std::string& default_ks);
std::shared_ptr<const TableSchema> lookup_schema(Engine::Impl& impl, const cql::QualifiedName& q, const std::string& ks);
/// Throws Invalid for an unknown column.
const ColumnDef& column_of(const TableSchema& s, const std::string& name);
protocol::ColumnSpec spec_of(const TableSchema& s, std::string name, DataTypePtr type);

}  // namespace async_cassandra::server::detail
