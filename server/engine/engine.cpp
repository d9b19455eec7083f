// Statement execution: binding, SELECT planning and scanning, writes, DDL, prepared statements.
#include "server/engine/engine_internal.hpp"

#include <set>

#include "protocol/murmur3.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace async_cassandra::server {

using namespace detail;
using cql::CqlError;
using cql::throw_invalid;
using protocol::Bytes;
using protocol::BytesView;
using protocol::ValueView;

namespace detail {

Bytes md5(std::string_view data) {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr);
    out.resize(len);
    return out;
}

std::string uuid_text(BytesView b) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < b.size() && i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += hex[b[i] >> 4];
        s += hex[b[i] & 0xF];
    }
    return s;
}

std::shared_ptr<TableSchema> make_schema(std::string keyspace, std::string name,
                                         std::vector<std::pair<std::string, std::string>> columns,
                                         std::vector<std::string> pk, std::vector<std::string> ck,
                                         std::vector<bool> ck_desc) {
    auto s = std::make_shared<TableSchema>();
    s->keyspace = std::move(keyspace);
    s->name = std::move(name);
    std::vector<ColumnDef> others;
    std::vector<ColumnDef> pks(pk.size()), cks(ck.size());
    std::size_t slot = 0;
    for (auto& [cname, ctype] : columns) {
        ColumnDef c;
        c.name = cname;
        c.type = cql::resolve_type(cql::parse_cql_type(ctype), s->keyspace, {});
        c.slot = slot++;
        auto p = std::find(pk.begin(), pk.end(), cname);
        auto q = std::find(ck.begin(), ck.end(), cname);
        if (p != pk.end()) {
            c.kind = ColumnKind::partition_key;
            c.position = static_cast<int>(p - pk.begin());
            pks[static_cast<std::size_t>(c.position)] = c;
        } else if (q != ck.end()) {
            c.kind = ColumnKind::clustering;
            c.position = static_cast<int>(q - ck.begin());
            c.desc = static_cast<std::size_t>(c.position) < ck_desc.size() && ck_desc[static_cast<std::size_t>(c.position)];
            cks[static_cast<std::size_t>(c.position)] = c;
        } else {
            others.push_back(c);
        }
    }
    std::sort(others.begin(), others.end(), [](const ColumnDef& a, const ColumnDef& b) { return a.name < b.name; });
    for (auto& c : pks) s->columns.push_back(c);
    for (auto& c : cks) s->columns.push_back(c);
    for (auto& c : others) s->columns.push_back(c);
    for (std::size_t i = 0; i < pk.size(); ++i) s->pk.push_back(i);
    for (std::size_t i = 0; i < ck.size(); ++i) s->ck.push_back(pk.size() + i);
    s->slot_count = slot;
    s->id = md5(s->keyspace + "." + s->name);
    s->id[6] = static_cast<std::uint8_t>((s->id[6] & 0x0F) | 0x30);
    s->id[8] = static_cast<std::uint8_t>((s->id[8] & 0x3F) | 0x80);
    return s;
}

Bytes routing_key(const std::vector<Bytes>& components) {
    if (components.size() == 1) return components[0];
    std::vector<BytesView> views(components.begin(), components.end());
    return protocol::composite_routing_key(views);
}

PartitionPos partition_pos(const std::vector<Bytes>& components) {
    PartitionPos p;
    p.key = routing_key(components);
    p.token = protocol::murmur3_token(p.key);
    return p;
}

namespace {
// Undo log of one write request: the first touch of a partition saves its previous state, so a
// statement or batch that fails half-way leaves no partial writes behind.
struct UndoLog {
    std::vector<std::tuple<Table*, PartitionPos, std::optional<Partition>>> saved;
    void note(Table& t, const PartitionPos& pos) {
        for (const auto& [tp, p, old] : saved)
            if (tp == &t && p == pos) return;
        auto it = t.partitions.find(pos);
        saved.emplace_back(&t, pos, it == t.partitions.end() ? std::nullopt : std::optional<Partition>(it->second));
    }
    void rollback() {
        for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
            auto& [t, pos, old] = *it;
            if (old) t->partitions.insert_or_assign(pos, std::move(*old));
            else t->partitions.erase(pos);
        }
        saved.clear();
    }
};
thread_local UndoLog* current_undo = nullptr;

struct UndoScope {
    UndoLog log;
    UndoLog* previous = current_undo;
    UndoScope() { current_undo = &log; }
    ~UndoScope() { current_undo = previous; }
    UndoScope(const UndoScope&) = delete;
    UndoScope& operator=(const UndoScope&) = delete;
};
}  // namespace

void note_change(Table& table, const PartitionPos& pos) {
    if (current_undo) current_undo->note(table, pos);
}

Partition& partition_for(Table& table, const std::vector<Bytes>& components) {
    PartitionPos pos = partition_pos(components);
    note_change(table, pos);
    auto it = table.partitions.find(pos);
    if (it == table.partitions.end()) {
        it = table.partitions.emplace(std::move(pos), Partition(ClusteringLess{table.schema})).first;
        it->second.key = components;
    }
    return it->second;
}

void insert_row(Table& table, std::vector<Cell> cells) {
    const TableSchema& s = *table.schema;
    std::vector<Bytes> pk;
    for (auto i : s.pk) pk.push_back(cells[i].value_or(Bytes{}));
    ClusteringKey ck;
    for (auto i : s.ck) ck.push_back(cells[i].value_or(Bytes{}));
    Partition& p = partition_for(table, pk);
    Row& row = p.rows[ck];
    row.cells.assign(s.slot_count, std::nullopt);
    for (std::size_t i = 0; i < s.columns.size(); ++i) row.cells[s.columns[i].slot] = std::move(cells[i]);
}

Bytes encode_paging_state(const PagingState& st) {
    Bytes out{'A', 1};
    auto put16 = [&](std::size_t n) {
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n));
    };
    put16(st.partition_key.size());
    out.insert(out.end(), st.partition_key.begin(), st.partition_key.end());
    out.push_back(st.clustering ? 1 : 0);
    if (st.clustering) {
        put16(st.clustering->size());
        for (const auto& c : *st.clustering) {
            cql::append_i32(out, static_cast<std::int32_t>(c.size()));
            out.insert(out.end(), c.begin(), c.end());
        }
    }
    cql::append_i64(out, st.remaining);
    cql::append_i32(out, st.partition_rows);
    return out;
}

PagingState decode_paging_state(BytesView bytes) {
    try {
        protocol::ByteReader in(bytes);
        if (in.read_u8() != 'A' || in.read_u8() != 1) throw_invalid("Invalid value for the paging state");
        PagingState st;
        auto key = in.read_short_bytes();
        st.partition_key.assign(key.begin(), key.end());
        std::uint8_t has = in.read_u8();
        if (has > 1) throw_invalid("Invalid value for the paging state");
        if (has) {
            std::uint16_t n = in.read_u16();
            ClusteringKey ck;
            for (std::uint16_t i = 0; i < n; ++i) {
                auto c = in.take(in.read_length("clustering"));
                ck.emplace_back(c.begin(), c.end());
            }
            st.clustering = std::move(ck);
        }
        st.remaining = in.read_i64();
        st.partition_rows = in.read_i32();
        in.expect_end("paging state");
        if (st.remaining <= 0 || st.partition_rows < 0) throw_invalid("Invalid value for the paging state");
        return st;
    } catch (const ProtocolError&) {
        throw_invalid("Invalid value for the paging state");
    }
}

}  // namespace detail

// ================================================================ Impl helpers

ClusterView Engine::Impl::cluster_view() const {
    {
        std::lock_guard lk(provider_mutex);
        if (provider) return provider();
    }
    ClusterView v;
    v.cluster_name = config.cluster_name;
    NodeInfo n;
    n.id = 1;
    n.address = "127.0.0.1";
    n.host_id = uuid_text(md5("node-1"));
    n.tokens = {0};
    v.nodes.push_back(n);
    return v;
}

std::shared_ptr<const cql::ParsedStatement> Engine::Impl::parse(std::string_view query) {
    std::string key(query);
    {
        std::lock_guard lk(parse_mutex);
        auto it = parse_cache.find(key);
        if (it != parse_cache.end()) return it->second;
    }
    auto parsed = std::make_shared<const cql::ParsedStatement>(cql::parse_cql(query));
    std::lock_guard lk(parse_mutex);
    if (parse_cache.size() >= 1024) parse_cache.clear();
    parse_cache.emplace(std::move(key), parsed);
    return parsed;
}

void Engine::Impl::bump_schema_version() {
    Bytes b = md5("schema-" + std::to_string(++schema_counter) + "-" +
                  std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x30);
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
    schema_version = uuid_text(b);
}

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

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

// ---------------------------------------------------------------- statement context

struct Ctx {
    Engine::Impl& impl;
    ConnectionState& state;
    std::string keyspace;  ///< default keyspace for unqualified names
};

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

// ---------------------------------------------------------------- bind marker analysis

struct BindAnalysis {
    std::vector<protocol::ColumnSpec> specs;
    std::vector<std::uint16_t> pk_indexes;
};

protocol::ColumnSpec spec_of(const TableSchema& s, std::string name, DataTypePtr type) {
    return protocol::ColumnSpec{s.keyspace, s.name, std::move(name), std::move(type)};
}

void note_term(BindAnalysis& a, const cql::Term& t, const protocol::ColumnSpec& spec) {
    using K = cql::Term::Kind;
    if (t.kind == K::bind) {
        if (t.bind_index >= 0 && static_cast<std::size_t>(t.bind_index) < a.specs.size()) {
            auto& s = a.specs[static_cast<std::size_t>(t.bind_index)];
            s = spec;
            if (!t.bind_name.empty()) s.name = t.bind_name;
        }
        return;
    }
    const DataType& type = *spec.type;
    auto sub = [&](std::size_t i) {
        protocol::ColumnSpec e = spec;
        e.type = i < type.params.size() ? type.params[i] : DataType::simple(TypeKind::blob);
        return e;
    };
    if (t.kind == K::list || t.kind == K::set) {
        for (const auto& e : t.elems) note_term(a, e, sub(0));
    } else if (t.kind == K::map) {
        for (std::size_t i = 0; i < t.elems.size(); ++i) note_term(a, t.elems[i], sub(i % 2));
    } else if (t.kind == K::tuple) {
        for (std::size_t i = 0; i < t.elems.size(); ++i) note_term(a, t.elems[i], sub(i));
    } else if (t.kind == K::udt) {
        for (std::size_t i = 0; i < t.elems.size(); ++i) {
            auto f = std::find(type.field_names.begin(), type.field_names.end(), t.field_names[i]);
            if (f != type.field_names.end()) note_term(a, t.elems[i], sub(static_cast<std::size_t>(f - type.field_names.begin())));
        }
    }
}

const ColumnDef& column_of(const TableSchema& s, const std::string& name) {
    const ColumnDef* c = s.find(name);
    if (!c) throw_invalid("Undefined column name " + name + " in table " + s.keyspace + "." + s.name);
    return *c;
}

