// Request bodies: golden bytes written from native_protocol_v4.spec / native_protocol_v5.spec
// section 4.1 ("v4 4.1.4" = section 4.1.4 of the v4 spec), round trips and error paths.
#include "test_messages_support.hpp"

#include <string>

using namespace acass_test;

namespace {

const ProtocolVersion v4 = ProtocolVersion::v4;
const ProtocolVersion v5 = ProtocolVersion::v5;

Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string s(BytesView v) { return std::string(v.begin(), v.end()); }

ValueView value_of(const Bytes& bytes) { return {ValueView::Kind::value, bytes}; }
const ValueView kNull{ValueView::Kind::null, {}};
const ValueView kUnset{ValueView::Kind::unset, {}};

template <class T>
T decode_as(Opcode op, const Bytes& body, ProtocolVersion v) {
    Request r = decode_request(op, body, v);
    EXPECT_TRUE(std::holds_alternative<T>(r));
    return std::get<T>(r);
}

// The full check for one golden body: decodes, re-encodes to the same bytes, rejects a trailing
// byte and every truncation.
void check_golden(const Request& request, const Bytes& golden, ProtocolVersion v) {
    Opcode op = opcode_of(request);
    EXPECT_EQ(encode(request, v), golden) << to_string(op);
    EXPECT_EQ(encode(decode_request(op, golden, v), v), golden) << to_string(op);
    Bytes longer = golden;
    longer.push_back(0);
    expect_protocol_error(ProtocolErrc::trailing_bytes, [&] { decode_request(op, longer, v); }, to_string(op));
    if (!golden.empty())
        expect_every_truncation_throws([&](BytesView body) { decode_request(op, body, v); }, golden);
}

}  // namespace

// ------------------------------------------------------------------ STARTUP, AUTH_RESPONSE, OPTIONS

// v4 4.1.1: the body is a [string map].
TEST(MessagesV4_4_1_1_Startup, GoldenStringMap) {
    StartupRequest m{{{"CQL_VERSION", "3.0.0"}, {"COMPRESSION", "lz4"}}};
    // [string map] is sorted here only because std::map is; the spec imposes no order.
    Bytes golden = Golden().u16(2).str("COMPRESSION").str("lz4").str("CQL_VERSION").str("3.0.0");
    check_golden(m, golden, v4);
    check_golden(m, golden, v5);
    auto d = decode_as<StartupRequest>(Opcode::startup, golden, v4);
    EXPECT_EQ(d.options.at("CQL_VERSION"), "3.0.0");
    EXPECT_EQ(d.options.at("COMPRESSION"), "lz4");
}

// v4 4.1.2: a single [bytes] token; PROTOCOL-NOTES: SASL PLAIN is "\0user\0password".
TEST(MessagesV4_4_1_2_AuthResponse, GoldenTokenAndNull) {
    Bytes token = b(std::string_view("\0cassandra\0cassandra", 20));
    check_golden(AuthResponseRequest{token}, Golden().bytes(token), v4);
    auto d = decode_as<AuthResponseRequest>(Opcode::auth_response, Golden().bytes(token), v5);
    ASSERT_TRUE(d.token);
    EXPECT_EQ(*d.token, token);
    // A null token ([bytes] length -1) stays distinct from an empty one.
    check_golden(AuthResponseRequest{}, Bytes{0xFF, 0xFF, 0xFF, 0xFF}, v4);
    check_golden(AuthResponseRequest{Bytes{}}, Bytes{0, 0, 0, 0}, v4);
    EXPECT_FALSE(decode_as<AuthResponseRequest>(Opcode::auth_response, Bytes{0xFF, 0xFF, 0xFF, 0xFF}, v4).token);
}

// v4 4.1.3: OPTIONS has an empty body.
TEST(MessagesV4_4_1_3_Options, EmptyBody) {
    check_golden(OptionsRequest{}, Bytes{}, v4);
    check_golden(OptionsRequest{}, Bytes{}, v5);
}

// v4 4.1.8: REGISTER is a [string list].
TEST(MessagesV4_4_1_8_Register, GoldenStringList) {
    RegisterRequest m{{"TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"}};
    Bytes golden = Golden().u16(3).str("TOPOLOGY_CHANGE").str("STATUS_CHANGE").str("SCHEMA_CHANGE");
    check_golden(m, golden, v4);
    check_golden(m, golden, v5);
    EXPECT_EQ(decode_as<RegisterRequest>(Opcode::register_, golden, v4).event_types, m.event_types);
}

