// Tests of AvroWriter without a server: pages are built from Rows bytes (as the wire carries
// them), written to Avro files, and read back with avro-c's own reader, value by value.
// Usage: acass_avro_writer_test [scratch directory [--keep]]   (exit status 0 when every check
// passes; the directory is removed then unless --keep is given, e.g. to read the files elsewhere)
#include "avro_writer.hpp"
#include "test_checks.hpp"
#include "support/rows_builder.hpp"
#include "errors.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/row.hpp>

#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <avro.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace ac = async_cassandra;
using ac::DataType;
using ac::DataTypePtr;
using ac::TypeKind;
using ac::protocol::Bytes;

namespace {

using acass_test::g_checks;
using acass_test::g_failures;

#define CHECK_EQ(a, b)                                                                                 \
    do {                                                                                               \
        ++g_checks;                                                                                    \
        const auto& va_ = (a);                                                                         \
        const auto& vb_ = (b);                                                                         \
        if (!(va_ == vb_)) {                                                                           \
            ++g_failures;                                                                              \
            std::fprintf(stderr, "%s:%d: check failed: %s == %s\n", __FILE__, __LINE__, #a, #b);      \
        }                                                                                              \
    } while (0)

DataTypePtr T(TypeKind k) { return DataType::simple(k); }

DataTypePtr address_type() {
    auto t = std::make_shared<DataType>();
    t->kind = TypeKind::udt;
    t->udt_keyspace = "ks";
    t->udt_name = "address";
    t->field_names = {"street", "Zip Code"};
    t->params = {T(TypeKind::varchar), T(TypeKind::int_)};
    return t;
}

struct Address {
    std::string street;
    std::optional<std::int32_t> zip;
};

// One column per CQL type (and two names that are not valid Avro names).
std::vector<ac::protocol::ColumnSpec> all_columns() {
    const auto text = T(TypeKind::varchar), i = T(TypeKind::int_);
    return {
        {"ks", "t", "c_int", i},
        {"ks", "t", "c_smallint", T(TypeKind::smallint)},
        {"ks", "t", "c_tinyint", T(TypeKind::tinyint)},
        {"ks", "t", "c_bigint", T(TypeKind::bigint)},
        {"ks", "t", "c_counter", T(TypeKind::counter)},
        {"ks", "t", "c_float", T(TypeKind::float_)},
        {"ks", "t", "c_double", T(TypeKind::double_)},
        {"ks", "t", "c_boolean", T(TypeKind::boolean)},
        {"ks", "t", "c_text", text},
        {"ks", "t", "c_ascii", T(TypeKind::ascii)},
        {"ks", "t", "c_blob", T(TypeKind::blob)},
        {"ks", "t", "c_timestamp", T(TypeKind::timestamp)},
        {"ks", "t", "c_date", T(TypeKind::date)},
        {"ks", "t", "c_time", T(TypeKind::time)},
        {"ks", "t", "c_uuid", T(TypeKind::uuid)},
        {"ks", "t", "c_timeuuid", T(TypeKind::timeuuid)},
        {"ks", "t", "c_inet", T(TypeKind::inet)},
        {"ks", "t", "c_varint", T(TypeKind::varint)},
        {"ks", "t", "c_decimal", T(TypeKind::decimal)},
        {"ks", "t", "c_duration", T(TypeKind::duration)},
        {"ks", "t", "c_list", DataType::list_of(i)},
        {"ks", "t", "c_set", DataType::set_of(text)},
        {"ks", "t", "c_map_text", DataType::map_of(text, i)},
        {"ks", "t", "c_map_int", DataType::map_of(i, text)},
        {"ks", "t", "c_tuple", DataType::tuple_of({i, text})},
        {"ks", "t", "c_udt", address_type()},
        {"ks", "t", "c_vector", DataType::vector_of(T(TypeKind::float_), 3)},
        {"ks", "t", "c_vector_text", DataType::vector_of(text, 2)},
        {"ks", "t", "c_nested", DataType::list_of(DataType::map_of(text, DataType::list_of(i)))},
        {"ks", "t", "Weird Name!", i},
        {"ks", "t", "1st", text},
    };
}

/// Appends one cell: the [value] encoding of `v` as the column's type, or null.
struct RowBuilder {
    Bytes& out;
    const std::vector<ac::protocol::ColumnSpec>& cols;
    std::size_t next = 0;

    template <class V>
    RowBuilder& add(const V& v) {
        ac::protocol::ByteWriter w(out);
        ac::encode_value(w, *cols.at(next++).type, v);
        return *this;
    }
    RowBuilder& null() {
        ac::protocol::ByteWriter w(out);
        w.write_null_bytes();
        ++next;
        return *this;
    }
};

// The first 16 columns (c_int .. c_timeuuid: the types with a primitive Avro type).
constexpr std::size_t kPrimitiveColumns = 16;

void add_primitive_cells(RowBuilder& r, bool edge) {
    r.add(edge ? std::numeric_limits<std::int32_t>::min() : std::int32_t{42});
    r.add(static_cast<std::int16_t>(edge ? -32768 : 7));
    r.add(static_cast<std::int8_t>(edge ? 127 : -3));
    r.add(edge ? std::numeric_limits<std::int64_t>::max() : std::int64_t{1} << 40);
    r.add(std::int64_t{edge ? -1 : 99});
    r.add(edge ? -0.0f : 1.5f);
    r.add(edge ? std::numeric_limits<double>::infinity() : 0.1);
    r.add(!edge);
    r.add(std::string(edge ? "" : "h\xc3\xa9llo, it's \"quoted\"\n"));
    r.add(std::string(edge ? std::string("nul\0byte", 8) : std::string("plain ascii")));
    r.add(edge ? Bytes{} : Bytes{0x00, 0xff, 0x10});
    r.add(ac::Timestamp{edge ? std::numeric_limits<std::int64_t>::min() : 1704164645678});
    r.add(edge ? ac::Date{std::numeric_limits<std::int32_t>::min()} : ac::Date::from_ymd(2024, 1, 2));
    r.add(ac::Time(edge ? ac::Time::kNanosPerDay - 1 : 3'723'000'000'123));
    r.add(ac::Uuid::parse("123e4567-e89b-12d3-a456-426614174000"));
    r.add(ac::Uuid::timeuuid_from(ac::Timestamp{1704164645678}, 7, 0x0102030405));
}

// Row 0: ordinary values; row 1: every column null; row 2: edge values.
void add_full_row(Bytes& body, const std::vector<ac::protocol::ColumnSpec>& cols, int variant) {
    RowBuilder r{body, cols};
    const bool edge = variant == 2;
    add_primitive_cells(r, edge);
    r.add(edge ? ac::Inet::parse("2001:db8::1") : ac::Inet::v4(10, 1, 2, 3));
    r.add(ac::Varint::parse(edge ? "-123456789012345678901234567890123" : "12345"));
    r.add(ac::Decimal{edge ? -5 : 3, ac::Varint(-1234)});
    r.add(edge ? ac::Duration{-14, -2, -3'000'000'001} : ac::Duration{14, 2, 3'000'000'001});
    r.add(edge ? std::vector<std::int32_t>{} : std::vector<std::int32_t>{1, 2, 3});
    r.add(std::vector<std::string>{"a", "b"});
    r.add(std::vector<std::pair<std::string, std::int32_t>>{{"x", 1}, {"y", 2}});
    r.add(std::vector<std::pair<std::int32_t, std::string>>{{5, "five"}});
    r.add(std::tuple<std::int32_t, std::optional<std::string>>{9, edge ? std::nullopt : std::optional<std::string>("nine")});
    {
        // UDT: street, "Zip Code" (null in the edge row)
        Bytes udt;
        ac::protocol::ByteWriter w(udt);
        ac::encode_value(w, *T(TypeKind::varchar), std::string("Main St"));
        if (edge) w.write_null_bytes();
        else ac::encode_value(w, *T(TypeKind::int_), std::int32_t{12345});
        ac::protocol::ByteWriter cw(body);
        cw.write_bytes(udt);
        ++r.next;
    }
    r.add(std::array<float, 3>{0.5f, -1.0f, 3.25f});
    r.add(std::vector<std::string>{"left", edge ? "" : "right"});
    r.add(std::vector<std::map<std::string, std::vector<std::int32_t>>>{{{"k", {1, 2}}, {"e", {}}}, {}});
    r.add(std::int32_t{-1});
    r.add(std::string("first"));
}

void add_null_row(Bytes& body, const std::vector<ac::protocol::ColumnSpec>& cols) {
    RowBuilder r{body, cols};
    for (std::size_t i = 0; i < cols.size(); ++i) r.null();
}

ac::Page make_page(std::vector<ac::protocol::ColumnSpec> cols, const std::function<void(Bytes&)>& rows, int count) {
    auto body = std::make_shared<Bytes>();
    rows(*body);
    return acass_test::page_of_cells(body, std::move(cols), count);
}

ac::Columns columns_of(const std::vector<ac::protocol::ColumnSpec>& specs) {
    return *ac::protocol::columns_from_specs(specs);
}

// ---------------------------------------------------------------- reading back with avro-c

struct ReadFile {
    avro_file_reader_t reader = nullptr;
    avro_schema_t schema = nullptr;
    avro_value_iface_t* iface = nullptr;
    std::vector<avro_value_t> rows;

    explicit ReadFile(const std::string& path) {
        if (avro_file_reader(path.c_str(), &reader) != 0) {
            std::fprintf(stderr, "cannot read %s: %s\n", path.c_str(), avro_strerror());
            return;
        }
        schema = avro_file_reader_get_writer_schema(reader);
        iface = avro_generic_class_from_schema(schema);
        while (true) {
            avro_value_t v;
            avro_generic_value_new(iface, &v);
            if (avro_file_reader_read_value(reader, &v) != 0) {
                avro_value_decref(&v);
                break;
            }
            rows.push_back(v);
        }
    }
    ~ReadFile() {
        for (auto& v : rows) avro_value_decref(&v);
        if (iface) avro_value_iface_decref(iface);
        if (schema) avro_schema_decref(schema);  // avro-c 1.11 hands out a reference
        if (reader) avro_file_reader_close(reader);
    }
    bool ok() const { return reader != nullptr; }
};

/// The non-null branch of a ["null", T] union, or nullopt for the null branch.
std::optional<avro_value_t> branch(avro_value_t& u) {
    int d = -1;
    if (avro_value_get_discriminant(&u, &d) != 0) return std::nullopt;
    avro_value_t b;
    avro_value_get_current_branch(&u, &b);
    if (d == 0) return std::nullopt;
    return b;
}
std::optional<avro_value_t> field(avro_value_t& rec, const char* name) {
    avro_value_t f;
    if (avro_value_get_by_name(&rec, name, &f, nullptr) != 0) {
        std::fprintf(stderr, "no field %s\n", name);
        ++g_failures;
        return std::nullopt;
    }
    return branch(f);
}
std::int32_t as_int(avro_value_t v) {
    std::int32_t x = 0;
    avro_value_get_int(&v, &x);
    return x;
}
std::int64_t as_long(avro_value_t v) {
    std::int64_t x = 0;
    avro_value_get_long(&v, &x);
    return x;
}
std::string as_string(avro_value_t v) {
    const char* s = nullptr;
    std::size_t n = 0;
    if (avro_value_get_string(&v, &s, &n) != 0 || !s) return "<not a string>";
    return std::string(s, n ? n - 1 : 0);  // avro-c counts the NUL
}
Bytes as_bytes(avro_value_t v) {
    const void* p = nullptr;
    std::size_t n = 0;
    avro_value_get_bytes(&v, &p, &n);
    const auto* b = static_cast<const std::uint8_t*>(p);
    return Bytes(b, b + n);
}
/// Two's-complement big-endian bytes of a decimal integer (a copy: CHECK_EQ keeps references).
Bytes varint_bytes(const char* text) {
    const ac::Varint v = ac::Varint::parse(text);
    return Bytes(v.bytes().begin(), v.bytes().end());
}
std::size_t size_of(avro_value_t v) {
    std::size_t n = 0;
    avro_value_get_size(&v, &n);
    return n;
}
avro_value_t at(avro_value_t v, std::size_t i, const char** name = nullptr) {
    avro_value_t e;
    avro_value_get_by_index(&v, i, &e, name);
    return e;
}

void check_full_row(avro_value_t& row, int variant) {
    const bool edge = variant == 2;
    CHECK_EQ(as_int(*field(row, "c_int")), edge ? std::numeric_limits<std::int32_t>::min() : 42);
    CHECK_EQ(as_int(*field(row, "c_smallint")), edge ? -32768 : 7);
    CHECK_EQ(as_int(*field(row, "c_tinyint")), edge ? 127 : -3);
    CHECK_EQ(as_long(*field(row, "c_bigint")), edge ? std::numeric_limits<std::int64_t>::max() : std::int64_t{1} << 40);
    CHECK_EQ(as_long(*field(row, "c_counter")), edge ? -1 : 99);
    {
        float f = 0;
        auto v = *field(row, "c_float");
        avro_value_get_float(&v, &f);
        CHECK_EQ(f, edge ? -0.0f : 1.5f);
        CHECK_EQ(std::signbit(f), edge);
    }
    {
        double d = 0;
        auto v = *field(row, "c_double");
        avro_value_get_double(&v, &d);
        CHECK_EQ(d, edge ? std::numeric_limits<double>::infinity() : 0.1);
    }
    {
        int b = -1;
        auto v = *field(row, "c_boolean");
        avro_value_get_boolean(&v, &b);
        CHECK_EQ(b, edge ? 0 : 1);
    }
    CHECK_EQ(as_string(*field(row, "c_text")), std::string(edge ? "" : "h\xc3\xa9llo, it's \"quoted\"\n"));
    CHECK_EQ(as_string(*field(row, "c_ascii")), edge ? std::string("nul\0byte", 8) : std::string("plain ascii"));
    CHECK_EQ(as_bytes(*field(row, "c_blob")), edge ? Bytes{} : (Bytes{0x00, 0xff, 0x10}));
    CHECK_EQ(as_long(*field(row, "c_timestamp")), edge ? std::numeric_limits<std::int64_t>::min() : 1704164645678);
    CHECK_EQ(as_int(*field(row, "c_date")), edge ? std::numeric_limits<std::int32_t>::min() : 19724);
    CHECK_EQ(as_long(*field(row, "c_time")), edge ? ac::Time::kNanosPerDay - 1 : 3'723'000'000'123);
    CHECK_EQ(as_string(*field(row, "c_uuid")), std::string("123e4567-e89b-12d3-a456-426614174000"));
    CHECK_EQ(as_string(*field(row, "c_timeuuid")),
             ac::Uuid::timeuuid_from(ac::Timestamp{1704164645678}, 7, 0x0102030405).to_string());
    CHECK_EQ(as_string(*field(row, "c_inet")), std::string(edge ? "2001:db8::1" : "10.1.2.3"));
    CHECK_EQ(as_string(*field(row, "c_varint")), std::string(edge ? "-123456789012345678901234567890123" : "12345"));
    // Avro decimal(38, 18): the unscaled value at scale 18, two's complement, minimal.
    CHECK_EQ(as_bytes(*field(row, "c_decimal")),
             varint_bytes(edge ? "-123400000000000000000000000" : "-1234000000000000000"));
    {
        auto d = *field(row, "c_duration");
        CHECK_EQ(as_int(at(d, 0)), edge ? -14 : 14);
        CHECK_EQ(as_int(at(d, 1)), edge ? -2 : 2);
        CHECK_EQ(as_long(at(d, 2)), edge ? -3'000'000'001 : 3'000'000'001);
    }
    {
        auto l = *field(row, "c_list");
        CHECK_EQ(size_of(l), edge ? 0u : 3u);
        if (!edge) {
            auto e = at(l, 2);
            CHECK_EQ(as_int(*branch(e)), 3);
        }
    }
    {
        auto s = *field(row, "c_set");
        CHECK_EQ(size_of(s), 2u);
        auto e = at(s, 1);
        CHECK_EQ(as_string(*branch(e)), std::string("b"));
    }
    {
        auto m = *field(row, "c_map_text");
        CHECK_EQ(size_of(m), 2u);
        avro_value_t y;
        CHECK(avro_value_get_by_name(&m, "y", &y, nullptr) == 0);
        CHECK_EQ(as_int(*branch(y)), 2);
    }
    {
        auto m = *field(row, "c_map_int");
        CHECK_EQ(size_of(m), 1u);
        auto entry = at(m, 0);
        auto k = at(entry, 0), v = at(entry, 1);
        CHECK_EQ(as_int(*branch(k)), 5);
        CHECK_EQ(as_string(*branch(v)), std::string("five"));
    }
    {
        auto t = *field(row, "c_tuple");
        auto f0 = at(t, 0), f1 = at(t, 1);
        CHECK_EQ(as_int(*branch(f0)), 9);
        CHECK_EQ(branch(f1).has_value(), !edge);
        if (!edge) CHECK_EQ(as_string(*branch(f1)), std::string("nine"));
    }
    {
        auto u = *field(row, "c_udt");
        const char* name = nullptr;
        auto street = at(u, 0);
        auto zip = at(u, 1, &name);
        CHECK_EQ(std::string(name ? name : ""), std::string("Zip_Code"));
        CHECK_EQ(as_string(*branch(street)), std::string("Main St"));
        CHECK_EQ(branch(zip).has_value(), !edge);
        if (!edge) CHECK_EQ(as_int(*branch(zip)), 12345);
    }
    {
        auto v = *field(row, "c_vector");
        CHECK_EQ(size_of(v), 3u);
        float f = 0;
        auto e = at(v, 2);
        avro_value_get_float(&e, &f);  // fixed-size elements are not unions
        CHECK_EQ(f, 3.25f);
    }
    {
        auto v = *field(row, "c_vector_text");
        CHECK_EQ(size_of(v), 2u);
        auto e = at(v, 1);
        CHECK_EQ(as_string(*branch(e)), std::string(edge ? "" : "right"));
    }
    {
        auto l = *field(row, "c_nested");
        CHECK_EQ(size_of(l), 2u);
        auto first = at(l, 0);
        auto m = *branch(first);
        CHECK_EQ(size_of(m), 2u);
        avro_value_t k;
        CHECK(avro_value_get_by_name(&m, "k", &k, nullptr) == 0);
        auto inner = *branch(k);
        CHECK_EQ(size_of(inner), 2u);
        auto second = at(l, 1);
        CHECK_EQ(size_of(*branch(second)), 0u);
    }
    CHECK_EQ(as_int(*field(row, "Weird_Name_")), -1);
    CHECK_EQ(as_string(*field(row, "_1st")), std::string("first"));
}

void check_null_row(avro_value_t& row) {
    for (const auto& c : all_columns()) {
        std::string name;
        for (char ch : c.name) name += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') ? ch : '_';
        if (std::isdigit(static_cast<unsigned char>(name[0]))) name = "_" + name;
        avro_value_t f;
        CHECK(avro_value_get_by_name(&row, name.c_str(), &f, nullptr) == 0);
        int d = -1;
        avro_value_get_discriminant(&f, &d);
        CHECK_EQ(d, 0);
    }
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// ---------------------------------------------------------------- tests

void test_every_type(const std::string& dir) {
    const auto cols = all_columns();
    const std::string path = dir + "/all.avro";
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "all types", false);
        const auto page1 = make_page(cols, [&](Bytes& b) { add_full_row(b, cols, 0), add_null_row(b, cols); }, 2);
        const auto page2 = make_page(cols, [&](Bytes& b) { add_full_row(b, cols, 2); }, 1);
        w.write_page(page1);
        w.flush();
        w.write_page(page2);
        w.close();
        // The schema as JSON parses, and carries what avro-c alone would drop.
        avro_schema_t s = nullptr;
        const std::string json = w.schema_json();
        CHECK(avro_schema_from_json_length(json.data(), json.size(), &s) == 0);
        if (s) avro_schema_decref(s);
    }
    const std::string raw = read_all(path);
    CHECK(raw.find("\"logicalType\": \"timestamp-millis\"") != std::string::npos);
    CHECK(raw.find("\"logicalType\": \"date\"") != std::string::npos);
    CHECK(raw.find("\"logicalType\": \"uuid\"") != std::string::npos);
    CHECK(raw.find(R"({"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 18)") != std::string::npos);
    CHECK(raw.find("\"cql_name\": \"Weird Name!\"") != std::string::npos);
    CHECK(raw.find("\"cql_type\": \"map<int, text>\"") != std::string::npos);
    ReadFile f(path);
    CHECK(f.ok());
    CHECK_EQ(f.rows.size(), 3u);
    if (f.rows.size() == 3) {
        check_full_row(f.rows[0], 0);
        check_null_row(f.rows[1]);
        check_full_row(f.rows[2], 2);
    }
}

// Columns of primitive Avro types are encoded by the writer itself, not through avro-c's values:
// the records read back equal those written through avro-c's values (ACASS_AVRO_GENERIC_VALUES),
// for ordinary and edge values, NULLs and empty values.
void test_primitive_rows_encoded_directly(const std::string& dir) {
    const auto all = all_columns();
    const std::vector<ac::protocol::ColumnSpec> cols(all.begin(), all.begin() + kPrimitiveColumns);
    const auto rows = [&](Bytes& b) {
        for (const bool edge : {false, true}) {
            RowBuilder r{b, cols};
            add_primitive_cells(r, edge);
        }
        add_null_row(b, cols);
        ac::protocol::ByteWriter w(b);
        for (std::size_t i = 0; i < cols.size(); ++i) w.write_i32(0);  // empty values
    };
    const auto page = make_page(cols, rows, 4);
    const auto write = [&](const std::string& path, bool generic) {
        if (generic) ::setenv("ACASS_AVRO_GENERIC_VALUES", "1", 1);
        acass_cli::AvroWriter w(path, columns_of(cols), "rows", false);
        ::unsetenv("ACASS_AVRO_GENERIC_VALUES");
        w.write_page(page);
        w.write_page(page);
        w.close();
    };
    write(dir + "/direct.avro", false);
    write(dir + "/generic.avro", true);
    ReadFile direct(dir + "/direct.avro"), generic(dir + "/generic.avro");
    CHECK(direct.ok() && generic.ok());
    CHECK_EQ(direct.rows.size(), 8u);
    CHECK_EQ(generic.rows.size(), 8u);
    for (std::size_t i = 0; i < std::min(direct.rows.size(), generic.rows.size()); ++i)
        CHECK(avro_value_equal(&direct.rows[i], &generic.rows[i]));
    if (!direct.rows.empty()) {
        int d = -1;
        CHECK_EQ(as_int(*field(direct.rows[0], "c_int")), 42);
        avro_value_t f;
        CHECK(avro_value_get_by_name(&direct.rows[3], "c_int", &f, nullptr) == 0);  // an empty int: null
        avro_value_get_discriminant(&f, &d);
        CHECK_EQ(d, 0);
        CHECK_EQ(as_string(*field(direct.rows[3], "c_text")), std::string());  // an empty text: ""
    }
}

void test_append_after_close(const std::string& dir) {
    const auto cols = all_columns();
    const std::string path = dir + "/append.avro";
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "rows", false);
        w.write_page(make_page(cols, [&](Bytes& b) { add_full_row(b, cols, 0); }, 1));
        w.flush();
    }  // destructor closes
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "rows", true);
        w.write_page(make_page(cols, [&](Bytes& b) { add_null_row(b, cols); }, 1));
        w.flush();
        w.write_page(make_page(cols, [&](Bytes& b) { add_full_row(b, cols, 2); }, 1));
        w.close();
    }
    ReadFile f(path);
    CHECK(f.ok());
    CHECK_EQ(f.rows.size(), 3u);
    if (f.rows.size() == 3) {
        check_full_row(f.rows[0], 0);
        check_null_row(f.rows[1]);
        check_full_row(f.rows[2], 2);
    }
}

