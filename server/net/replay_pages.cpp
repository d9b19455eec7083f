// --replay-pages (see replay_pages.hpp): one pre-encoded page of synthetic.rows served over and over.
#include "server/net/replay_pages.hpp"

#include "protocol/bytes.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace async_cassandra::server::net {

namespace p = async_cassandra::protocol;

namespace {

/// Starts every replay paging state; the engine's own states (key bytes) never start like this.
constexpr std::string_view kMagic = "acass-replay";
constexpr std::size_t kStateSize = kMagic.size() + 4 + 8;
/// Distinct statements remembered; further ones are simply not replayed.
constexpr std::size_t kMaxTemplates = 256;

const p::QueryParameters* params_of(const p::Request& request) {
    if (auto* q = std::get_if<p::QueryRequest>(&request)) return &q->params;
    if (auto* e = std::get_if<p::ExecuteRequest>(&request)) return &e->params;
    return nullptr;
}

/// `SELECT <anything> FROM [synthetic.]rows` with nothing after the table name (no WHERE, no
/// LIMIT), in any case, with any spacing and optionally quoted names.
bool is_full_scan_of_synthetic(std::string_view query, std::string_view keyspace) {
    std::string text;
    text.reserve(query.size());
    for (char c : query) {
        if (c == '"') continue;
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (space && (text.empty() || text.back() == ' ')) continue;
        text += space ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    static const std::regex scan(R"(^select .+ from (synthetic ?\. ?)?rows ?;? ?$)");
    std::smatch m;
    if (!std::regex_match(text, m, scan)) return false;
    return m[1].matched || keyspace == "synthetic";
}

}  // namespace

ReplayPages::ReplayPages(std::int64_t total_rows) : total_rows_(total_rows) {}

bool ReplayPages::is_first_page(const p::Request& request, const ExecutionResult& result) {
    const auto* params = params_of(request);
    if (!params || params->paging_state) return false;
    const auto* rows = std::get_if<p::ResultResponse>(&result.response);
    const auto* r = rows ? std::get_if<p::RowsResult>(rows) : nullptr;
    return r && r->metadata.has_more_pages() && r->row_count > 0 && result.rows_storage;
}

void ReplayPages::remember(const p::Request& request, std::string_view query, const ConnectionState& state,
                           ExecutionResult& result) {
    const auto* params = params_of(request);
    if (!params || !is_first_page(request, result)) return;
    const std::string_view keyspace = params->keyspace ? *params->keyspace : std::string_view(state.keyspace);
    if (!is_full_scan_of_synthetic(query, keyspace)) return;
    auto& rows = std::get<p::RowsResult>(std::get<p::ResultResponse>(result.response));
    if (rows.row_count >= total_rows_) return;

    Key key{std::string(query), static_cast<std::size_t>(rows.row_count), rows.metadata.no_metadata, state.version};
    auto it = ids_.find(key);
    if (it == ids_.end()) {
        if (templates_.size() >= kMaxTemplates) return;
        Template t;
        t.metadata = rows.metadata;
        t.metadata.paging_state.reset();
        t.metadata.new_metadata_id.reset();  // v5: announced by the first page only, as a server would
        t.rows = std::make_shared<p::Bytes>(rows.rows_content.begin(), rows.rows_content.end());
        // Row boundaries, so that the last page can be cut: every cell is an [int] length + bytes.
        p::ByteReader in(p::BytesView(*t.rows));
        const std::int32_t columns = rows.metadata.column_count;
        for (std::int32_t row = 0; row < rows.row_count; ++row) {
            for (std::int32_t c = 0; c < columns; ++c) in.read_bytes();
            t.row_ends.push_back(t.rows->size() - in.rest().size());
        }
        templates_.push_back(std::move(t));
        it = ids_.emplace(std::move(key), static_cast<std::uint32_t>(templates_.size() - 1)).first;
    }
    rows.metadata.paging_state = paging_state(it->second, rows.row_count);
}

std::optional<ExecutionResult> ReplayPages::next_page(const p::Request& request) const {
    const auto* params = params_of(request);
    if (!params || !params->paging_state) return std::nullopt;
    const p::BytesView state = *params->paging_state;
    if (state.size() != kStateSize || !std::equal(kMagic.begin(), kMagic.end(), state.begin())) return std::nullopt;
    p::ByteReader in(state.subspan(kMagic.size()));
    const std::uint32_t id = in.read_u32();
    const std::int64_t served = in.read_i64();
    if (id >= templates_.size() || served < 0 || served >= total_rows_) return std::nullopt;
    return page(templates_[id], id, served);
}

p::Bytes ReplayPages::paging_state(std::uint32_t id, std::int64_t served) const {
    p::Bytes state(kMagic.begin(), kMagic.end());
    state.reserve(kStateSize);
    p::ByteWriter w(state);
    w.write_u32(id);
    w.write_i64(served);
    return state;
}

ExecutionResult ReplayPages::page(const Template& t, std::uint32_t id, std::int64_t served) const {
    const auto per_page = static_cast<std::int64_t>(t.row_ends.size());
    const std::int64_t count = std::min(per_page, total_rows_ - served);
    p::RowsResult rows;
    rows.metadata = t.metadata;
    rows.row_count = static_cast<std::int32_t>(count);
    rows.rows_content = p::BytesView(*t.rows).first(t.row_ends[static_cast<std::size_t>(count - 1)]);
    if (served + count < total_rows_) rows.metadata.paging_state = paging_state(id, served + count);
    ExecutionResult result;
    result.response = p::ResultResponse{std::move(rows)};
    result.rows_storage = t.rows;
    return result;
}

}  // namespace async_cassandra::server::net