// ------------------------------------------------------------------ QUERY

// v4 4.1.4: <query><consistency><flags:byte>; no optional field, so flags = 0.
TEST(MessagesV4_4_1_4_Query, GoldenMinimalHasByteFlags) {
    QueryRequest m{"SELECT 1", {}};
    m.params.consistency = Consistency::one;
    Bytes golden{0, 0, 0, 8, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0x00, 0x01, 0x00};
    check_golden(m, golden, v4);
    auto d = decode_as<QueryRequest>(Opcode::query, golden, v4);
    EXPECT_EQ(d.query, "SELECT 1");
    EXPECT_EQ(d.params.consistency, Consistency::one);
    EXPECT_TRUE(d.params.values.empty());
    EXPECT_FALSE(d.params.page_size);
}

// v5 4.1.4: the same QUERY, but <flags> is an [int].
TEST(MessagesV5_4_1_4_Query, GoldenMinimalHasIntFlags) {
    QueryRequest m{"SELECT 1", {}};
    m.params.consistency = Consistency::one;
    Bytes golden{0, 0, 0, 8, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
    check_golden(m, golden, v5);
}

// v4 4.1.4: every v4 field, in the order values, page size, paging state, serial consistency,
// timestamp; flags 0x01|0x02|0x04|0x08|0x10|0x20 = 0x3F. [value] -1 is null, -2 is unset.
TEST(MessagesV4_4_1_4_Query, GoldenAllV4Fields) {
    Bytes one{0, 0, 0, 1};
    Bytes state{0xAB, 0xCD};
    QueryRequest m{"SELECT * FROM t WHERE k = ? AND c = ? AND d = ?", {}};
    m.params.consistency = Consistency::local_quorum;
    m.params.values = {value_of(one), kNull, kUnset};
    m.params.skip_metadata = true;
    m.params.page_size = 5000;
    m.params.paging_state = BytesView(state);
    m.params.serial_consistency = Consistency::local_serial;
    m.params.default_timestamp = 1'700'000'000'000'000;
    Bytes golden = Golden()
                       .lstr(m.query)
                       .u16(0x0006)
                       .u8(0x3F)
                       .u16(3)
                       .bytes(one)
                       .i32(-1)
                       .i32(-2)
                       .i32(5000)
                       .bytes(state)
                       .u16(0x0009)
                       .i64(1'700'000'000'000'000);
    check_golden(m, golden, v4);
    auto d = decode_as<QueryRequest>(Opcode::query, golden, v4);
    ASSERT_EQ(d.params.values.size(), 3u);
    EXPECT_EQ(d.params.values[0].kind, ValueView::Kind::value);
    EXPECT_EQ(s(d.params.values[0].bytes), s(one));
    EXPECT_TRUE(d.params.values[1].is_null());
    EXPECT_TRUE(d.params.values[2].is_unset());
    EXPECT_TRUE(d.params.skip_metadata);
    EXPECT_EQ(d.params.page_size, 5000);
    ASSERT_TRUE(d.params.paging_state);
    EXPECT_EQ(s(*d.params.paging_state), s(state));
    EXPECT_EQ(d.params.serial_consistency, Consistency::local_serial);
    EXPECT_EQ(d.params.default_timestamp, 1'700'000'000'000'000);
    EXPECT_TRUE(d.params.value_names.empty());
    // Views point into the decoded body, not into copies.
    EXPECT_GE(d.params.values[0].bytes.data(), golden.data());
    EXPECT_LT(d.params.values[0].bytes.data(), golden.data() + golden.size());
}

// v5 4.1.4: names for values (0x40: a [string] before each value), keyspace (0x80, a [string]
// after the timestamp slot) and now_in_seconds (0x100, an [int] last): flags 0x1C5.
TEST(MessagesV5_4_1_4_Query, GoldenNamesKeyspaceNowInSeconds) {
    Bytes one{0, 0, 0, 1};
    QueryRequest m{"SELECT * FROM t WHERE k = :k AND c = :c", {}};
    m.params.consistency = Consistency::quorum;
    m.params.values = {value_of(one), kNull};
    m.params.value_names = {"k", "c"};
    m.params.page_size = 100;
    m.params.keyspace = "ks";
    m.params.now_in_seconds = 1234;
    Bytes golden = Golden()
                       .lstr(m.query)
                       .u16(0x0004)
                       .i32(0x1C5)
                       .u16(2)
                       .str("k")
                       .bytes(one)
                       .str("c")
                       .i32(-1)
                       .i32(100)
                       .str("ks")
                       .i32(1234);
    check_golden(m, golden, v5);
    auto d = decode_as<QueryRequest>(Opcode::query, golden, v5);
    ASSERT_EQ(d.params.value_names.size(), 2u);
    EXPECT_EQ(d.params.value_names[0], "k");
    EXPECT_EQ(d.params.value_names[1], "c");
    EXPECT_EQ(d.params.keyspace, "ks");
    EXPECT_EQ(d.params.now_in_seconds, 1234);
}

// v4 4.1.4 also has flag 0x40 (names for values), in a byte.
TEST(MessagesV4_4_1_4_Query, GoldenNamesForValuesV4) {
    Bytes one{1};
    QueryRequest m{"Q", {}};
    m.params.values = {value_of(one)};
    m.params.value_names = {"x"};
    Bytes golden = Golden().lstr("Q").u16(0x000A).u8(0x41).u16(1).str("x").bytes(one);
    check_golden(m, golden, v4);
}

TEST(MessagesV4_4_1_4_Query, V5OnlyFieldsAreRefusedInV4) {
    QueryRequest m{"Q", {}};
    m.params.keyspace = "ks";
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { encode(m, v4); });
    m.params.keyspace.reset();
    m.params.now_in_seconds = 1;
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { encode(m, v4); });
    // The v4 decoder treats 0x80 as unknown: it may announce a field it cannot read.
    Bytes v4_keyspace = Golden().lstr("Q").u16(1).u8(0x80).str("ks");
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_request(Opcode::query, v4_keyspace, v4); });
    Bytes v5_unknown = Golden().lstr("Q").u16(1).i32(0x200);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_request(Opcode::query, v5_unknown, v5); });
}

