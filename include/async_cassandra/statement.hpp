// Statements: simple (query text + values), prepared/bound, and batches, with their options.
//
// Values are encoded when they are bound (ValueCodec, codec.hpp): a simple statement encodes each
// value as its natural CQL type (int -> int, std::int64_t -> bigint, std::string -> text...); a
// bound statement encodes each value as the type of its bind marker and checks arity and types
// before anything is sent (TypeError / UsageError).
// GCC 12 note (see session.hpp): statements and StatementOptions have constructors, so braced
// temporaries of them inside a co_await expression are safe; a braced std::vector of values is
// not (GCC 12 rejects it there): bind() values, or build the vector first.
// Every statement owns its data (query text, encoded values): it may be destroyed right after
// the execute() that uses it has completed, and reused for any number of executions.
#pragma once

#include <async_cassandra/codec.hpp>
#include <async_cassandra/consistency.hpp>
#include <async_cassandra/row.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace async_cassandra {

/// Per-statement options; unset fields take the Cluster's defaults.
struct StatementOptions {
    // A declared constructor keeps this type from being an aggregate: GCC 12 destroys an
    // aggregate-initialised temporary inside a co_await expression twice (see the GCC 12 note in session.hpp).
    StatementOptions() = default;

    std::optional<Consistency> consistency;
    std::optional<Consistency> serial_consistency;
    /// Rows per page (execute() still fetches every page; execute_page() returns one).
    std::optional<std::int32_t> page_size;
    /// Request timeout; nullopt = the cluster's request_timeout. See `no_timeout`.
    std::optional<std::chrono::milliseconds> timeout;
    /// Wait forever (overrides `timeout` and the cluster default).
    bool no_timeout = false;
    /// Executing it twice has the same effect as once. Only idempotent requests are retried
    /// after they may have reached a node (timeouts, lost connections, overload) and only they
    /// are speculated; a non-idempotent write is never sent twice (see retry_policy.hpp).
    bool idempotent = false;
    /// Client-side write timestamp, microseconds since the epoch.
    std::optional<std::int64_t> default_timestamp;
    /// Keyspace of the statement (protocol v5 only; ignored by v4, where USE applies).
    std::optional<std::string> keyspace;
    /// Ask the server to trace the request (ResultSet::tracing_id()).
    bool tracing = false;
    /// Route as if the partition key had this Murmur3 token (token-aware routing of requests
    /// whose key the driver cannot compute, e.g. the ranges of a token-range scan).
    std::optional<std::int64_t> routing_token;
};

/// One value of a simple statement, encoded at construction as its natural CQL type.
/// Construct from any Encodable C++ value, std::nullopt (null) or async_cassandra::unset.
class Value {
public:
    template <class T>
        requires Encodable<detail::codec_type_t<T>>
    Value(const T& value) {  // NOLINT(google-explicit-constructor): {42, "x"} lists
        detail::ByteWriter w(bytes_);
        encode_value(w, value);
    }
    Value(std::nullopt_t) { detail::ByteWriter(bytes_).write_null_bytes(); }  // NOLINT
    /// The encoded [value] (with its length prefix).
    const Bytes& encoded() const noexcept { return bytes_; }

private:
    Bytes bytes_;
};

namespace detail {
/// Encoded [value]s, back to back, with the number of values.
struct EncodedValues {
    Bytes bytes;
    std::size_t count = 0;
};

/// A guess of the bytes `value` takes as a [value] (its 4-byte length included), so that a bind
/// reserves its buffer once instead of growing it value by value: a text or blob's length, 8 for a
/// number (the widest of the usual marker types), 16 for anything else. Only a capacity hint: the
/// buffer still grows when the guess is short.
template <class T>
constexpr std::size_t encoded_size_hint(const T& value) noexcept {
    using U = std::remove_cvref_t<T>;
    if constexpr (!std::is_pointer_v<U> && std::is_convertible_v<const U&, std::string_view>) {
        return 4 + std::string_view(value).size();
    } else if constexpr (std::is_convertible_v<const U&, BytesView>) {
        return 4 + BytesView(value).size();
    } else if constexpr (std::is_arithmetic_v<U>) {
        return 4 + 8;
    } else {
        return 4 + 16;
    }
}

/// What a PreparedStatement knows about its server-side statement. Shared by copies of the
/// PreparedStatement, by its BoundStatements and by the session's cache; updated when the
/// server re-prepares it or reports new result metadata (v5).
struct PreparedData {
    std::string query;
    std::optional<std::string> keyspace;
    std::shared_ptr<const Columns> bind_markers;
    std::vector<std::uint16_t> partition_key_indexes;

