// from_cql_literal / from_json / split_json_object (text_codec.hpp): the text forms printed by
// to_cql_literal / to_json read back to the very same bytes, for every type and for random and
// edge-case values; malformed text is a UsageError naming the type.
#include <async_cassandra/codec.hpp>
#include <async_cassandra/text_codec.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include "protocol/bytes.hpp"
#include "support/value_body.hpp"

using namespace async_cassandra;
using protocol::Bytes;
using protocol::BytesView;

namespace {

DataTypePtr T(TypeKind k) { return DataType::simple(k); }

DataTypePtr udt_of(std::vector<std::string> names, std::vector<DataTypePtr> types) {
    auto t = std::make_shared<DataType>();
    t->kind = TypeKind::udt;
    t->udt_keyspace = "ks";
    t->udt_name = "u";
    t->field_names = std::move(names);
    t->params = std::move(types);
    return t;
}

using acass_test::value_body;

std::string hex(const std::optional<Bytes>& b) {
    if (!b) return "null";
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (auto c : *b) {
        s += kHex[c >> 4];
        s += kHex[c & 15];
    }
    return s;
}

// Both text forms of `bytes` must read back to exactly `bytes`.
void expect_round_trip(const DataType& type, const Bytes& bytes) {
    const std::string literal = to_cql_literal(type, BytesView(bytes));
    std::optional<Bytes> back;
    try {
        back = from_cql_literal(type, literal);
    } catch (const Error& e) {
        ADD_FAILURE() << type.cql_name() << " literal " << literal << " rejected: " << e.what();
        return;
    }
    EXPECT_EQ(hex(back), hex(bytes)) << type.cql_name() << " literal " << literal;
    const std::string json = to_json(type, BytesView(bytes));
    try {
        back = from_json(type, json);
    } catch (const Error& e) {
        ADD_FAILURE() << type.cql_name() << " JSON " << json << " rejected: " << e.what();
        return;
    }
    EXPECT_EQ(hex(back), hex(bytes)) << type.cql_name() << " JSON " << json;
}

template <class V>
void expect_value_round_trip(const DataTypePtr& type, const V& v) {
    expect_round_trip(*type, value_body(*type, v));
}

// ---------------------------------------------------------------- random canonical values

// Generates the bytes of a random value of `type`, in the one encoding each value has (the one
// the encoders produce): that is what "identical bytes" can hold for.
class Generator {
public:
    explicit Generator(std::uint64_t seed) : rng_(seed) {}

    std::uint64_t next() { return rng_(); }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

    /// Value bytes (nullopt for null, only where `nullable`).
    std::optional<Bytes> value(const DataType& t, bool nullable, int depth = 0) {
        if (nullable && below(8) == 0) return std::nullopt;
        Bytes out;
        protocol::ByteWriter w(out);
        write(t, w, depth);
        return Bytes(out.begin() + 4, out.end());
    }

private:
    std::string text(bool ascii) {
        static const std::vector<std::string> pieces = {"a", "Z", " ", "'", "''", "\"", "\\", "\n", "\t", "\x01", ",",
                                                         ":", "{", "]", "$$", "null", "é", "日本", "😀", "\x7f"};
        std::string s;
        const std::size_t n = below(6);
        for (std::size_t i = 0; i < n; ++i) {
            const std::string& p = pieces[below(pieces.size())];
            if (ascii && (static_cast<unsigned char>(p[0]) >= 0x80)) continue;
            s += p;
        }
        if (!ascii && below(10) == 0) s += static_cast<char>(0x80 | below(64));  // invalid UTF-8 too
        return s;
    }

