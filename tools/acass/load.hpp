// `acass load`: bulk insert of CSV or JSON lines files into a table with a prepared INSERT and a
// bounded number of requests in flight. Transient failures are retried with back-off (see
// retry.hpp); records that cannot be parsed or that the server refuses go to a reject file that
// loads as it is (reasons in a side file); a resume file lets an interrupted load continue
// without sending finished records again; a cluster that stays unreachable stops the load.
#pragma once

#include "connection.hpp"
#include "csv.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace acass_cli {

struct LoadOptions {
    std::string table;
    std::vector<std::string> in;  ///< files, globs or "-"
    std::string format = "csv";
    std::size_t concurrency = 32;
    std::size_t batch_size = 1;
    std::string reject_file;
    std::string resume_file;
    std::string columns;  ///< the fields' columns (instead of, or without, a header line)
    CsvDialect csv;
    std::int64_t skip_records = 0;
    std::int64_t max_records = -1;  ///< -1: all
    std::int64_t max_errors = -1;   ///< -1: unlimited
    int max_attempts = 10;
    bool quiet = false;
};

void add_load_flags(CLI::App& app, LoadOptions& options);

asio::awaitable<int> run_load(CommandContext& context, const LoadOptions& options);

}  // namespace acass_cli
