// Response bodies (native_protocol_v4.spec 4.2 and 9, native_protocol_v5.spec 4.2 and 8).
#include "protocol/data_type_codec.hpp"
#include "protocol/message_helpers.hpp"
#include "protocol/messages.hpp"

#include <async_cassandra/row.hpp>

#include <bit>
#include <cstring>
#include <string>

namespace async_cassandra::protocol {

namespace {

using codec_helpers::invalid;
using codec_helpers::is_v5;
using codec_helpers::read_consistency;
using codec_helpers::write_consistency;

std::int32_t read_count(ByteReader& in, const char* what) {
    std::int32_t n = in.read_i32();
    if (n < 0) throw ProtocolError(ProtocolErrc::invalid_length, std::string(what) + " " + std::to_string(n));
    return n;
}
std::int32_t checked_count(std::size_t n, const char* what) {
    if (n > 0x7FFFFFFF) throw ProtocolError(ProtocolErrc::invalid_length, std::string(what) + " too large");
    return static_cast<std::int32_t>(n);
}

Bytes to_bytes(BytesView v) { return Bytes(v.begin(), v.end()); }

std::optional<Bytes> read_optional_bytes(ByteReader& in) {
    if (auto v = in.read_bytes()) return to_bytes(*v);
    return std::nullopt;
}
void write_optional_bytes(ByteWriter& out, const std::optional<Bytes>& v) {
    if (v) out.write_bytes(*v);
    else out.write_null_bytes();
}

// ------------------------------------------------------------ column specs (4.2.5.2, 4.2.5.4)

// Reads `count` col_specs; with a global table spec, `global` holds its keyspace and table.
std::vector<ColumnSpec> read_column_specs(ByteReader& in, std::int32_t count,
                                          const std::optional<std::pair<std::string, std::string>>& global) {
    std::vector<ColumnSpec> columns;
    // A col_spec is at least a [string] name and a 2-byte type id: bounds the reservation.
    columns.reserve(std::min<std::size_t>(static_cast<std::size_t>(count), in.remaining() / 4));
    for (std::int32_t i = 0; i < count; ++i) {
        ColumnSpec c;
        if (global) {
            c.keyspace = global->first;
            c.table = global->second;
        } else {
            c.keyspace = std::string(in.read_string());
            c.table = std::string(in.read_string());
        }
        c.name = std::string(in.read_string());
        c.type = read_type_option(in);
        columns.push_back(std::move(c));
    }
    return columns;
}

// Cassandra sends the global table spec when every column comes from one table; so do we.
bool has_global_table_spec(const std::vector<ColumnSpec>& columns) {
    if (columns.empty()) return false;
    for (const auto& c : columns)
        if (c.keyspace != columns.front().keyspace || c.table != columns.front().table) return false;
    return true;
}

void write_column_specs(ByteWriter& out, const std::vector<ColumnSpec>& columns, bool global) {
    if (global) {
        out.write_string(columns.front().keyspace);
        out.write_string(columns.front().table);
    }
    for (const auto& c : columns) {
        if (!global) {
            out.write_string(c.keyspace);
            out.write_string(c.table);
        }
        out.write_string(c.name);
        if (!c.type) invalid("column '" + c.name + "' has no type");
        write_type_option(out, *c.type);
    }
}

std::optional<std::pair<std::string, std::string>> read_global_spec(ByteReader& in, bool present) {
    if (!present) return std::nullopt;
    std::string keyspace(in.read_string());
    return std::pair{std::move(keyspace), std::string(in.read_string())};
}

// ------------------------------------------------------------ prepared metadata (4.2.5.4)

constexpr std::int32_t kPreparedGlobalTablesSpec = 0x0001;

PreparedMetadata read_prepared_metadata(ByteReader& in) {
    PreparedMetadata m;
    const std::int32_t flags = in.read_i32();
    if (flags & ~kPreparedGlobalTablesSpec) invalid("unknown prepared metadata flags " + std::to_string(flags));
    const std::int32_t column_count = read_count(in, "bind marker count");
    const std::int32_t pk_count = read_count(in, "partition key count");
    m.partition_key_indexes.reserve(std::min<std::size_t>(static_cast<std::size_t>(pk_count), in.remaining() / 2));
    for (std::int32_t i = 0; i < pk_count; ++i) {
        std::uint16_t index = in.read_u16();
        // Token-aware routing indexes the bind values with these: keep them in range here.
        if (index >= column_count)
            invalid("partition key index " + std::to_string(index) + " of " + std::to_string(column_count) +
                    " bind markers");
        m.partition_key_indexes.push_back(index);
    }
    auto global = read_global_spec(in, (flags & kPreparedGlobalTablesSpec) != 0);
    m.columns = read_column_specs(in, column_count, global);
    return m;
}

void write_prepared_metadata(ByteWriter& out, const PreparedMetadata& m) {
    const bool global = has_global_table_spec(m.columns);
    out.write_i32(global ? kPreparedGlobalTablesSpec : 0);
    out.write_i32(checked_count(m.columns.size(), "bind marker count"));
    out.write_i32(checked_count(m.partition_key_indexes.size(), "partition key count"));
    for (std::uint16_t index : m.partition_key_indexes) out.write_u16(index);
    write_column_specs(out, m.columns, global);
}

// ------------------------------------------------------------ schema change (4.2.6)

SchemaChange read_schema_change(ByteReader& in) {
    SchemaChange c;
    c.change_type = std::string(in.read_string());
    c.target = std::string(in.read_string());
    c.keyspace = std::string(in.read_string());
    // The target decides the layout of <options>, so an unknown one cannot be skipped.
    if (c.target == "KEYSPACE") return c;
    if (c.target == "TABLE" || c.target == "TYPE") {
        c.name = std::string(in.read_string());
        return c;
    }
    if (c.target == "FUNCTION" || c.target == "AGGREGATE") {
        c.name = std::string(in.read_string());
        c.arg_types = in.read_string_list();
        return c;
    }
    invalid("schema change target '" + c.target + "'");
}

void write_schema_change(ByteWriter& out, const SchemaChange& c) {
    out.write_string(c.change_type);
    out.write_string(c.target);
    out.write_string(c.keyspace);
    if (c.target == "KEYSPACE") return;
    if (c.target == "TABLE" || c.target == "TYPE") {
        out.write_string(c.name);
        return;
    }
    if (c.target == "FUNCTION" || c.target == "AGGREGATE") {
        out.write_string(c.name);
        out.write_string_list(c.arg_types);
        return;
    }
    invalid("schema change target '" + c.target + "'");
}

// ------------------------------------------------------------ ERROR (section 9 of v4, 8 of v5)

void read_reason_map(ByteReader& in, ErrorResponse& e) {
    const std::int32_t n = read_count(in, "reason map size");
    // An entry is at least a 5-byte [inetaddr] and a 2-byte code: a count the body cannot hold
    // is a truncation, reported before any work.
    if (static_cast<std::size_t>(n) > in.remaining() / 7) throw_truncated(static_cast<std::size_t>(n) * 7, in.remaining());
    e.reason_map.reserve(static_cast<std::size_t>(n));
    for (std::int32_t i = 0; i < n; ++i) {
        Bytes endpoint = to_bytes(in.read_inetaddr());
        e.reason_map.emplace_back(std::move(endpoint), in.read_u16());
    }
    e.num_failures = n;
}

void write_reason_map(ByteWriter& out, const ErrorResponse& e) {
    out.write_i32(checked_count(e.reason_map.size(), "reason map size"));
    for (const auto& [endpoint, code] : e.reason_map) {
        out.write_inetaddr(endpoint);
        out.write_u16(code);
    }
}

ErrorResponse read_error(ByteReader& in, bool v5) {
    ErrorResponse e;
    e.code = static_cast<ServerErrorCode>(in.read_i32());
    e.message = std::string(in.read_string());
    switch (e.code) {
        case ServerErrorCode::unavailable:
            e.consistency = read_consistency(in);
            e.required = in.read_i32();
            e.alive = in.read_i32();
            break;
        case ServerErrorCode::write_timeout:
            e.consistency = read_consistency(in);
            e.received = in.read_i32();
            e.block_for = in.read_i32();
            e.write_type = std::string(in.read_string());
            // v5 8 documents <contentions> for writeType CAS, but Cassandra 4.0-5.0 write it
            // whenever the exception is a CasWriteTimeoutException (ErrorMessage's encoder,
            // v5 only), and StorageProxy wraps the Paxos commit timeout (writeType SIMPLE) in
            // one: read it whenever the two bytes are there. v4 never carries it; extra bytes
            // there are ignored like any trailing bytes.
            if (v5 && in.remaining() >= 2) e.contentions = in.read_i16();
            break;
        case ServerErrorCode::read_timeout:
            e.consistency = read_consistency(in);
            e.received = in.read_i32();
            e.block_for = in.read_i32();
            e.data_present = in.read_u8() != 0;
            break;
        case ServerErrorCode::read_failure:
            e.consistency = read_consistency(in);
            e.received = in.read_i32();
            e.block_for = in.read_i32();
            if (v5) read_reason_map(in, e);
            else e.num_failures = in.read_i32();
            e.data_present = in.read_u8() != 0;
            break;
        case ServerErrorCode::write_failure:
            e.consistency = read_consistency(in);
            e.received = in.read_i32();
            e.block_for = in.read_i32();
            if (v5) read_reason_map(in, e);
            else e.num_failures = in.read_i32();
            e.write_type = std::string(in.read_string());
            break;
        case ServerErrorCode::cas_write_unknown:
            e.consistency = read_consistency(in);
            e.received = in.read_i32();
            e.block_for = in.read_i32();
            break;
        case ServerErrorCode::function_failure:
            e.keyspace = std::string(in.read_string());
            e.function = std::string(in.read_string());
            e.arg_types = in.read_string_list();
            break;
        case ServerErrorCode::already_exists:
            e.keyspace = std::string(in.read_string());
            e.table = std::string(in.read_string());
            break;
        case ServerErrorCode::unprepared: e.unprepared_id = to_bytes(in.read_short_bytes()); break;
        case ServerErrorCode::server_error:
        case ServerErrorCode::protocol_error:
        case ServerErrorCode::bad_credentials:
        case ServerErrorCode::overloaded:
        case ServerErrorCode::is_bootstrapping:
        case ServerErrorCode::truncate_error:
        case ServerErrorCode::cdc_write_failure:
        case ServerErrorCode::syntax_error:
        case ServerErrorCode::unauthorized:
        case ServerErrorCode::invalid:
        case ServerErrorCode::config_error: break;
        default:
            // A code from a newer server: keep code and message; its extra body (if any) has a
            // layout we do not know, so it is skipped rather than failing the connection.
            in.skip(in.remaining());
            break;
    }
    return e;
}

void write_error(ByteWriter& out, const ErrorResponse& e, bool v5) {
    out.write_i32(static_cast<std::int32_t>(e.code));
    out.write_string(e.message);
    switch (e.code) {
        case ServerErrorCode::unavailable:
            write_consistency(out, e.consistency);
            out.write_i32(e.required);
            out.write_i32(e.alive);
            break;
        case ServerErrorCode::write_timeout:
            write_consistency(out, e.consistency);
            out.write_i32(e.received);
            out.write_i32(e.block_for);
            out.write_string(e.write_type);
            // Like Cassandra's encoder: the count goes with CAS timeouts (whatever the phase's
            // writeType); a non-CAS timeout has none to tell.
            if (v5 && (e.write_type == "CAS" || e.contentions != 0)) out.write_i16(e.contentions);
            break;
        case ServerErrorCode::read_timeout:
            write_consistency(out, e.consistency);
            out.write_i32(e.received);
            out.write_i32(e.block_for);
            out.write_u8(e.data_present ? 1 : 0);
            break;
        case ServerErrorCode::read_failure:
            write_consistency(out, e.consistency);
            out.write_i32(e.received);
            out.write_i32(e.block_for);
            if (v5) write_reason_map(out, e);
            else out.write_i32(e.num_failures);
            out.write_u8(e.data_present ? 1 : 0);
            break;
        case ServerErrorCode::write_failure:
            write_consistency(out, e.consistency);
            out.write_i32(e.received);
            out.write_i32(e.block_for);
            if (v5) write_reason_map(out, e);
            else out.write_i32(e.num_failures);
            out.write_string(e.write_type);
            break;
        case ServerErrorCode::cas_write_unknown:
            write_consistency(out, e.consistency);
            out.write_i32(e.received);
            out.write_i32(e.block_for);
            break;
        case ServerErrorCode::function_failure:
            out.write_string(e.keyspace);
            out.write_string(e.function);
            out.write_string_list(e.arg_types);
            break;
        case ServerErrorCode::already_exists:
            out.write_string(e.keyspace);
            out.write_string(e.table);
            break;
        case ServerErrorCode::unprepared: out.write_short_bytes(e.unprepared_id); break;
        default: break;
    }
}

// ------------------------------------------------------------ RESULT (4.2.5)

enum ResultKind : std::int32_t { kVoid = 1, kRows = 2, kSetKeyspace = 3, kPrepared = 4, kSchemaChange = 5 };

ResultResponse read_result(ByteReader& in, bool v5, ProtocolVersion version) {
    const std::int32_t kind = in.read_i32();
    switch (kind) {
        case kVoid: return VoidResult{};
        case kRows: {
            RowsResult r;
            r.metadata = decode_rows_metadata(in, version);
            r.row_count = read_count(in, "row count");
            // Rows without cells would let a tiny body announce billions of empty rows.
            if (r.row_count > 0 && r.metadata.column_count == 0) invalid("rows with zero columns");
            // Delimit (and frame-check) the cells. With the column types at hand, cells of
            // fixed-size types take the walker's fast path; no size check here (the row layer
            // does it), a mismatch only takes the slow path.
            const auto cols = static_cast<std::size_t>(r.metadata.column_count);
            const auto rows = static_cast<std::size_t>(r.row_count);
            if (rows == 0) return r;  // nothing to delimit; no index for an empty page
            // Every cell takes at least 4 bytes: bound the column count (which no_metadata leaves
            // unchecked) by the bytes left before allocating anything per column.
            if (cols > in.remaining() / 4) throw_truncated(std::min(cols, SIZE_MAX / 4) * 4, in.remaining());
            auto index = std::make_shared<RowsWalkIndex>();
            index->fixed.resize(cols);
            const bool typed = r.metadata.columns.size() == cols;
            for (std::size_t c = 0; c < cols; ++c) {
                const DataType* type = typed ? r.metadata.columns[c].type.get() : nullptr;
                index->fixed[c] = type ? static_cast<std::uint32_t>(detail::fixed_value_size(type->kind)) : 0;
            }
            BytesView rest = in.rest();
            // Bound the row count by the bytes left (4 per cell) before allocating row starts.
            if (rows > 0 && rows > rest.size() / 4 / cols)
                throw_truncated(static_cast<std::size_t>(std::min<std::uint64_t>(
                                    static_cast<std::uint64_t>(rows) * cols, SIZE_MAX / 4)) * 4,
                                rest.size());
            if (rest.size() > 0xFFFFFFFFu) index->row_offsets.clear();  // offsets are 32-bit: no index
            else index->row_offsets.resize(rows);
            const detail::RowsWalk walk =
                detail::walk_rows(rest.data(), rest.size(), rows, cols, index->fixed.data(), nullptr,
                                  index->row_offsets.empty() ? nullptr : index->row_offsets.data());
            const std::size_t size = walk.size;
            index->data = rest.data();
            index->size = size;
            index->row_count = r.row_count;
            index->uniform = walk.uniform;
            index->sizes_ok = walk.sizes_ok;
            if (rows > 0) r.walk = std::move(index);
            r.rows_content = in.take(size);
            return r;
        }
        case kSetKeyspace: return SetKeyspaceResult{std::string(in.read_string())};
        case kPrepared: {
            PreparedResult p;
            p.id = to_bytes(in.read_short_bytes());
            if (v5) p.result_metadata_id = to_bytes(in.read_short_bytes());
            p.metadata = read_prepared_metadata(in);
            p.result_metadata = decode_rows_metadata(in, version);
            return p;
        }
        case kSchemaChange: return read_schema_change(in);
        default: invalid("result kind " + std::to_string(kind));
    }
}

void write_result(ByteWriter& out, const ResultResponse& result, bool v5, ProtocolVersion version) {
    std::visit(
        [&](const auto& r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, VoidResult>) {
                out.write_i32(kVoid);
            } else if constexpr (std::is_same_v<T, RowsResult>) {
                out.write_i32(kRows);
                encode_rows_metadata(out, r.metadata, version);
                if (r.row_count < 0) throw ProtocolError(ProtocolErrc::invalid_length, "negative row count");
                out.write_i32(r.row_count);
                out.write_raw(r.rows_content);
            } else if constexpr (std::is_same_v<T, SetKeyspaceResult>) {
                out.write_i32(kSetKeyspace);
                out.write_string(r.keyspace);
            } else if constexpr (std::is_same_v<T, PreparedResult>) {
                out.write_i32(kPrepared);
                out.write_short_bytes(r.id);
                if (v5) out.write_short_bytes(r.result_metadata_id);
                write_prepared_metadata(out, r.metadata);
                encode_rows_metadata(out, r.result_metadata, version);
            } else if constexpr (std::is_same_v<T, SchemaChange>) {
                out.write_i32(kSchemaChange);
                write_schema_change(out, r);
            }
        },
        result);
}

// ------------------------------------------------------------ EVENT (4.2.6)

template <class Event>
Event read_node_event(ByteReader& in) {
    Event e;
    e.change_type = std::string(in.read_string());
    e.address = to_bytes(in.read_inetaddr());  // [inet] = [inetaddr] + [int] port
    e.port = in.read_i32();
    return e;
}

EventResponse read_event(ByteReader& in) {
    const std::string_view type = in.read_string();
    if (type == "TOPOLOGY_CHANGE") return read_node_event<TopologyChangeEvent>(in);
    if (type == "STATUS_CHANGE") return read_node_event<StatusChangeEvent>(in);
    if (type == "SCHEMA_CHANGE") return read_schema_change(in);
    invalid("event type '" + std::string(type) + "'");
}

void write_event(ByteWriter& out, const EventResponse& event) {
    std::visit(
        [&](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, SchemaChange>) {
                out.write_string("SCHEMA_CHANGE");
                write_schema_change(out, e);
            } else {
                out.write_string(std::is_same_v<T, TopologyChangeEvent> ? "TOPOLOGY_CHANGE" : "STATUS_CHANGE");
                out.write_string(e.change_type);
                out.write_inetaddr(e.address);
                out.write_i32(e.port);
            }
        },
        event);
}

}  // namespace

