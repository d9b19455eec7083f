// Message bodies of the native protocol, both directions, v4 and v5
// (native_protocol_v4.spec section 4, native_protocol_v5.spec section 4).
//
// Lifetime rule: request structs hold views (std::string_view, BytesView, ValueView). A decoded
// request points into the body buffer it was decoded from; a request built for encoding points
// into the caller's data. Either way the referenced bytes must outlive the struct. Response
// structs own their data, except RowsResult::rows_content, which views the body buffer (the
// client's page layer keeps that buffer alive; the server encodes from its own buffer).
#pragma once

#include "protocol/bytes.hpp"
#include "protocol/frame.hpp"

#include <async_cassandra/consistency.hpp>
#include <async_cassandra/data_type.hpp>
#include <async_cassandra/error.hpp>
#include <async_cassandra/response_info.hpp>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace async_cassandra::protocol {

using Uuid16 = std::array<std::uint8_t, 16>;

// ---------------------------------------------------------------- shared pieces

/// QUERY / EXECUTE flags (a byte in v4, an int in v5).
namespace query_flags {
inline constexpr std::uint32_t values = 0x01;
inline constexpr std::uint32_t skip_metadata = 0x02;
inline constexpr std::uint32_t page_size = 0x04;
inline constexpr std::uint32_t paging_state = 0x08;
inline constexpr std::uint32_t serial_consistency = 0x10;
inline constexpr std::uint32_t default_timestamp = 0x20;
inline constexpr std::uint32_t names_for_values = 0x40;
inline constexpr std::uint32_t keyspace = 0x80;         // v5
inline constexpr std::uint32_t now_in_seconds = 0x100;  // v5
}  // namespace query_flags

/// <query_parameters> of QUERY and EXECUTE. Flags are derived from which fields are set.
struct QueryParameters {
    Consistency consistency = Consistency::local_one;
    std::vector<ValueView> values;
    std::vector<std::string_view> value_names;  ///< empty, or parallel to values (flag 0x40)
    bool skip_metadata = false;
    std::optional<std::int32_t> page_size;
    std::optional<BytesView> paging_state;
    std::optional<Consistency> serial_consistency;
    std::optional<std::int64_t> default_timestamp;  ///< microseconds since epoch
    std::optional<std::string_view> keyspace;       ///< v5 only
    std::optional<std::int32_t> now_in_seconds;     ///< v5 only
};

/// col_spec of Rows / Prepared metadata.
struct ColumnSpec {
    std::string keyspace;
    std::string table;
    std::string name;
    DataTypePtr type;
};

namespace rows_flags {
inline constexpr std::int32_t global_tables_spec = 0x0001;
inline constexpr std::int32_t has_more_pages = 0x0002;
inline constexpr std::int32_t no_metadata = 0x0004;
inline constexpr std::int32_t metadata_changed = 0x0008;  // v5
}  // namespace rows_flags

/// <metadata> of a Rows result (4.2.5.2). `columns` is empty when no_metadata is set.
struct RowsMetadata {
    std::int32_t column_count = 0;
    std::optional<Bytes> paging_state;
    std::optional<Bytes> new_metadata_id;  ///< v5, with metadata_changed
    bool no_metadata = false;
    std::vector<ColumnSpec> columns;

    bool has_more_pages() const noexcept { return paging_state.has_value(); }
};

/// <metadata> of a Prepared result (4.2.5.4): bind markers and partition key indexes.
struct PreparedMetadata {
    std::vector<std::uint16_t> partition_key_indexes;
    std::vector<ColumnSpec> columns;
};

// ---------------------------------------------------------------- requests

struct StartupRequest {
    std::map<std::string, std::string> options;  ///< CQL_VERSION mandatory; COMPRESSION, DRIVER_NAME...
};
struct AuthResponseRequest {
    std::optional<Bytes> token;
};
struct OptionsRequest {};
struct QueryRequest {
    std::string_view query;
    QueryParameters params;
};
struct PrepareRequest {
    std::string_view query;
    std::optional<std::string_view> keyspace;  ///< v5 only
};
struct ExecuteRequest {
    BytesView id;
    BytesView result_metadata_id;  ///< v5 only (mandatory there)
    QueryParameters params;
};
enum class BatchType : std::uint8_t { logged = 0, unlogged = 1, counter = 2 };
struct BatchStatement {
    bool is_prepared = false;
    std::string_view query;  ///< when !is_prepared
    BytesView id;            ///< when is_prepared
    std::vector<ValueView> values;
};
struct BatchRequest {
    BatchType type = BatchType::logged;
    std::vector<BatchStatement> statements;
    Consistency consistency = Consistency::local_one;
    std::optional<Consistency> serial_consistency;
    std::optional<std::int64_t> default_timestamp;
    std::optional<std::string_view> keyspace;    ///< v5 only
    std::optional<std::int32_t> now_in_seconds;  ///< v5 only
};
struct RegisterRequest {
    std::vector<std::string> event_types;  ///< "TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"
};