// A run killed in the middle of a block leaves a partial block at the end: the resumed run
// cuts it off and the file stays readable.
void test_append_after_partial_block(const std::string& dir) {
    const auto cols = all_columns();
    const std::string path = dir + "/partial.avro";
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "rows", false);
        w.write_page(make_page(cols, [&](Bytes& b) { add_full_row(b, cols, 0); }, 1));
        w.close();
    }
    const auto good_size = std::filesystem::file_size(path);
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "rows", true);
        w.write_page(make_page(cols, [&](Bytes& b) { add_full_row(b, cols, 2); }, 1));
        w.close();
    }
    const auto full_size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, good_size + (full_size - good_size) / 2);  // half a block
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "rows", true);
        CHECK_EQ(std::filesystem::file_size(path), good_size);
        w.write_page(make_page(cols, [&](Bytes& b) { add_null_row(b, cols); }, 1));
        w.close();
    }
    ReadFile f(path);
    CHECK(f.ok());
    CHECK_EQ(f.rows.size(), 2u);
    if (f.rows.size() == 2) {
        check_full_row(f.rows[0], 0);
        check_null_row(f.rows[1]);
    }
}

void test_append_with_other_columns_fails(const std::string& dir) {
    const auto cols = all_columns();
    const std::string path = dir + "/other.avro";
    { acass_cli::AvroWriter w(path, columns_of(cols), "rows", false); }
    std::vector<ac::protocol::ColumnSpec> other = {{"ks", "t", "c_int", T(TypeKind::bigint)}};
    bool threw = false;
    try {
        acass_cli::AvroWriter w(path, columns_of(other), "rows", true);
    } catch (const std::runtime_error& e) {
        threw = std::string(e.what()).find("different columns") != std::string::npos;
    }
    CHECK(threw);
    // An empty export is still a valid file.
    ReadFile f(path);
    CHECK(f.ok());
    CHECK_EQ(f.rows.size(), 0u);
}

