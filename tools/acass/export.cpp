#include "export.hpp"

#include "server_warnings.hpp"
#include "column_list.hpp"
#include "count.hpp"
#include "errors.hpp"
#include "file_guard.hpp"
#include "formats.hpp"
#include "progress.hpp"
#include "reads.hpp"
#include "resume_file.hpp"

#include <async_cassandra/scan.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace acass_cli {

namespace ac = async_cassandra;

void add_export_flags(CLI::App& app, ExportOptions& o) {
    auto* query = app.add_option("--query", o.query, "SELECT statement to export");
    auto* table =
        app.add_option("--table", o.table, "Export a whole table: KEYSPACE.TABLE (or TABLE with --keyspace)");
    query->excludes(table);
    table->excludes(query);
    app.add_option("--columns", o.columns, "With --table: export only these columns, e.g. id,name (CQL names)")
        ->needs(table);
    app.add_option("--where", o.where, "With --table: only rows matching this CQL condition, e.g. \"pk = 3\"")
        ->needs(table);
    app.add_option("-o,--out", o.out, "Output file ('-' = standard output)")->required();
    app.add_option("-f,--format", o.format, "csv, jsonl, avro or parquet (default: by the --out extension, else csv)")
        ->check(CLI::IsMember({"csv", "jsonl", "json", "avro", "parquet"}));
    app.add_option("--row-group-size", o.row_group_size, "Parquet: bytes buffered per row group (e.g. 64MB)")
        ->default_val("128MB");
    app.add_option("--row-group-rows", o.row_group_rows, "Parquet: also end a row group after N rows (0 = size only)")
        ->default_val(0)
        ->check(CLI::NonNegativeNumber);
    app.add_option("--parquet-compression", o.parquet_compression, "Parquet page compression: snappy or none")
        ->default_val("snappy")
        ->check(CLI::IsMember({"snappy", "none"}));
    app.add_option("--parquet-decimal", o.parquet_decimal,
                   "Parquet decimal and varint columns: auto (DECIMAL while every value fits, else text), text, "
                   "or decimal (DECIMAL or exit 9)")
        ->default_val("auto")
        ->check(CLI::IsMember({"auto", "text", "decimal"}));
    app.add_option("--fetch-size", o.fetch_size, "Rows per page")
        ->default_val(5000)
        ->check(CLI::Range(1, 1 << 30));
    app.add_option("--prefetch", o.prefetch, "Pages fetched ahead of the writer")
        ->default_val(1)
        ->check(CLI::Range(0, 64));
    app.add_option("--resume-file", o.resume_file,
                   "Record the position after each page here; an existing file continues the export");
    auto* splits = app.add_option("--splits", o.splits,
                                  "Export a whole table as N token ranges streamed in parallel (--table, or --query "
                                  "SELECT cols FROM table); row order across ranges is not kept")
                       ->check(CLI::Range(std::size_t{1}, ac::max_token_splits));
    app.add_option("--concurrency", o.concurrency, "Token ranges streamed at once (with --splits)")
        ->default_val(4)
        ->check(CLI::Range(1, 1024))
        ->needs(splits);
    app.add_option("--fsync-interval", o.fsync_interval,
                   "Seconds between fsyncs of the output and the resume file (with --splits; 0 = every save)")
        ->default_val(5)
        ->check(CLI::Range(0.0, 86400.0))
        ->needs(splits);
    add_csv_dialect_flags(app, o.csv);
    app.add_flag("--count", o.count, "Run SELECT COUNT(*) first, for a progress bar with an ETA");
    app.add_flag("-q,--quiet", o.quiet, "No progress line and no summary");
    app.add_option("--stop-after-pages", o.stop_after_pages,
                   "Testing hook: stop after N pages as if interrupted (exit 130, resume file valid)")
        ->check(CLI::PositiveNumber)
        ->group("Testing");
}

