// Page / Row over hand-built Rows bodies (native_protocol_v5.spec 4.2.5.2: <rows_count> then
// rows_count * columns_count [bytes] cells, row by row).
#include <async_cassandra/row.hpp>

#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"
#include "support/protocol_errc.hpp"

#include <gtest/gtest.h>

using namespace async_cassandra;
using protocol::Bytes;
using protocol::BytesView;

namespace {

DataTypePtr T(TypeKind k) { return DataType::simple(k); }

struct Cells {
    Bytes bytes;
    Cells& i32(std::int32_t v) { return raw({0, 0, 0, 4}).be(static_cast<std::uint32_t>(v), 4); }
    Cells& i64(std::int64_t v) { return raw({0, 0, 0, 8}).be(static_cast<std::uint64_t>(v), 8); }
    Cells& text(std::string_view s) {
        be(s.size(), 4);
        bytes.insert(bytes.end(), s.begin(), s.end());
        return *this;
    }
    Cells& null() { return raw({0xFF, 0xFF, 0xFF, 0xFF}); }
    Cells& raw(std::initializer_list<std::uint8_t> b) {
        bytes.insert(bytes.end(), b);
        return *this;
    }
    Cells& be(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        return *this;
    }
};

std::vector<protocol::ColumnSpec> specs3() {
    return {{"ks", "t", "id", T(TypeKind::bigint)},
            {"ks", "t", "name", T(TypeKind::varchar)},
            {"ks", "t", "score", T(TypeKind::int_)}};
}

// Puts some prefix before the cells so that offsets are not trivially zero.
Page make_page(const Cells& cells, std::int32_t rows, std::vector<protocol::ColumnSpec> columns,
               std::optional<Bytes> paging = std::nullopt, std::shared_ptr<const Columns> known = nullptr) {
    auto body = std::make_shared<Bytes>(cells.bytes.size() + 3, std::uint8_t{0xAA});
    std::copy(cells.bytes.begin(), cells.bytes.end(), body->begin() + 3);
    protocol::RowsResult r;
    r.metadata.column_count = static_cast<std::int32_t>(known && columns.empty() ? known->size() : columns.size());
    r.metadata.no_metadata = columns.empty();
    r.metadata.columns = std::move(columns);
    r.metadata.paging_state = std::move(paging);
    r.row_count = rows;
    r.rows_content = BytesView(*body).subspan(3);
    return protocol::page_from_rows(body, std::move(r), std::move(known));
}

Cells three_rows() {
    Cells c;
    c.i64(1).text("alice").i32(10);
    c.i64(2).text("").null();
    c.i64(-3).text("carol").i32(-7);
    return c;
}

using acass_test::error_of;

struct Person {
    std::string_view name;
    std::int64_t id = 0;
    std::optional<std::int32_t> score;
};
ASYNC_CASSANDRA_ROW(Person, name, id, score)

// Fields in column order, one column (name) not mapped: the single-pass path of decode_into.
struct IdScore {
    std::int64_t id = 0;
    std::optional<std::int32_t> score;
};
ASYNC_CASSANDRA_ROW(IdScore, id, score)

}  // namespace

TEST(PageRows4_2_5_2, IndexNameAndRawAccess) {
    const Page page = make_page(three_rows(), 3, specs3());
    ASSERT_EQ(page.size(), 3u);
    EXPECT_FALSE(page.empty());
    EXPECT_FALSE(page.has_more_pages());
    EXPECT_EQ(page.columns().size(), 3u);
    EXPECT_EQ(page.column_index("score"), 2u);
    EXPECT_EQ(page[0].get<std::int64_t>(0), 1);
    EXPECT_EQ(page[0].get<std::string_view>("name"), "alice");
    EXPECT_EQ(page[2].get<std::int32_t>("score"), -7);
    EXPECT_EQ(page[1].get<std::string>(1), "");  // empty text is a value
    EXPECT_FALSE(page[1].is_null(1));
    EXPECT_TRUE(page[1].is_null("score"));
    EXPECT_EQ(page[1].get<std::optional<std::int32_t>>(2), std::nullopt);
    EXPECT_EQ(page[2].raw(1)->size(), 5u);
    EXPECT_EQ(page.at(2).size(), 3u);
    EXPECT_THROW(page.at(3), UsageError);
}

TEST(PageRows4_2_5_2, IterationVisitsRowsInOrder) {
    const Page page = make_page(three_rows(), 3, specs3());
    std::vector<std::int64_t> ids;
    for (const Row row : page) ids.push_back(row.get<std::int64_t>(0));
    EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, -3}));
    EXPECT_EQ(page.end() - page.begin(), 3);
}

