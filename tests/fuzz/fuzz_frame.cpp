// Fuzz target for the frame header, the body prefix and every message codec (v4 and v5, both
// directions). Input: one frame as on the wire (9-byte header, then the body; the header's length
// field is checked by the header decoder but the body is whatever follows).
//
// Invariants checked: decoding never fails with anything but async_cassandra::Error, and when a
// decode succeeds the codec is a fixed point after one round: encode(decode(x)) == e1 and
// encode(decode(e1)) == e1. (x itself may differ from e1: e.g. a per-column table spec that the
// encoder writes as a global one.)
#include "fuzz_fail.hpp"
#include "protocol/frame.hpp"
#include "protocol/messages.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

using acass_fuzz::fail;

namespace {

Bytes encode_prefix(const BodyPrefix& prefix, std::uint8_t flags, bool is_response) {
    Bytes out;
    ByteWriter w(out);
    encode_body_prefix(w, prefix, flags, is_response);
    return out;
}

void check_prefix(BytesView body, std::uint8_t flags, bool is_response) {
    ByteReader in(body);
    BodyPrefix prefix;
    try {
        prefix = decode_body_prefix(in, flags, is_response);
    } catch (const Error&) {
        return;
    }
    Bytes e1 = encode_prefix(prefix, flags, is_response);
    ByteReader again(e1);
    BodyPrefix prefix2 = decode_body_prefix(again, flags, is_response);
    if (!again.empty()) fail("prefix re-decode left bytes");
    if (encode_prefix(prefix2, flags, is_response) != e1) fail("prefix round trip mismatch");
}

void check_request(Opcode opcode, BytesView body, ProtocolVersion version) {
    Request request;
    try {
        request = decode_request(opcode, body, version);
    } catch (const Error&) {
        return;
    }
    if (opcode_of(request) != opcode) fail("request opcode mismatch");
    Bytes e1;
    ByteWriter w1(e1);
    encode_request(w1, request, version);
    Request again = decode_request(opcode, e1, version);
    Bytes e2;
    ByteWriter w2(e2);
    encode_request(w2, again, version);
    if (e1 != e2) fail("request round trip mismatch");

    Bytes frame;
    std::size_t n = encode_request_frame(frame, version, 7, again);
    FrameHeader h = decode_frame_header(frame);
    if (n != frame.size() || h.body_length + kFrameHeaderSize != n || h.is_response || h.opcode != opcode)
        fail("request frame header mismatch");
}

void check_response(Opcode opcode, BytesView body, ProtocolVersion version) {
    Response response;
    try {
        response = decode_response(opcode, body, version);
    } catch (const Error&) {
        return;
    }
    if (opcode_of(response) != opcode) fail("response opcode mismatch");
    Bytes e1;
    ByteWriter w1(e1);
    encode_response(w1, response, version);
    Response again = decode_response(opcode, e1, version);
    Bytes e2;
    ByteWriter w2(e2);
    encode_response(w2, again, version);
    if (e1 != e2) fail("response round trip mismatch");

    Bytes frame;
    std::size_t n = encode_response_frame(frame, version, -1, again);
    FrameHeader h = decode_frame_header(frame);
    if (n != frame.size() || h.body_length + kFrameHeaderSize != n || !h.is_response || h.opcode != opcode)
        fail("response frame header mismatch");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    BytesView input(data, size);
    FrameHeader header;
    try {
        header = decode_frame_header(input, 1u << 20);
    } catch (const Error&) {
        return 0;
    }
    BytesView body = input.subspan(kFrameHeaderSize);
    check_prefix(body, header.flags, header.is_response);
    // The body after the flagged prefix, as a connection would see it.
    BytesView message = body;
    try {
        ByteReader in(body);
        decode_body_prefix(in, header.flags, header.is_response);
        message = in.rest();
    } catch (const Error&) {
    }
    // The version byte is fuzzed too, but both codecs see every body: a v4 layout fed to the v5
    // decoder is exactly the kind of confusion that must fail cleanly.
    for (ProtocolVersion version : {ProtocolVersion::v4, ProtocolVersion::v5}) {
        check_request(header.opcode, body, version);
        check_response(header.opcode, body, version);
        if (message.size() != body.size()) {
            check_request(header.opcode, message, version);
            check_response(header.opcode, message, version);
        }
    }
    return 0;
}
