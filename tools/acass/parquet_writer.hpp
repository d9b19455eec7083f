// Apache Parquet files from result pages (`acass export --format parquet`). No C++ Parquet
// library is packaged for Debian 12, so this is a small writer of the format itself
// (parquet-format's parquet.thrift): OPTIONAL columns (nested groups for collections, tuples
// and UDTs), data pages v1 with PLAIN values (dictionary-encoded text and blobs while the
// dictionary pays, see ParquetOptions) and RLE repetition/definition levels, Snappy or no
// compression, chunk statistics (min_value/max_value/null_count), row groups cut by size or row
// count, and the Thrift compact footer. Memory: the row group being built (its pages,
// compressed as they fill).
//
// Type mapping (lossless; the CQL type of every column is kept in the key/value metadata as
// "acass.cql_type.<column>", and leaves written as text carry "acass.note.<leaf path>"):
//   boolean -> BOOLEAN                      tinyint, smallint, int -> INT32 INTEGER(8|16|32, signed)
//   bigint, counter -> INT64 INTEGER(64)    float -> FLOAT, double -> DOUBLE
//   text, ascii -> BYTE_ARRAY STRING        blob, custom -> BYTE_ARRAY
//   timestamp -> INT64 TIMESTAMP(MILLIS, UTC)   date -> INT32 DATE
//   time -> INT64 TIME(NANOS, not UTC)      uuid, timeuuid -> FIXED_LEN_BYTE_ARRAY(16) UUID
//   inet -> STRING (address text)
//   varint -> BYTE_ARRAY DECIMAL(38, 0), or STRING (decimal digits)
//   decimal -> BYTE_ARRAY DECIMAL(38, s), or STRING (BigDecimal text, each value's own scale)
//              Parquet's DECIMAL has one scale per file and the file is streamed, so the form is
//              chosen when the first row group holding a value of the column is written (its
//              raw values wait in the open page): DECIMAL when all of them share a scale s in
//              0..37 and have at most 38 digits, else text. Later values of another scale are
//              written at s when that is exact (1.5 as 150 at scale 2, counted in the note).
//              A later value that does not fit exactly switches the column to text for the
//              whole file: the row group being built is re-encoded at once, the row groups
//              already written are rewritten (rewrite_file_so_far: the file so far is copied
//              into "<file>.acass-rewrite", that column's chunks transcoded, then renamed over
//              the file), a warning goes to stderr and the note names the value. With
//              ParquetOptions::decimal_strict (--parquet-decimal decimal) such a value stops
//              the export instead (DataError); with decimal_as_text (--parquet-decimal text)
//              the column is text from the start. Nothing is rounded.
//              A column with no value at all: DECIMAL(38, 0). No min/max statistics (signed).
//   duration -> STRING (CQL duration literal, e.g. "1mo2d3ns": months/days/nanoseconds exact)
//   list<T>, set<T> -> group (LIST) { repeated group list { optional T element } }
//   map<K, V> -> group (MAP) { repeated group key_value { required K key; optional V value } }
//   tuple<A, B> -> group { optional A _1; optional B _2 }      UDT -> group { its fields by name }
//              (nested to any depth: the element/key/value/field types map the same way)
//   vector<T, n> -> BYTE_ARRAY JSON (the value's JSON text, as in JSON lines)
// An empty collection is an empty list/map; a null one (or a zero-byte value) is null.
// A CQL "empty" value of a fixed-size type (zero bytes, possible in Cassandra) is written as null.
//
// Resume: a file is complete up to committed_bytes() (the end of the last row group written)
// and resume_state() holds what the footer needs about those row groups; a writer opened with
// that state truncates the file there and continues with the next row group. A rewrite keeps
// the file it replaces as "<file>.acass-gen<N>" (N: rewrites before it, also in the state)
// until a state of the new file has been handed out and the writer is called again (so it
// was saved) or the writer closes: a run resumed from a state older than the rewrite (killed
// between the rename and the save) takes that file back, so the state always describes the
// file it continues.
#pragma once

#include <async_cassandra/row.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acass_cli {

namespace parquet {
class ThriftWriter;
}

struct ParquetOptions {
    enum class Compression { none, snappy };
    Compression compression = Compression::snappy;
    /// A row group is written when its buffered pages reach this many bytes (compressed pages
    /// plus the open page of every column).
    std::int64_t row_group_bytes = 128 * 1024 * 1024;
    /// ... or when it holds this many rows (0 = no row limit).
    std::int64_t row_group_rows = 0;
    /// Target size of one data page before compression.
    std::size_t page_bytes = 1024 * 1024;
    /// Text and blob columns are dictionary-encoded (a dictionary page per column chunk, pages
    /// of RLE/bit-packed indexes) until a chunk's dictionary exceeds this many bytes or holds
    /// more than half of the values seen (over 1000 distinct): from then on that chunk's pages
    /// are PLAIN. 0 = PLAIN only.
    std::size_t dictionary_bytes = 1024 * 1024;
    /// decimal and varint as text always (--parquet-decimal text) instead of DECIMAL when the
    /// first row group holding a value allows it.
    bool decimal_as_text = false;
    /// decimal and varint as DECIMAL always (--parquet-decimal decimal): a value the file's
    /// DECIMAL cannot hold exactly stops the export (DataError) instead of switching to text.
    bool decimal_strict = false;
};

