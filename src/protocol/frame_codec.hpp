// Sans-I/O framing shared by the client connection and the embedded node's connection: turns the
// byte stream of a socket into envelopes (FrameDecoder) and envelopes into bytes to write
// (FrameEncoder). Three wire modes:
//  - raw frames: protocol v4, and the unframed handshake of v5 (OPTIONS/SUPPORTED, STARTUP and its
//    READY/AUTHENTICATE reply; native_protocol_v5.spec section 2.3.1);
//  - raw frames with v4 body compression (lz4 or snappy, for frames whose flag 0x01 is set;
//    native_protocol_v4.spec section 5);
//  - v5 segments, plain or LZ4 (native_protocol_v5.spec section 2), switched on once the handshake
//    is over with enable_segments().
// Neither class does I/O, allocates per value, or is thread-safe: each belongs to one connection.
#pragma once

#include "protocol/buffer_pool.hpp"
#include "protocol/bytes.hpp"
#include "protocol/compression.hpp"
#include "protocol/frame.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <span>

namespace async_cassandra::protocol {

/// One decoded envelope (v4: frame). `body` is the decompressed body: header.body_length equals
/// body.size() and the compression flag is cleared. `storage` owns the bytes `body` views: a
/// buffer of the body alone, or the read buffer a large v5 body was decoded from in place. It may
/// be kept alive as long as the caller likes (e.g. as a page of rows viewed in place); the decoder
/// never writes to those bytes again.
struct Envelope {
    FrameHeader header;
    std::shared_ptr<Bytes> storage;
    BytesView body;

    BytesView body_view() const noexcept { return body; }
};

/// Incremental decoder. Typical read loop:
///
///     for (;;) {
///         auto buf = decoder.prepare();
///         std::size_t n = co_await socket.async_read_some(asio::buffer(buf.data(), buf.size()), ...);
///         decoder.commit(n);
///         while (auto env = decoder.next()) dispatch(std::move(*env));
///     }
///
/// Bytes may arrive split anywhere. A large uncompressed v4 body is read by the socket straight
/// into the envelope's buffer (prepare() hands out that buffer), so it is never copied; a large
/// body that arrived whole in the read buffer (v4, or v5 in one segment) is viewed there; anything
/// else is copied once from the read buffer into its envelope (or decompressed once).
/// After next() throws, the stream is unusable: every later next() throws again.
class FrameDecoder {
public:
    /// Size of the span prepare() aims to offer when no larger need is known.
    static constexpr std::size_t kDefaultReadSize = 64 * 1024;

    /// `max_body_size` bounds every envelope body, compressed or not (frame_too_large otherwise).
    explicit FrameDecoder(std::uint32_t max_body_size = kDefaultMaxBodySize);
    /// Changes the bound for envelopes whose header has not arrived yet (a server raises it once
    /// the connection has authenticated).
    void set_max_body_size(std::uint32_t max_body_size) noexcept { max_body_size_ = max_body_size; }

    /// v4 body compression negotiated in STARTUP. Frames with flag 0x01 are decompressed with it;
    /// such a frame while it is `none` is a protocol error (compression). Ignored for v5 envelopes.
    void set_compression(Compression c);

    /// Switches to v5 segment framing (c = none or lz4; snappy throws UsageError). Call it after
    /// next() returned the last unframed envelope (READY/AUTHENTICATE or STARTUP): bytes already
    /// buffered behind that envelope are decoded as segments. Throws UsageError if an unframed
    /// envelope is half received.
    void enable_segments(Compression c);
    bool segments_enabled() const noexcept { return segments_; }

    /// A writable span for the next read, of at least min(size_hint, 16 KiB) bytes (never
    /// empty): the read buffer, or the free tail of a large v4 body being received (then the
    /// socket writes into the envelope's buffer directly). Valid until the next call on the
    /// decoder. Follow it with commit().
    std::span<std::uint8_t> prepare(std::size_t size_hint = kDefaultReadSize);
    /// Declares that the first `n` bytes of the span given by the last prepare() were filled.
    void commit(std::size_t n);
    /// Copies `data` in (prepare + commit for callers that already hold the bytes).
    void feed(BytesView data);

    /// The next complete envelope, or nullopt when more bytes are needed. Throws ProtocolError
    /// (bad_checksum, compression, frame_too_large, truncated, unknown_opcode, invalid_value).
    std::optional<Envelope> next();

    /// Bytes received but not yet part of a returned envelope or of a partly filled body.
    std::size_t buffered() const noexcept { return wpos_ - rpos_; }

private:
    std::optional<Envelope> next_raw();
    std::optional<Envelope> next_segmented();
    /// `in_read_buffer`: `payload` lies in in_, so a large envelope may be viewed in place.
    void take_segment_payload(BytesView payload, bool self_contained, bool in_read_buffer);
    Envelope finish(const FrameHeader& header, std::shared_ptr<Bytes> storage, BytesView body);
    /// A body lying whole in the read buffer is viewed there (no copy) when large: the envelope
    /// then shares the buffer (in_lent_), and the decoder continues in another one. A small body
    /// is copied, so that it does not pin a buffer many times its size.
    bool worth_viewing_in_place(std::size_t body_size) const noexcept;
    /// A buffer for a body of `length` bytes: from bodies_ when large (its first size() bytes
    /// are stale and get overwritten), else a new one with that capacity and size 0.
    std::shared_ptr<Bytes> new_body(std::uint32_t length);
    void ensure_free(std::size_t n);