using Request = std::variant<StartupRequest, AuthResponseRequest, OptionsRequest, QueryRequest, PrepareRequest,
                             ExecuteRequest, BatchRequest, RegisterRequest>;

Opcode opcode_of(const Request& request) noexcept;

// ---------------------------------------------------------------- responses

/// ERROR (section 9). Extra fields are filled according to `code`.
struct ErrorResponse {
    ServerErrorCode code = ServerErrorCode::server_error;
    std::string message;
    Consistency consistency = Consistency::any;  ///< unavailable, timeouts, failures
    std::int32_t required = 0;                    ///< unavailable
    std::int32_t alive = 0;                       ///< unavailable
    std::int32_t received = 0;                    ///< timeouts, failures
    std::int32_t block_for = 0;                   ///< timeouts, failures
    std::string write_type;                       ///< write_timeout, write_failure
    std::int16_t contentions = 0;                 ///< v5 write_timeout of a CAS write (any write_type)
    bool data_present = false;                    ///< read_timeout, read_failure
    std::int32_t num_failures = 0;                ///< v4 read/write failure; v5: set to reason_map size on decode
    std::vector<std::pair<Bytes, std::uint16_t>> reason_map;  ///< v5 failures: endpoint (4/16 bytes) -> code
    std::string keyspace;                         ///< already_exists, function_failure
    std::string table;                            ///< already_exists
    std::string function;                         ///< function_failure
    std::vector<std::string> arg_types;           ///< function_failure
    Bytes unprepared_id;                          ///< unprepared
    /// Not part of the message: the client connection copies the body prefix (warnings,
    /// tracing id, custom payload) here so that the thrown ServerError carries it; null when the
    /// response had none. A pointer: every reply holds a Response, whose size is this one's.
    std::shared_ptr<const ResponseInfo> info;
};
struct ReadyResponse {};
struct AuthenticateResponse {
    std::string authenticator;
};
struct SupportedResponse {
    std::map<std::string, std::vector<std::string>> options;
};
struct AuthChallengeResponse {
    std::optional<Bytes> token;
};
struct AuthSuccessResponse {
    std::optional<Bytes> token;
};

struct VoidResult {};
/// What decode_response learned while walking a Rows result's cells (internal): lets
/// Page::from_rows build the page without a second pass over the same bytes. Page::from_rows
/// trusts it only when it describes exactly the RowsResult's rows_content, row count and column
/// sizes; otherwise (or when it is absent, e.g. a RowsResult built by hand) the page walks and
/// validates the cells itself.
struct RowsWalkIndex {
    const std::uint8_t* data = nullptr;      ///< rows_content as walked
    std::size_t size = 0;
    std::int32_t row_count = 0;
    std::vector<std::uint32_t> fixed;        ///< per column: the value size the walk assumed, 0 = variable
    std::vector<std::uint32_t> row_offsets;  ///< start of each row, relative to data
    bool uniform = false;                    ///< every fixed-size cell had exactly its size
    bool sizes_ok = false;                   ///< every fixed-size cell had its size, or was null/empty
};
struct RowsResult {
    RowsMetadata metadata;
    std::int32_t row_count = 0;
    BytesView rows_content;  ///< the row_count * column_count [bytes] cells, as on the wire
    std::shared_ptr<RowsWalkIndex> walk;  ///< set by decode_response (internal, see RowsWalkIndex)
};
struct SetKeyspaceResult {
    std::string keyspace;
};
struct PreparedResult {
    Bytes id;
    Bytes result_metadata_id;  ///< v5 only
    PreparedMetadata metadata;
    RowsMetadata result_metadata;
};
/// Schema change (RESULT kind 0x0005 and EVENT SCHEMA_CHANGE share this body).
struct SchemaChange {
    std::string change_type;  ///< CREATED, UPDATED, DROPPED
    std::string target;       ///< KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE
    std::string keyspace;
    std::string name;                    ///< table/type/function/aggregate; empty for KEYSPACE
    std::vector<std::string> arg_types;  ///< FUNCTION, AGGREGATE
};
using ResultResponse = std::variant<VoidResult, RowsResult, SetKeyspaceResult, PreparedResult, SchemaChange>;

struct TopologyChangeEvent {
    std::string change_type;  ///< NEW_NODE, REMOVED_NODE
    Bytes address;            ///< 4 or 16 bytes
    std::int32_t port = 0;
};
struct StatusChangeEvent {
    std::string change_type;  ///< UP, DOWN
    Bytes address;
    std::int32_t port = 0;
};
using EventResponse = std::variant<TopologyChangeEvent, StatusChangeEvent, SchemaChange>;

using Response = std::variant<ErrorResponse, ReadyResponse, AuthenticateResponse, SupportedResponse, ResultResponse,
                              EventResponse, AuthChallengeResponse, AuthSuccessResponse>;

Opcode opcode_of(const Response& response) noexcept;

