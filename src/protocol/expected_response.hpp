// ExpectedResponse: what a request can be answered with, so that a connection can tell an answer
// that cannot belong to the request on its stream id (a server that mixed up stream ids) from a
// merely surprising one.
//
// Only facts of the protocol and of every server's statements are used, never guesses:
//   - the response opcode of each request opcode ([spec4]/[spec5] 4.1: STARTUP -> READY or
//     AUTHENTICATE, OPTIONS -> SUPPORTED, QUERY/EXECUTE/BATCH -> RESULT, PREPARE -> RESULT
//     Prepared, REGISTER -> READY, AUTH_RESPONSE -> AUTH_CHALLENGE or AUTH_SUCCESS); ERROR answers
//     anything;
//   - the RESULT kind of a statement by its first keyword: SELECT -> Rows (apache/cassandra
//     SelectStatement.execute returns ResultMessage.Rows), USE -> SetKeyspace (UseStatement),
//     INSERT/UPDATE/DELETE/BEGIN BATCH -> Void, or Rows whose first column is `[applied]` for a
//     conditional write (ModificationStatement / BatchStatement CAS_RESULT_COLUMN; ScyllaDB
//     cql3/statements/modification_statement.cc uses the same name), CREATE/ALTER/DROP/TRUNCATE
//     -> SchemaChange or Void (SchemaTransformation statements, TruncateStatement);
//   - the Rows of an EXECUTE of a prepared SELECT come from the table it was prepared on; in v5,
//     with exactly the prepared result's column count unless METADATA_CHANGED announces new
//     metadata ([spec5] 4.2.5.2; in v4 another client may re-prepare the same id after an ALTER
//     TABLE, so the count is not checked there).
// Two answers of the same shape swapped between requests cannot be told apart by any of this.
#pragma once

#include "protocol/messages.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace async_cassandra::protocol {

/// What a CQL text does, from its first keyword (whitespace and comments skipped).
enum class StatementKind : std::uint8_t {
    select,        ///< SELECT: Rows
    use,           ///< USE: SetKeyspace
    modification,  ///< INSERT, UPDATE, DELETE, BEGIN ... BATCH: Void, or `[applied]` Rows
    schema,        ///< CREATE, ALTER, DROP, TRUNCATE: SchemaChange or Void
    other,         ///< anything else (GRANT, LIST ..., unknown): any result but Prepared
};
StatementKind statement_kind(std::string_view cql) noexcept;

struct ExpectedResponse {
    Opcode request = Opcode::query;
    StatementKind statement = StatementKind::other;  ///< QUERY, EXECUTE
    /// EXECUTE of a prepared statement: the keyspace and table of its result columns ("" =
    /// unknown). Views into the prepared statement's result columns, which the request's builder
    /// keeps alive: checked for every response, so nothing here allocates.
    std::string_view result_keyspace;
    std::string_view result_table;
    /// EXECUTE in v5: the column count of the result metadata whose id the request carries.
    std::optional<std::int32_t> result_columns;
};

/// The expectation a request carries by itself (EXECUTE: kind `other`; the caller, who knows the
/// prepared statement, fills the EXECUTE fields).
ExpectedResponse expected_response(const Request& request) noexcept;

/// Null when `response` can answer a request expecting `expected`; else why it cannot.
const char* response_mismatch(const ExpectedResponse& expected, const Response& response) noexcept;

}  // namespace async_cassandra::protocol
