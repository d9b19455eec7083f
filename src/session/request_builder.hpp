// The one request builder: turns a statement (simple or bound), a batch or a PREPARE into the
// protocol request for one attempt — consistency, serial consistency, timestamp, keyspace (v5),
// page size and paging state from the statement's options and the cluster's defaults. Built
// again for every attempt, because the connection's protocol version and the prepared id (after
// a re-prepare) may differ between attempts.
#pragma once

#include "protocol/expected_response.hpp"
#include "protocol/messages.hpp"

#include <async_cassandra/config.hpp>
#include <async_cassandra/load_balancing.hpp>
#include <async_cassandra/observability.hpp>
#include <async_cassandra/statement.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace async_cassandra::detail {

/// What one request sends: a simple or a bound statement, its values and options.
struct StatementRef {
    const std::string* query = nullptr;            ///< simple statement
    std::shared_ptr<const PreparedData> prepared;  ///< bound statement
    const EncodedValues* values = nullptr;
    const StatementOptions* options = nullptr;
};

/// The StatementRef of a statement the caller keeps alive (UsageError: a BoundStatement without a
/// prepared statement, a null pointer).
StatementRef statement_ref(const Statement& statement);
StatementRef statement_ref(const BoundStatement& statement);
StatementRef statement_ref(const std::shared_ptr<const BoundStatement>& statement);

/// A copy of a short byte string (a prepared statement's id or result metadata id: 16-byte MD5
/// digests in Cassandra and ScyllaDB), inline up to 16 bytes, on the heap when longer: copied for
/// every EXECUTE, which should not cost two heap allocations.
class ShortBytes {
public:
    void assign(protocol::BytesView bytes) {
        size_ = bytes.size();
        if (size_ <= inline_.size()) {
            std::copy(bytes.begin(), bytes.end(), inline_.begin());
        } else {
            heap_.assign(bytes.begin(), bytes.end());
        }
    }
    protocol::BytesView view() const noexcept {
        return size_ <= inline_.size() ? protocol::BytesView(inline_.data(), size_) : protocol::BytesView(heap_);
    }

private:
    std::array<std::uint8_t, 16> inline_{};
    std::size_t size_ = 0;
    protocol::Bytes heap_;
};

/// The request of one operation (see the file comment). The statement, batch or query text it
/// was made from must outlive it.
class RequestBuilder {
public:
    static RequestBuilder statement(StatementRef st, const ClusterConfig& config,
                                    std::optional<PagingState> paging_state, std::optional<std::int32_t> page_size);
    static RequestBuilder batch(const Batch& batch, const ClusterConfig& config);
    static RequestBuilder prepare(const std::string& query);
    /// USE, or any other internal query with default options.
    static RequestBuilder internal_query(const std::string& query, const ClusterConfig& config);

    /// The request for a connection speaking `version`; valid until the next build().
    const protocol::Request& build(protocol::ProtocolVersion version);

    /// What can answer the last built request (an EXECUTE knows its prepared statement's result).
    const protocol::ExpectedResponse& expected() const noexcept { return expected_; }

    RequestKind kind() const noexcept { return kind_; }
    const StatementOptions& options() const noexcept { return *options_; }
    /// Safe to send twice: the statement says so (PREPARE and internal queries always are).
    bool idempotent() const noexcept { return idempotent_; }
    /// The prepared statements this request executes (re-prepared on UNPREPARED).
    std::span<const std::shared_ptr<const PreparedData>> prepared() const noexcept;
    /// A copy that owns its statement's text, values and options (for executions that may
    /// outlive the caller's statement: speculative ones). Simple and bound statements only.
    std::shared_ptr<RequestBuilder> detached() const;
    /// Keyspace and partition-key token of the request, for token-aware routing.
    RoutingInfo routing(std::string_view session_keyspace) const;

private:
    RequestBuilder() = default;
    /// The statement's value views: values_ before the first build(), then the built request's
    /// (build() moves them into it instead of copying them per attempt).
    const std::vector<protocol::ValueView>& values() const noexcept;
    std::vector<protocol::ValueView> take_values();

    RequestKind kind_ = RequestKind::query;
    const StatementOptions* options_ = nullptr;
    bool idempotent_ = false;
    const ClusterConfig* config_ = nullptr;
    StatementRef statement_;
    const Batch* batch_ = nullptr;
    const std::string* prepare_query_ = nullptr;
    std::optional<PagingState> paging_state_;
    std::optional<std::int32_t> page_size_;
    std::vector<std::shared_ptr<const PreparedData>> batch_prepared_;
    /// What a detached copy owns (see detached()); apart, because every request's builder
    /// lives in its coroutine frame and only speculative executions need this.
    struct Owned {
        StatementOptions options;
        std::string query;
        EncodedValues values;
    };
    std::shared_ptr<Owned> owned_;

    // Storage the built request's views point into.
    std::vector<protocol::ValueView> values_;  ///< see values()
    std::vector<std::vector<protocol::ValueView>> batch_values_;
    std::vector<protocol::Bytes> ids_;  ///< batch
    ShortBytes id_;  ///< bound statement
    ShortBytes metadata_id_;
    std::shared_ptr<const Columns> result_columns_;  ///< what metadata_id_ stands for; expected_ views it
    protocol::Request request_;
    protocol::ExpectedResponse expected_;
};

}  // namespace async_cassandra::detail
