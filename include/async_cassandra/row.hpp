// Zero-copy result pages and rows.
//
// A Page owns (shares) the body buffer of one Rows result and its decoded metadata; rows and the
// values read from them as views (std::string_view, std::span, BytesView) point into
// that buffer.
//
// LIFETIME RULE: a Row, and every view read from it, is valid as long as the Page it came from or
// any copy of that Page is alive. Copying a Page is cheap (one shared_ptr) and shares the buffer.
// Owning types (std::string, Blob, std::vector, ...) are copies and live on their own.
//
// Type checking: Row::get<T> checks the column's CQL type against T on every call. Page::as<...>()
// and Page::decode_into<S>() check once per page against the page's metadata (which may change
// between pages, v5 metadata_changed) and then decode each row without further type checks.
// Errors: TypeError (wrong C++ type for the column, names both types and the column),
// NullValueError (null read as a non-optional), UsageError (unknown column name or index),
// ProtocolError (malformed bytes; the driver validates the cell framing of every row when the
// page arrives).
#pragma once

#include <async_cassandra/bytes.hpp>
#include <async_cassandra/codec.hpp>
#include <async_cassandra/data_type.hpp>
#include <async_cassandra/error.hpp>
#include <async_cassandra/paging_state.hpp>
#include <async_cassandra/response_info.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace async_cassandra {

/// One result column: where it comes from, its name and its CQL type.
struct Column {
    std::string keyspace;
    std::string table;
    std::string name;
    DataTypePtr type;

    friend bool operator==(const Column& a, const Column& b) {
        return a.keyspace == b.keyspace && a.table == b.table && a.name == b.name &&
               (a.type == b.type || (a.type && b.type && *a.type == *b.type));
    }
};

/// The columns of a result, shared (immutable) between the pages that use the same metadata.
class Columns {
public:
    Columns() = default;
    explicit Columns(std::vector<Column> columns) : columns_(std::move(columns)) {}

    std::size_t size() const noexcept { return columns_.size(); }
    bool empty() const noexcept { return columns_.empty(); }
    const Column& operator[](std::size_t i) const noexcept { return columns_[i]; }
    /// UsageError when out of range.
    const Column& at(std::size_t i) const {
        if (i >= columns_.size()) throw_out_of_range(i);
        return columns_[i];
    }
    auto begin() const noexcept { return columns_.begin(); }
    auto end() const noexcept { return columns_.end(); }
    /// Index of the first column with exactly this name (case-sensitive, as the server sent it).
    std::optional<std::size_t> find(std::string_view name) const noexcept;
    /// Like find(), but throws UsageError naming the unknown column.
    std::size_t index_of(std::string_view name) const;

    friend bool operator==(const Columns&, const Columns&) = default;

private:
    [[noreturn]] void throw_out_of_range(std::size_t i) const;
    std::vector<Column> columns_;
};

