// Page construction (one validation pass over the rows content) and the non-template parts of
// Row and Columns.
#include <async_cassandra/row.hpp>

#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <algorithm>
#include <array>
#include <type_traits>
#include <bit>
#include <cstring>

namespace async_cassandra {

namespace {
const Columns& empty_columns() {
    static const Columns none;
    return none;
}
const std::optional<PagingState>& no_paging_state() {
    static const std::optional<PagingState> none;
    return none;
}
}  // namespace

// ---------------------------------------------------------------- Columns

std::shared_ptr<const Columns> protocol::columns_from_specs(const std::vector<ColumnSpec>& specs) {
    std::vector<Column> cols;
    cols.reserve(specs.size());
    for (const auto& s : specs) cols.push_back(Column{s.keyspace, s.table, s.name, s.type});
    return std::make_shared<const Columns>(std::move(cols));
}

void Columns::throw_out_of_range(std::size_t i) const {
    throw UsageError("column index " + std::to_string(i) + " out of range (" + std::to_string(columns_.size()) +
                     " columns)");
}

std::optional<std::size_t> Columns::find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < columns_.size(); ++i)
        if (columns_[i].name == name) return i;
    return std::nullopt;
}

std::size_t Columns::index_of(std::string_view name) const {
    if (auto i = find(name)) return *i;
    std::string known;
    for (const auto& c : columns_) known += (known.empty() ? "" : ", ") + c.name;
    throw UsageError("no column named '" + std::string(name) + "' (columns: " + known + ")");
}

namespace detail {
void throw_column_count(std::size_t expected, std::size_t got) {
    throw TypeError("row decoded as " + std::to_string(expected) + " values, but the result has " +
                    std::to_string(got) + " columns");
}
void throw_column_mismatch(const Column& c, std::string_view cpp_type) {
    throw_type_mismatch("column '" + c.name + "'", c.type ? *c.type : *DataType::simple(TypeKind::custom), cpp_type);
}
}  // namespace detail

// ---------------------------------------------------------------- Row

void Row::throw_bad_index(std::size_t i) const {
    if (!page_ || index_ >= page_->row_count) throw UsageError("row does not belong to a page");
    throw UsageError("column index " + std::to_string(i) + " out of range (" + std::to_string(page_->column_count) +
                     " columns)");
}

void Row::throw_bad_column(std::size_t i) const {
    (void)columns().at(i);
    throw_bad_index(i);  // not reached: a page's column count is its columns' size
}

const Columns& Row::empty_columns() noexcept { return async_cassandra::empty_columns(); }

void Row::throw_mismatch(const Column& c, std::string_view cpp_type) { detail::throw_column_mismatch(c, cpp_type); }

std::string Row::to_cql_literal(std::size_t i) const {
    const Column& c = columns().at(i);
    return async_cassandra::to_cql_literal(*c.type, raw(i));
}

std::string Row::to_json(std::size_t i) const {
    const Column& c = columns().at(i);
    return async_cassandra::to_json(*c.type, raw(i));
}


// ---------------------------------------------------------------- rows walk

