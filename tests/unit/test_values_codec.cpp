// ValueCodec: C++ <-> [value] bytes for every CQL type (native_protocol_v5.spec section 6,
// section 7 for UDTs, [value] notation of section 3; Cassandra 5 vector format).
#include <async_cassandra/codec.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include "protocol/bytes.hpp"
#include "support/protocol_errc.hpp"

using namespace async_cassandra;
using protocol::Bytes;
using protocol::BytesView;

namespace {

DataTypePtr T(TypeKind k) { return DataType::simple(k); }

template <class V>
Bytes enc(const DataType& type, const V& v) {
    Bytes out;
    protocol::ByteWriter w(out);
    encode_value(w, type, v);
    return out;
}

// Strips the 4-byte [value] length (checking it).
Bytes body_of(const Bytes& value) {
    EXPECT_GE(value.size(), 4u);
    const auto n = static_cast<std::int32_t>(value[0] << 24 | value[1] << 16 | value[2] << 8 | value[3]);
    EXPECT_EQ(static_cast<std::size_t>(n), value.size() - 4);
    return Bytes(value.begin() + 4, value.end());
}

template <class V>
V dec(const DataType& type, const Bytes& body) {
    return decode_value<V>(type, BytesView(body));
}

template <class V>
V round_trip(const DataType& type, const V& v) {
    const Bytes body = body_of(enc(type, v));
    return dec<V>(type, body);
}

using acass_test::error_of;

}  // namespace

struct Address {
    std::string street;
    std::int32_t zip = 0;
    std::optional<std::string> city;
};
ASYNC_CASSANDRA_UDT(Address, street, zip, city)

// ---------------------------------------------------------------- [value] framing