    void write(const DataType& t, protocol::ByteWriter& w, int depth) {
        switch (t.kind) {
            case TypeKind::ascii: encode_value(w, t, text(true)); return;
            case TypeKind::varchar: encode_value(w, t, text(false)); return;
            case TypeKind::blob: {
                Bytes b(below(6));
                for (auto& c : b) c = static_cast<std::uint8_t>(next());
                w.write_bytes(b);
                return;
            }
            case TypeKind::boolean: encode_value(w, t, below(2) == 0); return;
            case TypeKind::tinyint: encode_value(w, t, static_cast<std::int8_t>(next())); return;
            case TypeKind::smallint: encode_value(w, t, static_cast<std::int16_t>(next())); return;
            case TypeKind::int_: encode_value(w, t, static_cast<std::int32_t>(next() >> below(33))); return;
            case TypeKind::bigint:
            case TypeKind::counter: encode_value(w, t, static_cast<std::int64_t>(next() >> below(64))); return;
            case TypeKind::float_: {
                float f = std::bit_cast<float>(static_cast<std::uint32_t>(next()));
                if (std::isnan(f)) f = std::numeric_limits<float>::quiet_NaN();  // one NaN is printed
                encode_value(w, t, f);
                return;
            }
            case TypeKind::double_: {
                double d = std::bit_cast<double>(next());
                if (below(3) == 0) d = static_cast<double>(static_cast<std::int64_t>(next() % 2001) - 1000) / 8;
                if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
                encode_value(w, t, d);
                return;
            }
            case TypeKind::varint: encode_value(w, t, random_varint()); return;
            case TypeKind::decimal: {
                const auto scale = static_cast<std::int32_t>(below(3) == 0 ? next() : next() % 41 - 20);
                encode_value(w, t, Decimal{scale, random_varint()});
                return;
            }
            case TypeKind::uuid:
            case TypeKind::timeuuid: {
                Uuid u;
                for (auto& b : u.bytes) b = static_cast<std::uint8_t>(next());
                if (t.kind == TypeKind::timeuuid) u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x10);
                encode_value(w, t, u);
                return;
            }
            case TypeKind::inet: {
                std::vector<std::uint8_t> raw(below(2) == 0 ? 4 : 16);
                for (auto& b : raw) b = static_cast<std::uint8_t>(below(4) == 0 ? 0 : next());
                if (raw.size() == 16 && below(3) == 0) {  // IPv4-mapped
                    std::fill(raw.begin(), raw.begin() + 10, 0);
                    raw[10] = raw[11] = 0xFF;
                }
                encode_value(w, t, Inet::from_bytes(raw));
                return;
            }
            case TypeKind::date: encode_value(w, t, Date::from_wire(static_cast<std::uint32_t>(next()))); return;
            case TypeKind::time:
                encode_value(w, t, Time(static_cast<std::int64_t>(next() % Time::kNanosPerDay)));
                return;
            case TypeKind::timestamp: {
                const auto ms = static_cast<std::int64_t>(below(2) == 0 ? next() : next() % 4'102'444'800'000);
                encode_value(w, t, Timestamp{ms});
                return;
            }
            case TypeKind::duration: {
                Duration d{static_cast<std::int32_t>(next() >> (33 + below(31))),
                           static_cast<std::int32_t>(next() >> (33 + below(31))),
                           static_cast<std::int64_t>(next() >> (1 + below(63)))};
                if (below(2) == 0) d = Duration{-d.months, -d.days, -d.nanoseconds};
                if (below(4) == 0) d = Duration{std::numeric_limits<std::int32_t>::min(), 0, std::numeric_limits<std::int64_t>::min()};
                encode_value(w, t, d);
                return;
            }
            case TypeKind::list:
            case TypeKind::set: {
                const std::size_t at = w.reserve_i32();
                const std::size_t n = depth > 3 ? 0 : below(4);
                w.write_i32(static_cast<std::int32_t>(n));
                for (std::size_t i = 0; i < n; ++i) write_element(*t.params[0], w, depth, true);
                detail::finish_value(w, at);
                return;
            }
            case TypeKind::map: {
                const std::size_t at = w.reserve_i32();
                const std::size_t n = depth > 3 ? 0 : below(4);
                w.write_i32(static_cast<std::int32_t>(n));
                for (std::size_t i = 0; i < n; ++i) {
                    write_element(*t.params[0], w, depth, false);  // Cassandra has no null keys
                    write_element(*t.params[1], w, depth, true);
                }
                detail::finish_value(w, at);
                return;
            }
            case TypeKind::tuple:
            case TypeKind::udt: {
                const std::size_t at = w.reserve_i32();
                for (const auto& p : t.params) write_element(*p, w, depth, true);
                detail::finish_value(w, at);
                return;
            }
            case TypeKind::vector: {
                const DataType& et = *t.params[0];
                const std::size_t fixed = detail::vector_element_size(et);
                const std::size_t at = w.reserve_i32();
                for (std::int32_t i = 0; i < t.vector_dimension; ++i) {
                    Bytes e = *value(et, false, depth + 1);
                    if (fixed == 0) detail::write_unsigned_vint(w, e.size());
                    w.write_raw(BytesView(e));
                }
                detail::finish_value(w, at);
                return;
            }
            default: FAIL() << "no generator for " << t.cql_name();
        }
    }