namespace detail {
namespace {

[[noreturn, gnu::cold]] void throw_bad_cell_length(std::uint32_t raw, std::size_t row, std::size_t col,
                                                  const Column* columns) {
    throw ProtocolError(ProtocolErrc::invalid_length,
                        "cell length " + std::to_string(static_cast<std::int32_t>(raw)) + " in row " +
                            std::to_string(row) + ", column " +
                            (columns ? "'" + columns[col].name + "'" : std::to_string(col)));
}

std::uint32_t load_raw32(const std::uint8_t* p) noexcept {
    std::uint32_t u;
    std::memcpy(&u, p, 4);
    return u;
}

/// One row, cell by cell, with every check (nulls and empty values in fixed-size columns, exact
/// error reporting). Returns the end of the row. `uniform` turns false at a fixed-size cell of
/// another size than its type's (null and empty ones included).
[[gnu::noinline]] const std::uint8_t* walk_row_slow(const std::uint8_t* p, const std::uint8_t* end, std::size_t row,
                                                    std::size_t cols, const std::uint32_t* fixed,
                                                    const Column* strict, bool& sizes_ok, bool& uniform) {
    for (std::size_t c = 0; c < cols; ++c) {
        if (end - p < 4) protocol::throw_truncated(4, static_cast<std::size_t>(end - p));
        const std::uint32_t raw = load_be<std::uint32_t>(p);
        p += 4;
        // [bytes]: -1 (0xFFFFFFFF) is null; lengths 0..INT32_MAX map to 1..2^31 after +1, the
        // null to 0, every other negative above 2^31.
        const std::uint32_t shifted = raw + 1u;
        if (shifted > 0x80000000u) throw_bad_cell_length(raw, row, c, strict);
        if (fixed[c] != 0 && raw != fixed[c]) uniform = false;
        if (shifted == 0) continue;
        if (static_cast<std::size_t>(end - p) < raw) protocol::throw_truncated(raw, static_cast<std::size_t>(end - p));
        if (fixed[c] != 0 && raw != fixed[c] && raw != 0) [[unlikely]] {
            if (strict) throw_bad_size(*strict[c].type, fixed[c], raw);
            sizes_ok = false;
        }
        p += raw;
    }
    return p;
}

/// Rows of this many or fewer are walked cell by cell: building the fast path's plan costs more
/// than it saves on so few rows (a point query's page of one row is walked twice per request).
constexpr std::size_t kFewRows = 8;

constexpr std::size_t kMaxChecks = 4;

/// The walk's row plan with compile-time bounds: NSeg segments of at most NChecks fixed-size
/// cells (unused check slots have mask 0), so the row loop is fully unrolled.
template <std::size_t NSeg, std::size_t NChecks>
struct FastPlan {
    std::array<std::uint32_t, NSeg> need{};         // bytes the segment needs before its variable cell's data
    std::array<std::uint32_t, NSeg> fixed_bytes{};  // bytes of its fixed-size cells
    std::array<bool, NSeg> var{};                   // ends with a variable-size cell
    std::array<std::array<std::uint32_t, NChecks>, NSeg> off{}, expected{}, mask{};
};

template <std::size_t NSeg, std::size_t NChecks>
const std::uint8_t* walk_fast(const FastPlan<NSeg, NChecks>& plan, const std::uint8_t* const data,
                              const std::uint8_t* const end, std::size_t rows, std::size_t cols,
                              const std::uint32_t* fixed, const Column* strict, std::uint32_t* row_offsets,
                              RowsWalk& out) {
    const std::uint8_t* p = data;
    for (std::size_t r = 0; r < rows; ++r) {
        const std::uint8_t* const row = p;
        if (row_offsets) row_offsets[r] = static_cast<std::uint32_t>(row - data);
        bool ok = true;
#pragma GCC unroll 4
        for (std::size_t s = 0; s < NSeg; ++s) {
            if (static_cast<std::size_t>(end - p) < plan.need[s]) [[unlikely]] {
                ok = false;
                break;
            }
            std::uint32_t diff = 0;
#pragma GCC unroll 4
            for (std::size_t k = 0; k < NChecks; ++k)
                diff |= (load_raw32(p + plan.off[s][k]) ^ plan.expected[s][k]) & plan.mask[s][k];
            if (diff != 0) [[unlikely]] {
                ok = false;
                break;
            }
            p += plan.fixed_bytes[s];
            if (plan.var[s]) {
                const std::uint32_t raw = load_be<std::uint32_t>(p);
                p += 4;
                const std::uint32_t shifted = raw + 1u;
                const std::size_t len = shifted != 0 ? raw : 0;
                if (shifted > 0x80000000u || static_cast<std::size_t>(end - p) < len) [[unlikely]] {
                    ok = false;
                    break;
                }
                p += len;
            }
        }
        if (!ok) [[unlikely]] {
            p = walk_row_slow(row, end, r, cols, fixed, strict, out.sizes_ok, out.uniform);
            out.uniform = false;
        }
    }
    return p;
}

}  // namespace

namespace {
/// A push-only array of at most `capacity` elements (fixed when made), kept inline up to N.
template <class T, std::size_t N>
class InlineBuffer {
public:
    explicit InlineBuffer(std::size_t capacity) {
        if (capacity > N) heap_.resize(capacity);
        data_ = capacity > N ? heap_.data() : inline_.data();
    }
    InlineBuffer(const InlineBuffer&) = delete;
    InlineBuffer& operator=(const InlineBuffer&) = delete;
    void push_back(const T& value) noexcept { data_[size_++] = value; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }

private:
    std::array<T, N> inline_;
    std::vector<T> heap_;
    T* data_ = nullptr;
    std::size_t size_ = 0;
};
}  // namespace

RowsWalk walk_rows_cell_by_cell(const std::uint8_t* data, std::size_t size, std::size_t rows, std::size_t cols,
                                const std::uint32_t* fixed, const Column* strict, std::uint32_t* row_offsets) {
    RowsWalk out;
    if (rows == 0) return out;
    // Every cell has a 4-byte length: reject absurd counts before looping over them.
    if (cols == 0 || rows > size / 4 / cols)
        protocol::throw_truncated(static_cast<std::size_t>(std::min<std::uint64_t>(
                                      static_cast<std::uint64_t>(rows) * std::max<std::size_t>(cols, 1), SIZE_MAX / 4)) * 4,
                                  size);
    const std::uint8_t* const end = data + size;
    const std::uint8_t* p = data;
    for (std::size_t r = 0; r < rows; ++r) {
        if (row_offsets) row_offsets[r] = static_cast<std::uint32_t>(p - data);
        p = walk_row_slow(p, end, r, cols, fixed, strict, out.sizes_ok, out.uniform);
    }
    out.size = static_cast<std::size_t>(p - data);
    return out;
}

RowsWalk walk_rows(const std::uint8_t* data, std::size_t size, std::size_t rows, std::size_t cols,
                   const std::uint32_t* fixed, const Column* strict, std::uint32_t* row_offsets) {
    if (rows <= kFewRows) return walk_rows_cell_by_cell(data, size, rows, cols, fixed, strict, row_offsets);
    RowsWalk out;
    // Every cell has a 4-byte length: reject absurd counts before looping over them.
    if (cols == 0 || rows > size / 4 / cols)
        protocol::throw_truncated(static_cast<std::size_t>(std::min<std::uint64_t>(
                                      static_cast<std::uint64_t>(rows) * std::max<std::size_t>(cols, 1), SIZE_MAX / 4)) * 4,
                                  size);

    // The row as segments: a run of fixed-size cells, then (except maybe in the last one) one
    // variable-size cell. Within a segment the positions of the fixed-size length slots are
    // constants, so their checks do not wait for each other: one bounds check, one OR of
    // comparisons against the expected (big-endian) lengths, then the variable cell's length.
    struct Segment {
        std::uint32_t fixed_bytes = 0;  // bytes of the segment's fixed-size cells
        std::uint32_t first_check = 0;  // into checks
        std::uint32_t checks = 0;
        bool var = false;
    };
    struct Check {
        std::uint32_t offset;    // of the length slot within the segment
        std::uint32_t expected;  // the length slot's bytes as loaded natively
    };
    // At most one segment and one check per column: on the stack for the usual widths (this runs
    // for every response, twice per point query: no heap allocation for it).
    InlineBuffer<Segment, 32> segments(cols);
    InlineBuffer<Check, 32> checks(cols);
    {
        Segment seg;
        for (std::size_t c = 0; c < cols; ++c) {
            if (fixed[c] != 0) {
                if (seg.checks == kMaxChecks) {  // keep segments small (see walk_fast)
                    segments.push_back(seg);
                    seg = Segment{};
                    seg.first_check = static_cast<std::uint32_t>(checks.size());
                }
                std::uint32_t be = fixed[c];
                if constexpr (std::endian::native == std::endian::little) be = __builtin_bswap32(be);
                checks.push_back({seg.fixed_bytes, be});
                ++seg.checks;
                seg.fixed_bytes += 4 + fixed[c];
            } else {
                seg.var = true;
                segments.push_back(seg);
                seg = Segment{};
                seg.first_check = static_cast<std::uint32_t>(checks.size());
            }
        }
        if (seg.checks != 0) segments.push_back(seg);
    }
    const std::uint8_t* const end = data + size;
    if (!segments.empty() && segments.size() <= 4) {
        std::size_t most = 1;
        for (const Segment& seg : segments) most = std::max<std::size_t>(most, seg.checks);
        const auto run_checks = [&]<std::size_t NSeg, std::size_t NChecks>(std::integral_constant<std::size_t, NSeg>,
                                                                            std::integral_constant<std::size_t, NChecks>) {
            FastPlan<NSeg, NChecks> plan{};
            for (std::size_t i = 0; i < NSeg; ++i) {
                const Segment& seg = segments[i];
                plan.need[i] = seg.fixed_bytes + (seg.var ? 4u : 0u);
                plan.fixed_bytes[i] = seg.fixed_bytes;
                plan.var[i] = seg.var;
                for (std::size_t k = 0; k < seg.checks; ++k) {
                    plan.off[i][k] = checks[seg.first_check + k].offset;
                    plan.expected[i][k] = checks[seg.first_check + k].expected;
                    plan.mask[i][k] = 0xFFFFFFFFu;
                }
            }
            return walk_fast(plan, data, end, rows, cols, fixed, strict, row_offsets, out);
        };
        const auto run = [&]<std::size_t NSeg>(std::integral_constant<std::size_t, NSeg> nseg) {
            if (most == 1) return run_checks(nseg, std::integral_constant<std::size_t, 1>{});
            if (most == 2) return run_checks(nseg, std::integral_constant<std::size_t, 2>{});
            return run_checks(nseg, std::integral_constant<std::size_t, kMaxChecks>{});
        };
        const std::uint8_t* p = nullptr;
        switch (segments.size()) {
            case 1: p = run(std::integral_constant<std::size_t, 1>{}); break;
            case 2: p = run(std::integral_constant<std::size_t, 2>{}); break;
            case 3: p = run(std::integral_constant<std::size_t, 3>{}); break;
            default: p = run(std::integral_constant<std::size_t, 4>{}); break;
        }
        out.size = static_cast<std::size_t>(p - data);
        return out;
    }

    const Segment* const seg_begin = segments.data();
    const Segment* const seg_end = seg_begin + segments.size();
    const Check* const check_base = checks.data();

    const std::uint8_t* p = data;
    for (std::size_t r = 0; r < rows; ++r) {
        const std::uint8_t* const row = p;
        if (row_offsets) row_offsets[r] = static_cast<std::uint32_t>(row - data);
        bool ok = true;
        for (const Segment* s = seg_begin; s != seg_end; ++s) {
            const std::size_t need = s->fixed_bytes + (s->var ? 4u : 0u);
            if (static_cast<std::size_t>(end - p) < need) [[unlikely]] {
                ok = false;
                break;
            }
            std::uint32_t diff = 0;
            for (const Check *k = check_base + s->first_check, *ke = k + s->checks; k != ke; ++k)
                diff |= load_raw32(p + k->offset) ^ k->expected;
            if (diff != 0) [[unlikely]] {
                ok = false;
                break;
            }
            p += s->fixed_bytes;
            if (s->var) {
                const std::uint32_t raw = load_be<std::uint32_t>(p);
                p += 4;
                const std::uint32_t shifted = raw + 1u;
                const std::size_t len = shifted != 0 ? raw : 0;
                if (shifted > 0x80000000u || static_cast<std::size_t>(end - p) < len) [[unlikely]] {
                    ok = false;
                    break;
                }
                p += len;
            }
        }
        if (!ok) [[unlikely]] {
            p = walk_row_slow(row, end, r, cols, fixed, strict, out.sizes_ok, out.uniform);
            out.uniform = false;
        }
    }
    out.size = static_cast<std::size_t>(p - data);
    return out;
}

}  // namespace detail