    /// What the statement does (the session's internal statement kind), parsed once from `query`
    /// (which never changes, not even on a re-prepare) because every EXECUTE's answer is checked
    /// against it; `statement_kind_unknown` until parsed.
    static constexpr std::uint8_t statement_kind_unknown = 0xFF;
    std::uint8_t statement_kind = statement_kind_unknown;

    mutable std::mutex mutex;  ///< guards the fields below
    Bytes id;
    Bytes result_metadata_id;            ///< v5
    std::shared_ptr<const Columns> result_columns;  ///< may be empty (no rows)

    Bytes id_copy() const {
        std::lock_guard lock(mutex);
        return id;
    }
};
}  // namespace detail

/// A CQL query text with values for its `?` markers.
class Statement {
public:
    explicit Statement(std::string query) : query_(std::move(query)) {}
    Statement(std::string query, std::vector<Value> values) : query_(std::move(query)) {
        for (const auto& v : values) add_encoded(v);
    }

    /// Appends one value (natural CQL type). Returns *this.
    Statement& bind(Value value) {
        add_encoded(value);
        return *this;
    }
    Statement& set_options(StatementOptions options) {
        options_ = std::move(options);
        return *this;
    }
    Statement& set_consistency(Consistency c) {
        options_.consistency = c;
        return *this;
    }
    Statement& set_page_size(std::int32_t n) {
        options_.page_size = n;
        return *this;
    }
    Statement& set_timeout(std::chrono::milliseconds t) {
        options_.timeout = t;
        return *this;
    }
    Statement& set_idempotent(bool v = true) {
        options_.idempotent = v;
        return *this;
    }

    const std::string& query() const noexcept { return query_; }
    const StatementOptions& options() const noexcept { return options_; }
    StatementOptions& options() noexcept { return options_; }
    const detail::EncodedValues& values() const noexcept { return values_; }

private:
    void add_encoded(const Value& v) {
        values_.bytes.insert(values_.bytes.end(), v.encoded().begin(), v.encoded().end());
        ++values_.count;
    }
    std::string query_;
    detail::EncodedValues values_;
    StatementOptions options_;
};

/// A prepared statement with all its values bound (created by PreparedStatement::bind).
class BoundStatement {
public:
    BoundStatement(std::shared_ptr<const detail::PreparedData> prepared, detail::EncodedValues values)
        : prepared_(std::move(prepared)), values_(std::move(values)) {}

    BoundStatement& set_options(StatementOptions options) {
        options_ = std::move(options);
        return *this;
    }
    BoundStatement& set_consistency(Consistency c) {
        options_.consistency = c;
        return *this;
    }
    BoundStatement& set_page_size(std::int32_t n) {
        options_.page_size = n;
        return *this;
    }
    BoundStatement& set_timeout(std::chrono::milliseconds t) {
        options_.timeout = t;
        return *this;
    }
    BoundStatement& set_idempotent(bool v = true) {
        options_.idempotent = v;
        return *this;
    }

    const std::shared_ptr<const detail::PreparedData>& prepared() const noexcept { return prepared_; }
    const detail::EncodedValues& values() const noexcept { return values_; }
    const StatementOptions& options() const noexcept { return options_; }
    StatementOptions& options() noexcept { return options_; }

private:
    std::shared_ptr<const detail::PreparedData> prepared_;
    detail::EncodedValues values_;
    StatementOptions options_;
};

