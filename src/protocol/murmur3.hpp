// Cassandra's Murmur3Partitioner token (MurmurHash3 x64 128, seed 0, first half, with Cassandra's
// sign-extension of tail bytes; see PROTOCOL-NOTES.md "Murmur3 partitioner").
#pragma once

#include "protocol/bytes.hpp"

#include <cstdint>
#include <vector>

namespace async_cassandra::protocol {

/// Token of a serialized partition key. INT64_MIN is mapped to INT64_MAX, as Cassandra does.
/// An empty key gets INT64_MIN, the partitioner's minimum token (Cassandra's getToken does the same;
/// real tables reject empty partition keys anyway).
std::int64_t murmur3_token(BytesView partition_key) noexcept;

/// Routing key of a composite partition key: per component `u16 BE length, bytes, 0x00`.
/// A single-component key is its bytes as they are.
Bytes composite_routing_key(const std::vector<BytesView>& components);

}  // namespace async_cassandra::protocol