    void write_element(const DataType& t, protocol::ByteWriter& w, int depth, bool nullable) {
        const auto v = value(t, nullable, depth + 1);
        if (v) w.write_bytes(BytesView(*v));
        else w.write_null_bytes();
    }

    Varint random_varint() {
        std::vector<std::uint8_t> raw(1 + below(below(4) == 0 ? 40 : 9));
        for (auto& b : raw) b = static_cast<std::uint8_t>(next());
        return Varint::from_bytes(raw);
    }

    std::mt19937_64 rng_;
};

std::vector<DataTypePtr> simple_types() {
    std::vector<DataTypePtr> out;
    for (TypeKind k : {TypeKind::ascii, TypeKind::bigint, TypeKind::blob, TypeKind::boolean, TypeKind::counter,
                       TypeKind::decimal, TypeKind::double_, TypeKind::float_, TypeKind::int_, TypeKind::timestamp,
                       TypeKind::uuid, TypeKind::varchar, TypeKind::varint, TypeKind::timeuuid, TypeKind::inet,
                       TypeKind::date, TypeKind::time, TypeKind::smallint, TypeKind::tinyint, TypeKind::duration})
        out.push_back(T(k));
    return out;
}

std::vector<DataTypePtr> composite_types() {
    const auto text = T(TypeKind::varchar), i = T(TypeKind::int_);
    const auto inner_udt = udt_of({"street", "Zip Code", "quo\"te"}, {text, i, T(TypeKind::timestamp)});
    return {
        DataType::list_of(i),
        DataType::list_of(text),
        DataType::set_of(T(TypeKind::uuid)),
        DataType::set_of(T(TypeKind::double_)),
        DataType::map_of(text, i),
        DataType::map_of(i, text),
        DataType::map_of(T(TypeKind::timestamp), T(TypeKind::inet)),
        DataType::map_of(T(TypeKind::float_), T(TypeKind::duration)),
        DataType::map_of(T(TypeKind::boolean), T(TypeKind::blob)),
        DataType::map_of(DataType::tuple_of({i, text}), DataType::list_of(T(TypeKind::date))),
        DataType::map_of(DataType::list_of(text), DataType::set_of(T(TypeKind::decimal))),
        DataType::list_of(DataType::list_of(DataType::map_of(text, T(TypeKind::varint)))),
        DataType::tuple_of({i, text, T(TypeKind::time), T(TypeKind::timeuuid)}),
        DataType::tuple_of({DataType::tuple_of({T(TypeKind::bigint)}), DataType::set_of(text)}),
        inner_udt,
        udt_of({"a", "nested"}, {T(TypeKind::tinyint), DataType::list_of(inner_udt)}),
        DataType::map_of(text, inner_udt),
        DataType::vector_of(T(TypeKind::float_), 3),
        DataType::vector_of(text, 2),
        DataType::vector_of(T(TypeKind::varint), 2),
        DataType::vector_of(DataType::vector_of(i, 2), 2),
        DataType::list_of(DataType::vector_of(T(TypeKind::double_), 2)),
    };
}

}  // namespace

// ---------------------------------------------------------------- round trips

TEST(TextCodecRoundTrip, RandomValuesOfEveryType) {
    Generator gen(20261125);
    std::vector<DataTypePtr> types = simple_types();
    for (auto& t : composite_types()) types.push_back(t);
    std::size_t checked = 0;
    for (const auto& type : types) {
        for (int i = 0; i < 300; ++i) {
            const auto bytes = gen.value(*type, false);
            expect_round_trip(*type, *bytes);
            ++checked;
            if (::testing::Test::HasFailure()) return;  // one clear failure beats thousands
        }
    }
    EXPECT_EQ(checked, types.size() * 300);
}

