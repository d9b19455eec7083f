// Request bodies (native_protocol_v4.spec 4.1, native_protocol_v5.spec 4.1), the flagged body
// prefix (v4 2.2) and whole request frames.
#include "protocol/message_helpers.hpp"
#include "protocol/messages.hpp"

#include <string>

namespace async_cassandra::protocol {

namespace {

using codec_helpers::invalid;
using codec_helpers::is_v5;
using codec_helpers::read_consistency;
using codec_helpers::write_consistency;

// v4 sends the QUERY/EXECUTE/BATCH flags as a [byte], v5 as an [int] (v5 spec section 9).
std::uint32_t read_flags(ByteReader& in, bool v5) { return v5 ? in.read_u32() : in.read_u8(); }
void write_flags(ByteWriter& out, std::uint32_t flags, bool v5) {
    if (v5) out.write_u32(flags);
    else out.write_u8(static_cast<std::uint8_t>(flags));
}

void require_v5_field(bool v5, bool present, const char* what) {
    // Silently dropping a keyspace or a "now" would run the statement with other semantics.
    if (present && !v5) invalid(std::string(what) + " needs protocol v5");
}

// <query_parameters> of v4/v5 4.1.4.
void write_query_parameters(ByteWriter& out, const QueryParameters& p, bool v5) {
    require_v5_field(v5, p.keyspace.has_value(), "keyspace");
    require_v5_field(v5, p.now_in_seconds.has_value(), "now_in_seconds");
    if (!p.value_names.empty() && p.value_names.size() != p.values.size())
        invalid("value_names must be empty or parallel to values");
    std::uint32_t flags = 0;
    if (!p.values.empty()) flags |= query_flags::values;
    if (p.skip_metadata) flags |= query_flags::skip_metadata;
    if (p.page_size) flags |= query_flags::page_size;
    if (p.paging_state) flags |= query_flags::paging_state;
    if (p.serial_consistency) flags |= query_flags::serial_consistency;
    if (p.default_timestamp) flags |= query_flags::default_timestamp;
    if (!p.value_names.empty()) flags |= query_flags::names_for_values;
    if (p.keyspace) flags |= query_flags::keyspace;
    if (p.now_in_seconds) flags |= query_flags::now_in_seconds;

    write_consistency(out, p.consistency);
    write_flags(out, flags, v5);
    if (flags & query_flags::values) {
        if (p.values.size() > 0xFFFF)
            throw ProtocolError(ProtocolErrc::invalid_length, "more than 65535 values");
        out.write_u16(static_cast<std::uint16_t>(p.values.size()));
        const bool named = !p.value_names.empty();
        for (std::size_t i = 0; i < p.values.size(); ++i) {
            if (named) out.write_string(p.value_names[i]);
            out.write_value(p.values[i]);
        }
    }
    if (p.page_size) out.write_i32(*p.page_size);
    if (p.paging_state) out.write_bytes(*p.paging_state);
    if (p.serial_consistency) write_consistency(out, *p.serial_consistency);
    if (p.default_timestamp) out.write_i64(*p.default_timestamp);
    if (p.keyspace) out.write_string(*p.keyspace);
    if (p.now_in_seconds) out.write_i32(*p.now_in_seconds);
}

QueryParameters read_query_parameters(ByteReader& in, bool v5) {
    QueryParameters p;
    p.consistency = read_consistency(in);
    const std::uint32_t flags = read_flags(in, v5);
    const std::uint32_t known = v5 ? 0x1FFu : 0x7Fu;
    // An unknown bit may announce a field we cannot skip, so the rest would be misread.
    if (flags & ~known) invalid("unknown query flags 0x" + std::to_string(flags));
    if (flags & query_flags::values) {
        std::uint16_t n = in.read_u16();
        // Each [value] needs at least its 4-byte length: bounds the reservation on bad input.
        p.values.reserve(std::min<std::size_t>(n, in.remaining() / 4));
        // 4.1.4: names only make sense with values; without 0x01 the flag is ignored.
        const bool named = (flags & query_flags::names_for_values) != 0;
        if (named) p.value_names.reserve(p.values.capacity());
        for (std::uint16_t i = 0; i < n; ++i) {
            if (named) p.value_names.push_back(in.read_string());
            p.values.push_back(in.read_value());
        }
    }
    p.skip_metadata = (flags & query_flags::skip_metadata) != 0;
    if (flags & query_flags::page_size) p.page_size = in.read_i32();
    if (flags & query_flags::paging_state) {
        // A null paging state means "from the start", the same as no paging state.
        if (auto state = in.read_bytes()) p.paging_state = *state;
    }
    if (flags & query_flags::serial_consistency) p.serial_consistency = read_consistency(in);
    if (flags & query_flags::default_timestamp) p.default_timestamp = in.read_i64();
    if (flags & query_flags::keyspace) p.keyspace = in.read_string();
    if (flags & query_flags::now_in_seconds) p.now_in_seconds = in.read_i32();
    return p;
}

// BATCH flags (4.1.7): the four low bits must be 0; 0x40 (names) is documented as unusable.
constexpr std::uint32_t kBatchFlagsV4 = query_flags::serial_consistency | query_flags::default_timestamp;
constexpr std::uint32_t kBatchFlagsV5 = kBatchFlagsV4 | query_flags::keyspace | query_flags::now_in_seconds;

void write_batch(ByteWriter& out, const BatchRequest& b, bool v5) {
    require_v5_field(v5, b.keyspace.has_value(), "keyspace");
    require_v5_field(v5, b.now_in_seconds.has_value(), "now_in_seconds");
    if (static_cast<std::uint8_t>(b.type) > 2) invalid("batch type");
    out.write_u8(static_cast<std::uint8_t>(b.type));
    if (b.statements.size() > 0xFFFF) throw ProtocolError(ProtocolErrc::invalid_length, "more than 65535 statements");
    out.write_u16(static_cast<std::uint16_t>(b.statements.size()));
    for (const auto& s : b.statements) {
        out.write_u8(s.is_prepared ? 1 : 0);
        if (s.is_prepared) out.write_short_bytes(s.id);
        else out.write_long_string(s.query);
        if (s.values.size() > 0xFFFF) throw ProtocolError(ProtocolErrc::invalid_length, "more than 65535 values");
        out.write_u16(static_cast<std::uint16_t>(s.values.size()));
        for (const auto& v : s.values) out.write_value(v);
    }
    std::uint32_t flags = 0;
    if (b.serial_consistency) flags |= query_flags::serial_consistency;
    if (b.default_timestamp) flags |= query_flags::default_timestamp;
    if (b.keyspace) flags |= query_flags::keyspace;
    if (b.now_in_seconds) flags |= query_flags::now_in_seconds;
    write_consistency(out, b.consistency);
    write_flags(out, flags, v5);
    if (b.serial_consistency) write_consistency(out, *b.serial_consistency);
    if (b.default_timestamp) out.write_i64(*b.default_timestamp);
    if (b.keyspace) out.write_string(*b.keyspace);
    if (b.now_in_seconds) out.write_i32(*b.now_in_seconds);
}

BatchRequest read_batch(ByteReader& in, bool v5) {
    BatchRequest b;
    std::uint8_t type = in.read_u8();
    if (type > 2) invalid("batch type " + std::to_string(type));
    b.type = static_cast<BatchType>(type);
    std::uint16_t n = in.read_u16();
    // Each statement needs at least kind (1) + id/query length (2) + value count (2) bytes.
    b.statements.reserve(std::min<std::size_t>(n, in.remaining() / 5));
    for (std::uint16_t i = 0; i < n; ++i) {
        BatchStatement s;
        std::uint8_t kind = in.read_u8();
        if (kind > 1) invalid("batch statement kind " + std::to_string(kind));
        s.is_prepared = kind == 1;
        if (s.is_prepared) s.id = in.read_short_bytes();
        else s.query = in.read_long_string();
        std::uint16_t values = in.read_u16();
        s.values.reserve(std::min<std::size_t>(values, in.remaining() / 4));
        for (std::uint16_t j = 0; j < values; ++j) s.values.push_back(in.read_value());
        b.statements.push_back(std::move(s));
    }
    b.consistency = read_consistency(in);
    const std::uint32_t flags = read_flags(in, v5);
    if (flags & query_flags::names_for_values)
        invalid("BATCH names for values (0x40) cannot be implemented (see CASSANDRA-10246)");
    if (flags & ~(v5 ? kBatchFlagsV5 : kBatchFlagsV4)) invalid("unknown batch flags 0x" + std::to_string(flags));
    if (flags & query_flags::serial_consistency) b.serial_consistency = read_consistency(in);
    if (flags & query_flags::default_timestamp) b.default_timestamp = in.read_i64();
    if (flags & query_flags::keyspace) b.keyspace = in.read_string();
    if (flags & query_flags::now_in_seconds) b.now_in_seconds = in.read_i32();
    return b;
}

constexpr std::uint32_t kPrepareWithKeyspace = 0x01;  // v5 4.1.5

}  // namespace

Opcode opcode_of(const Request& request) noexcept {
    static constexpr Opcode opcodes[] = {Opcode::startup, Opcode::auth_response, Opcode::options,
                                         Opcode::query,   Opcode::prepare,       Opcode::execute,
                                         Opcode::batch,   Opcode::register_};
    static_assert(std::size(opcodes) == std::variant_size_v<Request>);
    return opcodes[request.index()];
}

void encode_request(ByteWriter& out, const Request& request, ProtocolVersion version) {
    const bool v5 = is_v5(version);
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, StartupRequest>) {
                out.write_string_map(m.options);
            } else if constexpr (std::is_same_v<T, AuthResponseRequest>) {
                if (m.token) out.write_bytes(*m.token);
                else out.write_null_bytes();
            } else if constexpr (std::is_same_v<T, OptionsRequest>) {
                // 4.1.3: empty body.
            } else if constexpr (std::is_same_v<T, QueryRequest>) {
                out.write_long_string(m.query);
                write_query_parameters(out, m.params, v5);
            } else if constexpr (std::is_same_v<T, PrepareRequest>) {
                require_v5_field(v5, m.keyspace.has_value(), "keyspace");
                out.write_long_string(m.query);
                if (v5) {
                    out.write_u32(m.keyspace ? kPrepareWithKeyspace : 0);
                    if (m.keyspace) out.write_string(*m.keyspace);
                }
            } else if constexpr (std::is_same_v<T, ExecuteRequest>) {
                out.write_short_bytes(m.id);
                if (v5) out.write_short_bytes(m.result_metadata_id);
                write_query_parameters(out, m.params, v5);
            } else if constexpr (std::is_same_v<T, BatchRequest>) {
                write_batch(out, m, v5);
            } else if constexpr (std::is_same_v<T, RegisterRequest>) {
                out.write_string_list(m.event_types);
            }
        },
        request);
}

