// Client-side framing of one connection, sans-I/O. Decoding is protocol::FrameDecoder, used
// directly (shared with the embedded node); FrameWriter turns requests into the bytes of one coalesced write on top
// of protocol::FrameEncoder (v4 frames, optionally LZ4/Snappy bodies; v5 segments after the
// handshake).
#pragma once

#include "protocol/compression.hpp"
#include "protocol/frame.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"

#include <cstdint>

namespace async_cassandra::net {

/// Accumulates encoded requests and produces the bytes of one coalesced write. Not thread-safe.
class FrameWriter {
public:
    explicit FrameWriter(protocol::ProtocolVersion version = protocol::ProtocolVersion::v4,
                         std::uint32_t max_body_size = protocol::kDefaultMaxBodySize)
        : version_(version), encoder_(max_body_size) {}

    void set_version(protocol::ProtocolVersion v) noexcept { version_ = v; }
    protocol::ProtocolVersion version() const noexcept { return version_; }
    /// Later envelopes are wrapped into v5 segments (LZ4-compressed when `lz4`).
    void set_framed(bool lz4) {
        encoder_.enable_segments(lz4 ? protocol::Compression::lz4 : protocol::Compression::none);
    }
    /// v4: compress bodies of later frames with `c` (sets the compression flag).
    void set_body_compression(protocol::Compression c) { encoder_.set_compression(c); }

    /// Encodes one request and returns its envelope's size in bytes (header + body as sent,
    /// before any segment framing). Throws ProtocolError/TypeError if it cannot be encoded; in
    /// that case nothing is appended.
    std::size_t append(std::int16_t stream, const protocol::Request& request, std::uint8_t flags = 0);

    bool empty() const noexcept { return pending_.empty() && !encoder_.has_pending(); }

    /// Moves the wire bytes of every appended request into `out` (replacing its content).
    void take(protocol::Bytes& out);

private:
    protocol::ProtocolVersion version_;
    protocol::FrameEncoder encoder_;
    protocol::Bytes pending_;  ///< raw-mode envelopes (segment mode keeps them in the encoder)
};

}  // namespace async_cassandra::net
