// ERROR bodies: golden bytes for every error code of native_protocol_v4.spec section 9 and
// native_protocol_v5.spec section 8 (the v5 document numbers its error section 8), v4/v5
// differences, round trips and error paths.
#include "test_messages_support.hpp"

#include <string>

using namespace acass_test;

namespace {

const ProtocolVersion v4 = ProtocolVersion::v4;
const ProtocolVersion v5 = ProtocolVersion::v5;

ErrorResponse decode_error(const Bytes& body, ProtocolVersion v) {
    Response r = decode_response(Opcode::error, body, v);
    EXPECT_TRUE(std::holds_alternative<ErrorResponse>(r));
    return std::get<ErrorResponse>(r);
}

// Decodes, re-encodes to the same bytes, ignores (and counts) a trailing byte (section 1 of both
// specs), and rejects every truncation except the last `optional_tail` bytes (a field the
// decoder reads only when present).
void check_golden(const ErrorResponse& e, const Bytes& golden, ProtocolVersion v, std::size_t optional_tail = 0) {
    EXPECT_EQ(encode(e, v), golden) << e.message;
    EXPECT_EQ(encode(decode_error(golden, v), v), golden) << e.message;
    Bytes longer = golden;
    longer.push_back(0);
    std::size_t ignored = 0;
    Response r = decode_response(Opcode::error, longer, v, &ignored);
    EXPECT_EQ(ignored, 1u) << e.message;
    EXPECT_EQ(encode(r, v), golden) << e.message;
    Bytes required(golden.begin(), golden.end() - static_cast<std::ptrdiff_t>(optional_tail));
    expect_every_truncation_throws([&](BytesView body) { decode_response(Opcode::error, body, v); }, required);
}

ErrorResponse make(ServerErrorCode code, std::string message) {
    ErrorResponse e;
    e.code = code;
    e.message = std::move(message);
    return e;
}

Golden head(std::int32_t code, std::string_view message) { return std::move(Golden().i32(code).str(message)); }

}  // namespace

// v4 9: codes whose body is only <code><message>.
TEST(MessagesV4_9_Error, GoldenCodesWithoutExtraBody) {
    const std::pair<ServerErrorCode, std::int32_t> codes[] = {
        {ServerErrorCode::server_error, 0x0000},     {ServerErrorCode::protocol_error, 0x000A},
        {ServerErrorCode::bad_credentials, 0x0100},  {ServerErrorCode::overloaded, 0x1001},
        {ServerErrorCode::is_bootstrapping, 0x1002}, {ServerErrorCode::truncate_error, 0x1003},
        {ServerErrorCode::syntax_error, 0x2000},     {ServerErrorCode::unauthorized, 0x2100},
        {ServerErrorCode::invalid, 0x2200},          {ServerErrorCode::config_error, 0x2300},
        {ServerErrorCode::cdc_write_failure, 0x1600},
    };
    for (auto [code, wire] : codes) {
        ErrorResponse e = make(code, "msg " + std::to_string(wire));
        Bytes golden = head(wire, e.message);
        check_golden(e, golden, v4);
        check_golden(e, golden, v5);
        EXPECT_EQ(decode_error(golden, v4).code, code);
    }
}

// PROTOCOL-NOTES "Version negotiation": the message drivers parse must survive unchanged.
TEST(MessagesV4_9_Error, ProtocolErrorMessageIsKept) {
    std::string msg =
        "Invalid or unsupported protocol version (66); the lowest supported version is 4 and the greatest is 5";
    ErrorResponse d = decode_error(head(0x000A, msg), v4);
    EXPECT_EQ(d.code, ServerErrorCode::protocol_error);
    EXPECT_EQ(d.message, msg);
}

// v4 9 0x1000: <cl><required><alive>.
TEST(MessagesV4_9_Error, GoldenUnavailable) {
    ErrorResponse e = make(ServerErrorCode::unavailable, "Cannot achieve consistency level QUORUM");
    e.consistency = Consistency::quorum;
    e.required = 2;
    e.alive = 1;
    Bytes golden = head(0x1000, e.message).u16(4).i32(2).i32(1);
    check_golden(e, golden, v4);
    check_golden(e, golden, v5);
    ErrorResponse d = decode_error(golden, v4);
    EXPECT_EQ(d.consistency, Consistency::quorum);
    EXPECT_EQ(d.required, 2);
    EXPECT_EQ(d.alive, 1);
}

