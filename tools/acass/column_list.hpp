// The --columns lists of `acass export` and `acass load`: one reading of "a, b,c" for both.
#pragma once

#include <string>
#include <vector>

namespace acass_cli {

/// --columns "a, B ,\"Quoted\"" -> {"a", "B", "\"Quoted\""}: the names split at every comma, each
/// trimmed of spaces and tabs and left spelled as in CQL (the caller reads unquoted names
/// case-insensitively and quoted ones as they are). An empty name (a leading, trailing or
/// doubled comma, a blank list) throws CliUsageError naming --columns. An empty `list` is the
/// caller's "no list" and is not passed here.
std::vector<std::string> split_column_list(const std::string& list);

}  // namespace acass_cli
