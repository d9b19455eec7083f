#include "column_list.hpp"

#include "errors.hpp"

#include <string_view>

namespace acass_cli {

std::vector<std::string> split_column_list(const std::string& list) {
    std::vector<std::string> names;
    std::string_view rest = list;
    for (;;) {
        const std::size_t comma = rest.find(',');
        std::string_view name = rest.substr(0, comma);
        const std::size_t first = name.find_first_not_of(" \t");
        name = first == std::string_view::npos ? std::string_view{} : name.substr(first, name.find_last_not_of(" \t") - first + 1);
        if (name.empty()) throw CliUsageError("--columns '" + list + "': an empty column name");
        names.emplace_back(name);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return names;
}

}  // namespace acass_cli