TEST(PageRows4_2_5_2, TypedErrorsNameColumnAndTypes) {
    const Page page = make_page(three_rows(), 3, specs3());
    try {
        page[0].get<std::int32_t>("id");
        FAIL();
    } catch (const TypeError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("'id'"), std::string::npos) << what;
        EXPECT_NE(what.find("bigint"), std::string::npos) << what;
        EXPECT_NE(what.find("int"), std::string::npos) << what;
    }
    try {
        page[1].get<std::int32_t>("score");
        FAIL();
    } catch (const NullValueError& e) {
        EXPECT_NE(std::string(e.what()).find("'score'"), std::string::npos) << e.what();
    }
    EXPECT_THROW(page[0].get<std::int32_t>("nope"), UsageError);
    EXPECT_THROW(page[0].get<std::int32_t>(3), UsageError);
    EXPECT_THROW(page.column_index("ID"), UsageError);  // names are case-sensitive
}

TEST(PageRows4_2_5_2, TypedTupleRange) {
    const Page page = make_page(three_rows(), 3, specs3());
    std::vector<std::string> names;
    std::int64_t sum = 0;
    for (auto [id, name, score] : page.as<std::int64_t, std::string_view, std::optional<std::int32_t>>()) {
        sum += id + score.value_or(100);
        names.emplace_back(name);
    }
    EXPECT_EQ(sum, 1 + 10 + 2 + 100 - 3 - 7);
    EXPECT_EQ(names, (std::vector<std::string>{"alice", "", "carol"}));
    EXPECT_THROW((page.as<std::int64_t, std::string_view>()), TypeError);             // column count
    EXPECT_THROW((page.as<std::int64_t, std::string_view, double>()), TypeError);     // type, checked up front
    auto strict = page.as<std::int64_t, std::string_view, std::int32_t>();            // passes the type check
    EXPECT_THROW((void)strict.decode_row(1), NullValueError);                        // but row 1 has a null
}

TEST(PageRows4_2_5_2, DecodeIntoStructsByName) {
    const Page page = make_page(three_rows(), 3, specs3());
    std::vector<Person> people;
    page.decode_into(people);
    ASSERT_EQ(people.size(), 3u);
    EXPECT_EQ(people[0].name, "alice");
    EXPECT_EQ(people[2].id, -3);
    EXPECT_EQ(people[1].score, std::nullopt);
    EXPECT_EQ(people[2].score, -7);
    page.decode_into(people);  // appends
    EXPECT_EQ(people.size(), 6u);

    std::vector<IdScore> scores;
    page.decode_into(scores);
    ASSERT_EQ(scores.size(), 3u);
    EXPECT_EQ(scores[0].id, 1);
    EXPECT_EQ(scores[0].score, 10);
    EXPECT_EQ(scores[1].score, std::nullopt);
    EXPECT_EQ(scores[2].id, -3);
    EXPECT_EQ(scores[2].score, -7);

    auto renamed = specs3();
    renamed[1].name = "full_name";
    const Page other = make_page(three_rows(), 3, renamed);
    EXPECT_THROW(other.decode_into(people), UsageError);
    auto retyped = specs3();
    retyped[0].type = T(TypeKind::int_);
    Cells c;
    c.i32(1).text("x").i32(1);
    EXPECT_THROW(make_page(c, 1, retyped).decode_into(people), TypeError);
}

TEST(PageRows4_2_5_2, ViewsOutliveTheOriginalPageObject) {
    std::string_view name;
    Page copy;
    {
        const Page page = make_page(three_rows(), 3, specs3());
        copy = page;
        name = page[2].get<std::string_view>(1);
    }
    // The buffer is shared by the copy; ASan would flag a dangling view here.
    EXPECT_EQ(name, "carol");
    EXPECT_EQ(copy[2].get<std::string_view>(1).data(), name.data());
}

// 4.2.5.2: has_more_pages is decided by the paging state, never by the row count.
TEST(PageRows4_2_5_2, PagingStateAndEmptyPages) {
    const Page page = make_page(Cells{}, 0, specs3(), Bytes{1, 2, 3});
    EXPECT_TRUE(page.empty());
    EXPECT_TRUE(page.has_more_pages());
    EXPECT_EQ(*page.paging_state(), PagingState(Bytes{1, 2, 3}));
    EXPECT_EQ(page.columns().size(), 3u);
    const Page none;
    EXPECT_EQ(none.size(), 0u);
    EXPECT_FALSE(none.has_more_pages());
    EXPECT_EQ(none.begin(), none.end());
}

