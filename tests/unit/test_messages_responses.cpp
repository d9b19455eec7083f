// Response bodies other than ERROR: golden bytes written from native_protocol_v4.spec /
// native_protocol_v5.spec section 4.2 ("v5 4.2.5.2" = section 4.2.5.2 of the v5 spec), round
// trips and error paths. ERROR lives in test_messages_errors.cpp.
#include "test_messages_support.hpp"

#include <string>

using namespace acass_test;

namespace {

const ProtocolVersion v4 = ProtocolVersion::v4;
const ProtocolVersion v5 = ProtocolVersion::v5;

template <class T>
T decode_as(Opcode op, const Bytes& body, ProtocolVersion v) {
    Response r = decode_response(op, body, v);
    EXPECT_TRUE(std::holds_alternative<T>(r));
    return std::get<T>(r);
}
template <class T>
T decode_result(const Bytes& body, ProtocolVersion v) {
    auto r = decode_as<ResultResponse>(Opcode::result, body, v);
    EXPECT_TRUE(std::holds_alternative<T>(r));
    return std::get<T>(r);
}

// Decodes, re-encodes to the same bytes, ignores (and counts) trailing bytes (section 1 of both
// specs: servers add fields that way) and rejects every truncation.
void check_golden(const Response& response, const Bytes& golden, ProtocolVersion v) {
    Opcode op = opcode_of(response);
    EXPECT_EQ(encode(response, v), golden) << to_string(op);
    EXPECT_EQ(encode(decode_response(op, golden, v), v), golden) << to_string(op);
    for (const Bytes extra : {Bytes{0}, Bytes{1, 2, 3, 4, 5, 6, 7}}) {
        Bytes longer = golden;
        longer.insert(longer.end(), extra.begin(), extra.end());
        std::size_t ignored = 0;
        Response decoded = decode_response(op, longer, v, &ignored);
        EXPECT_EQ(ignored, extra.size()) << to_string(op);
        EXPECT_EQ(encode(decoded, v), golden) << to_string(op);
    }
    if (!golden.empty())
        expect_every_truncation_throws([&](BytesView body) { decode_response(op, body, v); }, golden);
}

ColumnSpec col(std::string ks, std::string table, std::string name, DataTypePtr type) {
    return ColumnSpec{std::move(ks), std::move(table), std::move(name), std::move(type)};
}

}  // namespace

// ------------------------------------------------------------------ simple responses

// v4 4.2.2: READY has an empty body.
TEST(MessagesV4_4_2_2_Ready, EmptyBody) {
    check_golden(ReadyResponse{}, Bytes{}, v4);
    check_golden(ReadyResponse{}, Bytes{}, v5);
}

// v4 4.2.3: AUTHENTICATE is a [string] class name.
TEST(MessagesV4_4_2_3_Authenticate, GoldenString) {
    AuthenticateResponse m{"org.apache.cassandra.auth.PasswordAuthenticator"};
    Bytes golden = Golden().str(m.authenticator);
    check_golden(m, golden, v4);
    EXPECT_EQ(decode_as<AuthenticateResponse>(Opcode::authenticate, golden, v5).authenticator, m.authenticator);
}

// v4 4.2.4: SUPPORTED is a [string multimap].
TEST(MessagesV4_4_2_4_Supported, GoldenMultimap) {
    SupportedResponse m{{{"COMPRESSION", {"lz4", "snappy"}}, {"CQL_VERSION", {"3.4.5"}}}};
    Bytes golden = Golden().u16(2).str("COMPRESSION").u16(2).str("lz4").str("snappy").str("CQL_VERSION").u16(1).str(
        "3.4.5");
    check_golden(m, golden, v4);
    auto d = decode_as<SupportedResponse>(Opcode::supported, golden, v4);
    EXPECT_EQ(d.options.at("COMPRESSION"), (std::vector<std::string>{"lz4", "snappy"}));
}