Request decode_request(Opcode opcode, BytesView body, ProtocolVersion version) {
    const bool v5 = is_v5(version);
    ByteReader in(body);
    Request result;
    switch (opcode) {
        case Opcode::startup: result = StartupRequest{in.read_string_map()}; break;
        case Opcode::auth_response: {
            AuthResponseRequest m;
            if (auto token = in.read_bytes()) m.token = Bytes(token->begin(), token->end());
            result = std::move(m);
            break;
        }
        case Opcode::options: result = OptionsRequest{}; break;
        case Opcode::query: {
            QueryRequest m;
            m.query = in.read_long_string();
            m.params = read_query_parameters(in, v5);
            result = std::move(m);
            break;
        }
        case Opcode::prepare: {
            PrepareRequest m;
            m.query = in.read_long_string();
            if (v5) {
                std::uint32_t flags = in.read_u32();
                if (flags & ~kPrepareWithKeyspace) invalid("unknown PREPARE flags 0x" + std::to_string(flags));
                if (flags & kPrepareWithKeyspace) m.keyspace = in.read_string();
            }
            result = m;
            break;
        }
        case Opcode::execute: {
            ExecuteRequest m;
            m.id = in.read_short_bytes();
            if (v5) m.result_metadata_id = in.read_short_bytes();
            m.params = read_query_parameters(in, v5);
            result = std::move(m);
            break;
        }
        case Opcode::batch: result = read_batch(in, v5); break;
        case Opcode::register_: result = RegisterRequest{in.read_string_list()}; break;
        default:
            throw ProtocolError(ProtocolErrc::unknown_opcode,
                                std::string(to_string(opcode)) + " is not a request opcode");
    }
    in.expect_end(to_string(opcode));
    return result;
}

