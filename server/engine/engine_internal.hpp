// Internals shared by the engine's translation units: schema, storage, select plans, paging state.
//
// Storage model: every table is a std::map of partitions ordered by (Murmur3 token, serialized
// routing key), each holding a std::map of rows ordered by the clustering key with Cassandra's
// type-aware comparison (DESC columns inverted). Cells are kept as their serialized [value] bytes
// so reads copy bytes straight into the rows buffer without re-encoding.
#pragma once

#include "server/engine/cql_ast.hpp"
#include "server/engine/cql_values.hpp"
#include "server/engine/engine.hpp"

#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace async_cassandra::server::detail {

using protocol::Bytes;
using protocol::BytesView;

enum class ColumnKind { partition_key, clustering, regular, static_ };

struct ColumnDef {
    std::string name;
    cql::ColumnType type;
    ColumnKind kind = ColumnKind::regular;
    int position = -1;  ///< index within the partition key / clustering key, -1 otherwise
    bool desc = false;  ///< clustering order
    std::size_t slot = 0;  ///< index of the cell in Row::cells / Partition::statics (stable across ALTER)
};

/// Tables whose rows are generated on each read instead of stored.
enum class Generated {
    none, local, peers, peers_v2, sk_keyspaces, sk_tables, sk_columns, sk_types, sk_functions, sk_aggregates,
    sk_triggers, sk_indexes, sk_views, sk_dropped_columns, vk_keyspaces, vk_tables, vk_columns, empty
};

struct TableSchema {
    std::string keyspace;
    std::string name;
    std::vector<ColumnDef> columns;  ///< pk, clustering, then the others by name (SELECT * order)
    std::vector<std::size_t> pk;     ///< indexes into columns
    std::vector<std::size_t> ck;
    std::map<std::string, std::string> options;
    Bytes id;  ///< table uuid
    Generated generated = Generated::none;
    bool synthetic = false;
    bool is_counter = false;
    std::size_t slot_count = 0;

    const ColumnDef* find(std::string_view column) const {
        for (const auto& c : columns)
            if (c.name == column) return &c;
        return nullptr;
    }
    std::size_t index_of(const ColumnDef* c) const { return static_cast<std::size_t>(c - columns.data()); }
};

using Cell = std::optional<Bytes>;
using ClusteringKey = std::vector<Bytes>;

struct Row {
    std::vector<Cell> cells;  ///< by ColumnDef::slot; missing slots are null
    std::int64_t expires_ms = 0;  ///< 0 = never (USING TTL applies to the whole row here)
    std::int64_t write_ts = 0;    ///< microseconds
    std::int32_t ttl = 0;
};

struct ClusteringLess {
    std::shared_ptr<const TableSchema> schema;
    bool operator()(const ClusteringKey& a, const ClusteringKey& b) const {
        std::size_t n = std::min(a.size(), b.size());
        for (std::size_t i = 0; i < n; ++i) {
            const ColumnDef& c = schema->columns[schema->ck[i]];
            int r = cql::compare_values(a[i], b[i], *c.type.type);
            if (r) return c.desc ? r > 0 : r < 0;
        }
        return a.size() < b.size();
    }
};

struct PartitionPos {
    std::int64_t token = 0;
    Bytes key;  ///< routing key (composite form for multi-column keys)
    bool operator<(const PartitionPos& o) const {
        if (token != o.token) return token < o.token;
        return std::lexicographical_compare(key.begin(), key.end(), o.key.begin(), o.key.end());
    }
    bool operator==(const PartitionPos& o) const { return token == o.token && key == o.key; }
};

struct Partition {
    std::vector<Bytes> key;  ///< partition key components
    std::map<ClusteringKey, Row, ClusteringLess> rows;
    std::vector<Cell> statics;
    explicit Partition(ClusteringLess less) : rows(std::move(less)) {}
};

struct Table {
    std::shared_ptr<const TableSchema> schema;
    std::map<PartitionPos, Partition> partitions;
};

struct UserType {
    std::string name;
    std::vector<std::pair<std::string, cql::ColumnType>> fields;
    DataTypePtr type;
};

struct Keyspace {
    std::string name;
    ReplicationPtr replication = std::make_shared<const Replication>();
    bool durable_writes = true;
    bool system = false;
    bool is_virtual = false;  ///< listed by system_virtual_schema, not system_schema
    std::map<std::string, std::shared_ptr<Table>> tables;
    std::map<std::string, UserType> types;
};

