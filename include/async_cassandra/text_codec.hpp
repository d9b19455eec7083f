// Text forms of CQL values, read back: the inverses of to_cql_literal / to_json (codec.hpp), so a
// value exported as text (CSV, JSON lines) loads back to the same bytes. Used by `acass load`;
// useful to any tool that takes values from people or files.
#pragma once

#include <async_cassandra/data_type.hpp>
#include <async_cassandra/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace async_cassandra {

/// Parses a CQL literal of `type` (what to_cql_literal(type, ...) produces, for every type,
/// nested collections, tuples and UDTs included) into the value's serialized bytes. `null`
/// gives std::nullopt. Top-level values whose literal is quoted (text, timestamp, date, time,
/// inet, duration...) are also accepted unquoted. Throws UsageError naming the type and the
/// offending text for malformed or out-of-range input.
std::optional<std::vector<std::uint8_t>> from_cql_literal(const DataType& type, std::string_view text);

/// Parses the JSON text of one value of `type` (what to_json(type, ...) produces) into its
/// serialized bytes; JSON null gives std::nullopt. Throws UsageError as above.
std::optional<std::vector<std::uint8_t>> from_json(const DataType& type, std::string_view json);

/// Appends `text` as a JSON string literal: quotes, backslash escapes, \u00XX for the other
/// control characters; every other byte (UTF-8 included) as is. The escaping to_json uses.
void append_json_string(std::string& out, std::string_view text);

/// `name` as a CQL identifier: unchanged when CQL would read it back as is (a lower-case letter,
/// then lower-case letters, digits and underscores), otherwise in double quotes with inner
/// quotes doubled. The quoting to_cql_literal uses for UDT field names.
std::string quote_cql_identifier(std::string_view name);

/// The name CQL stores for an identifier as written in a statement: a "quoted" name keeps its
/// case (a doubled quote inside stands for one quote); an unquoted one is folded to lower case.
/// unquote_cql_identifier(quote_cql_identifier(n)) == n for every stored name n.
std::string unquote_cql_identifier(std::string_view spelled);

/// A table name as written in CQL, "ks.table" or "table": the keyspace and the table, each
/// unquoted as above; the separating dot is the first one outside double quotes. Without a dot
/// the keyspace is empty.
std::pair<std::string, std::string> split_qualified_name(std::string_view spelled);

/// Splits one JSON object ("{"a": 1, "b": [2, 3]}") into (key, raw JSON text of the value)
/// pairs, in document order, keys unescaped. Throws UsageError for anything that is not a
/// single well-formed JSON object.
std::vector<std::pair<std::string, std::string>> split_json_object(std::string_view json);

}  // namespace async_cassandra