// v4 9 0x1100: <cl><received><blockfor><writeType>, no contentions in v4 even for CAS.
TEST(MessagesV4_9_Error, GoldenWriteTimeout) {
    ErrorResponse e = make(ServerErrorCode::write_timeout, "timeout");
    e.consistency = Consistency::local_quorum;
    e.received = 1;
    e.block_for = 2;
    e.write_type = "CAS";
    e.contentions = 3;  // not on the v4 wire
    Bytes golden = head(0x1100, "timeout").u16(6).i32(1).i32(2).str("CAS");
    check_golden(e, golden, v4);
    ErrorResponse d = decode_error(golden, v4);
    EXPECT_EQ(d.write_type, "CAS");
    EXPECT_EQ(d.received, 1);
    EXPECT_EQ(d.block_for, 2);
    EXPECT_EQ(d.contentions, 0);
}

// v5 8 0x1100: <contentions> ([short]) follows only when writeType is CAS.
TEST(MessagesV5_8_Error, GoldenWriteTimeoutContentions) {
    ErrorResponse e = make(ServerErrorCode::write_timeout, "timeout");
    e.consistency = Consistency::serial;
    e.received = 0;
    e.block_for = 1;
    e.write_type = "CAS";
    e.contentions = 7;
    Bytes golden = head(0x1100, "timeout").u16(8).i32(0).i32(1).str("CAS").u16(7);
    check_golden(e, golden, v5, /*optional_tail=*/2);
    EXPECT_EQ(decode_error(golden, v5).contentions, 7);
    // Not a CAS timeout: no contentions on the wire.
    e.write_type = "SIMPLE";
    e.contentions = 0;
    check_golden(e, head(0x1100, "timeout").u16(8).i32(0).i32(1).str("SIMPLE"), v5);
    EXPECT_EQ(decode_error(head(0x1100, "timeout").u16(8).i32(0).i32(1).str("SIMPLE"), v5).contentions, 0);
}

// PROTOCOL-NOTES "What real servers send": Cassandra 4.0-5.0 write <contentions> after any
// writeType when the exception is a CasWriteTimeoutException (ErrorMessage's encoder, v5 only),
// and StorageProxy wraps the Paxos commit timeout, writeType SIMPLE, in one. Read it whenever
// the two bytes are there.
TEST(MessagesV5_8_Error, WriteTimeoutSimpleWithContentions) {
    Bytes lwt = head(0x1100, "Operation timed out - received only 0 responses.").u16(8).i32(0).i32(1).str("SIMPLE").u16(2);
    std::size_t ignored = 99;
    Response r = decode_response(Opcode::error, lwt, v5, &ignored);
    const auto& d = std::get<ErrorResponse>(r);
    EXPECT_EQ(d.code, ServerErrorCode::write_timeout);
    EXPECT_EQ(d.write_type, "SIMPLE");
    EXPECT_EQ(d.contentions, 2);
    EXPECT_EQ(ignored, 0u);
    EXPECT_EQ(encode(d, v5), lwt);  // the encoder writes the count it has
    // v4 has no such field: the two bytes are trailing bytes, ignored and counted.
    Response r4 = decode_response(Opcode::error, lwt, v4, &ignored);
    EXPECT_EQ(std::get<ErrorResponse>(r4).contentions, 0);
    EXPECT_EQ(std::get<ErrorResponse>(r4).write_type, "SIMPLE");
    EXPECT_EQ(ignored, 2u);
}

// v4 9 0x1200: <cl><received><blockfor><data_present:byte>.
TEST(MessagesV4_9_Error, GoldenReadTimeout) {
    ErrorResponse e = make(ServerErrorCode::read_timeout, "rt");
    e.consistency = Consistency::one;
    e.received = 0;
    e.block_for = 1;
    e.data_present = true;
    Bytes golden = head(0x1200, "rt").u16(1).i32(0).i32(1).u8(1);
    check_golden(e, golden, v4);
    check_golden(e, golden, v5);
    EXPECT_TRUE(decode_error(golden, v4).data_present);
    EXPECT_FALSE(decode_error(head(0x1200, "rt").u16(1).i32(0).i32(1).u8(0), v4).data_present);
}

