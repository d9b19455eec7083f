// Clocks, result shapes and name resolution shared by every statement kind.
#include "server/engine/statement_context.hpp"

#include <chrono>

namespace async_cassandra::server::detail {

using cql::throw_invalid;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ExecutionResult error_result(ServerErrorCode code, std::string message) {
    protocol::ErrorResponse e;
    e.code = code;
    e.message = std::move(message);
    return ExecutionResult{protocol::Response{std::move(e)}, nullptr, std::nullopt, {}};
}

ExecutionResult void_result() {
    return ExecutionResult{protocol::Response{protocol::ResultResponse{protocol::VoidResult{}}}, nullptr, std::nullopt, {}};
}

DataTypePtr bigint_type() {
    static DataTypePtr t = DataType::simple(TypeKind::bigint);
    return t;
}
DataTypePtr int_type() {
    static DataTypePtr t = DataType::simple(TypeKind::int_);
    return t;
}

std::int64_t load_i64(BytesView b) {
    std::uint64_t v = 0;
    for (auto c : b) v = (v << 8) | c;
    return static_cast<std::int64_t>(v);
}

bool is_system_keyspace(const std::string& ks) {
    return ks == "system" || ks == "system_schema" || ks == "system_auth" || ks == "system_distributed" ||
           ks == "system_traces" || ks == "system_virtual_schema" || ks == "system_views";
}

std::string default_keyspace(const ConnectionState& state, std::optional<std::string_view> override_ks) {
    if (override_ks && !override_ks->empty()) return std::string(*override_ks);
    return state.keyspace;
}

const std::string& keyspace_of(const cql::QualifiedName& q, const std::string& default_ks) {
    if (!q.keyspace.empty()) return q.keyspace;
    if (default_ks.empty())
        throw_invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename");
    return default_ks;
}

Table* find_table(Engine::Impl& impl, const cql::QualifiedName& q, const std::string& default_ks) {
    const std::string& ks = keyspace_of(q, default_ks);
    auto k = impl.keyspaces.find(ks);
    if (k == impl.keyspaces.end()) throw_invalid("Keyspace " + ks + " does not exist");
    auto t = k->second.tables.find(q.name);
    if (t == k->second.tables.end()) throw_invalid("unconfigured table " + q.name);
    return t->second.get();
}

std::shared_ptr<const TableSchema> lookup_schema(Engine::Impl& impl, const cql::QualifiedName& q, const std::string& ks) {
    return find_table(impl, q, ks)->schema;
}

const ColumnDef& column_of(const TableSchema& s, const std::string& name) {
    const ColumnDef* c = s.find(name);
    if (!c) throw_invalid("Undefined column name " + name + " in table " + s.keyspace + "." + s.name);
    return *c;
}

protocol::ColumnSpec spec_of(const TableSchema& s, std::string name, DataTypePtr type) {
    return protocol::ColumnSpec{s.keyspace, s.name, std::move(name), std::move(type)};
}

}  // namespace async_cassandra::server::detail