TEST(TextCodecRoundTrip, IntegerEdges) {
    expect_value_round_trip(T(TypeKind::tinyint), std::numeric_limits<std::int8_t>::min());
    expect_value_round_trip(T(TypeKind::tinyint), std::numeric_limits<std::int8_t>::max());
    expect_value_round_trip(T(TypeKind::smallint), std::numeric_limits<std::int16_t>::min());
    expect_value_round_trip(T(TypeKind::smallint), std::numeric_limits<std::int16_t>::max());
    expect_value_round_trip(T(TypeKind::int_), std::numeric_limits<std::int32_t>::min());
    expect_value_round_trip(T(TypeKind::int_), std::numeric_limits<std::int32_t>::max());
    expect_value_round_trip(T(TypeKind::bigint), std::numeric_limits<std::int64_t>::min());
    expect_value_round_trip(T(TypeKind::bigint), std::numeric_limits<std::int64_t>::max());
    expect_value_round_trip(T(TypeKind::counter), std::int64_t{0});
    expect_value_round_trip(T(TypeKind::varint), Varint::parse("-" + std::string(300, '9')));
    expect_value_round_trip(T(TypeKind::varint), Varint::parse(std::string(500, '7')));
    expect_value_round_trip(T(TypeKind::varint), Varint(-128));
    expect_value_round_trip(T(TypeKind::varint), Varint(0));
}

TEST(TextCodecRoundTrip, FloatingPointEdges) {
    for (double d : {0.0, -0.0, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1.0 / 3,
                     std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()})
        expect_value_round_trip(T(TypeKind::double_), d);
    for (float f : {0.0f, -0.0f, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
                    -std::numeric_limits<float>::min(), 16777217.0f, std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()})
        expect_value_round_trip(T(TypeKind::float_), f);
    // -0.0 keeps its sign bit.
    const auto neg_zero = from_cql_literal(*T(TypeKind::double_), "-0");
    ASSERT_TRUE(neg_zero);
    EXPECT_EQ((*neg_zero)[0], 0x80);
}

TEST(TextCodecRoundTrip, DecimalEdges) {
    for (std::int32_t scale : {0, 1, 7, 20, -1, -5, -1000, std::numeric_limits<std::int32_t>::min(),
                               std::numeric_limits<std::int32_t>::min() + 1, std::numeric_limits<std::int32_t>::max()})
        for (const char* unscaled : {"0", "1", "-1", "12", "-987654321987654321987654321"})
            expect_value_round_trip(T(TypeKind::decimal), Decimal{scale, Varint::parse(unscaled)});
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::decimal), "1.2E+4")), hex(value_body(*T(TypeKind::decimal), Decimal{-3, Varint(12)})));
}

TEST(TextCodecRoundTrip, TextEdges) {
    for (const char* s : {"", "it's", "''", "\"quoted\"", "back\\slash", "line\nbreak\ttab", "\x01\x1f", "naïve 日本 😀",
                          "null", "NULL", "$$", "a, b: c", " padded "})
        for (auto kind : {TypeKind::varchar, TypeKind::ascii})
            if (kind == TypeKind::varchar || std::string_view(s).find_first_of("\xc3\xe6\xf0") == std::string_view::npos)
                expect_value_round_trip(T(kind), std::string(s));
}

TEST(TextCodecRoundTrip, TemporalEdges) {
    for (std::int64_t ms : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1704164645678}, std::int64_t{-62167219200001},
                            std::int64_t{253402300800000}, std::numeric_limits<std::int64_t>::min(),
                            std::numeric_limits<std::int64_t>::max()})
        expect_value_round_trip(T(TypeKind::timestamp), Timestamp{ms});
    for (std::uint32_t wire : {0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu})
        expect_value_round_trip(T(TypeKind::date), Date::from_wire(wire));
    for (std::int64_t ns : {std::int64_t{0}, std::int64_t{1}, Time::kNanosPerDay - 1})
        expect_value_round_trip(T(TypeKind::time), Time(ns));
    for (Duration d : {Duration{}, Duration{1, 0, 0}, Duration{0, -1, 0}, Duration{12, 30, 1},
                       Duration{std::numeric_limits<std::int32_t>::max(), std::numeric_limits<std::int32_t>::max(),
                                std::numeric_limits<std::int64_t>::max()},
                       Duration{std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::min(),
                                std::numeric_limits<std::int64_t>::min()}})
        expect_value_round_trip(T(TypeKind::duration), d);
}