// v4 4.2.7 / 4.2.8: a single [bytes] token, possibly null.
TEST(MessagesV4_4_2_7_AuthChallengeAndSuccess, GoldenTokens) {
    check_golden(AuthChallengeResponse{Bytes{1, 2, 3}}, Bytes{0, 0, 0, 3, 1, 2, 3}, v4);
    check_golden(AuthSuccessResponse{}, Bytes{0xFF, 0xFF, 0xFF, 0xFF}, v5);
    check_golden(AuthSuccessResponse{Bytes{}}, Bytes{0, 0, 0, 0}, v4);
    EXPECT_FALSE(decode_as<AuthSuccessResponse>(Opcode::auth_success, Bytes{0xFF, 0xFF, 0xFF, 0xFF}, v4).token);
}

// ------------------------------------------------------------------ RESULT

// v4 4.2.5.1: kind 0x0001 and nothing else.
TEST(MessagesV4_4_2_5_1_Void, Golden) {
    check_golden(ResultResponse{VoidResult{}}, Bytes{0, 0, 0, 1}, v4);
    check_golden(ResultResponse{VoidResult{}}, Bytes{0, 0, 0, 1}, v5);
}

TEST(MessagesV4_4_2_5_Result, UnknownKindIsRejected) {
    for (std::int32_t kind : {0, 6, -1, 0x7FFFFFFF})
        expect_protocol_error(ProtocolErrc::invalid_value,
                              [&] { decode_response(Opcode::result, Golden().i32(kind).build(), v4); });
}

// v4 4.2.5.2: <flags=0x0001 global><columns_count><ks><table>(<name><type>)*<rows_count><cells>.
TEST(MessagesV4_4_2_5_2_Rows, GoldenGlobalTableSpec) {
    Bytes cells = Golden().i32(4).i32(1).i32(2).chars("hi").i32(4).i32(2).i32(-1);
    Bytes golden = Golden()
                       .i32(2)
                       .i32(0x0001)
                       .i32(2)
                       .str("ks")
                       .str("t")
                       .str("k")
                       .u16(0x0009)
                       .str("v")
                       .u16(0x000D)
                       .i32(2)
                       .raw(cells);
    auto r = decode_result<RowsResult>(golden, v4);
    EXPECT_EQ(r.row_count, 2);
    EXPECT_EQ(r.metadata.column_count, 2);
    EXPECT_FALSE(r.metadata.no_metadata);
    EXPECT_FALSE(r.metadata.has_more_pages());
    ASSERT_EQ(r.metadata.columns.size(), 2u);
    EXPECT_EQ(r.metadata.columns[0].keyspace, "ks");
    EXPECT_EQ(r.metadata.columns[1].table, "t");
    EXPECT_EQ(r.metadata.columns[1].name, "v");
    EXPECT_EQ(r.metadata.columns[0].type->kind, TypeKind::int_);
    EXPECT_EQ(r.metadata.columns[1].type->kind, TypeKind::varchar);
    // rows_content is a view of exactly the cells, inside the body buffer.
    EXPECT_EQ(Bytes(r.rows_content.begin(), r.rows_content.end()), cells);
    EXPECT_EQ(r.rows_content.data(), golden.data() + (golden.size() - cells.size()));

    RowsResult built;
    built.metadata.columns = {col("ks", "t", "k", DataType::simple(TypeKind::int_)),
                              col("ks", "t", "v", DataType::simple(TypeKind::varchar))};
    built.metadata.column_count = 2;
    built.row_count = 2;
    built.rows_content = cells;
    check_golden(ResultResponse{built}, golden, v4);
    check_golden(ResultResponse{built}, golden, v5);
}

// v4 4.2.5.2: without Global_tables_spec every col_spec carries <ksname><tablename>.
TEST(MessagesV4_4_2_5_2_Rows, GoldenPerColumnTableSpec) {
    Bytes golden = Golden()
                       .i32(2)
                       .i32(0)
                       .i32(2)
                       .str("ks")
                       .str("a")
                       .str("x")
                       .u16(0x0002)
                       .str("ks")
                       .str("b")
                       .str("y")
                       .u16(0x0004)
                       .i32(1)
                       .i32(8)
                       .i64(7)
                       .i32(1)
                       .u8(1);
    auto r = decode_result<RowsResult>(golden, v4);
    ASSERT_EQ(r.metadata.columns.size(), 2u);
    EXPECT_EQ(r.metadata.columns[0].table, "a");
    EXPECT_EQ(r.metadata.columns[1].table, "b");
    EXPECT_EQ(r.metadata.columns[1].type->kind, TypeKind::boolean);
    check_golden(ResultResponse{r}, golden, v4);
}