void note_relations(BindAnalysis& a, const TableSchema& s, const std::vector<cql::Relation>& where) {
    for (const auto& r : where) {
        if (r.is_token) {
            note_term(a, r.value, spec_of(s, "partition key token", bigint_type()));
            continue;
        }
        const ColumnDef& c = column_of(s, r.columns[0]);
        if (r.op == cql::Op::in) {
            if (r.in_list)
                for (const auto& v : r.in_values) note_term(a, v, spec_of(s, c.name, c.type.type));
            else
                note_term(a, r.value, spec_of(s, "in(" + c.name + ")", DataType::list_of(c.type.type)));
        } else {
            note_term(a, r.value, spec_of(s, c.name, c.type.type));
        }
    }
}

void pk_indexes_from(BindAnalysis& a, const TableSchema& s, const std::vector<std::pair<std::string, const cql::Term*>>& eqs) {
    std::vector<std::uint16_t> out;
    for (auto i : s.pk) {
        bool found = false;
        for (const auto& [name, term] : eqs)
            if (name == s.columns[i].name && term->kind == cql::Term::Kind::bind) {
                out.push_back(static_cast<std::uint16_t>(term->bind_index));
                found = true;
                break;
            }
        if (!found) return;
    }
    a.pk_indexes = std::move(out);
}

std::vector<std::pair<std::string, const cql::Term*>> eq_terms(const std::vector<cql::Relation>& where) {
    std::vector<std::pair<std::string, const cql::Term*>> out;
    for (const auto& r : where)
        if (!r.is_token && r.op == cql::Op::eq) out.emplace_back(r.columns[0], &r.value);
    return out;
}

void analyze_statement(BindAnalysis& a, Engine::Impl& impl, const cql::Statement& st, const std::string& ks, bool top) {
    std::visit(Overloaded{
                   [&](const cql::SelectStmt& s) {
                       const TableSchema& t = *find_table(impl, s.table, ks)->schema;
                       note_relations(a, t, s.where);
                       if (s.per_partition_limit)
                           note_term(a, *s.per_partition_limit, spec_of(t, "[per_partition_limit]", int_type()));
                       if (s.limit) note_term(a, *s.limit, spec_of(t, "[limit]", int_type()));
                       if (top) pk_indexes_from(a, t, eq_terms(s.where));
                   },
                   [&](const cql::InsertStmt& s) {
                       const TableSchema& t = *find_table(impl, s.table, ks)->schema;
                       std::vector<std::pair<std::string, const cql::Term*>> eqs;
                       for (std::size_t i = 0; i < s.columns.size() && i < s.values.size(); ++i) {
                           const ColumnDef& c = column_of(t, s.columns[i]);
                           note_term(a, s.values[i], spec_of(t, c.name, c.type.type));
                           eqs.emplace_back(c.name, &s.values[i]);
                       }
                       if (s.ttl) note_term(a, *s.ttl, spec_of(t, "[ttl]", int_type()));
                       if (s.timestamp) note_term(a, *s.timestamp, spec_of(t, "[timestamp]", bigint_type()));
                       if (top) pk_indexes_from(a, t, eqs);
                   },
                   [&](const cql::UpdateStmt& s) {
                       const TableSchema& t = *find_table(impl, s.table, ks)->schema;
                       if (s.ttl) note_term(a, *s.ttl, spec_of(t, "[ttl]", int_type()));
                       if (s.timestamp) note_term(a, *s.timestamp, spec_of(t, "[timestamp]", bigint_type()));
                       for (const auto& as : s.assignments) {
                           const ColumnDef& c = column_of(t, as.column);
                           DataTypePtr vt = c.type.type;
                           if (as.element_key) {
                               DataTypePtr kt = c.type.type->kind == TypeKind::map ? c.type.type->params[0] : int_type();
                               note_term(a, *as.element_key, spec_of(t, "key(" + c.name + ")", kt));
                               vt = c.type.type->params.back();
                           } else if (as.kind == cql::Assignment::Kind::subtract && c.type.type->kind == TypeKind::map) {
                               vt = DataType::set_of(c.type.type->params[0]);
                           }
                           note_term(a, as.value, spec_of(t, c.name, vt));
                       }
                       note_relations(a, t, s.where);
                       if (top) pk_indexes_from(a, t, eq_terms(s.where));
                   },
                   [&](const cql::DeleteStmt& s) {
                       const TableSchema& t = *find_table(impl, s.table, ks)->schema;
                       if (s.timestamp) note_term(a, *s.timestamp, spec_of(t, "[timestamp]", bigint_type()));
                       note_relations(a, t, s.where);
                       if (top) pk_indexes_from(a, t, eq_terms(s.where));
                   },
                   [&](const std::shared_ptr<cql::BatchStmt>& b) {
                       for (const auto& sub : b->statements) analyze_statement(a, impl, sub, ks, false);
                   },
                   [&](const auto&) {},
               },
               st);
}

BindAnalysis analyze(Engine::Impl& impl, const cql::ParsedStatement& ps, const std::string& ks) {
    BindAnalysis a;
    a.specs.resize(static_cast<std::size_t>(ps.bind_count),
                   protocol::ColumnSpec{"", "", "", DataType::simple(TypeKind::blob)});
    analyze_statement(a, impl, ps.statement, ks, true);
    return a;
}

std::vector<ValueView> bind_values(const BindAnalysis& a, const std::vector<ValueView>& values,
                                   const std::vector<std::string_view>& names) {
    std::size_t markers = a.specs.size();
    if (!names.empty()) {
        std::vector<ValueView> out(markers);
        for (std::size_t i = 0; i < markers; ++i) {
            bool found = false;
            for (std::size_t k = 0; k < names.size() && k < values.size(); ++k) {
                std::string lowered(names[k]);
                for (auto& ch : lowered) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                if (names[k] == a.specs[i].name || lowered == a.specs[i].name) {
                    out[i] = values[k];
                    found = true;
                    break;
                }
            }
            if (!found) throw_invalid("Invalid unset value for column " + a.specs[i].name);
        }
        return out;
    }
    if (values.size() != markers)
        throw_invalid("There were " + std::to_string(markers) + " markers(?) in CQL but " +
                      std::to_string(values.size()) + " bound variables");
    return values;
}

// ---------------------------------------------------------------- term helpers

Bytes eval_required(const cql::Term& t, const ColumnDef& c, std::span<const ValueView> bound) {
    cql::Value v = cql::evaluate(t, *c.type.type, bound);
    if (v.kind == cql::Value::Kind::null) throw_invalid("Invalid null value in condition for column " + c.name);
    if (v.kind == cql::Value::Kind::unset) throw_invalid("Invalid unset value for column " + c.name);
    return std::move(v.bytes);
}

std::optional<std::int64_t> eval_int(const std::optional<cql::Term>& t, const DataTypePtr& type, const char* what,
                                     std::span<const ValueView> bound) {
    if (!t) return std::nullopt;
    cql::Value v = cql::evaluate(*t, *type, bound);
    if (v.kind == cql::Value::Kind::unset) return std::nullopt;
    if (v.kind == cql::Value::Kind::null) throw_invalid(std::string("Invalid null value of ") + what);
    if (v.bytes.empty()) throw_invalid(std::string("Invalid empty value of ") + what);
    std::int64_t n = load_i64(v.bytes);
    if (v.bytes.size() == 4) n = static_cast<std::int32_t>(n);
    return n;
}

// Elements of a serialized list/set, or keys and values (k0, v0, k1, v1, ...) of a map.
std::vector<Bytes> split_collection(const Bytes& b, bool is_map = false) {
    std::vector<Bytes> out;
    protocol::ByteReader in(b);
    std::int64_t n = in.read_i32();
    if (is_map) n *= 2;
    for (std::int64_t i = 0; i < n; ++i) {
        auto e = in.read_bytes();
        if (!e) throw_invalid("null is not supported inside collections");
        out.emplace_back(e->begin(), e->end());
    }
    return out;
}

std::vector<Bytes> relation_values(const cql::Relation& r, const ColumnDef& c, std::span<const ValueView> bound) {
    std::vector<Bytes> out;
    if (r.op == cql::Op::in) {
        if (r.in_list) {
            for (const auto& t : r.in_values) out.push_back(eval_required(t, c, bound));
        } else {
            auto list = DataType::list_of(c.type.type);
            cql::Value v = cql::evaluate(r.value, *list, bound);
            if (v.kind != cql::Value::Kind::value) throw_invalid("Invalid null value for IN restriction on " + c.name);
            out = split_collection(v.bytes);
        }
    } else {
        out.push_back(eval_required(r.value, c, bound));
    }
    return out;
}

// Full primary key values of a write: each pk / ck column -> candidate values (= or IN).
struct KeyValues {
    std::vector<std::vector<Bytes>> pk;  ///< per pk column
    std::vector<std::vector<Bytes>> ck;  ///< per ck column (may be partially filled for DELETE)
    std::vector<Restriction> ck_ranges;  ///< DELETE with clustering slices
};

KeyValues write_keys(const TableSchema& s, const std::vector<cql::Relation>& where, std::span<const ValueView> bound,
                     bool allow_partial_ck) {
    KeyValues k;
    k.pk.resize(s.pk.size());
    k.ck.resize(s.ck.size());
    for (const auto& r : where) {
        if (r.is_token) throw_invalid("The token function cannot be used in WHERE clauses for UPDATE and DELETE statements");
        const ColumnDef& c = column_of(s, r.columns[0]);
        if (c.kind == ColumnKind::regular || c.kind == ColumnKind::static_)
            throw_invalid("Non PRIMARY KEY columns found in where clause: " + c.name);
        bool range = r.op != cql::Op::eq && r.op != cql::Op::in;
        if (range && (c.kind == ColumnKind::partition_key || !allow_partial_ck))
            throw_invalid("Invalid operator " + std::string(r.op == cql::Op::neq ? "!=" : "range") +
                          " for PRIMARY KEY part " + c.name);
        auto values = relation_values(r, c, bound);
        auto pos = static_cast<std::size_t>(c.position);
        if (range) {
            k.ck_ranges.push_back(Restriction{s.index_of(&c), r.op, std::move(values)});
            continue;
        }
        auto& slot = c.kind == ColumnKind::partition_key ? k.pk[pos] : k.ck[pos];
        if (!slot.empty()) throw_invalid(c.name + " cannot be restricted by more than one relation if it includes an Equal");
        slot = std::move(values);
    }
    for (std::size_t i = 0; i < k.pk.size(); ++i)
        if (k.pk[i].empty())
            throw_invalid("Some partition key parts are missing: " + s.columns[s.pk[i]].name);
    for (const auto& vals : k.pk)
        for (const auto& v : vals)
            if (v.empty()) throw_invalid("Key may not be empty");
    return k;
}

std::vector<std::vector<Bytes>> cartesian(const std::vector<std::vector<Bytes>>& parts) {
    std::vector<std::vector<Bytes>> out{{}};
    for (const auto& options : parts) {
        std::vector<std::vector<Bytes>> next;
        for (const auto& prefix : out)
            for (const auto& v : options) {
                next.push_back(prefix);
                next.back().push_back(v);
            }
        out = std::move(next);
        if (out.size() > 100000) throw_invalid("IN restrictions produce too many combinations");
    }
    return out;
}

// ---------------------------------------------------------------- SELECT planning