// Rows larger than avro-c's block buffer make the writer reopen with a bigger one.
void test_big_rows(const std::string& dir) {
    std::vector<ac::protocol::ColumnSpec> cols = {{"ks", "t", "id", T(TypeKind::int_)}, {"ks", "t", "data", T(TypeKind::blob)}};
    const std::string path = dir + "/big.avro";
    std::vector<std::size_t> sizes = {10, 300'000, 5, 2'000'000, 70'000};
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "big", false);
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            w.write_page(make_page(cols, [&](Bytes& b) {
                RowBuilder r{b, cols};
                r.add(static_cast<std::int32_t>(i));
                r.add(Bytes(sizes[i], static_cast<std::uint8_t>(i + 1)));
            }, 1));
            w.flush();
        }
        w.close();
    }
    ReadFile f(path);
    CHECK_EQ(f.rows.size(), sizes.size());
    for (std::size_t i = 0; i < f.rows.size() && i < sizes.size(); ++i) {
        CHECK_EQ(as_int(*field(f.rows[i], "id")), static_cast<std::int32_t>(i));
        const Bytes data = as_bytes(*field(f.rows[i], "data"));
        CHECK_EQ(data.size(), sizes[i]);
        CHECK(!data.empty() && data.front() == i + 1 && data.back() == i + 1);
    }
}

