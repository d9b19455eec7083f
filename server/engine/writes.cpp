// Writes: INSERT, UPDATE, DELETE and BATCH statement texts.
#include "server/engine/writes.hpp"

#include "server/engine/bind_analysis.hpp"
#include "server/engine/bound_terms.hpp"
#include "server/engine/prepared_shape.hpp"
#include "server/engine/statement_context.hpp"
#include "server/engine/storage.hpp"

#include <algorithm>

namespace async_cassandra::server::detail {

using cql::CqlError;
using cql::throw_invalid;
using protocol::ValueView;

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

namespace {

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

}  // namespace

Table& writable_table(Engine::Impl& impl, const cql::QualifiedName& q, const std::string& ks) {
    const std::string& k = keyspace_of(q, ks);
    if (is_system_keyspace(k))
        throw CqlError{ServerErrorCode::unauthorized, k + " keyspace is not user-modifiable.", {}, {}, {}};
    Table* t = find_table(impl, q, ks);
    if (t->schema->synthetic) throw_invalid("The synthetic table is read-only");
    return *t;
}

namespace {

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

}  // namespace

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

namespace {

ExecutionResult run_write_locked(Engine::Impl& impl, const cql::Statement& st, const cql::ParsedStatement& ps,
                                 const std::string& ks, const std::vector<ValueView>& values,
                                 const std::vector<std::string_view>& names, std::optional<std::int64_t> default_ts,
                                 const PreparedEntry* prepared) {
    std::shared_ptr<const PreparedShape> shape;
    BindAnalysis analysed;
    if (prepared) shape = shape_of(impl, *prepared);
    else analysed = analyze(impl, ps, ks);
    auto bound = bind_values(shape ? shape->analysis : analysed, values, names);
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

}  // namespace

ExecutionResult run_write(Engine::Impl& impl, const cql::Statement& st, const cql::ParsedStatement& ps,
                          const std::string& ks, const std::vector<ValueView>& values,
                          const std::vector<std::string_view>& names, std::optional<std::int64_t> default_ts,
                          const PreparedEntry* prepared) {
    std::unique_lock lk(impl.mutex);
    UndoScope undo;
    try {
        return run_write_locked(impl, st, ps, ks, values, names, default_ts, prepared);
    } catch (...) {
        undo.log.rollback();
        throw;
    }
}

}  // namespace async_cassandra::server::detail
