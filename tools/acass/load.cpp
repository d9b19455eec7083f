// GCC 12 reports a false -Wmismatched-new-delete on Asio's awaitable frame allocator.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include "load.hpp"

#include "csv.hpp"
#include "errors.hpp"
#include "progress.hpp"

#include <async_cassandra/text_codec.hpp>

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <unordered_map>
#include <vector>

namespace acass_cli {

namespace ac = async_cassandra;

void add_load_flags(CLI::App& app, LoadOptions& o) {
    app.add_option("--table", o.table, "Target KEYSPACE.TABLE (or TABLE with --keyspace)")->required();
    app.add_option("-i,--in", o.in, "Input file ('-' = standard input)")->required();
    app.add_option("-f,--format", o.format, "csv (header line of column names) or jsonl")
        ->default_val("csv")
        ->check(CLI::IsMember({"csv", "jsonl", "json"}));
    app.add_option("-c,--concurrency", o.concurrency, "Requests in flight at once")
        ->default_val(32)
        ->check(CLI::Range(1, 4096));
    app.add_option("--batch-size", o.batch_size, "Rows per UNLOGGED BATCH (1 = single inserts)")
        ->default_val(1)
        ->check(CLI::Range(1, 10000));
    app.add_option("--reject-file", o.reject_file, "Where rejected records go (default: standard error)");
    app.add_flag("-q,--quiet", o.quiet, "No progress line and no summary");
}

namespace {

/// Rejected records, one line each: LINE <TAB> REASON <TAB> RECORD, the record with backslash,
/// tab, CR and LF escaped (\\, \t, \r, \n) so that multi-line CSV records stay on one line.
class RejectLog {
public:
    explicit RejectLog(const std::string& path) : path_(path) {
        if (path.empty()) {
            file_ = stderr;
            return;
        }
        file_ = std::fopen(path.c_str(), "wb");
        if (!file_) throw_file_error(path, "create the reject file");
    }
    ~RejectLog() {
        if (file_ && file_ != stderr) std::fclose(file_);
    }
    void add(std::size_t line, const std::string& reason, const std::string& record) {
        ++count_;
        std::string out = std::to_string(line) + '\t' + escape(reason) + '\t' + escape(record) + '\n';
        if (std::fwrite(out.data(), 1, out.size(), file_) != out.size()) throw_file_error(path_, "write");
    }
    void close() {
        if (file_ && file_ != stderr && std::fclose(file_) != 0) {
            file_ = nullptr;
            throw_file_error(path_, "close");
        }
        if (file_ != stderr) file_ = nullptr;
    }
    std::int64_t count() const { return count_; }

private:
    static std::string escape(const std::string& s) {
        std::string out;
        for (char c : s) {
            if (c == '\\')
                out += "\\\\";
            else if (c == '\t')
                out += "\\t";
            else if (c == '\n')
                out += "\\n";
            else if (c == '\r')
                out += "\\r";
            else
                out += c;
        }
        return out;
    }
    std::string path_;
    FILE* file_ = nullptr;
    std::int64_t count_ = 0;
};

struct Entry {
    std::size_t line = 0;
    std::string raw;
    ac::BoundStatement statement;
};

bool is_text_kind(ac::TypeKind kind) {
    return kind == ac::TypeKind::varchar || kind == ac::TypeKind::ascii;
}

/// Turns input records into bound INSERTs; records that do not parse are rejected here.
class RecordSource {
public:
    /// `csv_reader` (for CSV input) has read the header already.
    RecordSource(std::istream& in, CsvReader* csv_reader, ac::PreparedStatement insert,
                 std::vector<std::string> columns, RejectLog& rejects)
        : in_(in),
          csv_reader_(csv_reader),
          insert_(std::move(insert)),
          columns_(std::move(columns)),
          rejects_(rejects) {
        for (std::size_t i = 0; i < columns_.size(); ++i) index_[columns_[i]] = i;
    }

