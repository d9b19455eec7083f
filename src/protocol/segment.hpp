// v5 outer framing: segments (native_protocol_v5.spec section 2, which calls them "frames";
// PROTOCOL-NOTES.md "v5 outer framing"). A segment is a little-endian header protected by a
// CRC24, a payload of at most 131071 bytes, and a CRC32 (seeded, see crc.hpp) of the payload as
// sent. A self-contained segment holds whole envelopes; a bigger envelope is cut into a run of
// non-self-contained segments. With LZ4 the payload is a raw LZ4 block, or the plain bytes when
// compression did not help (uncompressed length 0).
#pragma once

#include "protocol/bytes.hpp"

#include <cstdint>
#include <optional>
#include <span>

namespace async_cassandra::protocol {

inline constexpr std::size_t kMaxSegmentPayload = (1u << 17) - 1;  // 131071
inline constexpr std::size_t kSegmentHeaderSize = 6;               // 3 bytes + CRC24
inline constexpr std::size_t kLz4SegmentHeaderSize = 8;            // 5 bytes + CRC24
inline constexpr std::size_t kSegmentTrailerSize = 4;              // CRC32

inline constexpr std::size_t segment_header_size(bool lz4) noexcept {
    return lz4 ? kLz4SegmentHeaderSize : kSegmentHeaderSize;
}

struct SegmentHeader {
    std::uint32_t payload_length = 0;       ///< bytes of payload on the wire (compressed if lz4)
    std::uint32_t uncompressed_length = 0;  ///< lz4 only; 0 = payload is not compressed
    bool self_contained = false;
};

/// Decodes and verifies a segment header; `bytes` must hold at least segment_header_size(lz4)
/// bytes (only those are read). Throws ProtocolError: truncated, bad_checksum (CRC24 mismatch).
SegmentHeader decode_segment_header(BytesView bytes, bool lz4);

/// Appends one segment carrying `payload` (at most kMaxSegmentPayload bytes, else throws
/// invalid_length). With lz4 the payload is compressed, unless compression does not make it
/// smaller, in which case it is sent as is with uncompressed length 0.
void encode_segment(Bytes& out, BytesView payload, bool self_contained, bool lz4);

/// Uncompressed segments only: writes the header and the CRC32 trailer around a payload of
/// `payload_size` bytes already in place at `segment` + kSegmentHeaderSize (`segment` spans the
/// whole segment). Lets a large envelope be framed inside its own buffer instead of a copy.
void frame_segment_in_place(std::span<std::uint8_t> segment, std::size_t payload_size, bool self_contained);

/// A whole segment whose checksums were verified, payload still as sent (compressed when
/// header.uncompressed_length != 0).
struct VerifiedSegment {
    SegmentHeader header;
    BytesView wire_payload;     ///< points into the input
    std::size_t wire_size = 0;  ///< header + payload + trailer
};

/// Verifies the segment at the front of `in` without decompressing it, so that a caller can
/// decompress straight into its destination. nullopt if incomplete (the header is checked as
/// soon as it is complete). Throws ProtocolError(bad_checksum).
std::optional<VerifiedSegment> verify_segment(BytesView in, bool lz4);

/// One decoded segment. `payload` points into the input or into the scratch buffer given to
/// decode_segment, and is valid until either changes.
struct DecodedSegment {
    BytesView payload;  ///< uncompressed payload
    bool self_contained = false;
    std::size_t wire_size = 0;  ///< bytes of input consumed (header + payload + trailer)
};

/// Decodes the segment at the front of `in`. Returns nullopt if `in` does not hold a whole
/// segment yet, but verifies the header as soon as it is complete, so a corrupt length is reported
/// immediately rather than waited on. Throws ProtocolError: bad_checksum (CRC24 or CRC32),
/// compression (bad LZ4 block or lengths).
std::optional<DecodedSegment> decode_segment(BytesView in, bool lz4, Bytes& scratch);

}  // namespace async_cassandra::protocol