namespace detail {
struct PageAccess;

/// What a Page shares with its copies and rows.
struct PageState {
    std::shared_ptr<const Bytes> body;
    std::shared_ptr<const Columns> columns;
    const std::uint8_t* base = nullptr;     ///< start of the rows content (inside *body)
    std::size_t row_count = 0;
    std::size_t column_count = 0;
    std::vector<std::uint32_t> row_offsets;  ///< start of each row, relative to base
    std::optional<PagingState> paging_state;
    /// Warnings, tracing id and custom payload of the response this page came in (null: none).
    std::shared_ptr<const ResponseInfo> info;
    /// Set when every cell of every fixed-size column has exactly its type's size (no null or
    /// empty one): the cells before a column then only vary through the variable-size columns,
    /// and `jumps` / `var_gaps` locate a cell with one length load per variable-size column
    /// before it instead of one per cell.
    bool uniform = false;
    struct Jump {
        std::uint32_t base = 0;  ///< bytes of the fixed-size cells before the first variable one (or the cell)
        std::uint32_t vars = 0;  ///< variable-size columns before the cell
        std::uint32_t tail = 0;  ///< bytes of the fixed-size cells between the last of those and the cell
    };
    std::vector<Jump> jumps;            ///< per column (uniform pages only)
    std::vector<std::uint32_t> var_gaps;  ///< fixed-size bytes after variable column k up to the next one
};

/// Result of walk_rows.
struct RowsWalk {
    std::size_t size = 0;  ///< bytes taken by the rows (the content may continue)
    bool uniform = true;   ///< every fixed-size cell (fixed[c] != 0) had exactly that size
    bool sizes_ok = true;  ///< every fixed-size cell had that size or was null/empty (always when strict)
};
/// Walks `rows` rows of `cols` [bytes] cells starting at `data` (at most `size` bytes), as sent in
/// a Rows result (4.2.5.2), and returns their extent. One pass, shared by the message layer
/// (which only delimits: pass `strict` = nullptr) and page_from_rows (which also checks the
/// size of fixed-size values against `strict`, the page's columns, and records each row's start
/// in `row_offsets`, which may be null). `fixed[c]` is the value size of column c's type, 0 when
/// variable or unknown: cells of that size take a fast path (no dependency on the loaded
/// length), others are checked one by one. ProtocolError: truncated, invalid_length (a length
/// below -1, or a fixed-size value of another non-zero size when strict).
RowsWalk walk_rows(const std::uint8_t* data, std::size_t size, std::size_t rows, std::size_t cols,
                   const std::uint32_t* fixed, const Column* strict, std::uint32_t* row_offsets);

/// Reads the cell at `p` (validated by page_from_rows) and moves `p` past it.
inline std::optional<BytesView> next_cell(const std::uint8_t*& p) noexcept {
    const auto n = load_be<std::int32_t>(p);
    p += 4;
    if (n < 0) return std::nullopt;
    BytesView v(p, static_cast<std::size_t>(n));
    p += n;
    return v;
}
/// Moves `p` past `count` validated cells.
inline void skip_cells(const std::uint8_t*& p, std::size_t count) noexcept {
    for (std::size_t c = 0; c < count; ++c) {
        const auto n = load_be<std::int32_t>(p);
        p += 4 + (n > 0 ? static_cast<std::size_t>(n) : 0);
    }
}
}  // namespace detail

/// One row of a Page: a view (page state pointer + row index). See the lifetime rule above.
class Row {
public:
    Row() = default;
    Row(const detail::PageState* page, std::size_t index) noexcept : page_(page), index_(index) {}

    std::size_t size() const noexcept { return page_ ? page_->column_count : 0; }
    /// The page's columns (empty for a default-constructed Row).
    const Columns& columns() const noexcept { return page_ ? *page_->columns : empty_columns(); }
    std::size_t index() const noexcept { return index_; }

    /// The cell's bytes, std::nullopt for null. UsageError when i is out of range.
    std::optional<BytesView> raw(std::size_t i) const {
        if (!page_ || index_ >= page_->row_count || i >= page_->column_count) throw_bad_index(i);
        const std::uint8_t* p = cell(i);
        return detail::next_cell(p);
    }
    std::optional<BytesView> raw(std::string_view name) const { return raw(column_index(name)); }
    bool is_null(std::size_t i) const { return !raw(i).has_value(); }
    bool is_null(std::string_view name) const { return is_null(column_index(name)); }

    /// Typed read of column i. TypeError, NullValueError (use std::optional<T> for nullable
    /// columns), UsageError, ProtocolError.
    template <Decodable T>
    T get(std::size_t i) const {
        if (!page_ || i >= page_->column_count) [[unlikely]] throw_bad_column(i);
        const Column& c = (*page_->columns)[i];
        if (!ValueCodec<T>::accepts(*c.type)) [[unlikely]] throw_mismatch(c, detail::cpp_type_name<T>());
        if (index_ >= page_->row_count) [[unlikely]] throw_bad_index(i);
        const std::uint8_t* p = cell(i);
        return detail::decode_cell<T>(*c.type, p, c.name);  // same result as decode_nullable(raw(i))
    }
    template <Decodable T>
    T get(std::string_view name) const {
        return get<T>(column_index(name));
    }
    /// The cell as a CQL literal / JSON text (for tools).
    std::string to_cql_literal(std::size_t i) const;
    std::string to_json(std::size_t i) const;