    /// The next `count` good records (fewer at the end); empty when the input is exhausted.
    std::vector<Entry> next(std::size_t count) {
        std::vector<Entry> entries;
        while (entries.size() < count) {
            std::optional<Entry> e = next_one();
            if (!e) break;
            entries.push_back(std::move(*e));
        }
        return entries;
    }
    std::int64_t records() const { return records_; }

private:
    std::optional<Entry> next_one() {
        for (;;) {
            std::size_t line = 0;
            std::string raw;
            cells_.clear();
            std::string error;
            if (csv_reader_) {
                if (!csv_reader_->next(record_)) return std::nullopt;
                line = record_.line;
                raw = record_.raw;
                error = record_.error.empty() ? encode_csv() : record_.error;
            } else {
                std::string text;
                do {
                    if (!std::getline(in_, text)) return std::nullopt;
                    ++line_;
                } while (text.empty() || text == "\r");
                if (text.back() == '\r') text.pop_back();
                line = line_;
                raw = text;
                error = encode_json(text);
            }
            ++records_;
            if (!error.empty()) {
                rejects_.add(line, error, raw);
                continue;
            }
            // The values are already serialized (from_cql_literal / from_json).
            serialized_.clear();
            for (const auto& v : cells_) {
                if (v.kind == Cell::Kind::unset) serialized_.push_back(ac::SerializedValue::unset());
                else if (v.kind == Cell::Kind::null) serialized_.push_back(ac::SerializedValue::null());
                else serialized_.push_back(ac::SerializedValue::of(ac::protocol::BytesView(v.bytes)));
            }
            ac::BoundStatement statement = insert_.bind_serialized(serialized_);
            statement.set_idempotent(true);
            return Entry{line, std::move(raw), std::move(statement)};
        }
    }

    std::string encode_csv() {
        if (record_.fields.size() != columns_.size())
            return "expected " + std::to_string(columns_.size()) + " fields, got " +
                   std::to_string(record_.fields.size());
        const ac::Columns& markers = insert_.bind_markers();
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            const CsvField& f = record_.fields[i];
            const ac::DataType& type = *markers[i].type;
            Cell cell;
            if (f.text.empty() && !f.quoted) {
                cell.kind = Cell::Kind::null;
            } else if (is_text_kind(type.kind)) {
                cell.bytes.assign(f.text.begin(), f.text.end());
            } else {
                try {
                    auto bytes = ac::from_cql_literal(type, f.text);
                    if (bytes)
                        cell.bytes = std::move(*bytes);
                    else
                        cell.kind = Cell::Kind::null;
                } catch (const std::exception& e) {
                    return "column " + columns_[i] + " (" + type.cql_name() + "): " + e.what();
                }
            }
            cells_.push_back(std::move(cell));
        }
        return {};
    }

    std::string encode_json(const std::string& text) {
        std::vector<std::pair<std::string, std::string>> members;
        try {
            members = ac::split_json_object(text);
        } catch (const std::exception& e) {
            return std::string("not a JSON object: ") + e.what();
        }
        cells_.assign(columns_.size(), Cell{Cell::Kind::unset, {}});
        const ac::Columns& markers = insert_.bind_markers();
        for (auto& [key, value] : members) {
            const auto it = index_.find(key);
            if (it == index_.end()) return "unknown column '" + key + "'";
            const ac::DataType& type = *markers[it->second].type;
            try {
                auto bytes = ac::from_json(type, value);
                Cell& cell = cells_[it->second];
                if (bytes)
                    cell = Cell{Cell::Kind::value, std::move(*bytes)};
                else
                    cell = Cell{Cell::Kind::null, {}};
            } catch (const std::exception& e) {
                return "column " + key + " (" + type.cql_name() + "): " + e.what();
            }
        }
        return {};
    }

    struct Cell {
        enum class Kind { value, null, unset };
        Kind kind = Kind::value;
        ac::protocol::Bytes bytes;
    };

    std::istream& in_;
    CsvReader* csv_reader_;
    CsvRecord record_;
    ac::PreparedStatement insert_;
    std::vector<std::string> columns_;
    std::unordered_map<std::string, std::size_t> index_;
    RejectLog& rejects_;
    std::vector<Cell> cells_;
    std::vector<ac::SerializedValue> serialized_;  ///< views into cells_, rebuilt per record
    std::size_t line_ = 0;
    std::int64_t records_ = 0;
};

std::string reason_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

struct LoadState {
    std::int64_t loaded = 0;
    std::int64_t requests = 0;
};

/// One worker: takes the next batch of records and writes it, until the input ends or an
/// interruption is requested. The io_context is single-threaded, so the workers share the
/// source without locks (it only runs between their awaits).
asio::awaitable<void> load_worker(ac::Session session, RecordSource& source, RejectLog& rejects,
                                  LoadState& state, std::size_t batch_size, const Interruption& interruption,
                                  Progress& progress) {
    while (!interruption.requested) {
        std::vector<Entry> entries = source.next(batch_size);
        if (entries.empty()) co_return;
        ++state.requests;
        if (entries.size() == 1) {
            auto [error, result] = co_await session.try_execute(entries[0].statement);
            if (error)
                rejects.add(entries[0].line, reason_of(error), entries[0].raw);
            else
                ++state.loaded;
        } else {
            ac::Batch batch = ac::Batch::unlogged();
            for (const Entry& e : entries) batch.add(e.statement);
            batch.options().idempotent = true;
            std::exception_ptr batch_error;
            try {
                co_await session.execute_batch(std::move(batch));
            } catch (...) {
                batch_error = std::current_exception();
            }
            if (!batch_error) {
                state.loaded += static_cast<std::int64_t>(entries.size());
            } else {
                // Find the records at fault: each one alone.
                for (const Entry& e : entries) {
                    auto [error, result] = co_await session.try_execute(e.statement);
                    if (error)
                        rejects.add(e.line, reason_of(error), e.raw);
                    else
                        ++state.loaded;
                }
            }
        }
        progress.update(state.loaded, -1, state.requests);
    }
}

}  // namespace

