// A walk through the protocol layer with no network: a client encodes a paged QUERY in protocol
// v5 (segment framing, LZ4), a "server" decodes it and answers with a Rows page, and the client
// decodes that page zero-copy and reads typed values. Everything here is pure byte handling.
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/row.hpp>
#include <async_cassandra/values.hpp>

#include <cstdio>
#include <string>

namespace ac = async_cassandra;
namespace proto = async_cassandra::protocol;

namespace {

std::string hex(proto::BytesView bytes, std::size_t limit) {
    std::string out;
    char buf[4];
    for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
        std::snprintf(buf, sizeof buf, "%02x ", bytes[i]);
        out += buf;
    }
    if (bytes.size() > limit) out += "...";
    return out;
}

// The server side of the demo: a Rows page of (id bigint, name text, score double).
proto::Bytes encode_rows_page(std::int32_t first_id, std::int32_t rows, bool more) {
    auto bigint = ac::DataType::simple(ac::TypeKind::bigint);
    auto text = ac::DataType::simple(ac::TypeKind::varchar);
    auto dbl = ac::DataType::simple(ac::TypeKind::double_);
    proto::RowsResult result;
    result.metadata.column_count = 3;
    result.metadata.columns = {{"demo", "players", "id", bigint},
                               {"demo", "players", "name", text},
                               {"demo", "players", "score", dbl}};
    if (more) result.metadata.paging_state = proto::Bytes{0x00, 0x00, 0x00, static_cast<std::uint8_t>(first_id + rows)};
    proto::Bytes cells;
    proto::ByteWriter w(cells);
    for (std::int32_t i = first_id; i < first_id + rows; ++i) {
        ac::encode_value(w, *bigint, std::int64_t{i});
        ac::encode_value(w, *text, "player-" + std::to_string(i));
        ac::encode_value(w, *dbl, i * 1.5);
    }
    result.row_count = rows;
    result.rows_content = cells;
    proto::Bytes body;
    proto::ByteWriter bw(body);
    proto::encode_response(bw, proto::Response{proto::ResultResponse{std::move(result)}}, proto::ProtocolVersion::v5);
    return body;
}

}  // namespace

int main() {
    const auto v5 = proto::ProtocolVersion::v5;

    // Client: QUERY with a page size, wrapped into an LZ4-compressed v5 segment.
    proto::QueryRequest query;
    query.query = "SELECT id, name, score FROM demo.players";
    query.params.consistency = ac::Consistency::local_quorum;
    query.params.page_size = 4;
    proto::Bytes query_body;
    proto::ByteWriter qw(query_body);
    proto::encode_request(qw, proto::Request{query}, v5);

    proto::FrameEncoder client_encoder;
    client_encoder.enable_segments(proto::Compression::lz4);
    proto::Bytes wire;
    client_encoder.encode(wire, proto::FrameHeader{5, false, 0, 7, proto::Opcode::query, 0}, query_body);
    client_encoder.flush(wire);
    std::printf("client -> server: QUERY, %zu body bytes, %zu bytes on the wire (v5 segment, LZ4)\n  %s\n",
                query_body.size(), wire.size(), hex(wire, 24).c_str());

    // Server: reassemble the envelope and decode the request.
    proto::FrameDecoder server_decoder;
    server_decoder.enable_segments(proto::Compression::lz4);
    server_decoder.feed(wire);
    auto envelope = server_decoder.next();
    auto request = proto::decode_request(envelope->header.opcode, envelope->body_view(), v5);
    const auto& received = std::get<proto::QueryRequest>(request);
    std::printf("server: stream %d, \"%.*s\", page size %d, consistency %s\n", envelope->header.stream,
                static_cast<int>(received.query.size()), received.query.data(), *received.params.page_size,
                std::string(ac::to_string(received.params.consistency)).c_str());

    // Server: answer with the first page; client: decode it without copying the cells.
    proto::Bytes result_body = encode_rows_page(1, 4, true);
    proto::FrameEncoder server_encoder;
    server_encoder.enable_segments(proto::Compression::lz4);
    proto::Bytes reply;
    server_encoder.encode(reply, proto::FrameHeader{5, true, 0, envelope->header.stream, proto::Opcode::result, 0},
                          result_body);
    server_encoder.flush(reply);
    std::printf("server -> client: RESULT Rows, %zu body bytes, %zu bytes on the wire\n", result_body.size(),
                reply.size());

    proto::FrameDecoder client_decoder;
    client_decoder.enable_segments(proto::Compression::lz4);
    client_decoder.feed(reply);
    auto answer = client_decoder.next();
    auto response = proto::decode_response(answer->header.opcode, answer->body_view(), v5);
    auto& rows = std::get<proto::RowsResult>(std::get<proto::ResultResponse>(response));
    ac::Page page = ac::protocol::page_from_rows(answer->storage, std::move(rows));
    std::printf("client: page of %zu rows, has_more_pages=%s\n", page.size(), page.has_more_pages() ? "yes" : "no");
    for (const ac::Row& row : page)
        std::printf("  id=%lld name=%.*s score=%.1f\n", static_cast<long long>(row.get<std::int64_t>("id")),
                    static_cast<int>(row.get<std::string_view>("name").size()),
                    row.get<std::string_view>("name").data(), row.get<double>("score"));
    for (auto [id, name, score] : page.as<std::int64_t, std::string_view, double>())
        if (name.empty() || score != static_cast<double>(id) * 1.5) return 1;

    // A type mismatch is a clear error, not undefined behaviour.
    try {
        (void)page[0].get<std::int32_t>("name");
    } catch (const ac::TypeError& e) {
        std::printf("client: typed error as expected: %s\n", e.what());
    }
    return 0;
}
