// Export to CSV page by page: each page is formatted into one buffer and written with one call,
// so the file grows page by page while memory holds about two pages.
//
// The writer follows RFC 4180: comma-separated, CRLF line ends, a header line, a field quoted
// when it holds a comma, a quote, CR or LF (quotes doubled inside). A null is an empty field.
// (The `acass export` command is the complete tool: every CQL type, JSON lines, Avro, resume.)
//
//   export_csv --host H --port P [--rows-expected N] [--fetch-size 5000] [--out FILE]
//
// Without --out the file is a temporary one, removed at exit. Checks: the file, read back with
// an RFC 4180 reader, holds exactly the rows streamed (and --rows-expected), each row's name
// field matching its pk and ck.
#include "example_support.hpp"

#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>

namespace ac = async_cassandra;
using example::Args;

namespace {

/// Appends `field` to `out`, quoted only when RFC 4180 requires it.
void append_csv_field(std::string& out, std::string_view field) {
    if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
        out += field;
        return;
    }
    out += '"';
    for (char c : field) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

/// One cell as CSV text: numbers in their shortest exact form, timestamps as ISO 8601 UTC, text
/// as is; other types fall back to their JSON text.
std::string cell_text(const ac::Row& row, std::size_t i) {
    if (row.is_null(i)) return {};
    char buf[64];
    switch (row.columns()[i].type->kind) {
        case ac::TypeKind::ascii:
        case ac::TypeKind::varchar:
            return std::string(row.get<std::string_view>(i));
        case ac::TypeKind::bigint:
            return std::to_string(row.get<std::int64_t>(i));
        case ac::TypeKind::int_:
            return std::to_string(row.get<std::int32_t>(i));
        case ac::TypeKind::double_: {
            auto end = std::to_chars(buf, buf + sizeof buf, row.get<double>(i)).ptr;
            return std::string(buf, end);
        }
        case ac::TypeKind::timestamp: {
            const std::int64_t ms = row.get<ac::Timestamp>(i).milliseconds;
            const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
            std::tm tm{};
            gmtime_r(&secs, &tm);
            const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
            std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(((ms % 1000) + 1000) % 1000));
            return buf;
        }
        default:
            return row.to_json(i);
    }
}

/// Reads an RFC 4180 file back record by record (one record in memory at a time), calling
/// `on_record(fields)` for each.
template <class OnRecord>
void for_each_csv_record(const std::string& path, OnRecord on_record) {
    std::ifstream in(path, std::ios::binary);
    std::istreambuf_iterator<char> it(in), end;
    std::vector<std::string> record;
    std::string field;
    bool quoted = false;
    bool pending = false;  // a record has started and not ended
    while (it != end) {
        const char c = *it++;
        pending = true;
        if (quoted) {
            if (c != '"') {
                field += c;
            } else if (it != end && *it == '"') {  // "" inside quotes is one quote
                field += '"';
                ++it;
            } else {
                quoted = false;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            record.push_back(std::move(field));
            field.clear();
        } else if (c == '\r' && it != end && *it == '\n') {
            ++it;
            record.push_back(std::move(field));
            field.clear();
            on_record(record);
            record.clear();
            pending = false;
        } else {
            field += c;
        }
    }
    if (pending) {  // a last line without CRLF
        record.push_back(std::move(field));
        on_record(record);
    }
}

/// Removes a temporary file when the example leaves, whatever the path out.
struct TemporaryFile {
    std::string path;
    bool remove_at_exit = false;
    ~TemporaryFile() {
        if (remove_at_exit) ::unlink(path.c_str());
    }
};

asio::awaitable<int> export_to_csv(ac::Session session, Args args) {
    const auto expected = args.optional_int_flag("rows-expected");
    const auto fetch_size = static_cast<std::int32_t>(args.int_flag("fetch-size", 5000));
    TemporaryFile file;
    file.path = args.text_flag("out", "");
    args.reject_unknown();
    if (file.path.empty()) {
        file.path = "/tmp/export_csv_" + std::to_string(::getpid()) + ".csv";
        file.remove_at_exit = true;
    }

    ac::StreamConfig config;
    config.fetch_size = fetch_size;
    ac::Statement query("SELECT pk, ck, name, value, ts FROM synthetic.rows");

    std::int64_t rows_written = 0;
    std::int64_t bytes_written = 0;
    const auto start = example::Clock::now();
    {
        std::ofstream out(file.path, std::ios::binary | std::ios::trunc);  // closed at block end
        if (!out) co_return example::fail("cannot open " + file.path);
        ac::ResultStream stream = co_await session.execute_stream(query, config);  // closed at block end
        std::string buffer;
        bool header_written = false;
        while (auto page = co_await stream.next_page()) {
            buffer.clear();
            if (!header_written) {
                for (std::size_t c = 0; c < page->columns().size(); ++c) {
                    if (c > 0) buffer += ',';
                    append_csv_field(buffer, page->columns()[c].name);
                }
                buffer += "\r\n";
                header_written = true;
            }
            for (std::size_t r = 0; r < page->size(); ++r) {
                const ac::Row row = (*page)[r];
                for (std::size_t c = 0; c < row.size(); ++c) {
                    if (c > 0) buffer += ',';
                    append_csv_field(buffer, cell_text(row, c));
                }
                buffer += "\r\n";
            }
            out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            if (!out) co_return example::fail("write to " + file.path + " failed");
            rows_written += static_cast<std::int64_t>(page->size());
            bytes_written += static_cast<std::int64_t>(buffer.size());
            std::printf("page %3lld: %7lld rows, %9lld bytes written\n",
                        static_cast<long long>(stream.page_number()), static_cast<long long>(rows_written),
                        static_cast<long long>(bytes_written));
        }
    }
    const double seconds = example::seconds_since(start);
    std::printf("exported %lld rows (%.2f MB) to %s in %.3f s\n", static_cast<long long>(rows_written),
                static_cast<double>(bytes_written) / 1e6, file.path.c_str(), seconds);

    // Verify what is on disk, not what we think we wrote.
    std::int64_t records = 0;
    std::int64_t bad_records = 0;
    bool header_ok = false;
    for_each_csv_record(file.path, [&](const std::vector<std::string>& rec) {
        if (records++ == 0) {
            header_ok = rec == std::vector<std::string>{"pk", "ck", "name", "value", "ts"};
            return;
        }
        if (rec.size() != 5 || rec[2] != "name-" + rec[0] + "-" + rec[1]) ++bad_records;
    });
    const std::int64_t data_records = records - 1;
    if (!header_ok) co_return example::fail("missing or wrong header line");
    if (bad_records != 0) co_return example::fail(std::to_string(bad_records) + " malformed records");
    if (data_records != rows_written)
        co_return example::fail("file has " + std::to_string(data_records) + " records, streamed " +
                                std::to_string(rows_written));
    if (expected && rows_written != *expected)
        co_return example::fail("exported " + std::to_string(rows_written) + ", expected " +
                                std::to_string(*expected));
    std::printf("verified: %lld records read back\n", static_cast<long long>(data_records));
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run(argc, argv, export_to_csv);
}
