// CSV as acass writes and reads it: RFC 4180 with LF line ends, a header line of column names,
// a NULL cell as an empty unquoted field and an empty string as "" (all of it adjustable with a
// CsvDialect: delimiter, quote, escape, null string, header). Cells hold the text of the
// value: text/ascii/varchar as is, every other type as its CQL literal (to_cql_literal) without
// the surrounding quotes when the literal is one quoted string (timestamp, date, time, inet),
// blobs as 0x hex. `acass load` reads them back with from_cql_literal.
#pragma once

#include <async_cassandra/row.hpp>

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acass_cli {

/// The CSV variant of a file (dsbulk's -delim/-quote/-escape/-nullValue/-header, cqlsh COPY's
/// DELIMITER/QUOTE/ESCAPE/NULL/HEADER).
struct CsvDialect {
    char delimiter = ',';
    char quote = '"';
    char escape = 0;           ///< escapes the quote inside a quoted field; 0 = the quote (doubled quotes)
    std::string null_string;   ///< an unquoted field equal to it is NULL (default: empty field)
    bool header = true;
    char escape_char() const { return escape ? escape : quote; }
};

/// The text of a value of `type` in the CSV form above; std::nullopt for NULL.
std::optional<std::string> value_text(const async_cassandra::DataType& type,
                                      std::optional<async_cassandra::BytesView> raw);

/// The text of cell `i` of `row` in the CSV form above; std::nullopt for NULL.
std::optional<std::string> cell_text(const async_cassandra::Row& row, std::size_t i);

/// Appends `text` as one CSV field: quoted (quotes escaped) when it contains the delimiter, the
/// quote, CR or LF, or when it reads as NULL unquoted (empty, or the dialect's null string).
void append_csv_field(std::string& out, std::string_view text, const CsvDialect& dialect = {});

/// Appends the header line (column names, LF-terminated).
void append_csv_header(std::string& out, const async_cassandra::Columns& columns, const CsvDialect& dialect = {});

/// One field of a parsed record.
struct CsvField {
    std::string text;
    bool quoted = false;  ///< "" (quoted, empty) is an empty string; an unquoted empty field is NULL
    /// Whether the field is NULL in `dialect` (unquoted and equal to its null string).
    bool is_null(const CsvDialect& dialect) const { return !quoted && text == dialect.null_string; }
};

/// One record: its fields, the line it starts on (from 1) and its raw text (for reject files).
struct CsvRecord {
    std::vector<CsvField> fields;
    std::size_t line = 0;
    std::string raw;    ///< the text of a malformed record (empty for good records)
    std::string error;  ///< non-empty: the record is malformed (fields are then incomplete)
};

/// Reads RFC 4180 records (LF or CRLF line ends; quoted fields may span lines) in `dialect`. A
/// UTF-8 byte order mark at the start is skipped. Empty lines are skipped. A malformed record is
/// returned with `error` set and reading goes on at the next line. Only a malformed record keeps
/// its `raw` text; a good one can be written back with format_csv_record (so that a large value
/// is not held twice).
class CsvReader {
public:
    explicit CsvReader(std::istream& in, CsvDialect dialect = {}) : in_(in), dialect_(std::move(dialect)) {}
    /// The next record; false at the end of the input.
    bool next(CsvRecord& record);
    const CsvDialect& dialect() const { return dialect_; }

private:
    bool read_line(std::string& line);
    std::istream& in_;
    CsvDialect dialect_;
    std::size_t line_ = 0;
};

/// The record as one CSV line of `dialect` (for a reject file that loads as it is).
std::string format_csv_record(const std::vector<CsvField>& fields, const CsvDialect& dialect);

}  // namespace acass_cli