/// Binds the values of a prepared statement by bind-marker name (PreparedStatement::bind_by_name).
/// A name is a `:name` marker's name, or for `?` the name the server gives it (the column's name,
/// e.g. `a` in `WHERE a = ?`). Setting a name sets every marker of that name. Markers never set
/// are sent as "not set", so an INSERT or UPDATE leaves those columns untouched.
class NamedBinder {
public:
    explicit NamedBinder(std::shared_ptr<const detail::PreparedData> data)
        : data_(std::move(data)), encoded_(data_->bind_markers->size()) {}

    /// Encodes `value` as the type of the marker(s) named `name`. Throws UsageError for a name
    /// that no marker has, TypeError when the value cannot be written as the marker's type.
    template <class T>
    NamedBinder& set(std::string_view name, const T& value) {
        const Columns& markers = *data_->bind_markers;
        bool found = false;
        for (std::size_t i = 0; i < markers.size(); ++i) {
            if (markers[i].name != name) continue;
            found = true;
            Bytes bytes;
            detail::ByteWriter w(bytes);
            if constexpr (std::is_same_v<T, std::nullopt_t>) {
                w.write_null_bytes();
            } else {
                try {
                    encode_value(w, *markers[i].type, value);
                } catch (const TypeError& e) {
                    throw TypeError("bind marker '" + markers[i].name + "': " + e.what());
                }
            }
            encoded_[i] = std::move(bytes);
        }
        if (!found) throw UsageError("no bind marker named '" + std::string(name) + "' in: " + data_->query);
        return *this;
    }

    /// The statement with every marker bound (unset where no value was given).
    BoundStatement bind() const {
        detail::EncodedValues ev;
        ev.count = encoded_.size();
        std::size_t size = 0;
        for (const auto& value : encoded_) size += value ? value->size() : 4;
        ev.bytes.reserve(size);
        detail::ByteWriter w(ev.bytes);
        for (const auto& value : encoded_) {
            if (value) w.write_raw(BytesView(*value));
            else w.write_unset_value();
        }
        return BoundStatement(data_, std::move(ev));
    }

private:
    std::shared_ptr<const detail::PreparedData> data_;
    std::vector<std::optional<Bytes>> encoded_;  // per marker, [value] with its length
};

/// Result of Session::prepare. Cheap to copy (shared state); valid after the session is gone
/// (but only executable through a session of the same cluster).
/// A value already in its serialized form, for PreparedStatement::bind_serialized: the bytes a
/// marker's type writes (encode_value, from_cql_literal, from_json, a cell read with Row::raw),
/// null, or unset.
struct SerializedValue {
    enum class Kind { value, null, unset };
    Kind kind = Kind::null;
    BytesView bytes;  ///< with Kind::value; only read during bind_serialized

    static SerializedValue of(BytesView b) noexcept { return {Kind::value, b}; }
    static SerializedValue null() noexcept { return {Kind::null, {}}; }
    static SerializedValue unset() noexcept { return {Kind::unset, {}}; }
};

class PreparedStatement {
public:
    PreparedStatement() = default;
    explicit PreparedStatement(std::shared_ptr<detail::PreparedData> data) : data_(std::move(data)) {}

