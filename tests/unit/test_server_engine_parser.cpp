// CQL parser: the statements drivers and users send are accepted, malformed ones are rejected
// with SyntaxError, and literals reach their serialized form.
#include "server/engine/cql_ast.hpp"
#include "server/engine/cql_values.hpp"
#include "protocol/bytes.hpp"

#include <gtest/gtest.h>

using namespace async_cassandra;
using namespace async_cassandra::server::cql;

namespace {

ParsedStatement parse(std::string_view s) {
    try {
        return parse_cql(s);
    } catch (const CqlError& e) {
        ADD_FAILURE() << s << " -> " << e.message;
        throw;
    }
}

int reject_code(std::string_view s) {
    try {
        parse_cql(s);
    } catch (const CqlError& e) {
        return static_cast<int>(e.code);
    }
    return -1;
}

protocol::Bytes literal(std::string_view term_text, std::string_view type) {
    auto ps = parse_cql("INSERT INTO t (a) VALUES (" + std::string(term_text) + ")");
    const auto& ins = std::get<InsertStmt>(ps.statement);
    auto ct = resolve_type(parse_cql_type(type), "ks", {});
    return evaluate(ins.values.at(0), *ct.type, {}).bytes;
}

}  // namespace

TEST(EngineParser, DriverQueries) {
    for (const char* q : {"SELECT * FROM system.peers_v2", "SELECT * FROM system.local WHERE key='local'",
                          "SELECT * FROM system_schema.keyspaces", "SELECT peer, rpc_address, schema_version FROM system.peers",
                          "select schema_version from system.local where key='local';",
                          "SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'",
                          "SELECT keyspace_name, table_name FROM system_virtual_schema.tables"})
        parse(q);
}

TEST(EngineParser, SelectShapes) {
    auto ps = parse("SELECT a AS x, COUNT(*), count(1), writetime(b), token(k) FROM ks.\"Tab\" WHERE k IN (1, 2) AND c >= ? "
                    "AND token(k) > :t ORDER BY c DESC PER PARTITION LIMIT 2 LIMIT 10 ALLOW FILTERING");
    const auto& s = std::get<SelectStmt>(ps.statement);
    EXPECT_EQ(s.table.keyspace, "ks");
    EXPECT_EQ(s.table.name, "Tab");  // quoted keeps its case
    ASSERT_EQ(s.selectors.size(), 5u);
    EXPECT_EQ(s.selectors[0].alias, "x");
    EXPECT_EQ(s.selectors[1].kind, Selector::Kind::count);
    EXPECT_EQ(s.selectors[2].kind, Selector::Kind::count);
    EXPECT_EQ(s.selectors[3].kind, Selector::Kind::writetime);
    EXPECT_EQ(s.selectors[4].kind, Selector::Kind::token);
    ASSERT_EQ(s.where.size(), 3u);
    EXPECT_TRUE(s.where[0].in_list);
    EXPECT_EQ(s.where[1].op, Op::ge);
    EXPECT_TRUE(s.where[2].is_token);
    EXPECT_EQ(s.where[2].value.bind_name, "t");
    EXPECT_TRUE(s.order_by[0].second);
    EXPECT_TRUE(s.per_partition_limit && s.limit && s.allow_filtering);
    EXPECT_EQ(ps.bind_count, 2);
}