BodyPrefix decode_body_prefix(ByteReader& in, std::uint8_t flags, bool is_response) {
    // v4 2.2: tracing id and warnings only ever precede responses (a request's tracing flag just
    // asks for tracing); the custom payload may precede both. Order: tracing, warnings, payload.
    BodyPrefix prefix;
    if (is_response && (flags & frame_flags::tracing)) prefix.tracing_id = in.read_uuid();
    if (is_response && (flags & frame_flags::warning)) prefix.warnings = in.read_string_list();
    if (flags & frame_flags::custom_payload) prefix.custom_payload = in.read_bytes_map();
    return prefix;
}

std::uint8_t encode_body_prefix(ByteWriter& out, const BodyPrefix& prefix, std::uint8_t flags, bool is_response) {
    if (is_response && prefix.tracing_id) flags |= frame_flags::tracing;
    if (is_response && !prefix.warnings.empty()) flags |= frame_flags::warning;
    if (!prefix.custom_payload.empty()) flags |= frame_flags::custom_payload;
    if (is_response && (flags & frame_flags::tracing)) {
        if (!prefix.tracing_id) invalid("tracing flag on a response without a tracing id");
        out.write_uuid(*prefix.tracing_id);
    }
    if (is_response && (flags & frame_flags::warning)) out.write_string_list(prefix.warnings);
    if (flags & frame_flags::custom_payload) out.write_bytes_map(prefix.custom_payload);
    return flags;
}

