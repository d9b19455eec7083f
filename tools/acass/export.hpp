// `acass export`: streams a SELECT to a file page by page (CSV, JSON lines or Avro), with a
// progress bar, an optional resume file and a clean stop on SIGINT/SIGTERM.
#pragma once

#include "connection.hpp"
#include "csv.hpp"
#include "formats.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace acass_cli {

struct ExportOptions {
    std::string query;
    std::string table;
    std::string columns;  ///< with --table: the columns to export (comma-separated, CQL names)
    std::string where;    ///< with --table: a WHERE condition
    std::string out;
    std::string format;  ///< empty: from the output's extension (csv by default)
    std::int32_t fetch_size = 5000;
    std::size_t prefetch = 1;
    std::string resume_file;
    CsvDialect csv;
    std::string row_group_size = "128MB";  ///< Parquet: bytes per row group
    std::int64_t row_group_rows = 0;       ///< Parquet: rows per row group (0 = by size only)
    std::string parquet_compression = "snappy";
    bool count = false;
    bool quiet = false;
    std::int64_t stop_after_pages = 0;  ///< testing hook: stop as if interrupted after N pages
};

/// "128MB", "64MiB", "1GB", "500000" (bytes): binary multiples. Throws CliUsageError.
std::int64_t parse_byte_size(const std::string& text, const std::string& option);
/// The writer settings of the Parquet flags.
WriterOptions writer_options(const ExportOptions& options);

/// Registers the subcommand's own flags.
void add_export_flags(CLI::App& app, ExportOptions& options);

asio::awaitable<int> run_export(CommandContext& context, const ExportOptions& options);

}  // namespace acass_cli