    std::size_t column_index(std::string_view name) const { return columns().index_of(name); }

private:
    /// Start of cell i (0 <= i < size(), valid row), in a page validated by page_from_rows.
    const std::uint8_t* cell(std::size_t i) const noexcept {
        const detail::PageState& s = *page_;
        const std::uint8_t* p = s.base + s.row_offsets[index_];
        if (s.uniform) {
            // Fixed-size cells before i are skipped by constants; one load per variable-size one.
            const detail::PageState::Jump j = s.jumps[i];
            p += j.base;
            if (j.vars == 0) return p;
            for (std::uint32_t k = 0; k + 1 < j.vars; ++k) {
                const auto n = detail::load_be<std::int32_t>(p);
                p += 4 + (n > 0 ? static_cast<std::size_t>(n) : 0) + s.var_gaps[k];
            }
            const auto n = detail::load_be<std::int32_t>(p);
            return p + 4 + (n > 0 ? static_cast<std::size_t>(n) : 0) + j.tail;
        }
        // Row offsets only: skipping i validated cells is a few loads, and keeps 4 bytes per row.
        detail::skip_cells(p, i);
        return p;
    }

    [[noreturn]] static void throw_mismatch(const Column& c, std::string_view cpp_type);
    [[noreturn]] void throw_bad_index(std::size_t i) const;
    /// The error of columns().at(i) (UsageError).
    [[noreturn]] void throw_bad_column(std::size_t i) const;
    static const Columns& empty_columns() noexcept;

    const detail::PageState* page_ = nullptr;
    std::size_t index_ = 0;
};

template <class... Ts>
class TypedRows;

/// One page of a Rows result.
class Page {
public:
    /// An empty page with no columns.
    Page() = default;

    std::size_t size() const noexcept { return state_ ? state_->row_count : 0; }
    bool empty() const noexcept { return size() == 0; }
    /// The same page without its first `n` rows (all of them when n >= size()), sharing the
    /// buffer; the paging state is kept. Copies the row index (O(rows)).
    Page drop_front(std::size_t n) const;
    Row operator[](std::size_t i) const noexcept { return Row(state_.get(), i); }
    /// UsageError when out of range.
    Row at(std::size_t i) const;

    const Columns& columns() const noexcept;
    const std::shared_ptr<const Columns>& columns_ptr() const noexcept;
    /// UsageError for an unknown name.
    std::size_t column_index(std::string_view name) const { return columns().index_of(name); }

    /// Opaque paging state to send with the next request; nullopt on the last page.
    const std::optional<PagingState>& paging_state() const noexcept;
    bool has_more_pages() const noexcept { return paging_state().has_value(); }

    /// What the server said with this page's response: warnings (e.g. tombstones read), the
    /// tracing id, the custom payload. Empty when it said nothing.
    const ResponseInfo& response_info() const noexcept;
    const std::vector<std::string>& warnings() const noexcept { return response_info().warnings; }
    const std::optional<std::array<std::uint8_t, 16>>& tracing_id() const noexcept {
        return response_info().tracing_id;
    }