// Each codec the writer offers gives a readable file with the same rows; others are refused.
void test_codecs(const std::string& dir) {
    const auto cols = all_columns();
    for (const char* codec : {"null", "deflate", "snappy"}) {
        setenv("ACASS_AVRO_CODEC", codec, 1);
        const std::string path = dir + "/codec_" + codec + ".avro";
        {
            acass_cli::AvroWriter w(path, columns_of(cols), "rows", false);
            w.write_page(make_page(cols, [&](Bytes& b) { add_full_row(b, cols, 0), add_full_row(b, cols, 2); }, 2));
            w.close();
        }
        const std::string raw = read_all(path);
        CHECK(raw.find(std::string("avro.codec") + static_cast<char>(2 * std::strlen(codec)) + codec) != std::string::npos);
        ReadFile f(path);
        CHECK_EQ(f.rows.size(), 2u);
        if (f.rows.size() == 2) {
            check_full_row(f.rows[0], 0);
            check_full_row(f.rows[1], 2);
        }
    }
    setenv("ACASS_AVRO_CODEC", "lzma", 1);  // avro-c has it, but under a non-standard name
    bool threw = false;
    try {
        acass_cli::AvroWriter w(dir + "/codec_bad.avro", columns_of(cols), "rows", false);
    } catch (const std::runtime_error& e) {
        threw = std::string(e.what()).find("'lzma'") != std::string::npos;
    }
    CHECK(threw);
    unsetenv("ACASS_AVRO_CODEC");
}

