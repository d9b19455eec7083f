// Fuzz target for the readers of system-table rows (topology_reader, schema_reader) and the token
// map built from what they return: a node controls every byte and type of those rows.
// Input: [short] column count (mod 12); per column a byte choosing its name from the columns the
// readers look for and an [option] type; an [int] row count; the rows content. The one page is
// read as system.local, as the peers table and as all three system_schema tables.
//
// Invariants: nothing but async_cassandra::Error escapes; hosts have distinct endpoints; every
// replica the token map returns is one of the hosts, at most once.
#include "fuzz_fail.hpp"
#include "cluster/schema_reader.hpp"
#include "cluster/token_map.hpp"
#include "cluster/topology_reader.hpp"
#include "protocol/data_type_codec.hpp"
#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <set>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

using acass_fuzz::fail;

namespace {

constexpr std::array<const char*, 24> names = {
    "key",           "cluster_name",   "partitioner",     "data_center", "rack",         "host_id",
    "release_version", "schema_version", "tokens",        "peer",        "rpc_address",  "native_address",
    "native_port",   "keyspace_name",  "durable_writes",  "replication", "table_name",   "column_name",
    "kind",          "position",       "type",            "clustering_order", "peer_port", "other"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Page page;
    try {
        auto body = std::make_shared<Bytes>(data, data + size);
        ByteReader in(*body);
        const std::size_t ncols = in.read_u16() % 12;
        RowsResult result;
        for (std::size_t i = 0; i < ncols; ++i) {
            const char* name = names[in.read_u8() % names.size()];
            result.metadata.columns.push_back({"system", "t", name, read_type_option(in)});
        }
        result.metadata.column_count = static_cast<std::int32_t>(ncols);
        result.row_count = in.read_i32();
        result.rows_content = in.rest();
        page = protocol::page_from_rows(body, std::move(result));
    } catch (const Error&) {
        return 0;
    }
    ClusterMetadata meta;
    try {
        cluster::Topology topology = cluster::read_topology(page, page, {"127.0.0.1", 9042}, 9042);
        meta.hosts = std::move(topology.hosts);
    } catch (const Error&) {
    }
    try {
        meta.keyspaces = cluster::read_schema(page, page, page);
    } catch (const Error&) {
    }
    std::set<std::string> endpoints;
    for (const HostInfo& h : meta.hosts)
        if (!endpoints.insert(h.endpoint()).second) fail("two hosts with one endpoint");
    auto map = cluster::TokenMap::build(meta.hosts, meta.keyspaces);
    for (const auto& [name, ks] : meta.keyspaces) {
        for (std::int64_t token : {std::int64_t{0}, std::int64_t{-1} << 62, std::int64_t{1} << 62}) {
            std::set<std::string> seen;
            for (const std::string& r : map->replicas(name, token)) {
                if (!endpoints.contains(r)) fail("replica that is not a host");
                if (!seen.insert(r).second) fail("replica listed twice");
            }
        }
        (void)map->ranges(name);
    }
    return 0;
}
