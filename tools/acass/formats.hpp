// Output formats of `acass export` (and of `acass query --format csv|json`): one interface, a page
// at a time, so that memory stays at about one page whatever the size of the export.
#pragma once

#include "csv.hpp"

#include <async_cassandra/row.hpp>

#include "parquet_writer.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace acass_cli {

/// Adds --delimiter, --quote, --escape, --null-string and --header (CSV only) to `app`.
void add_csv_dialect_flags(CLI::App& app, CsvDialect& dialect);

enum class Format { csv, jsonl, avro, parquet };

/// "csv", "jsonl" ("json" is accepted as jsonl), "avro", "parquet". Throws CliUsageError otherwise.
Format parse_format(const std::string& name);
/// The format named by --format, or when that is empty the one of the output file's extension
/// (".parquet", ".jsonl"/".json", ".avro"; anything else: csv).
Format format_for(const std::string& format_option, const std::string& path);
const char* to_string(Format format);
/// Whether this build has the Avro writer (libavro-dev found at configure time).
bool avro_available();

/// Appends one JSON object (keys = column names, values = Row::to_json) and a LF.
void append_json_row(std::string& out, const async_cassandra::Row& row);

class RowWriter {
public:
    virtual ~RowWriter() = default;
    /// Writes every row of `page`.
    virtual void write_page(const async_cassandra::Page& page) = 0;
    /// Pushes everything written so far to the file (before a resume point is recorded).
    /// Throws FileError.
    virtual void flush() = 0;
    /// Flushes and closes. Throws FileError.
    virtual void close() = 0;
    /// Size of the output so far, in bytes (after flush(): the file's size).
    virtual std::int64_t bytes() const = 0;

    // Resume support. Text and Avro outputs are durable after every flushed page; Parquet only
    // after a row group, so a resume point may only be recorded when all_committed().
    /// Whether every row written so far is in the file for good (a resumed run keeps it).
    virtual bool all_committed() const { return true; }
    /// Makes every row written so far committed (Parquet: writes a row group now).
    virtual void commit() { flush(); }
    /// Size of the output a resumed run keeps (the file is cut there).
    virtual std::int64_t committed_bytes() const { return bytes(); }
    /// What a resumed run needs besides the file (Parquet: the row groups for the footer); one
    /// line of text, empty for the other formats.
    virtual std::string resume_state() const { return {}; }
};

/// Settings of open_writer beyond the format.
struct WriterOptions {
    CsvDialect csv;
    ParquetOptions parquet;
    /// RowWriter::resume_state() of the run being continued (with append).
    std::string resume_state;
};

/// Opens `path` ("-" = standard output) for `format`. A fresh output (append = false) is
/// truncated and starts with the header (CSV: column names unless the dialect says no header;
/// Avro: the container header); with `append` the file written by an earlier run is continued
/// without a second header. CSV and JSON lines are compressed when the name ends in .gz or .zst
/// (see OutputFile). Throws FileError, CliUsageError (Avro not compiled in, Avro with .gz/.zst).
std::unique_ptr<RowWriter> open_writer(Format format, const std::string& path,
                                       const async_cassandra::Columns& columns,
                                       const std::string& record_name, bool append,
                                       const WriterOptions& options = {});

}  // namespace acass_cli