// Names that collide with Avro's own (a table called "record", a UDT called "string", columns
// that sanitize to the same name) still give a valid schema.
void test_awkward_names(const std::string& dir) {
    auto udt = std::make_shared<DataType>();
    udt->kind = TypeKind::udt;
    udt->udt_keyspace = "ks";
    udt->udt_name = "string";
    udt->field_names = {"a b", "a-b"};
    udt->params = {T(TypeKind::int_), T(TypeKind::int_)};
    std::vector<ac::protocol::ColumnSpec> cols = {
        {"ks", "record", "int", T(TypeKind::int_)}, {"ks", "record", "x y", udt}, {"ks", "record", "x-y", udt}};
    const std::string path = dir + "/awkward.avro";
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "record", false);
        w.write_page(make_page(cols, [&](Bytes& b) {
            RowBuilder r{b, cols};
            r.add(std::int32_t{1});
            Bytes udt_value;
            ac::protocol::ByteWriter uw(udt_value);
            ac::encode_value(uw, *T(TypeKind::int_), std::int32_t{2});
            ac::encode_value(uw, *T(TypeKind::int_), std::int32_t{3});
            ac::protocol::ByteWriter(b).write_bytes(udt_value);
            ++r.next;
            r.null();
        }, 1));
        w.close();
    }
    ReadFile f(path);
    CHECK_EQ(f.rows.size(), 1u);
    if (f.rows.size() == 1) {
        CHECK_EQ(as_int(*field(f.rows[0], "int")), 1);
        auto u = *field(f.rows[0], "x_y");
        const char* name = nullptr;
        auto second = at(u, 1, &name);
        CHECK_EQ(std::string(name ? name : ""), std::string("a_b_2"));
        CHECK_EQ(as_int(*branch(second)), 3);
        avro_value_t other;
        CHECK(avro_value_get_by_name(&f.rows[0], "x_y_2", &other, nullptr) == 0);
    }
}