// ------------------------------------------------------------ public

void encode_rows_metadata(ByteWriter& out, const RowsMetadata& m, ProtocolVersion version) {
    const bool v5 = is_v5(version);
    // new_metadata_id only exists in v5; a v4 peer simply is not told.
    const bool changed = v5 && m.new_metadata_id.has_value();
    if (changed && m.no_metadata) invalid("metadata_changed requires the metadata to be sent (v5 4.2.5.2)");
    const bool global = !m.no_metadata && has_global_table_spec(m.columns);
    std::int32_t flags = 0;
    if (global) flags |= rows_flags::global_tables_spec;
    if (m.paging_state) flags |= rows_flags::has_more_pages;
    if (m.no_metadata) flags |= rows_flags::no_metadata;
    if (changed) flags |= rows_flags::metadata_changed;
    out.write_i32(flags);
    if (m.no_metadata) {
        if (m.column_count < 0) throw ProtocolError(ProtocolErrc::invalid_length, "negative column count");
        out.write_i32(m.column_count);
    } else {
        // With metadata, the column specs are the truth for the count.
        out.write_i32(checked_count(m.columns.size(), "column count"));
    }
    if (m.paging_state) out.write_bytes(*m.paging_state);
    if (changed) out.write_short_bytes(*m.new_metadata_id);
    if (!m.no_metadata) write_column_specs(out, m.columns, global);
}