TEST(MessagesV4_4_1_4_Query, RejectsBadValuesAndNames) {
    Bytes one{1};
    QueryRequest m{"Q", {}};
    m.params.values = {value_of(one), kNull};
    m.params.value_names = {"only_one"};
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { encode(m, v4); });
    // v4 section 3: [value] lengths below -2 mean nothing.
    Bytes bad_value = Golden().lstr("Q").u16(1).u8(0x01).u16(1).i32(-3);
    expect_protocol_error(ProtocolErrc::invalid_length, [&] { decode_request(Opcode::query, bad_value, v4); });
    // A negative [long string] length.
    Bytes bad_query = Golden().i32(-1).u16(1).u8(0);
    expect_protocol_error(ProtocolErrc::invalid_length, [&] { decode_request(Opcode::query, bad_query, v4); });
    // v4 section 3 [consistency]: 0x000B is not a level.
    Bytes bad_cl = Golden().lstr("Q").u16(0x000B).u8(0);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_request(Opcode::query, bad_cl, v4); });
    // A value count far above what the body holds fails as truncated, without a huge allocation.
    Bytes many = Golden().lstr("Q").u16(1).u8(0x01).u16(0xFFFF).i32(0);
    expect_protocol_error(ProtocolErrc::truncated, [&] { decode_request(Opcode::query, many, v4); });
}

// v4 4.1.4: "0x40 ... only makes sense if the 0x01 flag is set and is ignored otherwise".
TEST(MessagesV4_4_1_4_Query, NamesFlagWithoutValuesIsIgnored) {
    Bytes body = Golden().lstr("Q").u16(1).u8(0x40);
    auto d = decode_as<QueryRequest>(Opcode::query, body, v4);
    EXPECT_TRUE(d.params.values.empty());
    EXPECT_TRUE(d.params.value_names.empty());
}

// ------------------------------------------------------------------ PREPARE

