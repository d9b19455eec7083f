// CQL values on the embedded node: types from their CQL spelling, literals and bound values to
// their serialized [value] form (native_protocol_v4.spec section 6), validation of bound bytes,
// and the type-aware ordering Cassandra uses for clustering keys and range restrictions.
#pragma once

#include "server/engine/cql_ast.hpp"

#include <async_cassandra/data_type.hpp>

#include <functional>
#include <span>

namespace async_cassandra::server::cql {

/// A column's type: the wire type plus its CQL spelling as system_schema.columns shows it.
struct ColumnType {
    DataTypePtr type;
    std::string cql;  ///< "int", "frozen<list<text>>", "map<text, int>", "vector<float, 3>"
};

/// Looks up a user type by (keyspace, name); returns null if unknown.
using UdtLookup = std::function<DataTypePtr(const std::string& keyspace, const std::string& name)>;

/// Resolves a parsed type. Throws CqlError{invalid} for unknown types or bad parameters.
ColumnType resolve_type(const TypeExpr& expr, const std::string& default_keyspace, const UdtLookup& udts);

/// An evaluated term: bytes, null, or "not set".
struct Value {
    enum class Kind { value, null, unset };
    Kind kind = Kind::null;
    protocol::Bytes bytes;
    bool is_value() const noexcept { return kind == Kind::value; }
};

/// Evaluates a term for a receiver of type `type`. `bound` holds the statement's bound values by
/// marker index (already matched by name). Bound bytes are validated against the type.
Value evaluate(const Term& term, const DataType& type, std::span<const protocol::ValueView> bound);

/// Throws CqlError{invalid} unless `bytes` is a well-formed serialized value of `type`.
void validate_value(protocol::BytesView bytes, const DataType& type);

/// Cassandra's ordering of two serialized values of `type` (<0, 0, >0).
int compare_values(protocol::BytesView a, protocol::BytesView b, const DataType& type);

/// Big-endian helpers used by the engine for generated cells.
void append_i32(protocol::Bytes& out, std::int32_t v);
void append_i64(protocol::Bytes& out, std::int64_t v);
protocol::Bytes text_bytes(std::string_view s);
/// UUID text "xxxxxxxx-xxxx-..." to 16 bytes; throws CqlError{invalid} on bad text.
protocol::Bytes uuid_bytes(std::string_view text);
/// IPv4/IPv6 text to 4/16 bytes; throws CqlError{invalid} on bad text.
protocol::Bytes inet_bytes(std::string_view text);
/// Serialized list/set of text.
protocol::Bytes text_collection(const std::vector<std::string>& items);
/// Serialized map<text, text>.
protocol::Bytes text_map(const std::map<std::string, std::string>& items);

}  // namespace async_cassandra::server::cql