// v5 spec 3: [value] length -1 is null, -2 is "not set".
TEST(ValueNotation3, NullAndUnset) {
    EXPECT_EQ(enc(*T(TypeKind::int_), std::optional<std::int32_t>{}), (Bytes{0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_EQ(enc(*T(TypeKind::int_), unset), (Bytes{0xFF, 0xFF, 0xFF, 0xFE}));
    EXPECT_EQ(enc(*T(TypeKind::varchar), static_cast<const char*>(nullptr)), (Bytes{0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(ValueNotation3, NullIntoNonOptionalThrows) {
    EXPECT_THROW(decode_value<std::int32_t>(*T(TypeKind::int_), std::nullopt), NullValueError);
    EXPECT_EQ(decode_value<std::optional<std::int32_t>>(*T(TypeKind::int_), std::nullopt), std::nullopt);
    EXPECT_THROW(decode_value<std::string>(*T(TypeKind::varchar), std::nullopt), NullValueError);
}

// v5 spec 6 (preamble): empty values are distinct from null.
TEST(EmptyValues6, EmptyStringIsNotNullButEmptyIntIs) {
    EXPECT_EQ(enc(*T(TypeKind::varchar), std::string()), (Bytes{0, 0, 0, 0}));
    EXPECT_EQ(dec<std::string>(*T(TypeKind::varchar), {}), "");
    EXPECT_EQ(dec<std::optional<std::string>>(*T(TypeKind::varchar), {}), std::optional<std::string>(""));
    EXPECT_THROW(dec<std::int32_t>(*T(TypeKind::int_), {}), NullValueError);
    EXPECT_EQ(dec<std::optional<std::int32_t>>(*T(TypeKind::int_), {}), std::nullopt);
}

// ---------------------------------------------------------------- simple types

// v5 spec 6.4.
TEST(BooleanSpec6_4, Bytes) {
    EXPECT_EQ(enc(*T(TypeKind::boolean), true), (Bytes{0, 0, 0, 1, 0x01}));
    EXPECT_EQ(enc(*T(TypeKind::boolean), false), (Bytes{0, 0, 0, 1, 0x00}));
    EXPECT_TRUE(dec<bool>(*T(TypeKind::boolean), {0x02}));  // any non-zero is true
    EXPECT_EQ(error_of([] { dec<bool>(*T(TypeKind::boolean), {1, 0}); }), ProtocolErrc::invalid_length);
}

// v5 spec 6.20, 6.15, 6.11, 6.2: big-endian two's complement of 1, 2, 4, 8 bytes.
TEST(IntegersSpec6_2_11_15_20, GoldenBytesAndLimits) {
    EXPECT_EQ(enc(*T(TypeKind::tinyint), std::int8_t{-2}), (Bytes{0, 0, 0, 1, 0xFE}));
    EXPECT_EQ(enc(*T(TypeKind::smallint), std::int16_t{0x0102}), (Bytes{0, 0, 0, 2, 0x01, 0x02}));
    EXPECT_EQ(enc(*T(TypeKind::int_), std::int32_t{-1}), (Bytes{0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_EQ(enc(*T(TypeKind::bigint), std::numeric_limits<std::int64_t>::min()),
              (Bytes{0, 0, 0, 8, 0x80, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(dec<std::int64_t>(*T(TypeKind::bigint), {0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
              std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(dec<std::int32_t>(*T(TypeKind::int_), {0x80, 0, 0, 0}), std::numeric_limits<std::int32_t>::min());
    EXPECT_EQ(round_trip(*T(TypeKind::counter), std::int64_t{42}), 42);
    EXPECT_EQ(round_trip(*T(TypeKind::smallint), std::int16_t{-32768}), -32768);
    EXPECT_EQ(round_trip(*T(TypeKind::tinyint), std::int8_t{127}), 127);
}

TEST(IntegersSpec6_11, WrongSizeIsProtocolError) {
    EXPECT_EQ(error_of([] { dec<std::int32_t>(*T(TypeKind::int_), {1, 2, 3}); }), ProtocolErrc::invalid_length);
    EXPECT_EQ(error_of([] { dec<std::int64_t>(*T(TypeKind::bigint), {1, 2, 3, 4}); }),
              ProtocolErrc::invalid_length);
    EXPECT_EQ(error_of([] { dec<std::int8_t>(*T(TypeKind::tinyint), {1, 2}); }), ProtocolErrc::invalid_length);
}

// v5 spec 6.7 / 6.9: IEEE 754.
TEST(FloatingSpec6_7_9, GoldenBytesNaNAndInfinity) {
    EXPECT_EQ(enc(*T(TypeKind::float_), 1.0f), (Bytes{0, 0, 0, 4, 0x3F, 0x80, 0, 0}));
    EXPECT_EQ(enc(*T(TypeKind::double_), -2.0), (Bytes{0, 0, 0, 8, 0xC0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_TRUE(std::isnan(round_trip(*T(TypeKind::double_), std::numeric_limits<double>::quiet_NaN())));
    EXPECT_EQ(round_trip(*T(TypeKind::float_), -std::numeric_limits<float>::infinity()),
              -std::numeric_limits<float>::infinity());
    EXPECT_EQ(round_trip(*T(TypeKind::double_), std::numeric_limits<double>::denorm_min()),
              std::numeric_limits<double>::denorm_min());
}

// v5 spec 6.1 / 6.16 / 6.23.
TEST(TextSpec6_1_16, BytesAndViews) {
    EXPECT_EQ(enc(*T(TypeKind::varchar), std::string("hé")), (Bytes{0, 0, 0, 3, 'h', 0xC3, 0xA9}));
    EXPECT_EQ(enc(*T(TypeKind::ascii), "ab"), (Bytes{0, 0, 0, 2, 'a', 'b'}));
    EXPECT_THROW(enc(*T(TypeKind::ascii), std::string("é")), TypeError);
    const Bytes body{'x', 'y', 'z'};
    const auto view = dec<std::string_view>(*T(TypeKind::varchar), body);
    EXPECT_EQ(view, "xyz");
    EXPECT_EQ(static_cast<const void*>(view.data()), static_cast<const void*>(body.data()));  // zero-copy
    EXPECT_EQ(dec<std::string>(*T(TypeKind::ascii), body), "xyz");
}

// v5 spec 6.3; custom types carry raw bytes too.
TEST(BlobSpec6_3, OwnedAndViews) {
    const Blob b{std::byte{0x0A}, std::byte{0x0B}};
    EXPECT_EQ(enc(*T(TypeKind::blob), b), (Bytes{0, 0, 0, 2, 0x0A, 0x0B}));
    EXPECT_EQ(round_trip(*T(TypeKind::blob), b), b);
    const Bytes body{1, 2, 3};
    const auto span = dec<std::span<const std::byte>>(*T(TypeKind::blob), body);
    EXPECT_EQ(static_cast<const void*>(span.data()), static_cast<const void*>(body.data()));
    auto custom = std::make_shared<DataType>();
    custom->kind = TypeKind::custom;
    custom->custom_class = "com.example.Thing";
    EXPECT_EQ(dec<Bytes>(*custom, body), body);
    EXPECT_EQ(dec<Blob>(*T(TypeKind::blob), {}).size(), 0u);  // empty blob is a value
}

// v5 spec 6.22 / 6.19.
TEST(UuidSpec6_19_22, BytesAndTimeuuidCheck) {
    const Uuid u = Uuid::parse("00112233-4455-1677-8899-aabbccddeeff");
    const Bytes e = enc(*T(TypeKind::timeuuid), u);
    EXPECT_EQ(e.size(), 20u);
    EXPECT_EQ(e[4], 0x00);
    EXPECT_EQ(e[19], 0xFF);
    EXPECT_EQ(round_trip(*T(TypeKind::uuid), u), u);
    EXPECT_THROW(enc(*T(TypeKind::timeuuid), Uuid::random()), TypeError);  // version 4 into timeuuid
    EXPECT_EQ(error_of([] { dec<Uuid>(*T(TypeKind::uuid), Bytes(15)); }), ProtocolErrc::invalid_length);
}

// v5 spec 6.10.
TEST(InetSpec6_10, FourOrSixteenBytes) {
    EXPECT_EQ(enc(*T(TypeKind::inet), Inet::v4(127, 0, 0, 1)), (Bytes{0, 0, 0, 4, 127, 0, 0, 1}));
    EXPECT_EQ(round_trip(*T(TypeKind::inet), Inet::parse("::1")), Inet::parse("::1"));
    EXPECT_EQ(error_of([] { dec<Inet>(*T(TypeKind::inet), Bytes(5)); }), ProtocolErrc::invalid_value);
}

// v5 spec 6.5 / 6.17 / 6.18.
TEST(DateTimeSpec6_5_17_18, Bytes) {
    EXPECT_EQ(enc(*T(TypeKind::date), Date{0}), (Bytes{0, 0, 0, 4, 0x80, 0, 0, 0}));
    EXPECT_EQ(round_trip(*T(TypeKind::date), Date{-719528}), Date{-719528});
    EXPECT_EQ(enc(*T(TypeKind::time), Time(1)), (Bytes{0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1}));
    EXPECT_EQ(enc(*T(TypeKind::timestamp), Timestamp{-1}),
              (Bytes{0, 0, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
    // 86400000000000 ns is one past the last valid time of day.
    EXPECT_EQ(error_of([] {
                  dec<Time>(*T(TypeKind::time), {0x00, 0x00, 0x4E, 0x94, 0x91, 0x4F, 0x00, 0x00});
              }),
              ProtocolErrc::invalid_value);
    EXPECT_EQ(dec<Time>(*T(TypeKind::time), {0x00, 0x00, 0x4E, 0x94, 0x91, 0x4E, 0xFF, 0xFF}).nanoseconds(),
              86'399'999'999'999);
    const auto tp = std::chrono::system_clock::time_point(std::chrono::milliseconds(5));
    EXPECT_EQ(round_trip(*T(TypeKind::timestamp), tp), tp);
}

// v5 spec 6.8 and the [vint] notation of section 3.
TEST(DurationSpec6_8, ZigZagVints) {
    // months 1 -> 2, days -> 0, nanos 1 -> 2.
    EXPECT_EQ(enc(*T(TypeKind::duration), Duration{1, 0, 1}), (Bytes{0, 0, 0, 3, 0x02, 0x00, 0x02}));
    EXPECT_EQ(enc(*T(TypeKind::duration), Duration{-1, 0, 0}), (Bytes{0, 0, 0, 3, 0x01, 0x00, 0x00}));
    // 64 zig-zags to 128: needs 2 bytes (7 payload bits in a 1-byte vint): 10000000 10000000.
    EXPECT_EQ(enc(*T(TypeKind::duration), Duration{64, 0, 0}), (Bytes{0, 0, 0, 4, 0x80, 0x80, 0x00, 0x00}));
    const Duration extremes{std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::min(),
                            std::numeric_limits<std::int64_t>::min()};
    EXPECT_EQ(round_trip(*T(TypeKind::duration), extremes), extremes);
    const Duration big{std::numeric_limits<std::int32_t>::max(), 7, std::numeric_limits<std::int64_t>::max()};
    EXPECT_EQ(round_trip(*T(TypeKind::duration), big), big);
    EXPECT_THROW(enc(*T(TypeKind::duration), Duration{1, -1, 0}), UsageError);
    EXPECT_EQ(error_of([] { dec<Duration>(*T(TypeKind::duration), {0x02, 0x01, 0x00}); }),
              ProtocolErrc::invalid_value);  // +1 month, -1 day
    EXPECT_EQ(error_of([] { dec<Duration>(*T(TypeKind::duration), {0x02, 0x00}); }), ProtocolErrc::truncated);
    EXPECT_EQ(error_of([] { dec<Duration>(*T(TypeKind::duration), {0x02, 0x00, 0x00, 0x00}); }),
              ProtocolErrc::trailing_bytes);
    // months beyond 32 bits: zig-zag 2^33 as a 5-byte vint 11110010 00000000 ...
    EXPECT_EQ(error_of([] {
                  dec<Duration>(*T(TypeKind::duration), {0xF2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
              }),
              ProtocolErrc::invalid_value);
}

// Spec example of section 3: 256000 as an unsigned vint is [110]00011 11101000 00000000.
TEST(VintNotation3, SpecExample) {
    Bytes out;
    protocol::ByteWriter w(out);
    detail::write_unsigned_vint(w, 256000);
    EXPECT_EQ(out, (Bytes{0xC3, 0xE8, 0x00}));
    detail::write_unsigned_vint(w, ~0ull);
    protocol::ByteReader r(out);
    EXPECT_EQ(detail::read_unsigned_vint(r), 256000u);
    EXPECT_EQ(detail::read_unsigned_vint(r), ~0ull);
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(out.size(), 3u + 9u);
}

// v5 spec 6.24.
TEST(VarintSpec6_24, Bytes) {
    EXPECT_EQ(enc(*T(TypeKind::varint), Varint(128)), (Bytes{0, 0, 0, 2, 0x00, 0x80}));
    EXPECT_EQ(enc(*T(TypeKind::varint), Varint(-1)), (Bytes{0, 0, 0, 1, 0xFF}));
    EXPECT_EQ(dec<Varint>(*T(TypeKind::varint), {0xFF, 0x7F}).to_int64(), -129);
    EXPECT_THROW(dec<Varint>(*T(TypeKind::varint), {}), NullValueError);  // empty varint = empty value
}

// v5 spec 6.6.
TEST(DecimalSpec6_6, ScaleThenVarint) {
    EXPECT_EQ(enc(*T(TypeKind::decimal), Decimal{2, Varint(-129)}), (Bytes{0, 0, 0, 6, 0, 0, 0, 2, 0xFF, 0x7F}));
    const Decimal d = dec<Decimal>(*T(TypeKind::decimal), {0xFF, 0xFF, 0xFF, 0xFE, 0x0C});
    EXPECT_EQ(d.scale, -2);
    EXPECT_EQ(d.to_string(), "1.2E+3");
    EXPECT_EQ(error_of([] { dec<Decimal>(*T(TypeKind::decimal), {0, 0, 0, 1}); }), ProtocolErrc::invalid_value);
}

// ---------------------------------------------------------------- collections

// v5 spec 6.12: [int] n, then n [bytes].
TEST(ListSpec6_12, GoldenBytesAndRoundTrip) {
    auto list_int = DataType::list_of(T(TypeKind::int_));
    EXPECT_EQ(enc(*list_int, std::vector<std::int32_t>{1, 2}),
              (Bytes{0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2}));
    EXPECT_EQ(round_trip(*list_int, std::vector<std::int32_t>{}), std::vector<std::int32_t>{});
    EXPECT_EQ(round_trip(*list_int, std::vector<std::int32_t>{-5, 7, 9}), (std::vector<std::int32_t>{-5, 7, 9}));
    auto nested = DataType::list_of(DataType::list_of(T(TypeKind::varchar)));
    const std::vector<std::vector<std::string>> v{{"a"}, {}, {"b", "c"}};
    EXPECT_EQ(round_trip(*nested, v), v);
}

TEST(ListSpec6_12, MalformedBodies) {
    auto list_int = DataType::list_of(T(TypeKind::int_));
    using V = std::vector<std::int32_t>;
    EXPECT_EQ(error_of([&] { dec<V>(*list_int, {0xFF, 0xFF, 0xFF, 0xFF}); }), ProtocolErrc::invalid_length);
    EXPECT_EQ(error_of([&] { dec<V>(*list_int, {0, 0, 0, 1, 0, 0, 0, 4, 0, 0}); }), ProtocolErrc::truncated);
    EXPECT_EQ(error_of([&] { dec<V>(*list_int, {0x7F, 0xFF, 0xFF, 0xFF}); }), ProtocolErrc::truncated);
    EXPECT_EQ(error_of([&] { dec<V>(*list_int, {0, 0, 0, 0, 9}); }), ProtocolErrc::trailing_bytes);
    EXPECT_EQ(error_of([&] { dec<V>(*list_int, {0, 0, 0, 1, 0, 0, 0, 2, 0, 0}); }),
              ProtocolErrc::invalid_length);  // element of 2 bytes for an int
    EXPECT_EQ(error_of([&] { dec<V>(*list_int, {0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE}); }),
              ProtocolErrc::invalid_length);  // "not set" element
    EXPECT_THROW(dec<V>(*list_int, {0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}), NullValueError);
    EXPECT_EQ(dec<std::vector<std::optional<std::int32_t>>>(*list_int, {0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}),
              (std::vector<std::optional<std::int32_t>>{std::nullopt}));
}

// v5 spec 6.14.
TEST(SetSpec6_14, SetsAndListsInterchange) {
    auto set_text = DataType::set_of(T(TypeKind::varchar));
    const std::set<std::string> s{"a", "b"};
    EXPECT_EQ(round_trip(*set_text, s), s);
    EXPECT_EQ(dec<std::vector<std::string>>(*set_text, body_of(enc(*set_text, s))), (std::vector<std::string>{"a", "b"}));
}

// v5 spec 6.13: [int] n, then n pairs of [bytes].
TEST(MapSpec6_13, GoldenBytesAndRoundTrip) {
    auto m = DataType::map_of(T(TypeKind::varchar), T(TypeKind::int_));
    EXPECT_EQ(enc(*m, std::map<std::string, std::int32_t>{{"k", 3}}),
              (Bytes{0, 0, 0, 17, 0, 0, 0, 1, 0, 0, 0, 1, 'k', 0, 0, 0, 4, 0, 0, 0, 3}));
    const std::map<std::string, std::int32_t> v{{"a", 1}, {"b", -2}};
    EXPECT_EQ(round_trip(*m, v), v);
    using UM = std::unordered_map<std::string, std::int32_t>;
    EXPECT_EQ(round_trip(*m, UM{{"z", 9}}), (UM{{"z", 9}}));
    using Pairs = std::vector<std::pair<std::string, std::int32_t>>;
    EXPECT_EQ(round_trip(*m, Pairs{{"b", 1}, {"a", 2}}), (Pairs{{"b", 1}, {"a", 2}}));
    EXPECT_EQ(error_of([&] { dec<UM>(*m, {0, 0, 0, 1, 0, 0, 0, 1, 'k'}); }), ProtocolErrc::truncated);
    EXPECT_EQ(error_of([&] { dec<UM>(*m, {0x80, 0, 0, 0}); }), ProtocolErrc::invalid_length);
}

// v5 spec 6.21: a sequence of [bytes]; null elements allowed.
TEST(TupleSpec6_21, NullElementsAndShortValues) {
    auto t = DataType::tuple_of({T(TypeKind::int_), T(TypeKind::varchar)});
    using Tup = std::tuple<std::int32_t, std::optional<std::string>>;
    EXPECT_EQ(enc(*t, Tup{1, std::nullopt}), (Bytes{0, 0, 0, 12, 0, 0, 0, 4, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_EQ(round_trip(*t, Tup{-1, "x"}), (Tup{-1, "x"}));
    EXPECT_EQ(dec<Tup>(*t, {0, 0, 0, 4, 0, 0, 0, 1}), (Tup{1, std::nullopt}));  // missing trailing element
    EXPECT_THROW((dec<std::tuple<std::int32_t, std::string>>(*t, {0, 0, 0, 4, 0, 0, 0, 1})), NullValueError);
    EXPECT_THROW((decode_value<std::tuple<std::int32_t>>(*t, BytesView())), TypeError);  // arity
}

// v5 spec section 7: UDT fields in type order, by name in C++; fewer values than fields allowed.
TEST(UdtSpec7, MapsFieldsByName) {
    auto udt = std::make_shared<DataType>();
    udt->kind = TypeKind::udt;
    udt->udt_keyspace = "ks";
    udt->udt_name = "address";
    // Server order differs from the struct's, and the server has an extra field.
    udt->field_names = {"zip", "extra", "street", "city"};
    udt->params = {T(TypeKind::int_), T(TypeKind::boolean), T(TypeKind::varchar), T(TypeKind::varchar)};
    const Address a{"Main St", 12345, std::nullopt};
    const Bytes e = enc(*udt, a);
    EXPECT_EQ(e, (Bytes{0, 0, 0, 27, 0, 0, 0, 4, 0, 0, 0x30, 0x39, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 7, 'M', 'a', 'i',
                        'n', ' ', 'S', 't', 0xFF, 0xFF, 0xFF, 0xFF}));
    const Address back = dec<Address>(*udt, body_of(e));
    EXPECT_EQ(back.street, "Main St");
    EXPECT_EQ(back.zip, 12345);
    EXPECT_EQ(back.city, std::nullopt);
    // Only the first field present: the rest read as null (street is not optional).
    EXPECT_THROW(dec<Address>(*udt, {0, 0, 0, 4, 0, 0, 0, 1}), NullValueError);
    // A struct field the UDT lacks: type mismatch.
    auto small = std::make_shared<DataType>(*udt);
    small->field_names = {"zip", "street"};
    small->params = {T(TypeKind::int_), T(TypeKind::varchar)};
    EXPECT_THROW(enc(*small, a), TypeError);
    // Natural type lists the struct's fields in declaration order.
    const auto nat = ValueCodec<Address>::natural_type();
    EXPECT_EQ(nat->field_names, (std::vector<std::string>{"street", "zip", "city"}));
    EXPECT_EQ(round_trip(*nat, a).street, "Main St");
}

TEST(UdtSpec7, NestedInCollections) {
    auto udt = std::make_shared<DataType>();
    udt->kind = TypeKind::udt;
    udt->field_names = {"street", "zip", "city"};
    udt->params = {T(TypeKind::varchar), T(TypeKind::int_), T(TypeKind::varchar)};
    auto m = DataType::map_of(T(TypeKind::varchar), DataType::list_of(udt));
    std::map<std::string, std::vector<Address>> v{{"home", {Address{"A", 1, "X"}, Address{"B", 2, std::nullopt}}}};
    auto back = round_trip(*m, v);
    ASSERT_EQ(back["home"].size(), 2u);
    EXPECT_EQ(back["home"][0].city, std::optional<std::string>("X"));
    EXPECT_EQ(back["home"][1].zip, 2);
}

// ---------------------------------------------------------------- vectors (Cassandra 5)

TEST(VectorType, FixedSizeElementsAreConcatenated) {
    auto v3 = DataType::vector_of(T(TypeKind::float_), 3);
    const std::array<float, 3> a{1.0f, -2.0f, 0.5f};
    EXPECT_EQ(enc(*v3, a), (Bytes{0, 0, 0, 12, 0x3F, 0x80, 0, 0, 0xC0, 0, 0, 0, 0x3F, 0, 0, 0}));
    EXPECT_EQ(round_trip(*v3, a), a);
    EXPECT_EQ(round_trip(*v3, std::vector<float>{1, 2, 3}), (std::vector<float>{1, 2, 3}));
    EXPECT_THROW(enc(*v3, std::vector<float>{1, 2}), TypeError);               // wrong dimension
    EXPECT_THROW((decode_value<std::array<float, 2>>(*v3, BytesView())), TypeError);  // dimension check
    EXPECT_EQ(error_of([&] { dec<std::vector<float>>(*v3, Bytes(11)); }), ProtocolErrc::truncated);
    EXPECT_EQ(error_of([&] { dec<std::vector<float>>(*v3, Bytes(13)); }), ProtocolErrc::trailing_bytes);
}

TEST(VectorType, VariableSizeElementsHaveVintLengths) {
    auto v2 = DataType::vector_of(T(TypeKind::varchar), 2);
    const std::vector<std::string> s{"ab", ""};
    EXPECT_EQ(enc(*v2, s), (Bytes{0, 0, 0, 4, 0x02, 'a', 'b', 0x00}));
    EXPECT_EQ(round_trip(*v2, s), s);
    EXPECT_EQ(error_of([&] { dec<std::vector<std::string>>(*v2, {0x05, 'a'}); }), ProtocolErrc::truncated);
    auto vv = DataType::vector_of(DataType::vector_of(T(TypeKind::int_), 2), 2);  // fixed: 2 x 8 bytes
    const std::vector<std::vector<std::int32_t>> nested{{1, 2}, {3, 4}};
    EXPECT_EQ(body_of(enc(*vv, nested)).size(), 16u);
    EXPECT_EQ(round_trip(*vv, nested), nested);
}

// ---------------------------------------------------------------- type checks

TEST(TypeChecks, MismatchesAreTypeErrors) {
    EXPECT_THROW(decode_value<std::int32_t>(*T(TypeKind::bigint), BytesView()), TypeError);
    EXPECT_THROW(decode_value<std::string>(*T(TypeKind::blob), BytesView()), TypeError);
    EXPECT_THROW(enc(*T(TypeKind::int_), std::int64_t{1}), TypeError);
    EXPECT_THROW(enc(*DataType::list_of(T(TypeKind::int_)), std::vector<std::string>{}), TypeError);
    EXPECT_THROW((enc(*DataType::map_of(T(TypeKind::int_), T(TypeKind::int_)), std::map<std::int32_t, std::string>{})),
                 TypeError);
    try {
        decode_value<double>(*DataType::list_of(T(TypeKind::int_)), BytesView());
        FAIL();
    } catch (const TypeError& e) {
        EXPECT_NE(std::string(e.what()).find("list<int>"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("double"), std::string::npos) << e.what();
    }
}

TEST(NaturalTypes, UntypedEncodeUsesNaturalCqlType) {
    Bytes out;
    protocol::ByteWriter w(out);
    encode_value(w, std::int64_t{1});
    encode_value(w, "hi");
    encode_value(w, std::vector<std::int32_t>{7});
    EXPECT_EQ(out, (Bytes{0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 4,
                          0, 0, 0, 7}));
    EXPECT_EQ((ValueCodec<std::map<std::string, std::vector<float>>>::natural_type()->cql_name()), "map<text, list<float>>");
    EXPECT_EQ((ValueCodec<std::array<float, 4>>::natural_type()->cql_name()), "vector<float, 4>");
}
