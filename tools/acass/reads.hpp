// Statements acass sends that only read (export, count, query of a SELECT): marked idempotent,
// so that the driver's retry policy retries them after a timeout, an Overloaded answer or a
// lost connection instead of ending the command (tools/README.md, "Retries and idempotence").
// Writes keep the default (not idempotent) unless the tool knows better (load's INSERTs).
#pragma once

#include <async_cassandra/statement.hpp>

#include <cctype>
#include <string>
#include <string_view>

namespace acass_cli {

/// Whether `cql` is a SELECT (leading spaces and parentheses skipped). A statement starting
/// with a comment is not recognised: it is then simply not retried.
inline bool is_select(std::string_view cql) {
    const std::size_t i = cql.find_first_not_of(" \t\r\n(");
    if (i == std::string_view::npos || cql.size() - i < 6) return false;
    std::string word(cql.substr(i, 6));
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return word == "select" && (cql.size() - i == 6 || !std::isalnum(static_cast<unsigned char>(cql[i + 6])));
}

/// A simple statement for `cql`, idempotent when it is a SELECT.
inline async_cassandra::Statement statement_for(std::string cql) {
    const bool read = is_select(cql);
    async_cassandra::Statement statement(std::move(cql));
    if (read) statement.set_idempotent(true);
    return statement;
}

}  // namespace acass_cli