// ---------------------------------------------------------------- Page

const Columns& Page::columns() const noexcept { return state_ ? *state_->columns : empty_columns(); }

const std::shared_ptr<const Columns>& Page::columns_ptr() const noexcept {
    static const std::shared_ptr<const Columns> none = std::make_shared<const Columns>();
    return state_ ? state_->columns : none;
}

Page Page::drop_front(std::size_t n) const {
    if (n == 0 || !state_) return *this;
    auto copy = std::make_shared<detail::PageState>(*state_);
    n = std::min(n, copy->row_count);
    copy->row_offsets.erase(copy->row_offsets.begin(), copy->row_offsets.begin() + static_cast<std::ptrdiff_t>(n));
    copy->row_count -= n;
    return Page(std::move(copy));
}

const std::optional<PagingState>& Page::paging_state() const noexcept {
    return state_ ? state_->paging_state : no_paging_state();
}

const ResponseInfo& Page::response_info() const noexcept {
    static const ResponseInfo nothing;
    return state_ && state_->info ? *state_->info : nothing;
}

Row Page::at(std::size_t i) const {
    if (i >= size()) throw UsageError("row index " + std::to_string(i) + " out of range (" + std::to_string(size()) + " rows)");
    return Row(state_.get(), i);
}

namespace {
bool same_columns(const Columns& known, const std::vector<protocol::ColumnSpec>& specs) {
    if (known.size() != specs.size()) return false;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const Column& c = known[i];
        const auto& s = specs[i];
        if (c.name != s.name || c.table != s.table || c.keyspace != s.keyspace) return false;
        if (c.type != s.type && !(c.type && s.type && *c.type == *s.type)) return false;
    }
    return true;
}
}  // namespace

