// Binding a prepared statement's values by marker name (PreparedStatement::bind_by_name),
// against the embedded node: `:name` markers, `?` markers named after their column, a name
// used twice, markers left unset (the column keeps its value), values bound already serialized
// (bind_serialized), and the client-side errors.
#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>
#include <async_cassandra/text_codec.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"
#include "protocol/bytes.hpp"

#include <gtest/gtest.h>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

using acass_test::run;

}  // namespace

TEST(ClientNamedBinding, BindsByNameAndLeavesUnsetColumnsAlone) {
    srv::ClusterOptions options;
    options.port = 0;
    srv::Cluster server(options);
    server.start();
    for (int version : {4, 5}) {
        SCOPED_TRACE(version);
        run([&](asio::any_io_executor executor) -> asio::awaitable<void> {
            ClusterConfig config;
            config.contact_points = {"127.0.0.1"};
            config.port = server.port();
            config.connection.protocol_version = version;
            Cluster cluster(executor, config);
            Session session = co_await cluster.connect();
            const std::string ks = "named_v" + std::to_string(version);
            co_await session.execute("CREATE KEYSPACE " + ks +
                                     " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
            co_await session.execute("CREATE TABLE " + ks + ".t (id int PRIMARY KEY, name text, score double)");

            // :name markers, given out of order.
            auto insert = co_await session.prepare("INSERT INTO " + ks + ".t (id, name, score) VALUES (:id, :n, :s)");
            co_await session.execute(insert.bind_by_name().set("s", 1.5).set("id", 1).set("n", "one").bind());

            // Leaving :n unset keeps the stored name; a null clears the score.
            co_await session.execute(insert.bind_by_name().set("id", 1).set("s", std::nullopt).bind());
            auto select = co_await session.prepare("SELECT name, score FROM " + ks + ".t WHERE id = ?");
            auto rs = co_await session.execute(select.bind_by_name().set("id", 1).bind());
            auto row = rs.one();
            EXPECT_TRUE(row.has_value());
            if (row) {
                EXPECT_EQ(row->get<std::string>("name"), "one");
                EXPECT_TRUE(row->is_null("score"));
            }

            // One name used by two markers sets both.
            co_await session.execute(insert.bind_by_name().set("id", 2).set("n", "two").set("s", 2.0).bind());
            auto twice = co_await session.prepare("SELECT id FROM " + ks + ".t WHERE id IN (:k, :k)");
            auto both = co_await session.execute(twice.bind_by_name().set("k", 2).bind());
            EXPECT_EQ(both.size(), 1u);

            // Serialized values (here parsed from CQL literals), null and unset bind like typed ones.
            const protocol::Bytes name_bytes = *from_cql_literal(*insert.bind_markers()[1].type, "'three'");
            const protocol::Bytes id_bytes = *from_cql_literal(*insert.bind_markers()[0].type, "3");
            std::vector<SerializedValue> values = {SerializedValue::of(id_bytes), SerializedValue::of(name_bytes),
                                                   SerializedValue::null()};
            co_await session.execute(insert.bind_serialized(values));
            values[1] = SerializedValue::unset();  // keeps "three"
            const protocol::Bytes score_bytes = *from_cql_literal(*insert.bind_markers()[2].type, "3.5");
            values[2] = SerializedValue::of(score_bytes);
            co_await session.execute(insert.bind_serialized(values));
            auto three_rs = co_await session.execute(select.bind(3));  // rows view into it: keep it
            auto three = three_rs.one();
            CO_ASSERT_TRUE(three.has_value());
            EXPECT_EQ(three->get<std::string>("name"), "three");
            EXPECT_EQ(three->get<double>("score"), 3.5);
            EXPECT_THROW(insert.bind_serialized(std::span<const SerializedValue>(values).first(2)), UsageError);
            values[0] = SerializedValue::of(name_bytes);  // text bytes for an int marker: the server refuses
            bool refused = false;
            try {
                co_await session.execute(insert.bind_serialized(values));
            } catch (const InvalidRequest&) {
                refused = true;
            }
            EXPECT_TRUE(refused);

            // Client-side errors, before anything is sent.
            EXPECT_THROW(insert.bind_by_name().set("nope", 1), UsageError);
            EXPECT_THROW(insert.bind_by_name().set("id", std::string("not an int")), TypeError);

            co_await session.shutdown();
            co_await cluster.shutdown();
        });
    }
    server.stop();
}
