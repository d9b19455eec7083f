// Questions to system_schema that the client asks outside the control connection's metadata
// refresh: the one home of the partition key lookup that scan_table and `acass count` share.
// (The control connection reads whole system_schema tables into KeyspaceMetadata; this asks
// about one table at the moment of use, so a table created a moment ago is found.)
#include <async_cassandra/scan.hpp>

#include <async_cassandra/error.hpp>
#include <async_cassandra/text_codec.hpp>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace async_cassandra {

namespace {

// Dots outside double quotes and whether every quote is closed: a qualified name has at most
// one dot and balanced quotes.
bool well_formed_table_name(std::string_view name) {
    bool quoted = false;
    int dots = 0;
    for (char c : name) {
        if (c == '"') quoted = !quoted;
        else if (c == '.' && !quoted) ++dots;
    }
    return !quoted && dots <= 1;
}

}  // namespace

asio::awaitable<std::vector<std::string>> read_partition_key(Session session, std::string table) {
    if (table.empty() || !well_formed_table_name(table)) throw UsageError("bad table name: '" + table + "'");
    auto [keyspace, name] = split_qualified_name(table);
    if (keyspace.empty()) keyspace = session.keyspace();
    if (keyspace.empty()) throw UsageError("no keyspace in '" + table + "' and the session has none");
    if (name.empty()) throw UsageError("bad table name: '" + table + "'");
    Statement query("SELECT column_name, kind, position FROM system_schema.columns WHERE keyspace_name = ? AND "
                    "table_name = ?");
    query.bind(Value(std::move(keyspace)));
    query.bind(Value(std::move(name)));
    ResultSet result = co_await session.execute(std::move(query));
    std::vector<std::pair<std::int32_t, std::string>> keys;
    for (const Row row : result)
        if (row.get<std::string_view>(1) == "partition_key")
            keys.emplace_back(row.get<std::int32_t>(2), std::string(row.get<std::string_view>(0)));
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> names;
    for (auto& k : keys) names.push_back(std::move(k.second));
    co_return names;
}

}  // namespace async_cassandra