// v4 4.1.5: the body is only the [long string] query.
TEST(MessagesV4_4_1_5_Prepare, GoldenQueryOnly) {
    PrepareRequest m{"SELECT v FROM t WHERE k = ?", std::nullopt};
    check_golden(m, Golden().lstr(m.query), v4);
    m.keyspace = "ks";
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { encode(m, v4); });
}

// v5 4.1.5: <query><flags:int>[<keyspace>], flag 0x01 = with keyspace.
TEST(MessagesV5_4_1_5_Prepare, GoldenFlagsAndKeyspace) {
    PrepareRequest m{"SELECT 1", std::nullopt};
    check_golden(m, Golden().lstr("SELECT 1").i32(0), v5);
    m.keyspace = "ks1";
    Bytes golden = Golden().lstr("SELECT 1").i32(1).str("ks1");
    check_golden(m, golden, v5);
    EXPECT_EQ(decode_as<PrepareRequest>(Opcode::prepare, golden, v5).keyspace, "ks1");
    Bytes unknown = Golden().lstr("SELECT 1").i32(2);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_request(Opcode::prepare, unknown, v5); });
}

// ------------------------------------------------------------------ EXECUTE

// v4 4.1.6: <id:[short bytes]><query_parameters>.
TEST(MessagesV4_4_1_6_Execute, GoldenIdAndParameters) {
    Bytes id{0xDE, 0xAD, 0xBE, 0xEF};
    Bytes v{0, 0, 0, 42};
    ExecuteRequest m;
    m.id = id;
    m.params.consistency = Consistency::local_one;
    m.params.values = {value_of(v)};
    m.params.skip_metadata = true;
    Bytes golden = Golden().sbytes(id).u16(0x000A).u8(0x03).u16(1).bytes(v);
    check_golden(m, golden, v4);
    auto d = decode_as<ExecuteRequest>(Opcode::execute, golden, v4);
    EXPECT_EQ(s(d.id), s(id));
    EXPECT_TRUE(d.result_metadata_id.empty());
    EXPECT_TRUE(d.params.skip_metadata);
}

// v5 4.1.6: <id><result_metadata_id><query_parameters>, flags an [int].
TEST(MessagesV5_4_1_6_Execute, GoldenCarriesResultMetadataId) {
    Bytes id{1, 2, 3};
    Bytes meta{9, 8};
    ExecuteRequest m;
    m.id = id;
    m.result_metadata_id = meta;
    m.params.consistency = Consistency::all;
    m.params.now_in_seconds = 7;
    Bytes golden = Golden().sbytes(id).sbytes(meta).u16(0x0005).i32(0x100).i32(7);
    check_golden(m, golden, v5);
    auto d = decode_as<ExecuteRequest>(Opcode::execute, golden, v5);
    EXPECT_EQ(s(d.result_metadata_id), s(meta));
    EXPECT_EQ(d.params.now_in_seconds, 7);
}

// ------------------------------------------------------------------ BATCH

// v4 4.1.7: <type><n><query_i...><consistency><flags:byte>[<serial_consistency>][<timestamp>];
// <query_i> = <kind><string_or_id><n><value_i...>.
TEST(MessagesV4_4_1_7_Batch, GoldenMixedStatements) {
    Bytes id{0x11, 0x22};
    Bytes v1{0, 0, 0, 1};
    BatchRequest m;
    m.type = BatchType::unlogged;
    m.statements.push_back(BatchStatement{false, "INSERT INTO t (k) VALUES (?)", {}, {value_of(v1)}});
    m.statements.push_back(BatchStatement{true, {}, id, {kNull, kUnset}});
    m.consistency = Consistency::quorum;
    m.serial_consistency = Consistency::serial;
    m.default_timestamp = 99;
    Bytes golden = Golden()
                       .u8(1)
                       .u16(2)
                       .u8(0)
                       .lstr("INSERT INTO t (k) VALUES (?)")
                       .u16(1)
                       .bytes(v1)
                       .u8(1)
                       .sbytes(id)
                       .u16(2)
                       .i32(-1)
                       .i32(-2)
                       .u16(0x0004)
                       .u8(0x30)
                       .u16(0x0008)
                       .i64(99);
    check_golden(m, golden, v4);
    auto d = decode_as<BatchRequest>(Opcode::batch, golden, v4);
    EXPECT_EQ(d.type, BatchType::unlogged);
    ASSERT_EQ(d.statements.size(), 2u);
    EXPECT_FALSE(d.statements[0].is_prepared);
    EXPECT_EQ(d.statements[0].query, "INSERT INTO t (k) VALUES (?)");
    EXPECT_TRUE(d.statements[1].is_prepared);
    EXPECT_EQ(s(d.statements[1].id), s(id));
    ASSERT_EQ(d.statements[1].values.size(), 2u);
    EXPECT_TRUE(d.statements[1].values[1].is_unset());
    EXPECT_EQ(d.serial_consistency, Consistency::serial);
    EXPECT_EQ(d.default_timestamp, 99);
}

