// The embedded node's query engine: CQL parsing, schema, in-memory storage, paging, system tables.
// Pure (no sockets, no Asio). The network front end (server/net/) decodes frames, handles
// STARTUP/OPTIONS/AUTH/REGISTER itself and passes QUERY/PREPARE/EXECUTE/BATCH here.
#pragma once

#include "protocol/messages.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace async_cassandra::server {

/// One node of the (in-process) cluster as system.local / system.peers describe it.
struct NodeInfo {
    int id = 0;                        ///< 1-based
    std::string address;               ///< "127.0.0.<id>"
    int native_port = 9042;
    std::string host_id;               ///< UUID text
    std::vector<std::int64_t> tokens;  ///< tokens this node owns (even share of the ring)
    std::string data_center = "datacenter1";
    std::string rack = "rack1";
    bool up = true;
};

struct ClusterView {
    std::string cluster_name = "Test Cluster";
    std::string release_version = "4.1.5";
    std::vector<NodeInfo> nodes;
};

struct EngineConfig {
    std::string cluster_name = "Test Cluster";
    /// Rows of the generated table synthetic.rows (0 = no such table); formulas and memory layout
    /// are described at the top of server/engine/synthetic.cpp.
    std::int64_t synthetic_rows = 0;
    /// system.peers_v2 exists (Cassandra 4.0+; not in 3.11 nor ScyllaDB, where drivers get
    /// "unconfigured table peers_v2" and fall back to system.peers).
    bool peers_v2 = true;
    /// Cassandra's client warnings: "Aggregation query used without partition key"
    /// (SelectStatement) and the batch size warning over batch_size_warn_threshold (5 KiB).
    bool cassandra_warnings = true;
};

/// Per-connection state the engine reads and updates (USE changes the keyspace).
struct ConnectionState {
    protocol::ProtocolVersion version = protocol::ProtocolVersion::v4;
    int node_id = 1;
    std::string keyspace;
};

struct ExecutionResult {
    protocol::Response response;
    /// Backing storage of RowsResult::rows_content when the response is a Rows result.
    std::shared_ptr<protocol::Bytes> rows_storage;
    /// Set when the statement changed the schema: the front end pushes it as an EVENT to
    /// connections registered for SCHEMA_CHANGE.
    std::optional<protocol::SchemaChange> schema_event;
    /// Client warnings to send with the response (WARNING flag).
    std::vector<std::string> warnings;
};

/// The single partition a request reads or writes, or the token range a SELECT restricted by
/// token(pk) reads (replica accounting of the front end).
/// A keyspace's replication options ("class", "replication_factor" or one factor per data center).
/// Immutable once made: a keyspace and the routes of its requests share one (ALTER KEYSPACE
/// replaces it), so a route costs a reference, not a copy of the map.
using Replication = std::map<std::string, std::string>;
using ReplicationPtr = std::shared_ptr<const Replication>;

struct PartitionRoute {
    std::string keyspace;
    ReplicationPtr replication;  ///< the keyspace's replication options (never null in a route)
    std::int64_t token = 0;
    /// A token-range read: the tokens [token, range_end] (both inclusive); empty = one partition.
    std::optional<std::int64_t> range_end;
};

class Engine {
public:
    explicit Engine(EngineConfig config);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Supplies the live topology (called for system.local/peers queries). Thread-safe to call.
    void set_cluster_view_provider(std::function<ClusterView()> provider);

    /// Executes QUERY, PREPARE, EXECUTE or BATCH. Any other request yields a ProtocolError response.
    /// Never throws for bad input: errors become ErrorResponse (SyntaxError, Invalid, Unprepared...).
    /// Thread-safe: connections of several nodes may call concurrently.
    /// `route`, when given, receives what route() returns for this request; a SELECT's comes from
    /// the plan it is executed with instead of planning it twice.
    ExecutionResult execute(const protocol::Request& request, ConnectionState& state,
                            std::optional<PartitionRoute>* route = nullptr);

    /// The partition a QUERY/EXECUTE/BATCH request touches when it touches exactly one (a SELECT,
    /// INSERT, UPDATE or DELETE with the whole partition key given by `=`, or a batch whose
    /// statements all write the same partition), or the token range of a SELECT restricted by
    /// token(pk) (range_end set); empty for anything else, including requests that would fail.
    /// Does not execute anything.
    std::optional<PartitionRoute> route(const protocol::Request& request, const ConnectionState& state);

    /// Query text of a prepared id known to `node_id` (fault injection matches on it).
    std::optional<std::string> prepared_query(int node_id, protocol::BytesView id) const;

    /// A restarted node forgets its prepared statements, like Cassandra.
    void forget_prepared(int node_id);

    /// Current schema version UUID text (changes on every schema change).
    std::string schema_version() const;

    /// Engine internals (server/engine/engine_internal.hpp); public only so that the engine's own
    /// translation units can name it.
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace async_cassandra::server