// v4 4.2.5.2: Has_more_pages (0x0002) puts a [bytes] paging state after the column count;
// No_metadata (0x0004) leaves out every col_spec but the count still gives cells per row.
TEST(MessagesV4_4_2_5_2_Rows, GoldenPagingStateAndNoMetadata) {
    Bytes state{0x01, 0x02, 0x03};
    Bytes cells = Golden().i32(0).i32(-1).i32(1).u8(9).i32(0).i32(0).i32(0);  // 2 rows x 3 columns
    Bytes golden = Golden().i32(2).i32(0x0006).i32(3).bytes(state).i32(2).raw(cells);
    auto r = decode_result<RowsResult>(golden, v4);
    EXPECT_TRUE(r.metadata.no_metadata);
    EXPECT_TRUE(r.metadata.columns.empty());
    EXPECT_EQ(r.metadata.column_count, 3);
    ASSERT_TRUE(r.metadata.has_more_pages());
    EXPECT_EQ(*r.metadata.paging_state, state);
    EXPECT_EQ(r.rows_content.size(), cells.size());
    check_golden(ResultResponse{r}, golden, v4);
    check_golden(ResultResponse{r}, golden, v5);
}

// v5 4.2.5.2: Metadata_changed (0x0008) puts <new_metadata_id> ([short bytes]) after the paging
// state; the metadata must then be present.
TEST(MessagesV5_4_2_5_2_Rows, GoldenMetadataChanged) {
    Bytes state{0xAA};
    Bytes id{0x10, 0x20, 0x30, 0x40};
    Bytes golden = Golden()
                       .i32(2)
                       .i32(0x000B)
                       .i32(1)
                       .bytes(state)
                       .sbytes(id)
                       .str("ks")
                       .str("t")
                       .str("c")
                       .u16(0x0003)
                       .i32(0);
    auto r = decode_result<RowsResult>(golden, v5);
    ASSERT_TRUE(r.metadata.new_metadata_id);
    EXPECT_EQ(*r.metadata.new_metadata_id, id);
    EXPECT_EQ(*r.metadata.paging_state, state);
    EXPECT_EQ(r.metadata.columns.at(0).type->kind, TypeKind::blob);
    EXPECT_EQ(r.row_count, 0);
    EXPECT_TRUE(r.rows_content.empty());
    check_golden(ResultResponse{r}, golden, v5);

    // v4 has no such flag: it would hide a field, so it is refused.
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_response(Opcode::result, golden, v4); });
    // "if set, the No_metadata flag has to be unset".
    Bytes both = Golden().i32(2).i32(0x000C).i32(1).sbytes(id).i32(0);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_response(Opcode::result, both, v5); });
    RowsMetadata bad;
    bad.no_metadata = true;
    bad.new_metadata_id = id;
    Bytes out;
    ByteWriter w(out);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { encode_rows_metadata(w, bad, v5); });
    // A v4 peer is simply not told about the new id.
    out.clear();
    RowsMetadata changed;
    changed.new_metadata_id = id;
    encode_rows_metadata(w, changed, v4);
    EXPECT_EQ(out, Golden().i32(0).i32(0).build());
}