std::int64_t parse_byte_size(const std::string& text, const std::string& option) {
    std::size_t used = 0;
    double number = 0;
    try {
        number = std::stod(text, &used);
    } catch (const std::exception&) {
        throw CliUsageError(option + ": not a size: '" + text + "'");
    }
    std::string unit = text.substr(used);
    for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    double scale = 1;
    if (unit == "K" || unit == "KB" || unit == "KIB") scale = 1024.0;
    else if (unit == "M" || unit == "MB" || unit == "MIB") scale = 1024.0 * 1024;
    else if (unit == "G" || unit == "GB" || unit == "GIB") scale = 1024.0 * 1024 * 1024;
    else if (!unit.empty() && unit != "B") throw CliUsageError(option + ": unknown unit in '" + text + "'");
    const double bytes = number * scale;
    if (!(bytes >= 1) || bytes > 1e15) throw CliUsageError(option + ": out of range: '" + text + "'");
    return static_cast<std::int64_t>(bytes);
}

WriterOptions writer_options(const ExportOptions& o) {
    WriterOptions w;
    w.parquet.row_group_bytes = parse_byte_size(o.row_group_size, "--row-group-size");
    w.parquet.row_group_rows = o.row_group_rows;
    w.parquet.compression = parse_parquet_compression(o.parquet_compression);
    w.parquet.decimal_as_text = o.parquet_decimal == "text";
    w.parquet.decimal_strict = o.parquet_decimal == "decimal";
    w.csv = o.csv;
    return w;
}

void restore_output_size(const std::string& path, std::int64_t bytes) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw_file_error(path, "find the output file to continue");
    if (st.st_size < bytes)
        throw FileError("output file " + path + " is shorter (" + std::to_string(st.st_size) +
                        " bytes) than the resume file records (" + std::to_string(bytes) +
                        "); it was modified");
    if (st.st_size > bytes && ::truncate(path.c_str(), bytes) != 0) throw_file_error(path, "truncate");
}

namespace {

void print_summary(const ExportOptions& o, const Progress& progress, std::int64_t rows, std::int64_t pages,
                   std::int64_t bytes, std::int64_t resumed_rows, bool stopped) {
    const double seconds = progress.seconds();
    const double rate = seconds > 0 ? static_cast<double>(rows) / seconds : 0;
    const double mb_rate = seconds > 0 ? static_cast<double>(bytes) / (1024.0 * 1024.0) / seconds : 0;
    std::fprintf(
        stderr,
        "acass export: %s %lld rows, %lld pages, %s in %.2f s (%.0f rows/s, %.2f MB/s), peak RSS %.1f MB -> "
        "%s%s\n",
        stopped ? "stopped after" : "exported", static_cast<long long>(rows), static_cast<long long>(pages),
        format_megabytes(bytes).c_str(), seconds, rate, mb_rate, peak_rss_mb(), o.out.c_str(),
        resumed_rows > 0 ? (" (resumed after row " + std::to_string(resumed_rows) + ")").c_str() : "");
    if (stopped && !o.resume_file.empty())
        std::fprintf(stderr, "acass export: run the same command again to continue from %s\n",
                     o.resume_file.c_str());
}

}  // namespace