// v4 9 0x1300: <cl><received><blockfor><numfailures><data_present>.
TEST(MessagesV4_9_Error, GoldenReadFailureNumFailures) {
    ErrorResponse e = make(ServerErrorCode::read_failure, "rf");
    e.consistency = Consistency::all;
    e.received = 1;
    e.block_for = 3;
    e.num_failures = 2;
    Bytes golden = head(0x1300, "rf").u16(5).i32(1).i32(3).i32(2).u8(0);
    check_golden(e, golden, v4);
    ErrorResponse d = decode_error(golden, v4);
    EXPECT_EQ(d.num_failures, 2);
    EXPECT_TRUE(d.reason_map.empty());
}

// v5 8 0x1300: <numfailures> replaced by <reasonmap>: [int] n, n x (<endpoint:inetaddr><code:short>).
TEST(MessagesV5_8_Error, GoldenReadFailureReasonMap) {
    ErrorResponse e = make(ServerErrorCode::read_failure, "rf");
    e.consistency = Consistency::all;
    e.received = 1;
    e.block_for = 3;
    Bytes v6(16, 0);
    v6[0] = 0xFE;
    e.reason_map = {{Bytes{10, 0, 0, 1}, 0x0001}, {v6, 0x0002}};
    e.num_failures = 2;
    e.data_present = true;
    Bytes golden = head(0x1300, "rf").u16(5).i32(1).i32(3).i32(2).u8(4).raw({10, 0, 0, 1}).u16(1).u8(16).raw(v6).u16(2).u8(1);
    check_golden(e, golden, v5);
    ErrorResponse d = decode_error(golden, v5);
    ASSERT_EQ(d.reason_map.size(), 2u);
    EXPECT_EQ(d.reason_map[0].first, (Bytes{10, 0, 0, 1}));
    EXPECT_EQ(d.reason_map[1].second, 2);
    EXPECT_EQ(d.num_failures, 2);
    EXPECT_TRUE(d.data_present);
    // Negative map size; bad inetaddr size.
    Bytes negative = head(0x1300, "rf").u16(5).i32(1).i32(3).i32(-1).u8(1);
    expect_protocol_error(ProtocolErrc::invalid_length, [&] { decode_error(negative, v5); });
    Bytes bad_inet = head(0x1300, "rf").u16(5).i32(1).i32(3).i32(1).u8(3).raw({1, 2, 3}).u16(1).u8(1);
    expect_protocol_error(ProtocolErrc::invalid_length, [&] { decode_error(bad_inet, v5); });
    // A huge count with a short body fails as truncated.
    Bytes huge = head(0x1300, "rf").u16(5).i32(1).i32(3).i32(0x7FFFFFFF).u8(4).raw({1, 2, 3, 4}).u16(0).u8(1);
    expect_protocol_error(ProtocolErrc::truncated, [&] { decode_error(huge, v5); });
}

// v4 9 0x1400: <keyspace><function><arg_types:[string list]>.
TEST(MessagesV4_9_Error, GoldenFunctionFailure) {
    ErrorResponse e = make(ServerErrorCode::function_failure, "ff");
    e.keyspace = "ks";
    e.function = "f";
    e.arg_types = {"int", "text"};
    Bytes golden = head(0x1400, "ff").str("ks").str("f").u16(2).str("int").str("text");
    check_golden(e, golden, v4);
    check_golden(e, golden, v5);
    EXPECT_EQ(decode_error(golden, v4).arg_types, e.arg_types);
}

// v4 9 0x1500: <cl><received><blockfor><numfailures><write_type>.
TEST(MessagesV4_9_Error, GoldenWriteFailureNumFailures) {
    ErrorResponse e = make(ServerErrorCode::write_failure, "wf");
    e.consistency = Consistency::two;
    e.received = 0;
    e.block_for = 2;
    e.num_failures = 1;
    e.write_type = "BATCH_LOG";
    Bytes golden = head(0x1500, "wf").u16(2).i32(0).i32(2).i32(1).str("BATCH_LOG");
    check_golden(e, golden, v4);
    EXPECT_EQ(decode_error(golden, v4).write_type, "BATCH_LOG");
}

