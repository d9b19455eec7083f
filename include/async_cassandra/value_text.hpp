// Appending forms of to_cql_literal and to_json (codec.hpp): the same text, written at the end of
// a caller's buffer, for code that formats many cells (acass export) and must not build a new
// string per cell.
#pragma once

#include <async_cassandra/bytes.hpp>
#include <async_cassandra/data_type.hpp>

#include <optional>
#include <string>

namespace async_cassandra {

/// Appends to_cql_literal(type, bytes) to `out`. Throws like it (what was appended before a
/// throw is unspecified).
void append_cql_literal(std::string& out, const DataType& type, std::optional<BytesView> bytes);
/// Appends to_json(type, bytes) to `out`. Throws like it.
void append_json(std::string& out, const DataType& type, std::optional<BytesView> bytes);

}  // namespace async_cassandra