asio::awaitable<int> run_export(CommandContext& context, const ExportOptions& o) {
    if (o.splits > 0) co_return co_await run_parallel_export(context, o);
    if (o.query.empty() == o.table.empty()) throw CliUsageError("give exactly one of --query or --table");
    const Format format = format_for(o.format, o.out);
    WriterOptions writer_settings = writer_options(o);
    std::string statement_text = o.query;
    std::string record_name = "row";
    if (!o.table.empty()) {
        const TableName table = parse_table_name(o.table, context.connection.keyspace);
        std::string select_list = o.columns.empty() ? "*" : "";
        if (!o.columns.empty())
            for (const std::string& name : split_column_list(o.columns)) select_list += (select_list.empty() ? "" : ", ") + name;
        statement_text = "SELECT " + select_list + " FROM " +
                         table.cql() + (o.where.empty() ? "" : " WHERE " + o.where);
        record_name = table.table;
    }
    if (!o.resume_file.empty() && o.out == "-")
        throw CliUsageError("--resume-file needs --out FILE (not standard output)");
    refuse_same_files({{"--out", o.out}, {"--resume-file", o.resume_file}});

    std::optional<ResumeFile> resume_file;
    std::optional<ResumeState> resumed;
    if (!o.resume_file.empty()) {
        resume_file.emplace(o.resume_file);  // locked until the export ends
        resumed = load_resume_state(*resume_file);
    }
    if (resumed) {
        if (resumed->query != statement_text || resumed->format != to_string(format))
            throw CliUsageError("resume file " + o.resume_file + " belongs to another export (" +
                                resumed->format + ": " + resumed->query + "); delete it to start over");
    }

    std::optional<std::int64_t> total;
    if (o.count) {
        std::int64_t counted =
            co_await server_side_count(context.session, count_statement_for(statement_text));
        total = counted - (resumed ? resumed->rows : 0);
    }

    // Preparing gives the result columns before the first row: the CSV header and the Avro
    // schema exist even for an empty result.
    ac::PreparedStatement prepared = co_await context.session.prepare(statement_text);
    const auto columns = prepared.result_columns();
    if (!columns || columns->empty())
        throw CliUsageError("export needs a statement that returns rows: " + statement_text);

    // (Parquet cuts its file itself: after a rewrite the file to cut may be the one set aside.)
    if (resumed && format != Format::parquet) restore_output_size(o.out, resumed->bytes);
    if (resumed) writer_settings.resume_state = resumed->writer_state;
    auto writer = open_writer(format, o.out, *columns, record_name, resumed.has_value(), writer_settings);
    if (resumed && resumed->point.finished) {
        // The run may have died after recording the end but before finishing the file (the
        // Parquet footer): finishing it again from the recorded size leaves a whole file.
        writer->close();
        std::fprintf(stderr, "acass export: %s says this export is complete (%lld rows); delete it to export again\n",
                     o.resume_file.c_str(), static_cast<long long>(resumed->rows));
        co_return exit_ok;
    }

    ResumeState state;
    state.format = to_string(format);
    state.query = statement_text;
    if (resumed) state = *resumed;
    const std::int64_t resumed_rows = state.rows;
    auto record = [&](const ac::ResumePoint& point) {
        // Parquet: only at a row group boundary (the rows after it are fetched again).
        if (!resume_file || !writer->all_committed()) return;
        state.point = point;
        state.bytes = writer->committed_bytes();
        state.writer_state = writer->resume_state();
        save_resume_state(*resume_file, state);
    };
    if (!resumed) {
        writer->flush();
        record(ac::ResumePoint{});  // the header alone: a rerun continues with the first page
    }

    ac::StreamConfig config;
    config.fetch_size = o.fetch_size;
    config.prefetch_pages = o.prefetch;
    if (resumed) config = config.resume_from(resumed->point);
    ac::BoundStatement bound = prepared.bind();
    // A SELECT only reads: the driver retries a page after a timeout or an Overloaded answer.
    if (is_select(statement_text)) bound.set_idempotent(true);
    ac::ResultStream stream = co_await ac::execute_stream(context.session, bound, config);
    ServerWarnings warnings;  // to stderr, once per distinct text

    Progress progress(!o.quiet && Progress::stderr_is_tty(), total);
    std::int64_t rows = 0, pages = 0;
    bool stopped = false;
    for (;;) {
        if (context.interruption.requested || (o.stop_after_pages > 0 && pages >= o.stop_after_pages)) {
            stopped = true;
            break;
        }
        std::optional<ac::Page> page = co_await stream.next_page();
        if (!page) break;
        warnings.report(*page);
        writer->write_page(*page);
        writer->flush();
        rows += static_cast<std::int64_t>(page->size());
        ++pages;
        state.rows += static_cast<std::int64_t>(page->size());
        state.pages += 1;
        record(stream.resume_point());
        progress.update(rows, writer->bytes() - (resumed ? resumed->bytes : 0), pages);
    }
    writer->commit();  // Parquet: the buffered rows as a last row group, so that a rerun keeps them
    record(stream.resume_point());  // when finished, a rerun exports nothing
    co_await stream.close();
    writer->close();
    progress.finish();
    if (!o.quiet)
        print_summary(o, progress, rows, pages, writer->bytes() - (resumed ? resumed->bytes : 0),
                      resumed_rows, stopped);
    co_return stopped ? exit_interrupted : exit_ok;
}

}  // namespace acass_cli