namespace detail {
/// The one builder of pages from decoded results (a friend of Page).
struct PageAccess {
    static Page make(std::shared_ptr<const PageState> state) { return Page(std::move(state)); }
};
}  // namespace detail

Page protocol::page_from_rows(std::shared_ptr<const Bytes> body, RowsResult result,
                              std::shared_ptr<const Columns> known_columns, std::shared_ptr<const ResponseInfo> info) {
    auto state = std::make_shared<detail::PageState>();
    state->info = std::move(info);
    const protocol::BytesView content = result.rows_content;
    if (!content.empty()) {
        const bool inside = body && content.data() >= body->data() &&
                            content.data() + content.size() <= body->data() + body->size();
        if (!inside) throw UsageError("page_from_rows: rows_content does not point into the body buffer");
    }
    if (content.size() > 0xFFFFFFFFu)
        throw ProtocolError(ProtocolErrc::frame_too_large, "rows content above 4 GiB");

    // Columns: from the metadata, or the caller's when the server skipped them.
    if (!result.metadata.columns.empty()) {
        if (known_columns && same_columns(*known_columns, result.metadata.columns)) state->columns = std::move(known_columns);
        else state->columns = columns_from_specs(result.metadata.columns);
    } else if (result.metadata.column_count == 0 && result.row_count == 0) {
        state->columns = known_columns ? std::move(known_columns) : std::make_shared<const Columns>();
    } else {
        if (!known_columns) throw UsageError("rows without metadata and no known columns (skip_metadata misuse)");
        state->columns = std::move(known_columns);
    }
    for (const auto& c : *state->columns)
        if (!c.type) throw UsageError("column '" + c.name + "' has no type");
    const std::size_t cols = state->columns->size();
    if (result.metadata.column_count >= 0 && static_cast<std::size_t>(result.metadata.column_count) != cols &&
        !(result.metadata.column_count == 0 && result.row_count == 0))
        throw ProtocolError(ProtocolErrc::invalid_value, "metadata says " + std::to_string(result.metadata.column_count) +
                                                             " columns, known columns are " + std::to_string(cols));
    if (result.metadata.column_count < 0)
        throw ProtocolError(ProtocolErrc::invalid_length, "column count " + std::to_string(result.metadata.column_count));
    if (result.row_count < 0)
        throw ProtocolError(ProtocolErrc::invalid_length, "row count " + std::to_string(result.row_count));
    const auto rows = static_cast<std::size_t>(result.row_count);
    if (rows > 0 && cols == 0) throw ProtocolError(ProtocolErrc::invalid_value, "rows with zero columns");
    // Each cell has at least its 4-byte length: bound the count before allocating offsets.
    if (rows > 0 && rows > content.size() / (4 * cols))
        throw ProtocolError(ProtocolErrc::truncated, std::to_string(rows) + " rows of " + std::to_string(cols) +
                                                         " columns cannot fit in " + std::to_string(content.size()) +
                                                         " bytes");

    // Fixed-size columns are size-checked here (a zero-length "empty" value is also allowed), so
    // a mismatch is reported when the page arrives, not when the cell happens to be read.
    const Columns& columns = *state->columns;
    detail::InlineBuffer<std::uint32_t, 32> fixed(cols);  // on the stack for the usual widths
    for (std::size_t c = 0; c < cols; ++c)
        fixed.push_back(static_cast<std::uint32_t>(detail::fixed_value_size(columns[c].type->kind)));

    const std::uint8_t* const base = content.data();
    const std::size_t size = content.size();
    detail::RowsWalk walk;
    if (const protocol::RowsWalkIndex* index = result.walk.get();
        index && index->data == base && index->size == size && index->row_count == result.row_count &&
        index->row_offsets.size() == rows && index->sizes_ok &&
        std::equal(index->fixed.begin(), index->fixed.end(), fixed.begin(), fixed.end())) {
        // decode_response already walked exactly these bytes, as cells of these sizes: the
        // framing is valid and no fixed-size cell has a wrong size. Reuse its row starts.
        if (result.walk.use_count() == 1) state->row_offsets = std::move(result.walk->row_offsets);
        else state->row_offsets = index->row_offsets;
        walk.size = size;
        walk.uniform = index->uniform;
    } else {
        // The decoder's walk without the column types (a v5 EXECUTE's rows come without their
        // metadata) found the same row starts, but did not check the fixed-size cells: walk
        // again with the types, into its row-starts buffer (no allocation for it).
        if (index && result.walk.use_count() == 1 && index->row_offsets.size() == rows)
            state->row_offsets = std::move(result.walk->row_offsets);
        else
            state->row_offsets.resize(rows);
        walk = detail::walk_rows(base, size, rows, cols, fixed.data(), cols ? &columns[0] : nullptr,
                                 state->row_offsets.data());
        if (walk.size != size)
            throw ProtocolError(ProtocolErrc::trailing_bytes,
                                "rows content has " + std::to_string(size - walk.size) + " bytes after the last row");
    }

    // Cell locator for Row::raw / Row::get (see PageState::uniform).
    if (walk.uniform && rows > 0) {
        state->uniform = true;
        state->jumps.resize(cols);
        std::uint32_t run = 0, vars = 0, first_var = 0;
        for (std::size_t c = 0; c < cols; ++c) {
            detail::PageState::Jump& j = state->jumps[c];
            j.vars = vars;
            if (vars == 0) {
                j.base = run;
            } else {
                j.base = first_var;
                j.tail = run;
            }
            if (fixed[c] != 0) {
                run += 4 + fixed[c];
            } else {
                if (vars == 0) first_var = run;
                else state->var_gaps.push_back(run);
                ++vars;
                run = 0;
            }
        }
    }

    state->body = std::move(body);
    state->base = base;
    state->row_count = rows;
    state->column_count = cols;
    if (result.metadata.paging_state) state->paging_state.emplace(std::move(*result.metadata.paging_state));
    return detail::PageAccess::make(std::move(state));
}

}  // namespace async_cassandra