// v5 4.1.7: flags an [int], then keyspace (0x80) and now_in_seconds (0x100) after the timestamp.
TEST(MessagesV5_4_1_7_Batch, GoldenIntFlagsKeyspaceNow) {
    BatchRequest m;
    m.type = BatchType::counter;
    m.statements.push_back(BatchStatement{false, "UPDATE c SET n = n + 1 WHERE k = 1", {}, {}});
    m.consistency = Consistency::one;
    m.keyspace = "ks";
    m.now_in_seconds = 5;
    Bytes golden = Golden()
                       .u8(2)
                       .u16(1)
                       .u8(0)
                       .lstr("UPDATE c SET n = n + 1 WHERE k = 1")
                       .u16(0)
                       .u16(0x0001)
                       .i32(0x180)
                       .str("ks")
                       .i32(5);
    check_golden(m, golden, v5);
    auto d = decode_as<BatchRequest>(Opcode::batch, golden, v5);
    EXPECT_EQ(d.keyspace, "ks");
    EXPECT_EQ(d.now_in_seconds, 5);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { encode(m, v4); });
}

TEST(MessagesV4_4_1_7_Batch, RejectsBadTypeKindAndFlags) {
    auto body = [](std::uint8_t type, std::uint8_t kind, std::uint8_t flags) {
        return Golden().u8(type).u16(1).u8(kind).lstr("Q").u16(0).u16(1).u8(flags).build();
    };
    EXPECT_NO_THROW(decode_request(Opcode::batch, body(0, 0, 0), v4));
    // <type> must be 0, 1 or 2; <kind> 0 or 1.
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_request(Opcode::batch, body(3, 0, 0), v4); });
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_request(Opcode::batch, body(0, 2, 0), v4); });
    // "the 4 rightmost bits must always be 0".
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_request(Opcode::batch, body(0, 0, 0x01), v4); });
    // 0x40 is documented as impossible to implement (CASSANDRA-10246): refused, not misread.
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_request(Opcode::batch, body(0, 0, 0x40), v4); });
}

// ------------------------------------------------------------------ dispatch, frames, prefix

TEST(MessagesRequests, OpcodeOfEveryRequest) {
    EXPECT_EQ(opcode_of(Request{StartupRequest{}}), Opcode::startup);
    EXPECT_EQ(opcode_of(Request{AuthResponseRequest{}}), Opcode::auth_response);
    EXPECT_EQ(opcode_of(Request{OptionsRequest{}}), Opcode::options);
    EXPECT_EQ(opcode_of(Request{QueryRequest{}}), Opcode::query);
    EXPECT_EQ(opcode_of(Request{PrepareRequest{}}), Opcode::prepare);
    EXPECT_EQ(opcode_of(Request{ExecuteRequest{}}), Opcode::execute);
    EXPECT_EQ(opcode_of(Request{BatchRequest{}}), Opcode::batch);
    EXPECT_EQ(opcode_of(Request{RegisterRequest{}}), Opcode::register_);
}

TEST(MessagesRequests, ResponseOpcodesAndUnknownVersionsAreRejected) {
    for (Opcode op : {Opcode::error, Opcode::ready, Opcode::result, Opcode::event, Opcode::supported})
        expect_protocol_error(ProtocolErrc::unknown_opcode, [&] { decode_request(op, Bytes{}, v4); }, to_string(op));
    expect_protocol_error(ProtocolErrc::unsupported_version,
                          [&] { decode_request(Opcode::options, Bytes{}, static_cast<ProtocolVersion>(3)); });
    expect_protocol_error(ProtocolErrc::unsupported_version,
                          [&] { encode(OptionsRequest{}, static_cast<ProtocolVersion>(6)); });
}

