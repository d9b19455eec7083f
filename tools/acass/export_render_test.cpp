// Tests of RowRenderer (export_render.hpp) without a server: its CSV and JSON lines text must be
// byte for byte the text of the reference functions (value_text + append_csv_field, to_json) for
// every CQL type, NULLs, empty values, values needing quotes or escapes, in several CSV dialects;
// write_shortest_double must give std::to_chars' text for millions of doubles of every shape.
// Usage: acass_export_render_test   (exit status 0 when every check passes)
#include "export_render.hpp"
#include "test_checks.hpp"
#include "support/rows_builder.hpp"

#include "formats.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/text_codec.hpp>
#include <async_cassandra/value_text.hpp>

#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ac = async_cassandra;
using ac::DataType;
using ac::DataTypePtr;
using ac::TypeKind;
using ac::protocol::Bytes;
using acass_cli::CsvDialect;
using acass_cli::RowRenderer;
using acass_cli::TextBuffer;
using acass_cli::TextStyle;

namespace {

using acass_test::g_checks;
using acass_test::g_failures;

void check_equal(const std::string& what, const std::string& got, const std::string& expected) {
    ++g_checks;
    if (got == expected) return;
    ++g_failures;
    if (g_failures > 20) return;
    std::fprintf(stderr, "%s:\n  got      %s\n  expected %s\n", what.c_str(), got.c_str(), expected.c_str());
}

// ---------------------------------------------------------------- doubles

std::string reference_double(double v) {
    char buf[64];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

std::string fast_double(double v) {
    char buf[64];
    return std::string(buf, acass_cli::write_shortest_double(buf, v));
}

void check_double(double v) {
    const std::string got = fast_double(v), expected = reference_double(v);
    ++g_checks;
    if (got == expected) return;
    ++g_failures;
    if (g_failures <= 20)
        std::fprintf(stderr, "double %a: got %s, std::to_chars %s\n", v, got.c_str(), expected.c_str());
}

void test_doubles() {
    // Fixed or scientific, whichever is shorter (fixed on a tie), as std::to_chars chooses.
    check_equal("1e5", fast_double(1e5), "1e+05");
    check_equal("12345.5", fast_double(12345.5), "12345.5");
    check_equal("1e-05", fast_double(0.00001), "1e-05");
    check_equal("1e-04", fast_double(0.0001), "1e-04");
    check_equal("0.001", fast_double(0.001), "0.001");  // a tie: fixed
    check_equal("-0", fast_double(-0.0), "-0");
    check_equal("0", fast_double(0.0), "0");
    check_equal("0.1", fast_double(0.1), "0.1");
    check_equal("0.30000000000000004", fast_double(0.1 + 0.2), "0.30000000000000004");
    check_equal("1e+22", fast_double(1e22), "1e+22");
    check_equal("123456789012345", fast_double(123456789012345.0), "123456789012345");
    for (double v : {0.0, -0.0, 1.0, -1.0, 0.5, 0.25, 0.125, 1.5, 2.5, 10.0, 100.0, 1000.0, 1e4, 1e5, 1e6, 1e15, 1e16,
                     1e17, 1e21, 1e22, 1e23, 1e100, 1e300, 1e-300, 1.7976931348623157e308, 2.2250738585072014e-308,
                     4.9406564584124654e-324, 9007199254740992.0, 9007199254740993.0, 999999999999999.0,
                     1000000000000000.0, 0.000244140625, 3.141592653589793, -123.456, 6172.5, 495.0, 1e-7, 1.25e-5})
        check_double(v);
    for (int e = -30; e <= 30; ++e) {
        check_double(std::pow(10.0, e));
        check_double(-std::pow(10.0, e));
        check_double(std::ldexp(1.0, e));
        check_double(std::ldexp(3.0, e));
    }
    std::mt19937_64 rng(16);
    for (int i = 0; i < 400000; ++i) {
        // Random bits: every exponent, mostly more than 15 digits (std::to_chars' own path).
        check_double(std::bit_cast<double>(rng()));
        // m * 2^e with a short mantissa: exact decimals of up to ~15 digits, both notations.
        const auto m = static_cast<double>(rng() >> (11 + rng() % 53));
        check_double(std::ldexp(m, static_cast<int>(rng() % 120) - 80));
        check_double(-std::ldexp(m, static_cast<int>(rng() % 40) - 20));
        // Decimal-looking values (prices, halves): n / 10^k, n * 10^k.
        const auto n = static_cast<double>(rng() % 100000000);
        check_double(n / std::pow(10.0, static_cast<int>(rng() % 12)));
        check_double(n * std::pow(10.0, static_cast<int>(rng() % 12)));
        check_double(static_cast<double>(rng() % 20000) * 0.5 + static_cast<double>(rng() % 100));
    }
}

// ---------------------------------------------------------------- pages of every type

struct TestColumn {
    std::string name;
    DataTypePtr type;
    std::vector<std::optional<Bytes>> values;  ///< cycled through the rows; nullopt = NULL
};

Bytes bytes_of(const DataType& type, const std::string& literal) {
    auto value = ac::from_cql_literal(type, literal);
    return value ? Bytes(value->begin(), value->end()) : Bytes{};
}

Bytes raw_bytes(std::initializer_list<std::uint8_t> b) { return Bytes(b); }

Bytes be64(std::uint64_t v) {
    Bytes b(8);
    for (int i = 7; i >= 0; --i, v >>= 8) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    return b;
}

Bytes be32(std::uint32_t v) {
    Bytes b(4);
    for (int i = 3; i >= 0; --i, v >>= 8) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    return b;
}

TestColumn column(const std::string& name, DataTypePtr type, const std::vector<std::string>& literals,
                  std::vector<Bytes> raw = {}) {
    TestColumn c{name, type, {}};
    for (const auto& literal : literals) c.values.emplace_back(bytes_of(*type, literal));
    for (auto& r : raw) c.values.emplace_back(std::move(r));
    c.values.emplace_back(std::nullopt);
    return c;
}

std::vector<TestColumn> every_type() {
    const auto s = [](TypeKind k) { return DataType::simple(k); };
    const std::vector<std::string> texts = {"''", "'plain'", "'comma, here'", "'quote\"d'", "'new\nline'",
                                            "'cr\rx'", "'tab\tx'", "'back\\slash'", "'ünïcödé ✓'", "'null'",
                                            "'NULL'", "'0'", "'a''b'", "'-'", "'exactly8'", "'sixteen chars!!'",
                                            "'seventeen chars!!'", "'a long text with a comma near its end, ok'",
                                            "'ctl\x01'", "'x'", "'xy'", "'xyz'", "'semi;colon'", "'1970'",
                                            "'true'"};
    std::vector<std::string> doubles = {"0", "-0.0", "1.5", "0.1", "100000", "0.00001", "123456.789", "NaN",
                                        "Infinity", "-Infinity", "1e300", "5e-324", "1.7976931348623157E308",
                                        "0.30000000000000004", "6172.5", "-12.25", "1e15", "1e16"};
    std::vector<TestColumn> c;
    c.push_back(column("i", s(TypeKind::int_), {"0", "-1", "2147483647", "-2147483648", "42"}, {Bytes{}}));
    c.push_back(column("bi", s(TypeKind::bigint),
                       {"9223372036854775807", "-9223372036854775808", "0", "1700", "-1", "9", "10", "99", "100",
                        "999999999999999999", "1000000000000000000", "-1000000000000000000", "12345678901"},
                       {Bytes{}}));
    c.push_back(column("si", s(TypeKind::smallint), {"32767", "-32768", "7"}));
    c.push_back(column("ti", s(TypeKind::tinyint), {"127", "-128", "0"}));
    c.push_back(column("co", s(TypeKind::counter), {"5", "-5"}));
    c.push_back(column("t", s(TypeKind::varchar), texts));
    c.push_back(column("a", s(TypeKind::ascii), {"'ascii'", "''", "'a,b'"}));
    c.push_back(column("d", s(TypeKind::double_), doubles, {Bytes{}}));
    c.push_back(column("f", s(TypeKind::float_), {"0", "-0.0", "1.5", "0.1", "3.4028235E38", "NaN", "-Infinity", "1e-45"}));
    c.push_back(column("bo", s(TypeKind::boolean), {"true", "false"}, {raw_bytes({2})}));
    c.push_back(column("ts", s(TypeKind::timestamp),
                       {"'1970-01-01T00:00:00.000Z'", "'1969-12-31T23:59:59.999Z'", "'2023-11-14T22:13:20.007Z'",
                        "'0001-01-01T00:00:00.000Z'", "'9999-12-31T23:59:59.999Z'", "'1600-02-29T12:00:00.500Z'"},
                       {be64(253402300800000ull), be64(static_cast<std::uint64_t>(-62167219200001LL)),
                        be64(0x8000000000000000ull), be64(0x7FFFFFFFFFFFFFFFull), Bytes{}}));
    c.push_back(column("da", s(TypeKind::date), {"'1970-01-01'", "'2024-02-29'", "'0001-01-01'", "'9999-12-31'"},
                       {be32(0), be32(0xFFFFFFFFu), be32(0x80000000u - 719529u), Bytes{}}));
    c.push_back(column("u", s(TypeKind::uuid), {"123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000"}));
    c.push_back(column("tu", s(TypeKind::timeuuid), {"50554d6e-29bb-11e5-b345-feff819cdc9f"}));
    c.push_back(column("bl", s(TypeKind::blob), {"0xcafe", "0x"}));
    c.push_back(column("ip", s(TypeKind::inet), {"'192.168.0.1'", "'::1'"}));
    c.push_back(column("tm", s(TypeKind::time), {"'13:14:15.123456789'", "'00:00:00'"}));
    c.push_back(column("de", s(TypeKind::decimal), {"123.456", "-0.001"}));
    c.push_back(column("vi", s(TypeKind::varint), {"-123456789012345678901234567890", "0"}));
    c.push_back(column("du", s(TypeKind::duration), {"1y2mo3d4h5m6s7ms8us9ns", "-3d"}));
    c.push_back(column("l", DataType::list_of(s(TypeKind::varchar)), {"['x', 'y, z']", "[]", "['', '\"', 'a''b']"}));
    c.push_back(column("st", DataType::set_of(s(TypeKind::int_)), {"{3, 1, 2}", "{}"}));
    c.push_back(column("m", DataType::map_of(s(TypeKind::varchar), s(TypeKind::int_)), {"{'k1': 1, 'k,2': 2}", "{}"}));
    c.push_back(column("tp", DataType::tuple_of({s(TypeKind::int_), s(TypeKind::varchar)}), {"(7, 'seven')", "(null, '')"}));
    c.push_back(column("Quoted \"Name\"", s(TypeKind::timestamp), {"'2001-02-03T04:05:06.789Z'"}));
    return c;
}

ac::Page make_page(const std::vector<TestColumn>& cols, int rows) {
    std::vector<ac::protocol::ColumnSpec> specs;
    for (const auto& c : cols) specs.push_back({"ks", "t", c.name, c.type});
    auto body = std::make_shared<Bytes>();
    ac::protocol::ByteWriter w(*body);
    for (int r = 0; r < rows; ++r)
        for (std::size_t i = 0; i < cols.size(); ++i) {
            const auto& values = cols[i].values;
            const auto& v = values[(static_cast<std::size_t>(r) + i) % values.size()];
            if (!v) {
                w.write_null_bytes();
                continue;
            }
            w.write_i32(static_cast<std::int32_t>(v->size()));
            w.write_raw(ac::protocol::BytesView(*v));
        }
    return acass_test::page_of_cells(body, std::move(specs), rows);
}

// What export wrote before RowRenderer: value_text + append_csv_field per cell.
std::string reference_csv(const ac::Page& page, const CsvDialect& dialect) {
    std::string out;
    for (const ac::Row row : page) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i) out += dialect.delimiter;
            if (auto text = acass_cli::value_text(*row.columns()[i].type, row.raw(i)))
                acass_cli::append_csv_field(out, *text, dialect);
            else
                out += dialect.null_string;
        }
        out += '\n';
    }
    return out;
}