/// Where a query resumes: strictly after the given row (Cassandra's paging state holds the same).
struct PagingState {
    Bytes partition_key;                       ///< routing key of the last returned row's partition
    std::optional<ClusteringKey> clustering;   ///< absent: the partition's static-only row was last
    std::int64_t remaining = 0;                ///< rows still allowed by LIMIT
    std::int32_t partition_rows = 0;           ///< rows already returned from that partition
};

Bytes encode_paging_state(const PagingState& state);
/// Throws CqlError{invalid} on malformed input.
PagingState decode_paging_state(BytesView bytes);

struct Restriction {
    std::size_t column = 0;  ///< index into schema columns
    cql::Op op = cql::Op::eq;
    std::vector<Bytes> values;  ///< eq: 1, in: n, range: 1
};

struct OutputColumn {
    cql::Selector::Kind kind = cql::Selector::Kind::column;
    std::size_t column = 0;  ///< column / writetime / ttl target
    protocol::ColumnSpec spec;
};

/// The result columns of a SELECT under one schema: shared by the plans of every EXECUTE of a
/// prepared statement (see prepared_shape.hpp) instead of rebuilt, strings and all, per request.
struct SelectOutputs {
    std::vector<OutputColumn> columns;
    std::vector<protocol::ColumnSpec> specs;  ///< columns' specs: the Rows metadata
    bool count = false;                       ///< COUNT(*) is selected
};

struct SelectPlan {
    std::shared_ptr<const TableSchema> schema;
    std::shared_ptr<const SelectOutputs> outputs;
    bool count = false;  ///< outputs->count
    bool star = false;
    std::optional<std::vector<std::vector<Bytes>>> partition_keys;  ///< exact keys (components), in ring order
    std::vector<std::int64_t> partition_tokens;  ///< the token of each of partition_keys (hashed once per plan)
    std::int64_t token_lo = std::numeric_limits<std::int64_t>::min();  ///< inclusive
    std::int64_t token_hi = std::numeric_limits<std::int64_t>::max();  ///< inclusive
    bool empty_range = false;
    std::vector<Restriction> clustering;  ///< on clustering columns
    std::vector<Restriction> filters;     ///< on other columns (or partial partition keys)
    bool reversed = false;
    /// ORDER BY across several IN partitions (unpaged): rows are merged by clustering key.
    bool merge_partitions = false;
    std::int64_t limit = std::numeric_limits<std::int64_t>::max();
    std::int64_t per_partition_limit = std::numeric_limits<std::int64_t>::max();
};

/// Applies `op` to a compare result.
inline bool op_matches(cql::Op op, int c) {
    switch (op) {
        case cql::Op::eq: return c == 0;
        case cql::Op::neq: return c != 0;
        case cql::Op::lt: return c < 0;
        case cql::Op::le: return c <= 0;
        case cql::Op::gt: return c > 0;
        case cql::Op::ge: return c >= 0;
        default: return false;
    }
}

inline bool restriction_matches(const Restriction& r, BytesView value, const DataType& type) {
    if (r.op == cql::Op::in) {
        for (const auto& v : r.values)
            if (cql::compare_values(value, v, type) == 0) return true;
        return false;
    }
    return op_matches(r.op, cql::compare_values(value, r.values[0], type));
}

/// Grows the rows buffer in big steps; cells are written through raw pointers for speed.
class RowsBuffer {
public:
    explicit RowsBuffer(Bytes& out) : out_(out) {}
    void ensure(std::size_t n) {
        // Doubling, from what the first row needs: resize() zero-fills, and a point query's
        // one row used to pay for 4 KiB of it.
        if (pos_ + n > out_.size()) out_.resize(std::max(out_.size() * 2, pos_ + n));
    }
    std::uint8_t* at() { return out_.data() + pos_; }
    void advance(std::size_t n) { pos_ += n; }
    void put_i32(std::int32_t v) {
        ensure(4);
        store32(at(), static_cast<std::uint32_t>(v));
        pos_ += 4;
    }
    void cell(BytesView v) {
        ensure(4 + v.size());
        store32(at(), static_cast<std::uint32_t>(v.size()));
        if (!v.empty()) std::memcpy(at() + 4, v.data(), v.size());
        pos_ += 4 + v.size();
    }
    void cell(const Cell& c) {
        if (c) cell(BytesView(*c));
        else put_i32(-1);
    }
    void finish() { out_.resize(pos_); }
    std::size_t size() const { return pos_; }

