#include "cluster/schema_reader.hpp"

#include <algorithm>

namespace async_cassandra::cluster {
namespace {

std::size_t required(const Page& page, std::string_view table, std::string_view column) {
    if (auto index = page.columns().find(column)) return *index;
    throw ProtocolError(ProtocolErrc::invalid_value,
                        "system_schema." + std::string(table) + " has no column " + std::string(column));
}

struct ColumnRow {
    ColumnMetadata column;
    std::int32_t position = 0;
};

}  // namespace

KeyspaceMap read_schema(const Page& keyspaces, const Page& tables, const Page& columns) {
    KeyspaceMap out;
    {
        const auto name = required(keyspaces, "keyspaces", "keyspace_name");
        const auto replication = required(keyspaces, "keyspaces", "replication");
        const auto durable = keyspaces.columns().find("durable_writes");
        for (const Row row : keyspaces) {
            KeyspaceMetadata ks;
            ks.name = row.get<std::string>(name);
            ks.replication = row.get<std::optional<std::map<std::string, std::string>>>(replication).value_or(
                std::map<std::string, std::string>{});
            if (durable) ks.durable_writes = row.get<std::optional<bool>>(*durable).value_or(true);
            std::string key = ks.name;
            out.insert_or_assign(std::move(key), std::move(ks));
        }
    }
    {
        const auto ks_index = required(tables, "tables", "keyspace_name");
        const auto name = required(tables, "tables", "table_name");
        for (const Row row : tables) {
            auto ks = out.find(row.get<std::string_view>(ks_index));
            if (ks == out.end()) continue;
            TableMetadata table;
            table.keyspace = ks->first;
            table.name = row.get<std::string>(name);
            std::string key = table.name;
            ks->second.tables.insert_or_assign(std::move(key), std::move(table));
        }
    }
    // Columns grouped per table, then ordered: partition key and clustering key by position,
    // static then regular columns by name (the order of CQL's SELECT *).
    std::map<std::pair<std::string, std::string>, std::vector<ColumnRow>> per_table;
    {
        const auto ks_index = required(columns, "columns", "keyspace_name");
        const auto table_index = required(columns, "columns", "table_name");
        const auto name = required(columns, "columns", "column_name");
        const auto kind = required(columns, "columns", "kind");
        const auto type = required(columns, "columns", "type");
        const auto position = required(columns, "columns", "position");
        const auto order = columns.columns().find("clustering_order");
        for (const Row row : columns) {
            ColumnRow c;
            c.column.name = row.get<std::string>(name);
            c.column.kind = row.get<std::optional<std::string>>(kind).value_or("regular");
            c.column.type = row.get<std::optional<std::string>>(type).value_or("");
            c.position = row.get<std::optional<std::int32_t>>(position).value_or(-1);
            if (order) c.column.clustering_order = row.get<std::optional<std::string>>(*order).value_or("none");
            per_table[{row.get<std::string>(ks_index), row.get<std::string>(table_index)}].push_back(std::move(c));
        }
    }
    auto rank = [](const std::string& kind) {
        if (kind == "partition_key") return 0;
        if (kind == "clustering") return 1;
        if (kind == "static") return 2;
        return 3;
    };
    for (auto& [key, rows] : per_table) {
        auto ks = out.find(key.first);
        if (ks == out.end()) continue;
        auto table = ks->second.tables.find(key.second);
        if (table == ks->second.tables.end()) continue;
        std::stable_sort(rows.begin(), rows.end(), [&](const ColumnRow& a, const ColumnRow& b) {
            const int ra = rank(a.column.kind);
            const int rb = rank(b.column.kind);
            if (ra != rb) return ra < rb;
            if (ra <= 1) return a.position < b.position;
            return a.column.name < b.column.name;
        });
        TableMetadata& t = table->second;
        for (ColumnRow& c : rows) {
            if (c.column.kind == "partition_key") t.partition_key.push_back(c.column);
            else if (c.column.kind == "clustering") t.clustering_key.push_back(c.column);
            t.columns.push_back(std::move(c.column));
        }
    }
    return out;
}

}  // namespace async_cassandra::cluster
