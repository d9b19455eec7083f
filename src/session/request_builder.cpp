#include "session/request_builder.hpp"

#include "protocol/partitioner.hpp"

namespace async_cassandra::detail {

namespace {
std::vector<protocol::ValueView> value_views(const EncodedValues* ev) {
    std::vector<protocol::ValueView> out;
    if (!ev) return out;
    out.reserve(ev->count);
    protocol::ByteReader in(ev->bytes);
    for (std::size_t i = 0; i < ev->count; ++i) out.push_back(in.read_value());
    return out;
}

const StatementOptions& default_options() {
    static const StatementOptions defaults;
    return defaults;
}
}  // namespace

StatementRef statement_ref(const Statement& statement) {
    StatementRef r;
    r.query = &statement.query();
    r.values = &statement.values();
    r.options = &statement.options();
    return r;
}

StatementRef statement_ref(const BoundStatement& statement) {
    if (!statement.prepared()) throw UsageError("BoundStatement without a prepared statement");
    StatementRef r;
    r.prepared = statement.prepared();
    r.values = &statement.values();
    r.options = &statement.options();
    return r;
}

StatementRef statement_ref(const std::shared_ptr<const BoundStatement>& statement) {
    if (!statement) throw UsageError("null BoundStatement");
    return statement_ref(*statement);
}

RequestBuilder RequestBuilder::statement(StatementRef st, const ClusterConfig& config,
                                         std::optional<PagingState> paging_state,
                                         std::optional<std::int32_t> page_size) {
    RequestBuilder b;
    b.kind_ = paging_state ? RequestKind::page : st.prepared ? RequestKind::execute : RequestKind::query;
    b.options_ = st.options;
    b.idempotent_ = st.options->idempotent;
    b.config_ = &config;
    b.statement_ = st;
    b.paging_state_ = std::move(paging_state);
    b.page_size_ = page_size;
    b.values_ = value_views(st.values);
    return b;
}

RequestBuilder RequestBuilder::batch(const Batch& batch, const ClusterConfig& config) {
    RequestBuilder b;
    b.kind_ = RequestKind::batch;
    b.options_ = &batch.options();
    b.idempotent_ = batch.options().idempotent;
    b.config_ = &config;
    b.batch_ = &batch;
    b.batch_values_.reserve(batch.size());
    for (const auto& entry : batch.entries()) {
        std::visit([&](const auto& s) { b.batch_values_.push_back(value_views(&s.values())); }, entry);
        if (auto* bound = std::get_if<BoundStatement>(&entry)) b.batch_prepared_.push_back(bound->prepared());
    }
    return b;
}

RequestBuilder RequestBuilder::prepare(const std::string& query) {
    RequestBuilder b;
    b.kind_ = RequestKind::prepare;
    b.options_ = &default_options();
    b.idempotent_ = true;
    b.prepare_query_ = &query;
    return b;
}

RequestBuilder RequestBuilder::internal_query(const std::string& query, const ClusterConfig& config) {
    RequestBuilder b;
    b.kind_ = RequestKind::query;
    b.options_ = &default_options();
    b.idempotent_ = true;
    b.config_ = &config;
    b.statement_.query = &query;
    b.statement_.options = &default_options();
    return b;
}

const protocol::Request& RequestBuilder::build(protocol::ProtocolVersion version) {
    const bool v5 = version == protocol::ProtocolVersion::v5;
    const StatementOptions& opts = *options_;
    if (prepare_query_) {
        protocol::PrepareRequest p;
        p.query = *prepare_query_;
        request_ = p;
        expected_ = protocol::expected_response(request_);
        return request_;
    }
    if (batch_) {
        const Batch& batch = *batch_;
        ids_.assign(batch.size(), {});
        protocol::BatchRequest b;
        b.type = static_cast<protocol::BatchType>(batch.kind());
        b.consistency = opts.consistency.value_or(config_->default_consistency);
        b.serial_consistency = opts.serial_consistency ? opts.serial_consistency : config_->default_serial_consistency;
        b.default_timestamp = opts.default_timestamp;
        if (v5 && opts.keyspace) b.keyspace = std::string_view(*opts.keyspace);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            protocol::BatchStatement bs;
            if (auto* s = std::get_if<Statement>(&batch.entries()[i])) {
                bs.query = s->query();
            } else {
                ids_[i] = std::get<BoundStatement>(batch.entries()[i]).prepared()->id_copy();
                bs.is_prepared = true;
                bs.id = ids_[i];
            }
            bs.values = batch_values_[i];
            b.statements.push_back(std::move(bs));
        }
        request_ = std::move(b);
        expected_ = protocol::expected_response(request_);
        return request_;
    }
    protocol::QueryParameters p;
    p.consistency = opts.consistency.value_or(config_->default_consistency);
    p.values = take_values();
    const std::int32_t size = page_size_.value_or(opts.page_size.value_or(config_->default_page_size));
    if (size > 0) p.page_size = size;
    if (paging_state_) p.paging_state = paging_state_->view();
    p.serial_consistency = opts.serial_consistency ? opts.serial_consistency : config_->default_serial_consistency;
    p.default_timestamp = opts.default_timestamp;
    if (v5 && opts.keyspace) p.keyspace = std::string_view(*opts.keyspace);
    if (statement_.prepared) {
        {
            // The id, the result metadata id and the columns it stands for change together
            // (re-prepare, METADATA_CHANGED): read them together.
            std::lock_guard lock(statement_.prepared->mutex);
            id_.assign(statement_.prepared->id);
            metadata_id_.assign(statement_.prepared->result_metadata_id);
            result_columns_ = statement_.prepared->result_columns;
        }
        protocol::ExecuteRequest e;
        e.id = id_.view();
        if (v5) e.result_metadata_id = metadata_id_.view();
        // v5: rows without the result metadata we already have; the result metadata id lets the
        // node say when it changed (METADATA_CHANGED, with the new metadata). Spares the node
        // encoding and us decoding the column specs of every response. v4 cannot detect a change.
        if (v5 && result_columns_ && !result_columns_->empty()) p.skip_metadata = true;
        e.params = std::move(p);
        request_ = std::move(e);
        expected_ = protocol::expected_response(request_);
        const std::uint8_t kind = statement_.prepared->statement_kind;
        expected_.statement = kind != PreparedData::statement_kind_unknown
                                  ? static_cast<protocol::StatementKind>(kind)
                                  : protocol::statement_kind(statement_.prepared->query);
        if (result_columns_ && result_columns_->size() > 0) {
            expected_.result_keyspace = (*result_columns_)[0].keyspace;
            expected_.result_table = (*result_columns_)[0].table;
        }
        // v4 has no result metadata id: another client may re-prepare the same id with new columns.
        if (v5 && result_columns_) expected_.result_columns = static_cast<std::int32_t>(result_columns_->size());
    } else {
        protocol::QueryRequest q;
        q.query = *statement_.query;
        q.params = std::move(p);
        request_ = std::move(q);
        expected_ = protocol::expected_response(request_);
    }
    return request_;
}