// v4 4.2.5.2 [option]s: collections, UDT, tuple; v5 (Cassandra 5) vector as a custom type.
TEST(MessagesV4_4_2_5_2_Rows, NestedTypesRoundTrip) {
    Bytes golden = Golden()
                       .i32(2)
                       .i32(0x0001)
                       .i32(4)
                       .str("ks")
                       .str("t")
                       .str("l")
                       .u16(0x0020)
                       .u16(0x0009)
                       .str("m")
                       .u16(0x0021)
                       .u16(0x000D)
                       .u16(0x0022)
                       .u16(0x0002)
                       .str("u")
                       .u16(0x0030)
                       .str("ks")
                       .str("addr")
                       .u16(2)
                       .str("street")
                       .u16(0x000D)
                       .str("no")
                       .u16(0x0009)
                       .str("tp")
                       .u16(0x0031)
                       .u16(2)
                       .u16(0x000C)
                       .u16(0x0000)
                       .str("org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType,3)")
                       .i32(0);
    auto r = decode_result<RowsResult>(golden, v5);
    ASSERT_EQ(r.metadata.columns.size(), 4u);
    EXPECT_EQ(r.metadata.columns[0].type->cql_name(), "list<int>");
    EXPECT_EQ(r.metadata.columns[1].type->cql_name(), "map<text, set<bigint>>");
    EXPECT_EQ(r.metadata.columns[2].type->kind, TypeKind::udt);
    EXPECT_EQ(r.metadata.columns[2].type->field_names, (std::vector<std::string>{"street", "no"}));
    EXPECT_EQ(r.metadata.columns[3].type->kind, TypeKind::tuple);
    EXPECT_EQ(r.metadata.columns[3].type->params.at(1)->kind, TypeKind::vector);
    check_golden(ResultResponse{r}, golden, v5);
}

TEST(MessagesV4_4_2_5_2_Rows, MalformedCellsAndCounts) {
    auto rows = [](std::int32_t columns, std::int32_t rows, const Bytes& cells) {
        return Golden().i32(2).i32(0x0004).i32(columns).i32(rows).raw(cells).build();
    };
    EXPECT_NO_THROW(decode_response(Opcode::result, rows(1, 1, Golden().i32(-1)), v4));
    // [bytes] cells: -1 is null; -2 (unset) is not a cell value.
    expect_protocol_error(ProtocolErrc::invalid_length,
                          [&] { decode_response(Opcode::result, rows(1, 1, Golden().i32(-2)), v4); });
    expect_protocol_error(ProtocolErrc::invalid_length,
                          [&] { decode_response(Opcode::result, rows(1, 1, Golden().i32(INT32_MIN)), v4); });
    // A cell longer than the body.
    expect_protocol_error(ProtocolErrc::truncated,
                          [&] { decode_response(Opcode::result, rows(1, 1, Golden().i32(5).raw({1, 2})), v4); });
    // Fewer cells than rows x columns.
    expect_protocol_error(ProtocolErrc::truncated,
                          [&] { decode_response(Opcode::result, rows(2, 2, Golden().i32(0).i32(0).i32(0)), v4); });
    // Negative counts.
    expect_protocol_error(ProtocolErrc::invalid_length, [&] { decode_response(Opcode::result, rows(-1, 0, {}), v4); });
    expect_protocol_error(ProtocolErrc::invalid_length, [&] { decode_response(Opcode::result, rows(1, -1, {}), v4); });
    // Huge counts whose product overflows 32 bits fail fast as truncated.
    expect_protocol_error(ProtocolErrc::truncated,
                          [&] { decode_response(Opcode::result, rows(0x7FFFFFFF, 0x7FFFFFFF, Golden().i32(0)), v4); });
    // A huge column count with metadata cannot make the decoder reserve memory it has no bytes for.
    Bytes many_columns = Golden().i32(2).i32(0x0001).i32(0x7FFFFFFF).str("k").str("t").str("c").u16(9).i32(0);
    expect_protocol_error(ProtocolErrc::truncated, [&] { decode_response(Opcode::result, many_columns, v4); });
    // Rows with zero columns: no bytes back the announced rows.
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_response(Opcode::result, rows(0, 5, {}), v4); });
    EXPECT_NO_THROW(decode_response(Opcode::result, rows(0, 0, {}), v4));
    // Unknown metadata flag bits.
    Bytes unknown_flag = Golden().i32(2).i32(0x0010).i32(0).i32(0);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_response(Opcode::result, unknown_flag, v5); });
    // Has_more_pages with a null paging state.
    Bytes null_state = Golden().i32(2).i32(0x0006).i32(0).i32(-1).i32(0);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_response(Opcode::result, null_state, v4); });
    // An unknown type id.
    Bytes bad_type = Golden().i32(2).i32(0x0001).i32(1).str("k").str("t").str("c").u16(0x000A).i32(0);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_response(Opcode::result, bad_type, v4); });
}

