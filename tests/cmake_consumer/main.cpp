// Uses only installed public headers and the exported targets, as a user's project would:
// the protocol layer's types and the client API.
#include <async_cassandra/async_cassandra.hpp>

#include <asio/io_context.hpp>

#include <cstdio>

int main() {
    namespace ac = async_cassandra;
    auto type = ac::DataType::map_of(ac::DataType::simple(ac::TypeKind::varchar), ac::DataType::simple(ac::TypeKind::int_));
    asio::io_context io;
    ac::ClusterConfig config;
    config.contact_points = {"127.0.0.1"};
    ac::Cluster cluster(io.get_executor(), config);  // no connection is made until connect()
    ac::Statement statement("SELECT * FROM t WHERE k = ?");
    statement.bind(ac::Value(42));
    std::printf("%s %s\n", type->cql_name().c_str(), std::string(ac::to_string(ac::Consistency::local_quorum)).c_str());
    return type->cql_name() == "map<text, int>" ? 0 : 1;
}