    class iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = Row;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = Row;
        iterator() = default;
        iterator(const detail::PageState* p, std::size_t i) noexcept : page_(p), i_(i) {}
        Row operator*() const noexcept { return Row(page_, i_); }
        Row operator[](difference_type n) const noexcept { return Row(page_, i_ + static_cast<std::size_t>(n)); }
        iterator& operator++() noexcept { ++i_; return *this; }
        iterator operator++(int) noexcept { auto t = *this; ++i_; return t; }
        iterator& operator--() noexcept { --i_; return *this; }
        iterator operator--(int) noexcept { auto t = *this; --i_; return t; }
        iterator& operator+=(difference_type n) noexcept { i_ += static_cast<std::size_t>(n); return *this; }
        iterator& operator-=(difference_type n) noexcept { i_ -= static_cast<std::size_t>(n); return *this; }
        friend iterator operator+(iterator a, difference_type n) noexcept { return a += n; }
        friend iterator operator+(difference_type n, iterator a) noexcept { return a += n; }
        friend iterator operator-(iterator a, difference_type n) noexcept { return a -= n; }
        friend difference_type operator-(const iterator& a, const iterator& b) noexcept {
            return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }
        friend auto operator<=>(const iterator& a, const iterator& b) noexcept { return a.i_ <=> b.i_; }

    private:
        const detail::PageState* page_ = nullptr;
        std::size_t i_ = 0;
    };
    iterator begin() const noexcept { return iterator(state_.get(), 0); }
    iterator end() const noexcept { return iterator(state_.get(), size()); }

    /// Typed view of all rows as std::tuple<Ts...>, one T per column in order:
    ///   for (auto [id, name] : page.as<std::int64_t, std::string_view>()) ...
    /// Checks the column count and every column type here, once (TypeError); the iteration then
    /// only decodes. The range keeps the page alive.
    template <Decodable... Ts>
    TypedRows<Ts...> as() const;

    /// Appends one S per row to `out`; S is mapped with ASYNC_CASSANDRA_ROW / ASYNC_CASSANDRA_UDT
    /// and its fields are matched to columns by name (UsageError for a field without a column,
    /// TypeError for a type mismatch; both checked once).
    template <MappedStruct S>
    void decode_into(std::vector<S>& out) const;

    /// The shared state (for adapters such as the streaming layer).
    const std::shared_ptr<const detail::PageState>& state() const noexcept { return state_; }

private:
    friend struct detail::PageAccess;  // builds pages from decoded results (the protocol layer)
    explicit Page(std::shared_ptr<const detail::PageState> s) : state_(std::move(s)) {}
    std::shared_ptr<const detail::PageState> state_;
};

/// Range returned by Page::as<Ts...>().
template <class... Ts>
class TypedRows {
public:
    using value_type = std::tuple<Ts...>;

    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = std::tuple<Ts...>;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = value_type;
        iterator() = default;
        iterator(const TypedRows* r, std::size_t i) noexcept : rows_(r), i_(i) {}
        value_type operator*() const { return rows_->decode_row(i_); }
        iterator& operator++() noexcept { ++i_; return *this; }
        iterator operator++(int) noexcept { auto t = *this; ++i_; return t; }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }

    private:
        const TypedRows* rows_ = nullptr;
        std::size_t i_ = 0;
    };

    TypedRows(Page page, std::array<const DataType*, sizeof...(Ts)> types) : page_(std::move(page)), types_(types) {
        // Column names for error messages, looked up once (the page keeps its columns alive).
        const Columns& cols = page_.columns();
        for (std::size_t k = 0; k < sizeof...(Ts) && k < cols.size(); ++k) names_[k] = cols[k].name;
    }
    iterator begin() const noexcept { return iterator(this, 0); }
    iterator end() const noexcept { return iterator(this, page_.size()); }
    std::size_t size() const noexcept { return page_.size(); }
    /// Decodes row i (0 <= i < size()).
    value_type decode_row(std::size_t i) const { return decode(i, std::index_sequence_for<Ts...>{}); }

