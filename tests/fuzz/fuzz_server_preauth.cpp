// Fuzz target for the embedded node's frame handling before authentication (issue 17): the bytes
// any client can send to a node that requires a password, before it has logged in. Two nodes run
// for the whole fuzzing session, each with PasswordAuthenticator: a native one (v4 and v5) and
// one emulating ScyllaDB (v4 only, its own version refusal). Each input opens a TCP connection,
// writes the bytes, ends its sending side and reads until the node closes.
//
// Input: byte 0 bit 0 picks the node; the rest is what the client sends.
// Invariants: the node answers and closes within a bounded time (no hang), never crashes (ASan,
// UBSan), keeps accepting connections, and sends nothing but ERROR, SUPPORTED, AUTHENTICATE or
// AUTH_SUCCESS before a successful login (no READY, RESULT, EVENT without credentials).
#include "fuzz_fail.hpp"
#include "protocol/frame_codec.hpp"
#include "server/net/cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

using acass_fuzz::fail;

namespace {

namespace p = async_cassandra::protocol;
namespace snet = async_cassandra::server::net;

constexpr int kReadTimeoutMs = 10000;

snet::Cluster& node(bool scylla) {
    auto make = [](const char* emulate) {
        snet::ClusterOptions options;
        options.port = 0;
        options.emulate = emulate;
        options.credentials = std::make_pair(std::string("fuzz"), std::string("not-guessable-7f3a"));
        auto cluster = new snet::Cluster(options);  // lives as long as the fuzzing process
        cluster->start();
        return cluster;
    };
    static snet::Cluster* native = make("");
    static snet::Cluster* emulated = make("scylla");
    return scylla ? *emulated : *native;
}

// Checks what the node sent before a login: only the handshake's answers and errors.
void check_pre_auth_output(const p::Bytes& out) {
    p::FrameDecoder decoder;
    try {
        decoder.feed(out);
        while (auto env = decoder.next()) {
            switch (env->header.opcode) {
                case p::Opcode::error:
                case p::Opcode::supported: break;
                case p::Opcode::authenticate:
                    // v5: what follows AUTHENTICATE is framed (native_protocol_v5.spec 2.3.1).
                    if (env->header.version == 5) decoder.enable_segments(p::Compression::none);
                    break;
                case p::Opcode::auth_success: return;  // the fuzzer found the password: fine
                default: fail("the node answered a request before the client authenticated");
            }
        }
    } catch (const async_cassandra::Error&) {
        // Bytes our decoder does not frame (e.g. a refusal in a foreign version): nothing to check.
    }
}

void run_one(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return;
    snet::Cluster& cluster = node(data[0] & 1);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cluster.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        fail("the node no longer accepts connections");
    // The node reads while we write (it may answer and close early: then writing fails, fine).
    p::Bytes out;
    std::uint8_t buf[65536];
    std::size_t sent = 1;
    bool write_open = true;
    for (;;) {
        pollfd pfd{fd, static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
        const int ready = ::poll(&pfd, 1, kReadTimeoutMs);
        if (ready == 0) fail("the node neither answered nor closed the connection (hang)");
        if (ready < 0) fail("poll() failed");
        if (write_open && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t n = sent < size ? ::send(fd, data + sent, size - sent, MSG_NOSIGNAL) : 0;
            if (n > 0) sent += static_cast<std::size_t>(n);
            if (n < 0 || sent >= size) {
                ::shutdown(fd, SHUT_WR);
                write_open = false;
            }
        }
        if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;  // the node closed
            out.insert(out.end(), buf, buf + n);
        }
    }
    linger no_time_wait{1, 0};  // reset, not TIME_WAIT: long runs open many connections
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_time_wait, sizeof no_time_wait);
    ::close(fd);
    check_pre_auth_output(out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    run_one(data, size);
    return 0;
}
