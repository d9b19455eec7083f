// CSV and JSON lines text of result rows, rendered straight from the cells' wire bytes into one
// output buffer: a renderer per column chosen once per column list (no per-cell string, no
// per-cell Value), integers and doubles by std::to_chars or by hand, timestamps, dates and uuids
// formatted by hand, CSV quoting decided by a word-at-a-time scan. The text is exactly that of
// value_text + append_csv_field (CSV) and to_json (JSON lines) for every CQL type: the types
// without a fast path take those functions themselves.
#pragma once

#include "csv.hpp"

#include <async_cassandra/row.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace acass_cli {

/// A growable byte buffer written through raw pointers: room(n) makes space for n more bytes
/// (without zero-filling them), set_end() commits what was written.
class TextBuffer {
public:
    char* room(std::size_t n) {
        if (capacity_ - size_ < n) grow(n);
        return data_.get() + size_;
    }
    void set_end(char* end) noexcept { size_ = static_cast<std::size_t>(end - data_.get()); }
    void append(std::string_view text);
    void push_back(char c) { *room(1) = c, ++size_; }
    std::string_view view() const noexcept { return {data_.get(), size_}; }
    char* data() noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    void clear() noexcept { size_ = 0; }
    /// Frees the storage (after a large value, so that it is not held for the rest of the run).
    void release() noexcept {
        data_.reset();
        size_ = capacity_ = 0;
    }

private:
    void grow(std::size_t n);
    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

/// Writes the shortest text that reads back as `value` (std::to_chars(char*, char*, double)'s
/// text, byte for byte: NaN/Infinity are not handled here) into `out` (at least 32 bytes) and
/// returns its end; without a fast path for the value it calls std::to_chars itself.
char* write_shortest_double(char* out, double value) noexcept;

enum class TextStyle { csv, jsonl };

class TextCursor;  ///< a TextBuffer's write position while rows are rendered (export_render.cpp)

class RowRenderer {
public:
    explicit RowRenderer(TextStyle style, CsvDialect dialect = {});
    ~RowRenderer();
    RowRenderer(const RowRenderer&) = delete;
    RowRenderer& operator=(const RowRenderer&) = delete;

    /// Appends rows [first, last) of `page` (CSV: one LF-terminated line each; JSON lines: one
    /// object and a LF each), stopping after the row that takes `out` to `stop_at_bytes` or
    /// more. Returns the index of the next row to append (last when all were).
    std::size_t append_rows(TextBuffer& out, const async_cassandra::Page& page, std::size_t first, std::size_t last,
                            std::size_t stop_at_bytes = std::numeric_limits<std::size_t>::max());
    /// Appends one row (read through Row::raw: for callers with a Row, not a Page).
    void append_row(TextBuffer& out, const async_cassandra::Row& row);
    /// Text values of `threshold` bytes or more that are written as they are (CSV without
    /// quotes, JSON without escapes) go to `sink` straight from the page, after what `out`
    /// holds so far (which is passed to `sink` and cleared first): a large value is then not
    /// copied into the buffer.
    void pass_large_values_to(std::function<void(std::string_view)> sink, std::size_t threshold = std::size_t{1} << 20) {
        large_sink_ = std::move(sink);
        large_threshold_ = threshold;
    }

    struct ColumnPlan;

private:
    void plan_for(const async_cassandra::Columns& columns);
    template <bool Json>
    std::size_t render_rows(TextBuffer& out, const async_cassandra::Page& page, std::size_t first, std::size_t last,
                            std::size_t stop_at_bytes);
    template <bool Json>
    void render_cell(TextCursor& out, const ColumnPlan& column, const std::uint8_t* data, std::int32_t size);
    // The slow paths, out of line.
    void append_generic(TextBuffer& out, const ColumnPlan& column, const std::uint8_t* data, std::int32_t size);
    void append_csv_text(TextBuffer& out, std::string_view text);
    void append_json_escaped(TextBuffer& out, std::string_view text);
    void requote_csv(TextCursor& out, char* start);
    void pass_large_text(TextCursor& out, std::string_view text, bool json_quotes);
    bool cache_day(std::int64_t days);

    TextStyle style_;
    CsvDialect dialect_;
    async_cassandra::Columns columns_;  ///< the column list plans_ is for (a copy, compared by content)
    std::shared_ptr<const async_cassandra::Columns> planned_page_columns_;  ///< the last page's, same content
    std::vector<ColumnPlan> plans_;
    std::uint64_t csv_specials_[5] = {};  ///< delimiter, quote, escape, CR, LF, each in every byte of a word
    std::string scratch_;  ///< text of the types without a fast path
    std::function<void(std::string_view)> large_sink_;
    std::size_t large_threshold_ = std::numeric_limits<std::size_t>::max();
    std::int64_t cached_day_ = std::numeric_limits<std::int64_t>::min();  ///< the last timestamp's day, and its "YYYY-MM-DD"
    char cached_date_[10] = {};
};

}  // namespace acass_cli
