// Tests of ParquetWriter without a server: the Thrift compact encoding byte by byte, the file
// layout (magic, footer length), row groups cut by rows and by bytes, and resume (a writer
// reopened from resume_state() cuts off what came after the last row group and continues).
// The files are left in the scratch directory with the expected rows as JSON lines, for the
// independent readers (tests/parquet/check.mjs, ctest parquet.writer_files).
// Usage: acass_parquet_writer_test DIR   (exit status 0 when every check passes)
#include "errors.hpp"
#include "test_checks.hpp"
#include "support/rows_builder.hpp"
#include "formats.hpp"
#include "parquet_thrift.hpp"
#include "parquet_writer.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/row.hpp>

#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ac = async_cassandra;
using ac::DataType;
using ac::TypeKind;
using ac::protocol::Bytes;
using acass_cli::ParquetOptions;
using acass_cli::ParquetWriter;

namespace {

using acass_test::g_checks;
using acass_test::g_failures;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<ac::protocol::ColumnSpec> columns() {
    return {
        {"ks", "t", "id", DataType::simple(TypeKind::int_)},
        {"ks", "t", "name", DataType::simple(TypeKind::varchar)},
        {"ks", "t", "big", DataType::simple(TypeKind::bigint)},
        {"ks", "t", "flag", DataType::simple(TypeKind::boolean)},
        {"ks", "t", "ratio", DataType::simple(TypeKind::double_)},
        {"ks", "t", "tags", DataType::list_of(DataType::simple(TypeKind::varchar))},
    };
}

// Rows first..first+count-1; every 7th row has nulls in every column but id.
ac::Page make_page(int first, int count) {
    const auto cols = columns();
    auto body = std::make_shared<Bytes>();
    ac::protocol::ByteWriter w(*body);
    for (int i = first; i < first + count; ++i) {
        ac::encode_value(w, *cols[0].type, std::int32_t{i});
        if (i % 7 == 0) {
            for (int c = 1; c < 6; ++c) w.write_null_bytes();
            continue;
        }
        ac::encode_value(w, *cols[1].type, "name " + std::to_string(i) + std::string(i % 5, 'x'));
        ac::encode_value(w, *cols[2].type, static_cast<std::int64_t>(i) * std::int64_t{1000000007} - std::int64_t{5000000000});
        ac::encode_value(w, *cols[3].type, i % 2 == 0);
        ac::encode_value(w, *cols[4].type, i / 4.0);
        ac::encode_value(w, *cols[5].type, std::vector<std::string>{"t" + std::to_string(i % 3), "u"});
    }
    return acass_test::page_of_cells(body, cols, count);
}

void append_expected(std::string& jsonl, const ac::Page& page) {
    for (const ac::Row row : page) acass_cli::append_json_row(jsonl, row);
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// Footer checks: "PAR1" at both ends, the footer length inside the file.
void check_layout(const std::string& path) {
    const std::string bytes = read_file(path);
    CHECK(bytes.size() > 12);
    CHECK(bytes.compare(0, 4, "PAR1") == 0);
    CHECK(bytes.compare(bytes.size() - 4, 4, "PAR1") == 0);
    std::uint32_t footer = 0;
    std::memcpy(&footer, bytes.data() + bytes.size() - 8, 4);
    CHECK(footer > 0 && footer <= bytes.size() - 12);
}

void test_thrift_encoding(const std::string&) {
    acass_cli::parquet::ThriftWriter w;
    w.field_i32(1, 3);          // delta 1, type i32 (5): 0x15, zigzag(3) = 6
    w.field_i64(3, -1);         // delta 2, type i64 (6): 0x26, zigzag(-1) = 1
    w.field_binary(20, "ab");   // delta 17 > 15: type byte 0x08, zigzag(20) = 40, len 2
    w.field_bool(21, true);     // delta 1, true (1): 0x11
    w.begin_struct_field(22);   // 0x1c, nested ids restart at 0
    w.field_i32(1, 300);        // 0x15, zigzag(300) = 600 = 0xd8 0x04
    w.end_struct();             // 0x00
    w.begin_list_field(23, acass_cli::parquet::ThriftWriter::kI32, 16);  // 0x19, 0xf5, 16
    w.end_struct();
    const std::string want("\x15\x06\x26\x01\x08\x28\x02" "ab" "\x11\x1c\x15\xd8\x04\x00\x19\xf5\x10\x00", 19);
    CHECK(w.bytes() == want);
}

// Row groups by row count, several pages per column, then a clean close.
void test_row_groups_by_rows(const std::string& dir) {
    ParquetOptions options;
    options.row_group_rows = 100;
    options.page_bytes = 512;  // several pages per chunk
    std::string expected;
    {
        ParquetWriter writer(dir + "/groups.parquet", *ac::protocol::columns_from_specs(columns()), options);
        for (int first = 0; first < 350; first += 50) {
            const ac::Page page = make_page(first, 50);
            append_expected(expected, page);
            writer.write_page(page);
            // A row group is written only between pages, once 100 rows are buffered.
            CHECK(writer.committed_rows() == (first + 50) / 100 * 100);
        }
        CHECK(writer.buffered_bytes() > 0);
        writer.close();
        CHECK(writer.committed_rows() == 350);
    }
    write_text(dir + "/groups.jsonl", expected);
    check_layout(dir + "/groups.parquet");
}

// Row groups by size: the buffer never grows much beyond the limit.
void test_row_groups_by_bytes(const std::string& dir) {
    ParquetOptions options;
    options.row_group_bytes = 4096;
    options.page_bytes = 1024;
    options.compression = ParquetOptions::Compression::none;
    std::string expected;
    ParquetWriter writer(dir + "/bysize.parquet", *ac::protocol::columns_from_specs(columns()), options);
    std::int64_t peak = 0;
    for (int first = 0; first < 2000; first += 20) {
        const ac::Page page = make_page(first, 20);
        append_expected(expected, page);
        writer.write_page(page);
        peak = std::max(peak, writer.buffered_bytes());
    }
    writer.close();
    CHECK(peak < 4096);  // after each page: flushed once over the limit
    CHECK(writer.committed_rows() == 2000);
    write_text(dir + "/bysize.jsonl", expected);
    check_layout(dir + "/bysize.parquet");
}

// A crash after two row groups and some buffered rows: the resumed writer cuts the file after
// the second row group, and the rows written again after it are not duplicated.
void test_resume(const std::string& dir) {
    const std::string path = dir + "/resumed.parquet";
    ParquetOptions options;
    options.row_group_rows = 60;
    std::string expected;
    std::string state;
    std::int64_t committed = 0;
    {
        ParquetWriter writer(path, *ac::protocol::columns_from_specs(columns()), options);
        for (int first = 0; first < 120; first += 30) {
            const ac::Page page = make_page(first, 30);
            append_expected(expected, page);
            writer.write_page(page);
        }
        CHECK(writer.committed_rows() == 120);
        state = writer.resume_state();
        committed = writer.committed_bytes();
        writer.write_page(make_page(120, 30));  // buffered, then "killed": never committed
        writer.flush_row_group();               // ...or even written, but not recorded
    }
    CHECK(static_cast<std::int64_t>(std::filesystem::file_size(path)) > committed);
    {
        ParquetWriter writer(path, *ac::protocol::columns_from_specs(columns()), options, state);
        CHECK(static_cast<std::int64_t>(std::filesystem::file_size(path)) == committed);
        CHECK(writer.committed_rows() == 120);
        for (int first = 120; first < 200; first += 40) {
            const ac::Page page = make_page(first, 40);
            append_expected(expected, page);
            writer.write_page(page);
        }
        writer.close();
        CHECK(writer.committed_rows() == 200);
    }
    write_text(dir + "/resumed.jsonl", expected);
    check_layout(path);
    // A state that does not match the file is refused.
    bool refused = false;
    try {
        std::filesystem::resize_file(path, 10);
        ParquetWriter again(path, *ac::protocol::columns_from_specs(columns()), options, state);
    } catch (const std::exception&) {
        refused = true;
    }
    CHECK(refused);
    std::filesystem::remove(path);
    std::filesystem::remove(dir + "/resumed.jsonl");
    // Rewrite the checked copy (the file above was damaged on purpose).
    {
        ParquetWriter writer(path, *ac::protocol::columns_from_specs(columns()), options, std::nullopt);
        std::string again;
        for (int first = 0; first < 200; first += 40) {
            const ac::Page page = make_page(first, 40);
            append_expected(again, page);
            writer.write_page(page);
        }
        writer.close();
        write_text(dir + "/resumed.jsonl", again);
    }
}

// An empty export is still a valid file (schema, no row group).
void test_empty(const std::string& dir) {
    ParquetWriter writer(dir + "/empty.parquet", *ac::protocol::columns_from_specs(columns()), ParquetOptions{});
    writer.close();
    write_text(dir + "/empty.jsonl", "");
    check_layout(dir + "/empty.parquet");
}

// decimal and varint columns: DECIMAL(38, s) when the first row group holding values allows.
std::vector<ac::protocol::ColumnSpec> number_columns() {
    return {
        {"ks", "n", "id", DataType::simple(TypeKind::int_)},
        {"ks", "n", "de", DataType::simple(TypeKind::decimal)},
        {"ks", "n", "vi", DataType::simple(TypeKind::varint)},
        {"ks", "n", "lde", DataType::list_of(DataType::simple(TypeKind::decimal))},
    };
}

// One cell of a number page: a decimal/varint literal ("" = null), or raw varint bytes.
struct NumberRow {
    std::string de, vi;
    std::vector<std::string> lde;  // empty = null list
    std::vector<std::uint8_t> vi_raw;  // when set, the varint's exact bytes (redundant sign bytes)
};

ac::Page number_page(int first, const std::vector<NumberRow>& rows) {
    const auto cols = number_columns();
    auto body = std::make_shared<Bytes>();
    ac::protocol::ByteWriter w(*body);
    int id = first;
    for (const NumberRow& r : rows) {
        ac::encode_value(w, *cols[0].type, std::int32_t{id++});
        if (r.de.empty()) w.write_null_bytes();
        else ac::encode_value(w, *cols[1].type, ac::Decimal::parse(r.de));
        if (!r.vi_raw.empty()) w.write_bytes(ac::BytesView(r.vi_raw.data(), r.vi_raw.size()));
        else if (r.vi.empty()) w.write_null_bytes();
        else ac::encode_value(w, *cols[2].type, ac::Varint::parse(r.vi));
        if (r.lde.empty()) {
            w.write_null_bytes();
        } else {
            std::vector<ac::Decimal> list;
            for (const std::string& d : r.lde) list.push_back(ac::Decimal::parse(d));
            ac::encode_value(w, *cols[3].type, list);
        }
    }
    return acass_test::page_of_cells(body, cols, static_cast<std::int32_t>(rows.size()));
}

// The rows of decimals.parquet: a first row group of scale-2 decimals, varints up to 38 digits
// (one with redundant sign bytes) and scale-1 list elements; later groups with decimals of other
// scales that fit exactly (1.5 -> 1.50, 0.1200 -> 0.12) and scale-0 list elements.
std::vector<NumberRow> number_rows(int first, int count) {
    std::vector<NumberRow> rows;
    for (int i = first; i < first + count; ++i) {
        NumberRow r;
        const std::string n = std::to_string(i);
        if (i % 5 != 4) {
            if (i < 20) r.de = (i % 2 ? "-" : "") + n + "." + std::to_string(10 + i % 90);
            else if (i % 3 == 0) r.de = n + ".5";             // scale 1 -> 2
            else if (i % 3 == 1) r.de = "-0." + n + "00";     // scale 4 with trailing zeros -> 2
            else r.de = "1" + n + "E+2";                      // scale -2 -> 2
        }
        if (i == 1) r.vi = std::string(38, '9');
        else if (i == 2) r.vi = "-" + std::string(38, '9');
        else if (i == 3) r.vi_raw = {0x00, 0x00, 0x05};      // 5 with two redundant sign bytes
        else if (i == 5) r.vi_raw = {0xff, 0xff, 0x80};      // -128, one redundant byte
        else if (i % 4 != 0) r.vi = (i % 2 ? "-" : "") + n + "000000000000000000000";
        if (i % 6 != 5) r.lde = i < 20 ? std::vector<std::string>{n + ".5", "-0.1"} : std::vector<std::string>{n, "0"};
        rows.push_back(r);
    }
    return rows;
}

std::string write_numbers(const std::string& dir, const std::string& name, const std::vector<NumberRow>& rows,
                          ParquetOptions options, const std::optional<std::string>& resume = std::nullopt) {
    ParquetWriter writer(dir + "/" + name + ".parquet", *ac::protocol::columns_from_specs(number_columns()), options, resume);
    std::string expected;
    for (std::size_t first = 0; first < rows.size(); first += 10) {
        const std::vector<NumberRow> part(rows.begin() + static_cast<std::ptrdiff_t>(first),
                                          rows.begin() + static_cast<std::ptrdiff_t>(std::min(first + 10, rows.size())));
        const ac::Page page = number_page(static_cast<int>(first), part);
        append_expected(expected, page);
        writer.write_page(page);
    }
    writer.flush_row_group();
    const std::string state = writer.resume_state();
    writer.close();
    write_text(dir + "/" + name + ".jsonl", expected);
    check_layout(dir + "/" + name + ".parquet");
    return state;
}

void test_decimals(const std::string& dir) {
    ParquetOptions options;
    options.row_group_rows = 20;
    ParquetOptions strict = options;  // --parquet-decimal decimal
    strict.decimal_strict = true;
    // DECIMAL: de at scale 2 (later values rescaled exactly), vi at 0, lde's elements at scale 1.
    const std::string state = write_numbers(dir, "decimals", number_rows(0, 60), strict);
    CHECK(state.rfind("acass-parquet-2 ", 0) == 0);
    CHECK(state.find(" -,d2r") != std::string::npos);  // id; de: DECIMAL scale 2, some rescaled
    CHECK(state.find(",d2r0,") == std::string::npos);
    CHECK(state.find(",d0r0,d1r") != std::string::npos);  // vi; lde.list.element: scale 1, rescaled
    const std::string footer = read_file(dir + "/decimals.parquet");
    CHECK(footer.find("were written at this scale exactly") != std::string::npos);  // the note

    // Text: the first row group's decimals have two scales, a varint has 39 digits.
    auto mixed = number_rows(0, 30);
    mixed[0].de = "1.5";
    mixed[6].vi = std::string(39, '1');
    write_numbers(dir, "decimals_text", mixed, options);
    const std::string text_footer = read_file(dir + "/decimals_text.parquet");
    CHECK(text_footer.find("its scale varies in the first row group holding a value") != std::string::npos);
    CHECK(text_footer.find("a value has over 38 digits") != std::string::npos);

    // --parquet-decimal text: text whatever the values.
    ParquetOptions as_text = options;
    as_text.decimal_as_text = true;
    const std::string text_state = write_numbers(dir, "decimals_forced_text", number_rows(0, 30), as_text);
    CHECK(text_state.find(" -,t,t,t") != std::string::npos);

    // --parquet-decimal decimal: a later value that no DECIMAL(38, 2) holds exactly stops the
    // writer; nothing is rounded.
    std::string refusal;
    try {
        auto rows = number_rows(0, 30);
        rows[25].de = "1.234";
        write_numbers(dir, "decimals_refused", rows, strict);
    } catch (const acass_cli::DataError& e) {  // the value, not the file: exit 9
        refusal = e.what();
    }
    CHECK(refusal.find("column de: the decimal 1.234 does not fit this file's DECIMAL(38, 2)") != std::string::npos);
    CHECK(refusal.find("--parquet-decimal auto") != std::string::npos);
    std::filesystem::remove(dir + "/decimals_refused.parquet");
    std::filesystem::remove(dir + "/decimals_refused.jsonl");

    // Resume keeps the form chosen before the crash, and refuses to switch it to text.
    options = strict;
    const std::string path = dir + "/decimals_resumed.parquet";
    std::string first_state;
    std::string expected;
    {
        ParquetWriter writer(path, *ac::protocol::columns_from_specs(number_columns()), options);
        for (int first = 0; first < 40; first += 10) {
            const ac::Page page = number_page(first, number_rows(first, 10));
            append_expected(expected, page);
            writer.write_page(page);
        }
        first_state = writer.resume_state();
    }  // "killed": no footer
    bool refused = false;
    try {
        ParquetWriter again(path, *ac::protocol::columns_from_specs(number_columns()), as_text, first_state);
    } catch (const std::exception& e) {
        refused = std::string(e.what()).find("is DECIMAL in the part already written") != std::string::npos;
    }
    CHECK(refused);
    {
        ParquetWriter writer(path, *ac::protocol::columns_from_specs(number_columns()), options, first_state);
        for (int first = 40; first < 60; first += 10) {
            const ac::Page page = number_page(first, number_rows(first, 10));
            append_expected(expected, page);
            writer.write_page(page);
        }
        writer.close();
    }
    write_text(dir + "/decimals_resumed.jsonl", expected);
    check_layout(path);

    // A resume state of the earlier format (decimal and varint were text then) continues as text.
    {
        std::ofstream(dir + "/decimals_v1.parquet", std::ios::binary) << "PAR1";
    }
    write_numbers(dir, "decimals_v1", number_rows(0, 30), options, std::string("acass-parquet-1 4 0 -"));
}

// The rows of decimals_switched.parquet: number_rows' first row group continued (decimals of
// scale 2, list elements of scale 1), then in the third row group (40..59) a decimal of scale
// 3, a varint of 39 digits and a list element of scale 2, which the DECIMALs chosen by the first
// row group cannot hold: all three leaves become text for the whole file.
std::vector<NumberRow> switching_rows(int first, int count) {
    std::vector<NumberRow> rows;
    for (int i = first; i < first + count; ++i) {
        NumberRow r = number_rows(i % 20, 1).front();
        const std::string n = std::to_string(i);
        if (!r.de.empty()) r.de = (i % 2 ? "-" : "") + n + "." + std::to_string(10 + i % 90);
        if (!r.vi.empty()) r.vi = (i % 2 ? "-" : "") + n + "000000000000000000000";
        if (!r.lde.empty()) r.lde = {n + ".5", "-0.1"};
        if (i == 47) r.de = "-12.345";
        if (i == 48) r.vi = std::string(39, '7');
        if (i == 53) r.lde = {"0.5", "7.25", "3.0"};
        rows.push_back(r);
    }
    return rows;
}

// A value that the file's DECIMAL cannot hold after row groups were written: the column becomes
// text for the whole file (the row groups so far rewritten, page by page, with and without a
// dictionary), the note says so, the export goes on; both readers read every value back
// (parquet.writer_decimal_text).
void test_decimal_switch(const std::string& dir) {
    for (const bool small_pages : {false, true}) {
        ParquetOptions options;
        options.row_group_rows = 20;
        if (small_pages) {  // several pages per chunk, PLAIN after the dictionary stopped paying
            options.page_bytes = 40;
            options.dictionary_bytes = 64;
            options.compression = ParquetOptions::Compression::none;
        }
        const std::string name = small_pages ? "decimals_switched_pages" : "decimals_switched";
        const std::string state = write_numbers(dir, name, switching_rows(0, 80), options);
        CHECK(state.find(" -,s,s,s g1") != std::string::npos);  // one rewrite for the three leaves
        const std::string bytes = read_file(dir + "/" + name + ".parquet");
        CHECK(bytes.find("acass.note.de") != std::string::npos);
        CHECK(bytes.find("switched mid-file: the decimal -12.345 has scale 3, not the scale of this file's DECIMAL(38, 2)") != std::string::npos);
        CHECK(bytes.find("the varint 777") != std::string::npos);
        CHECK(!std::filesystem::exists(dir + "/" + name + ".parquet.acass-gen0"));
        CHECK(!std::filesystem::exists(dir + "/" + name + ".parquet.acass-rewrite"));
    }

    // Killed right after the rewrite replaced the file, before the new state was saved: the
    // resumed run takes the file the old state describes back and switches again.
    const std::string path = dir + "/decimals_switch_resumed.parquet";
    ParquetOptions options;
    options.row_group_rows = 20;
    std::string expected, before_switch;
    auto write_rows = [&](ParquetWriter& writer, int from, int to) {
        for (int first = from; first < to; first += 10) {
            const ac::Page page = number_page(first, switching_rows(first, 10));
            append_expected(expected, page);
            writer.write_page(page);
        }
    };
    {
        ParquetWriter writer(path, *ac::protocol::columns_from_specs(number_columns()), options);
        write_rows(writer, 0, 40);
        before_switch = writer.resume_state();
        const std::string kept = expected;
        write_rows(writer, 40, 60);  // switches, rewrites the two row groups written
        CHECK(writer.rewrites() == 1);
        CHECK(std::filesystem::exists(path + ".acass-gen0"));  // the old file, for before_switch
        expected = kept;
    }  // "killed"
    {
        ParquetWriter writer(path, *ac::protocol::columns_from_specs(number_columns()), options, before_switch);
        CHECK(!std::filesystem::exists(path + ".acass-gen0"));  // taken back
        write_rows(writer, 40, 60);
        const std::string after_switch = writer.resume_state();
        CHECK(after_switch.find(" -,s,s,s g1") != std::string::npos);
        write_rows(writer, 60, 70);  // the state was saved: the old file goes
        CHECK(!std::filesystem::exists(path + ".acass-gen0"));
        // Killed again later: a resume from the state after the switch continues the text file.
        ParquetWriter again(path, *ac::protocol::columns_from_specs(number_columns()), options, after_switch);
        expected.resize(0);
        for (int first = 0; first < 60; first += 10) append_expected(expected, number_page(first, switching_rows(first, 10)));
        write_rows(again, 60, 80);
        again.close();
    }
    write_text(dir + "/decimals_switch_resumed.jsonl", expected);
    check_layout(path);
    const std::string bytes = read_file(path);
    CHECK(bytes.find("switched mid-file by the run this one resumes") != std::string::npos);
}

// for_each_data_page refuses what this writer never writes, with std::runtime_error.
void test_page_decoder(const std::string&) {
    int refused = 0;
    const std::string inputs[] = {std::string("\x15\x00", 2), std::string("\x15\x00\x15\x02\x15\x02\x00", 7),
                                  std::string(1, '\xff'), std::string("\x15\x00\x15\x10\x15\x10\x1c\x15\x04\x00\x00", 11)};
    for (const std::string& in : inputs) {
        try {
            acass_cli::parquet::for_each_data_page(in, ParquetOptions::Compression::none, 1, 0, [](const auto&) {});
        } catch (const std::runtime_error&) {
            ++refused;
        }
    }
    CHECK(refused == static_cast<int>(std::size(inputs)));
}

}  // namespace

// Writes rows 0..499 in pages of 25 as NAME.parquet (and NAME.jsonl for the readers); returns
// the writer's dictionary fallbacks.
std::int64_t write_500_rows(const std::string& dir, const std::string& name, const ParquetOptions& options) {
    ParquetWriter writer(dir + "/" + name + ".parquet", *ac::protocol::columns_from_specs(columns()), options);
    std::string expected;
    for (int first = 0; first < 500; first += 25) {
        const ac::Page page = make_page(first, 25);
        append_expected(expected, page);
        writer.write_page(page);
    }
    writer.close();
    write_text(dir + "/" + name + ".jsonl", expected);
    check_layout(dir + "/" + name + ".parquet");
    return writer.dictionary_fallbacks();
}

// Dictionary pages: with the default limit the names and the list elements of a chunk keep their
// dictionary; with a small limit the names outgrow it after a few pages and the rest of each
// chunk is PLAIN (both kinds of pages in one chunk; both readers read the file back:
// parquet.writer_files).
void test_dictionary(const std::string& dir) {
    ParquetOptions options;
    options.row_group_rows = 200;
    CHECK(write_500_rows(dir, "dictionary", options) == 0);
    options.page_bytes = 64;         // a page per result page (25 rows)
    options.dictionary_bytes = 600;  // about 40 names
    CHECK(write_500_rows(dir, "fallback", options) == 3);  // the names of each of the 3 row groups
}

// A new file (not a resumed one) first removes what a killed earlier run of the same path left:
// its unfinished rewrite and the files its rewrites set aside ("<file>.acass-gen<N>"), and
// nothing else in the directory: not another file's leftovers, nor names that only look alike.
void test_rewrite_leftovers(const std::string& dir) {
    const std::string sub = dir + "/leftovers";
    std::filesystem::create_directories(sub);
    const std::vector<std::string> removed = {"out.parquet.acass-rewrite", "out.parquet.acass-gen0",
                                              "out.parquet.acass-gen12"};
    const std::vector<std::string> kept = {"other.parquet.acass-gen0", "other.parquet.acass-rewrite",
                                           "out.parquet.acass-gen",     "out.parquet.acass-gen1x",
                                           "out.parquet.acass-rewrite2", "xout.parquet.acass-gen0"};
    for (const auto& names : {removed, kept})
        for (const auto& name : names) write_text(sub + "/" + name, "left over");
    {
        ParquetWriter writer(sub + "/out.parquet", *ac::protocol::columns_from_specs(columns()), ParquetOptions{});
        writer.write_page(make_page(0, 10));
        writer.close();
    }
    for (const auto& name : removed) CHECK(!std::filesystem::exists(sub + "/" + name));
    for (const auto& name : kept) CHECK(std::filesystem::exists(sub + "/" + name));
    check_layout(sub + "/out.parquet");
}

int main(int argc, char** argv) {
    const std::string dir =
        argc > 1 ? argv[1] : (std::filesystem::temp_directory_path() / "acass_parquet_writer_test").string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const acass_test::NamedTest tests[] = {
        {"thrift_encoding", test_thrift_encoding},
        {"row_groups_by_rows", test_row_groups_by_rows},
        {"row_groups_by_bytes", test_row_groups_by_bytes},
        {"resume", test_resume},
        {"empty", test_empty},
        {"dictionary", test_dictionary},
        {"decimals", test_decimals},
        {"decimal_switch", test_decimal_switch},
        {"page_decoder", test_page_decoder},
        {"rewrite_leftovers", test_rewrite_leftovers},
    };
    const bool passed = acass_test::run_tests(tests, dir);
    return passed ? 0 : 1;
}
