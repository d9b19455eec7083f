#include "protocol/expected_response.hpp"

#include <algorithm>
#include <cctype>

namespace async_cassandra::protocol {

namespace {

/// The first keyword of `cql`, after whitespace, `--`/`//` line comments and `/* */` comments
/// (CQL's comment forms); empty when the text starts with something else. A view into `cql`:
/// this runs for every request, so it allocates nothing.
std::string_view first_keyword(std::string_view cql) noexcept {
    std::size_t i = 0;
    const std::size_t n = cql.size();
    while (i < n) {
        const char c = cql[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
        } else if (cql.substr(i, 2) == "--" || cql.substr(i, 2) == "//") {
            const std::size_t end = cql.find('\n', i);
            i = end == std::string_view::npos ? n : end + 1;
        } else if (cql.substr(i, 2) == "/*") {
            const std::size_t end = cql.find("*/", i + 2);
            i = end == std::string_view::npos ? n : end + 2;
        } else {
            break;
        }
    }
    std::size_t end = i;
    while (end < n && std::isalpha(static_cast<unsigned char>(cql[end]))) ++end;
    return cql.substr(i, end - i);
}

/// `word` equals the lower-case `keyword`, in any case (CQL keywords are case-insensitive).
bool is_keyword(std::string_view word, std::string_view keyword) noexcept {
    return std::equal(word.begin(), word.end(), keyword.begin(), keyword.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
    });
}

/// Rows of a conditional write: the first column is `[applied]` (when metadata is present).
bool conditional_write_rows(const RowsResult& rows) noexcept {
    if (rows.metadata.no_metadata) return true;  // nothing to check
    return !rows.metadata.columns.empty() && rows.metadata.columns.front().name == "[applied]";
}

const char* result_mismatch(const ExpectedResponse& expected, const ResultResponse& result) noexcept {
    const bool prepared = std::holds_alternative<PreparedResult>(result);
    if (expected.request == Opcode::prepare) return prepared ? nullptr : "PREPARE answered without a Prepared result";
    if (prepared) return "a Prepared result answers only PREPARE";
    const auto* rows = std::get_if<RowsResult>(&result);
    const bool is_void = std::holds_alternative<VoidResult>(result);
    if (expected.request == Opcode::batch) {
        if (is_void || (rows && conditional_write_rows(*rows))) return nullptr;
        return "BATCH answered by neither Void nor [applied] Rows";
    }
    switch (expected.statement) {
        case StatementKind::select:
            if (!rows) return "SELECT answered without Rows";
            break;
        case StatementKind::use:
            if (!std::holds_alternative<SetKeyspaceResult>(result)) return "USE answered without SetKeyspace";
            break;
        case StatementKind::modification:
            if (is_void || (rows && conditional_write_rows(*rows))) return nullptr;
            return "a write answered by neither Void nor [applied] Rows";
        case StatementKind::schema:
            if (is_void || std::holds_alternative<SchemaChange>(result)) return nullptr;
            return "a schema statement answered by neither SchemaChange nor Void";
        case StatementKind::other: break;
    }
    if (!rows || expected.request != Opcode::execute) return nullptr;
    const RowsMetadata& meta = rows->metadata;
    if (!expected.result_table.empty() && !meta.columns.empty()) {
        const ColumnSpec& first = meta.columns.front();
        if (first.keyspace != expected.result_keyspace || first.table != expected.result_table)
            return "EXECUTE answered with Rows of another table than the prepared statement's";
    }
    if (expected.result_columns && !meta.new_metadata_id && meta.column_count != *expected.result_columns)
        return "EXECUTE answered with another column count than its result metadata id, without METADATA_CHANGED";
    return nullptr;
}

}  // namespace

StatementKind statement_kind(std::string_view cql) noexcept {
    const std::string_view word = first_keyword(cql);
    if (is_keyword(word, "select")) return StatementKind::select;
    if (is_keyword(word, "use")) return StatementKind::use;
    if (is_keyword(word, "insert") || is_keyword(word, "update") || is_keyword(word, "delete") ||
        is_keyword(word, "begin"))
        return StatementKind::modification;
    if (is_keyword(word, "create") || is_keyword(word, "alter") || is_keyword(word, "drop") ||
        is_keyword(word, "truncate"))
        return StatementKind::schema;
    return StatementKind::other;
}

ExpectedResponse expected_response(const Request& request) noexcept {
    ExpectedResponse e;
    e.request = opcode_of(request);
    if (const auto* q = std::get_if<QueryRequest>(&request)) e.statement = statement_kind(q->query);
    return e;
}

const char* response_mismatch(const ExpectedResponse& expected, const Response& response) noexcept {
    const Opcode answer = opcode_of(response);
    if (answer == Opcode::error) return nullptr;  // any request may fail
    switch (expected.request) {
        case Opcode::startup:
            return answer == Opcode::ready || answer == Opcode::authenticate ? nullptr
                                                                              : "STARTUP answered by neither READY nor AUTHENTICATE";
        case Opcode::options: return answer == Opcode::supported ? nullptr : "OPTIONS answered without SUPPORTED";
        case Opcode::register_: return answer == Opcode::ready ? nullptr : "REGISTER answered without READY";
        case Opcode::auth_response:
            return answer == Opcode::auth_challenge || answer == Opcode::auth_success
                       ? nullptr
                       : "AUTH_RESPONSE answered by neither AUTH_CHALLENGE nor AUTH_SUCCESS";
        case Opcode::query:
        case Opcode::prepare:
        case Opcode::execute:
        case Opcode::batch: {
            const auto* result = std::get_if<ResultResponse>(&response);
            if (!result) return "a statement answered without RESULT";
            return result_mismatch(expected, *result);
        }
        default: return nullptr;  // not a request opcode: nothing to check against
    }
}

}  // namespace async_cassandra::protocol
