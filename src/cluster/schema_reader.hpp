// system_schema.keyspaces / tables / columns rows -> KeyspaceMetadata. Pure: reads decoded
// pages, no I/O, no Asio.
#pragma once

#include <async_cassandra/metadata.hpp>
#include <async_cassandra/row.hpp>

#include <map>
#include <string>

namespace async_cassandra::cluster {

using KeyspaceMap = std::map<std::string, KeyspaceMetadata, std::less<>>;

/// Builds every keyspace from the rows of
///   SELECT keyspace_name, durable_writes, replication FROM system_schema.keyspaces
///   SELECT keyspace_name, table_name FROM system_schema.tables
///   SELECT keyspace_name, table_name, column_name, kind, position, type, clustering_order
///       FROM system_schema.columns
/// (more columns, or `SELECT *`, are fine: columns are found by name). Partition and clustering
/// keys are ordered by `position`; TableMetadata::columns is partition key, clustering key, then
/// static and regular columns by name. Tables or columns of a keyspace not in `keyspaces`, and columns
/// of a table not in `tables`, are ignored (a DDL between the three reads). Throws
/// ProtocolError when a needed column is missing or does not decode.
KeyspaceMap read_schema(const Page& keyspaces, const Page& tables, const Page& columns);

}  // namespace async_cassandra::cluster
