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
    // A paging state kept as text and read back (what a resume file or an HTTP page token does).
    const ac::PagingState state(ac::Bytes{0x00, 0x2a, 0xff});
    const ac::PagingState back = ac::PagingState::from_string(state.to_string());
    ac::ResumePoint point;
    point.paging_state = back;
    point.rows_to_skip = 3;
    const bool round_trip = back == state && ac::ResumePoint::from_string(point.to_string()) == point;
    std::printf("%s %s %s\n", type->cql_name().c_str(), std::string(ac::to_string(ac::Consistency::local_quorum)).c_str(),
                state.to_string().c_str());
    return type->cql_name() == "map<text, int>" && round_trip && state.to_string() == "002aff" ? 0 : 1;
}