std::vector<OutputColumn> build_outputs(const cql::SelectStmt& st, const TableSchema& s, bool& count) {
    std::vector<OutputColumn> out;
    count = false;
    if (st.star) {
        for (std::size_t i = 0; i < s.columns.size(); ++i)
            out.push_back(OutputColumn{cql::Selector::Kind::column, i, spec_of(s, s.columns[i].name, s.columns[i].type.type)});
        return out;
    }
    for (const auto& sel : st.selectors) {
        OutputColumn o;
        o.kind = sel.kind;
        switch (sel.kind) {
            case cql::Selector::Kind::column: {
                const ColumnDef& c = column_of(s, sel.column);
                o.column = s.index_of(&c);
                o.spec = spec_of(s, sel.alias.empty() ? c.name : sel.alias, c.type.type);
                break;
            }
            case cql::Selector::Kind::count:
                if (!sel.column.empty()) column_of(s, sel.column);
                o.spec = spec_of(s, sel.alias.empty() ? "count" : sel.alias, bigint_type());
                count = true;
                break;
            case cql::Selector::Kind::writetime:
            case cql::Selector::Kind::ttl: {
                const ColumnDef& c = column_of(s, sel.column);
                if (c.kind == ColumnKind::partition_key || c.kind == ColumnKind::clustering)
                    throw_invalid("Cannot use selection function " +
                                  std::string(sel.kind == cql::Selector::Kind::ttl ? "ttl" : "writeTime") +
                                  " on PRIMARY KEY part " + c.name);
                o.column = s.index_of(&c);
                bool ttl = sel.kind == cql::Selector::Kind::ttl;
                o.spec = spec_of(s, sel.alias.empty() ? (ttl ? "ttl(" : "writetime(") + c.name + ")" : sel.alias,
                                 ttl ? int_type() : bigint_type());
                break;
            }
            case cql::Selector::Kind::token: {
                std::string name = "system.token(";
                if (sel.args.size() != s.pk.size()) throw_invalid("Invalid number of arguments in call to function system.token");
                for (std::size_t i = 0; i < sel.args.size(); ++i) {
                    if (sel.args[i] != s.columns[s.pk[i]].name)
                        throw_invalid("The token function arguments must be in the partition key order");
                    name += (i ? ", " : "") + sel.args[i];
                }
                o.spec = spec_of(s, sel.alias.empty() ? name + ")" : sel.alias, bigint_type());
                break;
            }
        }
        out.push_back(std::move(o));
    }
    return out;
}

[[noreturn]] void needs_filtering() {
    throw_invalid(
        "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. "
        "If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING");
}

SelectPlan plan_select(const cql::SelectStmt& st, std::shared_ptr<const TableSchema> schema,
                       std::span<const ValueView> bound) {
    SelectPlan plan;
    const TableSchema& s = *schema;
    plan.schema = schema;
    plan.star = st.star;
    plan.outputs = build_outputs(st, s, plan.count);
    std::vector<std::vector<Bytes>> pk_values(s.pk.size());
    std::vector<Restriction> pk_ranges;
    bool has_token = false;
    for (const auto& r : st.where) {
        if (r.is_token) {
            if (r.columns.size() != s.pk.size())
                throw_invalid("The token() function must be applied to all partition key components or none of them");
            for (std::size_t i = 0; i < r.columns.size(); ++i)
                if (r.columns[i] != s.columns[s.pk[i]].name)
                    throw_invalid("The token function arguments must be in the partition key order: " + r.columns[i]);
            cql::Value v = cql::evaluate(r.value, *bigint_type(), bound);
            if (v.kind != cql::Value::Kind::value || v.bytes.size() != 8)
                throw_invalid("Invalid null value for partition key token");
            std::int64_t t = load_i64(v.bytes);
            has_token = true;
            constexpr auto lo = std::numeric_limits<std::int64_t>::min();
            constexpr auto hi = std::numeric_limits<std::int64_t>::max();
            switch (r.op) {
                case cql::Op::eq: plan.token_lo = std::max(plan.token_lo, t); plan.token_hi = std::min(plan.token_hi, t); break;
                case cql::Op::gt:
                    if (t == hi) plan.empty_range = true;
                    else plan.token_lo = std::max(plan.token_lo, t + 1);
                    break;
                case cql::Op::ge: plan.token_lo = std::max(plan.token_lo, t); break;
                case cql::Op::lt:
                    if (t == lo) plan.empty_range = true;
                    else plan.token_hi = std::min(plan.token_hi, t - 1);
                    break;
                case cql::Op::le:
                    // Cassandra treats `<= min token` as "up to the end of the ring".
                    if (t != lo) plan.token_hi = std::min(plan.token_hi, t);
                    break;
                default: throw_invalid("Unsupported operator on token()");
            }
            continue;
        }
        const ColumnDef& c = column_of(s, r.columns[0]);
        if (r.op == cql::Op::contains || r.op == cql::Op::contains_key) throw_invalid("CONTAINS is not supported");
        if (r.op == cql::Op::neq) throw_invalid("Unsupported \"!=\" relation: " + c.name + " != ...");
        Restriction res{s.index_of(&c), r.op, relation_values(r, c, bound)};
        switch (c.kind) {
            case ColumnKind::partition_key:
                if (r.op == cql::Op::eq || r.op == cql::Op::in) {
                    auto& slot = pk_values[static_cast<std::size_t>(c.position)];
                    if (!slot.empty())
                        throw_invalid(c.name + " cannot be restricted by more than one relation if it includes an Equal");
                    slot = res.values;
                } else {
                    if (!st.allow_filtering)
                        throw_invalid("Only EQ and IN relation are supported on the partition key (unless you use the token() function or allow filtering)");
                    pk_ranges.push_back(std::move(res));
                }
                break;
            case ColumnKind::clustering: plan.clustering.push_back(std::move(res)); break;
            default: plan.filters.push_back(std::move(res)); break;
        }
    }
    std::size_t restricted = static_cast<std::size_t>(
        std::count_if(pk_values.begin(), pk_values.end(), [](const auto& v) { return !v.empty(); }));
    bool full_pk = restricted == s.pk.size() && pk_ranges.empty();
    if (full_pk) {
        std::vector<PartitionPos> seen;
        std::vector<std::vector<Bytes>> keys;
        for (auto& key : cartesian(pk_values)) {
            PartitionPos pos = partition_pos(key);
            if (std::find(seen.begin(), seen.end(), pos) != seen.end()) continue;
            seen.push_back(pos);
            keys.push_back(std::move(key));
        }
        std::vector<std::size_t> order(keys.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return seen[a] < seen[b]; });
        std::vector<std::vector<Bytes>> sorted;
        for (auto i : order) sorted.push_back(std::move(keys[i]));
        plan.partition_keys = std::move(sorted);
    } else {
        if (restricted > 0 || !pk_ranges.empty()) {
            if (!st.allow_filtering) needs_filtering();
            for (std::size_t i = 0; i < pk_values.size(); ++i)
                if (!pk_values[i].empty())
                    plan.filters.push_back(Restriction{s.pk[i], pk_values[i].size() == 1 ? cql::Op::eq : cql::Op::in,
                                                       pk_values[i]});
            for (auto& r : pk_ranges) plan.filters.push_back(std::move(r));
        }
        if (!st.allow_filtering && (!plan.clustering.empty() || !plan.filters.empty()) &&
            s.generated == Generated::none)
            needs_filtering();
    }
    if (!plan.filters.empty() && !st.allow_filtering && s.generated == Generated::none) needs_filtering();
    (void)has_token;

    if (!st.order_by.empty()) {
        if (!plan.partition_keys)
            throw_invalid("ORDER BY is only supported when the partition key is restricted by an EQ or an IN.");
        std::optional<bool> reversed;
        for (std::size_t i = 0; i < st.order_by.size(); ++i) {
            const ColumnDef& c = column_of(s, st.order_by[i].first);
            if (c.kind != ColumnKind::clustering)
                throw_invalid("Order by is currently only supported on the clustered columns of the PRIMARY KEY, got " + c.name);
            if (static_cast<std::size_t>(c.position) != i)
                throw_invalid("Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY");
            bool r = st.order_by[i].second != c.desc;
            if (reversed && *reversed != r) throw_invalid("Unsupported order by relation");
            reversed = r;
        }
        plan.reversed = reversed.value_or(false);
    }
    if (auto l = eval_int(st.limit, int_type(), "limit", bound)) {
        if (*l <= 0) throw_invalid("LIMIT must be strictly positive");
        plan.limit = *l;
    }
    if (auto l = eval_int(st.per_partition_limit, int_type(), "per partition limit", bound)) {
        if (*l <= 0) throw_invalid("PER PARTITION LIMIT must be strictly positive");
        plan.per_partition_limit = *l;
    }
    if (st.distinct) {
        for (const auto& o : plan.outputs)
            if (o.kind == cql::Selector::Kind::column && s.columns[o.column].kind != ColumnKind::partition_key &&
                s.columns[o.column].kind != ColumnKind::static_)
                throw_invalid("SELECT DISTINCT queries must only request partition key columns and/or static columns (not " +
                              s.columns[o.column].name + ")");
        plan.per_partition_limit = 1;
    }
    return plan;
}

// ---------------------------------------------------------------- scanning stored tables

struct TableScanner {
    const Table& table;
    const SelectPlan& plan;
    const std::optional<PagingState>& resume;
    std::int32_t page_size;
    RowsBuffer buf;
    std::int64_t now = now_ms();
    PageResult result;
    std::int64_t remaining;
    std::int64_t counted = 0;
    std::optional<PartitionPos> resume_pos;
    bool done = false;
    struct Pending {
        const PartitionPos* pos;
        const Partition* partition;
        const ClusteringKey* ck;
        const Row* row;
    };
    std::vector<Pending> pending;

    void emit_merged() {
        ClusteringLess less{plan.schema};
        std::stable_sort(pending.begin(), pending.end(), [&](const Pending& a, const Pending& b) {
            if (!a.ck || !b.ck) return a.ck == nullptr && b.ck != nullptr;
            return plan.reversed ? less(*b.ck, *a.ck) : less(*a.ck, *b.ck);
        });
        for (const auto& r : pending) {
            if (remaining <= 0) break;
            emit(*r.pos, *r.partition, r.ck, r.row);
            ++result.row_count;
            --remaining;
        }
    }

    TableScanner(const Table& t, const SelectPlan& p, const std::optional<PagingState>& r, std::int32_t ps, Bytes& out)
        : table(t), plan(p), resume(r), page_size(ps), buf(out), remaining(r ? r->remaining : p.limit) {
        if (resume) {
            PartitionPos pos;
            pos.key = resume->partition_key;
            pos.token = protocol::murmur3_token(pos.key);
            resume_pos = std::move(pos);
        }
    }

    // Points `out` at a cell's bytes without copying; false when the cell is null or absent.
    bool cell_view(const Partition& p, const ClusteringKey* ck, const Row* row, std::size_t column, BytesView& out) const {
        const ColumnDef& c = plan.schema->columns[column];
        const Cell* cell = nullptr;
        switch (c.kind) {
            case ColumnKind::partition_key: out = p.key[static_cast<std::size_t>(c.position)]; return true;
            case ColumnKind::clustering:
                if (!ck) return false;
                out = (*ck)[static_cast<std::size_t>(c.position)];
                return true;
            case ColumnKind::static_: cell = c.slot < p.statics.size() ? &p.statics[c.slot] : nullptr; break;
            case ColumnKind::regular: cell = row && c.slot < row->cells.size() ? &row->cells[c.slot] : nullptr; break;
        }
        if (!cell || !*cell) return false;
        out = **cell;
        return true;
    }