RowsMetadata decode_rows_metadata(ByteReader& in, ProtocolVersion version) {
    const bool v5 = is_v5(version);
    RowsMetadata m;
    const std::int32_t flags = in.read_i32();
    const std::int32_t known = rows_flags::global_tables_spec | rows_flags::has_more_pages | rows_flags::no_metadata |
                               (v5 ? rows_flags::metadata_changed : 0);
    // An unknown bit may announce a field we cannot skip.
    if (flags & ~known) invalid("unknown rows metadata flags " + std::to_string(flags));
    m.no_metadata = (flags & rows_flags::no_metadata) != 0;
    if ((flags & rows_flags::metadata_changed) && m.no_metadata)
        invalid("rows metadata has both no_metadata and metadata_changed");
    m.column_count = read_count(in, "column count");
    if (flags & rows_flags::has_more_pages) {
        auto state = in.read_bytes();
        if (!state) invalid("has_more_pages with a null paging state");
        m.paging_state = to_bytes(*state);
    }
    if (flags & rows_flags::metadata_changed) m.new_metadata_id = to_bytes(in.read_short_bytes());
    if (!m.no_metadata) {
        auto global = read_global_spec(in, (flags & rows_flags::global_tables_spec) != 0);
        m.columns = read_column_specs(in, m.column_count, global);
    }
    return m;
}