TEST(TextCodecRoundTrip, CollectionEdges) {
    const auto i = T(TypeKind::int_), text = T(TypeKind::varchar);
    expect_value_round_trip(DataType::list_of(i), std::vector<std::int32_t>{});
    expect_value_round_trip(DataType::set_of(text), std::set<std::string>{});
    expect_value_round_trip(DataType::map_of(text, i), std::map<std::string, std::int32_t>{});
    expect_value_round_trip(DataType::list_of(DataType::list_of(i)), std::vector<std::vector<std::int32_t>>{{}, {1}, {}});
    expect_value_round_trip(DataType::list_of(i), std::vector<std::optional<std::int32_t>>{1, std::nullopt, 3});
    expect_value_round_trip(DataType::map_of(text, DataType::map_of(i, text)),
                            std::map<std::string, std::map<std::int32_t, std::string>>{{"it's", {{1, "}"}}}, {"", {}}});
    expect_value_round_trip(DataType::tuple_of({i, text, i}),
                            std::tuple<std::optional<std::int32_t>, std::optional<std::string>, std::int32_t>{
                                std::nullopt, std::nullopt, 5});
    // A vector of a variable-size type may hold an empty element, which the printers show as null.
    const auto vv = DataType::vector_of(T(TypeKind::varint), 2);
    const Bytes with_empty{0x01, 0x05, 0x00};
    expect_round_trip(*vv, with_empty);
}

// A UDT value may hold fewer values than the type has fields (v5 spec 7, written before the
// type grew). The missing ones print as null and load back as explicit nulls: the same value,
// not the same bytes, so this checks the text forms are stable instead.
TEST(TextCodecRoundTrip, UdtWithMissingTrailingFields) {
    const auto udt = udt_of({"a", "Mixed Case"}, {T(TypeKind::int_), T(TypeKind::varchar)});
    const Bytes shorter{0, 0, 0, 4, 0, 0, 0, 7};
    const std::string literal = to_cql_literal(*udt, BytesView(shorter));
    EXPECT_EQ(literal, "{a: 7, \"Mixed Case\": null}");
    const auto back = from_cql_literal(*udt, literal);
    ASSERT_TRUE(back);
    EXPECT_EQ(hex(back), "0000000400000007ffffffff");  // a = 7, then an explicit null
    EXPECT_EQ(to_cql_literal(*udt, BytesView(*back)), literal);
    const auto from_json_back = from_json(*udt, to_json(*udt, BytesView(shorter)));
    EXPECT_EQ(hex(from_json_back), hex(back));
    // Fields may be left out or reordered in hand-written input.
    EXPECT_EQ(hex(from_cql_literal(*udt, "{\"Mixed Case\": 'x'}")), "ffffffff0000000178");
    EXPECT_EQ(hex(from_cql_literal(*udt, "{ A : 1 }")), "0000000400000001ffffffff");  // unquoted names fold case
    EXPECT_EQ(hex(from_json(*udt, "{}")), "ffffffffffffffff");
}

TEST(TextCodecRoundTrip, NullEverywhere) {
    for (const auto& t : simple_types()) {
        EXPECT_EQ(from_cql_literal(*t, "null"), std::nullopt) << t->cql_name();
        EXPECT_EQ(from_cql_literal(*t, "  NULL "), std::nullopt) << t->cql_name();
        EXPECT_EQ(from_json(*t, "null"), std::nullopt) << t->cql_name();
    }
    for (const auto& t : composite_types()) {
        EXPECT_EQ(from_cql_literal(*t, "null"), std::nullopt) << t->cql_name();
        EXPECT_EQ(from_json(*t, " null "), std::nullopt) << t->cql_name();
    }
    // The string "null" stays a string when quoted.
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::varchar), "'null'")), "6e756c6c");
    EXPECT_EQ(hex(from_json(*T(TypeKind::varchar), "\"null\"")), "6e756c6c");
}

// ---------------------------------------------------------------- accepted input forms

