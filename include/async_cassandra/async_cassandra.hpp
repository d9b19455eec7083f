// Umbrella header: the whole public API of async-cassandra. Every public header is named here
// directly (not only through another header), so none goes missing when one stops including
// another.
#pragma once

#include <async_cassandra/auth.hpp>
#include <async_cassandra/bytes.hpp>
#include <async_cassandra/cluster.hpp>
#include <async_cassandra/codec.hpp>
#include <async_cassandra/config.hpp>
#include <async_cassandra/consistency.hpp>
#include <async_cassandra/data_type.hpp>
#include <async_cassandra/error.hpp>
#include <async_cassandra/exception_message.hpp>
#include <async_cassandra/host.hpp>
#include <async_cassandra/load_balancing.hpp>
#include <async_cassandra/metadata.hpp>
#include <async_cassandra/observability.hpp>
#include <async_cassandra/paging_state.hpp>
#include <async_cassandra/response_info.hpp>
#include <async_cassandra/result.hpp>
#include <async_cassandra/retry_policy.hpp>
#include <async_cassandra/row.hpp>
#include <async_cassandra/scan.hpp>
#include <async_cassandra/server_errors.hpp>
#include <async_cassandra/session.hpp>
#include <async_cassandra/speculative_execution.hpp>
#include <async_cassandra/statement.hpp>
#include <async_cassandra/stream.hpp>
#include <async_cassandra/text_codec.hpp>
#include <async_cassandra/value_text.hpp>
#include <async_cassandra/values.hpp>