    /// Binds one value per marker, encoded as the marker's CQL type. Throws UsageError when the
    /// number of values differs from the number of markers, TypeError when a value's C++ type
    /// cannot be written as its marker's type. Values may be std::nullopt (null), unset, or
    /// std::optional<T>.
    template <class... Ts>
    BoundStatement bind(const Ts&... values) const {
        check_arity(sizeof...(Ts));
        detail::EncodedValues ev;
        ev.count = sizeof...(Ts);
        ev.bytes.reserve((std::size_t{0} + ... + detail::encoded_size_hint(values)));
        detail::ByteWriter w(ev.bytes);
        std::size_t i = 0;
        (encode_one(w, i++, values), ...);
        return BoundStatement(data_, std::move(ev));
    }
    /// Binds values that are already serialized (copying them), one per marker. Only the count
    /// is checked here (UsageError); bytes that do not match a marker's type are refused by the
    /// server (InvalidRequest). For tools that read values as text or copy cells between tables.
    BoundStatement bind_serialized(std::span<const SerializedValue> values) const {
        check_arity(values.size());
        detail::EncodedValues ev;
        ev.count = values.size();
        std::size_t size = 0;
        for (const SerializedValue& v : values) size += 4 + (v.kind == SerializedValue::Kind::value ? v.bytes.size() : 0);
        ev.bytes.reserve(size);
        detail::ByteWriter w(ev.bytes);
        for (const SerializedValue& v : values) {
            if (v.kind == SerializedValue::Kind::value) w.write_bytes(v.bytes);
            else if (v.kind == SerializedValue::Kind::null) w.write_null_bytes();
            else w.write_unset_value();
        }
        return BoundStatement(data_, std::move(ev));
    }
    /// Starts binding by marker name: `ps.bind_by_name().set("id", 42).set("name", "x").bind()`.
    NamedBinder bind_by_name() const { return NamedBinder(data_); }
    /// Binds values given as a tuple (used by Session::execute_concurrent).
    template <class Tuple>
    BoundStatement bind_tuple(const Tuple& values) const {
        return std::apply([this](const auto&... v) { return bind(v...); }, values);
    }

    const std::string& query() const noexcept { return data_->query; }
    /// The bind markers (name and type of each `?`).
    const Columns& bind_markers() const noexcept { return *data_->bind_markers; }
    /// The result columns announced by the server (may be empty).
    std::shared_ptr<const Columns> result_columns() const {
        std::lock_guard lock(data_->mutex);
        return data_->result_columns;
    }
    /// The server's statement id.
    Bytes id() const { return data_->id_copy(); }
    bool valid() const noexcept { return data_ != nullptr; }
    const std::shared_ptr<detail::PreparedData>& data() const noexcept { return data_; }

private:
    void check_arity(std::size_t n) const;
    template <class T>
    void encode_one(detail::ByteWriter& w, std::size_t i, const T& value) const {
        const Column& marker = (*data_->bind_markers)[i];
        if constexpr (std::is_same_v<T, std::nullopt_t>) {
            w.write_null_bytes();
        } else {
            try {
                encode_value(w, *marker.type, value);
            } catch (const TypeError& e) {
                throw TypeError("bind marker " + std::to_string(i) + " ('" + marker.name + "'): " + e.what());
            }
        }
    }

    std::shared_ptr<detail::PreparedData> data_;
};

enum class BatchKind : std::uint8_t { logged = 0, unlogged = 1, counter = 2 };

/// A BATCH of simple and bound statements (per-statement options are ignored; the batch's own
/// options apply: consistency, serial consistency, timestamp, timeout, keyspace (v5)).
class Batch {
public:
    explicit Batch(BatchKind kind = BatchKind::logged) : kind_(kind) {}
    static Batch logged() { return Batch(BatchKind::logged); }
    static Batch unlogged() { return Batch(BatchKind::unlogged); }
    static Batch counter() { return Batch(BatchKind::counter); }

    Batch& add(Statement s) {
        entries_.emplace_back(std::move(s));
        return *this;
    }
    Batch& add(BoundStatement s) {
        entries_.emplace_back(std::move(s));
        return *this;
    }
    /// Adds a simple statement built from a query text and values (natural CQL types).
    template <class... Ts>
    Batch& add(std::string query, const Ts&... values) {
        Statement s(std::move(query));
        (s.bind(Value(values)), ...);
        return add(std::move(s));
    }
    Batch& set_options(StatementOptions options) {
        options_ = std::move(options);
        return *this;
    }
    Batch& set_consistency(Consistency c) {
        options_.consistency = c;
        return *this;
    }

    BatchKind kind() const noexcept { return kind_; }
    std::size_t size() const noexcept { return entries_.size(); }
    const std::vector<std::variant<Statement, BoundStatement>>& entries() const noexcept { return entries_; }
    const StatementOptions& options() const noexcept { return options_; }
    StatementOptions& options() noexcept { return options_; }

private:
    BatchKind kind_;
    std::vector<std::variant<Statement, BoundStatement>> entries_;
    StatementOptions options_;
};

}  // namespace async_cassandra
