// `acass load`: bulk insert of a CSV or JSON lines file into a table with a prepared INSERT and a
// bounded number of requests in flight. Records that cannot be parsed or that the server refuses
// go to the reject file (line number, reason, the record); the rest loads.
#pragma once

#include "connection.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace acass_cli {

struct LoadOptions {
    std::string table;
    std::string in;
    std::string format = "csv";
    std::size_t concurrency = 32;
    std::size_t batch_size = 1;
    std::string reject_file;
    bool quiet = false;
};

void add_load_flags(CLI::App& app, LoadOptions& options);

asio::awaitable<int> run_load(CommandContext& context, const LoadOptions& options);

}  // namespace acass_cli
