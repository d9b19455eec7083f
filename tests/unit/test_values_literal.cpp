// Type-driven text forms of any value: to_cql_literal and to_json (for tools exporting any
// column). Bytes follow native_protocol_v5.spec section 6.
#include <async_cassandra/codec.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include "protocol/bytes.hpp"
#include "support/value_body.hpp"

using namespace async_cassandra;
using protocol::Bytes;
using protocol::BytesView;

namespace {

DataTypePtr T(TypeKind k) { return DataType::simple(k); }

using acass_test::value_body;

template <class V>
std::string cql(const DataTypePtr& type, const V& v) {
    return to_cql_literal(*type, BytesView(value_body(*type, v)));
}
template <class V>
std::string json(const DataTypePtr& type, const V& v) {
    return to_json(*type, BytesView(value_body(*type, v)));
}

}  // namespace

TEST(CqlLiteral, Scalars) {
    EXPECT_EQ(cql(T(TypeKind::varchar), std::string("it's")), "'it''s'");
    EXPECT_EQ(cql(T(TypeKind::ascii), std::string("")), "''");
    EXPECT_EQ(cql(T(TypeKind::blob), Bytes{0x0a, 0x0b}), "0x0a0b");
    EXPECT_EQ(cql(T(TypeKind::boolean), true), "true");
    EXPECT_EQ(cql(T(TypeKind::tinyint), std::int8_t{-128}), "-128");
    EXPECT_EQ(cql(T(TypeKind::bigint), std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
    EXPECT_EQ(cql(T(TypeKind::varint), Varint::parse("123456789012345678901234567890")),
              "123456789012345678901234567890");
    EXPECT_EQ(cql(T(TypeKind::decimal), Decimal{3, Varint(-1234)}), "-1.234");
    EXPECT_EQ(cql(T(TypeKind::double_), 0.1), "0.1");
    EXPECT_EQ(cql(T(TypeKind::float_), 1.5f), "1.5");
    EXPECT_EQ(cql(T(TypeKind::double_), std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(cql(T(TypeKind::double_), -std::numeric_limits<double>::infinity()), "-Infinity");
    EXPECT_EQ(cql(T(TypeKind::uuid), Uuid::parse("123e4567-e89b-12d3-a456-426614174000")),
              "123e4567-e89b-12d3-a456-426614174000");
    EXPECT_EQ(cql(T(TypeKind::inet), Inet::v4(10, 1, 2, 3)), "'10.1.2.3'");
    EXPECT_EQ(cql(T(TypeKind::date), Date::from_ymd(2024, 1, 2)), "'2024-01-02'");
    EXPECT_EQ(cql(T(TypeKind::time), Time::from_hms(3, 4, 5, 678)), "'03:04:05.000000678'");
    EXPECT_EQ(cql(T(TypeKind::timestamp), Timestamp{1704164645678}), "'2024-01-02T03:04:05.678Z'");
    EXPECT_EQ(cql(T(TypeKind::duration), Duration{13, 1, 1}), "1y1mo1d1ns");
}

// Shortest round-trip text: the literal parses back to the same double.
TEST(CqlLiteral, DoublesAreLossless) {
    for (double d : {1.0 / 3, 1e300, -5e-324, 123456789.123456789}) {
        const std::string s = cql(T(TypeKind::double_), d);
        EXPECT_EQ(std::strtod(s.c_str(), nullptr), d) << s;
    }
}

TEST(CqlLiteral, NullAndEmpty) {
    EXPECT_EQ(to_cql_literal(*T(TypeKind::int_), std::nullopt), "null");
    EXPECT_EQ(to_json(*T(TypeKind::varchar), std::nullopt), "null");
    EXPECT_EQ(to_cql_literal(*T(TypeKind::int_), BytesView()), "null");  // empty int value
    EXPECT_EQ(to_cql_literal(*T(TypeKind::varchar), BytesView()), "''");
}

TEST(CqlLiteral, Collections) {
    EXPECT_EQ(cql(DataType::list_of(T(TypeKind::int_)), std::vector<std::int32_t>{1, 2}), "[1, 2]");
    EXPECT_EQ(cql(DataType::set_of(T(TypeKind::varchar)), std::set<std::string>{"a", "b"}), "{'a', 'b'}");
    EXPECT_EQ(cql(DataType::map_of(T(TypeKind::varchar), T(TypeKind::int_)), std::map<std::string, std::int32_t>{{"k", 3}}),
              "{'k': 3}");
    EXPECT_EQ(cql(DataType::tuple_of({T(TypeKind::int_), T(TypeKind::varchar)}),
                  std::tuple<std::int32_t, std::optional<std::string>>{1, std::nullopt}),
              "(1, null)");
    EXPECT_EQ(cql(DataType::vector_of(T(TypeKind::float_), 2), std::array<float, 2>{0.5f, -1.0f}), "[0.5, -1]");
    EXPECT_EQ(cql(DataType::list_of(T(TypeKind::int_)), std::vector<std::int32_t>{}), "[]");
}

TEST(CqlLiteral, UdtFieldNamesQuotedWhenNeeded) {
    auto udt = std::make_shared<DataType>();
    udt->kind = TypeKind::udt;
    udt->field_names = {"a", "Mixed Case"};
    udt->params = {T(TypeKind::int_), T(TypeKind::varchar)};
    Bytes b{0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 1, 'x'};
    EXPECT_EQ(to_cql_literal(*udt, BytesView(b)), "{a: 7, \"Mixed Case\": 'x'}");
    EXPECT_EQ(to_json(*udt, BytesView(b)), "{\"a\": 7, \"Mixed Case\": \"x\"}");
    Bytes shorter{0, 0, 0, 4, 0, 0, 0, 7};  // v5 spec 7: fewer values than fields
    EXPECT_EQ(to_cql_literal(*udt, BytesView(shorter)), "{a: 7, \"Mixed Case\": null}");
}

TEST(Json, ScalarsAndEscapes) {
    EXPECT_EQ(json(T(TypeKind::varchar), std::string("a\"b\\c\n\x01")), "\"a\\\"b\\\\c\\n\\u0001\"");
    EXPECT_EQ(json(T(TypeKind::int_), std::int32_t{-5}), "-5");
    EXPECT_EQ(json(T(TypeKind::boolean), false), "false");
    EXPECT_EQ(json(T(TypeKind::blob), Bytes{0xff}), "\"0xff\"");
    EXPECT_EQ(json(T(TypeKind::double_), std::numeric_limits<double>::infinity()), "\"Infinity\"");
    EXPECT_EQ(json(T(TypeKind::uuid), Uuid{}), "\"00000000-0000-0000-0000-000000000000\"");
    EXPECT_EQ(json(T(TypeKind::timestamp), Timestamp{0}), "\"1970-01-01T00:00:00.000Z\"");
    EXPECT_EQ(json(T(TypeKind::duration), Duration{0, 0, -1000}), "\"-1us\"");
    EXPECT_EQ(json(T(TypeKind::decimal), Decimal{1, Varint(5)}), "0.5");
}

TEST(Json, CollectionsAndNonTextKeys) {
    EXPECT_EQ(json(DataType::set_of(T(TypeKind::int_)), std::set<std::int32_t>{3, 1}), "[1, 3]");
    EXPECT_EQ(json(DataType::map_of(T(TypeKind::int_), T(TypeKind::varchar)),
                   std::map<std::int32_t, std::string>{{1, "a"}}),
              "{\"1\": \"a\"}");
    EXPECT_EQ(json(DataType::map_of(T(TypeKind::varchar), DataType::list_of(T(TypeKind::int_))),
                   std::map<std::string, std::vector<std::int32_t>>{{"k", {1}}}),
              "{\"k\": [1]}");
    EXPECT_EQ(json(DataType::tuple_of({T(TypeKind::int_), T(TypeKind::varchar)}),
                   std::tuple<std::int32_t, std::string>{1, "x"}),
              "[1, \"x\"]");
}

TEST(CqlLiteral, MalformedBytesAreProtocolErrors) {
    const Bytes bad_list{0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1};
    EXPECT_THROW(to_cql_literal(*DataType::list_of(T(TypeKind::int_)), BytesView(bad_list)), ProtocolError);
    const Bytes bad_int{1, 2, 3};
    EXPECT_THROW(to_json(*T(TypeKind::int_), BytesView(bad_int)), ProtocolError);
    const Bytes bad_map{0, 0, 0, 1, 0, 0, 0, 1, 'k', 0, 0, 0};
    EXPECT_THROW(to_json(*DataType::map_of(T(TypeKind::varchar), T(TypeKind::int_)), BytesView(bad_map)),
                 ProtocolError);
    auto broken = std::make_shared<DataType>();
    broken->kind = TypeKind::list;  // no element type
    EXPECT_THROW(to_cql_literal(*broken, BytesView(bad_list)), ProtocolError);
}
