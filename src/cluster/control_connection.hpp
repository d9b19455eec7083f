// The control connection: one connection to one node of the cluster, used to learn the cluster,
// never for user requests.
//
// start() connects to the first contact point that answers, reads system.local,
// system.peers_v2 (system.peers on nodes that lack it) and system_schema, publishes the first
// ClusterState, and REGISTERs for TOPOLOGY_CHANGE, STATUS_CHANGE and SCHEMA_CHANGE. Events then
// trigger a refresh after a short quiet period (debounce: a burst of events costs one refresh);
// each refresh publishes a new immutable ClusterState (a pointer swap: state() never waits for a refresh). When
// its node dies, the control connection reconnects to another known node (then the contact
// points) with exponential back-off, and refreshes everything once reconnected.
//
// Threading: all work runs on a strand of the executor given to create(); callbacks are called
// on that strand, one at a time, and must not block. state() may be called from any thread.
// Lifetime: hold it by shared_ptr; close() stops it (pending timers and the connection are
// closed; callbacks are not called afterwards).
#pragma once

#include "cluster/cluster_state.hpp"
#include "net/logging.hpp"
#include "protocol/frame.hpp"

#include <async_cassandra/config.hpp>
#include <async_cassandra/metadata.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace async_cassandra::cluster {

struct ControlConnectionConfig {
    /// Host names or addresses tried in order by start() (all on `port`).
    std::vector<std::string> contact_points;
    std::uint16_t port = 9042;
    /// Settings of the control connection (version, TLS, auth, timeouts). A protocol version
    /// negotiated here is the one the rest of the cluster's connections should use.
    ConnectionConfig connection;
    /// Limit of each system-table query.
    std::chrono::milliseconds request_timeout{10000};
    /// Quiet period after an event before the refresh runs (events arriving meanwhile are
    /// folded into the same refresh).
    std::chrono::milliseconds event_debounce{200};
    /// Reconnection back-off after the control node died: base, doubled per failed round, capped.
    std::chrono::milliseconds reconnect_base{100};
    std::chrono::milliseconds reconnect_max{10000};
    /// Optional mapping of reported node addresses to the addresses to connect to.
    AddressTranslator address_translator;
    net::Logger logger;
};

/// What the control connection tells its owner. Every member may be empty. Called on the
/// control connection's strand, in the order the changes were seen.
struct ControlConnectionCallbacks {
    /// A new state was published (after start() and every refresh).
    std::function<void(const ClusterStatePtr&)> on_state;
    /// STATUS_CHANGE UP/DOWN for a known host, or the control node's connection failed (down).
    std::function<void(const HostInfo& host, bool up)> on_host_status;
    /// A refresh found a host that was not known before / no longer finds a known host.
    std::function<void(const HostInfo& host)> on_host_added;
    std::function<void(const HostInfo& host)> on_host_removed;
};

class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
public:
    static std::shared_ptr<ControlConnection> create(asio::any_io_executor executor,
                                                     ControlConnectionConfig config,
                                                     ControlConnectionCallbacks callbacks = {});
    ~ControlConnection();
    ControlConnection(const ControlConnection&) = delete;
    ControlConnection& operator=(const ControlConnection&) = delete;

    /// Connects (contact points in order), reads topology and schema, publishes the first state
    /// and registers for events. Throws NoHostAvailable (each contact point with its error) when
    /// no contact point answers; AuthenticationError when a node rejects the credentials.
    /// Completes on the caller's executor. Call once.
    asio::awaitable<void> start();

    /// The current state (never null; empty before start() completed).
    ClusterStatePtr state() const;

    /// Re-reads topology and schema now and publishes the result (also used by the owner after a
    /// DDL statement). Throws when the control connection is down and cannot reconnect.
    asio::awaitable<void> refresh();

    /// Polls system.local and system.peers schema_version (every 200 ms) until every live node
    /// reports the same one. True when they agree, false when `timeout` passed first (or the
    /// control connection is down). Completes on the caller's executor.
    asio::awaitable<bool> wait_for_schema_agreement(std::chrono::milliseconds timeout);

    /// Stops everything (idempotent, any thread, returns at once).
    void close();

    /// The protocol version the control connection negotiated (nullopt before start()).
    std::optional<protocol::ProtocolVersion> protocol_version() const noexcept;
    /// Endpoint of the node the control connection is on ("" when disconnected).
    std::string endpoint() const;

    struct Impl;
    explicit ControlConnection(std::shared_ptr<Impl> impl);

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace async_cassandra::cluster
