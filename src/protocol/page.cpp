// Page construction (one validation pass over the rows content) and the non-template parts of
// Row and Columns.
#include <async_cassandra/row.hpp>

#include "protocol/messages.hpp"

namespace async_cassandra {

namespace {
const Columns& empty_columns() {
    static const Columns none;
    return none;
}
const std::optional<protocol::Bytes>& no_paging_state() {
    static const std::optional<protocol::Bytes> none;
    return none;
}
}  // namespace

// ---------------------------------------------------------------- Columns

std::shared_ptr<const Columns> Columns::from_specs(const std::vector<protocol::ColumnSpec>& specs) {
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

// ---------------------------------------------------------------- Page

const Columns& Page::columns() const noexcept { return state_ ? *state_->columns : empty_columns(); }

const std::shared_ptr<const Columns>& Page::columns_ptr() const noexcept {
    static const std::shared_ptr<const Columns> none = std::make_shared<const Columns>();
    return state_ ? state_->columns : none;
}

const std::optional<protocol::Bytes>& Page::paging_state() const noexcept {
    return state_ ? state_->paging_state : no_paging_state();
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

Page Page::from_rows(std::shared_ptr<const protocol::Bytes> body, protocol::RowsResult result,
                     std::shared_ptr<const Columns> known_columns) {
    auto state = std::make_shared<detail::PageState>();
    const protocol::BytesView content = result.rows_content;
    if (!content.empty()) {
        const bool inside = body && content.data() >= body->data() &&
                            content.data() + content.size() <= body->data() + body->size();
        if (!inside) throw UsageError("Page::from_rows: rows_content does not point into the body buffer");
    }
    if (content.size() > 0xFFFFFFFFu)
        throw ProtocolError(ProtocolErrc::frame_too_large, "rows content above 4 GiB");

    // Columns: from the metadata, or the caller's when the server skipped them.
    if (!result.metadata.columns.empty()) {
        if (known_columns && same_columns(*known_columns, result.metadata.columns)) state->columns = std::move(known_columns);
        else state->columns = Columns::from_specs(result.metadata.columns);
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
    std::vector<std::uint32_t> fixed(cols);
    for (std::size_t c = 0; c < cols; ++c)
        fixed[c] = static_cast<std::uint32_t>(detail::fixed_value_size((*state->columns)[c].type->kind));

    state->row_offsets.resize(rows);
    const std::uint8_t* const base = content.data();
    const std::size_t size = content.size();
    std::size_t pos = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        state->row_offsets[r] = static_cast<std::uint32_t>(pos);
        for (std::size_t c = 0; c < cols; ++c) {
            if (size - pos < 4) protocol::throw_truncated(4, size - pos);
            const auto n = detail::load_be<std::int32_t>(base + pos);
            // Fast path for a fixed-size cell: the next position is pos + 4 + fixed, a constant,
            // so the CPU need not wait for the loaded length (it only confirms the prediction).
            if (const std::uint32_t f = fixed[c]; f != 0 && static_cast<std::uint32_t>(n) == f) {
                if (size - pos - 4 < f) protocol::throw_truncated(f, size - pos - 4);
                pos += 4 + f;
                continue;
            }
            pos += 4;
            if (n >= 0) {
                const auto len = static_cast<std::uint32_t>(n);
                if (size - pos < len) protocol::throw_truncated(len, size - pos);
                if (fixed[c] != 0 && len != fixed[c] && len != 0)
                    detail::throw_bad_size(*(*state->columns)[c].type, fixed[c], len);
                pos += len;
            } else if (n != -1) {
                throw ProtocolError(ProtocolErrc::invalid_length,
                                    "cell length " + std::to_string(n) + " in row " + std::to_string(r) + ", column '" +
                                        (*state->columns)[c].name + "'");
            }
        }
    }
    if (pos != size)
        throw ProtocolError(ProtocolErrc::trailing_bytes,
                            "rows content has " + std::to_string(size - pos) + " bytes after the last row");

    state->body = std::move(body);
    state->base = base;
    state->row_count = rows;
    state->column_count = cols;
    state->paging_state = std::move(result.metadata.paging_state);
    return Page(std::move(state));
}

}  // namespace async_cassandra
