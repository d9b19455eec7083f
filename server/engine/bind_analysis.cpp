// Bind marker analysis: which column each `?` stands for, and binding a request's values.
#include "server/engine/bind_analysis.hpp"

#include "server/engine/statement_context.hpp"

#include <algorithm>
#include <cctype>

namespace async_cassandra::server::detail {

using cql::CqlError;
using cql::throw_invalid;
using protocol::ValueView;

namespace {

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

}  // namespace

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

}  // namespace async_cassandra::server::detail