// Row::to_json's text in one object per line.
std::string reference_jsonl(const ac::Page& page) {
    std::string out;
    for (const ac::Row row : page) {
        out += '{';
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i) out += ", ";
            ac::append_json_string(out, row.columns()[i].name);
            out += ": ";
            out += row.to_json(i);
        }
        out += "}\n";
    }
    return out;
}

std::string render(TextStyle style, const CsvDialect& dialect, const ac::Page& page) {
    RowRenderer renderer(style, dialect);
    TextBuffer out;
    CHECK(renderer.append_rows(out, page, 0, page.size()) == page.size());
    return std::string(out.view());
}

void test_every_type() {
    const auto cols = every_type();
    std::size_t longest = 0;
    for (const auto& c : cols) longest = std::max(longest, c.values.size());
    const ac::Page page = make_page(cols, static_cast<int>(longest * 3));

    std::vector<CsvDialect> dialects(7);
    dialects[1].delimiter = ';';
    dialects[2].delimiter = '\t';
    dialects[2].quote = '\'';
    dialects[2].escape = '\\';
    dialects[3].null_string = "NULL";
    dialects[4].null_string = "0";  // a zero, "0" text and a zero double must then be quoted
    dialects[5].delimiter = '-';    // dates, timestamps and negative numbers must then be quoted
    dialects[6].delimiter = '.';
    dialects[6].null_string = "true";
    for (std::size_t d = 0; d < dialects.size(); ++d)
        check_equal("CSV, dialect " + std::to_string(d), render(TextStyle::csv, dialects[d], page),
                    reference_csv(page, dialects[d]));
    check_equal("JSON lines", render(TextStyle::jsonl, {}, page), reference_jsonl(page));

    // Row by row (acass query, append_json_row) gives the same text.
    RowRenderer csv(TextStyle::csv);
    TextBuffer rows;
    for (const ac::Row row : page) csv.append_row(rows, row);
    check_equal("CSV row by row", std::string(rows.view()), reference_csv(page, {}));
    std::string json;
    for (const ac::Row row : page) acass_cli::append_json_row(json, row);
    check_equal("append_json_row", json, reference_jsonl(page));

    // Some cells spelled out, so that the reference itself is pinned too.
    const std::string text = render(TextStyle::csv, {}, page);
    CHECK(text.find(",\"comma, here\",") != std::string::npos);
    CHECK(text.find(",1969-12-31T23:59:59.999Z,") != std::string::npos);
    CHECK(text.find(",1e+05,") != std::string::npos);
    CHECK(text.find(",-0,") != std::string::npos);
    CHECK(text.find(",NaN,") != std::string::npos);
    CHECK(text.find(",-Infinity,") != std::string::npos);
    CHECK(text.find(",+10000-01-01T00:00:00.000Z,") != std::string::npos);
    const std::string jsonl = render(TextStyle::jsonl, {}, page);
    CHECK(jsonl.find("\"d\": \"NaN\"") != std::string::npos);
    CHECK(jsonl.find("\"t\": \"new\\nline\"") != std::string::npos);
    CHECK(jsonl.find("\"t\": \"ctl\\u0001\"") != std::string::npos);
    CHECK(jsonl.find("\"i\": null") != std::string::npos);
}