private:
    template <std::size_t... I>
    value_type decode(std::size_t i, std::index_sequence<I...>) const {
        const detail::PageState& s = *page_.state();
        const std::uint8_t* p = s.base + s.row_offsets[i];
        // Braced initialization evaluates left to right: cells are read in wire order.
        return value_type{detail::decode_cell<Ts>(*types_[I], p, names_[I])...};
    }

    Page page_;
    std::array<const DataType*, sizeof...(Ts)> types_;
    std::array<std::string_view, sizeof...(Ts)> names_{};
};

namespace detail {
[[noreturn]] void throw_column_count(std::size_t expected, std::size_t got);
[[noreturn]] void throw_column_mismatch(const Column& c, std::string_view cpp_type);
}  // namespace detail

template <Decodable... Ts>
TypedRows<Ts...> Page::as() const {
    const Columns& cols = columns();
    if (cols.size() != sizeof...(Ts)) detail::throw_column_count(sizeof...(Ts), cols.size());
    std::array<const DataType*, sizeof...(Ts)> types{};
    std::size_t k = 0;
    ((cols[k].type && ValueCodec<Ts>::accepts(*cols[k].type) ? (void)(types[k] = cols[k].type.get())
                                                             : detail::throw_column_mismatch(cols[k], detail::cpp_type_name<Ts>()),
      ++k),
     ...);
    return TypedRows<Ts...>(*this, types);
}

template <MappedStruct S>
void Page::decode_into(std::vector<S>& out) const {
    const auto fields = fields_of<S>();
    constexpr std::size_t nf = std::tuple_size_v<std::remove_const_t<decltype(fields)>>;
    const Columns& cols = columns();
    std::array<std::size_t, nf> index{};
    std::array<const DataType*, nf> types{};
    std::size_t k = 0;
    std::apply(
        [&](const auto&... f) {
            ((index[k] = cols.index_of(f.name),
              types[k] = cols[index[k]].type.get(),
              ValueCodec<typename ValueCodec<S>::template member_t<decltype(f)>>::accepts(*types[k])
                  ? (void)0
                  : detail::throw_column_mismatch(
                        cols[index[k]], detail::cpp_type_name<typename ValueCodec<S>::template member_t<decltype(f)>>()),
              ++k),
             ...);
        },
        fields);
    if (empty()) return;
    const detail::PageState& s = *state_;
    out.reserve(out.size() + s.row_count);
    bool ascending = true;
    for (std::size_t j = 1; j < nf; ++j) ascending = ascending && index[j - 1] < index[j];
    if (ascending) {
        // Fields in column order (the common case): one forward pass over each row's cells.
        for (std::size_t r = 0; r < s.row_count; ++r) {
            const std::uint8_t* p = s.base + s.row_offsets[r];
            std::size_t col = 0, j = 0;
            S& row = out.emplace_back();
            std::apply(
                [&](const auto&... f) {
                    ((detail::skip_cells(p, index[j] - col), col = index[j] + 1,
                      row.*(f.member) = detail::decode_cell<typename ValueCodec<S>::template member_t<decltype(f)>>(
                          *types[j], p, f.name),
                      ++j),
                     ...);
                },
                fields);
        }
        return;
    }
    // Start of each cell of the current row (one allocation per call, not per row).
    std::vector<const std::uint8_t*> cells(s.column_count);
    for (std::size_t r = 0; r < s.row_count; ++r) {
        const std::uint8_t* p = s.base + s.row_offsets[r];
        for (std::size_t c = 0; c < s.column_count; ++c) {
            cells[c] = p;
            const auto n = detail::load_be<std::int32_t>(p);
            p += 4 + (n > 0 ? static_cast<std::size_t>(n) : 0);
        }
        S& row = out.emplace_back();
        std::size_t j = 0;
        std::apply(
            [&](const auto&... f) {
                ((p = cells[index[j]],
                  row.*(f.member) = detail::decode_cell<typename ValueCodec<S>::template member_t<decltype(f)>>(
                      *types[j], p, f.name),
                  ++j),
                 ...);
            },
            fields);
    }
}

}  // namespace async_cassandra
