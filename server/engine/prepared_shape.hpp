// What every EXECUTE of a prepared statement needs that depends only on the statement and the
// schema: its bind markers (and the markers giving the partition key), a SELECT's result columns,
// and the v5 result metadata id. Cassandra keeps these with the prepared statement; rebuilding
// them per request (column specs with their strings, an MD5 fingerprint of the metadata) was
// about 40% of the node's instructions per prepared point query.
#pragma once

#include "server/engine/bind_analysis.hpp"
#include "server/engine/engine_internal.hpp"

namespace async_cassandra::server::detail {

struct PreparedShape {
    std::uint64_t schema_counter = 0;  ///< Engine::Impl::schema_counter it was computed under
    BindAnalysis analysis;
    std::shared_ptr<const SelectOutputs> outputs;  ///< a SELECT's result columns; null otherwise
    Bytes result_metadata_id;                      ///< v5: digest of the result columns
};

/// Computes the shape of `ps` in keyspace `ks` (caller holds impl.mutex); throws Invalid for
/// unknown tables or columns.
std::shared_ptr<const PreparedShape> make_prepared_shape(Engine::Impl& impl, const cql::ParsedStatement& ps,
                                                         const std::string& ks);
/// The shape of `entry` under the current schema: the one remembered in it unless the schema
/// changed since (caller holds impl.mutex, so the schema cannot change while it is used).
std::shared_ptr<const PreparedShape> shape_of(Engine::Impl& impl, const PreparedEntry& entry);

}  // namespace async_cassandra::server::detail