TEST(TextCodecForms, UnquotedTopLevelScalarsAndWhitespace) {
    const auto text = T(TypeKind::varchar);
    EXPECT_EQ(hex(from_cql_literal(*text, "it's")), hex(value_body(*text, std::string("it's"))));
    EXPECT_EQ(hex(from_cql_literal(*text, "  'padded'  ")), hex(value_body(*text, std::string("padded"))));
    EXPECT_EQ(hex(from_cql_literal(*text, " kept ")), hex(value_body(*text, std::string(" kept "))));  // unquoted: data
    EXPECT_EQ(hex(from_cql_literal(*text, "$$it's$$")), hex(value_body(*text, std::string("it's"))));
    EXPECT_EQ(hex(from_cql_literal(*text, "'unterminated")), hex(value_body(*text, std::string("'unterminated"))));
    const auto ts = T(TypeKind::timestamp);
    const Bytes expected_ts = value_body(*ts, Timestamp{1704164645678});
    for (const char* s : {"2024-01-02T03:04:05.678Z", "'2024-01-02T03:04:05.678Z'", " 2024-01-02T03:04:05.678Z\n",
                          "2024-01-02 03:04:05.678", "2024-01-02T04:04:05.678+01:00", "2024-01-02T01:04:05.678-0200",
                          "2024-01-02T03:04:05.678999Z", "1704164645678"})
        EXPECT_EQ(hex(from_cql_literal(*ts, s)), hex(expected_ts)) << s;
    EXPECT_EQ(hex(from_cql_literal(*ts, "2024-01-02")), hex(value_body(*ts, Timestamp{1704153600000})));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::date), "2024-01-02")), hex(value_body(*T(TypeKind::date), Date::from_ymd(2024, 1, 2))));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::time), "03:04:05.5")), hex(value_body(*T(TypeKind::time), Time::from_hms(3, 4, 5, 500'000'000))));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::time), "03:04")), hex(value_body(*T(TypeKind::time), Time::from_hms(3, 4, 0))));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::inet), "::1")), hex(value_body(*T(TypeKind::inet), Inet::parse("::1"))));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::int_), " 42\t")), hex(value_body(*T(TypeKind::int_), std::int32_t{42})));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::duration), "'1h30m'")),
              hex(value_body(*T(TypeKind::duration), Duration{0, 0, 5'400'000'000'000})));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::duration), "2w1d3µs")),
              hex(value_body(*T(TypeKind::duration), Duration{0, 15, 3000})));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::duration), "P1Y2M3DT4H5M6S")),
              hex(value_body(*T(TypeKind::duration), Duration{14, 3, 14'706'000'000'000})));
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::duration), "-P2W")), hex(value_body(*T(TypeKind::duration), Duration{0, -14, 0})));
    EXPECT_THROW(from_cql_literal(*T(TypeKind::duration), "P1H"), UsageError);  // hours need the T part
    EXPECT_THROW(from_cql_literal(*T(TypeKind::duration), "P"), UsageError);
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::boolean), "TRUE")), "01");
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::blob), "0XABcd")), "abcd");
    EXPECT_EQ(hex(from_cql_literal(*T(TypeKind::blob), "0x")), "");
}

TEST(TextCodecForms, CollectionsWithSpacingAndAlternatives) {
    const auto i = T(TypeKind::int_), text = T(TypeKind::varchar);
    EXPECT_EQ(hex(from_cql_literal(*DataType::list_of(i), " [ 1 ,2, -3 ] ")),
              hex(value_body(*DataType::list_of(i), std::vector<std::int32_t>{1, 2, -3})));
    EXPECT_EQ(hex(from_cql_literal(*DataType::set_of(i), "[1,2]")),
              hex(value_body(*DataType::set_of(i), std::vector<std::int32_t>{1, 2})));
    EXPECT_EQ(hex(from_cql_literal(*DataType::map_of(text, i), "{'a':1,'b''c' : 2}")),
              hex(value_body(*DataType::map_of(text, i), std::vector<std::pair<std::string, std::int32_t>>{{"a", 1}, {"b'c", 2}})));
    EXPECT_EQ(hex(from_json(*DataType::map_of(i, text), "{\"7\": \"\\u00e9\\ud83d\\ude00\"}")),
              hex(value_body(*DataType::map_of(i, text), std::map<std::int32_t, std::string>{{7, "é😀"}})));
    EXPECT_EQ(hex(from_json(*T(TypeKind::int_), "\"12\"")), "0000000c");  // numbers may come as strings
    EXPECT_EQ(hex(from_json(*T(TypeKind::double_), "\"NaN\"")), hex(value_body(*T(TypeKind::double_), std::nan(""))));
}

// ---------------------------------------------------------------- malformed input