// v4 4.2: "clients should support extra informations ... at the end of the frame body": after
// the last cell a Rows body may carry more; rows_content stops at the last cell.
TEST(MessagesV4_4_2_5_2_Rows, BytesAfterTheCellsAreNotPartOfRowsContent) {
    Bytes golden = Golden().i32(2).i32(0x0004).i32(1).i32(1).i32(1).u8(7).raw({0xEE, 0xEE});
    auto r = decode_result<RowsResult>(golden, v4);
    EXPECT_EQ(Bytes(r.rows_content.begin(), r.rows_content.end()), (Bytes{0, 0, 0, 1, 7}));
}

// v4 4.2.5.3: Set_keyspace is a [string].
TEST(MessagesV4_4_2_5_3_SetKeyspace, Golden) {
    Bytes golden = Golden().i32(3).str("my_ks");
    check_golden(ResultResponse{SetKeyspaceResult{"my_ks"}}, golden, v4);
    EXPECT_EQ(decode_result<SetKeyspaceResult>(golden, v5).keyspace, "my_ks");
}

namespace {
PreparedResult sample_prepared() {
    PreparedResult p;
    p.id = Bytes{0xCA, 0xFE};
    p.metadata.partition_key_indexes = {1, 0};
    p.metadata.columns = {col("ks", "t", "a", DataType::simple(TypeKind::int_)),
                          col("ks", "t", "b", DataType::simple(TypeKind::varchar))};
    p.result_metadata.columns = {col("ks", "t", "v", DataType::simple(TypeKind::blob))};
    p.result_metadata.column_count = 1;
    return p;
}
Bytes prepared_metadata_golden() {
    // <flags=global><columns_count=2><pk_count=2><1><0><ks><t><a:int><b:varchar>
    return Golden().i32(1).i32(2).i32(2).u16(1).u16(0).str("ks").str("t").str("a").u16(9).str("b").u16(0x0D);
}
Bytes result_metadata_golden() { return Golden().i32(1).i32(1).str("ks").str("t").str("v").u16(3); }
}  // namespace

// v4 4.2.5.4: <id><metadata><result_metadata>, metadata with pk indexes.
TEST(MessagesV4_4_2_5_4_Prepared, GoldenLayout) {
    PreparedResult p = sample_prepared();
    p.result_metadata_id = Bytes{1};  // v5 only: not written in v4
    Bytes golden =
        Golden().i32(4).sbytes({0xCA, 0xFE}).raw(prepared_metadata_golden()).raw(result_metadata_golden());
    check_golden(ResultResponse{p}, golden, v4);
    auto d = decode_result<PreparedResult>(golden, v4);
    EXPECT_EQ(d.id, (Bytes{0xCA, 0xFE}));
    EXPECT_TRUE(d.result_metadata_id.empty());
    EXPECT_EQ(d.metadata.partition_key_indexes, (std::vector<std::uint16_t>{1, 0}));
    ASSERT_EQ(d.metadata.columns.size(), 2u);
    EXPECT_EQ(d.metadata.columns[1].name, "b");
    EXPECT_EQ(d.metadata.columns[1].keyspace, "ks");
    EXPECT_EQ(d.result_metadata.columns.at(0).name, "v");
}

// v5 4.2.5.4: <id><result_metadata_id><metadata><result_metadata>.
TEST(MessagesV5_4_2_5_4_Prepared, GoldenCarriesResultMetadataId) {
    PreparedResult p = sample_prepared();
    p.result_metadata_id = Bytes{0x55, 0x66, 0x77};
    Bytes golden = Golden()
                       .i32(4)
                       .sbytes({0xCA, 0xFE})
                       .sbytes({0x55, 0x66, 0x77})
                       .raw(prepared_metadata_golden())
                       .raw(result_metadata_golden());
    check_golden(ResultResponse{p}, golden, v5);
    EXPECT_EQ(decode_result<PreparedResult>(golden, v5).result_metadata_id, (Bytes{0x55, 0x66, 0x77}));
}

