// Replica placement after Cassandra's SimpleStrategy and NetworkTopologyStrategy
// (org/apache/cassandra/locator/{SimpleStrategy,NetworkTopologyStrategy}.java,
// calculateNaturalReplicas): one pass over the ring starting at the token's position.
#include "server/engine/replica_placement.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace async_cassandra::server {

namespace {

std::string_view strategy_name(const std::map<std::string, std::string>& replication) {
    auto it = replication.find("class");
    if (it == replication.end()) return {};
    std::string_view c = it->second;
    if (auto dot = c.rfind('.'); dot != std::string_view::npos) c.remove_prefix(dot + 1);
    return c;
}

/// A replication factor as Cassandra writes it: "3", or "3/1" (full/transient; all count here).
int parse_factor(const std::string& text) {
    int v = -1;
    auto end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc{} || (p != end && *p != '/')) return -1;
    return v;
}

}  // namespace

ReplicaPlacement::ReplicaPlacement(const ClusterView& view) {
    std::map<std::string, std::set<std::string>> racks;
    for (const auto& n : view.nodes) {
        std::size_t index = members_.size();
        members_.push_back(Member{n.id, n.data_center, n.rack});
        ++nodes_per_dc_[n.data_center];
        racks[n.data_center].insert(n.rack);
        for (auto t : n.tokens) ring_.emplace_back(t, index);
    }
    for (const auto& [dc, set] : racks) racks_per_dc_[dc] = static_cast<int>(set.size());
    std::sort(ring_.begin(), ring_.end());
}

std::size_t ReplicaPlacement::first_at_or_after(std::int64_t token) const {
    auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(token, std::size_t{0}));
    return it == ring_.end() ? 0 : static_cast<std::size_t>(it - ring_.begin());
}

std::vector<int> ReplicaPlacement::replicas(const std::map<std::string, std::string>& replication,
                                            std::int64_t token, int local_node) const {
    std::vector<int> out;
    const std::string_view strategy = strategy_name(replication);
    if (strategy == "LocalStrategy") return {local_node};
    if (strategy == "EverywhereStrategy") {
        for (const auto& m : members_) out.push_back(m.id);
        return out;
    }
    if (ring_.empty()) return out;
    const std::size_t start = first_at_or_after(token);
    auto contains = [&](int id) { return std::find(out.begin(), out.end(), id) != out.end(); };

    if (strategy == "SimpleStrategy") {
        auto rf_it = replication.find("replication_factor");
        int rf = rf_it == replication.end() ? -1 : parse_factor(rf_it->second);
        if (rf <= 0) return out;
        const auto wanted = std::min<std::size_t>(static_cast<std::size_t>(rf), members_.size());
        for (std::size_t i = 0; i < ring_.size() && out.size() < wanted; ++i) {
            int id = members_[ring_[(start + i) % ring_.size()].second].id;
            if (!contains(id)) out.push_back(id);
        }
        return out;
    }
    if (strategy != "NetworkTopologyStrategy") return out;

    // Per data center: replicas still wanted and how many may share an already used rack.
    struct DcState {
        int rf_left = 0;
        int acceptable_rack_repeats = 0;
    };
    // Cassandra 4.0+ expands a bare replication_factor to every data center when the keyspace is
    // created; a map stored as written is read the same way here.
    int default_rf = 0;
    if (auto it = replication.find("replication_factor"); it != replication.end())
        default_rf = std::max(0, parse_factor(it->second));
    std::map<std::string, DcState> dcs;
    int dcs_to_fill = 0;
    for (const auto& [dc, nodes] : nodes_per_dc_) {
        auto it = replication.find(dc);
        int rf = it == replication.end() ? default_rf : parse_factor(it->second);
        if (rf <= 0 || nodes <= 0) continue;
        dcs[dc] = DcState{std::min(rf, nodes), rf - racks_per_dc_.at(dc)};
        ++dcs_to_fill;
    }
    std::set<std::pair<std::string, std::string>> seen_racks;
    for (std::size_t i = 0; i < ring_.size() && dcs_to_fill > 0; ++i) {
        const Member& m = members_[ring_[(start + i) % ring_.size()].second];
        auto dc = dcs.find(m.data_center);
        if (dc == dcs.end() || dc->second.rf_left == 0) continue;
        DcState& st = dc->second;
        if (seen_racks.emplace(m.data_center, m.rack).second) {
            // First node met in this rack: always taken.
            out.push_back(m.id);
        } else {
            // A rack already used: only while there are fewer racks than replicas wanted.
            if (st.acceptable_rack_repeats <= 0 || contains(m.id)) continue;
            out.push_back(m.id);
            --st.acceptable_rack_repeats;
        }
        if (--st.rf_left == 0) --dcs_to_fill;
    }
    return out;
}

std::vector<int> ReplicaPlacement::range_replicas(const std::map<std::string, std::string>& replication,
                                                  std::int64_t lo, std::int64_t hi, int local_node) const {
    std::vector<int> common = replicas(replication, lo, local_node);
    std::sort(common.begin(), common.end());
    // The replica set changes only just after a ring token: check each sub-range (t, ...] that
    // starts inside [lo, hi).
    for (auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(lo, std::size_t{0}));
         it != ring_.end() && it->first < hi && !common.empty(); ++it) {
        std::vector<int> next = replicas(replication, it->first + 1, local_node);
        std::sort(next.begin(), next.end());
        std::vector<int> both;
        std::set_intersection(common.begin(), common.end(), next.begin(), next.end(), std::back_inserter(both));
        common = std::move(both);
    }
    return common;
}

}  // namespace async_cassandra::server
