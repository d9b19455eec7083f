// Fuzz target for Page::from_rows, typed cell access and the dynamic text forms.
// Input: [short] column count (mod 9), that many [option] column types (any nesting: lists,
// maps, sets, tuples, UDTs, custom VectorType(...)), an [int] row count, then the rows content.
//
// Invariants: nothing but async_cassandra::Error escapes; for simple fixed-size, text and blob
// columns, re-encoding a decoded value gives back the cell's bytes.
#include "fuzz_fail.hpp"
#include <async_cassandra/row.hpp>

#include "protocol/data_type_codec.hpp"
#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <cstdio>
#include <cstdlib>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

using acass_fuzz::fail;

namespace {

template <class T>
void read_as(const Row& row, std::size_t c) {
    try {
        (void)row.get<std::optional<T>>(c);
    } catch (const Error&) {
    }
}

// encode(decode(cell)) == cell for types with a single encoding.
template <class T>
void check_round_trip(const Row& row, std::size_t c) {
    const DataType& type = *row.columns()[c].type;
    if (!ValueCodec<T>::accepts(type)) return;
    const auto raw = row.raw(c);
    if (!raw || (raw->empty() && !detail::empty_is_value(type.kind))) return;
    T value;
    try {
        value = row.get<T>(c);
    } catch (const Error&) {
        return;
    }
    Bytes out;
    ByteWriter w(out);
    try {
        ValueCodec<T>::encode(type, value, w);
    } catch (const Error&) {
        return;  // e.g. a non-ASCII byte read from an ascii column cannot be written back as ascii
    }
    if (out.size() != raw->size() + 4 || !std::equal(raw->begin(), raw->end(), out.begin() + 4))
        fail("re-encoded value differs from the cell");
}

void read_cell(const Row& row, std::size_t c) {
    const DataType& type = *row.columns()[c].type;
    try {
        (void)to_cql_literal(type, row.raw(c));
    } catch (const Error&) {
    }
    try {
        (void)to_json(type, row.raw(c));
    } catch (const Error&) {
    }
    read_as<bool>(row, c);  // any non-zero byte is true: not a single encoding
    check_round_trip<std::int8_t>(row, c);
    check_round_trip<std::int16_t>(row, c);
    check_round_trip<std::int32_t>(row, c);
    check_round_trip<std::int64_t>(row, c);
    check_round_trip<double>(row, c);
    check_round_trip<std::string>(row, c);
    check_round_trip<Blob>(row, c);
    check_round_trip<Date>(row, c);
    check_round_trip<Timestamp>(row, c);
    read_as<float>(row, c);
    read_as<std::string_view>(row, c);
    read_as<Uuid>(row, c);
    read_as<Inet>(row, c);
    read_as<Time>(row, c);
    read_as<Duration>(row, c);
    read_as<Varint>(row, c);
    read_as<Decimal>(row, c);
    read_as<std::vector<std::int32_t>>(row, c);
    read_as<std::vector<std::string_view>>(row, c);
    read_as<std::vector<float>>(row, c);
    read_as<std::vector<std::vector<std::optional<std::int32_t>>>>(row, c);
    read_as<std::set<std::string>>(row, c);
    read_as<std::array<float, 3>>(row, c);
    read_as<std::map<std::string, std::int32_t>>(row, c);
    read_as<std::map<std::int32_t, std::vector<std::string>>>(row, c);
    read_as<std::tuple<std::optional<std::int32_t>, std::optional<std::string>>>(row, c);
}

/// What one walk over the rows found, or the error it threw.
struct WalkOutcome {
    std::optional<ProtocolErrc> error;
    std::string message;
    detail::RowsWalk walk;
    std::vector<std::uint32_t> row_offsets;
};

template <class Walk>
WalkOutcome walk_with(Walk walk, BytesView content, std::size_t rows, const std::vector<std::uint32_t>& fixed,
                      const Column* strict) {
    WalkOutcome out;
    out.row_offsets.assign(rows, 0xFFFFFFFFu);
    try {
        out.walk = walk(content.data(), content.size(), rows, fixed.size(), fixed.data(), strict, out.row_offsets.data());
    } catch (const ProtocolError& e) {
        out.error = e.code();
        out.message = e.what();
    }
    return out;
}

// walk_rows' fast path (pages of more than a few rows) and its cell-by-cell walk (a few rows)
// must agree on everything for any input: the rows' extent, uniformity, size checks, row
// starts, and the error.
void compare_walks(BytesView content, std::int32_t row_count, const Columns& columns) {
    if (row_count < 0 || columns.size() == 0) return;
    const auto rows = static_cast<std::size_t>(row_count);
    if (rows > content.size() / 4 / columns.size()) return;  // both refuse it before walking
    std::vector<std::uint32_t> fixed;
    for (const Column& c : columns) fixed.push_back(static_cast<std::uint32_t>(detail::fixed_value_size(c.type->kind)));
    for (const Column* strict : {static_cast<const Column*>(nullptr), &columns[0]}) {
        const WalkOutcome a = walk_with(detail::walk_rows, content, rows, fixed, strict);
        const WalkOutcome b = walk_with(detail::walk_rows_cell_by_cell, content, rows, fixed, strict);
        if (a.error != b.error || a.message != b.message) fail("the walks disagree on the error", a.message + " / " + b.message);
        if (a.error) continue;
        if (a.walk.size != b.walk.size || a.walk.uniform != b.walk.uniform || a.walk.sizes_ok != b.walk.sizes_ok)
            fail("the walks disagree on the rows' extent, uniformity or sizes");
        if (a.row_offsets != b.row_offsets) fail("the walks disagree on the row starts");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        auto body = std::make_shared<Bytes>(data, data + size);
        ByteReader in(*body);
        const std::size_t ncols = in.read_u16() % 9;
        RowsResult result;
        for (std::size_t i = 0; i < ncols; ++i)
            result.metadata.columns.push_back({"ks", "t", "c" + std::to_string(i), read_type_option(in)});
        result.metadata.column_count = static_cast<std::int32_t>(ncols);
        result.row_count = in.read_i32();
        result.rows_content = in.rest();
        compare_walks(result.rows_content, result.row_count, *columns_from_specs(result.metadata.columns));
        const Page page = protocol::page_from_rows(body, std::move(result));
        for (const Row row : page)
            for (std::size_t c = 0; c < row.size(); ++c) read_cell(row, c);
        // The typed range over pages of two ints (type-checked once, then decoded per row).
        if (ncols == 2 && page.columns()[0].type->kind == TypeKind::int_ &&
            page.columns()[1].type->kind == TypeKind::varchar) {
            for (auto [a, b] : page.as<std::optional<std::int32_t>, std::optional<std::string_view>>()) {
                (void)a;
                (void)b;
            }
        }
    } catch (const Error&) {
    }
    return 0;
}