    std::uint32_t max_body_size_;
    Compression compression_ = Compression::none;  // v4 body compression
    bool segments_ = false;
    bool segment_lz4_ = false;
    bool failed_ = false;

    // Read buffer: [rpos_, wpos_) holds received, unconsumed bytes. Lent: envelopes view bytes
    // before rpos_, so it is only appended to; it is replaced when it would be compacted or grown.
    std::shared_ptr<Bytes> in_;
    bool in_lent_ = false;
    std::size_t rpos_ = 0;
    std::size_t wpos_ = 0;

    // The envelope being assembled: raw mode (body arriving), or v5 split across segments.
    std::optional<FrameHeader> pending_header_;
    std::shared_ptr<Bytes> pending_body_;
    // Body bytes received. Raw mode may size the body beyond it: stale bytes of a reused buffer
    // or room prepare() hands out for a direct read, grown geometrically so that each byte is
    // zero-filled once at most (and not at all when bodies_ had a buffer of the size).
    std::size_t pending_filled_ = 0;
    std::shared_ptr<BufferPool> bodies_;  // large bodies and lent read buffers, reused once free
    std::uint8_t split_header_[kFrameHeaderSize] = {};
    std::size_t split_header_filled_ = 0;

    // prepare() handed out the pending body's free tail rather than the read buffer.
    bool direct_ = false;

    Bytes scratch_;               // decompressed LZ4 segment payload
    std::deque<Envelope> ready_;  // envelopes of one segment, returned one by one
};

/// Encoder. Envelopes are written with their body encoded in place:
///
///     Bytes& b = encoder.begin_envelope(write_buffer, header);
///     ByteWriter w(b); encode_body(w, ...);
///     encoder.end_envelope();
///     ... more envelopes ...
///     encoder.flush(write_buffer);   // v5: wraps all pending envelopes into segments
///     co_await async_write(socket, write_buffer);
///
/// In raw mode an envelope goes straight into the caller's buffer (v4 compression rewrites its
/// body there). In segment mode envelopes wait in the encoder until flush(), which packs whole
/// small envelopes together into self-contained segments and splits large ones across
/// non-self-contained segments, so that many requests leave in one write.
class FrameEncoder {
public:
    explicit FrameEncoder(std::uint32_t max_body_size = kDefaultMaxBodySize);

    /// v4 body compression: bodies of envelopes (not STARTUP, not empty, version 4 or lower) are
    /// compressed and flagged 0x01.
    void set_compression(Compression c);
    /// Switches to v5 segments (none or lz4; snappy throws UsageError). Envelopes begun before
    /// are already in the caller's buffer and stay unframed.
    void enable_segments(Compression c);
    bool segments_enabled() const noexcept { return segments_; }

    /// Writes the header (length patched later) and returns the buffer to append the body to:
    /// `out` in raw mode, an internal buffer in segment mode. The reference is valid until
    /// end_envelope(). Throws UsageError if an envelope is already open.
    Bytes& begin_envelope(Bytes& out, const FrameHeader& header);
    /// Completes the open envelope: length, compression. Throws ProtocolError(frame_too_large)
    /// if the body exceeds the limit; the envelope is then dropped and the buffer left as before
    /// begin_envelope().
    void end_envelope();
    /// Drops the open envelope (e.g. the body encoder threw).
    void abort_envelope() noexcept;

    /// begin_envelope + copy of `body` + end_envelope.
    void encode(Bytes& out, const FrameHeader& header, BytesView body);

    /// begin_envelope, `write_body(ByteWriter&)` encoding the body in place, end_envelope; if
    /// either throws, the envelope is dropped (abort_envelope) and the exception propagates.
    /// Returns the envelope's size as it stands (header + body, compressed if so, before any
    /// segment framing). The one in-place writer of the client's FrameWriter and the node's
    /// connection.
    template <class WriteBody>
    std::size_t encode_in_place(Bytes& out, const FrameHeader& header, WriteBody&& write_body) {
        Bytes& buffer = begin_envelope(out, header);
        const std::size_t start = buffer.size() - kFrameHeaderSize;
        try {
            ByteWriter w(buffer);
            write_body(w);
            end_envelope();
        } catch (...) {
            abort_envelope();
            throw;
        }
        return buffer.size() - start;
    }

    /// Segment mode: appends all pending envelopes to `out` as segments. No-op in raw mode.
    void flush(Bytes& out);
    /// Envelopes waiting for flush().
    bool has_pending() const noexcept { return !pending_ends_.empty(); }

private:
    std::uint32_t max_body_size_;
    Compression compression_ = Compression::none;
    bool segments_ = false;
    bool segment_lz4_ = false;

    Bytes* current_ = nullptr;  // buffer of the open envelope
    std::size_t current_start_ = 0;
    bool current_compress_ = false;

    Bytes pending_;                         // segment mode: envelopes back to back
    std::vector<std::size_t> pending_ends_;  // end offset of each envelope in pending_
    Bytes scratch_;
};

}  // namespace async_cassandra::protocol