    bool passes_filters(const Partition& p, const ClusteringKey* ck, const Row* row) const {
        for (const auto& f : plan.filters) {
            BytesView v;
            if (!cell_view(p, ck, row, f.column, v)) return false;
            if (!restriction_matches(f, v, *plan.schema->columns[f.column].type.type)) return false;
        }
        return true;
    }

    void emit(const PartitionPos& pos, const Partition& p, const ClusteringKey* ck, const Row* row) {
        for (const auto& o : plan.outputs) {
            BytesView v;
            switch (o.kind) {
                case cql::Selector::Kind::column:
                    if (cell_view(p, ck, row, o.column, v)) buf.cell(v);
                    else buf.put_i32(-1);
                    break;
                case cql::Selector::Kind::token: {
                    Bytes b;
                    cql::append_i64(b, pos.token);
                    buf.cell(BytesView(b));
                    break;
                }
                case cql::Selector::Kind::writetime:
                case cql::Selector::Kind::ttl: {
                    if (!cell_view(p, ck, row, o.column, v) || !row) {
                        buf.put_i32(-1);
                        break;
                    }
                    Bytes b;
                    if (o.kind == cql::Selector::Kind::writetime) cql::append_i64(b, row->write_ts);
                    else if (row->expires_ms == 0) {
                        buf.put_i32(-1);
                        break;
                    } else
                        cql::append_i32(b, static_cast<std::int32_t>(std::max<std::int64_t>(0, (row->expires_ms - now + 999) / 1000)));
                    buf.cell(BytesView(b));
                    break;
                }
                case cql::Selector::Kind::count: buf.put_i32(-1); break;  // not reached: count plans aggregate
            }
        }
    }

    // Returns false to stop the scan.
    bool take(const PartitionPos& pos, const Partition& p, const ClusteringKey* ck, const Row* row,
              std::int64_t& in_partition) {
        if (plan.count) {
            ++counted;
            if (--remaining == 0) {
                done = true;
                return false;
            }
            return true;
        }
        if (plan.merge_partitions) {
            pending.push_back(Pending{&pos, &p, ck, row});
            ++in_partition;
            return true;  // LIMIT applies after the merge
        }
        emit(pos, p, ck, row);
        ++result.row_count;
        ++in_partition;
        if (--remaining == 0) {
            done = true;
            return false;
        }
        if (page_size > 0 && result.row_count >= page_size) {
            result.next = PagingState{pos.key, ck ? std::optional<ClusteringKey>(*ck) : std::nullopt, remaining,
                                      static_cast<std::int32_t>(in_partition)};
            done = true;
            return false;
        }
        return true;
    }

    bool row_matches(const Partition& p, const ClusteringKey& ck, const Row& row) const {
        if (row.expires_ms && row.expires_ms <= now) return false;
        for (const auto& r : plan.clustering) {
            const ColumnDef& c = plan.schema->columns[r.column];
            if (!restriction_matches(r, ck[static_cast<std::size_t>(c.position)], *c.type.type)) return false;
        }
        return passes_filters(p, &ck, &row);
    }

    template <class It>
    bool scan_rows(const PartitionPos& pos, const Partition& p, It it, It end, std::int64_t& in_partition) {
        for (; it != end; ++it) {
            if (in_partition >= plan.per_partition_limit) return true;
            if (!row_matches(p, it->first, it->second)) continue;
            if (!take(pos, p, &it->first, &it->second, in_partition)) return false;
        }
        return true;
    }

    bool partition(const PartitionPos& pos, const Partition& p) {
        if (pos.token < plan.token_lo || pos.token > plan.token_hi) return true;
        bool here = resume_pos && pos == *resume_pos;
        std::int64_t in_partition = here ? resume->partition_rows : 0;
        if (here && !resume->clustering) return true;
        bool any_live = false;
        for (const auto& [ck, row] : p.rows)
            if (!row.expires_ms || row.expires_ms > now) {
                any_live = true;
                break;
            }
        if (!any_live) {
            // A partition with only static cells shows as one row with null clustering columns.
            bool has_static = std::any_of(p.statics.begin(), p.statics.end(), [](const Cell& c) { return c.has_value(); });
            if (has_static && !here && plan.clustering.empty() && passes_filters(p, nullptr, nullptr))
                return take(pos, p, nullptr, nullptr, in_partition);
            return true;
        }
        if (!plan.reversed) {
            auto it = here ? p.rows.upper_bound(*resume->clustering) : p.rows.begin();
            return scan_rows(pos, p, it, p.rows.end(), in_partition);
        }
        auto it = here ? std::make_reverse_iterator(p.rows.lower_bound(*resume->clustering)) : p.rows.rbegin();
        return scan_rows(pos, p, it, p.rows.rend(), in_partition);
    }

    void run() {
        if (plan.empty_range || remaining <= 0) return;
        if (plan.partition_keys) {
            for (const auto& key : *plan.partition_keys) {
                PartitionPos pos = partition_pos(key);
                if (resume_pos && pos < *resume_pos) continue;
                auto it = table.partitions.find(pos);
                if (it == table.partitions.end()) continue;
                if (!passes_partition_filters(it->second)) continue;
                if (!partition(it->first, it->second)) break;
            }
            if (plan.merge_partitions) emit_merged();
            return;
        }
        PartitionPos start{plan.token_lo, {}};
        auto it = resume_pos && start < *resume_pos ? table.partitions.lower_bound(*resume_pos)
                                                     : table.partitions.lower_bound(start);
        for (; it != table.partitions.end() && it->first.token <= plan.token_hi; ++it) {
            if (!passes_partition_filters(it->second)) continue;
            if (!partition(it->first, it->second)) return;
        }
    }

    bool passes_partition_filters(const Partition&) const { return true; }
};

std::shared_ptr<const TableSchema> lookup_schema(Engine::Impl& impl, const cql::QualifiedName& q, const std::string& ks) {
    return find_table(impl, q, ks)->schema;
}

std::string metadata_fingerprint(const std::vector<protocol::ColumnSpec>& cols) {
    std::string s;
    for (const auto& c : cols) s += c.keyspace + "." + c.table + "." + c.name + ":" + c.type->cql_name() + ";";
    return s;
}

// ---------------------------------------------------------------- writes

Bytes join_collection(const std::vector<Bytes>& items) {
    Bytes out;
    cql::append_i32(out, static_cast<std::int32_t>(items.size()));
    for (const auto& b : items) {
        cql::append_i32(out, static_cast<std::int32_t>(b.size()));
        out.insert(out.end(), b.begin(), b.end());
    }
    return out;
}

// Collection arithmetic on serialized values; map items are flattened (k0, v0, k1, v1, ...).
Cell combine(const Cell& current, const Bytes& operand, const ColumnDef& c, cql::Assignment::Kind kind) {
    const DataType& t = *c.type.type;
    if (t.kind == TypeKind::counter) {
        std::int64_t cur = current && current->size() == 8 ? load_i64(*current) : 0;
        std::int64_t d = load_i64(operand);
        Bytes b;
        cql::append_i64(b, kind == cql::Assignment::Kind::subtract ? cur - d : cur + d);
        return b;
    }
    if (t.kind != TypeKind::list && t.kind != TypeKind::set && t.kind != TypeKind::map)
        throw_invalid("Invalid operation (" + c.name + " = " + c.name + " + ?) for non counter column " + c.name);
    bool map = t.kind == TypeKind::map;
    std::vector<Bytes> cur = current ? split_collection(*current, map) : std::vector<Bytes>{};
    std::vector<Bytes> op = split_collection(operand, map && kind != cql::Assignment::Kind::subtract);
    const DataType& et = *t.params[0];
    auto contains = [&](const std::vector<Bytes>& v, const Bytes& x, std::size_t step) {
        for (std::size_t i = 0; i < v.size(); i += step)
            if (cql::compare_values(v[i], x, et) == 0) return true;
        return false;
    };
    std::vector<Bytes> out;
    if (t.kind == TypeKind::list) {
        if (kind == cql::Assignment::Kind::add) {
            out = cur;
            out.insert(out.end(), op.begin(), op.end());
        } else if (kind == cql::Assignment::Kind::prepend) {
            out = op;
            out.insert(out.end(), cur.begin(), cur.end());
        } else {
            for (auto& x : cur)
                if (!contains(op, x, 1)) out.push_back(x);
        }
    } else if (t.kind == TypeKind::set) {
        if (kind == cql::Assignment::Kind::subtract) {
            for (auto& x : cur)
                if (!contains(op, x, 1)) out.push_back(x);
        } else {
            out = cur;
            for (auto& x : op)
                if (!contains(out, x, 1)) out.push_back(x);
            std::sort(out.begin(), out.end(), [&](const Bytes& a, const Bytes& b) { return cql::compare_values(a, b, et) < 0; });
        }
    } else {
        std::vector<std::pair<Bytes, Bytes>> items;
        for (std::size_t i = 0; i + 1 < cur.size(); i += 2) items.emplace_back(cur[i], cur[i + 1]);
        if (kind == cql::Assignment::Kind::subtract) {  // operand is a set of keys
            std::erase_if(items, [&](const auto& kv) { return contains(op, kv.first, 1); });
        } else {
            for (std::size_t i = 0; i + 1 < op.size(); i += 2) {
                std::erase_if(items, [&](const auto& kv) { return cql::compare_values(kv.first, op[i], et) == 0; });
                items.emplace_back(op[i], op[i + 1]);
            }
            std::sort(items.begin(), items.end(),
                      [&](const auto& a, const auto& b) { return cql::compare_values(a.first, b.first, et) < 0; });
        }
        Bytes b;
        cql::append_i32(b, static_cast<std::int32_t>(items.size()));
        for (const auto& [k, v] : items) {
            cql::append_i32(b, static_cast<std::int32_t>(k.size()));
            b.insert(b.end(), k.begin(), k.end());
            cql::append_i32(b, static_cast<std::int32_t>(v.size()));
            b.insert(b.end(), v.begin(), v.end());
        }
        return b;
    }
    return join_collection(out);
}

Table& writable_table(Engine::Impl& impl, const cql::QualifiedName& q, const std::string& ks) {
    const std::string& k = keyspace_of(q, ks);
    if (is_system_keyspace(k))
        throw CqlError{ServerErrorCode::unauthorized, k + " keyspace is not user-modifiable.", {}, {}, {}};
    Table* t = find_table(impl, q, ks);
    if (t->schema->synthetic) throw_invalid("The synthetic table is read-only");
    return *t;
}

struct WriteOptions {
    std::int64_t timestamp_us = 0;
    std::int64_t ttl_s = 0;
};

WriteOptions write_options(const std::optional<cql::Term>& ttl, const std::optional<cql::Term>& ts,
                           std::span<const ValueView> bound, std::int64_t default_ts) {
    WriteOptions w;
    w.timestamp_us = default_ts;
    if (auto t = eval_int(ts, bigint_type(), "timestamp", bound)) w.timestamp_us = *t;
    if (auto t = eval_int(ttl, int_type(), "ttl", bound)) {
        if (*t < 0) throw_invalid("A TTL must be greater or equal to 0, but was " + std::to_string(*t));
        if (*t > 630720000) throw_invalid("ttl is too large. requested (" + std::to_string(*t) + ") maximum (630720000)");
        w.ttl_s = *t;
    }
    return w;
}