// v4 4.2.5.4: a non-SELECT has empty result metadata (No_metadata, 0 columns); bind markers of
// several tables use per-column specs.
TEST(MessagesV4_4_2_5_4_Prepared, NoResultMetadataAndPerColumnSpecs) {
    PreparedResult p;
    p.id = Bytes{7};
    p.metadata.columns = {col("ks", "a", "x", DataType::simple(TypeKind::int_)),
                          col("ks2", "a", "y", DataType::simple(TypeKind::int_))};
    p.result_metadata.no_metadata = true;
    Bytes golden = Golden()
                       .i32(4)
                       .sbytes({7})
                       .i32(0)
                       .i32(2)
                       .i32(0)
                       .str("ks")
                       .str("a")
                       .str("x")
                       .u16(9)
                       .str("ks2")
                       .str("a")
                       .str("y")
                       .u16(9)
                       .i32(0x0004)
                       .i32(0);
    check_golden(ResultResponse{p}, golden, v4);
    auto d = decode_result<PreparedResult>(golden, v4);
    EXPECT_TRUE(d.result_metadata.no_metadata);
    EXPECT_TRUE(d.metadata.partition_key_indexes.empty());
    // Negative pk_count, unknown flags.
    Bytes bad_pk = Golden().i32(4).sbytes({7}).i32(0).i32(0).i32(-1).i32(4).i32(0);
    expect_protocol_error(ProtocolErrc::invalid_length, [&] { decode_response(Opcode::result, bad_pk, v4); });
    // A partition key index must name one of the bind markers (here 2 of 2).
    auto with_index = [](std::uint16_t index) {
        return Golden().i32(4).sbytes({7}).i32(1).i32(2).i32(1).u16(index).str("k").str("t").str("a").u16(9).str(
            "b").u16(9).i32(4).i32(0).build();
    };
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_response(Opcode::result, with_index(2), v4); });
    EXPECT_NO_THROW(decode_response(Opcode::result, with_index(1), v4));
    Bytes bad_flags = Golden().i32(4).sbytes({7}).i32(2).i32(0).i32(0).i32(4).i32(0);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_response(Opcode::result, bad_flags, v4); });
}

// v4 4.2.5.5 + 4.2.6: <change_type><target><options>, options by target.
TEST(MessagesV4_4_2_5_5_SchemaChange, GoldenEveryTarget) {
    SchemaChange ks{"CREATED", "KEYSPACE", "ks", "", {}};
    check_golden(ResultResponse{ks}, Golden().i32(5).str("CREATED").str("KEYSPACE").str("ks"), v4);
    SchemaChange table{"UPDATED", "TABLE", "ks", "t", {}};
    check_golden(ResultResponse{table}, Golden().i32(5).str("UPDATED").str("TABLE").str("ks").str("t"), v5);
    SchemaChange type{"DROPPED", "TYPE", "ks", "addr", {}};
    check_golden(ResultResponse{type}, Golden().i32(5).str("DROPPED").str("TYPE").str("ks").str("addr"), v4);
    SchemaChange fn{"CREATED", "FUNCTION", "ks", "f", {"int", "text"}};
    Bytes fn_golden = Golden().i32(5).str("CREATED").str("FUNCTION").str("ks").str("f").u16(2).str("int").str("text");
    check_golden(ResultResponse{fn}, fn_golden, v4);
    SchemaChange agg{"CREATED", "AGGREGATE", "ks", "a", {}};
    check_golden(ResultResponse{agg}, Golden().i32(5).str("CREATED").str("AGGREGATE").str("ks").str("a").u16(0), v5);
    auto d = decode_result<SchemaChange>(fn_golden, v4);
    EXPECT_EQ(d.name, "f");
    EXPECT_EQ(d.arg_types, (std::vector<std::string>{"int", "text"}));
    // The target decides the layout, so an unknown one is an error.
    expect_protocol_error(ProtocolErrc::invalid_value, [&] {
        decode_response(Opcode::result, Golden().i32(5).str("CREATED").str("INDEX").str("ks").build(), v4);
    });
}

// ------------------------------------------------------------------ EVENT