// v4 2: 9-byte header (version, flags, stream, opcode, length) then the body.
TEST(MessagesV4_2_RequestFrame, HeaderWithPatchedLength) {
    Bytes out{0xEE};  // frames are appended after whatever the buffer already holds
    std::size_t n = encode_request_frame(out, v4, 0x0102, OptionsRequest{});
    EXPECT_EQ(n, 9u);
    EXPECT_EQ(out, (Bytes{0xEE, 0x04, 0x00, 0x01, 0x02, 0x05, 0x00, 0x00, 0x00, 0x00}));

    out.clear();
    RegisterRequest reg{{"SCHEMA_CHANGE"}};
    n = encode_request_frame(out, v5, 3, reg);
    Bytes body = Golden().u16(1).str("SCHEMA_CHANGE");
    Bytes expected = Golden().raw({0x05, 0x00, 0x00, 0x03, 0x0B}).i32(static_cast<std::int32_t>(body.size())).raw(body);
    EXPECT_EQ(out, expected);
    EXPECT_EQ(n, expected.size());
}

// v4 2.2: a request's tracing flag only asks for tracing (no id in the body); a custom payload
// ([bytes map]) precedes the message.
TEST(MessagesV4_2_2_RequestFrame, CustomPayloadPrefixAndTracingFlag) {
    BodyPrefix prefix;
    prefix.custom_payload["k"] = Bytes{1, 2};
    Bytes out;
    encode_request_frame(out, v4, 0, OptionsRequest{}, prefix, frame_flags::tracing);
    Bytes body = Golden().u16(1).str("k").bytes(Bytes{1, 2});
    Bytes expected = Golden().raw({0x04, 0x06, 0x00, 0x00, 0x05}).i32(static_cast<std::int32_t>(body.size())).raw(body);
    EXPECT_EQ(out, expected);

    FrameHeader h = decode_frame_header(out);
    ByteReader in(BytesView(out).subspan(kFrameHeaderSize));
    BodyPrefix d = decode_body_prefix(in, h.flags, h.is_response);
    EXPECT_FALSE(d.tracing_id);
    ASSERT_EQ(d.custom_payload.count("k"), 1u);
    EXPECT_EQ(*d.custom_payload["k"], (Bytes{1, 2}));
    EXPECT_TRUE(in.empty());
}

// v5 4.1.4: all nine optional parts at once, in the order of the grammar
// [<n>[name_1]<value_1>...][<result_page_size>][<paging_state>][<serial_consistency>][<timestamp>][<keyspace>][<now_in_seconds>]
// with flags 0x1FF.
TEST(MessagesV5_4_1_4_Query, GoldenEveryFieldInGrammarOrder) {
    Bytes v{7};
    Bytes state{0xEE, 0xFF};
    QueryRequest m{"Q", {}};
    m.params.consistency = Consistency::each_quorum;
    m.params.values = {value_of(v)};
    m.params.value_names = {"n"};
    m.params.skip_metadata = true;
    m.params.page_size = -1;
    m.params.paging_state = BytesView(state);
    m.params.serial_consistency = Consistency::serial;
    m.params.default_timestamp = -5;
    m.params.keyspace = "k";
    m.params.now_in_seconds = 86400;
    Bytes golden = Golden()
                       .lstr("Q")
                       .u16(0x0007)
                       .i32(0x1FF)
                       .u16(1)
                       .str("n")
                       .bytes(v)
                       .i32(-1)
                       .bytes(state)
                       .u16(0x0008)
                       .i64(-5)
                       .str("k")
                       .i32(86400);
    check_golden(m, golden, v5);
    auto d = decode_as<QueryRequest>(Opcode::query, golden, v5);
    EXPECT_EQ(d.params.consistency, Consistency::each_quorum);
    EXPECT_EQ(d.params.page_size, -1);
    EXPECT_EQ(d.params.default_timestamp, -5);
    EXPECT_EQ(d.params.serial_consistency, Consistency::serial);
    // Read as v4, the first byte of the [int] flags is taken as flags 0x00: the rest is left over.
    expect_protocol_error(ProtocolErrc::trailing_bytes, [&] { decode_request(Opcode::query, golden, v4); });
}
