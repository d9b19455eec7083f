// Stored tables: schemas built from text, ids, partition positions, rows and the undo log.
#include "server/engine/storage.hpp"

#include "protocol/murmur3.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace async_cassandra::server::detail {

Bytes md5(std::string_view data) {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr);
    out.resize(len);
    return out;
}

std::string uuid_text(BytesView b) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < b.size() && i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += hex[b[i] >> 4];
        s += hex[b[i] & 0xF];
    }
    return s;
}

void lay_out_columns(TableSchema& schema, std::vector<ColumnDef> columns, const std::vector<std::string>& pk,
                     const std::vector<std::string>& ck, const std::vector<bool>& ck_desc) {
    std::vector<ColumnDef> others;
    std::vector<ColumnDef> pks(pk.size()), cks(ck.size());
    for (ColumnDef& c : columns) {
        auto p = std::find(pk.begin(), pk.end(), c.name);
        auto q = std::find(ck.begin(), ck.end(), c.name);
        if (p != pk.end()) {
            c.kind = ColumnKind::partition_key;
            c.position = static_cast<int>(p - pk.begin());
            pks[static_cast<std::size_t>(c.position)] = std::move(c);
        } else if (q != ck.end()) {
            c.kind = ColumnKind::clustering;
            c.position = static_cast<int>(q - ck.begin());
            c.desc = static_cast<std::size_t>(c.position) < ck_desc.size() && ck_desc[static_cast<std::size_t>(c.position)];
            cks[static_cast<std::size_t>(c.position)] = std::move(c);
        } else {
            others.push_back(std::move(c));
        }
    }
    std::sort(others.begin(), others.end(), [](const ColumnDef& a, const ColumnDef& b) { return a.name < b.name; });
    schema.columns.clear();
    for (auto& c : pks) schema.columns.push_back(std::move(c));
    for (auto& c : cks) schema.columns.push_back(std::move(c));
    for (auto& c : others) schema.columns.push_back(std::move(c));
    schema.pk.clear();
    schema.ck.clear();
    for (std::size_t i = 0; i < pk.size(); ++i) schema.pk.push_back(i);
    for (std::size_t i = 0; i < ck.size(); ++i) schema.ck.push_back(pk.size() + i);
    schema.slot_count = columns.size();
}

Bytes md5_uuid(std::string_view seed, int version) {
    Bytes id = md5(seed);
    id[6] = static_cast<std::uint8_t>((id[6] & 0x0F) | (version << 4));
    id[8] = static_cast<std::uint8_t>((id[8] & 0x3F) | 0x80);
    return id;
}

std::shared_ptr<TableSchema> make_schema(std::string keyspace, std::string name,
                                         std::vector<std::pair<std::string, std::string>> columns,
                                         std::vector<std::string> pk, std::vector<std::string> ck,
                                         std::vector<bool> ck_desc) {
    auto s = std::make_shared<TableSchema>();
    s->keyspace = std::move(keyspace);
    s->name = std::move(name);
    std::vector<ColumnDef> defs;
    for (auto& [cname, ctype] : columns) {
        ColumnDef c;
        c.name = cname;
        c.type = cql::resolve_type(cql::parse_cql_type(ctype), s->keyspace, {});
        c.slot = defs.size();
        defs.push_back(std::move(c));
    }
    lay_out_columns(*s, std::move(defs), pk, ck, ck_desc);
    s->id = md5_uuid(s->keyspace + "." + s->name, 3);
    return s;
}

Bytes routing_key(const std::vector<Bytes>& components) {
    if (components.size() == 1) return components[0];
    std::vector<BytesView> views(components.begin(), components.end());
    return protocol::composite_routing_key(views);
}

std::int64_t partition_token(const std::vector<Bytes>& components) {
    if (components.size() == 1) return protocol::murmur3_token(components[0]);
    return protocol::murmur3_token(routing_key(components));
}

PartitionPos partition_pos(const std::vector<Bytes>& components) {
    PartitionPos p;
    p.key = routing_key(components);
    p.token = protocol::murmur3_token(p.key);
    return p;
}

void UndoLog::note(Table& t, const PartitionPos& pos) {
    for (const auto& [tp, p, old] : saved)
        if (tp == &t && p == pos) return;
    auto it = t.partitions.find(pos);
    saved.emplace_back(&t, pos, it == t.partitions.end() ? std::nullopt : std::optional<Partition>(it->second));
}

void UndoLog::rollback() {
    for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
        auto& [t, pos, old] = *it;
        if (old) t->partitions.insert_or_assign(pos, std::move(*old));
        else t->partitions.erase(pos);
    }
    saved.clear();
}

namespace {
thread_local UndoLog* current_undo = nullptr;
}  // namespace

UndoScope::UndoScope() : previous_(current_undo) { current_undo = &log; }
UndoScope::~UndoScope() { current_undo = previous_; }

void note_change(Table& table, const PartitionPos& pos) {
    if (current_undo) current_undo->note(table, pos);
}

Partition& partition_for(Table& table, const std::vector<Bytes>& components) {
    PartitionPos pos = partition_pos(components);
    note_change(table, pos);
    auto it = table.partitions.find(pos);
    if (it == table.partitions.end()) {
        it = table.partitions.emplace(std::move(pos), Partition(ClusteringLess{table.schema})).first;
        it->second.key = components;
    }
    return it->second;
}

void insert_row(Table& table, std::vector<Cell> cells) {
    const TableSchema& s = *table.schema;
    std::vector<Bytes> pk;
    for (auto i : s.pk) pk.push_back(cells[i].value_or(Bytes{}));
    ClusteringKey ck;
    for (auto i : s.ck) ck.push_back(cells[i].value_or(Bytes{}));
    Partition& p = partition_for(table, pk);
    Row& row = p.rows[ck];
    row.cells.assign(s.slot_count, std::nullopt);
    for (std::size_t i = 0; i < s.columns.size(); ++i) row.cells[s.columns[i].slot] = std::move(cells[i]);
}

}  // namespace async_cassandra::server::detail