// v4 4.2.6: TOPOLOGY_CHANGE / STATUS_CHANGE = <change>[inet]; [inet] = [inetaddr][int port].
TEST(MessagesV4_4_2_6_Event, GoldenNodeEvents) {
    TopologyChangeEvent topo{"NEW_NODE", Bytes{127, 0, 0, 2}, 9042};
    Bytes golden = Golden().str("TOPOLOGY_CHANGE").str("NEW_NODE").u8(4).raw({127, 0, 0, 2}).i32(9042);
    check_golden(EventResponse{topo}, golden, v4);
    auto d = std::get<TopologyChangeEvent>(decode_as<EventResponse>(Opcode::event, golden, v4));
    EXPECT_EQ(d.change_type, "NEW_NODE");
    EXPECT_EQ(d.address, (Bytes{127, 0, 0, 2}));
    EXPECT_EQ(d.port, 9042);

    Bytes v6(16, 0);
    v6[15] = 1;
    StatusChangeEvent status{"DOWN", v6, 19042};
    Bytes status_golden = Golden().str("STATUS_CHANGE").str("DOWN").u8(16).raw(v6).i32(19042);
    check_golden(EventResponse{status}, status_golden, v5);
    EXPECT_EQ(std::get<StatusChangeEvent>(decode_as<EventResponse>(Opcode::event, status_golden, v5)).address, v6);
}

TEST(MessagesV4_4_2_6_Event, GoldenSchemaChangeAndErrors) {
    SchemaChange c{"DROPPED", "TABLE", "ks", "t", {}};
    Bytes golden = Golden().str("SCHEMA_CHANGE").str("DROPPED").str("TABLE").str("ks").str("t");
    check_golden(EventResponse{c}, golden, v4);
    EXPECT_EQ(std::get<SchemaChange>(decode_as<EventResponse>(Opcode::event, golden, v4)).name, "t");
    expect_protocol_error(ProtocolErrc::invalid_value,
                          [&] { decode_response(Opcode::event, Golden().str("CLIENT_CHANGE").str("X").build(), v4); });
    // [inetaddr] sizes are 4 or 16.
    Bytes bad_inet = Golden().str("STATUS_CHANGE").str("UP").u8(5).raw({1, 2, 3, 4, 5}).i32(1);
    expect_protocol_error(ProtocolErrc::invalid_length, [&] { decode_response(Opcode::event, bad_inet, v4); });
}

// ------------------------------------------------------------------ dispatch, prefix, frames

TEST(MessagesResponses, OpcodeOfEveryResponse) {
    EXPECT_EQ(opcode_of(Response{ErrorResponse{}}), Opcode::error);
    EXPECT_EQ(opcode_of(Response{ReadyResponse{}}), Opcode::ready);
    EXPECT_EQ(opcode_of(Response{AuthenticateResponse{}}), Opcode::authenticate);
    EXPECT_EQ(opcode_of(Response{SupportedResponse{}}), Opcode::supported);
    EXPECT_EQ(opcode_of(Response{ResultResponse{}}), Opcode::result);
    EXPECT_EQ(opcode_of(Response{EventResponse{}}), Opcode::event);
    EXPECT_EQ(opcode_of(Response{AuthChallengeResponse{}}), Opcode::auth_challenge);
    EXPECT_EQ(opcode_of(Response{AuthSuccessResponse{}}), Opcode::auth_success);
    for (Opcode op : {Opcode::startup, Opcode::query, Opcode::options, Opcode::batch, Opcode::auth_response})
        expect_protocol_error(ProtocolErrc::unknown_opcode, [&] { decode_response(op, Bytes{}, v4); }, to_string(op));
}