// 4.2.5.2 No_metadata flag: the client supplies the columns it got from PREPARE.
TEST(PageRows4_2_5_2, NoMetadataUsesKnownColumnsAndSharesEqualOnes) {
    const Page first = make_page(three_rows(), 3, specs3());
    const Page second = make_page(three_rows(), 3, {}, std::nullopt, first.columns_ptr());
    EXPECT_EQ(second.columns_ptr(), first.columns_ptr());
    EXPECT_EQ(second[0].get<std::string_view>("name"), "alice");
    const Page third = make_page(three_rows(), 3, specs3(), std::nullopt, first.columns_ptr());
    EXPECT_EQ(third.columns_ptr(), first.columns_ptr());  // equal metadata is shared, not rebuilt
    auto changed = specs3();
    changed[2].type = T(TypeKind::bigint);
    Cells c;
    c.i64(1).text("a").i64(2);
    const Page fourth = make_page(c, 1, changed, std::nullopt, first.columns_ptr());
    EXPECT_NE(fourth.columns_ptr(), first.columns_ptr());
    EXPECT_THROW(make_page(three_rows(), 3, {}), UsageError);
}

TEST(PageRows4_2_5_2, MalformedBodiesAreProtocolErrors) {
    Cells truncated_len;
    truncated_len.i64(1).text("a").raw({0, 0});
    EXPECT_EQ(error_of([&] { make_page(truncated_len, 1, specs3()); }), ProtocolErrc::truncated);
    Cells truncated_data;
    truncated_data.i64(1).raw({0, 0, 0, 9, 'a'});
    EXPECT_EQ(error_of([&] { make_page(truncated_data, 1, {specs3()[0], specs3()[1]}); }),
              ProtocolErrc::truncated);
    Cells unset_cell;
    unset_cell.i64(1).raw({0xFF, 0xFF, 0xFF, 0xFE}).i32(1);
    EXPECT_EQ(error_of([&] { make_page(unset_cell, 1, specs3()); }), ProtocolErrc::invalid_length);
    Cells negative;
    negative.i64(1).raw({0x80, 0, 0, 0}).i32(1);
    EXPECT_EQ(error_of([&] { make_page(negative, 1, specs3()); }), ProtocolErrc::invalid_length);
    Cells trailing = three_rows();
    trailing.raw({0});
    EXPECT_EQ(error_of([&] { make_page(trailing, 3, specs3()); }), ProtocolErrc::trailing_bytes);
    Cells bad_int;
    bad_int.i64(1).text("a").raw({0, 0, 0, 3, 1, 2, 3});
    EXPECT_EQ(error_of([&] { make_page(bad_int, 1, specs3()); }), ProtocolErrc::invalid_length);
    EXPECT_EQ(error_of([&] { make_page(three_rows(), -1, specs3()); }), ProtocolErrc::invalid_length);
    EXPECT_EQ(error_of([&] { make_page(three_rows(), 0x7FFFFFFF, specs3()); }), ProtocolErrc::truncated);
    EXPECT_EQ(error_of([&] { make_page(three_rows(), 4, specs3()); }), ProtocolErrc::truncated);
    EXPECT_EQ(error_of([&] { make_page(three_rows(), 2, specs3()); }), ProtocolErrc::trailing_bytes);
}

TEST(PageRows4_2_5_2, EmptyFixedSizeCellIsAcceptedAndReadsAsNull) {
    Cells c;
    c.raw({0, 0, 0, 0}).text("x").i32(5);
    const Page page = make_page(c, 1, specs3());
    EXPECT_FALSE(page[0].is_null(0));
    EXPECT_EQ(page[0].get<std::optional<std::int64_t>>(0), std::nullopt);
    EXPECT_THROW(page[0].get<std::int64_t>(0), NullValueError);
}

TEST(PageRows4_2_5_2, RowsContentMustLieInTheBody) {
    auto body = std::make_shared<Bytes>(Bytes{0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1});
    Bytes elsewhere = *body;
    protocol::RowsResult r;
    r.metadata.column_count = 1;
    r.metadata.columns = {specs3()[0]};
    r.row_count = 1;
    r.rows_content = BytesView(elsewhere);
    EXPECT_THROW(protocol::page_from_rows(body, r), UsageError);
    r.rows_content = BytesView(*body);
    EXPECT_EQ(protocol::page_from_rows(body, r)[0].get<std::int64_t>(0), 1);
}

