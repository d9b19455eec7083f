// The README's quick start, kept compiling and running: stream a table row by row with bounded
// memory. Usage: quick_start [--host H] [--port P] [--rows-expected N]
#include <async_cassandra/async_cassandra.hpp>
#include <asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace ac = async_cassandra;

asio::awaitable<void> run(asio::io_context& io, std::string host, std::uint16_t port, std::int64_t& rows) {
    ac::ClusterConfig config;
    config.contact_points = {host};
    config.port = port;
    ac::Cluster cluster(io.get_executor(), config);
    ac::Session session = co_await cluster.connect();
    ac::StreamConfig stream_config;                  // paging, read-ahead, retries
    stream_config.fetch_size = 5000;                 // rows per page
    stream_config.prefetch_pages = 1;                // next page already on the wire
    ac::Statement query("SELECT pk, name FROM synthetic.rows");
    auto stream = co_await ac::execute_stream(session, query, stream_config);
    while (auto row = co_await stream.next()) {      // memory: about (1 + prefetch) pages
        std::printf("%lld %s\n", (long long)row->get<std::int64_t>("pk"),
                    std::string(row->get<std::string_view>("name")).c_str());
        ++rows;
    }
    co_await session.shutdown();
    co_await cluster.shutdown();
}

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::uint16_t port = 9042;
    std::int64_t expected = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--host") host = argv[i + 1];
        else if (flag == "--port") port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
        else if (flag == "--rows-expected") expected = std::atoll(argv[i + 1]);
    }
    asio::io_context io;
    std::int64_t rows = 0;
    std::exception_ptr error;
    asio::co_spawn(io, run(io, host, port, rows), [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "quick_start: %s\n", e.what());
            return 2;
        }
    }
    std::fprintf(stderr, "quick_start: %lld rows\n", static_cast<long long>(rows));
    return expected < 0 || rows == expected ? 0 : 1;
}
