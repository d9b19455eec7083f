// Evaluating a statement's terms into serialized values.
#include "server/engine/bound_terms.hpp"

#include "server/engine/statement_context.hpp"

namespace async_cassandra::server::detail {

using cql::CqlError;
using cql::throw_invalid;
using protocol::ValueView;

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

std::vector<Bytes> split_collection(const Bytes& b, bool is_map) {
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

}  // namespace async_cassandra::server::detail
