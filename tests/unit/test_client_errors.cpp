// ERROR responses (native_protocol_v4.spec section 9) mapped to exception types.
#include "net/error_mapping.hpp"
#include "protocol/bytes.hpp"

#include <gtest/gtest.h>

using namespace async_cassandra;
using protocol::ErrorResponse;

namespace {
template <class E>
E rethrow_as(const ErrorResponse& e) {
    try {
        std::rethrow_exception(net::make_server_error(e));
    } catch (const E& ex) {
        return ex;
    } catch (const std::exception& other) {
        ADD_FAILURE() << "wrong type: " << other.what();
    }
    throw std::logic_error("unreachable");
}
ErrorResponse err(ServerErrorCode code, std::string message = "msg") {
    ErrorResponse e;
    e.code = code;
    e.message = std::move(message);
    return e;
}
}  // namespace

TEST(ClientErrors, EveryCodeMapsToItsType) {
    EXPECT_NO_THROW(rethrow_as<ServerInternalError>(err(ServerErrorCode::server_error)));
    EXPECT_NO_THROW(rethrow_as<ProtocolErrorFromServer>(err(ServerErrorCode::protocol_error)));
    EXPECT_NO_THROW(rethrow_as<AuthenticationError>(err(ServerErrorCode::bad_credentials)));
    EXPECT_NO_THROW(rethrow_as<Unavailable>(err(ServerErrorCode::unavailable)));
    EXPECT_NO_THROW(rethrow_as<Overloaded>(err(ServerErrorCode::overloaded)));
    EXPECT_NO_THROW(rethrow_as<IsBootstrapping>(err(ServerErrorCode::is_bootstrapping)));
    EXPECT_NO_THROW(rethrow_as<TruncateError>(err(ServerErrorCode::truncate_error)));
    EXPECT_NO_THROW(rethrow_as<WriteTimeout>(err(ServerErrorCode::write_timeout)));
    EXPECT_NO_THROW(rethrow_as<ReadTimeout>(err(ServerErrorCode::read_timeout)));
    EXPECT_NO_THROW(rethrow_as<ReadFailure>(err(ServerErrorCode::read_failure)));
    EXPECT_NO_THROW(rethrow_as<FunctionFailure>(err(ServerErrorCode::function_failure)));
    EXPECT_NO_THROW(rethrow_as<WriteFailure>(err(ServerErrorCode::write_failure)));
    EXPECT_NO_THROW(rethrow_as<CdcWriteFailure>(err(ServerErrorCode::cdc_write_failure)));
    EXPECT_NO_THROW(rethrow_as<CasWriteUnknown>(err(ServerErrorCode::cas_write_unknown)));
    EXPECT_NO_THROW(rethrow_as<SyntaxError>(err(ServerErrorCode::syntax_error)));
    EXPECT_NO_THROW(rethrow_as<Unauthorized>(err(ServerErrorCode::unauthorized)));
    EXPECT_NO_THROW(rethrow_as<InvalidRequest>(err(ServerErrorCode::invalid)));
    EXPECT_NO_THROW(rethrow_as<ConfigError>(err(ServerErrorCode::config_error)));
    EXPECT_NO_THROW(rethrow_as<AlreadyExists>(err(ServerErrorCode::already_exists)));
    EXPECT_NO_THROW(rethrow_as<Unprepared>(err(ServerErrorCode::unprepared)));
}

TEST(ClientErrors, AllAreServerErrorsAndErrors) {
    auto e = err(ServerErrorCode::syntax_error, "line 1:0 no viable alternative");
    try {
        net::throw_server_error(e);
    } catch (const ServerError& ex) {
        EXPECT_EQ(ex.code(), ServerErrorCode::syntax_error);
        EXPECT_EQ(ex.server_message(), "line 1:0 no viable alternative");
        EXPECT_NE(std::string(ex.what()).find("0x2000"), std::string::npos);
        EXPECT_NE(std::string(ex.what()).find("no viable alternative"), std::string::npos);
    }
    EXPECT_THROW(net::throw_server_error(e), Error);
}

