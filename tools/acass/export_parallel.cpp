// `acass export --splits N`: a whole table read as N token ranges (aligned to the nodes' tokens
// when system.local/system.peers give them), `--concurrency` ranges streamed at once through
// scan_table, every page written whole by the one writer of the output file.
//
// Resume design (tools/README.md, "Parallel export"): one output file and one resume file (the
// manifest). The writer appends whole pages, one at a time, so at any moment the file holds, for
// every range, exactly the pages delivered so far; the manifest records each range's row-exact
// ResumePoint together with the file size that goes with them, saved atomically (temporary file
// + rename) after every flushed page (Parquet: after every row group) and fsync'ed, output first,
// every --fsync-interval seconds. A rerun cuts the output back to the recorded size and continues
// every unfinished range from its point: the same set of rows as an uninterrupted export.
//
// Manifest (text):
//   acass-parallel-resume-1
//   format <csv|jsonl|avro|parquet>
//   query <statement, backslash-escaped>
//   rows <rows written>
//   bytes <committed output size>
//   ranges <count>
//   range <start> <end> <ResumePoint::to_string()>      (one line per range, in order)
//   writer <RowWriter::resume_state()>                   (Parquet only)

#include "export.hpp"

#include "column_list.hpp"
#include "count.hpp"
#include "errors.hpp"
#include "file_guard.hpp"
#include "formats.hpp"
#include "progress.hpp"
#include "resume_file.hpp"

#include <async_cassandra/scan.hpp>
#include <async_cassandra/server_errors.hpp>
#include <async_cassandra/text_codec.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <sstream>

namespace acass_cli {

namespace ac = async_cassandra;

namespace {

constexpr const char* kMagic = "acass-parallel-resume-1";

struct ParallelResume {
    std::string format;
    std::string query;
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
    std::vector<ac::TokenRange> ranges;
    std::vector<ac::ResumePoint> points;
    std::string writer_state;
};

std::string manifest_text(const ParallelResume& s) {
    std::ostringstream text;
    text << kMagic << '\n'
         << "format " << s.format << '\n'
         << "query " << escape_resume_text(s.query) << '\n'
         << "rows " << s.rows << '\n'
         << "bytes " << s.bytes << '\n'
         << "ranges " << s.ranges.size() << '\n';
    for (std::size_t i = 0; i < s.ranges.size(); ++i)
        text << "range " << s.ranges[i].start << ' ' << s.ranges[i].end << ' ' << s.points[i].to_string() << '\n';
    if (!s.writer_state.empty()) text << "writer " << s.writer_state << '\n';
    return text.str();
}

std::optional<ParallelResume> load_manifest(const ResumeFile& file) {
    const std::string& path = file.path();
    std::istringstream in(file.read());
    std::string line;
    if (!std::getline(in, line) || line.empty()) return std::nullopt;
    if (line != kMagic)
        throw CliUsageError("resume file " + path +
                            " was not written by an export with --splits; delete it or drop --splits");
    ParallelResume s;
    std::size_t declared = 0;
    bool have_bytes = false;
    try {
        while (std::getline(in, line)) {
            const auto space = line.find(' ');
            const std::string key = line.substr(0, space);
            const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
            if (key == "format") s.format = value;
            else if (key == "query") s.query = unescape_resume_text(value);
            else if (key == "rows") s.rows = std::stoll(value);
            else if (key == "bytes") s.bytes = std::stoll(value), have_bytes = true;
            else if (key == "ranges") declared = std::stoull(value);
            else if (key == "writer") s.writer_state = value;
            else if (key == "range") {
                std::istringstream fields(value);
                ac::TokenRange r;
                fields >> r.start >> r.end;
                std::string point;
                std::getline(fields, point);
                if (!fields.eof() && fields.fail()) throw std::invalid_argument("range");
                s.ranges.push_back(r);
                s.points.push_back(ac::ResumePoint::from_string(point.substr(point.find_first_not_of(' '))));
            }
        }
    } catch (const std::exception& e) {
        throw FileError("resume file " + path + " is not valid: " + e.what() + " (line '" + line + "')");
    }
    if (!have_bytes || s.ranges.empty() || s.ranges.size() != declared)
        throw FileError("resume file " + path + " is not valid: bytes or ranges missing");
    return s;
}

// `SELECT * | a, b, "C" FROM table [;]`: the only query shape a token-range scan can take over.
void parse_simple_select(const std::string& query, std::string& table, std::vector<std::string>& columns) {
    std::string lower = query;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto bad = [&] {
        return CliUsageError("--splits needs --table, or a --query of the form SELECT cols FROM table "
                             "(no WHERE, LIMIT or other clause): " + query);
    };
    std::size_t start = lower.find_first_not_of(" \t\n");
    if (start == std::string::npos || lower.compare(start, 7, "select ") != 0) throw bad();
    const std::size_t from = lower.find(" from ", start);
    if (from == std::string::npos) throw bad();
    std::string rest = query.substr(from + 6);
    while (!rest.empty() && (std::isspace(static_cast<unsigned char>(rest.back())) || rest.back() == ';')) rest.pop_back();
    rest.erase(0, rest.find_first_not_of(" \t\n"));
    bool quoted = false;
    for (char c : rest) {
        if (c == '"') quoted = !quoted;
        if (!quoted && std::isspace(static_cast<unsigned char>(c))) throw bad();
    }
    if (rest.empty()) throw bad();
    table = rest;
    std::string list = query.substr(start + 7, from - start - 7);
    std::stringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t\n"));
        item.erase(item.find_last_not_of(" \t\n") + 1);
        if (item == "*" && columns.empty() && list.find(',') == std::string::npos) return;
        if (item.empty() || item.find('(') != std::string::npos) throw bad();
        columns.push_back(ac::unquote_cql_identifier(item));
    }
}

// Saves the manifest atomically; with `durable`, fsyncs the output first, then the manifest.
void save_manifest(ResumeFile& file, const std::string& output, const ParallelResume& state, bool durable) {
    if (durable) {
        const int fd = ::open(output.c_str(), O_RDONLY);
        if (fd < 0 || ::fsync(fd) != 0) {
            if (fd >= 0) ::close(fd);
            throw_file_error(output, "fsync the output file");
        }
        ::close(fd);
    }
    file.replace(manifest_text(state), durable);
}

struct Interrupted {};

// "ranges 5/16 done  #3 12.0k #7 800" for the progress line: the rows of the running ranges.
std::string ranges_detail(const std::vector<std::int64_t>& rows, const std::vector<ac::ResumePoint>& points) {
    std::size_t done = 0;
    std::string running;
    int shown = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (points[i].finished) ++done;
        else if (rows[i] > 0 && shown++ < 6) {
            char buf[48];
            std::snprintf(buf, sizeof buf, " #%zu %.1fk", i, static_cast<double>(rows[i]) / 1000.0);
            running += buf;
        }
    }
    return "ranges " + std::to_string(done) + "/" + std::to_string(points.size()) + " done" + running;
}

}  // namespace