void stamp(Row& row, const WriteOptions& w) {
    row.write_ts = w.timestamp_us;
    row.ttl = static_cast<std::int32_t>(w.ttl_s);
    row.expires_ms = w.ttl_s ? now_ms() + w.ttl_s * 1000 : 0;
}

// [applied] result of a conditional statement.
ExecutionResult applied_result(const TableSchema& s, bool applied, const Partition* p, const ClusteringKey* ck,
                               const Row* row) {
    auto storage = std::make_shared<Bytes>();
    RowsBuffer buf(*storage);
    protocol::RowsResult rows;
    rows.metadata.columns.push_back(spec_of(s, "[applied]", DataType::simple(TypeKind::boolean)));
    buf.cell(BytesView(Bytes{static_cast<std::uint8_t>(applied ? 1 : 0)}));
    if (!applied && p) {
        for (const auto& c : s.columns) {
            rows.metadata.columns.push_back(spec_of(s, c.name, c.type.type));
            switch (c.kind) {
                case ColumnKind::partition_key: buf.cell(BytesView(p->key[static_cast<std::size_t>(c.position)])); break;
                case ColumnKind::clustering:
                    if (ck) buf.cell(BytesView((*ck)[static_cast<std::size_t>(c.position)]));
                    else buf.put_i32(-1);
                    break;
                case ColumnKind::static_:
                    if (c.slot < p->statics.size()) buf.cell(p->statics[c.slot]);
                    else buf.put_i32(-1);
                    break;
                case ColumnKind::regular:
                    if (row && c.slot < row->cells.size()) buf.cell(row->cells[c.slot]);
                    else buf.put_i32(-1);
                    break;
            }
        }
    }
    buf.finish();
    rows.metadata.column_count = static_cast<std::int32_t>(rows.metadata.columns.size());
    rows.row_count = 1;
    rows.rows_content = BytesView(*storage);
    return ExecutionResult{protocol::Response{protocol::ResultResponse{std::move(rows)}}, storage, std::nullopt, {}};
}

void set_cell(std::vector<Cell>& cells, std::size_t slot, Cell value) {
    if (cells.size() <= slot) cells.resize(slot + 1);
    cells[slot] = std::move(value);
}

std::optional<ExecutionResult> do_insert(Engine::Impl& impl, const cql::InsertStmt& st, const std::string& ks,
                                         std::span<const ValueView> bound, std::int64_t default_ts) {
    Table& table = writable_table(impl, st.table, ks);
    const TableSchema& s = *table.schema;
    if (s.is_counter) throw_invalid("INSERT statements are not allowed on counter tables, use UPDATE instead");
    if (st.columns.size() != st.values.size()) throw_invalid("Unmatched column names/values");
    std::vector<cql::Value> values(s.columns.size());
    std::vector<bool> given(s.columns.size(), false);
    for (std::size_t i = 0; i < st.columns.size(); ++i) {
        const ColumnDef& c = column_of(s, st.columns[i]);
        std::size_t idx = s.index_of(&c);
        if (given[idx]) throw_invalid("Multiple definitions found for column " + c.name);
        given[idx] = true;
        values[idx] = cql::evaluate(st.values[i], *c.type.type, bound);
    }
    std::vector<Bytes> pk;
    for (auto i : s.pk) {
        if (!given[i]) throw_invalid("Some partition key parts are missing: " + s.columns[i].name);
        if (values[i].kind == cql::Value::Kind::null)
            throw_invalid("Invalid null value in condition for column " + s.columns[i].name);
        if (values[i].kind == cql::Value::Kind::unset) throw_invalid("Invalid unset value for column " + s.columns[i].name);
        if (values[i].bytes.empty()) throw_invalid("Key may not be empty");
        pk.push_back(values[i].bytes);
    }
    ClusteringKey ck;
    for (auto i : s.ck) {
        if (!given[i]) throw_invalid("Some clustering keys are missing: " + s.columns[i].name);
        if (values[i].kind != cql::Value::Kind::value)
            throw_invalid("Invalid null value in condition for column " + s.columns[i].name);
        ck.push_back(values[i].bytes);
    }
    WriteOptions w = write_options(st.ttl, st.timestamp, bound, default_ts);
    PartitionPos pos = partition_pos(pk);
    if (st.if_not_exists) {
        auto it = table.partitions.find(pos);
        if (it != table.partitions.end()) {
            auto r = it->second.rows.find(ck);
            if (r != it->second.rows.end() && (!r->second.expires_ms || r->second.expires_ms > now_ms()))
                return applied_result(s, false, &it->second, &r->first, &r->second);
        }
    }
    Partition& p = partition_for(table, pk);
    for (std::size_t i = 0; i < s.columns.size(); ++i) {
        const ColumnDef& c = s.columns[i];
        if (!given[i] || values[i].kind == cql::Value::Kind::unset || c.kind != ColumnKind::static_) continue;
        set_cell(p.statics, c.slot,
                 values[i].kind == cql::Value::Kind::null ? Cell{} : Cell{std::move(values[i].bytes)});
    }
    {
        // An INSERT always creates its row (Cassandra's row marker), even when it sets no
        // regular column: INSERT INTO t (pk, ck) VALUES (...) makes a row that SELECT returns.
        Row& row = p.rows[ck];
        if (row.expires_ms && row.expires_ms <= now_ms()) row = Row{};
        for (std::size_t i = 0; i < s.columns.size(); ++i) {
            const ColumnDef& c = s.columns[i];
            if (c.kind == ColumnKind::static_) continue;
            if (c.kind == ColumnKind::partition_key) {
                set_cell(row.cells, c.slot, Cell{pk[static_cast<std::size_t>(c.position)]});
                continue;
            }
            if (c.kind == ColumnKind::clustering) {
                set_cell(row.cells, c.slot, Cell{ck[static_cast<std::size_t>(c.position)]});
                continue;
            }
            if (!given[i] || values[i].kind == cql::Value::Kind::unset) continue;
            set_cell(row.cells, c.slot,
                     values[i].kind == cql::Value::Kind::null ? Cell{} : Cell{std::move(values[i].bytes)});
        }
        stamp(row, w);
    }
    if (st.if_not_exists) return applied_result(s, true, nullptr, nullptr, nullptr);
    return std::nullopt;
}

std::optional<ExecutionResult> do_update(Engine::Impl& impl, const cql::UpdateStmt& st, const std::string& ks,
                                         std::span<const ValueView> bound, std::int64_t default_ts) {
    Table& table = writable_table(impl, st.table, ks);
    const TableSchema& s = *table.schema;
    KeyValues keys = write_keys(s, st.where, bound, false);
    bool has_regular = false;
    std::vector<std::pair<const ColumnDef*, const cql::Assignment*>> assigns;
    for (const auto& a : st.assignments) {
        const ColumnDef& c = column_of(s, a.column);
        if (c.kind == ColumnKind::partition_key || c.kind == ColumnKind::clustering)
            throw_invalid("PRIMARY KEY part " + c.name + " found in SET part");
        if (c.kind == ColumnKind::regular) has_regular = true;
        if (s.is_counter && a.kind == cql::Assignment::Kind::set)
            throw_invalid("Cannot set the value of counter column " + c.name + " (counters can only be incremented/decremented, not set)");
        assigns.emplace_back(&c, &a);
    }
    for (std::size_t i = 0; i < keys.ck.size(); ++i)
        if (keys.ck[i].empty() && has_regular) throw_invalid("Some clustering keys are missing: " + s.columns[s.ck[i]].name);
    WriteOptions w = write_options(st.ttl, st.timestamp, bound, default_ts);
    auto pks = cartesian(keys.pk);
    auto cks = has_regular || s.ck.empty() ? cartesian(keys.ck) : std::vector<std::vector<Bytes>>{};
    if (st.if_exists) {
        if (pks.size() != 1 || cks.size() > 1) throw_invalid("IN on the clustering key columns is not supported with conditional updates");
        auto it = table.partitions.find(partition_pos(pks[0]));
        const Row* existing = nullptr;
        if (it != table.partitions.end() && !cks.empty()) {
            auto r = it->second.rows.find(cks[0]);
            if (r != it->second.rows.end() && (!r->second.expires_ms || r->second.expires_ms > now_ms())) existing = &r->second;
        }
        if (!existing) return applied_result(s, false, nullptr, nullptr, nullptr);
    }
    for (const auto& pk : pks) {
        Partition& p = partition_for(table, pk);
        auto apply = [&](std::vector<Cell>& cells, const ColumnDef& c, const cql::Assignment& a) {
            const Cell current = c.slot < cells.size() ? cells[c.slot] : Cell{};
            if (a.element_key) {
                const DataType& t = *c.type.type;
                if (t.kind != TypeKind::map) throw_invalid("Element assignment is only supported on maps");
                cql::Value k = cql::evaluate(*a.element_key, *t.params[0], bound);
                cql::Value v = cql::evaluate(a.value, *t.params[1], bound);
                if (k.kind != cql::Value::Kind::value) throw_invalid("Invalid null map key");
                Bytes single;
                cql::append_i32(single, 1);
                cql::append_i32(single, static_cast<std::int32_t>(k.bytes.size()));
                single.insert(single.end(), k.bytes.begin(), k.bytes.end());
                if (v.kind == cql::Value::Kind::value) {
                    cql::append_i32(single, static_cast<std::int32_t>(v.bytes.size()));
                    single.insert(single.end(), v.bytes.begin(), v.bytes.end());
                    set_cell(cells, c.slot, combine(current, single, c, cql::Assignment::Kind::add));
                } else {
                    Bytes keyset;
                    cql::append_i32(keyset, 1);
                    cql::append_i32(keyset, static_cast<std::int32_t>(k.bytes.size()));
                    keyset.insert(keyset.end(), k.bytes.begin(), k.bytes.end());
                    set_cell(cells, c.slot, combine(current, keyset, c, cql::Assignment::Kind::subtract));
                }
                return;
            }
            DataTypePtr vt = c.type.type;
            if (a.kind == cql::Assignment::Kind::subtract && vt->kind == TypeKind::map) vt = DataType::set_of(vt->params[0]);
            cql::Value v = cql::evaluate(a.value, *vt, bound);
            if (v.kind == cql::Value::Kind::unset) return;
            if (a.kind == cql::Assignment::Kind::set) {
                set_cell(cells, c.slot, v.kind == cql::Value::Kind::null ? Cell{} : Cell{std::move(v.bytes)});
                return;
            }
            if (v.kind == cql::Value::Kind::null) throw_invalid("Invalid null value for counter increment/decrement");
            set_cell(cells, c.slot, combine(current, v.bytes, c, a.kind));
        };
        for (const auto& [c, a] : assigns)
            if (c->kind == ColumnKind::static_) apply(p.statics, *c, *a);
        for (const auto& ck : cks) {
            Row& row = p.rows[ck];
            if (row.expires_ms && row.expires_ms <= now_ms()) row = Row{};
            for (const auto& c : s.columns) {
                if (c.kind == ColumnKind::partition_key) set_cell(row.cells, c.slot, Cell{pk[static_cast<std::size_t>(c.position)]});
                if (c.kind == ColumnKind::clustering) set_cell(row.cells, c.slot, Cell{ck[static_cast<std::size_t>(c.position)]});
            }
            for (const auto& [c, a] : assigns)
                if (c->kind == ColumnKind::regular) apply(row.cells, *c, *a);
            stamp(row, w);
        }
        if (p.rows.empty() && std::none_of(p.statics.begin(), p.statics.end(), [](const Cell& c) { return c.has_value(); }))
            table.partitions.erase(partition_pos(pk));
    }
    if (st.if_exists) return applied_result(s, true, nullptr, nullptr, nullptr);
    return std::nullopt;
}

