// `acass export`: streams a SELECT to a file page by page (CSV, JSON lines or Avro), with a
// progress bar, an optional resume file and a clean stop on SIGINT/SIGTERM.
#pragma once

#include "connection.hpp"
#include "csv.hpp"
#include "formats.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

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
    std::string parquet_decimal = "auto";    ///< Parquet decimal/varint: "auto" (DECIMAL when it fits) or "text"
    std::size_t splits = 0;       ///< > 0: a parallel export of this many token ranges
    std::size_t concurrency = 4;  ///< ranges streamed at once (with splits)
    double fsync_interval = 5;    ///< seconds between fsyncs of the output and the resume file (splits)
    bool count = false;
    bool quiet = false;
    std::int64_t stop_after_pages = 0;  ///< testing hook: stop as if interrupted after N pages
};

/// "128MB", "64MiB", "1GB", "500000" (bytes): binary multiples. Throws CliUsageError.
std::int64_t parse_byte_size(const std::string& text, const std::string& option);
/// The writer settings of the Parquet and CSV dialect flags.
WriterOptions writer_options(const ExportOptions& options);

/// Registers the subcommand's own flags.
void add_export_flags(CLI::App& app, ExportOptions& options);

asio::awaitable<int> run_export(CommandContext& context, const ExportOptions& options);
/// --splits: token ranges of one table in parallel (export_parallel.cpp).
asio::awaitable<int> run_parallel_export(CommandContext& context, const ExportOptions& options);

/// Makes an output continued from a resume file end exactly where the recorded position is:
/// anything after it (written when the process died before recording it) is cut off. Throws
/// FileError when the file is missing or shorter.
void restore_output_size(const std::string& path, std::int64_t bytes);

}  // namespace acass_cli
