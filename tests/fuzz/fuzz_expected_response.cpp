// Fuzz target for protocol::statement_kind and protocol::response_mismatch: which answers can
// belong to which request (the connection's stream id mix-up check, src/protocol/expected_response).
// Input: byte 0 = request opcode index (mod 8) | v5 flag (0x80); byte 1 = response opcode; byte 2
// = length n of the CQL text that follows (QUERY, and EXECUTE's prepared text); then the response
// body. Invariants: statement_kind never throws and reads only the text; response_mismatch never
// throws and accepts every ERROR; an undecodable body stays a typed ProtocolError.
#include "fuzz_fail.hpp"
#include "protocol/expected_response.hpp"

#include <async_cassandra/error.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

using acass_fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const bool v5 = (data[0] & 0x80) != 0;
    const auto response_opcode = static_cast<Opcode>(data[1]);
    const std::size_t n = std::min<std::size_t>(data[2], size - 3);
    const std::string text(reinterpret_cast<const char*>(data + 3), n);
    const BytesView body(data + 3 + n, size - 3 - n);

    QueryRequest query;
    query.query = text;
    const Request requests[] = {StartupRequest{}, AuthResponseRequest{}, OptionsRequest{}, query,
                                PrepareRequest{},  ExecuteRequest{},      BatchRequest{},   RegisterRequest{}};
    ExpectedResponse expected = expected_response(requests[(data[0] & 0x7F) % 8]);
    if (expected.request == Opcode::execute) {  // as RequestBuilder fills it for a prepared SELECT
        expected.statement = statement_kind(text);
        expected.result_keyspace = "ks";
        expected.result_table = "t";
        if (v5) expected.result_columns = static_cast<std::int32_t>(n % 4);
    }
    if (!is_known_opcode(data[1])) return 0;
    Response response;
    try {
        response = decode_response(response_opcode, body, v5 ? ProtocolVersion::v5 : ProtocolVersion::v4);
    } catch (const ProtocolError&) {
        return 0;
    } catch (...) {
        fail("decode_response threw something else than ProtocolError");
    }
    const char* why = response_mismatch(expected, response);
    if (std::holds_alternative<ErrorResponse>(response) && why) fail("an ERROR was refused as an answer");
    return 0;
}
