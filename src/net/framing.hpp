// Client-side framing of one connection, sans-I/O: turns requests into wire bytes and wire bytes
// into envelopes. Handles v4 frames (optionally with LZ4/Snappy body compression) and, after the
// v5 handshake, v5 segments (optionally LZ4) that carry envelopes.
#pragma once

#include "protocol/compression.hpp"
#include "protocol/frame.hpp"
#include "protocol/messages.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace async_cassandra::net {

/// One received envelope (v4 frame / v5 envelope). `body` is uncompressed and shared, so that
/// views into it (RowsResult::rows_content, rows of a page) can outlive the connection's buffers.
struct Envelope {
    protocol::FrameHeader header;
    std::shared_ptr<protocol::Bytes> body;
};

/// Incremental decoder of received bytes. Not thread-safe.
class FrameReader {
public:
    explicit FrameReader(std::uint32_t max_body_size = protocol::kDefaultMaxBodySize) : max_body_(max_body_size) {}

    /// From the next undecoded byte on, bytes are v5 segments (LZ4-compressed when `lz4`).
    void set_framed(bool lz4) noexcept {
        framed_ = true;
        lz4_ = lz4;
    }
    /// v4: compression algorithm of bodies that carry the compression flag.
    void set_body_compression(protocol::Compression c) noexcept { compression_ = c; }
    bool framed() const noexcept { return framed_; }

    /// Appends received bytes.
    void feed(protocol::BytesView data);

    /// The next complete envelope, or nullopt if more bytes are needed. Throws ProtocolError on
    /// malformed input (after which the reader is unusable).
    std::optional<Envelope> next();

    /// Bytes buffered but not yet decoded.
    std::size_t buffered() const noexcept { return in_.size() - in_pos_ + env_.size() - env_pos_; }

private:
    std::optional<Envelope> next_envelope(protocol::Bytes& buf, std::size_t& pos);
    static void compact(protocol::Bytes& buf, std::size_t& pos);

    std::uint32_t max_body_;
    bool framed_ = false;
    bool lz4_ = false;
    protocol::Compression compression_ = protocol::Compression::none;
    protocol::Bytes in_;  ///< raw bytes from the socket
    std::size_t in_pos_ = 0;
    protocol::Bytes env_;  ///< framed mode: concatenated segment payloads
    std::size_t env_pos_ = 0;
    protocol::Bytes scratch_;
};

/// Accumulates encoded requests and produces the bytes of one coalesced write. Not thread-safe.
class FrameWriter {
public:
    explicit FrameWriter(protocol::ProtocolVersion version = protocol::ProtocolVersion::v4) : version_(version) {}

    void set_version(protocol::ProtocolVersion v) noexcept { version_ = v; }
    protocol::ProtocolVersion version() const noexcept { return version_; }
    /// Later envelopes are wrapped into v5 segments (LZ4-compressed when `lz4`).
    void set_framed(bool lz4) noexcept {
        framed_ = true;
        lz4_ = lz4;
    }
    /// v4: compress bodies of later frames with `c` (sets the compression flag).
    void set_body_compression(protocol::Compression c) noexcept { compression_ = c; }

    /// Encodes one request. Throws ProtocolError/TypeError if it cannot be encoded; in that case
    /// nothing is appended.
    void append(std::int16_t stream, const protocol::Request& request, std::uint8_t flags = 0);

    bool empty() const noexcept { return pending_.empty(); }
    std::size_t pending_bytes() const noexcept { return pending_.size(); }

    /// Moves the wire bytes of every appended request into `out` (replacing its content).
    void take(protocol::Bytes& out);

private:
    protocol::ProtocolVersion version_;
    bool framed_ = false;
    bool lz4_ = false;
    protocol::Compression compression_ = protocol::Compression::none;
    protocol::Bytes pending_;
    std::vector<std::size_t> ends_;  ///< end offset of each envelope in pending_ (framed mode)
    protocol::Bytes scratch_;
};

}  // namespace async_cassandra::net