asio::awaitable<int> run_load(CommandContext& context, const LoadOptions& o) {
    const TableName table = parse_table_name(o.table, context.connection.keyspace);
    const bool csv = o.format == "csv";
    std::ifstream file;
    std::istream* in = &std::cin;
    if (o.in != "-") {
        file.open(o.in, std::ios::binary);
        if (!file) throw_file_error(o.in, "open the input file");
        in = &file;
    }

    // The columns to insert: the CSV header, or (JSON lines) every column of the table.
    std::vector<std::string> columns;
    CsvReader reader(*in);
    if (csv) {
        CsvRecord header;
        if (!reader.next(header))
            throw FileError(o.in + ": empty input (a CSV file starts with a header line)");
        if (!header.error.empty()) throw FileError(o.in + ": bad header line: " + header.error);
        for (auto& f : header.fields) columns.push_back(f.text);
    } else {
        ac::PreparedStatement all = co_await context.session.prepare("SELECT * FROM " + table.cql());
        const auto table_columns = all.result_columns();
        if (!table_columns) throw CliUsageError("cannot find the columns of " + table.cql());
        for (const ac::Column& c : *table_columns) columns.push_back(c.name);
    }
    std::string insert_text = "INSERT INTO " + table.cql() + " (";
    for (std::size_t i = 0; i < columns.size(); ++i)
        insert_text += (i ? ", " : "") + ac::quote_cql_identifier(columns[i]);
    insert_text += ") VALUES (";
    for (std::size_t i = 0; i < columns.size(); ++i) insert_text += i ? ", ?" : "?";
    insert_text += ")";
    ac::PreparedStatement insert = co_await context.session.prepare(insert_text);
    if (insert.bind_markers().size() != columns.size())
        throw CliUsageError("the prepared INSERT has " + std::to_string(insert.bind_markers().size()) +
                            " markers for " + std::to_string(columns.size()) + " columns");

    RejectLog rejects(o.reject_file);
    RecordSource source(*in, csv ? &reader : nullptr, insert, columns, rejects);
    LoadState state;
    Progress progress(!o.quiet && Progress::stderr_is_tty(), std::nullopt, "requests");

    // Bounded concurrency: `concurrency` workers, each with one request in flight; the timer is
    // the "all workers are done" signal (cancelled by the last one).
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
    std::size_t running = o.concurrency;
    std::exception_ptr worker_error;
    for (std::size_t i = 0; i < o.concurrency; ++i) {
        asio::co_spawn(executor,
                       load_worker(context.session, source, rejects, state, o.batch_size,
                                   context.interruption, progress),
                       [&](std::exception_ptr error) {
                           if (error && !worker_error) worker_error = error;
                           if (--running == 0) all_done.cancel();
                       });
    }
    while (running > 0) {
        try {
            co_await all_done.async_wait(asio::use_awaitable);
        } catch (const std::system_error&) {
            // cancelled by the last worker
        }
    }
    rejects.close();
    progress.finish();
    if (worker_error) std::rethrow_exception(worker_error);

    const double seconds = progress.seconds();
    if (!o.quiet)
        std::fprintf(stderr,
                     "acass load: %lld loaded, %lld rejected%s of %lld records in %.2f s (%.0f rows/s, %lld "
                     "requests), "
                     "peak RSS %.1f MB\n",
                     static_cast<long long>(state.loaded), static_cast<long long>(rejects.count()),
                     o.reject_file.empty() ? "" : (" (see " + o.reject_file + ")").c_str(),
                     static_cast<long long>(source.records()), seconds,
                     seconds > 0 ? static_cast<double>(state.loaded) / seconds : 0,
                     static_cast<long long>(state.requests), peak_rss_mb());
    if (context.interruption.requested) co_return exit_interrupted;
    co_return rejects.count() > 0 ? exit_rejected : exit_ok;
}

}  // namespace acass_cli