namespace {
// Writes header + body, patching the body length once the body is known.
template <class Encode>
std::size_t encode_frame(Bytes& out, ProtocolVersion version, bool is_response, std::int16_t stream, Opcode opcode,
                         std::uint8_t flags, const BodyPrefix& prefix, Encode&& encode_body) {
    is_v5(version);
    const std::size_t start = out.size();
    ByteWriter w(out);
    encode_frame_header(w, FrameHeader{static_cast<std::uint8_t>(version), is_response, flags, stream, opcode, 0});
    const std::size_t body_start = out.size();
    flags = encode_body_prefix(w, prefix, flags, is_response);
    encode_body(w);
    const std::size_t body_size = out.size() - body_start;
    if (body_size > 0x7FFFFFFF) throw ProtocolError(ProtocolErrc::frame_too_large, "frame body above 2 GiB");
    out[start + 1] = flags;
    w.patch_i32(start + 5, static_cast<std::int32_t>(body_size));
    return out.size() - start;
}
}  // namespace

std::size_t encode_request_frame(Bytes& out, ProtocolVersion version, std::int16_t stream, const Request& request,
                                 std::uint8_t flags) {
    return encode_request_frame(out, version, stream, request, BodyPrefix{}, flags);
}

std::size_t encode_request_frame(Bytes& out, ProtocolVersion version, std::int16_t stream, const Request& request,
                                 const BodyPrefix& prefix, std::uint8_t flags) {
    return encode_frame(out, version, false, stream, opcode_of(request), flags, prefix,
                        [&](ByteWriter& w) { encode_request(w, request, version); });
}

std::size_t encode_response_frame(Bytes& out, ProtocolVersion version, std::int16_t stream,
                                  const Response& response, std::uint8_t flags) {
    return encode_response_frame(out, version, stream, response, BodyPrefix{}, flags);
}

std::size_t encode_response_frame(Bytes& out, ProtocolVersion version, std::int16_t stream,
                                  const Response& response, const BodyPrefix& prefix, std::uint8_t flags) {
    return encode_frame(out, version, true, stream, opcode_of(response), flags, prefix,
                        [&](ByteWriter& w) { encode_response(w, response, version); });
}

}  // namespace async_cassandra::protocol