TEST(TextCodecErrors, MalformedInputNamesTheType) {
    const auto i = T(TypeKind::int_), text = T(TypeKind::varchar);
    struct Case {
        DataTypePtr type;
        const char* text;
        const char* must_mention;
    };
    const std::vector<Case> cases = {
        {T(TypeKind::int_), "2147483648", "out of range"},
        {T(TypeKind::int_), "-2147483649", "out of range"},
        {T(TypeKind::tinyint), "128", "out of range"},
        {T(TypeKind::smallint), "-32769", "out of range"},
        {T(TypeKind::bigint), "9223372036854775808", "out of range"},
        {T(TypeKind::int_), "12abc", "not an integer"},
        {T(TypeKind::int_), "1.5", "not an integer"},
        {T(TypeKind::int_), "", "empty"},
        {T(TypeKind::uuid), "123e4567-e89b-12d3-a456-42661417400", "uuid"},
        {T(TypeKind::uuid), "123e4567-e89b-12d3-a456-42661417400g", "uuid"},
        {T(TypeKind::timeuuid), "123e4567-e89b-42d3-a456-426614174000", "version 1"},
        {T(TypeKind::boolean), "yes", "true or false"},
        {T(TypeKind::blob), "abcd", "0x"},
        {T(TypeKind::blob), "0xabc", "odd"},
        {T(TypeKind::blob), "0xzz", "hex"},
        {T(TypeKind::double_), "1e400", "out of range"},
        {T(TypeKind::double_), "one", "not a number"},
        {T(TypeKind::float_), "inf", "not a number"},
        {T(TypeKind::float_), "3.5e39", "out of range"},
        {T(TypeKind::varint), "12x", "varint"},
        {T(TypeKind::decimal), "1.2.3", "decimal"},
        {T(TypeKind::decimal), "1E", "exponent"},
        {T(TypeKind::inet), "300.1.1.1", "inet"},
        {T(TypeKind::date), "2023-02-29", "date"},
        {T(TypeKind::date), "yesterday", "date"},
        {T(TypeKind::time), "24:00:00", "HH:MM:SS"},
        {T(TypeKind::time), "12:00:00.1234567890", "HH:MM:SS"},
        {T(TypeKind::timestamp), "2024-13-01T00:00:00Z", "YYYY-MM-DD"},
        {T(TypeKind::timestamp), "2024-01-01T25:00:00Z", "time of day"},
        {T(TypeKind::timestamp), "2024-01-01T00:00:00+99:00", "zone"},
        {T(TypeKind::timestamp), "+300000000-01-01T00:00:00Z", "range"},
        {T(TypeKind::duration), "5", "without a unit"},
        {T(TypeKind::duration), "5x", "unknown unit"},
        {T(TypeKind::duration), "2147483648mo", "too large"},
        {T(TypeKind::ascii), "'é'", "ASCII"},
        {DataType::list_of(text), "['abc", "unterminated string"},
        {DataType::list_of(text), "[abc]", "quoted string"},
        {DataType::list_of(i), "[1, 2", "expected ',' or ']'"},
        {DataType::list_of(i), "[1 2]", "expected ',' or ']'"},
        {DataType::list_of(i), "{1, 2}", "expected '['"},
        {DataType::list_of(i), "[1, 2] x", "trailing text"},
        {DataType::list_of(DataType::list_of(i)), "[1]", "expected '['"},
        {DataType::list_of(DataType::list_of(i)), "[[1], [[2]]]", "expected a value"},
        {DataType::map_of(text, i), "{'a' 1}", "expected ':'"},
        {DataType::map_of(text, i), "{'a': 1,}", "quoted string"},
        {DataType::tuple_of({i, text}), "(1)", "2"},
        {DataType::tuple_of({i, text}), "(1, 'a', 2)", "more than 2"},
        {udt_of({"a"}, {i}), "{b: 1}", "no field named 'b'"},
        {udt_of({"a"}, {i}), "{a: 1, a: 2}", "twice"},
        {DataType::vector_of(T(TypeKind::float_), 3), "[1, 2]", "3"},
        {DataType::vector_of(T(TypeKind::float_), 2), "[1, null]", "cannot be null"},
    };
    for (const auto& c : cases) {
        try {
            const auto got = from_cql_literal(*c.type, c.text);
            ADD_FAILURE() << c.type->cql_name() << " accepted '" << c.text << "' as " << hex(got);
        } catch (const UsageError& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(c.must_mention), std::string::npos) << what;
            EXPECT_TRUE(what.starts_with("bad " + c.type->cql_name() + " ")) << what;
        }
    }
}