// Decimals are rescaled exactly to scale 18 (trailing zeros may be dropped); a value that would
// need rounding or more than 38 digits is refused, naming the value.
void test_decimals(const std::string& dir) {
    const std::vector<ac::protocol::ColumnSpec> cols{{"ks", "t", "d", T(TypeKind::decimal)}};
    const std::string path = dir + "/decimals.avro";
    const std::vector<ac::Decimal> exact{
        ac::Decimal::parse("0"), ac::Decimal::parse("1.5"), ac::Decimal::parse("-0.000000000000000001"),
        ac::Decimal::parse("12345678901234567890.123456789012345678"), ac::Decimal{20, ac::Varint(-4200)},
        ac::Decimal::parse("-99999999999999999999.999999999999999999"), ac::Decimal{-3, ac::Varint(128)}};
    {
        acass_cli::AvroWriter w(path, columns_of(cols), "d", false);
        w.write_page(make_page(cols, [&](Bytes& b) { for (const auto& d : exact) RowBuilder{b, cols}.add(d); },
                               static_cast<int>(exact.size())));
        w.close();
    }
    const char* unscaled[] = {"0", "1500000000000000000", "-1", "12345678901234567890123456789012345678",
                              "-42", "-99999999999999999999999999999999999999",
                              "128000000000000000000000"};
    ReadFile f(path);
    CHECK_EQ(f.rows.size(), exact.size());
    for (std::size_t i = 0; i < f.rows.size() && i < exact.size(); ++i)
        CHECK_EQ(as_bytes(*field(f.rows[i], "d")), varint_bytes(unscaled[i]));
    for (const ac::Decimal& bad : {ac::Decimal::parse("0.0000000000000000001"), ac::Decimal::parse("1E+20"),
                                   ac::Decimal::parse("123456789012345678901234567890123456789012")}) {
        std::string message;
        try {
            acass_cli::AvroWriter w(dir + "/bad_decimal.avro", columns_of(cols), "d", false);
            w.write_page(make_page(cols, [&](Bytes& b) { RowBuilder{b, cols}.add(bad); }, 1));
        } catch (const acass_cli::DataError& e) {  // a data problem (exit 9), not a file error
            message = e.what();
        }
        CHECK(message.find("decimal " + bad.to_string() + " has more than") != std::string::npos);
    }
}

