// Parsed form of the CQL subset the embedded node understands (see parse_cql in cql_parser.cpp).
// The AST owns its strings, so a parsed statement can be cached with a prepared id and outlive
// the request buffer it came from.
#pragma once

#include "protocol/bytes.hpp"

#include <async_cassandra/error.hpp>

#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace async_cassandra::server::cql {

/// Every failure of parsing, analysis or execution: becomes an ERROR response with `code`.
struct CqlError : std::exception {
    CqlError(ServerErrorCode c, std::string m, std::string ks, std::string t, protocol::Bytes id)
        : code(c), message(std::move(m)), keyspace(std::move(ks)), table(std::move(t)), unprepared_id(std::move(id)) {}
    const char* what() const noexcept override { return message.c_str(); }

    ServerErrorCode code = ServerErrorCode::invalid;
    std::string message;
    std::string keyspace;  ///< already_exists
    std::string table;     ///< already_exists
    protocol::Bytes unprepared_id;
};

[[noreturn]] inline void throw_syntax(std::string message) {
    throw CqlError{ServerErrorCode::syntax_error, std::move(message), {}, {}, {}};
}
[[noreturn]] inline void throw_invalid(std::string message) {
    throw CqlError{ServerErrorCode::invalid, std::move(message), {}, {}, {}};
}

/// A CQL type as written: `map<text, frozen<list<int>>>`, `vector<float, 3>`, `ks.my_udt`.
struct TypeExpr {
    std::string name;  ///< lower-cased base name ("int", "map", "frozen", ...) or UDT name
    std::string keyspace;  ///< UDT keyspace when qualified
    std::vector<TypeExpr> params;
    std::int32_t dimension = 0;  ///< vector
};

/// A value expression: literal, bind marker, collection/tuple literal or function call.
struct Term {
    enum class Kind { string, integer, floating, uuid, boolean, hex, duration, null, bind, list, set, map, tuple, function, udt };
    Kind kind = Kind::null;
    std::string text;          ///< literal text (string unescaped); function name (lower-cased)
    int bind_index = -1;       ///< bind: position among the statement's markers
    std::string bind_name;     ///< bind: `:name` (empty for `?`)
    std::vector<Term> elems;   ///< list/set/tuple/function args/udt values; map: k0, v0, k1, v1, ...
    std::vector<std::string> field_names;  ///< udt literal `{street: 'x', zip: 1}`, parallel to elems
};

struct QualifiedName {
    std::string keyspace;  ///< empty = the connection's keyspace
    std::string name;
};

enum class Op { eq, lt, le, gt, ge, in, neq, contains, contains_key };

/// One WHERE relation: `col op term`, `col IN (...)`, `col IN ?`, `token(a, b) op term`.
struct Relation {
    std::vector<std::string> columns;  ///< one column, or the token() arguments
    bool is_token = false;
    Op op = Op::eq;
    Term value;                 ///< for IN: a bind marker holding the list, unless in_values is used
    std::vector<Term> in_values;
    bool in_list = false;       ///< IN (t1, t2, ...)
};

struct Selector {
    enum class Kind { column, count, writetime, ttl, token };
    Kind kind = Kind::column;
    std::string column;          ///< column / writetime / ttl argument
    std::vector<std::string> args;  ///< token() arguments
    std::string alias;
};

struct SelectStmt {
    QualifiedName table;
    bool star = false;
    bool distinct = false;
    std::vector<Selector> selectors;
    std::vector<Relation> where;
    std::vector<std::pair<std::string, bool>> order_by;  ///< column, descending
    std::optional<Term> limit;
    std::optional<Term> per_partition_limit;
    bool allow_filtering = false;
};

struct InsertStmt {
    QualifiedName table;
    std::vector<std::string> columns;
    std::vector<Term> values;
    bool if_not_exists = false;
    std::optional<Term> ttl;
    std::optional<Term> timestamp;
};

struct Assignment {
    enum class Kind { set, add, subtract, prepend };
    Kind kind = Kind::set;
    std::string column;
    Term value;
    std::optional<Term> element_key;  ///< `col[key] = value`
};

struct UpdateStmt {
    QualifiedName table;
    std::vector<Assignment> assignments;
    std::vector<Relation> where;
    bool if_exists = false;
    std::optional<Term> ttl;
    std::optional<Term> timestamp;
};

struct DeleteStmt {
    QualifiedName table;
    std::vector<std::string> columns;  ///< empty = whole row(s)
    std::vector<Relation> where;
    bool if_exists = false;
    std::optional<Term> timestamp;
};

struct BatchStmt;

struct CreateKeyspaceStmt {
    std::string name;
    bool if_not_exists = false;
    std::map<std::string, std::string> replication;
    bool durable_writes = true;
};
struct DropKeyspaceStmt {
    std::string name;
    bool if_exists = false;
};
struct ColumnDecl {
    std::string name;
    TypeExpr type;
    bool is_static = false;
};
struct CreateTableStmt {
    QualifiedName table;
    bool if_not_exists = false;
    std::vector<ColumnDecl> columns;
    std::vector<std::string> partition_key;
    std::vector<std::string> clustering;
    std::vector<std::pair<std::string, bool>> clustering_order;  ///< column, descending
    std::map<std::string, std::string> options;                  ///< accepted, stored as text
};
struct DropTableStmt {
    QualifiedName table;
    bool if_exists = false;
};
struct TruncateStmt {
    QualifiedName table;
};
struct UseStmt {
    std::string keyspace;
};
struct CreateTypeStmt {
    QualifiedName type;
    bool if_not_exists = false;
    std::vector<std::pair<std::string, TypeExpr>> fields;
};
struct DropTypeStmt {
    QualifiedName type;
    bool if_exists = false;
};
struct AlterTableAddStmt {
    QualifiedName table;
    std::vector<ColumnDecl> columns;             ///< ALTER TABLE t ADD ...
    std::map<std::string, std::string> options;  ///< ALTER TABLE t WITH ...
};
struct AlterKeyspaceStmt {
    CreateKeyspaceStmt spec;  ///< new replication / durable_writes
};

using Statement = std::variant<SelectStmt, InsertStmt, UpdateStmt, DeleteStmt, std::shared_ptr<BatchStmt>,
                               CreateKeyspaceStmt, DropKeyspaceStmt, CreateTableStmt, DropTableStmt, TruncateStmt,
                               UseStmt, CreateTypeStmt, DropTypeStmt, AlterTableAddStmt, AlterKeyspaceStmt>;

struct BatchStmt {
    bool unlogged = false;
    bool counter = false;
    std::optional<Term> timestamp;
    std::vector<Statement> statements;  ///< INSERT / UPDATE / DELETE only
};

struct ParsedStatement {
    Statement statement;
    int bind_count = 0;  ///< markers in order of appearance
};

/// Parses one statement (optionally followed by `;`). Throws CqlError{syntax_error} with a
/// message naming the offending token, like Cassandra's "line 1:7 no viable alternative...".
ParsedStatement parse_cql(std::string_view text);

/// Parses a standalone type (used by tests and for system_schema type names).
TypeExpr parse_cql_type(std::string_view text);

}  // namespace async_cassandra::server::cql