    static void store32(std::uint8_t* p, std::uint32_t v) {
        p[0] = static_cast<std::uint8_t>(v >> 24);
        p[1] = static_cast<std::uint8_t>(v >> 16);
        p[2] = static_cast<std::uint8_t>(v >> 8);
        p[3] = static_cast<std::uint8_t>(v);
    }
    static void store64(std::uint8_t* p, std::uint64_t v) {
        for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
    }

private:
    Bytes& out_;
    std::size_t pos_ = 0;
};

/// Result of running a select plan: the page plus where to resume.
struct PageResult {
    std::int32_t row_count = 0;
    std::int64_t counted = 0;  ///< COUNT(*) plans
    std::optional<PagingState> next;
};

/// The synthetic table's partitions in token order: 16 bytes per partition, no per-row memory.
struct SyntheticData {
    std::int64_t rows = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> partitions;  ///< (token, pk) sorted
    std::int64_t rows_in(std::int64_t pk) const { return std::min<std::int64_t>(100, rows - pk * 100); }
};

/// Builds the (token, pk) array for `rows` rows.
SyntheticData make_synthetic(std::int64_t rows);
std::shared_ptr<TableSchema> synthetic_schema();
/// Runs a plan against the synthetic table, writing cells to `out`.
PageResult run_synthetic(const SyntheticData& data, const SelectPlan& plan, const std::optional<PagingState>& resume,
                         std::int32_t page_size, Bytes& out);

struct PreparedShape;

struct PreparedEntry {
    std::string query;
    std::string keyspace;
    std::shared_ptr<const cql::ParsedStatement> parsed;
    /// What its EXECUTEs need under the current schema (shape_of() in prepared_shape.hpp).
    mutable std::mutex shape_mutex;
    mutable std::shared_ptr<const PreparedShape> shape;
};

}  // namespace async_cassandra::server::detail

namespace async_cassandra::server {

struct Engine::Impl {
    EngineConfig config;
    mutable std::shared_mutex mutex;  ///< schema and data
    std::map<std::string, detail::Keyspace> keyspaces;
    std::string schema_version;
    std::uint64_t schema_counter = 0;

    mutable std::mutex provider_mutex;
    std::function<ClusterView()> provider;

    /// Orders prepared ids and finds them by a view of the request's bytes (no copy per EXECUTE).
    struct IdLess {
        using is_transparent = void;
        bool operator()(protocol::BytesView a, protocol::BytesView b) const {
            return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
        }
    };
    mutable std::mutex prepared_mutex;
    std::map<int, std::map<protocol::Bytes, std::shared_ptr<const detail::PreparedEntry>, IdLess>> prepared;

    detail::SyntheticData synthetic;

    /// Parsed QUERY texts (statements are immutable once parsed); cleared when it grows too big.
    mutable std::mutex parse_mutex;
    std::unordered_map<std::string, std::shared_ptr<const cql::ParsedStatement>> parse_cache;
    std::shared_ptr<const cql::ParsedStatement> parse(std::string_view query);

    ClusterView cluster_view() const;
    void bump_schema_version();
};

namespace detail {
/// Creates the system keyspaces and their table schemas.
void add_system_keyspaces(Engine::Impl& impl);
/// Fills `out` with the rows of a generated table (caller holds the shared lock).
void fill_generated(const Engine::Impl& impl, const TableSchema& schema, const ConnectionState& state,
                    const ClusterView& view, Table& out);
/// Shared helpers for building schemas and rows.
std::shared_ptr<TableSchema> make_schema(std::string keyspace, std::string name,
                                         std::vector<std::pair<std::string, std::string>> columns,
                                         std::vector<std::string> pk, std::vector<std::string> ck,
                                         std::vector<bool> ck_desc = {});
/// Puts `columns` (names, types and slots set; kind static_ or regular for the columns outside
/// the primary key) into `schema` in the order a table stores them: the partition key columns in
/// key order, the clustering columns in key order (descending where `ck_desc` says so), then the
/// others by name. Sets kind and position of the key columns, pk, ck and slot_count. The one
/// layout of make_schema (built-in tables) and CREATE TABLE.
void lay_out_columns(TableSchema& schema, std::vector<ColumnDef> columns, const std::vector<std::string>& pk,
                     const std::vector<std::string>& ck, const std::vector<bool>& ck_desc);
/// An MD5 of `seed` marked as a UUID of `version`: table ids (3, name-based, for built-in tables
/// that keep their id; 4 for created tables, whose seed changes with the schema) and schema
/// versions.
Bytes md5_uuid(std::string_view seed, int version);
void insert_row(Table& table, std::vector<Cell> cells_by_column);
Bytes md5(std::string_view data);
std::string uuid_text(BytesView b);
}  // namespace detail

}  // namespace async_cassandra::server