asio::awaitable<int> run_parallel_export(CommandContext& context, const ExportOptions& o) {
    if (o.query.empty() == o.table.empty()) throw CliUsageError("give exactly one of --query or --table");
    if (o.out == "-") throw CliUsageError("--splits needs --out FILE (pages of different ranges are written as they come)");
    std::string table_cql;
    std::vector<std::string> columns;
    std::string record_name = "row";
    if (!o.table.empty()) {
        const TableName table = parse_table_name(o.table, context.connection.keyspace);
        table_cql = table.cql();
        record_name = table.table;
    } else {
        parse_simple_select(o.query, table_cql, columns);
    }
    if (!o.where.empty()) throw CliUsageError("--where cannot be combined with --splits (each range is a token-range scan)");
    if (!o.columns.empty()) {  // with --table (CLI11 checks)
        for (const std::string& name : split_column_list(o.columns)) columns.push_back(ac::unquote_cql_identifier(name));
    }
    // The statement each range runs (with its token bounds), also the manifest's identity.
    std::string statement_text = "SELECT ";
    for (std::size_t i = 0; i < columns.size(); ++i) statement_text += (i ? ", " : "") + ac::quote_cql_identifier(columns[i]);
    statement_text += (columns.empty() ? "* FROM " : " FROM ") + table_cql;
    const Format format = format_for(o.format, o.out);
    WriterOptions writer_settings = writer_options(o);

    refuse_same_files({{"--out", o.out}, {"--resume-file", o.resume_file}});
    std::optional<ResumeFile> resume_file;  // locked until the export ends: a second run is refused
    std::optional<ParallelResume> resumed;
    if (!o.resume_file.empty()) {
        resume_file.emplace(o.resume_file);
        resumed = load_manifest(*resume_file);
    }
    if (resumed) {
        if (resumed->query != statement_text || resumed->format != to_string(format))
            throw CliUsageError("resume file " + o.resume_file + " belongs to another export (" + resumed->format +
                                ": " + resumed->query + "); delete it to start over");
        if (resumed->ranges.size() != o.splits && !o.quiet)
            std::fprintf(stderr, "acass export: continuing the %zu token ranges recorded in %s\n", resumed->ranges.size(),
                         o.resume_file.c_str());
    }

    std::optional<std::int64_t> total;
    if (o.count) total = co_await server_side_count(context.session, "SELECT COUNT(*) FROM " + table_cql);

    ac::PreparedStatement prepared = co_await context.session.prepare(statement_text);
    const auto result_columns = prepared.result_columns();
    if (!result_columns || result_columns->empty()) throw CliUsageError("no columns to export: " + statement_text);

    ParallelResume state;
    if (resumed) {
        state = *resumed;
    } else {
        state.format = to_string(format);
        state.query = statement_text;
        state.ranges = ac::split_token_ring_aligned(o.splits, co_await ring_tokens(context));
        state.points.assign(state.ranges.size(), ac::ResumePoint{});
    }
    if (resumed) {
        if (format != Format::parquet) restore_output_size(o.out, resumed->bytes);  // (Parquet: the writer)
        writer_settings.resume_state = resumed->writer_state;
    }
    auto writer = open_writer(format, o.out, *result_columns, record_name, resumed.has_value(), writer_settings);
    if (resumed && std::all_of(resumed->points.begin(), resumed->points.end(), [](const auto& p) { return p.finished; })) {
        // Every range was done, but the run may have died before the file was finished (the
        // Parquet footer is written after the last manifest save): cut back to the recorded
        // size and finish it again, which leaves a finished file as it was.
        writer->close();
        std::fprintf(stderr, "acass export: %s says this export is complete (%lld rows); delete it to export again\n",
                     o.resume_file.c_str(), static_cast<long long>(resumed->rows));
        co_return exit_ok;
    }

    using Clock = std::chrono::steady_clock;
    const auto fsync_interval = std::chrono::duration<double>(o.fsync_interval);
    auto last_fsync = Clock::now();
    auto save = [&](bool force_durable) {
        if (!resume_file || !writer->all_committed()) return;  // Parquet: only at a row group's end
        state.bytes = writer->committed_bytes();
        state.writer_state = writer->resume_state();
        const bool durable = force_durable || Clock::now() - last_fsync >= fsync_interval;
        save_manifest(*resume_file, o.out, state, durable);
        if (durable) last_fsync = Clock::now();
    };
    if (!resumed) {
        writer->flush();
        save(true);  // the header alone: a rerun starts every range from its beginning
    }

    ac::ScanConfig config;
    config.table = table_cql;
    config.columns = columns;
    config.ranges = state.ranges;
    config.resume = state.points;
    config.concurrency = o.concurrency;
    config.stream.fetch_size = o.fetch_size;
    config.stream.prefetch_pages = o.prefetch;

    Progress progress(!o.quiet && Progress::stderr_is_tty(), total ? std::optional(*total - state.rows) : std::nullopt);
    const std::int64_t resumed_rows = state.rows;
    const std::int64_t start_bytes = writer->bytes();
    std::vector<std::int64_t> range_rows(state.ranges.size(), 0);
    std::int64_t rows = 0, pages = 0;
    bool stopped = false;
    std::exception_ptr failure;
    try {
        co_await ac::scan_table(context.session, config,
                                [&](std::size_t split, const ac::Page& page, const ac::ResumePoint& after) {
                                    if (!page.empty()) {
                                        writer->write_page(page);  // whole pages: ranges never mix within a row
                                        writer->flush();
                                        rows += static_cast<std::int64_t>(page.size());
                                        range_rows[split] += static_cast<std::int64_t>(page.size());
                                        state.rows += static_cast<std::int64_t>(page.size());
                                        ++pages;
                                    }
                                    state.points[split] = after;
                                    save(false);
                                    progress.set_detail(ranges_detail(range_rows, state.points));
                                    progress.update(rows, writer->bytes() - start_bytes, pages);
                                    if (context.interruption.requested ||
                                        (o.stop_after_pages > 0 && pages >= o.stop_after_pages))
                                        throw Interrupted{};
                                });
    } catch (const Interrupted&) {
        stopped = true;  // scan_table has stopped every range before rethrowing
    } catch (...) {
        failure = std::current_exception();  // a range failed beyond its retries: keep what was written
    }
    writer->commit();  // Parquet: the buffered rows as a last row group, so that a rerun keeps them
    save(true);
    writer->close();
    progress.finish();
    if (failure) {
        if (!o.resume_file.empty())
            std::fprintf(stderr, "acass export: stopped by an error; run the same command again to continue from %s\n",
                         o.resume_file.c_str());
        std::rethrow_exception(failure);
    }
    if (!o.quiet) {
        const double seconds = progress.seconds();
        const std::int64_t bytes = writer->bytes() - start_bytes;
        std::size_t done = 0;
        for (const auto& p : state.points) done += p.finished ? 1 : 0;
        std::fprintf(stderr,
                     "acass export: %s %lld rows, %lld pages, %s in %.2f s (%.0f rows/s), %zu/%zu token ranges done "
                     "(%zu at once), peak RSS %.1f MB -> %s%s\n",
                     stopped ? "stopped after" : "exported", static_cast<long long>(rows), static_cast<long long>(pages),
                     format_megabytes(bytes).c_str(), seconds, seconds > 0 ? static_cast<double>(rows) / seconds : 0,
                     done, state.points.size(), o.concurrency, peak_rss_mb(), o.out.c_str(),
                     resumed_rows > 0 ? (" (resumed after " + std::to_string(resumed_rows) + " rows)").c_str() : "");
        if (stopped && !o.resume_file.empty())
            std::fprintf(stderr, "acass export: run the same command again to continue from %s\n", o.resume_file.c_str());
    }
    co_return stopped ? exit_interrupted : exit_ok;
}

}  // namespace acass_cli
