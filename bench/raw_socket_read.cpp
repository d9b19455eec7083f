// raw_socket_read: the "limit" peer of bench_streaming (issue 6). It pages through a query with
// the least client work the protocol allows, so that the time it takes is what the network, the
// kernel and the server cost for that byte volume:
//
//   - one blocking TCP socket (no event loop, no coroutines, no threads);
//   - OPTIONS, STARTUP, then QUERY with page_size and the paging state of the previous page;
//   - each response is framed with the pure protocol layer (protocol::FrameDecoder: v4 bodies are
//     read straight into their buffer; v5 segments are CRC-checked and unpacked, which any valid
//     v5 client must do), and of a Rows body only the metadata is parsed, to find the paging state
//     and the row count. Rows are never looked at.
//
//   raw_socket_read --port P [--host 127.0.0.1] [--query Q] [--fetch-size 5000] [--protocol 4|5]
//                   [--rows-expected N]
//
// Prints "RESULT impl=raw fetch=F rows=R pages=N seconds=S cpu_s=C rps=.. body_bytes=B mbps=.. protocol=V"
// where body_bytes counts the frame bodies of the RESULT responses (envelope headers and v5
// segment framing excluded), mbps = body_bytes / seconds / 1e6 and cpu_s is the process's CPU
// time (user + system) while paging. Exit status 0, 1 if the row
// count differs from --rows-expected, 2 on errors.
#include "protocol/frame.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/messages.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace p = async_cassandra::protocol;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 9042;
    std::string query = "SELECT * FROM synthetic.rows";
    std::int32_t fetch_size = 5000;
    int protocol = 5;
    std::optional<std::int64_t> rows_expected;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "raw_socket_read: %s\nusage: raw_socket_read --port P [--host H] [--query Q] [--fetch-size N] "
                 "[--protocol 4|5] [--rows-expected N]\n",
                 why);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc) usage("missing value after a flag");
        const std::string value = argv[++i];
        if (flag == "--host") o.host = value;
        else if (flag == "--port") o.port = static_cast<std::uint16_t>(std::stoul(value));
        else if (flag == "--query") o.query = value;
        else if (flag == "--fetch-size") o.fetch_size = static_cast<std::int32_t>(std::stol(value));
        else if (flag == "--protocol") o.protocol = std::stoi(value);
        else if (flag == "--rows-expected") o.rows_expected = std::stoll(value);
        else usage("unknown flag");
    }
    if (o.protocol != 4 && o.protocol != 5) usage("--protocol must be 4 or 5");
    if (o.fetch_size <= 0) usage("--fetch-size must be > 0");
    return o;
}

/// A blocking CQL connection that knows just enough to page through one query.
class RawConnection {
public:
    RawConnection(const Options& options) : version_(static_cast<p::ProtocolVersion>(options.protocol)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) fail("socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(options.port);
        if (::inet_pton(AF_INET, options.host.c_str(), &addr.sin_addr) != 1) usage("--host must be an IPv4 address");
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) fail("connect");
        // Requests are small and each waits for its answer: Nagle would only add delay.
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~RawConnection() {
        if (fd_ >= 0) ::close(fd_);
    }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    void handshake() {
        p::OptionsRequest options;
        send(p::Request(options));
        expect(receive(), p::Opcode::supported, "OPTIONS");
        p::StartupRequest startup;
        startup.options["CQL_VERSION"] = "3.0.0";
        send(p::Request(startup));
        expect(receive(), p::Opcode::ready, "STARTUP");
        // v5: everything after READY travels in segments (uncompressed here).
        if (version_ == p::ProtocolVersion::v5) {
            encoder_.enable_segments(p::Compression::none);
            decoder_.enable_segments(p::Compression::none);
        }
    }

    void send(const p::Request& request) {
        p::FrameHeader header;
        header.version = static_cast<std::uint8_t>(version_);
        header.stream = next_stream_;
        header.opcode = p::opcode_of(request);
        next_stream_ = static_cast<std::int16_t>(next_stream_ == 32767 ? 1 : next_stream_ + 1);
        out_.clear();
        p::Bytes& body = encoder_.begin_envelope(out_, header);
        p::ByteWriter writer(body);
        p::encode_request(writer, request, version_);
        encoder_.end_envelope();
        encoder_.flush(out_);
        std::size_t sent = 0;
        while (sent < out_.size()) {
            const ssize_t n = ::send(fd_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) fail("send");
            sent += static_cast<std::size_t>(n);
        }
    }

