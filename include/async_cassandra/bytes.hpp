// Byte buffers of the public API: an owning buffer (Bytes) and a non-owning view (BytesView), as
// used for blobs, raw cell bytes (Row::raw) and encoded values.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace async_cassandra {

/// Owning byte buffer.
using Bytes = std::vector<std::uint8_t>;
/// Non-owning view of bytes (into a Bytes, a Page's body, ...).
using BytesView = std::span<const std::uint8_t>;

}  // namespace async_cassandra
