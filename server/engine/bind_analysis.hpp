// Bind marker analysis: the column spec of every `?` of a statement (PREPARE's metadata) and the
// bound values of a request matched to them (by position or by name).
#pragma once

#include "server/engine/engine_internal.hpp"

namespace async_cassandra::server::detail {

struct BindAnalysis {
    std::vector<protocol::ColumnSpec> specs;  ///< one per bind marker
    std::vector<std::uint16_t> pk_indexes;    ///< markers giving the partition key, when all of it is bound
};

/// Analyses `ps` against the schema (caller holds the lock); throws Invalid for unknown names.
BindAnalysis analyze(Engine::Impl& impl, const cql::ParsedStatement& ps, const std::string& ks);
/// The request's values in marker order; throws Invalid when they do not match the markers.
std::vector<protocol::ValueView> bind_values(const BindAnalysis& a, const std::vector<protocol::ValueView>& values,
                                             const std::vector<std::string_view>& names);

}  // namespace async_cassandra::server::detail
