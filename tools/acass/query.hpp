// `acass query "CQL"`: runs one statement and prints its rows as an aligned table (default),
// JSON lines or CSV. Rows are streamed page by page, so a large result is printed as it arrives
// instead of being held in memory.
#pragma once

#include "connection.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace acass_cli {

struct QueryOptions {
    std::string cql;
    std::string format = "table";
    std::int32_t fetch_size = 5000;
    std::size_t table_block = 1000;  ///< rows measured to size the table's columns
};

void add_query_flags(CLI::App& app, QueryOptions& options);

asio::awaitable<int> run_query(CommandContext& context, const QueryOptions& options);

}  // namespace acass_cli