    /// The next envelope of the connection (one request is in flight at a time, so it answers it).
    p::Envelope receive() {
        for (;;) {
            if (auto envelope = decoder_.next()) return std::move(*envelope);
            auto span = decoder_.prepare();
            const ssize_t n = ::recv(fd_, span.data(), span.size(), 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail("recv");
            if (n == 0) throw std::runtime_error("server closed the connection");
            decoder_.commit(static_cast<std::size_t>(n));
        }
    }

    void expect(const p::Envelope& envelope, p::Opcode opcode, const char* what) {
        if (envelope.header.opcode == opcode) return;
        std::string message = std::string(what) + ": unexpected " + p::to_string(envelope.header.opcode);
        if (envelope.header.opcode == p::Opcode::error) {
            p::ByteReader reader(envelope.body_view());
            p::decode_body_prefix(reader, envelope.header.flags, true);
            const auto response = p::decode_response(p::Opcode::error, reader.rest(), version_);
            message += ": " + std::get<p::ErrorResponse>(response).message;
        }
        throw std::runtime_error(message);
    }

    p::ProtocolVersion version() const noexcept { return version_; }

private:
    [[noreturn]] static void fail(const char* what) { throw std::runtime_error(std::string(what) + ": " + std::strerror(errno)); }

    int fd_ = -1;
    p::ProtocolVersion version_;
    std::int16_t next_stream_ = 1;
    p::FrameDecoder decoder_;
    p::FrameEncoder encoder_;
    p::Bytes out_;
};

/// CPU time (user + system) of this process so far, in seconds.
double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto to_s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return to_s(usage.ru_utime) + to_s(usage.ru_stime);
}

struct Totals {
    std::int64_t rows = 0;
    std::int64_t pages = 0;
    std::uint64_t body_bytes = 0;
};

Totals page_through(RawConnection& connection, const Options& options) {
    Totals totals;
    std::optional<p::Bytes> paging_state;
    do {
        p::QueryRequest query;
        query.query = options.query;
        query.params.consistency = async_cassandra::Consistency::local_one;
        query.params.page_size = options.fetch_size;
        if (paging_state) query.params.paging_state = p::BytesView(*paging_state);
        connection.send(p::Request(query));
        const p::Envelope envelope = connection.receive();
        connection.expect(envelope, p::Opcode::result, "QUERY");
        totals.body_bytes += envelope.header.body_length;
        // Only the head of the body: prefix, result kind, metadata (paging state), row count.
        p::ByteReader reader(envelope.body_view());
        p::decode_body_prefix(reader, envelope.header.flags, true);
        if (reader.read_i32() != 0x0002) throw std::runtime_error("QUERY: not a Rows result");
        p::RowsMetadata metadata = p::decode_rows_metadata(reader, connection.version());
        totals.rows += reader.read_i32();
        ++totals.pages;
        paging_state = std::move(metadata.paging_state);
    } while (paging_state);
    return totals;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    try {
        RawConnection connection(options);
        connection.handshake();
        const auto start = Clock::now();
        const double cpu_before = cpu_seconds();
        const Totals totals = page_through(connection, options);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        const double cpu = cpu_seconds() - cpu_before;
        std::printf("RESULT impl=raw fetch=%d rows=%lld pages=%lld seconds=%.3f cpu_s=%.3f rps=%.0f body_bytes=%llu mbps=%.1f "
                    "protocol=%d\n",
                    static_cast<int>(options.fetch_size), static_cast<long long>(totals.rows),
                    static_cast<long long>(totals.pages), seconds, cpu, static_cast<double>(totals.rows) / seconds,
                    static_cast<unsigned long long>(totals.body_bytes),
                    static_cast<double>(totals.body_bytes) / seconds / 1e6, options.protocol);
        if (options.rows_expected && totals.rows != *options.rows_expected) {
            std::fprintf(stderr, "raw_socket_read: %lld rows, expected %lld\n", static_cast<long long>(totals.rows),
                         static_cast<long long>(*options.rows_expected));
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "raw_socket_read: %s\n", e.what());
        return 2;
    }
}
