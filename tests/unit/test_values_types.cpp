// Value types of values.hpp: text forms, calendars, big integers (v5 spec 6.5, 6.6, 6.8, 6.17,
// 6.18, 6.22, 6.24).
#include <async_cassandra/error.hpp>
#include <async_cassandra/values.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

using namespace async_cassandra;
using Bytes = std::vector<std::uint8_t>;

// v5 spec 6.24 examples table.
TEST(VarintSpec6_24, ExamplesFromTheSpec) {
    const std::pair<std::int64_t, Bytes> cases[] = {
        {0, {0x00}},          {1, {0x01}},          {127, {0x7F}},        {128, {0x00, 0x80}},
        {129, {0x00, 0x81}},  {-1, {0xFF}},         {-128, {0x80}},       {-129, {0xFF, 0x7F}},
    };
    for (const auto& [v, bytes] : cases) {
        EXPECT_EQ(Varint(v).bytes(), bytes) << v;
        EXPECT_EQ(Varint::from_bytes(bytes).to_int64(), v);
        EXPECT_EQ(Varint::from_bytes(bytes).to_string(), std::to_string(v));
    }
}

TEST(VarintSpec6_24, RedundantSignBytesNormalize) {
    EXPECT_EQ(Varint::from_bytes(Bytes{0x00, 0x00, 0x7F}), Varint(127));
    EXPECT_EQ(Varint::from_bytes(Bytes{0xFF, 0xFF, 0x80}), Varint(-128));
    EXPECT_EQ(Varint::from_bytes(Bytes{0x00, 0xFF}).to_int64(), 255);
}