TEST(EngineParser, DdlAndDml) {
    auto ks = std::get<CreateKeyspaceStmt>(parse("CREATE KEYSPACE IF NOT EXISTS Ks WITH replication = "
                                                 "{'class': 'SimpleStrategy', 'replication_factor': 1} AND durable_writes = false")
                                               .statement);
    EXPECT_EQ(ks.name, "ks");
    EXPECT_TRUE(ks.if_not_exists);
    EXPECT_EQ(ks.replication.at("replication_factor"), "1");
    EXPECT_FALSE(ks.durable_writes);

    auto t = std::get<CreateTableStmt>(parse("CREATE TABLE ks.t (a int, b text, c frozen<map<text, list<int>>>, "
                                             "v vector<float, 3>, PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) "
                                             "AND comment = 'x' AND compaction = {'class': 'LeveledCompactionStrategy'}")
                                           .statement);
    EXPECT_EQ(t.partition_key, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(t.clustering, (std::vector<std::string>{"c"}));
    EXPECT_TRUE(t.clustering_order.at(0).second);
    EXPECT_EQ(t.options.at("comment"), "x");

    auto ins = std::get<InsertStmt>(parse("INSERT INTO t (a, b) VALUES (?, :b) IF NOT EXISTS USING TTL 10 AND TIMESTAMP 5").statement);
    EXPECT_TRUE(ins.if_not_exists);
    EXPECT_TRUE(ins.ttl && ins.timestamp);

    auto up = std::get<UpdateStmt>(parse("UPDATE t USING TTL 5 SET a = 1, c = c + 2, l = [1] + l, m['k'] = 'v' WHERE k = 1").statement);
    EXPECT_EQ(up.assignments[1].kind, Assignment::Kind::add);
    EXPECT_EQ(up.assignments[2].kind, Assignment::Kind::prepend);
    EXPECT_TRUE(up.assignments[3].element_key.has_value());
    auto neg = std::get<UpdateStmt>(parse("UPDATE t SET c = c -1 WHERE k = 1").statement);
    EXPECT_EQ(neg.assignments[0].kind, Assignment::Kind::subtract);

    auto b = std::get<std::shared_ptr<BatchStmt>>(
        parse("BEGIN UNLOGGED BATCH INSERT INTO t (a) VALUES (1); DELETE FROM t WHERE a = 2; APPLY BATCH;").statement);
    EXPECT_TRUE(b->unlogged);
    EXPECT_EQ(b->statements.size(), 2u);

    parse("DROP TABLE IF EXISTS ks.t");
    parse("DROP KEYSPACE ks");
    parse("TRUNCATE ks.t");
    parse("TRUNCATE TABLE t");
    parse("USE \"MyKs\"");
    parse("DELETE a, b FROM t WHERE k = 1 AND c > 3");
    parse("-- comment\nSELECT /* inline */ * FROM t // trailing\n;");
    parse("CREATE TYPE ks.addr (street text, zip int)");
}

TEST(EngineParser, RejectsWithSyntaxError) {
    for (const char* q : {"SELEC * FROM t", "SELECT FROM t", "SELECT * FROM", "INSERT INTO t (a) VALUES (1",
                          "SELECT * FROM t WHERE", "CREATE TABLE t (a int PRIMARY KEY", "SELECT * FROM t LIMIT",
                          "SELECT * FROM t; garbage", "SELECT 'unterminated FROM t", "BEGIN BATCH SELECT * FROM t APPLY BATCH",
                          "", "UPDATE t SET WHERE a = 1", "SELECT * FROM t WHERE a = #"})
        EXPECT_EQ(reject_code(q), 0x2000) << q;
}

// An unquoted identifier starts with a letter (Cassandra's Lexer.g: IDENT is LETTER (LETTER |
// DIGIT | '_')*), so a leading '_' is refused as Cassandra refuses it; quoted, any name goes.
TEST(EngineParser, UnquotedIdentifiersStartWithALetter) {
    for (const char* q : {"SELECT _a FROM t", "SELECT a FROM _t", "SELECT a FROM ks._t", "CREATE TABLE t (_k int PRIMARY KEY)",
                          "INSERT INTO t (_a) VALUES (1)", "CREATE KEYSPACE _ks WITH replication = {'class': 'SimpleStrategy'}",
                          "SELECT a FROM t WHERE k = :_name"})
        EXPECT_EQ(reject_code(q), 0x2000) << q;
    std::string message;
    try {
        parse_cql("SELECT _a FROM t");
    } catch (const CqlError& e) {
        message = e.message;
    }
    EXPECT_EQ(message, "line 1:7 no viable alternative at character '_'");
    parse("SELECT a_b, c_, \"_d\" FROM t_1 WHERE k = :n_1");
    parse("CREATE TABLE \"_t\" (\"_k\" int PRIMARY KEY, v_ int)");
}

TEST(EngineParser, Literals) {
    EXPECT_EQ(literal("42", "int"), (protocol::Bytes{0, 0, 0, 42}));
    EXPECT_EQ(literal("-1", "bigint"), protocol::Bytes(8, 0xFF));
    EXPECT_EQ(literal("'it''s'", "text"), (protocol::Bytes{'i', 't', '\'', 's'}));
    EXPECT_EQ(literal("$$a'b$$", "text"), (protocol::Bytes{'a', '\'', 'b'}));
    EXPECT_EQ(literal("0xCAFE", "blob"), (protocol::Bytes{0xCA, 0xFE}));
    EXPECT_EQ(literal("true", "boolean"), (protocol::Bytes{1}));
    EXPECT_EQ(literal("128", "varint"), (protocol::Bytes{0x00, 0x80}));
    EXPECT_EQ(literal("-129", "varint"), (protocol::Bytes{0xFF, 0x7F}));
    EXPECT_EQ(literal("1.5", "double"), (protocol::Bytes{0x3F, 0xF8, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(literal("12.34", "decimal"), (protocol::Bytes{0, 0, 0, 2, 0x04, 0xD2}));
    EXPECT_EQ(literal("'1970-01-02'", "date"), (protocol::Bytes{0x80, 0, 0, 1}));
    EXPECT_EQ(literal("'1970-01-01T00:00:01.5Z'", "timestamp"), (protocol::Bytes{0, 0, 0, 0, 0, 0, 0x05, 0xDC}));
    EXPECT_EQ(literal("'00:00:01'", "time"), (protocol::Bytes{0, 0, 0, 0, 0x3B, 0x9A, 0xCA, 0x00}));
    EXPECT_EQ(literal("'127.0.0.1'", "inet"), (protocol::Bytes{127, 0, 0, 1}));
    EXPECT_EQ(literal("1h", "duration"), (protocol::Bytes{0, 0, 0xFC, 0x06, 0x8C, 0x61, 0x71, 0x40, 0x00}));
    EXPECT_EQ(literal("123e4567-e89b-12d3-a456-426614174000", "timeuuid").size(), 16u);
    EXPECT_EQ(literal("[1, 2]", "list<int>"), (protocol::Bytes{0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2}));
    // Sets are sorted and de-duplicated; maps sorted by key.
    EXPECT_EQ(literal("{3, 1, 3}", "set<int>"), (protocol::Bytes{0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 3}));
    EXPECT_EQ(literal("{}", "set<int>"), (protocol::Bytes{0, 0, 0, 0}));
    EXPECT_EQ(literal("{'b': 1, 'a': 2}", "map<text, int>"),
              (protocol::Bytes{0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 1, 'b', 0, 0, 0, 4, 0, 0, 0, 1}));
    EXPECT_EQ(literal("(1, null)", "tuple<int, text>"), (protocol::Bytes{0, 0, 0, 4, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_EQ(literal("[1.0, 2.0]", "vector<float, 2>"), (protocol::Bytes{0x3F, 0x80, 0, 0, 0x40, 0, 0, 0}));
}

TEST(EngineParser, BadLiteralsAreInvalid) {
    for (auto [term, type] : std::vector<std::pair<const char*, const char*>>{
             {"'x'", "int"}, {"3000000000", "int"}, {"1", "text"}, {"0xABC", "blob"}, {"'nope'", "inet"},
             {"[1, 2]", "vector<float, 3>"}, {"'2020-13-01'", "date"}, {"123e4567-e89b-42d3-a456-426614174000", "timeuuid"}}) {
        try {
            literal(term, type);
            ADD_FAILURE() << term << " as " << type << " accepted";
        } catch (const CqlError& e) {
            EXPECT_EQ(static_cast<int>(e.code), 0x2200) << term;
        }
    }
}

TEST(EngineParser, TypeSpelling) {
    EXPECT_EQ(resolve_type(parse_cql_type("map<text, frozen<list<int>>>"), "ks", {}).cql, "map<text, frozen<list<int>>>");
    EXPECT_EQ(resolve_type(parse_cql_type("frozen<set<varchar>>"), "ks", {}).cql, "frozen<set<text>>");
    EXPECT_EQ(resolve_type(parse_cql_type("tuple<int, text>"), "ks", {}).cql, "frozen<tuple<int, text>>");
    EXPECT_EQ(resolve_type(parse_cql_type("vector<float, 3>"), "ks", {}).cql, "vector<float, 3>");
    EXPECT_THROW(resolve_type(parse_cql_type("nosuchtype"), "ks", {}), CqlError);
}

TEST(EngineParser, Ordering) {
    auto cmp = [](std::string_view a, std::string_view b, std::string_view type) {
        return compare_values(literal(a, type), literal(b, type), *resolve_type(parse_cql_type(type), "ks", {}).type);
    };
    EXPECT_LT(cmp("-5", "3", "int"), 0);
    EXPECT_LT(cmp("-500", "3", "varint"), 0);
    EXPECT_GT(cmp("70000", "300", "varint"), 0);
    EXPECT_LT(cmp("-1.5", "0.25", "double"), 0);
    EXPECT_LT(cmp("'a'", "'ab'", "text"), 0);
    EXPECT_LT(cmp("1.5", "10", "decimal"), 0);
    EXPECT_LT(cmp("'1969-12-31'", "'1970-01-01'", "date"), 0);
}