void test_bad_path_fails_clearly(const std::string& dir) {
    const auto cols = all_columns();
    bool threw = false;
    try {
        acass_cli::AvroWriter w(dir + "/no/such/dir/x.avro", columns_of(cols), "rows", false);
    } catch (const std::runtime_error& e) {
        threw = std::string(e.what()).find("x.avro") != std::string::npos;
    }
    CHECK(threw);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : (std::filesystem::temp_directory_path() / "acass_avro_writer_test").string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const acass_test::NamedTest tests[] = {
        {"every_type", test_every_type},
        {"primitive_rows_encoded_directly", test_primitive_rows_encoded_directly},
        {"append_after_close", test_append_after_close},
        {"append_after_partial_block", test_append_after_partial_block},
        {"append_with_other_columns_fails", test_append_with_other_columns_fails},
        {"big_rows", test_big_rows},
        {"codecs", test_codecs},
        {"awkward_names", test_awkward_names},
        {"decimals", test_decimals},
        {"bad_path_fails_clearly", test_bad_path_fails_clearly},
    };
    const bool passed = acass_test::run_tests(tests, dir);
    const bool keep = argc > 2 && std::string(argv[2]) == "--keep";
    if (g_failures == 0 && !keep) std::filesystem::remove_all(dir);
    return passed ? 0 : 1;
}