// ---------------------------------------------------------------- frame body prefix

/// What may precede a message in a body, depending on header flags: tracing id (responses),
/// warnings (responses), custom payload (both).
struct BodyPrefix {
    std::optional<Uuid16> tracing_id;
    std::vector<std::string> warnings;
    std::map<std::string, std::optional<Bytes>> custom_payload;
};

// ---------------------------------------------------------------- codec

/// Encodes a request body (no header, no compression). Flags are derived from the set fields.
/// Throws ProtocolError(invalid_value) for a v5-only field that changes semantics (keyspace,
/// now_in_seconds) in v4, value_names not parallel to values; invalid_length for oversize items.
void encode_request(ByteWriter& out, const Request& request, ProtocolVersion version);
/// Decodes a request body. Views point into `body`. Throws ProtocolError.
Request decode_request(Opcode opcode, BytesView body, ProtocolVersion version);

/// Encodes a response body (no header, no compression). v5-only ids (Prepared
/// result_metadata_id, Rows new_metadata_id) are left out in v4. Column specs are written with a
/// global table spec when every column has the same keyspace and table.
void encode_response(ByteWriter& out, const Response& response, ProtocolVersion version);
/// Decodes a response body. RowsResult::rows_content points into `body`. Throws ProtocolError.
///
/// Decoding contract (both decode_request and decode_response):
/// - truncated: the body ends inside a field or holds fewer items than a count announces
///   (counts are checked against the bytes left before anything is reserved);
/// - invalid_length: negative lengths/counts, [value] < -2, [inetaddr] not 4/16 bytes;
/// - invalid_value: unknown consistency, flag bits the version does not define (they could
///   announce a field we cannot skip), result kind, event type, schema change target, batch type,
///   BATCH names flag 0x40, Rows with rows but zero columns, a partition key index not naming a
///   bind marker, has_more_pages with a null paging state;
/// - trailing bytes after a complete response are NOT an error (section 1 of both specs: clients
///   ignore what they do not know; servers add fields that way): their count is stored in
///   `*ignored_bytes` when given, so that the connection can log it. decode_request stays strict
///   (trailing_bytes), as a server should;
/// - unknown_opcode: a response opcode given to decode_request or vice versa;
/// - unsupported_version: a ProtocolVersion other than v4/v5.
/// Rows: rows_content is checked to hold exactly row_count * column_count [bytes] cells, each
/// of length -1 (null) or 0..remaining; other negative lengths are rejected, so the row layer
/// may rely on that without re-checking.
Response decode_response(Opcode opcode, BytesView body, ProtocolVersion version,
                         std::size_t* ignored_bytes = nullptr);

/// Reads the flagged prefix (tracing id, warnings, custom payload) from the front of a body and
/// advances `in` past it.
BodyPrefix decode_body_prefix(ByteReader& in, std::uint8_t frame_flags, bool is_response);
/// Writes the prefix for a body. A field is written when it is non-empty or when `frame_flags`
/// already asks for it (an empty warnings list / payload map is then sent); tracing id and
/// warnings only for responses. Returns `frame_flags` with the bits of the written fields set.
/// Throws ProtocolError(invalid_value) for a response tracing flag without a tracing id.
std::uint8_t encode_body_prefix(ByteWriter& out, const BodyPrefix& prefix, std::uint8_t frame_flags,
                                bool is_response);

/// Header + body of one uncompressed frame appended to `out`; returns the frame's size.
/// `flags` are written as given (plus the bits of a non-empty prefix); the body is never
/// compressed here. Responses get the direction bit 0x80 in the version byte.
std::size_t encode_request_frame(Bytes& out, ProtocolVersion version, std::int16_t stream, const Request& request,
                                 std::uint8_t flags = 0);
std::size_t encode_response_frame(Bytes& out, ProtocolVersion version, std::int16_t stream,
                                  const Response& response, std::uint8_t flags = 0);
/// Same, with a body prefix (custom payload; for responses also tracing id and warnings).
std::size_t encode_request_frame(Bytes& out, ProtocolVersion version, std::int16_t stream, const Request& request,
                                 const BodyPrefix& prefix, std::uint8_t flags = 0);
std::size_t encode_response_frame(Bytes& out, ProtocolVersion version, std::int16_t stream,
                                  const Response& response, const BodyPrefix& prefix, std::uint8_t flags = 0);

// Pieces reused by the server's streaming encoder and by the page layer:
/// Writes <metadata> of 4.2.5.2. With metadata, the column count written is columns.size();
/// with no_metadata, it is metadata.column_count. Flags: has_more_pages from paging_state,
/// metadata_changed (v5) from new_metadata_id (invalid_value together with no_metadata).
void encode_rows_metadata(ByteWriter& out, const RowsMetadata& metadata, ProtocolVersion version);
RowsMetadata decode_rows_metadata(ByteReader& in, ProtocolVersion version);

}  // namespace async_cassandra::protocol