TEST(ClientErrors, UnknownCodeIsPlainServerError) {
    auto e = err(static_cast<ServerErrorCode>(0x7777));
    try {
        net::throw_server_error(e);
        FAIL();
    } catch (const ServerError& ex) {
        EXPECT_EQ(static_cast<int>(ex.code()), 0x7777);
        EXPECT_EQ(typeid(ex), typeid(ServerError));
    }
}

TEST(ClientErrors, UnavailableCarriesCounts) {
    auto e = err(ServerErrorCode::unavailable);
    e.consistency = Consistency::quorum;
    e.required = 2;
    e.alive = 1;
    auto ex = rethrow_as<Unavailable>(e);
    EXPECT_EQ(ex.consistency(), Consistency::quorum);
    EXPECT_EQ(ex.required(), 2);
    EXPECT_EQ(ex.alive(), 1);
}

TEST(ClientErrors, TimeoutsAndFailuresCarryFields) {
    auto w = err(ServerErrorCode::write_timeout);
    w.consistency = Consistency::local_quorum;
    w.received = 1;
    w.block_for = 2;
    w.write_type = "CAS";
    w.contentions = 3;
    auto wt = rethrow_as<WriteTimeout>(w);
    EXPECT_EQ(wt.consistency(), Consistency::local_quorum);
    EXPECT_EQ(wt.received(), 1);
    EXPECT_EQ(wt.block_for(), 2);
    EXPECT_EQ(wt.write_type(), "CAS");
    EXPECT_EQ(wt.contentions(), 3);

    auto r = err(ServerErrorCode::read_timeout);
    r.data_present = true;
    r.received = 4;
    EXPECT_TRUE(rethrow_as<ReadTimeout>(r).data_present());
    EXPECT_EQ(rethrow_as<ReadTimeout>(r).received(), 4);

    auto rf = err(ServerErrorCode::read_failure);
    rf.num_failures = 1;
    rf.reason_map = {{protocol::Bytes{127, 0, 0, 1}, 0x0001}};
    auto rfe = rethrow_as<ReadFailure>(rf);
    EXPECT_EQ(rfe.num_failures(), 1);
    ASSERT_EQ(rfe.reasons().size(), 1u);
    EXPECT_EQ(rfe.reasons()[0].endpoint, (std::vector<std::uint8_t>{127, 0, 0, 1}));
    EXPECT_EQ(rfe.reasons()[0].code, 1);

    auto wf = err(ServerErrorCode::write_failure);
    wf.write_type = "BATCH";
    EXPECT_EQ(rethrow_as<WriteFailure>(wf).write_type(), "BATCH");
}

TEST(ClientErrors, SchemaAndFunctionErrorsCarryNames) {
    auto a = err(ServerErrorCode::already_exists);
    a.keyspace = "ks";
    a.table = "t";
    auto ae = rethrow_as<AlreadyExists>(a);
    EXPECT_EQ(ae.keyspace(), "ks");
    EXPECT_EQ(ae.table(), "t");

    auto f = err(ServerErrorCode::function_failure);
    f.keyspace = "ks";
    f.function = "fn";
    f.arg_types = {"int", "text"};
    auto fe = rethrow_as<FunctionFailure>(f);
    EXPECT_EQ(fe.function(), "fn");
    EXPECT_EQ(fe.arg_types(), (std::vector<std::string>{"int", "text"}));

    auto u = err(ServerErrorCode::unprepared);
    u.unprepared_id = {1, 2, 3};
    EXPECT_EQ(rethrow_as<Unprepared>(u).id(), (std::vector<std::uint8_t>{1, 2, 3}));
}

TEST(ClientErrors, ClientSideErrorsAreErrors) {
    EXPECT_THROW(throw Timeout("t"), Error);
    EXPECT_THROW(throw ConnectionClosed("c"), Error);
    EXPECT_THROW(throw ConfigurationError("c"), UsageError);
    EXPECT_THROW(throw RequestCancelled("c"), Error);
    NoHostAvailable nha("none", {{"127.0.0.1:9042", std::make_exception_ptr(ConnectionClosed("refused"))}});
    ASSERT_EQ(nha.failures().size(), 1u);
    EXPECT_EQ(nha.failures()[0].host, "127.0.0.1:9042");
    EXPECT_THROW(std::rethrow_exception(nha.failures()[0].error), ConnectionClosed);
}
