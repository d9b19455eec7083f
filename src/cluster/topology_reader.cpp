// Which peer rows drivers trust, and where they connect, follow the DataStax Python driver
// (cassandra/cluster.py, ControlConnection._is_valid_peer and the rpc_address/peer fallback) so
// that a half-joined node (no host id, no tokens yet) is never routed to.
#include "cluster/topology_reader.hpp"

#include <async_cassandra/values.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace async_cassandra::cluster {
namespace {

struct Cols {
    const Page& page;
    std::optional<std::size_t> find(std::string_view name) const { return page.columns().find(name); }
};

template <class T>
std::optional<T> cell(const Row& row, std::optional<std::size_t> index) {
    if (!index) return std::nullopt;
    return row.get<std::optional<T>>(*index);
}

bool is_unspecified(const Inet& address) {
    return std::all_of(address.bytes.begin(), address.bytes.begin() + address.size, [](std::uint8_t b) { return b == 0; });
}

bool tokens_are_murmur3(std::string_view partitioner) {
    return partitioner.empty() || partitioner.ends_with("Murmur3Partitioner");
}

// Murmur3 tokens as the node writes them (decimal text). False when one does not parse.
bool parse_tokens(const std::set<std::string>& text, std::vector<std::int64_t>& out) {
    out.clear();
    out.reserve(text.size());
    for (const std::string& t : text) {
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec != std::errc{} || end != t.data() + t.size()) return false;
        out.push_back(v);
    }
    std::sort(out.begin(), out.end());
    return true;
}

// The columns both tables share, read into `host`. Returns why the row is unusable, or "".
std::string read_common(const Row& row, const Cols& cols, bool murmur3, bool is_peer, HostInfo& host) {
    host.datacenter = cell<std::string>(row, cols.find("data_center")).value_or("");
    host.rack = cell<std::string>(row, cols.find("rack")).value_or("");
    if (auto id = cell<Uuid>(row, cols.find("host_id"))) host.host_id = id->to_string();
    host.release_version = cell<std::string>(row, cols.find("release_version")).value_or("");
    if (auto v = cell<Uuid>(row, cols.find("schema_version"))) host.schema_version = v->to_string();
    const auto tokens_index = cols.find("tokens");
    auto tokens = cell<std::set<std::string>>(row, tokens_index);
    if (is_peer) {
        if (host.host_id.empty()) return "no host_id";
        if (host.datacenter.empty()) return "no data_center";
        if (host.rack.empty()) return "no rack";
        if (tokens_index && (!tokens || tokens->empty())) return "no tokens";
    }
    if (tokens && murmur3 && !parse_tokens(*tokens, host.tokens)) return "a token that is not a Murmur3 integer";
    return {};
}

}  // namespace

Topology read_topology(const Page& local, const Page& peers, const NodeAddress& connected,
                       std::uint16_t default_port, const AddressTranslator& translator) {
    Topology topology;
    if (local.empty()) throw ProtocolError(ProtocolErrc::invalid_value, "system.local returned no row");
    const Cols local_cols{local};
    const Row local_row = local[0];
    topology.cluster_name = cell<std::string>(local_row, local_cols.find("cluster_name")).value_or("");
    topology.partitioner = cell<std::string>(local_row, local_cols.find("partitioner")).value_or("");
    const bool murmur3 = tokens_are_murmur3(topology.partitioner);

    HostInfo self;
    self.address = connected.address;
    self.port = connected.port;
    if (std::string why = read_common(local_row, local_cols, murmur3, false, self); !why.empty())
        throw ProtocolError(ProtocolErrc::invalid_value, "system.local has " + why);
    std::set<std::string> endpoints{self.endpoint()};
    topology.hosts.push_back(std::move(self));

    const Cols cols{peers};
    const auto peer_index = cols.find("peer");
    const auto native_address_index = cols.find("native_address");  // peers_v2
    const auto native_port_index = cols.find("native_port");
    const auto rpc_address_index = cols.find("rpc_address");        // peers
    for (const Row row : peers) {
        std::string label = "peer row " + std::to_string(row.index());
        try {
            const auto peer = cell<Inet>(row, peer_index);
            if (peer) label = "peer " + peer->to_string();
            std::optional<Inet> rpc = native_address_index ? cell<Inet>(row, native_address_index)
                                                           : cell<Inet>(row, rpc_address_index);
            if (rpc && is_unspecified(*rpc)) rpc = peer;  // bound to every interface: use the peer address
            if (!rpc) {
                topology.skipped.push_back(label + ": no rpc address");
                continue;
            }
            HostInfo host;
            NodeAddress reported{rpc->to_string(), default_port};
            if (auto port = cell<std::int32_t>(row, native_port_index); port && *port > 0 && *port <= 65535)
                reported.port = static_cast<std::uint16_t>(*port);
            if (translator) reported = translator(reported);
            host.address = std::move(reported.address);
            host.port = reported.port;
            if (std::string why = read_common(row, cols, murmur3, true, host); !why.empty()) {
                topology.skipped.push_back(label + ": " + why);
                continue;
            }
            if (!endpoints.insert(host.endpoint()).second) {
                topology.skipped.push_back(label + ": endpoint " + host.endpoint() + " listed twice");
                continue;
            }
            topology.hosts.push_back(std::move(host));
        } catch (const Error& e) {
            // A value of the wrong type or malformed bytes: this row is unusable, the rest may not be.
            topology.skipped.push_back(label + ": " + e.what());
        }
    }
    return topology;
}

}  // namespace async_cassandra::cluster
