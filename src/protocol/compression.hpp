// Body compression of protocol v4 (native_protocol_v4.spec section 5) and the raw LZ4 blocks of
// v5 segments (native_protocol_v5.spec section 2.2). Decompression never trusts a declared length:
// it is bounded by a caller-given maximum, by the format's maximum expansion ratio (so a few bytes
// cannot make us allocate hundreds of MiB), and must match the bytes actually produced.
#pragma once

#include "protocol/bytes.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace async_cassandra::protocol {

enum class Compression : std::uint8_t { none, lz4, snappy };

/// The name used in STARTUP's COMPRESSION option ("lz4", "snappy"); "" for none.
std::string_view to_string(Compression c) noexcept;
/// Parses a COMPRESSION option value (case-sensitive, as Cassandra); nullopt if unknown.
std::optional<Compression> compression_from_name(std::string_view name) noexcept;

/// Default bound on a decompressed body (the protocol's 256 MiB envelope limit).
inline constexpr std::size_t kDefaultMaxDecompressedSize = 256u * 1024 * 1024;

/// v4 body compression. Appends the compressed form of `body` to `out`:
/// lz4 = 4-byte big-endian uncompressed length + raw LZ4 block; snappy = raw snappy format.
/// Compression::none appends `body` as is.
void compress_body(Compression c, BytesView body, Bytes& out);

/// Inverse of compress_body. Replaces the content of `out`. Throws ProtocolError: compression for
/// corrupt input or a length that lies, frame_too_large when the declared length is above
/// `max_size`.
void decompress_body(Compression c, BytesView compressed, Bytes& out,
                     std::size_t max_size = kDefaultMaxDecompressedSize);

/// Worst-case size of a raw LZ4 block for `n` input bytes.
std::size_t lz4_max_compressed_size(std::size_t n) noexcept;
/// Compresses into `dst` (capacity at least lz4_max_compressed_size); returns the size written.
std::size_t lz4_compress_block(BytesView src, std::span<std::uint8_t> dst);
/// Decompresses a raw LZ4 block that must produce exactly dst.size() bytes; throws
/// ProtocolError(compression) otherwise (including malformed input).
void lz4_decompress_block(BytesView src, std::span<std::uint8_t> dst);

}  // namespace async_cassandra::protocol