Opcode opcode_of(const Response& response) noexcept {
    static constexpr Opcode opcodes[] = {Opcode::error,  Opcode::ready, Opcode::authenticate,   Opcode::supported,
                                         Opcode::result, Opcode::event, Opcode::auth_challenge, Opcode::auth_success};
    static_assert(std::size(opcodes) == std::variant_size_v<Response>);
    return opcodes[response.index()];
}

void encode_response(ByteWriter& out, const Response& response, ProtocolVersion version) {
    const bool v5 = is_v5(version);
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, ErrorResponse>) {
                write_error(out, m, v5);
            } else if constexpr (std::is_same_v<T, ReadyResponse>) {
                // 4.2.2: empty body.
            } else if constexpr (std::is_same_v<T, AuthenticateResponse>) {
                out.write_string(m.authenticator);
            } else if constexpr (std::is_same_v<T, SupportedResponse>) {
                out.write_string_multimap(m.options);
            } else if constexpr (std::is_same_v<T, ResultResponse>) {
                write_result(out, m, v5, version);
            } else if constexpr (std::is_same_v<T, EventResponse>) {
                write_event(out, m);
            } else if constexpr (std::is_same_v<T, AuthChallengeResponse> || std::is_same_v<T, AuthSuccessResponse>) {
                write_optional_bytes(out, m.token);
            }
        },
        response);
}

Response decode_response(Opcode opcode, BytesView body, ProtocolVersion version, std::size_t* ignored_bytes) {
    const bool v5 = is_v5(version);
    ByteReader in(body);
    Response result;
    switch (opcode) {
        case Opcode::error: result = read_error(in, v5); break;
        case Opcode::ready: result = ReadyResponse{}; break;
        case Opcode::authenticate: result = AuthenticateResponse{std::string(in.read_string())}; break;
        case Opcode::supported: result = SupportedResponse{in.read_string_multimap()}; break;
        case Opcode::result: result = read_result(in, v5, version); break;
        case Opcode::event: result = read_event(in); break;
        case Opcode::auth_challenge: result = AuthChallengeResponse{read_optional_bytes(in)}; break;
        case Opcode::auth_success: result = AuthSuccessResponse{read_optional_bytes(in)}; break;
        default:
            throw ProtocolError(ProtocolErrc::unknown_opcode,
                                std::string(to_string(opcode)) + " is not a response opcode");
    }
    // Section 1 of both specs: a client must expect a body to carry more than the fields it knows
    // (that is how servers add fields) and ignore the rest.
    if (ignored_bytes) *ignored_bytes = in.remaining();
    return result;
}

}  // namespace async_cassandra::protocol
