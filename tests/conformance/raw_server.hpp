// A scripted raw-bytes CQL peer for conformance tests: every byte it sends is written by the
// test from the specs and the servers' encoders, not by our codec. Blocking POSIX sockets, one
// thread per accepted connection, 127.0.0.1 on a free port.
//
// Framing written independently of src/protocol: v4 frames and the v5 envelope header by hand
// (native_protocol_v4.spec section 2, v5 section 2.4), v5 segments with the header CRC24 coded
// from v5 section 2.2 / PROTOCOL-NOTES.md and the payload CRC32 from zlib (seeded with
// fa 2d 55 ca as Cassandra's Crc.java does).
#pragma once

#include "unit/test_messages_support.hpp"  // Golden: spec-notation byte builder

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace conformance {

using Bytes = std::vector<std::uint8_t>;
using acass_test::Golden;

// Opcodes (v4 2.4).
enum Op : std::uint8_t {
    kError = 0x00, kStartup = 0x01, kReady = 0x02, kAuthenticate = 0x03, kOptions = 0x05, kSupported = 0x06,
    kQuery = 0x07, kResult = 0x08, kPrepare = 0x09, kExecute = 0x0A, kRegister = 0x0B, kEvent = 0x0C,
    kBatch = 0x0D, kAuthChallenge = 0x0E, kAuthResponse = 0x0F, kAuthSuccess = 0x10,
};

struct Frame {
    std::uint8_t version = 0;  ///< with the direction bit
    std::uint8_t flags = 0;
    std::int16_t stream = 0;
    std::uint8_t opcode = 0;
    Bytes body;

    /// The [long string] query of a QUERY body (v4 4.1.4), or "" for other opcodes.
    std::string query() const {
        if (opcode != kQuery || body.size() < 4) return {};
        const std::uint32_t n = (std::uint32_t(body[0]) << 24) | (body[1] << 16) | (body[2] << 8) | body[3];
        return std::string(body.begin() + 4, body.begin() + 4 + std::min<std::size_t>(n, body.size() - 4));
    }
};

/// v4 2 / v5 2.4: version, flags, stream (i16 BE), opcode, length (u32 BE), body.
inline Bytes envelope(std::uint8_t version, std::uint8_t flags, std::int16_t stream, std::uint8_t opcode,
                      const Bytes& body) {
    Golden g;
    g.u8(version).u8(flags).u16(static_cast<std::uint16_t>(stream)).u8(opcode).i32(static_cast<std::int32_t>(body.size()));
    g.raw(body);
    return g.build();
}

/// v5 2.2 header CRC24: init 0x875060, polynomial 0x1974F0B, over the header bytes in wire order.
inline std::uint32_t spec_crc24(const std::uint8_t* p, std::size_t n) {
    std::uint32_t crc = 0x875060;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= std::uint32_t(p[i]) << 16;
        for (int b = 0; b < 8; ++b) {
            crc <<= 1;
            if (crc & 0x1000000) crc ^= 0x1974F0B;
        }
    }
    return crc & 0xFFFFFF;
}

/// CRC32 of a segment payload: zlib's, continued from the CRC of fa 2d 55 ca.
inline std::uint32_t spec_crc32(const Bytes& payload) {
    static const std::uint8_t seed[4] = {0xfa, 0x2d, 0x55, 0xca};
    uLong crc = ::crc32(0L, seed, 4);
    return static_cast<std::uint32_t>(::crc32(crc, payload.data(), static_cast<uInt>(payload.size())));
}

/// One uncompressed v5 segment (v5 2.2): 3-byte LE header (length, self-contained bit 17),
/// CRC24 LE, payload, CRC32 LE. `corrupt_crc` flips the payload CRC.
inline Bytes segment(const Bytes& payload, bool self_contained = true, bool corrupt_crc = false) {
    const std::uint32_t h = static_cast<std::uint32_t>(payload.size()) | (self_contained ? 1u << 17 : 0u);
    Bytes out = {static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(h >> 8), static_cast<std::uint8_t>(h >> 16)};
    const std::uint32_t c24 = spec_crc24(out.data(), 3);
    out.insert(out.end(), {static_cast<std::uint8_t>(c24), static_cast<std::uint8_t>(c24 >> 8),
                           static_cast<std::uint8_t>(c24 >> 16)});
    out.insert(out.end(), payload.begin(), payload.end());
    std::uint32_t c32 = spec_crc32(payload);
    if (corrupt_crc) c32 ^= 1;
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(c32 >> (8 * i)));
    return out;
}

/// One accepted connection, driven by a script with blocking calls.
class RawConn {
public:
    explicit RawConn(int fd) : fd_(fd) {}
    ~RawConn() { close(); }

    /// v5 segment framing for everything after the handshake (both directions).
    bool framed = false;

    /// The next envelope from the client. Throws std::runtime_error at end of stream.
    Frame read() {
        if (framed) {
            while (pending_.empty()) read_segment();
            Frame f = std::move(pending_.front());
            pending_.pop_front();
            return f;
        }
        Bytes head = read_exact(9);
        return parse(head, read_exact(length_of(head)));
    }

