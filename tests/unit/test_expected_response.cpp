// protocol::expected_response / response_mismatch: which answers can belong to which request
// (what a connection uses to tell a server's stream id mix-up from a surprising answer).
#include "protocol/expected_response.hpp"

#include <gtest/gtest.h>

using namespace async_cassandra::protocol;

namespace {

Response result(ResultResponse r) { return Response{std::move(r)}; }

RowsResult rows_of(const std::string& keyspace, const std::string& table, std::vector<std::string> names) {
    RowsResult rows;
    rows.metadata.column_count = static_cast<std::int32_t>(names.size());
    for (auto& n : names) rows.metadata.columns.push_back(ColumnSpec{keyspace, table, std::move(n), nullptr});
    return rows;
}

ExpectedResponse for_query(std::string_view text) {
    QueryRequest q;
    q.query = text;
    return expected_response(Request{q});
}

}  // namespace

TEST(StatementKind, FirstKeywordAfterWhitespaceAndComments) {
    EXPECT_EQ(statement_kind("SELECT * FROM t"), StatementKind::select);
    EXPECT_EQ(statement_kind("  \n\tselect k FROM t"), StatementKind::select);
    EXPECT_EQ(statement_kind("-- a comment\nSeLeCt 1"), StatementKind::select);
    EXPECT_EQ(statement_kind("// c\n/* block\n comment */ USE ks"), StatementKind::use);
    EXPECT_EQ(statement_kind("INSERT INTO t (k) VALUES (1)"), StatementKind::modification);
    EXPECT_EQ(statement_kind("update t SET v = 1 WHERE k = 1"), StatementKind::modification);
    EXPECT_EQ(statement_kind("DELETE FROM t WHERE k = 1"), StatementKind::modification);
    EXPECT_EQ(statement_kind("BEGIN UNLOGGED BATCH INSERT INTO t (k) VALUES (1); APPLY BATCH"),
              StatementKind::modification);
    EXPECT_EQ(statement_kind("CREATE TABLE t (k int PRIMARY KEY)"), StatementKind::schema);
    EXPECT_EQ(statement_kind("drop keyspace ks"), StatementKind::schema);
    EXPECT_EQ(statement_kind("TRUNCATE t"), StatementKind::schema);
    EXPECT_EQ(statement_kind("GRANT SELECT ON t TO r"), StatementKind::other);
    EXPECT_EQ(statement_kind("LIST ROLES"), StatementKind::other);
    EXPECT_EQ(statement_kind("selectx"), StatementKind::other);
    EXPECT_EQ(statement_kind(""), StatementKind::other);
    EXPECT_EQ(statement_kind("/* unterminated"), StatementKind::other);
    EXPECT_EQ(statement_kind("(SELECT 1)"), StatementKind::other);
}

TEST(ResponseMismatch, ErrorAnswersAnything) {
    const Response error = ErrorResponse{};
    for (Request r : {Request{StartupRequest{}}, Request{OptionsRequest{}}, Request{QueryRequest{}},
                      Request{PrepareRequest{}}, Request{ExecuteRequest{}}, Request{BatchRequest{}},
                      Request{RegisterRequest{}}, Request{AuthResponseRequest{}}})
        EXPECT_EQ(response_mismatch(expected_response(r), error), nullptr);
}

TEST(ResponseMismatch, OpcodeOfEachRequest) {
    const auto startup = expected_response(Request{StartupRequest{}});
    EXPECT_EQ(response_mismatch(startup, ReadyResponse{}), nullptr);
    EXPECT_EQ(response_mismatch(startup, AuthenticateResponse{}), nullptr);
    EXPECT_NE(response_mismatch(startup, SupportedResponse{}), nullptr);
    const auto options = expected_response(Request{OptionsRequest{}});
    EXPECT_EQ(response_mismatch(options, SupportedResponse{}), nullptr);
    EXPECT_NE(response_mismatch(options, result(VoidResult{})), nullptr);
    const auto reg = expected_response(Request{RegisterRequest{}});
    EXPECT_EQ(response_mismatch(reg, ReadyResponse{}), nullptr);
    EXPECT_NE(response_mismatch(reg, result(VoidResult{})), nullptr);
    const auto auth = expected_response(Request{AuthResponseRequest{}});
    EXPECT_EQ(response_mismatch(auth, AuthChallengeResponse{}), nullptr);
    EXPECT_EQ(response_mismatch(auth, AuthSuccessResponse{}), nullptr);
    EXPECT_NE(response_mismatch(auth, ReadyResponse{}), nullptr);
    EXPECT_NE(response_mismatch(for_query("x"), ReadyResponse{}), nullptr);
    EXPECT_NE(response_mismatch(for_query("x"), SupportedResponse{}), nullptr);
}

