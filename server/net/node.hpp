// Internals of the front end shared by cluster.cpp and connection.cpp: the per-node listener state
// and the per-connection protocol state machine. Everything here runs on the cluster's single I/O
// thread, so none of it locks (counters are atomics because tests read them from other threads).
#pragma once

#include "server/engine/replica_placement.hpp"
#include "server/net/cluster.hpp"
#include "server/net/emulation.hpp"
#include "server/net/replay_pages.hpp"
#include "protocol/frame_codec.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace async_cassandra::server::net {

class Connection;

namespace event_mask {
inline constexpr unsigned topology = 1;
inline constexpr unsigned status = 2;
inline constexpr unsigned schema = 4;
}  // namespace event_mask

struct Node {
    Cluster::Impl& cluster;
    int id = 1;
    asio::ip::address address;
    std::string host_id;
    std::string data_center;
    std::string rack;
    std::vector<std::int64_t> tokens;
    std::shared_ptr<asio::ip::tcp::acceptor> acceptor;  ///< shared with its accept loop
    bool listening = false;  ///< guarded by Impl::view_mutex for writes, read on the I/O thread
    bool member = true;      ///< part of the ring (system.peers)
    std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> queries{0};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> open{0};
    std::atomic<std::uint64_t> refused{0};  ///< connections closed at accept (max_connections)
    std::atomic<std::uint64_t> replica_requests{0};
    std::atomic<std::uint64_t> non_replica_requests{0};
    std::atomic<std::uint64_t> range_replica_requests{0};
    std::atomic<std::uint64_t> range_non_replica_requests{0};

    Node(Cluster::Impl& c, int node_id) : cluster(c), id(node_id) {}
};

struct Cluster::Impl {
    explicit Impl(ClusterOptions o);

    ClusterOptions options;
    Emulation emulation;
    std::vector<int> versions;  ///< accepted protocol versions, ascending
    /// Set when the nodes serve TLS. Declared before `io` so that it outlives the connections
    /// that the io_context may still hold when it is destroyed.
    std::optional<asio::ssl::context> tls;
    asio::io_context io{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
    Engine engine;
    FaultInjector faults;
    std::unique_ptr<ReplayPages> replay;  ///< with ClusterOptions::replay_pages
    std::vector<std::unique_ptr<Node>> nodes;
    std::uint16_t port = 0;
    int min_version = 4;
    int max_version = 5;
    bool running = false;
    mutable std::mutex view_mutex;

    bool version_enabled(int v) const;
    Node& node(int id);
    void open_listener(Node& n, std::uint16_t port);
    void close_node(Node& n);
    asio::awaitable<void> accept_loop(Node& n, std::shared_ptr<asio::ip::tcp::acceptor> acceptor);
    /// Pushes `event` to the connections registered for `mask`; `skip_node` (if > 0) is left out.
    void broadcast(const protocol::EventResponse& event, unsigned mask, int skip_node);
    ClusterView view() const;
    /// Replica placement over the current members; replaced (on the I/O thread) when a node
    /// leaves or joins the ring.
    std::shared_ptr<const ReplicaPlacement> placement;
    void update_placement() {
        placement = std::make_shared<const ReplicaPlacement>(view());
        replica_memo.clear();
        replica_memo_owners.clear();
    }
    /// Counts a single-partition request on node `n` as a replica or non-replica request.
    void count_route(Node& n, const PartitionRoute& route);
    /// count_route's memo of "node N replicates ring position P under replication R": a token's
    /// replicas depend only on the ring position of the first token at or after it, so a point
    /// request costs a lookup instead of a walk of the ring (and the allocations of
    /// NetworkTopologyStrategy's). Computed under `placement` and cleared with it; the replication
    /// maps of its keys are kept alive in replica_memo_owners, so a freed map's address cannot
    /// come back as a stale key.
    struct ReplicaMemoKey {
        const Replication* replication = nullptr;
        std::size_t ring_position = 0;
        int node = 0;
        bool operator==(const ReplicaMemoKey&) const = default;
    };
    struct ReplicaMemoHash {
        std::size_t operator()(const ReplicaMemoKey& k) const noexcept {
            return std::hash<const void*>{}(k.replication) ^ (k.ring_position * 0x9E3779B97F4A7C15ull) ^
                   (static_cast<std::size_t>(k.node) << 40);
        }
    };
    std::unordered_map<ReplicaMemoKey, bool, ReplicaMemoHash> replica_memo;
    std::vector<ReplicationPtr> replica_memo_owners;
    /// Runs `f` on the I/O thread and waits for it.
    template <class F>
    void run_on_io(F&& f);
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Node& node, asio::ip::tcp::socket socket);