// v5 8 0x1500: <cl><received><blockfor><reasonmap><write_type>.
TEST(MessagesV5_8_Error, GoldenWriteFailureReasonMap) {
    ErrorResponse e = make(ServerErrorCode::write_failure, "wf");
    e.consistency = Consistency::two;
    e.received = 0;
    e.block_for = 2;
    e.reason_map = {{Bytes{192, 168, 0, 9}, 0x0000}};
    e.num_failures = 1;
    e.write_type = "SIMPLE";
    Bytes golden = head(0x1500, "wf").u16(2).i32(0).i32(2).i32(1).u8(4).raw({192, 168, 0, 9}).u16(0).str("SIMPLE");
    check_golden(e, golden, v5);
    ErrorResponse d = decode_error(golden, v5);
    EXPECT_EQ(d.write_type, "SIMPLE");
    ASSERT_EQ(d.reason_map.size(), 1u);
    EXPECT_EQ(d.reason_map[0].first, (Bytes{192, 168, 0, 9}));
}

// v5 8 0x1700: CAS_WRITE_UNKNOWN <cl><received><blockfor>.
TEST(MessagesV5_8_Error, GoldenCasWriteUnknown) {
    ErrorResponse e = make(ServerErrorCode::cas_write_unknown, "cas");
    e.consistency = Consistency::local_serial;
    e.received = 1;
    e.block_for = 2;
    Bytes golden = head(0x1700, "cas").u16(9).i32(1).i32(2);
    check_golden(e, golden, v5);
    ErrorResponse d = decode_error(golden, v5);
    EXPECT_EQ(d.consistency, Consistency::local_serial);
    EXPECT_EQ(d.block_for, 2);
}

// v4 9 0x2400: <ks><table>; the table is "" for a keyspace.
TEST(MessagesV4_9_Error, GoldenAlreadyExists) {
    ErrorResponse e = make(ServerErrorCode::already_exists, "exists");
    e.keyspace = "ks";
    e.table = "";
    Bytes golden = head(0x2400, "exists").str("ks").str("");
    check_golden(e, golden, v4);
    check_golden(e, golden, v5);
    EXPECT_EQ(decode_error(golden, v4).keyspace, "ks");
}

// v4 9 0x2500: [short bytes] id of the unknown statement.
TEST(MessagesV4_9_Error, GoldenUnprepared) {
    ErrorResponse e = make(ServerErrorCode::unprepared, "unknown id");
    e.unprepared_id = Bytes{0xCA, 0xFE, 0xBA, 0xBE};
    Bytes golden = head(0x2500, "unknown id").sbytes({0xCA, 0xFE, 0xBA, 0xBE});
    check_golden(e, golden, v4);
    check_golden(e, golden, v5);
    EXPECT_EQ(decode_error(golden, v5).unprepared_id, e.unprepared_id);
}

// An unknown code is carried as a plain ERROR: a newer server's code must not fail the
// connection, so its (unknown) extra body is skipped.
TEST(MessagesV4_9_Error, UnknownCodeIsAPlainError) {
    Bytes golden = head(0x7777, "future");
    ErrorResponse d = decode_error(golden, v4);
    EXPECT_EQ(static_cast<std::int32_t>(d.code), 0x7777);
    EXPECT_EQ(d.message, "future");
    EXPECT_EQ(encode(d, v4), golden);
    Bytes with_extra = head(0x7777, "future").raw({1, 2, 3});
    EXPECT_EQ(decode_error(with_extra, v5).message, "future");
    expect_every_truncation_throws([](BytesView body) { decode_response(Opcode::error, body, v4); }, golden);
}

TEST(MessagesV4_9_Error, RejectsBadConsistencyAndTruncatedMessage) {
    Bytes bad_cl = head(0x1000, "u").u16(0x0042).i32(1).i32(0);
    expect_protocol_error(ProtocolErrc::invalid_value, [&] { decode_error(bad_cl, v4); });
    Bytes short_message = Golden().i32(0).u16(10).chars("abc");
    expect_protocol_error(ProtocolErrc::truncated, [&] { decode_error(short_message, v4); });
}