std::optional<ExecutionResult> do_delete(Engine::Impl& impl, const cql::DeleteStmt& st, const std::string& ks,
                                         std::span<const ValueView> bound) {
    Table& table = writable_table(impl, st.table, ks);
    const TableSchema& s = *table.schema;
    KeyValues keys = write_keys(s, st.where, bound, true);
    (void)eval_int(st.timestamp, bigint_type(), "timestamp", bound);
    std::vector<const ColumnDef*> cols;
    for (const auto& name : st.columns) {
        const ColumnDef& c = column_of(s, name);
        if (c.kind == ColumnKind::partition_key || c.kind == ColumnKind::clustering)
            throw_invalid("Invalid identifier " + c.name + " for deletion (should not be a PRIMARY KEY part)");
        cols.push_back(&c);
    }
    // A clustering prefix of equalities plus optional slices selects the rows to delete.
    std::size_t prefix = 0;
    while (prefix < keys.ck.size() && !keys.ck[prefix].empty()) ++prefix;
    for (std::size_t i = prefix; i < keys.ck.size(); ++i)
        if (!keys.ck[i].empty()) throw_invalid("PRIMARY KEY column \"" + s.columns[s.ck[i]].name +
                                               "\" cannot be restricted as preceding column \"" +
                                               s.columns[s.ck[prefix]].name + "\" is not restricted");
    bool full_row = prefix == keys.ck.size();
    bool only_static = !cols.empty() && std::all_of(cols.begin(), cols.end(), [](const ColumnDef* c) { return c->kind == ColumnKind::static_; });
    if (!cols.empty() && !full_row && !only_static)
        throw_invalid("Range deletions are not supported for specific columns");
    if (st.if_exists && (!full_row || !keys.ck_ranges.empty()))
        throw_invalid("DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use IF conditions");
    if (st.if_exists) {
        auto pks = cartesian(keys.pk);
        auto cks = cartesian(keys.ck);
        bool exists = false;
        if (pks.size() == 1 && cks.size() == 1) {
            auto it = table.partitions.find(partition_pos(pks[0]));
            if (it != table.partitions.end()) exists = it->second.rows.count(cks[0]) > 0 || s.ck.empty();
            if (it != table.partitions.end() && s.ck.empty()) exists = !it->second.rows.empty();
        }
        if (!exists) return applied_result(s, false, nullptr, nullptr, nullptr);
    }
    for (const auto& pk : cartesian(keys.pk)) {
        PartitionPos pos = partition_pos(pk);
        auto it = table.partitions.find(pos);
        if (it == table.partitions.end()) continue;
        note_change(table, pos);
        Partition& p = it->second;
        if (only_static) {
            for (const auto* c : cols) set_cell(p.statics, c->slot, Cell{});
            continue;
        }
        if (prefix == 0 && keys.ck_ranges.empty() && cols.empty()) {
            table.partitions.erase(it);
            continue;
        }
        std::vector<std::vector<Bytes>> eq_prefixes = cartesian(std::vector<std::vector<Bytes>>(keys.ck.begin(), keys.ck.begin() + static_cast<std::ptrdiff_t>(prefix)));
        for (auto r = p.rows.begin(); r != p.rows.end();) {
            bool match = false;
            for (const auto& pre : eq_prefixes) {
                bool ok = true;
                for (std::size_t i = 0; i < pre.size() && ok; ++i)
                    ok = cql::compare_values(r->first[i], pre[i], *s.columns[s.ck[i]].type.type) == 0;
                if (ok) {
                    match = true;
                    break;
                }
            }
            for (const auto& rr : keys.ck_ranges) {
                const ColumnDef& c = s.columns[rr.column];
                if (match && !restriction_matches(rr, r->first[static_cast<std::size_t>(c.position)], *c.type.type)) match = false;
            }
            if (!match) {
                ++r;
                continue;
            }
            if (cols.empty()) {
                r = p.rows.erase(r);
            } else {
                for (const auto* c : cols) {
                    if (c->kind == ColumnKind::static_) set_cell(p.statics, c->slot, Cell{});
                    else set_cell(r->second.cells, c->slot, Cell{});
                }
                ++r;
            }
        }
        if (p.rows.empty() && std::none_of(p.statics.begin(), p.statics.end(), [](const Cell& c) { return c.has_value(); }))
            table.partitions.erase(it);
    }
    if (st.if_exists) return applied_result(s, true, nullptr, nullptr, nullptr);
    return std::nullopt;
}

// ---------------------------------------------------------------- DDL

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
    ks.replication = std::move(repl);
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
    std::vector<ColumnDef> pks(pk.size()), cks(ck.size()), others;
    std::size_t slot = 0;
    bool counters = false, non_counters = false;
    for (const auto& d : st.columns) {
        ColumnDef c;
        c.name = d.name;
        c.type = cql::resolve_type(d.type, ksn, udts);
        c.slot = slot++;
        const DataType& t = *c.type.type;
        bool non_frozen = (t.kind == TypeKind::list || t.kind == TypeKind::set || t.kind == TypeKind::map) &&
                          !c.type.cql.starts_with("frozen<");
        auto p = std::find(pk.begin(), pk.end(), d.name);
        auto q = std::find(ck.begin(), ck.end(), d.name);
        bool is_key = p != pk.end() || q != ck.end();
        if (is_key && non_frozen) throw_invalid("Invalid non-frozen collection type for PRIMARY KEY component " + d.name);
        if (is_key && t.kind == TypeKind::counter) throw_invalid("counter type is not supported for PRIMARY KEY column '" + d.name + "'");
        if (is_key && t.kind == TypeKind::duration) throw_invalid("duration type is not supported for PRIMARY KEY column '" + d.name + "'");
        if (is_key && d.is_static) throw_invalid("Static column " + d.name + " cannot be part of the PRIMARY KEY");
        if (!is_key) (t.kind == TypeKind::counter ? counters : non_counters) = true;
        if (p != pk.end()) {
            c.kind = ColumnKind::partition_key;
            c.position = static_cast<int>(p - pk.begin());
            pks[static_cast<std::size_t>(c.position)] = c;
        } else if (q != ck.end()) {
            c.kind = ColumnKind::clustering;
            c.position = static_cast<int>(q - ck.begin());
            cks[static_cast<std::size_t>(c.position)] = c;
        } else {
            if (d.is_static && ck.empty())
                throw_invalid("Static column " + d.name + " cannot be used in a table with no clustering columns");
            c.kind = d.is_static ? ColumnKind::static_ : ColumnKind::regular;
            others.push_back(c);
        }
    }
    if (counters && non_counters) throw_invalid("Cannot mix counter and non counter columns in the same table");
    s->is_counter = counters;
    for (std::size_t i = 0; i < st.clustering_order.size(); ++i) {
        const auto& [name, desc] = st.clustering_order[i];
        auto q = std::find(ck.begin(), ck.end(), name);
        if (q == ck.end())
            throw_invalid("Only clustering key columns can be defined in CLUSTERING ORDER directive: " + name + " is not a clustering column");
        if (static_cast<std::size_t>(q - ck.begin()) != i)
            throw_invalid("The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns (" + name + " must appear as the " + std::to_string(q - ck.begin() + 1) + "th column)");
        cks[i].desc = desc;
    }
    std::sort(others.begin(), others.end(), [](const ColumnDef& a, const ColumnDef& b) { return a.name < b.name; });
    for (auto& c : pks) s->columns.push_back(c);
    for (auto& c : cks) s->columns.push_back(c);
    for (auto& c : others) s->columns.push_back(c);
    for (std::size_t i = 0; i < pk.size(); ++i) s->pk.push_back(i);
    for (std::size_t i = 0; i < ck.size(); ++i) s->ck.push_back(pk.size() + i);
    s->slot_count = slot;
    s->id = md5(ksn + "." + s->name + "." + std::to_string(impl.schema_counter));
    s->id[6] = static_cast<std::uint8_t>((s->id[6] & 0x0F) | 0x40);
    s->id[8] = static_cast<std::uint8_t>((s->id[8] & 0x3F) | 0x80);
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

}  // namespace

// ================================================================ Engine

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>()) {
    impl_->config = std::move(config);
    add_system_keyspaces(*impl_);
    if (impl_->config.synthetic_rows > 0) {
        impl_->synthetic = make_synthetic(impl_->config.synthetic_rows);
        Keyspace ks;
        ks.name = "synthetic";
        ks.replication = {{"class", "org.apache.cassandra.locator.SimpleStrategy"}, {"replication_factor", "1"}};
        auto table = std::make_shared<Table>();
        table->schema = synthetic_schema();
        ks.tables.emplace("rows", table);
        impl_->keyspaces.emplace("synthetic", std::move(ks));
    }
    impl_->bump_schema_version();
}

Engine::~Engine() = default;

void Engine::set_cluster_view_provider(std::function<ClusterView()> provider) {
    std::lock_guard lk(impl_->provider_mutex);
    impl_->provider = std::move(provider);
}

std::string Engine::schema_version() const {
    std::shared_lock lk(impl_->mutex);
    return impl_->schema_version;
}

std::optional<std::string> Engine::prepared_query(int node_id, protocol::BytesView id) const {
    std::lock_guard lk(impl_->prepared_mutex);
    auto n = impl_->prepared.find(node_id);
    if (n == impl_->prepared.end()) return std::nullopt;
    auto it = n->second.find(Bytes(id.begin(), id.end()));
    if (it == n->second.end()) return std::nullopt;
    return it->second->query;
}

void Engine::forget_prepared(int node_id) {
    std::lock_guard lk(impl_->prepared_mutex);
    impl_->prepared.erase(node_id);
}

