// The system keyspaces drivers read at connect and for schema metadata, generated on each read
// from the live topology (ClusterView) and the current schema, so they can never go stale.
#include "server/engine/engine_internal.hpp"

#include <bit>

namespace async_cassandra::server::detail {

namespace {

using cql::text_bytes;

struct RowBuilder {
    const TableSchema& schema;
    std::vector<Cell> cells;
    explicit RowBuilder(const TableSchema& s) : schema(s), cells(s.columns.size()) {}
    RowBuilder& set(std::string_view column, Cell value) {
        if (const ColumnDef* c = schema.find(column)) cells[schema.index_of(c)] = std::move(value);
        return *this;
    }
    RowBuilder& text(std::string_view column, std::string_view v) { return set(column, text_bytes(v)); }
    RowBuilder& i32(std::string_view column, std::int32_t v) {
        Bytes b;
        cql::append_i32(b, v);
        return set(column, std::move(b));
    }
    RowBuilder& f64(std::string_view column, double v) {
        Bytes b;
        cql::append_i64(b, std::bit_cast<std::int64_t>(v));
        return set(column, std::move(b));
    }
    RowBuilder& boolean(std::string_view column, bool v) { return set(column, Bytes{static_cast<std::uint8_t>(v)}); }
    // A malformed address or id from the topology provider leaves the cell null rather than
    // failing the whole query (drivers skip incomplete peers but must still connect).
    RowBuilder& inet(std::string_view column, std::string_view v) {
        try {
            return set(column, cql::inet_bytes(v));
        } catch (const cql::CqlError&) {
            return *this;
        }
    }
    RowBuilder& uuid(std::string_view column, std::string_view v) {
        try {
            return set(column, cql::uuid_bytes(v));
        } catch (const cql::CqlError&) {
            return *this;
        }
    }
    void insert(Table& t) { insert_row(t, std::move(cells)); }
};

using Cols = std::vector<std::pair<std::string, std::string>>;

void add_table(Keyspace& ks, const std::string& name, Cols cols, std::vector<std::string> pk,
               std::vector<std::string> ck, Generated g) {
    auto s = make_schema(ks.name, name, std::move(cols), std::move(pk), std::move(ck));
    s->generated = g;
    auto t = std::make_shared<Table>();
    t->schema = s;
    ks.tables.emplace(name, t);
}

const Cols& columns_layout() {
    static const Cols cols = {{"keyspace_name", "text"}, {"table_name", "text"},        {"column_name", "text"},
                              {"clustering_order", "text"}, {"column_name_bytes", "blob"}, {"kind", "text"},
                              {"position", "int"},        {"type", "text"}};
    return cols;
}

std::string kind_text(ColumnKind k) {
    switch (k) {
        case ColumnKind::partition_key: return "partition_key";
        case ColumnKind::clustering: return "clustering";
        case ColumnKind::static_: return "static";
        case ColumnKind::regular: return "regular";
    }
    return "regular";
}

std::int32_t option_int(const TableSchema& s, const std::string& name, std::int32_t fallback) {
    auto it = s.options.find(name);
    if (it == s.options.end()) return fallback;
    try {
        return std::stoi(it->second);
    } catch (...) {
        return fallback;
    }
}

}  // namespace

void add_system_keyspaces(Engine::Impl& impl) {
    auto make_ks = [&](const std::string& name, std::map<std::string, std::string> repl, bool is_virtual = false) -> Keyspace& {
        Keyspace ks;
        ks.name = name;
        ks.replication = std::make_shared<const Replication>(std::move(repl));
        ks.system = true;
        ks.is_virtual = is_virtual;
        return impl.keyspaces.emplace(name, std::move(ks)).first->second;
    };
    const std::map<std::string, std::string> local{{"class", "org.apache.cassandra.locator.LocalStrategy"}};
    auto simple = [](int rf) {
        return std::map<std::string, std::string>{{"class", "org.apache.cassandra.locator.SimpleStrategy"},
                                                  {"replication_factor", std::to_string(rf)}};
    };

    Keyspace& system = make_ks("system", local);
    add_table(system, "local",
              {{"key", "text"}, {"bootstrapped", "text"}, {"broadcast_address", "inet"}, {"broadcast_port", "int"},
               {"cluster_name", "text"}, {"cql_version", "text"}, {"data_center", "text"}, {"gossip_generation", "int"},
               {"host_id", "uuid"}, {"listen_address", "inet"}, {"listen_port", "int"},
               {"native_protocol_version", "text"}, {"partitioner", "text"}, {"rack", "text"},
               {"release_version", "text"}, {"rpc_address", "inet"}, {"rpc_port", "int"}, {"schema_version", "uuid"},
               {"tokens", "set<text>"}, {"truncated_at", "map<uuid, blob>"}},
              {"key"}, {}, Generated::local);
    add_table(system, "peers",
              {{"peer", "inet"}, {"data_center", "text"}, {"host_id", "uuid"}, {"preferred_ip", "inet"}, {"rack", "text"},
               {"release_version", "text"}, {"rpc_address", "inet"}, {"schema_version", "uuid"}, {"tokens", "set<text>"}},
              {"peer"}, {}, Generated::peers);
    if (impl.config.peers_v2)
        add_table(system, "peers_v2",
              {{"peer", "inet"}, {"peer_port", "int"}, {"data_center", "text"}, {"host_id", "uuid"},
               {"native_address", "inet"}, {"native_port", "int"}, {"preferred_ip", "inet"}, {"preferred_port", "int"},
               {"rack", "text"}, {"release_version", "text"}, {"schema_version", "uuid"}, {"tokens", "set<text>"}},
              {"peer", "peer_port"}, {}, Generated::peers_v2);

    Keyspace& schema = make_ks("system_schema", local);
    add_table(schema, "keyspaces",
              {{"keyspace_name", "text"}, {"durable_writes", "boolean"}, {"replication", "frozen<map<text, text>>"}},
              {"keyspace_name"}, {}, Generated::sk_keyspaces);
    add_table(schema, "tables",
              {{"keyspace_name", "text"}, {"table_name", "text"}, {"additional_write_policy", "text"},
               {"bloom_filter_fp_chance", "double"}, {"caching", "frozen<map<text, text>>"}, {"cdc", "boolean"},
               {"comment", "text"}, {"compaction", "frozen<map<text, text>>"},
               {"compression", "frozen<map<text, text>>"}, {"crc_check_chance", "double"},
               {"dclocal_read_repair_chance", "double"}, {"default_time_to_live", "int"},
               {"extensions", "frozen<map<text, blob>>"}, {"flags", "frozen<set<text>>"},
               {"gc_grace_seconds", "int"}, {"id", "uuid"}, {"max_index_interval", "int"},
               {"memtable_flush_period_in_ms", "int"}, {"min_index_interval", "int"}, {"read_repair", "text"},
               {"read_repair_chance", "double"}, {"speculative_retry", "text"}},
              {"keyspace_name"}, {"table_name"}, Generated::sk_tables);
    add_table(schema, "columns", columns_layout(), {"keyspace_name"}, {"table_name", "column_name"},
              Generated::sk_columns);
    add_table(schema, "types",
              {{"keyspace_name", "text"}, {"type_name", "text"}, {"field_names", "frozen<list<text>>"},
               {"field_types", "frozen<list<text>>"}},
              {"keyspace_name"}, {"type_name"}, Generated::sk_types);
    add_table(schema, "functions",
              {{"keyspace_name", "text"}, {"function_name", "text"}, {"argument_types", "frozen<list<text>>"},
               {"argument_names", "frozen<list<text>>"}, {"body", "text"}, {"called_on_null_input", "boolean"},
               {"language", "text"}, {"return_type", "text"}},
              {"keyspace_name"}, {"function_name", "argument_types"}, Generated::empty);
    add_table(schema, "aggregates",
              {{"keyspace_name", "text"}, {"aggregate_name", "text"}, {"argument_types", "frozen<list<text>>"},
               {"final_func", "text"}, {"initcond", "text"}, {"return_type", "text"}, {"state_func", "text"},
               {"state_type", "text"}},
              {"keyspace_name"}, {"aggregate_name", "argument_types"}, Generated::empty);
    add_table(schema, "triggers",
              {{"keyspace_name", "text"}, {"table_name", "text"}, {"trigger_name", "text"},
               {"options", "frozen<map<text, text>>"}},
              {"keyspace_name"}, {"table_name", "trigger_name"}, Generated::empty);
    add_table(schema, "indexes",
              {{"keyspace_name", "text"}, {"table_name", "text"}, {"index_name", "text"}, {"kind", "text"},
               {"options", "frozen<map<text, text>>"}},
              {"keyspace_name"}, {"table_name", "index_name"}, Generated::empty);
    add_table(schema, "views",
              {{"keyspace_name", "text"}, {"view_name", "text"}, {"base_table_id", "uuid"}, {"base_table_name", "text"},
               {"bloom_filter_fp_chance", "double"}, {"caching", "frozen<map<text, text>>"}, {"cdc", "boolean"},
               {"comment", "text"}, {"compaction", "frozen<map<text, text>>"},
               {"compression", "frozen<map<text, text>>"}, {"crc_check_chance", "double"},
               {"dclocal_read_repair_chance", "double"}, {"read_repair_chance", "double"},
               {"default_time_to_live", "int"}, {"extensions", "frozen<map<text, blob>>"},
               {"gc_grace_seconds", "int"}, {"id", "uuid"}, {"include_all_columns", "boolean"},
               {"max_index_interval", "int"}, {"memtable_flush_period_in_ms", "int"}, {"min_index_interval", "int"},
               {"read_repair", "text"}, {"speculative_retry", "text"}, {"where_clause", "text"}},
              {"keyspace_name"}, {"view_name"}, Generated::empty);
    add_table(schema, "dropped_columns",
              {{"keyspace_name", "text"}, {"table_name", "text"}, {"column_name", "text"}, {"dropped_time", "timestamp"},
               {"kind", "text"}, {"type", "text"}},
              {"keyspace_name"}, {"table_name", "column_name"}, Generated::empty);

    make_ks("system_auth", simple(1));
    make_ks("system_distributed", simple(3));
    make_ks("system_traces", simple(2));

    Keyspace& vs = make_ks("system_virtual_schema", local, true);
    add_table(vs, "keyspaces", {{"keyspace_name", "text"}}, {"keyspace_name"}, {}, Generated::vk_keyspaces);
    add_table(vs, "tables", {{"keyspace_name", "text"}, {"table_name", "text"}, {"comment", "text"}},
              {"keyspace_name"}, {"table_name"}, Generated::vk_tables);
    add_table(vs, "columns", columns_layout(), {"keyspace_name"}, {"table_name", "column_name"},
              Generated::vk_columns);
}

namespace {

void node_common(RowBuilder& r, const Engine::Impl& impl, const ClusterView& view, const NodeInfo& n) {
    r.text("data_center", n.data_center).text("rack", n.rack).text("release_version", view.release_version);
    if (!n.host_id.empty()) r.uuid("host_id", n.host_id);
    r.uuid("schema_version", impl.schema_version);
    std::vector<std::string> tokens;
    for (auto t : n.tokens) tokens.push_back(std::to_string(t));
    std::sort(tokens.begin(), tokens.end());
    r.set("tokens", cql::text_collection(tokens));
}

void fill_keyspace_tables(const Keyspace& ks, const TableSchema& schema, bool columns, Table& out) {
    for (const auto& [name, table] : ks.tables) {
        const TableSchema& s = *table->schema;
        if (!columns) {
            RowBuilder r(schema);
            r.text("keyspace_name", ks.name).text("table_name", name);
            if (schema.generated == Generated::vk_tables) {
                r.text("comment", "");
                r.insert(out);
                continue;
            }
            auto comment = s.options.find("comment");
            r.text("additional_write_policy", "99p")
                .f64("bloom_filter_fp_chance", 0.01)
                .set("caching", cql::text_map({{"keys", "ALL"}, {"rows_per_partition", "NONE"}}))
                .boolean("cdc", false)
                .text("comment", comment == s.options.end() ? "" : comment->second)
                .set("compaction", cql::text_map({{"class", "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"},
                                                  {"max_threshold", "32"},
                                                  {"min_threshold", "4"}}))
                .set("compression", cql::text_map({{"chunk_length_in_kb", "16"},
                                                   {"class", "org.apache.cassandra.io.compress.LZ4Compressor"}}))
                .f64("crc_check_chance", 1.0)
                .f64("dclocal_read_repair_chance", 0.0)
                .i32("default_time_to_live", option_int(s, "default_time_to_live", 0))
                .set("extensions", cql::text_map({}))
                .set("flags", cql::text_collection(s.is_counter ? std::vector<std::string>{"compound", "counter"}
                                                                : std::vector<std::string>{"compound"}))
                .i32("gc_grace_seconds", option_int(s, "gc_grace_seconds", 864000))
                .set("id", s.id)
                .i32("max_index_interval", 2048)
                .i32("memtable_flush_period_in_ms", 0)
                .i32("min_index_interval", 128)
                .text("read_repair", "BLOCKING")
                .f64("read_repair_chance", 0.0)
                .text("speculative_retry", "99p");
            r.insert(out);
            continue;
        }
        for (const auto& c : s.columns) {
            RowBuilder r(schema);
            r.text("keyspace_name", ks.name)
                .text("table_name", name)
                .text("column_name", c.name)
                .text("clustering_order", c.kind == ColumnKind::clustering ? (c.desc ? "desc" : "asc") : "none")
                .set("column_name_bytes", text_bytes(c.name))
                .text("kind", kind_text(c.kind))
                .i32("position", c.position)
                .text("type", c.type.cql);
            r.insert(out);
        }
    }
}

}  // namespace

void fill_generated(const Engine::Impl& impl, const TableSchema& schema, const ConnectionState& state,
                    const ClusterView& view, Table& out) {
    switch (schema.generated) {
        case Generated::local: {
            const NodeInfo* self = nullptr;
            for (const auto& n : view.nodes)
                if (n.id == state.node_id) self = &n;
            if (!self && !view.nodes.empty()) self = &view.nodes.front();
            RowBuilder r(schema);
            r.text("key", "local")
                .text("bootstrapped", "COMPLETED")
                .text("cluster_name", view.cluster_name.empty() ? impl.config.cluster_name : view.cluster_name)
                .text("cql_version", "3.4.6")
                .i32("gossip_generation", 1700000000)
                .text("native_protocol_version", "5")
                .text("partitioner", "org.apache.cassandra.dht.Murmur3Partitioner")
                .i32("listen_port", 7000);
            if (self) {
                node_common(r, impl, view, *self);
                r.inet("broadcast_address", self->address)
                    .i32("broadcast_port", 7000)
                    .inet("listen_address", self->address)
                    .inet("rpc_address", self->address)
                    .i32("rpc_port", self->native_port);
            } else {
                r.text("release_version", view.release_version).uuid("schema_version", impl.schema_version);
            }
            r.insert(out);
            return;
        }
        case Generated::peers:
        case Generated::peers_v2:
            for (const auto& n : view.nodes) {
                if (n.id == state.node_id) continue;
                RowBuilder r(schema);
                node_common(r, impl, view, n);
                r.inet("peer", n.address).inet("preferred_ip", n.address);
                if (schema.generated == Generated::peers) {
                    r.inet("rpc_address", n.address);
                } else {
                    r.i32("peer_port", 7000)
                        .inet("native_address", n.address)
                        .i32("native_port", n.native_port)
                        .i32("preferred_port", 7000);
                }
                r.insert(out);
            }
            return;
        case Generated::sk_keyspaces:
        case Generated::vk_keyspaces:
            for (const auto& [name, ks] : impl.keyspaces) {
                if (ks.is_virtual != (schema.generated == Generated::vk_keyspaces)) continue;
                RowBuilder r(schema);
                r.text("keyspace_name", name).boolean("durable_writes", ks.durable_writes);
                r.set("replication", cql::text_map(*ks.replication));
                r.insert(out);
            }
            return;
        case Generated::sk_tables:
        case Generated::sk_columns:
        case Generated::vk_tables:
        case Generated::vk_columns: {
            bool is_virtual = schema.generated == Generated::vk_tables || schema.generated == Generated::vk_columns;
            bool columns = schema.generated == Generated::sk_columns || schema.generated == Generated::vk_columns;
            for (const auto& [name, ks] : impl.keyspaces)
                if (ks.is_virtual == is_virtual) fill_keyspace_tables(ks, schema, columns, out);
            return;
        }
        case Generated::sk_types:
            for (const auto& [name, ks] : impl.keyspaces)
                for (const auto& [tn, t] : ks.types) {
                    std::vector<std::string> names, types;
                    for (const auto& [fname, ftype] : t.fields) {
                        names.push_back(fname);
                        types.push_back(ftype.cql);
                    }
                    RowBuilder r(schema);
                    r.text("keyspace_name", name).text("type_name", tn);
                    r.set("field_names", cql::text_collection(names)).set("field_types", cql::text_collection(types));
                    r.insert(out);
                }
            return;
        default: return;
    }
}

}  // namespace async_cassandra::server::detail
