// Schema statements.
#include "server/engine/ddl.hpp"

#include "server/engine/statement_context.hpp"
#include "server/engine/writes.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace async_cassandra::server::detail {

using cql::CqlError;
using cql::throw_invalid;
using protocol::ValueView;

namespace {

bool valid_name(const std::string& n) {
    if (n.empty() || n.size() > 48) return false;
    return std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

ExecutionResult schema_change(Engine::Impl& impl, std::string change, std::string target, std::string ks,
                              std::string name) {
    impl.bump_schema_version();
    protocol::SchemaChange sc{std::move(change), std::move(target), std::move(ks), std::move(name), {}};
    return ExecutionResult{protocol::Response{protocol::ResultResponse{sc}}, nullptr, sc, {}};
}

cql::UdtLookup udt_lookup(const Engine::Impl& impl) {
    return [&impl](const std::string& ks, const std::string& name) -> DataTypePtr {
        auto k = impl.keyspaces.find(ks);
        if (k == impl.keyspaces.end()) return nullptr;
        auto t = k->second.types.find(name);
        return t == k->second.types.end() ? nullptr : t->second.type;
    };
}

ExecutionResult create_keyspace(Engine::Impl& impl, const cql::CreateKeyspaceStmt& st) {
    if (!valid_name(st.name))
        throw_invalid("Keyspace name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got \"" + st.name + "\")");
    if (impl.keyspaces.count(st.name)) {
        if (st.if_not_exists) return void_result();
        throw CqlError{ServerErrorCode::already_exists, "Keyspace " + st.name + " already exists", st.name, "", {}};
    }
    auto repl = st.replication;
    auto cls = repl.find("class");
    if (cls == repl.end()) throw CqlError{ServerErrorCode::config_error, "Missing replication strategy class", {}, {}, {}};
    std::string c = cls->second;
    if (auto dot = c.rfind('.'); dot != std::string::npos) c = c.substr(dot + 1);
    if (c != "SimpleStrategy" && c != "NetworkTopologyStrategy" && c != "LocalStrategy" && c != "EverywhereStrategy")
        throw CqlError{ServerErrorCode::config_error, "Unable to find replication strategy class 'org.apache.cassandra.locator." + c + "'", {}, {}, {}};
    if (c == "SimpleStrategy") {
        auto rf = repl.find("replication_factor");
        if (rf == repl.end())
            throw CqlError{ServerErrorCode::config_error, "SimpleStrategy requires a replication_factor strategy option.", {}, {}, {}};
        int v = 0;
        auto [p, ec] = std::from_chars(rf->second.data(), rf->second.data() + rf->second.size(), v);
        if (ec != std::errc{} || p != rf->second.data() + rf->second.size() || v < 0)
            throw CqlError{ServerErrorCode::config_error, "Replication factor must be non-negative; found " + rf->second, {}, {}, {}};
    }
    repl["class"] = "org.apache.cassandra.locator." + c;
    Keyspace ks;
    ks.name = st.name;
    ks.replication = std::make_shared<const Replication>(std::move(repl));
    ks.durable_writes = st.durable_writes;
    impl.keyspaces.emplace(st.name, std::move(ks));
    return schema_change(impl, "CREATED", "KEYSPACE", st.name, "");
}

ExecutionResult create_table(Engine::Impl& impl, const cql::CreateTableStmt& st, const std::string& default_ks) {
    const std::string& ksn = keyspace_of(st.table, default_ks);
    if (is_system_keyspace(ksn))
        throw CqlError{ServerErrorCode::unauthorized, ksn + " keyspace is not user-modifiable.", {}, {}, {}};
    auto k = impl.keyspaces.find(ksn);
    if (k == impl.keyspaces.end()) throw_invalid("Keyspace " + ksn + " doesn't exist");
    if (!valid_name(st.table.name)) throw_invalid("Table name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got \"" + st.table.name + "\")");
    if (k->second.tables.count(st.table.name)) {
        if (st.if_not_exists) return void_result();
        throw CqlError{ServerErrorCode::already_exists, "Table " + ksn + "." + st.table.name + " already exists", ksn,
                       st.table.name, {}};
    }
    if (st.partition_key.empty())
        throw_invalid("No PRIMARY KEY specifed for table '" + st.table.name + "' (exactly one required)");
    auto s = std::make_shared<TableSchema>();
    s->keyspace = ksn;
    s->name = st.table.name;
    s->options = st.options;
    std::map<std::string, const cql::ColumnDecl*> decls;
    for (const auto& c : st.columns)
        if (!decls.emplace(c.name, &c).second) throw_invalid("Duplicate column " + c.name + " declaration for table " + ksn + "." + s->name);
    std::vector<std::string> pk = st.partition_key, ck = st.clustering;
    std::vector<std::string> all_keys = pk;
    all_keys.insert(all_keys.end(), ck.begin(), ck.end());
    for (std::size_t i = 0; i < all_keys.size(); ++i) {
        if (!decls.count(all_keys[i])) throw_invalid("Unknown definition " + all_keys[i] + " referenced in PRIMARY KEY");
        for (std::size_t j = 0; j < i; ++j)
            if (all_keys[j] == all_keys[i]) throw_invalid("Duplicate definition for " + all_keys[i] + " in PRIMARY KEY");
    }
    auto udts = udt_lookup(impl);
    std::vector<ColumnDef> defs;
    bool counters = false, non_counters = false;
    for (const auto& d : st.columns) {
        ColumnDef c;
        c.name = d.name;
        c.type = cql::resolve_type(d.type, ksn, udts);
        c.slot = defs.size();
        const DataType& t = *c.type.type;
        bool non_frozen = (t.kind == TypeKind::list || t.kind == TypeKind::set || t.kind == TypeKind::map) &&
                          !c.type.cql.starts_with("frozen<");
        bool is_key = std::find(all_keys.begin(), all_keys.end(), d.name) != all_keys.end();
        if (is_key && non_frozen) throw_invalid("Invalid non-frozen collection type for PRIMARY KEY component " + d.name);
        if (is_key && t.kind == TypeKind::counter) throw_invalid("counter type is not supported for PRIMARY KEY column '" + d.name + "'");
        if (is_key && t.kind == TypeKind::duration) throw_invalid("duration type is not supported for PRIMARY KEY column '" + d.name + "'");
        if (is_key && d.is_static) throw_invalid("Static column " + d.name + " cannot be part of the PRIMARY KEY");
        if (!is_key) {
            (t.kind == TypeKind::counter ? counters : non_counters) = true;
            if (d.is_static && ck.empty())
                throw_invalid("Static column " + d.name + " cannot be used in a table with no clustering columns");
            c.kind = d.is_static ? ColumnKind::static_ : ColumnKind::regular;
        }
        defs.push_back(std::move(c));
    }
    if (counters && non_counters) throw_invalid("Cannot mix counter and non counter columns in the same table");
    s->is_counter = counters;
    std::vector<bool> ck_desc(ck.size(), false);
    for (std::size_t i = 0; i < st.clustering_order.size(); ++i) {
        const auto& [name, desc] = st.clustering_order[i];
        auto q = std::find(ck.begin(), ck.end(), name);
        if (q == ck.end())
            throw_invalid("Only clustering key columns can be defined in CLUSTERING ORDER directive: " + name + " is not a clustering column");
        if (static_cast<std::size_t>(q - ck.begin()) != i)
            throw_invalid("The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns (" + name + " must appear as the " + std::to_string(q - ck.begin() + 1) + "th column)");
        ck_desc[i] = desc;
    }
    lay_out_columns(*s, std::move(defs), pk, ck, ck_desc);
    s->id = md5_uuid(ksn + "." + s->name + "." + std::to_string(impl.schema_counter), 4);
    auto table = std::make_shared<Table>();
    table->schema = s;
    k->second.tables.emplace(s->name, table);
    return schema_change(impl, "CREATED", "TABLE", ksn, s->name);
}

ExecutionResult alter_table_add(Engine::Impl& impl, const cql::AlterTableAddStmt& st, const std::string& default_ks) {
    Table& table = writable_table(impl, st.table, default_ks);
    auto s = std::make_shared<TableSchema>(*table.schema);
    for (const auto& [k, v] : st.options) s->options[k] = v;
    auto udts = udt_lookup(impl);
    for (const auto& d : st.columns) {
        if (s->find(d.name)) throw_invalid("Column with name '" + d.name + "' already exists");
        ColumnDef c;
        c.name = d.name;
        c.type = cql::resolve_type(d.type, s->keyspace, udts);
        if ((c.type.type->kind == TypeKind::counter) != s->is_counter)
            throw_invalid("Cannot add a " + std::string(s->is_counter ? "non-" : "") + "counter column (" + d.name + ") in a " + (s->is_counter ? "" : "non-") + "counter column family");
        if (d.is_static && s->ck.empty()) throw_invalid("Static columns are only useful (and thus allowed) if the table has at least one clustering column");
        c.kind = d.is_static ? ColumnKind::static_ : ColumnKind::regular;
        c.slot = s->slot_count++;
        s->columns.push_back(c);
    }
    std::size_t keys = s->pk.size() + s->ck.size();
    std::sort(s->columns.begin() + static_cast<std::ptrdiff_t>(keys), s->columns.end(),
              [](const ColumnDef& a, const ColumnDef& b) { return a.name < b.name; });
    // The clustering comparator only reads key columns, which did not move; swap in the new schema.
    table.schema = s;
    return schema_change(impl, "UPDATED", "TABLE", s->keyspace, s->name);
}

ExecutionResult create_type(Engine::Impl& impl, const cql::CreateTypeStmt& st, const std::string& default_ks) {
    const std::string& ksn = keyspace_of(st.type, default_ks);
    auto k = impl.keyspaces.find(ksn);
    if (k == impl.keyspaces.end()) throw_invalid("Keyspace " + ksn + " doesn't exist");
    if (k->second.types.count(st.type.name)) {
        if (st.if_not_exists) return void_result();
        throw CqlError{ServerErrorCode::already_exists, "A user type with name '" + st.type.name + "' already exists.", ksn, st.type.name, {}};
    }
    UserType u;
    u.name = st.type.name;
    auto t = std::make_shared<DataType>();
    t->kind = TypeKind::udt;
    t->udt_keyspace = ksn;
    t->udt_name = u.name;
    auto udts = udt_lookup(impl);
    for (const auto& [name, type] : st.fields) {
        cql::ColumnType ct = cql::resolve_type(type, ksn, udts);
        if (ct.cql.starts_with("frozen<") == false &&
            (ct.type->kind == TypeKind::list || ct.type->kind == TypeKind::set || ct.type->kind == TypeKind::map))
            ct.cql = "frozen<" + ct.cql + ">";
        t->field_names.push_back(name);
        t->params.push_back(ct.type);
        u.fields.emplace_back(name, ct);
    }
    u.type = t;
    k->second.types.emplace(u.name, std::move(u));
    return schema_change(impl, "CREATED", "TYPE", ksn, st.type.name);
}

/// NetworkTopologyStrategy with a bare replication_factor: Cassandra 4.0+ turns it into that
/// factor for every data center of the cluster (explicit data centers keep theirs).
void expand_replication_factor(Engine::Impl& impl, std::map<std::string, std::string>& replication) {
    auto cls = replication.find("class");
    auto rf = replication.find("replication_factor");
    if (cls == replication.end() || rf == replication.end() || !cls->second.ends_with("NetworkTopologyStrategy")) return;
    std::string factor = rf->second;
    replication.erase(rf);
    for (const auto& n : impl.cluster_view().nodes) replication.try_emplace(n.data_center, factor);
}

}  // namespace

std::optional<ExecutionResult> run_ddl(Engine::Impl& impl, const cql::Statement& st, const std::string& ks) {
    return std::visit(
        Overloaded{
            [&](const cql::CreateKeyspaceStmt& s) -> std::optional<ExecutionResult> {
                cql::CreateKeyspaceStmt spec = s;
                expand_replication_factor(impl, spec.replication);  // asks the topology: before the lock
                std::unique_lock lk(impl.mutex);
                return create_keyspace(impl, spec);
            },
            [&](const cql::DropKeyspaceStmt& s) -> std::optional<ExecutionResult> {
                std::unique_lock lk(impl.mutex);
                if (is_system_keyspace(s.name))
                    throw CqlError{ServerErrorCode::unauthorized, s.name + " keyspace is not user-modifiable.", {}, {}, {}};
                if (!impl.keyspaces.count(s.name)) {
                    if (s.if_exists) return void_result();
                    throw CqlError{ServerErrorCode::config_error, "Cannot drop non existing keyspace '" + s.name + "'.", {}, {}, {}};
                }
                impl.keyspaces.erase(s.name);
                return schema_change(impl, "DROPPED", "KEYSPACE", s.name, "");
            },
            [&](const cql::CreateTableStmt& s) -> std::optional<ExecutionResult> {
                std::unique_lock lk(impl.mutex);
                return create_table(impl, s, ks);
            },
            [&](const cql::DropTableStmt& s) -> std::optional<ExecutionResult> {
                std::unique_lock lk(impl.mutex);
                const std::string& ksn = keyspace_of(s.table, ks);
                if (is_system_keyspace(ksn) || ksn == "synthetic")
                    throw CqlError{ServerErrorCode::unauthorized, ksn + " keyspace is not user-modifiable.", {}, {}, {}};
                auto k = impl.keyspaces.find(ksn);
                if (k == impl.keyspaces.end() || !k->second.tables.count(s.table.name)) {
                    if (s.if_exists) return void_result();
                    throw_invalid("Table '" + ksn + "." + s.table.name + "' doesn't exist");
                }
                k->second.tables.erase(s.table.name);
                return schema_change(impl, "DROPPED", "TABLE", ksn, s.table.name);
            },
            [&](const cql::TruncateStmt& s) -> std::optional<ExecutionResult> {
                std::unique_lock lk(impl.mutex);
                writable_table(impl, s.table, ks).partitions.clear();
                return void_result();
            },
            [&](const cql::CreateTypeStmt& s) -> std::optional<ExecutionResult> {
                std::unique_lock lk(impl.mutex);
                return create_type(impl, s, ks);
            },
            [&](const cql::DropTypeStmt& s) -> std::optional<ExecutionResult> {
                std::unique_lock lk(impl.mutex);
                const std::string& ksn = keyspace_of(s.type, ks);
                auto k = impl.keyspaces.find(ksn);
                if (k == impl.keyspaces.end() || !k->second.types.count(s.type.name)) {
                    if (s.if_exists) return void_result();
                    throw_invalid("No user type named " + s.type.name + " exists.");
                }
                for (const auto& [tn, t] : k->second.tables)
                    for (const auto& c : t->schema->columns)
                        if (c.type.cql.find(s.type.name) != std::string::npos)
                            throw_invalid("Cannot drop user type " + ksn + "." + s.type.name + " as it is still used by table " + ksn + "." + tn);
                k->second.types.erase(s.type.name);
                return schema_change(impl, "DROPPED", "TYPE", ksn, s.type.name);
            },
            [&](const cql::AlterTableAddStmt& s) -> std::optional<ExecutionResult> {
                std::unique_lock lk(impl.mutex);
                return alter_table_add(impl, s, ks);
            },
            [&](const cql::AlterKeyspaceStmt& s) -> std::optional<ExecutionResult> {
                cql::CreateKeyspaceStmt expanded = s.spec;
                expand_replication_factor(impl, expanded.replication);
                std::unique_lock lk(impl.mutex);
                if (is_system_keyspace(s.spec.name))
                    throw CqlError{ServerErrorCode::unauthorized, s.spec.name + " keyspace is not user-modifiable.", {}, {}, {}};
                auto k = impl.keyspaces.find(s.spec.name);
                if (k == impl.keyspaces.end()) throw_invalid("Keyspace '" + s.spec.name + "' does not exist");
                // Validate through the CREATE path on a scratch engine state, then copy the settings.
                Engine::Impl scratch;
                cql::CreateKeyspaceStmt spec = expanded;
                if (spec.replication.empty()) spec.replication = *k->second.replication;
                create_keyspace(scratch, spec);
                k->second.replication = scratch.keyspaces.at(spec.name).replication;
                k->second.durable_writes = spec.durable_writes;
                return schema_change(impl, "UPDATED", "KEYSPACE", s.spec.name, "");
            },
            [&](const auto&) -> std::optional<ExecutionResult> { return std::nullopt; },
        },
        st);
}

}  // namespace async_cassandra::server::detail
