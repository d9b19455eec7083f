// Frame header: native_protocol_v4.spec section 2 / native_protocol_v5.spec section 2.
#include "protocol/frame.hpp"

#include <gtest/gtest.h>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

// v4 spec 2: version, flags, stream (2 bytes), opcode, length (4 bytes), all big-endian.
TEST(FrameHeaderSpec2, EncodesRequestHeaderBigEndian) {
    Bytes out;
    ByteWriter w(out);
    encode_frame_header(w, FrameHeader{4, false, frame_flags::tracing, 0x0102, Opcode::query, 0x00000A0B});
    EXPECT_EQ(out, (Bytes{0x04, 0x02, 0x01, 0x02, 0x07, 0x00, 0x00, 0x0A, 0x0B}));
}

// v4 spec 2.1: responses set the direction bit 0x80.
TEST(FrameHeaderSpec2_1, DecodesResponseDirectionAndNegativeStream) {
    Bytes in{0x85, 0x00, 0xFF, 0xFF, 0x0C, 0x00, 0x00, 0x00, 0x10};
    FrameHeader h = decode_frame_header(in);
    EXPECT_TRUE(h.is_response);
    EXPECT_EQ(h.version, 5);
    EXPECT_EQ(h.stream, kEventStreamId);
    EXPECT_EQ(h.opcode, Opcode::event);
    EXPECT_EQ(h.body_length, 16u);
}

TEST(FrameHeaderErrors, TruncatedHeader) {
    Bytes in{0x84, 0x00, 0x00};
    try {
        decode_frame_header(in);
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ProtocolErrc::truncated);
    }
}

// v4 spec 2.4: opcode 0x04 is unused and anything above 0x10 is undefined.
TEST(FrameHeaderErrors, UnknownOpcode) {
    for (std::uint8_t op : {std::uint8_t{0x04}, std::uint8_t{0x11}, std::uint8_t{0xFF}}) {
        Bytes in{0x84, 0x00, 0x00, 0x01, op, 0, 0, 0, 0};
        try {
            decode_frame_header(in);
            FAIL() << int(op);
        } catch (const ProtocolError& e) {
            EXPECT_EQ(e.code(), ProtocolErrc::unknown_opcode);
        }
    }
}

TEST(FrameHeaderErrors, BodyAboveConfiguredLimit) {
    Bytes in{0x84, 0x00, 0x00, 0x01, 0x08, 0x00, 0x01, 0x00, 0x01};
    EXPECT_NO_THROW(decode_frame_header(in, 0x00010001));
    try {
        decode_frame_header(in, 0x00010000);
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ProtocolErrc::frame_too_large);
    }
}

// Default limit 256 MiB.
TEST(FrameHeaderErrors, DefaultLimitIs256MiB) {
    Bytes in{0x84, 0x00, 0x00, 0x01, 0x08, 0x10, 0x00, 0x00, 0x01};
    EXPECT_THROW(decode_frame_header(in), ProtocolError);
    in[5] = 0x10; in[8] = 0x00;
    EXPECT_NO_THROW(decode_frame_header(in));
}

TEST(ByteReaderSpec3, ValueLengths) {
    // [value]: -1 null, -2 not set, other negatives invalid.
    Bytes in{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFD};
    ByteReader r(in);
    EXPECT_TRUE(r.read_value().is_null());
    EXPECT_TRUE(r.read_value().is_unset());
    try {
        r.read_value();
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ProtocolErrc::invalid_length);
    }
}

TEST(ByteReaderSpec3, LengthPastBufferIsTruncated) {
    Bytes in{0x00, 0x00, 0x00, 0x05, 'a', 'b'};
    ByteReader r(in);
    try {
        r.read_bytes();
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ProtocolErrc::truncated);
    }
}

TEST(ByteReaderSpec3, StringMapRoundTrip) {
    Bytes buf;
    ByteWriter w(buf);
    std::map<std::string, std::string> m{{"CQL_VERSION", "3.0.0"}, {"COMPRESSION", "lz4"}};
    w.write_string_map(m);
    ByteReader r(buf);
    EXPECT_EQ(r.read_string_map(), m);
    EXPECT_TRUE(r.empty());
}