TEST(Varint, Int64Limits) {
    const auto mn = std::numeric_limits<std::int64_t>::min(), mx = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(Varint(mn).bytes(), (Bytes{0x80, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(Varint(mn).to_string(), "-9223372036854775808");
    EXPECT_EQ(Varint(mx).to_string(), "9223372036854775807");
    EXPECT_EQ(Varint(mn).to_int64(), mn);
    EXPECT_EQ(Varint::parse("-9223372036854775808"), Varint(mn));
}

TEST(Varint, BeyondInt64) {
    const Varint big = Varint::parse("9223372036854775808");  // 2^63
    EXPECT_EQ(big.bytes(), (Bytes{0x00, 0x80, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_FALSE(big.try_to_int64().has_value());
    EXPECT_THROW(big.to_int64(), TypeError);
    const char* huge = "-123456789012345678901234567890123456789";
    EXPECT_EQ(Varint::parse(huge).to_string(), huge);
    EXPECT_EQ(Varint::parse("+42").to_int64(), 42);
    EXPECT_EQ(Varint::parse("-0").to_int64(), 0);
}

TEST(Varint, BadInput) {
    EXPECT_THROW(Varint::parse(""), UsageError);
    EXPECT_THROW(Varint::parse("-"), UsageError);
    EXPECT_THROW(Varint::parse("12a"), UsageError);
    EXPECT_THROW(Varint::from_bytes(Bytes{}), UsageError);
}

// v5 spec 6.6: <unscaled> * 10^-scale.
TEST(DecimalSpec6_6, ToStringHonoursScale) {
    EXPECT_EQ((Decimal{2, Varint(12345)}).to_string(), "123.45");
    EXPECT_EQ((Decimal{3, Varint(-1)}).to_string(), "-0.001");
    EXPECT_EQ((Decimal{0, Varint(7)}).to_string(), "7");
    EXPECT_EQ((Decimal{-3, Varint(12)}).to_string(), "1.2E+4");
    EXPECT_EQ((Decimal{2, Varint(100)}).to_string(), "1.00");
    EXPECT_EQ((Decimal{7, Varint(1)}).to_string(), "1E-7");        // adjusted exponent below -6
    EXPECT_EQ((Decimal{6, Varint(1)}).to_string(), "0.000001");
    // A huge scale stays short (found by fuzz_rows: plain notation would need 2^31 zeros).
    EXPECT_EQ((Decimal{2113929218, Varint(5)}).to_string(), "5E-2113929218");
}

TEST(Decimal, ParseRoundTrip) {
    for (const char* s : {"123.45", "-0.001", "7", "1.2E+4", "1.00", "-98765432109876543210.5", "1E-7", "-1.5E-300"}) {
        EXPECT_EQ(Decimal::parse(s).to_string(), s);
    }
    EXPECT_EQ(Decimal::parse("1.5e2"), (Decimal{-1, Varint(15)}));
    EXPECT_THROW(Decimal::parse("1.2.3"), UsageError);
    EXPECT_THROW(Decimal::parse("abc"), UsageError);
}

// v5 spec 6.5: epoch at 2^31; 0 is -5877641-06-23 and 2^32-1 is 5881580-07-11.
TEST(DateSpec6_5, WireEpochAndExtremes) {
    EXPECT_EQ(Date::from_wire(0x80000000u).days_since_epoch, 0);
    EXPECT_EQ(Date::from_wire(0x80000000u).to_string(), "1970-01-01");
    EXPECT_EQ(Date::from_wire(0).to_string(), "-5877641-06-23");
    EXPECT_EQ(Date::from_wire(0xFFFFFFFFu).to_string(), "+5881580-07-11");
    EXPECT_EQ(Date{-1}.to_wire(), 0x7FFFFFFFu);
}

TEST(Date, CalendarConversions) {
    EXPECT_EQ(Date::from_ymd(2024, 2, 29).to_string(), "2024-02-29");
    EXPECT_EQ(Date::from_ymd(2000, 3, 1).days_since_epoch, 11017);
    EXPECT_EQ(Date::from_ymd(1969, 12, 31).days_since_epoch, -1);
    EXPECT_EQ(Date::parse("2024-01-02"), Date::from_ymd(2024, 1, 2));
    EXPECT_EQ(Date::parse("-5877641-06-23").to_wire(), 0u);
    EXPECT_EQ(Date::parse("+5881580-07-11").to_wire(), 0xFFFFFFFFu);
    EXPECT_THROW(Date::from_ymd(2023, 2, 29), UsageError);
    EXPECT_THROW(Date::from_ymd(2023, 13, 1), UsageError);
    EXPECT_THROW(Date::parse("2024/01/02"), UsageError);
    EXPECT_THROW(Date::parse("+5881580-07-12"), UsageError);  // one day past the range
}

// v5 spec 6.17: 0 ..= 86399999999999.
TEST(TimeSpec6_17, RangeChecked) {
    EXPECT_EQ(Time(86'399'999'999'999).to_string(), "23:59:59.999999999");
    EXPECT_EQ(Time::from_hms(3, 4, 5, 6).to_string(), "03:04:05.000000006");
    EXPECT_THROW(Time(-1), UsageError);
    EXPECT_THROW(Time(86'400'000'000'000), UsageError);
    EXPECT_THROW(Time::from_hms(24, 0, 0), UsageError);
}

// v5 spec 6.18.
TEST(TimestampSpec6_18, IsoTextAndTimePoints) {
    EXPECT_EQ(Timestamp{0}.to_string(), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(Timestamp{1704164645678}.to_string(), "2024-01-02T03:04:05.678Z");
    EXPECT_EQ(Timestamp{-1}.to_string(), "1969-12-31T23:59:59.999Z");
    // Both sides of the four-digit-year fast path, and a leap day.
    EXPECT_EQ(Timestamp{-62167219200000}.to_string(), "0000-01-01T00:00:00.000Z");
    EXPECT_EQ(Timestamp{-62167219200001}.to_string(), "-1-12-31T23:59:59.999Z");
    EXPECT_EQ(Timestamp{253402300799999}.to_string(), "9999-12-31T23:59:59.999Z");
    EXPECT_EQ(Timestamp{253402300800000}.to_string(), "+10000-01-01T00:00:00.000Z");
    EXPECT_EQ(Timestamp{951782400123}.to_string(), "2000-02-29T00:00:00.123Z");
    const auto tp = std::chrono::system_clock::time_point(std::chrono::milliseconds(1704164645678));
    EXPECT_EQ(Timestamp::from_time_point(tp).milliseconds, 1704164645678);
    EXPECT_EQ(Timestamp{1704164645678}.to_time_point(), tp);
    // system_clock counts nanoseconds in libstdc++: INT64_MAX ms is out of its range.
    EXPECT_THROW(Timestamp{std::numeric_limits<std::int64_t>::max()}.to_time_point(), UsageError);
    EXPECT_EQ(Timestamp{std::numeric_limits<std::int64_t>::max()}.to_sys_millis().time_since_epoch().count(),
              std::numeric_limits<std::int64_t>::max());
}

TEST(DurationSpec6_8, TextForm) {
    EXPECT_EQ((Duration{14, 3, 3'723'004'005'006}).to_string(), "1y2mo3d1h2m3s4ms5us6ns");
    EXPECT_EQ((Duration{0, -3, 0}).to_string(), "-3d");
    EXPECT_EQ((Duration{}).to_string(), "0s");
    EXPECT_TRUE((Duration{1, 0, 5}).has_consistent_sign());
    EXPECT_FALSE((Duration{1, -1, 0}).has_consistent_sign());
    EXPECT_EQ((Duration{0, 0, std::numeric_limits<std::int64_t>::min()}).to_string().substr(0, 1), "-");
}

TEST(UuidSpec6_22, TextRoundTrip) {
    const char* text = "123e4567-e89b-12d3-a456-426614174000";
    const Uuid u = Uuid::parse(text);
    EXPECT_EQ(u.bytes[0], 0x12);
    EXPECT_EQ(u.bytes[15], 0x00);
    EXPECT_EQ(u.to_string(), text);
    EXPECT_EQ(Uuid::parse("123E4567-E89B-12D3-A456-426614174000"), u);
    EXPECT_EQ(u.version(), 1);
    EXPECT_THROW(Uuid::parse("123e4567e89b12d3a456426614174000"), UsageError);
    EXPECT_THROW(Uuid::parse("123e4567-e89b-12d3-a456-42661417400g"), UsageError);
    EXPECT_FALSE(Uuid::try_parse("").has_value());
}

// v5 spec 6.19: version 1 (RFC 4122) time-based UUIDs.
TEST(TimeuuidSpec6_19, TimeRoundTrip) {
    const Timestamp ts{1704164645678};
    const Uuid u = Uuid::timeuuid_from(ts, 0x1234, 0x0102030405);
    EXPECT_EQ(u.version(), 1);
    EXPECT_EQ(u.bytes[8] & 0xC0, 0x80);  // RFC 4122 variant
    EXPECT_EQ(u.timeuuid_timestamp(), ts);
    EXPECT_EQ(Uuid::timeuuid_from(Timestamp{0}).timeuuid_ticks(), 0x01B21DD213814000ull);
    const Uuid r = Uuid::random();
    EXPECT_EQ(r.version(), 4);
    EXPECT_THROW(r.timeuuid_timestamp(), UsageError);
    EXPECT_NE(Uuid::random(), r);
}

TEST(InetSpec6_10, TextForms) {
    EXPECT_EQ(Inet::v4(192, 168, 0, 1).to_string(), "192.168.0.1");
    const Inet v6 = Inet::parse("2001:db8::1");
    EXPECT_EQ(v6.size, 16);
    EXPECT_EQ(v6.bytes[0], 0x20);
    EXPECT_EQ(v6.bytes[15], 0x01);
    EXPECT_EQ(v6.to_string(), "2001:db8::1");
    EXPECT_EQ(Inet::parse("10.0.0.255"), Inet::v4(10, 0, 0, 255));
    EXPECT_THROW(Inet::parse("10.0.0.256"), UsageError);
    EXPECT_THROW(Inet::from_bytes(Bytes{1, 2, 3}), UsageError);
}

TEST(DecimalSpec6_6, ExtremeScalesRoundTripThroughText) {
    // to_string writes exponents beyond int32 for scales near INT32_MIN; parse must take them back.
    for (std::int32_t scale : {INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, -1, 0, 1}) {
        for (std::int64_t unscaled : {std::int64_t{12}, std::int64_t{-7}, std::int64_t{0}, INT64_MAX}) {
            const Decimal d{scale, Varint(unscaled)};
            EXPECT_EQ(Decimal::parse(d.to_string()), d) << d.to_string();
        }
    }
    EXPECT_THROW(Decimal::parse("1E+99999999999999"), UsageError);
    EXPECT_THROW(Decimal::parse("1E+4294967296"), UsageError);  // scale out of int32
}