    /// Sends one envelope (segment-wrapped when framed).
    void send(const Bytes& env) { write(framed ? segment(env) : env); }
    /// Sends bytes as they are.
    void write(const Bytes& bytes) {
        std::size_t at = 0;
        while (at < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("raw server: send failed");
            at += static_cast<std::size_t>(n);
        }
    }
    void close() {
        if (fd_ >= 0) {
            ::shutdown(fd_, SHUT_RDWR);
            ::close(fd_);
            fd_ = -1;
        }
    }
    int fd() const { return fd_; }

private:
    static std::size_t length_of(const Bytes& head) {
        return (std::size_t(head[5]) << 24) | (std::size_t(head[6]) << 16) | (std::size_t(head[7]) << 8) | head[8];
    }
    static Frame parse(const Bytes& head, Bytes body) {
        Frame f;
        f.version = head[0];
        f.flags = head[1];
        f.stream = static_cast<std::int16_t>((head[2] << 8) | head[3]);
        f.opcode = head[4];
        f.body = std::move(body);
        return f;
    }
    Bytes read_exact(std::size_t n) {
        Bytes out(n);
        std::size_t at = 0;
        while (at < n) {
            const ssize_t r = ::recv(fd_, out.data() + at, n - at, 0);
            if (r <= 0) throw std::runtime_error("raw server: connection closed by the client");
            at += static_cast<std::size_t>(r);
        }
        return out;
    }
    // Uncompressed segments (the client under test asks for no compression here); split
    // envelopes are gathered in `split_`.
    void read_segment() {
        Bytes h = read_exact(6);
        const std::uint32_t header = h[0] | (h[1] << 8) | (std::uint32_t(h[2]) << 16);
        const std::uint32_t crc = h[3] | (h[4] << 8) | (std::uint32_t(h[5]) << 16);
        if (spec_crc24(h.data(), 3) != crc) throw std::runtime_error("raw server: bad segment header CRC24");
        Bytes payload = read_exact(header & 0x1FFFF);
        Bytes c = read_exact(4);
        const std::uint32_t c32 = c[0] | (c[1] << 8) | (c[2] << 16) | (std::uint32_t(c[3]) << 24);
        if (spec_crc32(payload) != c32) throw std::runtime_error("raw server: bad segment payload CRC32");
        split_.insert(split_.end(), payload.begin(), payload.end());
        while (split_.size() >= 9) {
            Bytes head(split_.begin(), split_.begin() + 9);
            const std::size_t len = length_of(head);
            if (split_.size() < 9 + len) break;
            pending_.push_back(parse(head, Bytes(split_.begin() + 9, split_.begin() + 9 + static_cast<std::ptrdiff_t>(len))));
            split_.erase(split_.begin(), split_.begin() + 9 + static_cast<std::ptrdiff_t>(len));
        }
    }

    int fd_;
    Bytes split_;
    std::deque<Frame> pending_;
};

/// Accepts connections on 127.0.0.1 and runs `script(conn, number)` for each (1-based) in its
/// own thread. An exception from the script (e.g. the client closed) ends that connection.
class RawServer {
public:
    using Script = std::function<void(RawConn&, int)>;

    explicit RawServer(Script script) : script_(std::move(script)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
            throw std::runtime_error("raw server: cannot listen");
        socklen_t len = sizeof addr;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~RawServer() { stop(); }

    void stop() {
        if (stopped_.exchange(true)) return;
        ::shutdown(listen_fd_, SHUT_RDWR);
        ::close(listen_fd_);
        acceptor_.join();
        {
            std::lock_guard lock(mutex_);
            for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
        }
        for (auto& t : threads_) t.join();
    }

    std::uint16_t port() const { return port_; }
    int connections() const { return connections_.load(); }
    /// Script failures (other than the client closing), for assertions.
    std::vector<std::string> errors() const {
        std::lock_guard lock(mutex_);
        return errors_;
    }

private:
    void accept_loop() {
        for (;;) {
            const int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            const int number = ++connections_;
            std::lock_guard lock(mutex_);
            fds_.push_back(fd);
            threads_.emplace_back([this, fd, number] {
                RawConn conn(fd);
                try {
                    script_(conn, number);
                } catch (const std::exception& e) {
                    if (std::string(e.what()).find("closed by the client") == std::string::npos) {
                        std::lock_guard lock(mutex_);
                        errors_.push_back(e.what());
                    }
                }
            });
        }
    }

    Script script_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread acceptor_;
    std::vector<std::thread> threads_;
    std::vector<int> fds_;
    mutable std::mutex mutex_;
    std::vector<std::string> errors_;
    std::atomic<int> connections_{0};
    std::atomic<bool> stopped_{false};
};

// ------------------------------------------------------------ bodies, in spec notation

/// v4 4.2.4 SUPPORTED: [string multimap] (what Cassandra's OptionsMessage answers).
inline Bytes supported_body(bool lz4 = false) {
    Golden g;
    g.u16(2).str("COMPRESSION");
    if (lz4) g.u16(1).str("lz4");
    else g.u16(0);
    g.str("CQL_VERSION").u16(1).str("3.0.0");
    return g.build();
}

/// v4 4.2.5.1 RESULT Void: [int] 0x0001.
inline Bytes void_result() { return Golden().i32(1).build(); }

/// The handshake of a server without authentication: OPTIONS -> SUPPORTED, STARTUP -> READY
/// (v4 4.1.1-4.2.2; v5 2.3.1: framing starts after READY). Returns the negotiated version.
inline int handshake(RawConn& c, const Bytes& ready_extra = {}) {
    for (;;) {
        Frame f = c.read();
        const int v = f.version & 0x7F;
        const auto rv = static_cast<std::uint8_t>(0x80 | v);
        if (f.opcode == kOptions) {
            c.send(envelope(rv, 0, f.stream, kSupported, supported_body()));
        } else if (f.opcode == kStartup) {
            c.send(envelope(rv, 0, f.stream, kReady, ready_extra));
            c.framed = v == 5;
            return v;
        } else {
            throw std::runtime_error("raw server: unexpected opcode before STARTUP");
        }
    }
}

}  // namespace conformance