namespace {

struct RunOptions {
    const protocol::QueryParameters* params = nullptr;
    BytesView client_metadata_id;  ///< v5 EXECUTE
    bool is_execute = false;
};

ExecutionResult run_select(Engine::Impl& impl, const cql::SelectStmt& st, const cql::ParsedStatement& ps,
                           const std::string& ks, const RunOptions& opt, ConnectionState& state) {
    const protocol::QueryParameters& params = *opt.params;
    // The topology provider may take front-end locks: ask it before taking ours.
    std::optional<ClusterView> view;
    if (keyspace_of(st.table, ks) == "system") view = impl.cluster_view();
    std::shared_lock lk(impl.mutex);
    Table* table = find_table(impl, st.table, ks);
    auto schema = table->schema;
    BindAnalysis a = analyze(impl, ps, ks);
    auto bound = bind_values(a, params.values, params.value_names);
    SelectPlan plan = plan_select(st, schema, bound);
    std::optional<PagingState> resume;
    if (params.paging_state && !params.paging_state->empty()) resume = decode_paging_state(*params.paging_state);
    std::int32_t page_size = params.page_size.value_or(0);
    if (page_size < 0) page_size = 0;
    if (page_size > 0 && !st.order_by.empty() && plan.partition_keys && plan.partition_keys->size() > 1 && !plan.count)
        throw_invalid("Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either "
                      "remove the ORDER BY or the IN and sort client side, or disable paging for this query");
    plan.merge_partitions = !st.order_by.empty() && plan.partition_keys && plan.partition_keys->size() > 1 &&
                            !plan.count && !schema->synthetic;
    auto storage = std::make_shared<Bytes>();
    PageResult page;
    std::int64_t count = 0;
    if (schema->synthetic) {
        page = run_synthetic(impl.synthetic, plan, resume, page_size, *storage);
        count = page.counted;
    } else {
        Table generated;
        const Table* source = table;
        if (schema->generated != Generated::none) {
            generated.schema = schema;
            fill_generated(impl, *schema, state, view ? *view : ClusterView{}, generated);
            source = &generated;
        }
        TableScanner scanner(*source, plan, resume, page_size, *storage);
        scanner.run();
        scanner.buf.finish();
        page = scanner.result;
        count = scanner.counted;
    }
    protocol::RowsResult rows;
    if (plan.count) {
        storage->clear();
        RowsBuffer buf(*storage);
        for (const auto& o : plan.outputs) {
            if (o.kind == cql::Selector::Kind::count) {
                Bytes b;
                cql::append_i64(b, count);
                buf.cell(BytesView(b));
            } else {
                buf.put_i32(-1);
            }
        }
        buf.finish();
        page.row_count = 1;
        page.next.reset();
    }
    std::vector<protocol::ColumnSpec> cols;
    for (const auto& o : plan.outputs) cols.push_back(o.spec);
    rows.metadata.column_count = static_cast<std::int32_t>(cols.size());
    if (page.next) rows.metadata.paging_state = encode_paging_state(*page.next);
    bool send_metadata = !params.skip_metadata;
    if (opt.is_execute && state.version == protocol::ProtocolVersion::v5) {
        Bytes id = md5(metadata_fingerprint(cols));
        if (!opt.client_metadata_id.empty() && !std::equal(id.begin(), id.end(), opt.client_metadata_id.begin(), opt.client_metadata_id.end())) {
            rows.metadata.new_metadata_id = id;
            send_metadata = true;
        }
    }
    if (send_metadata) rows.metadata.columns = std::move(cols);
    else rows.metadata.no_metadata = true;
    rows.row_count = page.row_count;
    rows.rows_content = BytesView(*storage);
    ExecutionResult result{protocol::Response{protocol::ResultResponse{std::move(rows)}}, storage, std::nullopt, {}};
    // SelectStatement: an aggregate without any partition key (or token) restriction.
    const bool whole_ring = plan.token_lo == std::numeric_limits<std::int64_t>::min() &&
                            plan.token_hi == std::numeric_limits<std::int64_t>::max() && !plan.empty_range;
    if (plan.count && impl.config.cassandra_warnings && !plan.partition_keys && whole_ring)
        result.warnings.emplace_back("Aggregation query used without partition key");
    return result;
}

ExecutionResult run_write_locked(Engine::Impl& impl, const cql::Statement& st, const cql::ParsedStatement& ps,
                                 const std::string& ks, const std::vector<ValueView>& values,
                                 const std::vector<std::string_view>& names, std::optional<std::int64_t> default_ts);

ExecutionResult run_write(Engine::Impl& impl, const cql::Statement& st, const cql::ParsedStatement& ps,
                          const std::string& ks, const std::vector<ValueView>& values,
                          const std::vector<std::string_view>& names, std::optional<std::int64_t> default_ts) {
    std::unique_lock lk(impl.mutex);
    UndoScope undo;
    try {
        return run_write_locked(impl, st, ps, ks, values, names, default_ts);
    } catch (...) {
        undo.log.rollback();
        throw;
    }
}

ExecutionResult run_write_locked(Engine::Impl& impl, const cql::Statement& st, const cql::ParsedStatement& ps,
                                 const std::string& ks, const std::vector<ValueView>& values,
                                 const std::vector<std::string_view>& names, std::optional<std::int64_t> default_ts) {
    BindAnalysis a = analyze(impl, ps, ks);
    auto bound = bind_values(a, values, names);
    std::int64_t ts = default_ts.value_or(now_us());
    std::optional<ExecutionResult> r;
    std::visit(Overloaded{
                   [&](const cql::InsertStmt& s) { r = do_insert(impl, s, ks, bound, ts); },
                   [&](const cql::UpdateStmt& s) { r = do_update(impl, s, ks, bound, ts); },
                   [&](const cql::DeleteStmt& s) { r = do_delete(impl, s, ks, bound); },
                   [&](const std::shared_ptr<cql::BatchStmt>& b) {
                       std::int64_t bts = ts;
                       if (auto t = eval_int(b->timestamp, bigint_type(), "timestamp", bound)) bts = *t;
                       for (const auto& sub : b->statements) {
                           std::optional<ExecutionResult> sr;
                           std::visit(Overloaded{
                                          [&](const cql::InsertStmt& s) { sr = do_insert(impl, s, ks, bound, bts); },
                                          [&](const cql::UpdateStmt& s) { sr = do_update(impl, s, ks, bound, bts); },
                                          [&](const cql::DeleteStmt& s) { sr = do_delete(impl, s, ks, bound); },
                                          [&](const auto&) { throw_invalid("Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed."); },
                                      },
                                      sub);
                           if (sr) r = std::move(sr);
                       }
                   },
                   [&](const auto&) { throw_invalid("not a write statement"); },
               },
               st);
    if (r) return std::move(*r);
    return void_result();
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

ExecutionResult run_statement(Engine::Impl& impl, const cql::ParsedStatement& ps, const std::string& ks,
                              const RunOptions& opt, ConnectionState& state) {
    const protocol::QueryParameters& params = *opt.params;
    return std::visit(
        Overloaded{
            [&](const cql::SelectStmt& s) { return run_select(impl, s, ps, ks, opt, state); },
            [&](const cql::UseStmt& s) {
                std::shared_lock lk(impl.mutex);
                if (!impl.keyspaces.count(s.keyspace)) throw_invalid("Keyspace '" + s.keyspace + "' does not exist");
                state.keyspace = s.keyspace;
                return ExecutionResult{protocol::Response{protocol::ResultResponse{protocol::SetKeyspaceResult{s.keyspace}}},
                                       nullptr, std::nullopt, {}};
            },
            [&](const cql::CreateKeyspaceStmt& s) {
                cql::CreateKeyspaceStmt spec = s;
                expand_replication_factor(impl, spec.replication);  // asks the topology: before the lock
                std::unique_lock lk(impl.mutex);
                return create_keyspace(impl, spec);
            },
            [&](const cql::DropKeyspaceStmt& s) {
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
            [&](const cql::CreateTableStmt& s) {
                std::unique_lock lk(impl.mutex);
                return create_table(impl, s, ks);
            },
            [&](const cql::DropTableStmt& s) {
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
            [&](const cql::TruncateStmt& s) {
                std::unique_lock lk(impl.mutex);
                writable_table(impl, s.table, ks).partitions.clear();
                return void_result();
            },
            [&](const cql::CreateTypeStmt& s) {
                std::unique_lock lk(impl.mutex);
                return create_type(impl, s, ks);
            },
            [&](const cql::DropTypeStmt& s) {
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
            [&](const cql::AlterTableAddStmt& s) {
                std::unique_lock lk(impl.mutex);
                return alter_table_add(impl, s, ks);
            },
            [&](const cql::AlterKeyspaceStmt& s) {
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
                if (spec.replication.empty()) spec.replication = k->second.replication;
                create_keyspace(scratch, spec);
                k->second.replication = scratch.keyspaces.at(spec.name).replication;
                k->second.durable_writes = spec.durable_writes;
                return schema_change(impl, "UPDATED", "KEYSPACE", s.spec.name, "");
            },
            [&](const auto&) {
                return run_write(impl, ps.statement, ps, ks, params.values, params.value_names, params.default_timestamp);
            },
        },
        ps.statement);
}

std::string default_keyspace(const ConnectionState& state, std::optional<std::string_view> override_ks) {
    if (override_ks && !override_ks->empty()) return std::string(*override_ks);
    return state.keyspace;
}

ExecutionResult unprepared(BytesView id) {
    protocol::ErrorResponse e;
    e.code = ServerErrorCode::unprepared;
    e.message = "Prepared query with ID " + uuid_text(id) + " not found (either the query was not prepared on this "
                "host (maybe the host has been restarted?) or you have prepared too many queries and it has been "
                "evicted from the internal cache)";
    e.unprepared_id.assign(id.begin(), id.end());
    return ExecutionResult{protocol::Response{std::move(e)}, nullptr, std::nullopt, {}};
}

std::shared_ptr<const PreparedEntry> find_prepared(const Engine::Impl& impl, int node_id, BytesView id) {
    std::lock_guard lk(impl.prepared_mutex);
    auto n = impl.prepared.find(node_id);
    if (n == impl.prepared.end()) return nullptr;
    auto it = n->second.find(Bytes(id.begin(), id.end()));
    return it == n->second.end() ? nullptr : it->second;
}

/// (keyspace, token) of the one partition `st` touches; nullopt when it is not exactly one.
/// Throws like the statement's execution would for bad input (the caller maps that to nullopt).
using PartitionOf = std::optional<std::pair<std::string, std::int64_t>>;

PartitionOf single_partition(Engine::Impl& impl, const cql::Statement& st, const std::string& ks,
                             std::span<const ValueView> bound) {
    auto of_keys = [&](const cql::QualifiedName& table, const std::vector<std::vector<Bytes>>& keys) -> PartitionOf {
        if (keys.size() != 1) return std::nullopt;
        return std::make_pair(keyspace_of(table, ks), partition_pos(keys[0]).token);
    };
    return std::visit(
        Overloaded{
            [&](const cql::SelectStmt& s) -> PartitionOf {
                auto schema = find_table(impl, s.table, ks)->schema;
                SelectPlan plan = plan_select(s, schema, bound);
                if (!plan.partition_keys) return std::nullopt;
                return of_keys(s.table, *plan.partition_keys);
            },
            [&](const cql::InsertStmt& s) -> PartitionOf {
                const TableSchema& schema = *find_table(impl, s.table, ks)->schema;
                std::vector<Bytes> key(schema.pk.size());
                std::size_t given = 0;
                for (std::size_t i = 0; i < s.columns.size() && i < s.values.size(); ++i) {
                    const ColumnDef& c = column_of(schema, s.columns[i]);
                    if (c.kind != ColumnKind::partition_key) continue;
                    key[static_cast<std::size_t>(c.position)] = eval_required(s.values[i], c, bound);
                    ++given;
                }
                if (given != schema.pk.size()) return std::nullopt;
                return of_keys(s.table, {key});
            },
            [&](const cql::UpdateStmt& s) -> PartitionOf {
                const TableSchema& schema = *find_table(impl, s.table, ks)->schema;
                return of_keys(s.table, cartesian(write_keys(schema, s.where, bound, true).pk));
            },
            [&](const cql::DeleteStmt& s) -> PartitionOf {
                const TableSchema& schema = *find_table(impl, s.table, ks)->schema;
                return of_keys(s.table, cartesian(write_keys(schema, s.where, bound, true).pk));
            },
            [&](const std::shared_ptr<cql::BatchStmt>& b) -> PartitionOf {
                PartitionOf common;
                for (const auto& sub : b->statements) {
                    auto p = single_partition(impl, sub, ks, bound);
                    if (!p || (common && *common != *p)) return std::nullopt;
                    common = std::move(p);
                }
                return common;
            },
            [&](const auto&) -> PartitionOf { return std::nullopt; },
        },
        st);
}

PartitionOf single_partition(Engine::Impl& impl, const cql::ParsedStatement& ps, const std::string& ks,
                             const std::vector<ValueView>& values, const std::vector<std::string_view>& names) {
    BindAnalysis a = analyze(impl, ps, ks);
    auto bound = bind_values(a, values, names);
    return single_partition(impl, ps.statement, ks, bound);
}

}  // namespace

/// Cassandra's batch size warning (BatchStatement.verifyBatchSize, batch_size_warn_threshold
/// 5 KiB): only for batches over several partitions. The size is the batch's bound values plus the
/// text of its unprepared statements, an approximation of Cassandra's mutation data size.
struct BatchItem {
    const cql::Statement* statement;
    std::string keyspace;
    std::span<const ValueView> bound;
};

void warn_batch_size(Engine::Impl& impl, const std::vector<BatchItem>& items, std::size_t size,
                     std::vector<std::string>& warnings) {
    constexpr std::size_t kWarnThreshold = 5 * 1024;
    if (!impl.config.cassandra_warnings || size <= kWarnThreshold) return;
    std::set<std::int64_t> partitions;
    std::set<std::string> tables;
    std::shared_lock lk(impl.mutex);
    for (const auto& item : items) {
        const cql::QualifiedName* table = nullptr;
        if (const auto* i = std::get_if<cql::InsertStmt>(item.statement)) table = &i->table;
        else if (const auto* u = std::get_if<cql::UpdateStmt>(item.statement)) table = &u->table;
        else if (const auto* d = std::get_if<cql::DeleteStmt>(item.statement)) table = &d->table;
        if (table) tables.insert(keyspace_of(*table, item.keyspace) + "." + table->name);
        try {
            auto p = single_partition(impl, *item.statement, item.keyspace, item.bound);
            if (p) partitions.insert(p->second);
            else partitions.insert(std::numeric_limits<std::int64_t>::min() + static_cast<std::int64_t>(partitions.size()));
        } catch (const std::exception&) {
        }
    }
    if (partitions.size() <= 1) return;
    std::string names = "[";
    for (const auto& t : tables) names += (names.size() > 1 ? ", " : "") + t;
    names += "]";
    warnings.push_back("Batch for " + names + " is of size " + std::to_string(size) +
                       ", exceeding specified threshold of " + std::to_string(kWarnThreshold) + " by " +
                       std::to_string(size - kWarnThreshold) + ".");
}

std::size_t values_size(std::span<const ValueView> values) {
    std::size_t n = 0;
    for (const auto& v : values) n += v.bytes.size();
    return n;
}

std::optional<PartitionRoute> Engine::route(const protocol::Request& request, const ConnectionState& state) {
    Impl& impl = *impl_;
    try {
        // Statements are resolved before the lock, as execute() does.
        PartitionOf partition;
        if (const auto* q = std::get_if<protocol::QueryRequest>(&request)) {
            auto ps = impl.parse(q->query);
            std::shared_lock lk(impl.mutex);
            partition = single_partition(impl, *ps, default_keyspace(state, q->params.keyspace), q->params.values,
                                         q->params.value_names);
        } else if (const auto* e = std::get_if<protocol::ExecuteRequest>(&request)) {
            auto entry = find_prepared(impl, state.node_id, e->id);
            if (!entry) return std::nullopt;
            std::shared_lock lk(impl.mutex);
            partition = single_partition(impl, *entry->parsed, entry->keyspace, e->params.values, e->params.value_names);
        } else if (const auto* b = std::get_if<protocol::BatchRequest>(&request)) {
            std::vector<std::pair<std::shared_ptr<const cql::ParsedStatement>, std::string>> items;
            for (const auto& s : b->statements) {
                if (!s.is_prepared) {
                    items.emplace_back(impl.parse(s.query), default_keyspace(state, b->keyspace));
                    continue;
                }
                auto entry = find_prepared(impl, state.node_id, s.id);
                if (!entry) return std::nullopt;
                items.emplace_back(entry->parsed, entry->keyspace);
            }
            std::shared_lock lk(impl.mutex);
            for (std::size_t i = 0; i < items.size(); ++i) {
                auto p = single_partition(impl, *items[i].first, items[i].second, b->statements[i].values, {});
                if (!p || (partition && *partition != *p)) return std::nullopt;
                partition = std::move(p);
            }
        }
        if (!partition) return std::nullopt;
        std::shared_lock lk(impl.mutex);
        auto ks = impl.keyspaces.find(partition->first);
        if (ks == impl.keyspaces.end()) return std::nullopt;
        return PartitionRoute{partition->first, ks->second.replication, partition->second};
    } catch (const std::exception&) {
        return std::nullopt;  // the request itself will fail; it has no partition to count
    }
}

ExecutionResult Engine::execute(const protocol::Request& request, ConnectionState& state) {
    Impl& impl = *impl_;
    try {
        return std::visit(
            Overloaded{
                [&](const protocol::QueryRequest& q) {
                    auto ps = impl.parse(q.query);
                    RunOptions opt;
                    opt.params = &q.params;
                    std::string ks = default_keyspace(state, q.params.keyspace);
                    auto r = run_statement(impl, *ps, ks, opt, state);
                    const auto* batch = std::get_if<std::shared_ptr<cql::BatchStmt>>(&ps->statement);
                    if (batch && !std::holds_alternative<protocol::ErrorResponse>(r.response)) {
                        std::vector<ValueView> bound;
                        {
                            std::shared_lock lk(impl.mutex);
                            bound = bind_values(analyze(impl, *ps, ks), q.params.values, q.params.value_names);
                        }
                        std::vector<BatchItem> items;
                        for (const auto& sub : (*batch)->statements) items.push_back({&sub, ks, bound});
                        warn_batch_size(impl, items, values_size(q.params.values) + q.query.size(), r.warnings);
                    }
                    return r;
                },
                [&](const protocol::PrepareRequest& p) {
                    auto ps = std::make_shared<cql::ParsedStatement>(cql::parse_cql(p.query));
                    std::string ks = default_keyspace(state, p.keyspace);
                    protocol::PreparedResult result;
                    {
                        std::shared_lock lk(impl.mutex);
                        BindAnalysis a = analyze(impl, *ps, ks);
                        result.metadata.columns = a.specs;
                        result.metadata.partition_key_indexes = a.pk_indexes;
                        if (const auto* sel = std::get_if<cql::SelectStmt>(&ps->statement)) {
                            auto schema = lookup_schema(impl, sel->table, ks);
                            bool count = false;
                            for (auto& o : build_outputs(*sel, *schema, count))
                                result.result_metadata.columns.push_back(o.spec);
                        }
                    }
                    result.result_metadata.column_count = static_cast<std::int32_t>(result.result_metadata.columns.size());
                    result.id = md5(ks + std::string(p.query));
                    if (state.version == protocol::ProtocolVersion::v5)
                        result.result_metadata_id = md5(metadata_fingerprint(result.result_metadata.columns));
                    {
                        std::lock_guard lk(impl.prepared_mutex);
                        impl.prepared[state.node_id][result.id] = std::make_shared<const PreparedEntry>(
                            PreparedEntry{std::string(p.query), ks, ps});
                    }
                    return ExecutionResult{protocol::Response{protocol::ResultResponse{std::move(result)}}, nullptr,
                                           std::nullopt, {}};
                },
                [&](const protocol::ExecuteRequest& e) {
                    auto entry = find_prepared(impl, state.node_id, e.id);
                    if (!entry) return unprepared(e.id);
                    RunOptions opt;
                    opt.params = &e.params;
                    opt.is_execute = true;
                    opt.client_metadata_id = e.result_metadata_id;
                    return run_statement(impl, *entry->parsed, entry->keyspace, opt, state);
                },
                [&](const protocol::BatchRequest& b) {
                    // Resolve every statement first so that a batch applies all or nothing.
                    struct Item {
                        std::shared_ptr<const cql::ParsedStatement> ps;
                        std::string ks;
                        const std::vector<ValueView>* values;
                    };
                    std::vector<Item> items;
                    std::string ks = default_keyspace(state, b.keyspace);
                    for (const auto& s : b.statements) {
                        if (s.is_prepared) {
                            auto entry = find_prepared(impl, state.node_id, s.id);
                            if (!entry) return unprepared(s.id);
                            items.push_back({entry->parsed, entry->keyspace, &s.values});
                        } else {
                            items.push_back({impl.parse(s.query), ks, &s.values});
                        }
                        const auto& st = items.back().ps->statement;
                        if (!std::holds_alternative<cql::InsertStmt>(st) && !std::holds_alternative<cql::UpdateStmt>(st) &&
                            !std::holds_alternative<cql::DeleteStmt>(st))
                            throw_invalid("Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.");
                    }
                    std::unique_lock lk(impl.mutex);
                    std::int64_t ts = b.default_timestamp.value_or(now_us());
                    // Validate and bind everything before the first mutation.
                    std::vector<std::vector<ValueView>> bound;
                    for (const auto& it : items) {
                        BindAnalysis a = analyze(impl, *it.ps, it.ks);
                        bound.push_back(bind_values(a, *it.values, {}));
                    }
                    std::optional<ExecutionResult> r;
                    UndoScope undo;
                    try {
                    for (std::size_t i = 0; i < items.size(); ++i) {
                        const auto& st = items[i].ps->statement;
                        std::optional<ExecutionResult> sr;
                        if (const auto* s = std::get_if<cql::InsertStmt>(&st)) sr = do_insert(impl, *s, items[i].ks, bound[i], ts);
                        else if (const auto* u = std::get_if<cql::UpdateStmt>(&st)) sr = do_update(impl, *u, items[i].ks, bound[i], ts);
                        else if (const auto* d = std::get_if<cql::DeleteStmt>(&st)) sr = do_delete(impl, *d, items[i].ks, bound[i]);
                        if (sr) r = std::move(sr);
                    }
                    } catch (...) {
                        undo.log.rollback();
                        throw;
                    }
                    ExecutionResult result = r ? std::move(*r) : void_result();
                    lk.unlock();
                    std::vector<BatchItem> batch_items;
                    std::size_t size = 0;
                    for (std::size_t i = 0; i < items.size(); ++i) {
                        batch_items.push_back({&items[i].ps->statement, items[i].ks, bound[i]});
                        size += values_size(*items[i].values) + (b.statements[i].is_prepared ? 0 : b.statements[i].query.size());
                    }
                    warn_batch_size(impl, batch_items, size, result.warnings);
                    return result;
                },
                [&](const auto&) {
                    return error_result(ServerErrorCode::protocol_error, "The engine only executes QUERY, PREPARE, EXECUTE and BATCH");
                },
            },
            request);
    } catch (const CqlError& e) {
        protocol::ErrorResponse r;
        r.code = e.code;
        r.message = e.message;
        r.keyspace = e.keyspace;
        r.table = e.table;
        r.unprepared_id = e.unprepared_id;
        return ExecutionResult{protocol::Response{std::move(r)}, nullptr, std::nullopt, {}};
    } catch (const ProtocolError& e) {
        return error_result(ServerErrorCode::invalid, e.what());
    } catch (const std::exception& e) {
        return error_result(ServerErrorCode::server_error, e.what());
    }
}

}  // namespace async_cassandra::server
