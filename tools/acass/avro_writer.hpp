// Avro object container files (through Debian's avro-c, libavro-dev) written page by page from
// a stream, with a record schema derived from the result metadata. Part of the acass CLI.
#pragma once

#include <async_cassandra/row.hpp>

#include <memory>
#include <string>

namespace acass_cli {

class AvroWriter {
public:
    /// Creates `path` with a schema built from `columns` (record name `record_name`), or, with
    /// `append`, reopens an existing file written by an earlier run with the same columns (the
    /// resumed export). Throws std::runtime_error with a clear message (file, reason) on failure,
    /// DataError (errors.hpp) for a column type it cannot represent.
    AvroWriter(const std::string& path, const async_cassandra::Columns& columns, const std::string& record_name,
               bool append);
    ~AvroWriter();
    AvroWriter(const AvroWriter&) = delete;
    AvroWriter& operator=(const AvroWriter&) = delete;

    /// Appends every row of the page (nulls as the null branch of a ["null", T] union). A value
    /// Avro cannot hold (a decimal beyond decimal(38, 18), a map key with a NUL) throws
    /// DataError naming the column; a failed write std::runtime_error naming the OS reason.
    void write_page(const async_cassandra::Page& page);
    /// Writes buffered blocks to disk (called after each page, before the resume file is updated).
    void flush();
    /// Flushes and closes; the destructor closes too (errors then ignored).
    void close();
    /// The Avro schema as JSON (for --help-style output and tests).
    std::string schema_json() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace acass_cli
