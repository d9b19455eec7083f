// Lookups of the public metadata snapshot (include/async_cassandra/metadata.hpp).
#include <async_cassandra/metadata.hpp>

#include <algorithm>

namespace async_cassandra {

std::string make_endpoint(std::string_view address, std::uint16_t port) {
    const bool v6 = address.find(':') != std::string_view::npos;
    std::string out;
    out.reserve(address.size() + 8);
    if (v6) out += '[';
    out += address;
    if (v6) out += ']';
    out += ':';
    out += std::to_string(port);
    return out;
}

std::string HostInfo::endpoint() const { return make_endpoint(address, port); }

const ColumnMetadata* TableMetadata::column(std::string_view name) const noexcept {
    auto it = std::find_if(columns.begin(), columns.end(), [&](const ColumnMetadata& c) { return c.name == name; });
    return it == columns.end() ? nullptr : &*it;
}

const TableMetadata* KeyspaceMetadata::table(std::string_view name) const noexcept {
    auto it = tables.find(name);
    return it == tables.end() ? nullptr : &it->second;
}

const HostInfo* ClusterMetadata::host(std::string_view endpoint) const noexcept {
    for (const HostInfo& h : hosts)
        if (h.endpoint() == endpoint) return &h;
    return nullptr;
}

std::vector<std::int64_t> ClusterMetadata::ring_tokens() const {
    std::vector<std::int64_t> tokens;
    for (const HostInfo& h : hosts) {
        if (h.tokens.empty()) return {};
        tokens.insert(tokens.end(), h.tokens.begin(), h.tokens.end());
    }
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    return tokens;
}

const KeyspaceMetadata* ClusterMetadata::keyspace(std::string_view name) const noexcept {
    auto it = keyspaces.find(name);
    return it == keyspaces.end() ? nullptr : &it->second;
}

const TableMetadata* ClusterMetadata::table(std::string_view keyspace_name, std::string_view table_name) const noexcept {
    const KeyspaceMetadata* ks = keyspace(keyspace_name);
    return ks ? ks->table(table_name) : nullptr;
}

}  // namespace async_cassandra
