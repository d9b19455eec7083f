// Where a bound statement's partition lives: its routing key (the partition key serialized as
// Cassandra does) and that key's Murmur3 token. Pure: no I/O.
#pragma once

#include "protocol/bytes.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace async_cassandra::protocol {

/// The routing key of a statement from its bound values (serialized, in bind marker order) and
/// the PREPARED result's partition-key indexes (one per partition key column, in key order):
/// the value itself for a single-column key; for a composite key the concatenation of
/// `u16 BE length, bytes, 0x00` per component (Cassandra's CompositeType).
/// nullopt when it cannot be known: no indexes, an index past the values, a null or unset
/// partition key value, or a component longer than 65535 bytes.
std::optional<Bytes> routing_key(std::span<const ValueView> values, std::span<const std::uint16_t> pk_indexes);

/// Murmur3 token of routing_key(values, pk_indexes), or nullopt when the key is unknown.
std::optional<std::int64_t> routing_token(std::span<const ValueView> values,
                                          std::span<const std::uint16_t> pk_indexes);

}  // namespace async_cassandra::protocol