namespace parquet {
/// One data page as decoded by for_each_data_page: repetition and definition levels per value
/// and the present values' bytes (valid during the callback).
struct DecodedPage {
    std::vector<std::uint8_t> reps, defs;
    std::vector<std::string_view> values;
};
/// Decodes a column chunk of BYTE_ARRAY values as ParquetWriter writes them: an optional PLAIN
/// dictionary page, then v1 data pages (RLE levels, PLAIN or RLE_DICTIONARY values), each body
/// compressed whole. Calls `on_page` per data page. Throws std::runtime_error on anything else
/// (malformed, truncated, an encoding this writer does not use).
void for_each_data_page(std::string_view chunk, ParquetOptions::Compression compression, std::uint8_t max_def,
                        std::uint8_t max_rep, const std::function<void(const DecodedPage&)>& on_page);
}  // namespace parquet

/// "none"/"uncompressed" or "snappy"; throws CliUsageError otherwise.
ParquetOptions::Compression parse_parquet_compression(const std::string& name);

class ParquetWriter {
public:
    /// Creates `path` (truncating it), or with `resume_state` (from resume_state() of an earlier
    /// run) continues it: the file is cut to the committed size recorded there. Throws FileError.
    ParquetWriter(std::string path, const async_cassandra::Columns& columns, ParquetOptions options,
                  const std::optional<std::string>& resume_state = std::nullopt);
    ~ParquetWriter();
    ParquetWriter(const ParquetWriter&) = delete;
    ParquetWriter& operator=(const ParquetWriter&) = delete;

    /// Buffers the rows; writes a row group whenever the buffer reaches the configured size
    /// (only between pages, so a committed file always ends after a whole page). A page it
    /// refuses throws (a decimal or varint that the file's DECIMAL does not hold exactly:
    /// DataError, exit 9; a malformed value: std::runtime_error) and
    /// fails the writer: part of that page may be buffered, so every later call throws too and
    /// the file stays as committed_bytes()/resume_state() last described it.
    void write_page(const async_cassandra::Page& page);
    /// Writes the buffered rows as a row group (nothing when empty) and flushes the file.
    void flush_row_group();
    /// Writes the buffered rows and the footer, and closes the file. Throws FileError.
    void close();

    /// Size of the file up to the end of the last row group written.
    std::int64_t committed_bytes() const noexcept { return committed_bytes_; }
    /// Rows in the row groups written.
    std::int64_t committed_rows() const noexcept { return committed_rows_; }
    /// Column chunks written with both dictionary-indexed and (after the dictionary stopped
    /// paying) PLAIN pages.
    std::int64_t dictionary_fallbacks() const noexcept { return dictionary_fallbacks_; }
    /// Bytes held for the row group being built.
    std::int64_t buffered_bytes() const noexcept;
    /// Text that lets a later run continue the file after the last row group (one line, ASCII).
    std::string resume_state() const;
    /// Times the file so far was rewritten (a decimal or varint column switched to text).
    int rewrites() const noexcept { return generation_; }

    struct Column;  ///< one leaf column's buffers and statistics (parquet_writer.cpp)
    /// How one CQL column maps onto the schema: a tree mirroring its type, whose leaves are
    /// Columns (the nested groups of lists, sets, maps, tuples and UDTs).
    struct Shape {
        enum class Kind { leaf, list, map, group };
        Kind kind = Kind::leaf;
        std::string name;
        const async_cassandra::DataType* type = nullptr;
        std::uint8_t def = 1;  ///< definition level of a present value of this node
        std::uint8_t rep = 0;  ///< repetition level of this node's values
        bool required = false;
        std::size_t first_leaf = 0, end_leaf = 0;  ///< its leaves: columns_[first_leaf, end_leaf)
        std::vector<Shape> children;                ///< list: element; map: key, value; group: fields
    };

private:
    void write_bytes(const std::string& bytes);
    void write_schema(parquet::ThriftWriter& w, const Shape& shape) const;
    void restore_number_forms(const std::optional<std::string>& forms);
    void shred_page(const async_cassandra::Page& page);
    void check_not_failed() const;
    void rewrite_file_so_far();
    /// Removes "<path>.acass-rewrite" and "<path>.acass-gen<N>" left by an earlier run.
    static void remove_rewrite_leftovers(const std::string& path);
    void drop_backup_once_saved();
    std::string backup_path(int generation) const { return path_ + ".acass-gen" + std::to_string(generation); }
    std::string rewrite_path() const { return path_ + ".acass-rewrite"; }

    std::string path_;
    ParquetOptions options_;
    std::FILE* file_ = nullptr;
    std::vector<Shape> shapes_;                     ///< one per CQL column
    std::vector<std::unique_ptr<Column>> columns_;  ///< the leaves, in schema order
    std::vector<std::string> row_groups_;  ///< serialized RowGroup structs, in file order
    std::int64_t committed_bytes_ = 0;
    std::int64_t committed_rows_ = 0;
    std::int64_t buffered_rows_ = 0;
    std::int64_t dictionary_fallbacks_ = 0;
    std::string key_value_metadata_;  ///< serialized list elements (KeyValue structs)
    std::size_t key_value_count_ = 0;
    std::string failure_;  ///< why a page failed (the writer is then unusable), or empty
    int generation_ = 0;   ///< rewrites of the file so far (this run and the runs it continues)
    std::string backup_;   ///< the file before the last rewrite, kept until a newer state was saved
    mutable int states_handed_out_ = 0;
    mutable int state_generation_ = -1;  ///< generation_ when resume_state() was last called
};

}  // namespace acass_cli
