// CSV as acass writes and reads it: RFC 4180 with LF line ends, a header line of column names,
// a NULL cell as an empty unquoted field and an empty string as "". Cells hold the text of the
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

/// The text of cell `i` of `row` in the CSV form above; std::nullopt for NULL.
std::optional<std::string> cell_text(const async_cassandra::Row& row, std::size_t i);

/// Appends `text` as one CSV field: quoted (quotes doubled) when it contains a comma, a quote,
/// CR or LF, or when it is empty (an empty unquoted field means NULL).
void append_csv_field(std::string& out, std::string_view text);

/// Appends one CSV line (LF-terminated) for `row`.
void append_csv_row(std::string& out, const async_cassandra::Row& row);

/// Appends the header line (column names, LF-terminated).
void append_csv_header(std::string& out, const async_cassandra::Columns& columns);

/// One field of a parsed record.
struct CsvField {
    std::string text;
    bool quoted = false;  ///< "" (quoted, empty) is an empty string; an unquoted empty field is NULL
};

/// One record: its fields, the line it starts on (from 1) and its raw text (for reject files).
struct CsvRecord {
    std::vector<CsvField> fields;
    std::size_t line = 0;
    std::string raw;
    std::string error;  ///< non-empty: the record is malformed (fields are then incomplete)
};

/// Reads RFC 4180 records (LF or CRLF line ends; quoted fields may span lines). Empty lines are
/// skipped. A malformed record is returned with `error` set and reading goes on at the next line.
class CsvReader {
public:
    explicit CsvReader(std::istream& in) : in_(in) {}
    /// The next record; false at the end of the input.
    bool next(CsvRecord& record);

private:
    bool read_line(std::string& line);
    std::istream& in_;
    std::size_t line_ = 0;
};

}  // namespace acass_cli