    void start();
    /// Closes the socket now; pending output is dropped.
    void close();
    /// Queues an EVENT if this connection registered for `mask`.
    void push_event(const protocol::EventResponse& event, unsigned mask);

private:
    enum class Phase { initial, authenticating, ready };

    /// TLS: the server side of the handshake; false if it failed (the connection then closes).
    asio::awaitable<bool> tls_handshake();
    /// One read/write on the transport: the socket itself, or the TLS stream over it. A branch
    /// rather than a virtual layer or a template keeps the plain-TCP path as it was.
    template <class Buffers>
    auto read_some(const Buffers& buffers);
    template <class Buffers>
    auto write_all(const Buffers& buffers);
    asio::awaitable<void> read_loop();
    asio::awaitable<void> write_loop();
    /// Closes the connection when the CQL handshake is not done within handshake_timeout, or
    /// (once ready) when nothing moved for idle_timeout.
    asio::awaitable<void> watchdog();
    /// READY or AUTH_SUCCESS sent: requests may now be as large as the protocol allows.
    void become_ready();
    asio::awaitable<void> deliver_later(protocol::FrameHeader header, protocol::Bytes body,
                                        std::chrono::milliseconds delay);

    /// Checks the first bytes of the connection for a protocol version we do not speak (their
    /// header may not even be 9 bytes long); returns false if it answered and is closing.
    bool sniff_version(protocol::BytesView first);
    void handle(const protocol::Envelope& envelope);
    void handle_startup(std::int16_t stream, const protocol::StartupRequest& req);
    void handle_auth(std::int16_t stream, const protocol::AuthResponseRequest& req);
    void handle_query(const protocol::FrameHeader& header, const protocol::Request& req);
    protocol::FrameHeader response_header(std::int16_t stream, const protocol::Response& response) const;
    void send(std::int16_t stream, const protocol::Response& response, const std::vector<std::string>& warnings = {});
    void send_error(std::int16_t stream, ServerErrorCode code, std::string message);
    void send_version_error(int asked, std::uint8_t flags, std::int16_t stream);
    /// Queues an envelope whose body is already encoded (`warnings` go in front, WARNING flag).
    void send_body(std::int16_t stream, protocol::Opcode opcode, protocol::BytesView body,
                   const std::vector<std::string>& warnings);
    /// Appends bytes to the output as they are (after everything queued before).
    void send_raw(protocol::BytesView bytes);
    /// `response` framed as it would go on the wire now, without queueing it (fault injection).
    protocol::Bytes wire_form(std::int16_t stream, const protocol::Response& response) const;
    void notify() { wake_.cancel(); }
    /// Sends what is queued, then closes (after the peer had a chance to read it).
    void close_after_flush();
    std::string query_text(const protocol::Request& req) const;

    Node& node_;
    asio::ip::tcp::socket socket_;
    /// TLS over socket_ when the cluster serves TLS (it only borrows the socket, so closing
    /// socket_ aborts TLS operations too); null for plain TCP.
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
    asio::steady_timer wake_;      ///< cancelled to wake the writer
    asio::steady_timer drained_;   ///< cancelled by the writer after each write (reader back-pressure)
    asio::steady_timer watchdog_;  ///< handshake / idle deadline (cancelled by close())
    std::chrono::steady_clock::time_point accepted_at_;
    std::chrono::steady_clock::time_point last_activity_;  ///< last bytes received or sent
    protocol::FrameDecoder decoder_;
    protocol::FrameEncoder encoder_;
    protocol::Compression compression_ = protocol::Compression::none;
    protocol::Bytes pending_;  ///< wire bytes queued for the writer (v5: after encoder_.flush)
    protocol::Bytes out_;      ///< bytes of the write in flight
    std::size_t out_in_flight_ = 0;
    ConnectionState state_;
    Phase phase_ = Phase::initial;
    bool started_ = false;
    bool open_ = true;
    bool closing_ = false;
    bool sniffed_ = false;
    bool handshake_done_ = false;  ///< TLS handshake finished (the guard timer must not close us)
    protocol::Bytes sniff_;  ///< first bytes, until the version byte and stream id are known
    unsigned events_ = 0;
};

template <class F>
void Cluster::Impl::run_on_io(F&& f) {
    if (!thread.joinable() || io.get_executor().running_in_this_thread()) {
        f();
        return;
    }
    std::promise<void> done;
    asio::post(io, [&] {
        try {
            f();
            done.set_value();
        } catch (...) {
            done.set_exception(std::current_exception());
        }
    });
    done.get_future().get();
}

}  // namespace async_cassandra::server::net
