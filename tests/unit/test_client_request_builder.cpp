// What one request costs before it is sent: a bind encodes its values into one buffer reserved
// up front (the same bytes for every size of value), and an EXECUTE takes the kind of its
// statement (checked against every answer) from the prepared statement instead of parsing the
// query text again.

#include <async_cassandra/statement.hpp>

#include "protocol/expected_response.hpp"
#include "session/request_builder.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

using namespace async_cassandra;

namespace {

std::shared_ptr<detail::PreparedData> prepared(std::string query, std::vector<TypeKind> markers) {
    auto data = std::make_shared<detail::PreparedData>();
    data->query = std::move(query);
    std::vector<Column> columns;
    for (std::size_t i = 0; i < markers.size(); ++i)
        columns.push_back(Column{"ks", "t", "c" + std::to_string(i), DataType::simple(markers[i])});
    data->bind_markers = std::make_shared<const Columns>(std::move(columns));
    data->id = {1, 2, 3, 4};
    return data;
}

/// The [value]s as the protocol writes them, built without any capacity hint.
struct Expected {
    Bytes bytes;
    detail::ByteWriter w{bytes};
    Expected& i64(std::int64_t v) {
        w.write_i32(8);
        w.write_i64(v);
        return *this;
    }
    Expected& i32(std::int32_t v) {
        w.write_i32(4);
        w.write_i32(v);
        return *this;
    }
    Expected& text(std::string_view s) {
        w.write_i32(static_cast<std::int32_t>(s.size()));
        w.write_raw(s);
        return *this;
    }
    Expected& null() {
        w.write_null_bytes();
        return *this;
    }
    Expected& unset() {
        w.write_unset_value();
        return *this;
    }
};

TEST(BindBuffer, APointQuerysKeyIsEncodedIntoOneReservedBuffer) {
    PreparedStatement ps(prepared("SELECT * FROM ks.t WHERE pk = ? AND ck = ?", {TypeKind::bigint, TypeKind::int_}));
    BoundStatement bound = ps.bind(std::int64_t{42}, std::int32_t{7});
    EXPECT_EQ(bound.values().count, 2u);
    EXPECT_EQ(bound.values().bytes, Expected().i64(42).i32(7).bytes);
    // Reserved once for both values (4 + 8 bytes each), not grown value by value.
    EXPECT_EQ(bound.values().bytes.capacity(), 24u);
}

TEST(BindBuffer, EveryValueSizeEncodesTheSameBytesAsWithoutTheHint) {
    PreparedStatement ps(
        prepared("INSERT INTO ks.t (a, b, c) VALUES (?, ?, ?)", {TypeKind::bigint, TypeKind::varchar, TypeKind::int_}));
    // The last one is far beyond the hint of an optional<string> (16), so the buffer grows.
    const std::string big(100'000, 'x');
    const std::vector<std::string> texts{"", "a", "bench-row-value", big};
    for (const std::string& s : texts) {
        SCOPED_TRACE(s.size());
        EXPECT_EQ(ps.bind(std::int64_t{-1}, s, 3).values().bytes, Expected().i64(-1).text(s).i32(3).bytes);
        EXPECT_EQ(ps.bind(std::int64_t{5}, std::string_view(s), std::nullopt).values().bytes,
                  Expected().i64(5).text(s).null().bytes);
        EXPECT_EQ(ps.bind(std::int64_t{6}, s.c_str(), unset).values().bytes, Expected().i64(6).text(s).unset().bytes);
        EXPECT_EQ(ps.bind(std::optional<std::int64_t>{}, std::optional<std::string>(s), std::int32_t{9}).values().bytes,
                  Expected().null().text(s).i32(9).bytes);
    }
}

TEST(BindBuffer, SerializedAndNamedBindsWriteEveryValue) {
    PreparedStatement ps(
        prepared("INSERT INTO ks.t (a, b, c) VALUES (?, ?, ?)", {TypeKind::bigint, TypeKind::varchar, TypeKind::int_}));
    const std::string big(5'000, 'y');
    const Bytes eight{0, 0, 0, 0, 0, 0, 0, 8};
    const std::vector<SerializedValue> values{
        SerializedValue::of(eight),
        SerializedValue::of(BytesView(reinterpret_cast<const std::uint8_t*>(big.data()), big.size())),
        SerializedValue::unset()};
    BoundStatement serialized = ps.bind_serialized(values);
    EXPECT_EQ(serialized.values().bytes, Expected().i64(8).text(big).unset().bytes);
    EXPECT_EQ(serialized.values().bytes.capacity(), serialized.values().bytes.size());

    BoundStatement named = ps.bind_by_name().set("c1", big).set("c0", std::int64_t{8}).bind();
    EXPECT_EQ(named.values().bytes, Expected().i64(8).text(big).unset().bytes);
    EXPECT_EQ(named.values().bytes.capacity(), named.values().bytes.size());
}

protocol::StatementKind built_kind(const std::shared_ptr<const detail::PreparedData>& data) {
    static const ClusterConfig config;
    BoundStatement bound(data, {});
    auto builder =
        detail::RequestBuilder::statement(detail::statement_ref(bound), config, std::nullopt, std::nullopt);
    (void)builder.build(protocol::ProtocolVersion::v5);
    return builder.expected().statement;
}

TEST(StatementKind, AnExecuteTakesTheKindThePreparedStatementKeeps) {
    auto data = prepared("  /* c */ select * FROM ks.t", {});
    // Not parsed yet (a PreparedData made elsewhere): parsed from the text.
    EXPECT_EQ(data->statement_kind, detail::PreparedData::statement_kind_unknown);
    EXPECT_EQ(built_kind(data), protocol::StatementKind::select);
    // Parsed once (as Session::prepare does): the builder reads it and does not parse again,
    // which this deliberately different value shows.
    data->statement_kind = static_cast<std::uint8_t>(protocol::StatementKind::schema);
    EXPECT_EQ(built_kind(data), protocol::StatementKind::schema);
}

}  // namespace