// v4 2.2: response body = [tracing id: uuid][warnings: string list][custom payload: bytes map]
// then the message, each present only with its flag (0x02, 0x08, 0x04).
TEST(MessagesV4_2_2_BodyPrefix, GoldenTracingWarningsPayload) {
    Uuid16 id{};
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(i + 1);
    Bytes golden = Golden()
                       .raw(Bytes(id.begin(), id.end()))
                       .u16(1)
                       .str("slow")
                       .u16(1)
                       .str("p")
                       .i32(-1)
                       .i32(1);  // the message: RESULT Void
    ByteReader in(golden);
    BodyPrefix p = decode_body_prefix(in, frame_flags::tracing | frame_flags::warning | frame_flags::custom_payload, true);
    ASSERT_TRUE(p.tracing_id);
    EXPECT_EQ(*p.tracing_id, id);
    EXPECT_EQ(p.warnings, (std::vector<std::string>{"slow"}));
    ASSERT_EQ(p.custom_payload.count("p"), 1u);
    EXPECT_FALSE(p.custom_payload["p"]);
    EXPECT_EQ(in.remaining(), 4u);
    EXPECT_TRUE(std::holds_alternative<ResultResponse>(decode_response(Opcode::result, in.rest(), v4)));

    // Encoding derives the flags from the filled fields and writes the same bytes.
    Bytes out;
    std::size_t n = encode_response_frame(out, v4, 5, ResultResponse{VoidResult{}}, p);
    Bytes expected = Golden().raw({0x84, 0x0E, 0x00, 0x05, 0x08}).i32(static_cast<std::int32_t>(golden.size())).raw(golden);
    EXPECT_EQ(out, expected);
    EXPECT_EQ(n, expected.size());

    // Without flags nothing is read; every truncation of the prefix fails.
    ByteReader none(golden);
    EXPECT_FALSE(decode_body_prefix(none, 0, true).tracing_id);
    EXPECT_EQ(none.position(), 0u);
    Bytes prefix_only(golden.begin(), golden.end() - 4);
    expect_every_truncation_throws(
        [](BytesView body) {
            ByteReader r(body);
            decode_body_prefix(r, frame_flags::tracing | frame_flags::warning | frame_flags::custom_payload, true);
        },
        prefix_only);
}

// v5 2: responses carry 0x85; the event stream is -1.
TEST(MessagesV5_2_ResponseFrame, VersionByteAndStream) {
    Bytes out;
    encode_response_frame(out, v5, kEventStreamId, ReadyResponse{});
    EXPECT_EQ(out, (Bytes{0x85, 0x00, 0xFF, 0xFF, 0x02, 0, 0, 0, 0}));
    // A response tracing flag needs a tracing id.
    out.clear();
    expect_protocol_error(ProtocolErrc::invalid_value,
                          [&] { encode_response_frame(out, v5, 1, ReadyResponse{}, frame_flags::tracing); });
    // Flags given explicitly write empty fields (an empty warning list here).
    out.clear();
    encode_response_frame(out, v4, 1, ReadyResponse{}, frame_flags::warning);
    EXPECT_EQ(out, (Bytes{0x84, 0x08, 0x00, 0x01, 0x02, 0, 0, 0, 2, 0, 0}));
}

// v4 4.2.5.2 <metadata> on its own, as the server's streaming encoder and the page layer use it:
// the reader stops right after the metadata.
TEST(MessagesV4_4_2_5_2_RowsMetadata, PublicPiecesStopAfterMetadata) {
    RowsMetadata m;
    m.columns = {col("ks", "a", "x", DataType::simple(TypeKind::int_)),
                 col("ks", "b", "y", DataType::simple(TypeKind::double_))};
    m.paging_state = Bytes{5, 6};
    Bytes out;
    ByteWriter w(out);
    encode_rows_metadata(w, m, v4);
    Bytes golden = Golden()
                       .i32(0x0002)
                       .i32(2)
                       .bytes({5, 6})
                       .str("ks")
                       .str("a")
                       .str("x")
                       .u16(9)
                       .str("ks")
                       .str("b")
                       .str("y")
                       .u16(7);
    EXPECT_EQ(out, golden);
    out.push_back(0x99);  // whatever follows (row count) is not consumed
    ByteReader in(out);
    RowsMetadata d = decode_rows_metadata(in, v5);
    EXPECT_EQ(in.remaining(), 1u);
    EXPECT_EQ(d.column_count, 2);
    EXPECT_EQ(d.columns.at(1).type->kind, TypeKind::double_);
    EXPECT_EQ(d.paging_state, m.paging_state);
    EXPECT_FALSE(d.new_metadata_id);
}