TEST(TextCodecErrors, MalformedJson) {
    const auto i = T(TypeKind::int_), text = T(TypeKind::varchar);
    const std::vector<std::pair<DataTypePtr, const char*>> cases = {
        {text, "abc"},          {text, "\"abc"},     {text, "\"a\\x\""},       {text, "\"\\ud800\""},
        {text, "\"a\" \"b\""},  {i, "[1]"},           {i, "2147483648"},        {DataType::list_of(i), "[1,"},
        {DataType::list_of(i), "{\"a\": 1}"},        {DataType::map_of(text, i), "{\"a\" 1}"},
        {DataType::map_of(text, i), "{a: 1}"},        {DataType::map_of(i, i), "{\"x\": 1}"},
        {DataType::tuple_of({i, i}), "[1]"},          {udt_of({"a"}, {i}), "{\"b\": 1}"},
        {DataType::map_of(DataType::list_of(i), i), "{\"[1, 2\": 3}"},
    };
    for (const auto& [type, json] : cases) {
        try {
            const auto got = from_json(*type, json);
            ADD_FAILURE() << type->cql_name() << " accepted JSON " << json << " as " << hex(got);
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("bad "), std::string::npos) << e.what();
        }
    }
}

// ---------------------------------------------------------------- split_json_object

TEST(SplitJsonObject, KeysInOrderWithRawValues) {
    const auto parts = split_json_object(
        R"( {"pk": 1, "name": "a \"q\" \\ b", "tags": ["x", {"y": [1, 2]}], "n": null, "ok": true, "f": -1.5e-3,
            "k\u00e9y": {}, "e": [] } )");
    ASSERT_EQ(parts.size(), 8u);
    EXPECT_EQ(parts[0], (std::pair<std::string, std::string>{"pk", "1"}));
    EXPECT_EQ(parts[1], (std::pair<std::string, std::string>{"name", R"("a \"q\" \\ b")"}));
    EXPECT_EQ(parts[2], (std::pair<std::string, std::string>{"tags", R"(["x", {"y": [1, 2]}])"}));
    EXPECT_EQ(parts[3].second, "null");
    EXPECT_EQ(parts[4].second, "true");
    EXPECT_EQ(parts[5].second, "-1.5e-3");
    EXPECT_EQ(parts[6].first, "k\xc3\xa9y");
    EXPECT_EQ(parts[6].second, "{}");
    EXPECT_EQ(parts[7].second, "[]");
    EXPECT_TRUE(split_json_object("{}").empty());
    // Values feed from_json directly.
    EXPECT_EQ(hex(from_json(*T(TypeKind::varchar), parts[1].second)), hex(value_body(*T(TypeKind::varchar), std::string("a \"q\" \\ b"))));
}

TEST(SplitJsonObject, RejectsAnythingButOneObject) {
    for (const char* bad : {"", "[]", "1", "{", "{\"a\"}", "{\"a\": }", "{\"a\": 1,}", "{\"a\": 1} x", "{\"a\": 1}{}",
                            "{a: 1}", "{\"a\": tru}", "{\"a\": truex}", "{\"a\": 01}", "{\"a\": 1.}", "{\"a\": -}",
                            "{\"a\": [1, 2}", "{\"a\": \"x}", "{\"a\": NaN}", "{\"a\": 1 2}", "{\"a\": \"\\q\"}"}) {
        EXPECT_THROW(split_json_object(bad), UsageError) << bad;
    }
}

// ---------------------------------------------------------------- identifiers

TEST(CqlIdentifiers, QuoteAndUnquoteAreInverses) {
    for (const std::string name : {"plain", "with_digits_9", "MixedCase", "_leading", "9lead", "has space",
                                   "quote\"inside", "\"", "", "ünïcode", "a.b"}) {
        EXPECT_EQ(unquote_cql_identifier(quote_cql_identifier(name)), name) << name;
    }
}

TEST(CqlIdentifiers, UnquotedNamesFoldToLowerCaseQuotedKeepTheirCase) {
    EXPECT_EQ(unquote_cql_identifier("MyTable"), "mytable");
    EXPECT_EQ(unquote_cql_identifier("\"MyTable\""), "MyTable");
    EXPECT_EQ(unquote_cql_identifier("\"a\"\"b\""), "a\"b");
    EXPECT_EQ(quote_cql_identifier("_x"), "\"_x\"");  // CQL cannot read a leading '_' unquoted
}

TEST(CqlIdentifiers, QualifiedNamesSplitAtTheFirstDotOutsideQuotes) {
    EXPECT_EQ(split_qualified_name("ks.t"), (std::pair<std::string, std::string>{"ks", "t"}));
    EXPECT_EQ(split_qualified_name("KS.\"T\""), (std::pair<std::string, std::string>{"ks", "T"}));
    EXPECT_EQ(split_qualified_name("\"a.b\".c"), (std::pair<std::string, std::string>{"a.b", "c"}));
    EXPECT_EQ(split_qualified_name("table"), (std::pair<std::string, std::string>{"", "table"}));
}