std::shared_ptr<RequestBuilder> RequestBuilder::detached() const {
    std::shared_ptr<RequestBuilder> b(new RequestBuilder(*this));
    b->owned_ = std::make_shared<Owned>();
    b->owned_->options = *options_;
    b->options_ = &b->owned_->options;
    b->statement_.options = &b->owned_->options;
    if (statement_.query) {
        b->owned_->query = *statement_.query;
        b->statement_.query = &b->owned_->query;
    }
    b->request_ = protocol::Request{};  // its views are the original's; values() must not see them
    if (statement_.values) {
        b->owned_->values = *statement_.values;
        b->statement_.values = &b->owned_->values;
        b->values_ = value_views(&b->owned_->values);
    }
    return b;
}

std::span<const std::shared_ptr<const PreparedData>> RequestBuilder::prepared() const noexcept {
    if (batch_) return batch_prepared_;
    if (statement_.prepared) return {&statement_.prepared, 1};
    return {};
}

const std::vector<protocol::ValueView>& RequestBuilder::values() const noexcept {
    if (auto* e = std::get_if<protocol::ExecuteRequest>(&request_)) return e->params.values;
    if (auto* q = std::get_if<protocol::QueryRequest>(&request_)) return q->params.values;
    return values_;
}

std::vector<protocol::ValueView> RequestBuilder::take_values() {
    if (auto* e = std::get_if<protocol::ExecuteRequest>(&request_)) return std::move(e->params.values);
    if (auto* q = std::get_if<protocol::QueryRequest>(&request_)) return std::move(q->params.values);
    return std::move(values_);
}

RoutingInfo RequestBuilder::routing(std::string_view session_keyspace) const {
    RoutingInfo r;
    r.keyspace = session_keyspace;
    if (options_->keyspace) r.keyspace = *options_->keyspace;
    const auto& prepared = statement_.prepared;
    if (prepared && prepared->bind_markers && !prepared->bind_markers->empty() &&
        !(*prepared->bind_markers)[0].keyspace.empty())
        r.keyspace = (*prepared->bind_markers)[0].keyspace;
    if (options_->routing_token) {
        r.token = *options_->routing_token;
        return r;
    }
    if (prepared) r.token = protocol::routing_token(values(), prepared->partition_key_indexes);
    return r;
}

}  // namespace async_cassandra::detail
