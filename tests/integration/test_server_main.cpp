// The acass-server executable: flags, the ready line, serving on every node's address, and a
// clean exit on SIGTERM / SIGINT.
#include "test_server_raw_client.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <regex>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

using namespace acass_test;
using p::ProtocolVersion;

const std::string kServer = std::string(ACASS_BINARY_DIR) + "/bin/acass-server";

/// acass-server as a child process with its stdout on a pipe.
class ServerProcess {
public:
    explicit ServerProcess(std::vector<std::string> args) {
        args.insert(args.begin(), kServer);
        int fds[2], in[2];
        if (pipe(fds) != 0 || pipe(in) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_addclose(&actions, in[1]);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, kServer.c_str(), &actions, nullptr, argv.data(), environ) != 0)
            throw std::runtime_error("cannot start " + kServer);
        posix_spawn_file_actions_destroy(&actions);
        close(fds[1]);
        close(in[0]);
        out_ = fdopen(fds[0], "r");
        in_ = fdopen(in[1], "w");
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_) fclose(out_);
        if (in_) fclose(in_);
    }
    /// With --control-stdin: sends one command line and returns the answer line.
    std::string command(const std::string& line) {
        std::fputs((line + "\n").c_str(), in_);
        std::fflush(in_);
        return read_line();
    }
    /// First stdout line ("" at EOF).
    std::string read_line() {
        char buf[512];
        if (!fgets(buf, sizeof buf, out_)) return {};
        return buf;
    }
    /// Sends `sig` and returns the exit status.
    int stop(int sig) {
        kill(pid_, sig);
        return wait_exit();
    }
    int wait_exit() {
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
    FILE* in_ = nullptr;
};

std::uint16_t parse_ready(const std::string& line, int nodes) {
    std::smatch m;
    std::regex re(R"(^acass-server listening on 127\.0\.0\.1:(\d+) \((\d+) nodes?\)\s*$)");
    if (!std::regex_match(line, m, re)) return 0;
    if (std::stoi(m[2]) != nodes) return 0;
    return static_cast<std::uint16_t>(std::stoi(m[1]));
}

TEST(ServerMain, ReadyLineServeAndCleanShutdown) {
    for (int sig : {SIGTERM, SIGINT}) {
        ServerProcess server({"--port", "0", "--nodes", "2", "--protocol-versions", "4,5", "--cluster-name", "main"});
        std::string line = server.read_line();
        std::uint16_t port = parse_ready(line, 2);
        ASSERT_NE(port, 0) << line;
        for (const char* host : {"127.0.0.1", "127.0.0.2"}) {
            RawClient c(host, port);
            c.startup(ProtocolVersion::v5);
            c.send(ProtocolVersion::v5, 2, p::OptionsRequest{});
            EXPECT_TRUE(std::holds_alternative<p::SupportedResponse>(c.read().response));
        }
        EXPECT_EQ(server.stop(sig), 0);
    }
}

TEST(ServerMain, AuthAndFaultFlags) {
    ServerProcess server({"--port", "0", "--auth", "alice:pw", "--fault", "error=overloaded,pattern=system.local"});
    std::uint16_t port = parse_ready(server.read_line(), 1);
    ASSERT_NE(port, 0);
    RawClient c("127.0.0.1", port);
    c.startup(ProtocolVersion::v4, p::Compression::none, std::make_pair(std::string("alice"), std::string("pw")));
    c.send(ProtocolVersion::v4, 3, query("SELECT * FROM system.local"));
    EXPECT_EQ(as_error(c.read()).code, async_cassandra::ServerErrorCode::overloaded);
    EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(ServerMain, DataCentersAndStatsCommand) {
    ServerProcess server({"--port", "0", "--nodes", "2", "--datacenters", "2", "--racks", "2", "--control-stdin"});
    std::uint16_t port = parse_ready(server.read_line(), 4);
    ASSERT_NE(port, 0);
    RawClient c("127.0.0.4", port);
    c.startup(ProtocolVersion::v4);
    c.send(ProtocolVersion::v4, 2, query("SELECT data_center, rack FROM system.local WHERE key = 'local'"));
    const Received reply = c.read();  // named: `rows` views into it
    const auto& rows = std::get<p::RowsResult>(as<p::ResultResponse>(reply));
    ASSERT_EQ(rows.row_count, 1);
    std::string cells(rows.rows_content.begin(), rows.rows_content.end());
    EXPECT_NE(cells.find("dc2"), std::string::npos);
    EXPECT_NE(cells.find("rack2"), std::string::npos);

    std::regex stats(R"(^stats 4 requests=(\d+) queries=(\d+) connections=1 open=1 replica_requests=(\d+) )"
                     R"(non_replica_requests=(\d+) refused=0 range_replica_requests=0 range_non_replica_requests=0\s*$)");
    std::smatch m;
    std::string line = server.command("stats 4");
    ASSERT_TRUE(std::regex_match(line, m, stats)) << line;
    EXPECT_EQ(m[2], "1");
    EXPECT_EQ(m[3], "1");  // system.local WHERE key = ...: LocalStrategy, the node itself
    EXPECT_EQ(m[4], "0");
    EXPECT_EQ(server.command("stats 9").rfind("error: ", 0), 0u);
    EXPECT_EQ(server.command("quit"), "");
    EXPECT_EQ(server.wait_exit(), 0);
}

TEST(ServerMain, BadFlagsFail) {
    {
        ServerProcess server({"--nodes", "0"});
        EXPECT_EQ(server.read_line(), "");
        EXPECT_NE(server.wait_exit(), 0);
    }
    {
        ServerProcess server({"--port", "0", "--protocol-versions", "3"});
        EXPECT_EQ(server.read_line(), "");
        EXPECT_NE(server.wait_exit(), 0);
    }
    {
        ServerProcess server({"--port", "0", "--nodes", "126", "--datacenters", "2"});
        EXPECT_EQ(server.read_line(), "");
        EXPECT_NE(server.wait_exit(), 0);
    }
    {
        ServerProcess server({"--port", "0", "--fault", "explode"});
        EXPECT_EQ(server.read_line(), "");
        EXPECT_NE(server.wait_exit(), 0);
    }
}

}  // namespace