// Pages whose metadata changes (v5): the plan follows the columns; a stop size cuts the page.
void test_plan_changes_and_stops() {
    const auto s = [](TypeKind k) { return DataType::simple(k); };
    const std::vector<TestColumn> first = {column("a", s(TypeKind::int_), {"1", "2"}), column("b", s(TypeKind::varchar), {"'x'"})};
    const std::vector<TestColumn> second = {column("a", s(TypeKind::varchar), {"'1'", "'q\"'"}),
                                            column("b", s(TypeKind::double_), {"2.5"})};
    RowRenderer renderer(TextStyle::csv);
    TextBuffer out;
    const ac::Page p1 = make_page(first, 5), p2 = make_page(second, 5);
    renderer.append_rows(out, p1, 0, p1.size());
    renderer.append_rows(out, p2, 0, p2.size());
    check_equal("metadata change", std::string(out.view()), reference_csv(p1, {}) + reference_csv(p2, {}));

    out.clear();
    const std::size_t next = renderer.append_rows(out, p1, 1, p1.size(), 1);
    CHECK(next == 2);  // one row, then the stop size was reached
    check_equal("stop after a row", std::string(out.view()), "2,x\n");
}

// A value larger than the buffer: the buffer grows to it once, not by doublings past it, with
// room for the newline after it (sized exactly for the value, that byte doubled the buffer and
// copied the value: cli.large_value's export at 3x the value instead of 2x).
void test_large_value() {
    TestColumn big{"v", DataType::simple(TypeKind::varchar), {}};
    big.values.emplace_back(Bytes(3 << 20, 'a'));
    const ac::Page page = make_page({big}, 1);
    RowRenderer renderer(TextStyle::csv);
    TextBuffer out;
    out.append("header\n");
    renderer.append_rows(out, page, 0, 1);
    CHECK(out.size() == 7 + (3u << 20) + 1);
    CHECK(out.capacity() < 2 * out.size());
    CHECK(out.capacity() < out.size() + (1u << 20));
}

// Large text values go to the sink straight from the page, in order with the rest of the text.
void test_large_values_passed_through() {
    const auto cols = every_type();
    const ac::Page page = make_page(cols, 40);
    for (const TextStyle style : {TextStyle::csv, TextStyle::jsonl}) {
        RowRenderer renderer(style);
        std::string passed;
        int calls = 0;
        renderer.pass_large_values_to(
            [&](std::string_view text) {
                passed += text;
                ++calls;
            },
            12);
        TextBuffer out;
        renderer.append_rows(out, page, 0, page.size());
        passed += out.view();
        CHECK(calls > 0);
        check_equal(style == TextStyle::csv ? "CSV, large values passed" : "JSON lines, large values passed", passed,
                    style == TextStyle::csv ? reference_csv(page, {}) : reference_jsonl(page));
    }
}

}  // namespace

int main() {
    test_doubles();
    test_every_type();
    test_plan_changes_and_stops();
    test_large_value();
    test_large_values_passed_through();
    std::printf("%d checks, %d failures\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
