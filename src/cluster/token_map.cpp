// Replica placement as Cassandra computes it (locator/SimpleStrategy.java and
// locator/NetworkTopologyStrategy.java): walk the ring clockwise from the first token >= the
// partition's token and collect owners until the replication factor is met. Precomputed per
// ring position and per distinct replication setting, so a lookup is a binary search.
#include "cluster/token_map.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>
#include <unordered_map>
#include <utility>

namespace async_cassandra::cluster {
namespace {

using Replication = std::map<std::string, std::string>;

std::string_view strategy_name(const Replication& replication) {
    auto it = replication.find("class");
    if (it == replication.end()) return {};
    std::string_view cls = it->second;
    auto dot = cls.rfind('.');
    return dot == std::string_view::npos ? cls : cls.substr(dot + 1);
}

// "3", or "3/1" (full/transient replicas, Cassandra 4.0): the full count. Anything else: 0.
int parse_factor(std::string_view text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || value < 0) return 0;
    if (end != text.data() + text.size() && *end != '/') return 0;
    return value;
}

struct RingView {
    const std::vector<TokenMap::RingEntry>& ring;
    const std::vector<std::string>& endpoints;
    const std::vector<const HostInfo*>& hosts;  // host index -> info
};

std::vector<std::string> simple_replicas(const RingView& v, std::size_t start, int rf) {
    std::vector<std::string> out;
    std::vector<bool> taken(v.endpoints.size(), false);
    const std::size_t n = v.ring.size();
    for (std::size_t step = 0; step < n && static_cast<int>(out.size()) < rf; ++step) {
        auto host = v.ring[(start + step) % n].host;
        if (taken[host]) continue;
        taken[host] = true;
        out.push_back(v.endpoints[host]);
    }
    return out;
}

// One data center's progress during the ring walk (NetworkTopologyStrategy.DatacenterEndpoints).
struct DatacenterFill {
    int rf_left = 0;
    int acceptable_rack_repeats = 0;
};

struct DatacenterShape {
    int nodes = 0;
    int racks = 0;
};

std::vector<std::string> network_replicas(const RingView& v, std::size_t start, const std::map<std::string, int>& factors,
                                          const std::map<std::string, DatacenterShape, std::less<>>& shapes) {
    std::map<std::string_view, DatacenterFill> fills;
    int dcs_to_fill = 0;
    for (const auto& [dc, rf] : factors) {
        auto shape = shapes.find(dc);
        if (rf <= 0 || shape == shapes.end() || shape->second.nodes <= 0) continue;
        // Fewer nodes than the factor: every node of the DC. Fewer racks: one node per rack first,
        // the rest filled by the first nodes met of racks already used.
        fills[dc] = DatacenterFill{std::min(rf, shape->second.nodes), rf - shape->second.racks};
        ++dcs_to_fill;
    }
    std::vector<std::string> out;
    std::vector<bool> taken(v.endpoints.size(), false);
    std::set<std::pair<std::string_view, std::string_view>> seen_racks;
    const std::size_t n = v.ring.size();
    for (std::size_t step = 0; step < n && dcs_to_fill > 0; ++step) {
        auto host = v.ring[(start + step) % n].host;
        const HostInfo& info = *v.hosts[host];
        auto fill = fills.find(std::string_view(info.datacenter));
        if (fill == fills.end() || fill->second.rf_left == 0) continue;
        DatacenterFill& f = fill->second;
        if (seen_racks.emplace(info.datacenter, info.rack).second) {
            // A rack not used yet (so this node is not taken yet either: a node has one rack).
            taken[host] = true;
            out.push_back(v.endpoints[host]);
            --f.rf_left;
        } else {
            if (f.acceptable_rack_repeats <= 0 || taken[host]) continue;
            taken[host] = true;
            out.push_back(v.endpoints[host]);
            --f.acceptable_rack_repeats;
            --f.rf_left;
        }
        if (f.rf_left == 0) --dcs_to_fill;
    }
    return out;
}

}  // namespace