TEST(ResponseMismatch, ResultKindOfEachStatement) {
    const Response void_ = result(VoidResult{});
    const Response rows = result(rows_of("ks", "t", {"v"}));
    const Response applied = result(rows_of("ks", "t", {"[applied]", "v"}));
    const Response ks = result(SetKeyspaceResult{"ks"});
    const Response schema = result(SchemaChange{"CREATED", "TABLE", "ks", "t", {}});
    const Response prepared = result(PreparedResult{});

    const auto select = for_query("SELECT v FROM ks.t");
    EXPECT_EQ(response_mismatch(select, rows), nullptr);
    for (const auto* r : {&void_, &ks, &schema, &prepared}) EXPECT_NE(response_mismatch(select, *r), nullptr);

    const auto use = for_query("USE ks");
    EXPECT_EQ(response_mismatch(use, ks), nullptr);
    for (const auto* r : {&void_, &rows, &schema, &prepared}) EXPECT_NE(response_mismatch(use, *r), nullptr);

    const auto write = for_query("INSERT INTO ks.t (k) VALUES (1) IF NOT EXISTS");
    EXPECT_EQ(response_mismatch(write, void_), nullptr);
    EXPECT_EQ(response_mismatch(write, applied), nullptr);
    for (const auto* r : {&rows, &ks, &schema, &prepared}) EXPECT_NE(response_mismatch(write, *r), nullptr);
    RowsResult unchecked = rows_of("ks", "t", {});
    unchecked.metadata.no_metadata = true;
    unchecked.metadata.column_count = 1;
    EXPECT_EQ(response_mismatch(write, result(unchecked)), nullptr) << "no metadata: nothing to check";

    const auto batch = expected_response(Request{BatchRequest{}});
    EXPECT_EQ(response_mismatch(batch, void_), nullptr);
    EXPECT_EQ(response_mismatch(batch, applied), nullptr);
    EXPECT_NE(response_mismatch(batch, rows), nullptr);

    const auto ddl = for_query("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY)");
    EXPECT_EQ(response_mismatch(ddl, schema), nullptr);
    EXPECT_EQ(response_mismatch(ddl, void_), nullptr);  // IF NOT EXISTS on an existing table
    EXPECT_NE(response_mismatch(ddl, rows), nullptr);

    const auto other = for_query("LIST ROLES");
    for (const auto* r : {&void_, &rows, &ks, &schema}) EXPECT_EQ(response_mismatch(other, *r), nullptr);
    EXPECT_NE(response_mismatch(other, prepared), nullptr);

    const auto prepare = expected_response(Request{PrepareRequest{}});
    EXPECT_EQ(response_mismatch(prepare, prepared), nullptr);
    for (const auto* r : {&void_, &rows, &ks, &schema}) EXPECT_NE(response_mismatch(prepare, *r), nullptr);
}

TEST(ResponseMismatch, ExecuteOfAPreparedSelect) {
    ExpectedResponse e = expected_response(Request{ExecuteRequest{}});
    e.statement = StatementKind::select;
    e.result_keyspace = "ks";
    e.result_table = "t";
    EXPECT_EQ(response_mismatch(e, result(rows_of("ks", "t", {"a", "b"}))), nullptr) << "v4: any count";
    EXPECT_NE(response_mismatch(e, result(rows_of("ks", "other", {"a", "b"}))), nullptr);
    EXPECT_NE(response_mismatch(e, result(rows_of("ks2", "t", {"a", "b"}))), nullptr);
    EXPECT_NE(response_mismatch(e, result(VoidResult{})), nullptr);

    e.result_columns = 2;  // v5: the result metadata id fixes the columns
    EXPECT_EQ(response_mismatch(e, result(rows_of("ks", "t", {"a", "b"}))), nullptr);
    EXPECT_NE(response_mismatch(e, result(rows_of("ks", "t", {"a", "b", "c"}))), nullptr);
    RowsResult changed = rows_of("ks", "t", {"a", "b", "c"});
    changed.metadata.new_metadata_id = Bytes{1, 2};
    EXPECT_EQ(response_mismatch(e, result(changed)), nullptr) << "METADATA_CHANGED announces new columns";
}