// The full path: a RESULT body (4.2.5, kind Rows) decoded by the message layer, then paged.
TEST(PageRows4_2_5_2, FromDecodedResultBody) {
    protocol::RowsResult r;
    r.metadata.column_count = 3;
    r.metadata.columns = specs3();
    r.metadata.paging_state = Bytes{9};
    r.row_count = 3;
    const Cells cells = three_rows();
    r.rows_content = BytesView(cells.bytes);
    auto body = std::make_shared<Bytes>();
    protocol::ByteWriter w(*body);
    protocol::encode_response(w, protocol::Response(protocol::ResultResponse(r)), protocol::ProtocolVersion::v5);
    auto decoded = protocol::decode_response(protocol::Opcode::result, *body, protocol::ProtocolVersion::v5);
    auto& rows = std::get<protocol::RowsResult>(std::get<protocol::ResultResponse>(decoded));
    const Page page = protocol::page_from_rows(body, std::move(rows));
    EXPECT_EQ(page.size(), 3u);
    EXPECT_TRUE(page.has_more_pages());
    EXPECT_EQ(page[2].get<std::string_view>("name"), "carol");
    EXPECT_EQ(page[0].to_json(1), "\"alice\"");
    EXPECT_EQ(page[1].to_cql_literal(2), "null");
}

// Rows wider than the walk's inline segment tables (32 columns): the tables move to the heap and
// every cell is still checked, fixed-size runs longer than one segment's checks included.
TEST(PageRows4_2_5_2, WideRowsBeyondTheInlineSegmentTables) {
    for (const std::size_t width : {31u, 32u, 33u, 70u}) {
        SCOPED_TRACE(width);
        std::vector<protocol::ColumnSpec> specs;
        for (std::size_t c = 0; c < width; ++c)
            specs.push_back({"ks", "t", "c" + std::to_string(c), T(c % 7 == 6 ? TypeKind::varchar : TypeKind::int_)});
        Cells cells;
        for (int row = 0; row < 2; ++row)
            for (std::size_t c = 0; c < width; ++c) {
                if (c % 7 == 6) cells.text(std::string(c % 5, 'v'));
                else cells.i32(static_cast<std::int32_t>(row * 1000 + c));
            }
        const Page page = make_page(cells, 2, specs);
        ASSERT_EQ(page.size(), 2u);
        std::size_t last_int = width - 1;
        while (last_int % 7 == 6) --last_int;
        EXPECT_EQ(page[1].get<std::int32_t>(last_int), static_cast<std::int32_t>(1000 + last_int));
        EXPECT_EQ(page[1].get<std::string_view>(6), "v");
        // One fixed-size cell of the wrong size in the last column: refused.
        Cells bad = cells;
        bad.bytes.resize(bad.bytes.size() - 8);
        bad.raw({0, 0, 0, 3, 1, 2, 3});
        if ((width - 1) % 7 != 6) {
            EXPECT_EQ(error_of([&] { make_page(bad, 2, specs); }), ProtocolErrc::invalid_length);
        }
    }
}

// Pages of more than a few rows take the walk's fast path, a few rows the cell-by-cell walk
// (tests/fuzz/fuzz_rows.cpp compares the two on any input): the same values and the same errors.
TEST(PageRows4_2_5_2, FewAndManyRowsWalkTheSame) {
    for (const int copies : {1, 2, 3, 7}) {  // 3 to 21 rows
        SCOPED_TRACE(copies);
        const Cells one = three_rows();
        Cells cells;
        for (int i = 0; i < copies; ++i) cells.bytes.insert(cells.bytes.end(), one.bytes.begin(), one.bytes.end());
        const int rows = 3 * copies;
        const Page page = make_page(cells, rows, specs3());
        ASSERT_EQ(page.size(), static_cast<std::size_t>(rows));
        EXPECT_EQ(page[static_cast<std::size_t>(rows - 1)].get<std::string_view>("name"), "carol");
        EXPECT_EQ(page[static_cast<std::size_t>(rows - 2)].get<std::optional<std::int32_t>>("score"), std::nullopt);
        EXPECT_EQ(page[static_cast<std::size_t>(rows - 3)].get<std::int32_t>("score"), 10);

        Cells bad_int = cells;  // the last row's int cell of 3 bytes
        bad_int.bytes.resize(bad_int.bytes.size() - 8);
        bad_int.raw({0, 0, 0, 3, 1, 2, 3});
        EXPECT_EQ(error_of([&] { make_page(bad_int, rows, specs3()); }), ProtocolErrc::invalid_length);
        Cells truncated = cells;
        truncated.bytes.resize(truncated.bytes.size() - 2);
        EXPECT_EQ(error_of([&] { make_page(truncated, rows, specs3()); }), ProtocolErrc::truncated);
        Cells trailing = cells;
        trailing.raw({0});
        EXPECT_EQ(error_of([&] { make_page(trailing, rows, specs3()); }), ProtocolErrc::trailing_bytes);
    }
}