std::shared_ptr<const TokenMap> TokenMap::build(const std::vector<HostInfo>& hosts,
                                                const std::map<std::string, KeyspaceMetadata, std::less<>>& keyspaces) {
    auto map = std::make_shared<TokenMap>();
    std::vector<const HostInfo*> infos;
    std::unordered_map<std::string, std::uint32_t> index_of;
    for (const HostInfo& h : hosts) {
        if (h.tokens.empty()) continue;
        std::string endpoint = h.endpoint();
        if (index_of.contains(endpoint)) continue;  // one entry per node
        auto index = static_cast<std::uint32_t>(map->endpoints_.size());
        index_of.emplace(endpoint, index);
        map->endpoints_.push_back(std::move(endpoint));
        infos.push_back(&h);
        for (std::int64_t t : h.tokens) map->ring_.push_back({t, index});
    }
    // A token claimed twice (a node replacing another before the peers table caught up): the
    // first host listed keeps it.
    std::stable_sort(map->ring_.begin(), map->ring_.end(),
                     [](const RingEntry& a, const RingEntry& b) { return a.token < b.token; });
    map->ring_.erase(std::unique(map->ring_.begin(), map->ring_.end(),
                                 [](const RingEntry& a, const RingEntry& b) { return a.token == b.token; }),
                     map->ring_.end());
    if (map->ring_.empty()) return map;

    std::map<std::string, DatacenterShape, std::less<>> shapes;
    {
        std::map<std::string, std::set<std::string>> racks;
        for (const HostInfo* h : infos) {
            ++shapes[h->datacenter].nodes;
            racks[h->datacenter].insert(h->rack);
        }
        for (auto& [dc, set] : racks) shapes[dc].racks = static_cast<int>(set.size());
    }

    const RingView view{map->ring_, map->endpoints_, infos};
    std::map<Replication, std::shared_ptr<const ReplicaTable>> computed;
    for (const auto& [name, ks] : keyspaces) {
        auto known = computed.find(ks.replication);
        if (known != computed.end()) {
            if (known->second) map->keyspaces_.emplace(name, known->second);
            continue;
        }
        std::shared_ptr<ReplicaTable> table;
        const std::string_view strategy = strategy_name(ks.replication);
        if (strategy == "SimpleStrategy") {
            auto rf_it = ks.replication.find("replication_factor");
            const int rf = rf_it == ks.replication.end() ? 0 : parse_factor(rf_it->second);
            table = std::make_shared<ReplicaTable>();
            table->per_position.reserve(map->ring_.size());
            for (std::size_t i = 0; i < map->ring_.size(); ++i)
                table->per_position.push_back(simple_replicas(view, i, rf));
        } else if (strategy == "NetworkTopologyStrategy") {
            std::map<std::string, int> factors;
            for (const auto& [key, value] : ks.replication)
                if (key != "class" && key != "replication_factor") factors[key] = parse_factor(value);
            table = std::make_shared<ReplicaTable>();
            table->per_position.reserve(map->ring_.size());
            for (std::size_t i = 0; i < map->ring_.size(); ++i)
                table->per_position.push_back(network_replicas(view, i, factors, shapes));
        }
        computed.emplace(ks.replication, table);
        if (table) map->keyspaces_.emplace(name, std::move(table));
    }
    return map;
}

std::size_t TokenMap::position_of(std::int64_t token) const noexcept {
    auto it = std::lower_bound(ring_.begin(), ring_.end(), token,
                               [](const RingEntry& e, std::int64_t t) { return e.token < t; });
    return it == ring_.end() ? 0 : static_cast<std::size_t>(it - ring_.begin());
}

std::span<const std::string> TokenMap::replicas(std::string_view keyspace, std::int64_t token) const noexcept {
    if (ring_.empty()) return {};
    auto it = keyspaces_.find(keyspace);
    if (it == keyspaces_.end()) return {};
    return it->second->per_position[position_of(token)];
}

std::string_view TokenMap::primary_owner(std::int64_t token) const noexcept {
    if (ring_.empty()) return {};
    return endpoints_[ring_[position_of(token)].host];
}

std::vector<OwnedRange> TokenMap::ranges(std::string_view keyspace) const {
    std::vector<OwnedRange> out;
    if (ring_.empty()) return out;
    const ReplicaTable* table = nullptr;
    if (auto it = keyspaces_.find(keyspace); it != keyspaces_.end()) table = it->second.get();
    auto owners = [&](std::size_t pos) {
        if (table && !table->per_position[pos].empty()) return table->per_position[pos];
        return std::vector<std::string>{endpoints_[ring_[pos].host]};
    };
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    out.reserve(ring_.size() + 1);
    // The range wrapping around the ring, split at INT64_MIN: its low part first...
    if (ring_.front().token != min) out.push_back({min, ring_.front().token, owners(0)});
    for (std::size_t i = 1; i < ring_.size(); ++i) out.push_back({ring_[i - 1].token, ring_[i].token, owners(i)});
    // ...and its high part last.
    if (ring_.back().token != max) out.push_back({ring_.back().token, max, owners(0)});
    return out;
}

}  // namespace async_cassandra::cluster
