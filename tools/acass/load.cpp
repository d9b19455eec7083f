#include "load.hpp"

#include "column_list.hpp"
#include "csv.hpp"
#include "errors.hpp"
#include "file_guard.hpp"
#include "formats.hpp"
#include "input_file.hpp"
#include "output_file.hpp"
#include "progress.hpp"
#include "resume_file.hpp"
#include "retry.hpp"

#include <async_cassandra/exception_message.hpp>
#include <async_cassandra/codec.hpp>
#include <async_cassandra/text_codec.hpp>

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace acass_cli {

namespace ac = async_cassandra;
using Clock = std::chrono::steady_clock;

void add_load_flags(CLI::App& app, LoadOptions& o) {
    app.add_option("--table", o.table, "Target KEYSPACE.TABLE (or TABLE with --keyspace)")->required();
    app.add_option("-i,--in", o.in, "Input file, '-' (standard input) or a glob such as 'part-*.csv'; repeatable")
        ->required();
    app.add_option("-f,--format", o.format, "csv or jsonl")
        ->default_val("csv")
        ->check(CLI::IsMember({"csv", "jsonl", "json"}));
    app.add_option("--columns", o.columns,
                   "The columns of the fields, in order (a,b,c): for files without a header (--header false), "
                   "or instead of the header line");
    add_csv_dialect_flags(app, o.csv);
    app.add_option("-c,--concurrency", o.concurrency, "Requests in flight at once")
        ->default_val(32)
        ->check(CLI::Range(1, 4096));
    app.add_option("--batch-size", o.batch_size, "Rows per UNLOGGED BATCH (1 = single inserts)")
        ->default_val(1)
        ->check(CLI::Range(1, 10000));
    app.add_option("--reject-file", o.reject_file,
                   "Rejected records, in the input's format (loadable as it is); reasons in FILE.reasons");
    app.add_option("--resume-file", o.resume_file,
                   "Record the records done here; an existing file continues the load where it stopped");
    app.add_option("--skip-records", o.skip_records, "Skip the first N records of the input")
        ->default_val(0)
        ->check(CLI::NonNegativeNumber);
    app.add_option("--max-records", o.max_records, "Load at most N records (after --skip-records)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--max-errors", o.max_errors, "Stop once N records were rejected (default: never)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-attempts", o.max_attempts,
                   "Attempts per record for transient server errors (Overloaded, timeouts, Unavailable)")
        ->default_val(10)
        ->check(CLI::Range(1, 1000));
    app.add_flag("-q,--quiet", o.quiet, "No progress line and no summary");
}

namespace {

// ---------------------------------------------------------------- column names

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t");
    return std::string(s.substr(first, last - first + 1));
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Matches header and key names to the table's columns as CQL reads identifiers: surrounding
/// spaces trimmed; "Quoted" names exactly; unquoted names exactly, else case-insensitively.
class ColumnResolver {
public:
    ColumnResolver(const ac::Columns& columns, std::string table) : table_(std::move(table)) {
        for (const ac::Column& c : columns) {
            names_.push_back(c.name);
            exact_.insert(c.name);
            folded_[lower(c.name)].push_back(c.name);
        }
    }
    /// The column `spelled` names; std::nullopt when none.
    std::optional<std::string> find(std::string_view spelled) const {
        std::string name = trim(spelled);
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
            std::string inner;
            for (std::size_t i = 1; i + 1 < name.size(); ++i) {
                inner += name[i];
                if (name[i] == '"' && name[i + 1] == '"') ++i;
            }
            if (exact_.count(inner)) return inner;
            return std::nullopt;
        }
        if (exact_.count(name)) return name;
        const auto it = folded_.find(lower(name));
        if (it != folded_.end() && it->second.size() == 1) return it->second.front();
        return std::nullopt;
    }
    std::string resolve(std::string_view spelled, const std::string& where) const {
        if (auto name = find(spelled)) return *name;
        std::string known;
        for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
        throw CliUsageError(where + ": '" + trim(spelled) + "' is not a column of " + table_ + " (columns: " + known +
                            ")");
    }
    const std::vector<std::string>& names() const { return names_; }

private:
    std::string table_;
    std::vector<std::string> names_;
    std::set<std::string> exact_;
    std::unordered_map<std::string, std::vector<std::string>> folded_;
};

// ---------------------------------------------------------------- input

/// One record as read: CSV fields or a JSON line, and where it comes from.
struct Record {
    std::int64_t ordinal = 0;  ///< position in the whole input, from 0
    std::size_t file = 0;
    std::size_t line = 0;
    CsvRecord csv;
    std::string json;
};

/// The input files one after the other. CSV files with a header must all have the same header.
class InputSet {
public:
    InputSet(std::vector<std::string> paths, bool csv, const LoadOptions& o)
        : paths_(std::move(paths)), csv_(csv), options_(o) {
        for (const auto& p : paths_) {
            if (p == "-") {
                total_bytes_ = -1;
                continue;
            }
            InputFile probe(p);  // opens every file now: a missing one fails before anything is sent
            if (probe.size() < 0 || total_bytes_ < 0)
                total_bytes_ = -1;
            else
                total_bytes_ += probe.size();
        }
        open(0);
    }
    /// The first file's header fields (CSV with a header line), as written.
    const std::vector<std::string>& header() const { return header_; }

    bool next(Record& record) {
        for (;;) {
            if (!file_) return false;
            const bool got = csv_ ? reader_->next(record.csv) : next_json(record);
            if (got) {
                record.file = index_;
                record.line = csv_ ? record.csv.line : json_line_;
                return true;
            }
            file_->check();  // a read error is not the end of the input
            done_bytes_ += file_->consumed();
            if (index_ + 1 >= paths_.size()) {
                reader_.reset();
                file_.reset();
                return false;
            }
            open(index_ + 1);
        }
    }
    const std::string& path(std::size_t i) const { return paths_[i]; }
    const std::vector<std::string>& paths() const { return paths_; }
    /// Part of the input read (bytes), when the sizes are known.
    std::optional<double> fraction() const {
        if (total_bytes_ <= 0) return std::nullopt;
        const std::int64_t now = done_bytes_ + (file_ ? file_->consumed() : 0);
        return static_cast<double>(now) / static_cast<double>(total_bytes_);
    }

private:
    void open(std::size_t i) {
        reader_.reset();
        file_.reset();
        index_ = i;
        json_line_ = 0;
        file_ = std::make_unique<InputFile>(paths_[i]);
        if (!csv_) return;
        reader_ = std::make_unique<CsvReader>(file_->stream(), options_.csv);
        if (!options_.csv.header) return;
        CsvRecord head;
        if (!reader_->next(head)) {
            file_->check();
            throw FileError(paths_[i] + ": empty input (a CSV file with --header true starts with a header line)");
        }
        if (!head.error.empty()) throw FileError(paths_[i] + ": bad header line: " + head.error);
        std::vector<std::string> names;
        for (auto& f : head.fields) names.push_back(trim(f.text));
        if (i == 0)
            header_ = std::move(names);
        else if (names != header_ && options_.columns.empty())
            throw CliUsageError(paths_[i] + ": its header differs from the header of " + paths_[0] +
                                "; load files with different columns separately");
    }

    bool next_json(Record& record) {
        std::string& text = record.json;
        for (;;) {
            if (!std::getline(file_->stream(), text)) return false;
            ++json_line_;
            if (json_line_ == 1 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
            if (!text.empty() && text.back() == '\r') text.pop_back();
            if (!text.empty()) return true;
        }
    }

    std::vector<std::string> paths_;
    bool csv_;
    const LoadOptions& options_;
    std::size_t index_ = 0;
    std::unique_ptr<InputFile> file_;
    std::unique_ptr<CsvReader> reader_;
    std::size_t json_line_ = 0;
    std::vector<std::string> header_;
    std::int64_t total_bytes_ = 0;
    std::int64_t done_bytes_ = 0;
};

// ---------------------------------------------------------------- completion and resume

/// Which records are finished (loaded or rejected): every ordinal below `below`, and the
/// ordinals in `above` (records that finished out of order while earlier ones were in flight).
struct Completion {
    std::int64_t below = 0;
    std::set<std::int64_t> above;

    bool done(std::int64_t ordinal) const { return ordinal < below || above.count(ordinal) != 0; }
    void mark(std::int64_t ordinal) {
        if (ordinal < below) return;
        above.insert(ordinal);
        while (!above.empty() && *above.begin() == below) {
            above.erase(above.begin());
            ++below;
        }
    }
};

/// The load's resume file:
///   acass-load-resume-1
///   table <ks.t>  format <csv|jsonl>  input <path> (one line per file)
///   done_below <N>  done <ordinals above N, space-separated>
///   loaded <N>  rejected <N>  reject_bytes <N>  reasons_bytes <N>  finished <0|1>
struct LoadResumeState {
    std::string table, format;
    std::vector<std::string> inputs;
    Completion completion;
    std::int64_t loaded = 0, rejected = 0, reject_bytes = 0, reasons_bytes = 0;
    bool finished = false;

    std::string to_text() const {
        std::ostringstream out;
        out << "acass-load-resume-1\n"
            << "table " << escape_resume_text(table) << "\nformat " << format << '\n';
        for (const auto& p : inputs) out << "input " << escape_resume_text(p) << '\n';
        out << "done_below " << completion.below << "\ndone";
        for (std::int64_t o : completion.above) out << ' ' << o;
        out << "\nloaded " << loaded << "\nrejected " << rejected << "\nreject_bytes " << reject_bytes
            << "\nreasons_bytes " << reasons_bytes << "\nfinished " << (finished ? 1 : 0) << '\n';
        return out.str();
    }
    static LoadResumeState parse(const std::string& text, const std::string& path) {
        std::istringstream in(text);
        std::string line;
        LoadResumeState s;
        if (!std::getline(in, line) || line != "acass-load-resume-1")
            throw FileError("resume file " + path + " is not valid: not a resume file of acass load");
        while (std::getline(in, line)) {
            const auto space = line.find(' ');
            const std::string key = line.substr(0, space);
            const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
            try {
                if (key == "table") s.table = unescape_resume_text(value);
                else if (key == "format") s.format = value;
                else if (key == "input") s.inputs.push_back(unescape_resume_text(value));
                else if (key == "done_below") s.completion.below = std::stoll(value);
                else if (key == "done") {
                    std::istringstream list(value);
                    std::int64_t o;
                    while (list >> o) s.completion.above.insert(o);
                } else if (key == "loaded") s.loaded = std::stoll(value);
                else if (key == "rejected") s.rejected = std::stoll(value);
                else if (key == "reject_bytes") s.reject_bytes = std::stoll(value);
                else if (key == "reasons_bytes") s.reasons_bytes = std::stoll(value);
                else if (key == "finished") s.finished = value == "1";
            } catch (const std::exception&) {
                throw FileError("resume file " + path + " is not valid: bad line '" + line + "'");
            }
        }
        return s;
    }
};

/// Cuts `path` back to `bytes` (what the resume file recorded): rejects written after the last
/// recorded state belong to records that will be read again.
void cut_back(const std::string& path, std::int64_t bytes) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw FileError("cannot continue " + path + ": " + ec.message());
    if (static_cast<std::int64_t>(size) < bytes)
        throw FileError(path + " is shorter than the resume file records; it was modified");
    if (static_cast<std::int64_t>(size) > bytes) std::filesystem::resize_file(path, static_cast<std::uintmax_t>(bytes), ec);
    if (ec) throw FileError("cannot cut back " + path + ": " + ec.message());
}

// ---------------------------------------------------------------- rejects

/// The reject file (records in the input's format, with the header line, so that it loads with
/// the same flags) and its side file FILE.reasons (`FILE:LINE<TAB>reason` per record, in the
/// same order). Without --reject-file, one line per reject on standard error.
class Rejects {
public:
    Rejects(const LoadOptions& o, const std::string& header_line, const LoadResumeState* resumed) : path_(o.reject_file) {
        if (path_.empty()) return;
        const bool append = resumed && resumed->reject_bytes > 0;
        if (append) {
            cut_back(path_, resumed->reject_bytes);
            cut_back(reasons_path(), resumed->reasons_bytes);
        }
        records_ = std::make_unique<OutputFile>(path_, append);
        reasons_ = std::make_unique<OutputFile>(reasons_path(), append);
        if (!append) pending_header_ = header_line;  // written with the first reject: no rejects, empty file
    }
    std::string reasons_path() const { return path_ + ".reasons"; }
    void add(const std::string& where, const std::string& reason, const std::string& record) {
        ++count_;
        if (!records_) {
            std::string line = "acass load: rejected " + where + ": " + reason + ": " + one_line(record) + "\n";
            std::fputs(line.c_str(), stderr);
            return;
        }
        if (!pending_header_.empty()) {
            records_->write(pending_header_);
            pending_header_.clear();
        }
        records_->write(record);
        records_->write("\n");
        reasons_->write(where + "\t" + one_line(reason) + "\n");
    }
    void flush() {
        if (records_) {
            records_->flush();
            reasons_->flush();
        }
    }
    void close() {
        if (records_) {
            records_->close();
            reasons_->close();
        }
    }
    std::int64_t count() const { return count_; }
    std::int64_t record_bytes() const { return records_ ? records_->bytes() : 0; }
    std::int64_t reason_bytes() const { return reasons_ ? reasons_->bytes() : 0; }
    const std::string& path() const { return path_; }

private:
    static std::string one_line(const std::string& s) {
        std::string out;
        for (char c : s) {
            if (c == '\n') out += "\\n";
            else if (c == '\r') out += "\\r";
            else if (c == '\t') out += "\\t";
            else out += c;
        }
        return out;
    }
    std::string path_;
    std::unique_ptr<OutputFile> records_;
    std::unique_ptr<OutputFile> reasons_;
    std::string pending_header_;
    std::int64_t count_ = 0;
};

// ---------------------------------------------------------------- records to statements

struct Entry {
    std::int64_t ordinal = 0;
    std::size_t file = 0;
    std::size_t line = 0;
    /// Shared with each request (Session::try_execute of a shared statement encodes straight
    /// from it): a record's values are held once here, for retries and the reject file.
    std::shared_ptr<const ac::BoundStatement> statement;
};

bool is_text_kind(ac::TypeKind kind) { return kind == ac::TypeKind::varchar || kind == ac::TypeKind::ascii; }

bool is_composite(ac::TypeKind kind) {
    using K = ac::TypeKind;
    return kind == K::list || kind == K::set || kind == K::map || kind == K::tuple || kind == K::udt ||
           kind == K::vector;
}

/// The bound values of `statement`, as the protocol has them (value, null or unset).
std::vector<ac::detail::ValueView> bound_values(const ac::BoundStatement& statement) {
    std::vector<ac::detail::ValueView> out;
    const auto& encoded = statement.values();
    ac::detail::ByteReader in(encoded.bytes);
    for (std::size_t i = 0; i < encoded.count; ++i) out.push_back(in.read_value());
    return out;
}

std::optional<ac::BytesView> value_bytes(const ac::detail::ValueView& v) {
    if (v.kind == ac::detail::ValueView::Kind::value) return v.bytes;
    return std::nullopt;
}

/// Reads records, skips those already done (resume, --skip-records), binds the others and
/// rejects the ones that do not parse.
class RecordSource {
public:
    RecordSource(InputSet& input, ac::PreparedStatement insert, std::vector<std::string> columns,
                 const ColumnResolver& resolver, const LoadOptions& o, Rejects& rejects, Completion& completion)
        : input_(input),
          insert_(std::move(insert)),
          columns_(std::move(columns)),
          resolver_(resolver),
          options_(o),
          rejects_(rejects),
          completion_(completion) {
        for (std::size_t i = 0; i < columns_.size(); ++i) index_[columns_[i]] = i;
        if (o.max_records >= 0) end_ = o.skip_records + o.max_records;
    }

    /// The next `count` records to write (fewer at the end); empty when the input is exhausted.
    std::vector<Entry> next(std::size_t count) {
        std::vector<Entry> entries;
        // Records that do not parse are rejected here: --max-errors stops the reading too.
        const auto too_many_rejects = [&] {
            return options_.max_errors > 0 && rejects_.count() >= options_.max_errors;
        };
        while (entries.size() < count && !exhausted_ && !too_many_rejects()) {
            if (end_ >= 0 && ordinal_ >= end_) {
                exhausted_ = true;
                break;
            }
            if (!input_.next(record_)) {
                exhausted_ = true;
                break;
            }
            record_.ordinal = ordinal_++;
            ++read_;
            if (completion_.done(record_.ordinal)) {
                ++skipped_;
                continue;
            }
            if (auto e = bind()) entries.push_back(std::move(*e));
        }
        return entries;
    }
    bool exhausted() const { return exhausted_; }
    std::int64_t records_read() const { return read_; }
    std::int64_t records_skipped() const { return skipped_; }
    std::string where(std::size_t file, std::size_t line) const {
        return input_.path(file) + ":" + std::to_string(line);
    }
    /// The record of `entry` written back in the input's format, for the reject file.
    std::string record_text(const Entry& entry) const {
        const auto values = bound_values(*entry.statement);
        const ac::Columns& markers = insert_.bind_markers();
        std::string out;
        if (csv()) {
            std::vector<CsvField> fields(values.size());
            for (std::size_t i = 0; i < values.size(); ++i) {
                auto text = value_text(*markers[i].type, value_bytes(values[i]));
                if (text) fields[i] = CsvField{std::move(*text), true};
                else fields[i] = CsvField{options_.csv.null_string, false};
            }
            return format_csv_record(fields, options_.csv);
        }
        out = "{";
        bool first = true;
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (values[i].kind == ac::detail::ValueView::Kind::unset) continue;  // the key was absent
            if (!first) out += ", ";
            first = false;
            ac::append_json_string(out, columns_[i]);
            out += ": ";
            out += ac::to_json(*markers[i].type, value_bytes(values[i]));
        }
        return out + "}";
    }

private:
    bool csv() const { return options_.format == "csv"; }

    std::optional<Entry> bind() {
        std::string error;
        serialized_.clear();
        owned_.clear();
        owned_.reserve(columns_.size());  // views into it stay valid
        error = csv() ? encode_csv() : encode_json();
        if (!error.empty()) {
            std::string text;
            if (csv())
                text = record_.csv.error.empty() ? format_csv_record(record_.csv.fields, options_.csv) : record_.csv.raw;
            else
                text = std::move(record_.json);
            rejects_.add(where(record_.file, record_.line), error, text);
            completion_.mark(record_.ordinal);
            return std::nullopt;
        }
        auto statement = std::make_shared<ac::BoundStatement>(insert_.bind_serialized(serialized_));
        statement->set_idempotent(true);  // values only: writing it twice stores the same row
        Entry entry{record_.ordinal, record_.file, record_.line, std::move(statement)};
        // The text is in the statement now: drop our copies at once (a large value is held once).
        record_.csv.fields.clear();
        record_.json.clear();
        record_.json.shrink_to_fit();
        owned_.clear();
        return entry;
    }

    // A field's bytes: text as is (a view, no copy), other types from their CQL literal, or
    // collections/tuples/UDTs also from JSON (as spreadsheets and other tools write them).
    std::string convert(const ac::DataType& type, const std::string& text, const std::string& column) {
        if (is_text_kind(type.kind)) {
            serialized_.push_back(ac::SerializedValue::of(
                ac::BytesView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
            return {};
        }
        std::optional<ac::Bytes> bytes;
        try {
            bytes = ac::from_cql_literal(type, text);
        } catch (const std::exception& e) {
            bool parsed = false;
            if (is_composite(type.kind)) {
                try {
                    bytes = ac::from_json(type, text);
                    parsed = true;
                } catch (const std::exception&) {
                }
            }
            if (!parsed) return "column " + column + " (" + type.cql_name() + "): " + e.what();
        }
        if (!bytes) {
            serialized_.push_back(ac::SerializedValue::null());
            return {};
        }
        owned_.push_back(std::move(*bytes));
        serialized_.push_back(ac::SerializedValue::of(ac::BytesView(owned_.back())));
        return {};
    }

    std::string encode_csv() {
        const CsvRecord& r = record_.csv;
        if (!r.error.empty()) return r.error;
        if (r.fields.size() != columns_.size())
            return "expected " + std::to_string(columns_.size()) + " fields, got " + std::to_string(r.fields.size());
        const ac::Columns& markers = insert_.bind_markers();
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            const CsvField& f = r.fields[i];
            if (f.is_null(options_.csv) || (f.text.empty() && !f.quoted)) {
                serialized_.push_back(ac::SerializedValue::null());
                continue;
            }
            std::string error = convert(*markers[i].type, f.text, columns_[i]);
            if (!error.empty()) return error;
        }
        return {};
    }

    std::string encode_json() {
        std::vector<std::pair<std::string, std::string>> members;
        try {
            members = ac::split_json_object(record_.json);
        } catch (const std::exception& e) {
            return std::string("not a JSON object: ") + e.what();
        }
        serialized_.assign(columns_.size(), ac::SerializedValue::unset());
        owned_.reserve(columns_.size());
        const ac::Columns& markers = insert_.bind_markers();
        for (auto& [key, value] : members) {
            const auto name = resolver_.find(key);
            const auto it = name ? index_.find(*name) : index_.end();
            if (it == index_.end()) return "unknown column '" + key + "'";
            const ac::DataType& type = *markers[it->second].type;
            try {
                auto bytes = ac::from_json(type, value);
                if (!bytes) {
                    serialized_[it->second] = ac::SerializedValue::null();
                } else {
                    owned_.push_back(std::move(*bytes));
                    serialized_[it->second] = ac::SerializedValue::of(ac::BytesView(owned_.back()));
                }
            } catch (const std::exception& e) {
                return "column " + key + " (" + type.cql_name() + "): " + e.what();
            }
            std::string().swap(value);  // the text is not needed once converted
        }
        return {};
    }

    InputSet& input_;
    ac::PreparedStatement insert_;
    std::vector<std::string> columns_;
    const ColumnResolver& resolver_;
    const LoadOptions& options_;
    Rejects& rejects_;
    Completion& completion_;
    std::unordered_map<std::string, std::size_t> index_;
    Record record_;
    std::vector<ac::SerializedValue> serialized_;
    std::vector<ac::Bytes> owned_;
    std::int64_t ordinal_ = 0, read_ = 0, skipped_ = 0, end_ = -1;
    bool exhausted_ = false;
};

// ---------------------------------------------------------------- the load

enum class Outcome { written, rejected, abandoned };

/// Everything the workers share. The io_context is single-threaded: no locks.
struct LoadRun {
    ac::Session session;
    const LoadOptions& options;
    const Interruption& interruption;
    RecordSource& source;
    const InputSet& input;
    Rejects& rejects;
    Completion& completion;
    Progress& progress;
    std::optional<ResumeFile>& resume_file;
    LoadResumeState& resume_state;
    std::chrono::milliseconds timeout;
    std::int64_t loaded = 0, requests = 0, retries = 0;
    Clock::time_point last_success = Clock::now();
    Clock::time_point last_save = Clock::now();
    std::exception_ptr failure;  ///< what stopped the load (the first one)
    bool too_many_rejects = false;

    bool stopping() const { return failure || too_many_rejects || interruption.requested; }
    void fail(std::exception_ptr error) {
        if (!failure) failure = std::move(error);
    }

    void reject(const Entry& e, const std::string& reason) {
        rejects.add(source.where(e.file, e.line), reason, source.record_text(e));
        completion.mark(e.ordinal);
        check_max_errors();
    }
    void check_max_errors() {
        if (options.max_errors > 0 && rejects.count() >= options.max_errors) too_many_rejects = true;
    }
    void written(const Entry& e) {
        ++loaded;
        completion.mark(e.ordinal);
    }

    void save(bool finished) {
        if (!resume_file) return;
        rejects.flush();
        resume_state.completion = completion;
        resume_state.finished = finished;
        resume_state.reject_bytes = rejects.record_bytes();
        resume_state.reasons_bytes = rejects.reason_bytes();
        resume_file->replace(resume_state.to_text());
        last_save = Clock::now();
    }
    void maybe_save() {
        if (resume_file && Clock::now() - last_save >= std::chrono::milliseconds(250)) save(false);
    }
};

std::string describe_deadline(const LoadRun& run, const std::string& last_error) {
    const double seconds = std::chrono::duration<double>(run.timeout).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", seconds);
    return std::string("no write has succeeded for more than ") + buf +
           " s (the request timeout): the cluster is unreachable; last error: " + last_error +
           (run.options.resume_file.empty()
                ? " (records in flight were not written; --resume-file makes a load resumable)"
                : "; run the same command again to continue from " + run.options.resume_file);
}

/// Sends with `send` until it succeeds, the record is refused, or the load must stop.
template <class Send>
asio::awaitable<std::pair<Outcome, std::string>> write_with_retries(LoadRun& run, const Entry& first, Send send) {
    auto executor = co_await asio::this_coro::executor;
    for (int attempt = 1;; ++attempt) {
        std::exception_ptr error = co_await send();
        ++run.requests;
        if (!error) {
            run.last_success = Clock::now();
            co_return std::pair{Outcome::written, std::string()};
        }
        const WriteErrorKind kind = classify_write_error(error);
        // The message only when the record's fate is decided: each call rethrows the error,
        // and the usual outcome (a retry) does not need it.
        auto text = [&error] { return ac::exception_message(error); };
        if (kind == WriteErrorKind::rejected) co_return std::pair{Outcome::rejected, text()};
        if (kind == WriteErrorKind::fatal) {
            run.fail(error);
            co_return std::pair{Outcome::abandoned, text()};
        }
        if (run.stopping()) co_return std::pair{Outcome::abandoned, text()};
        if (kind == WriteErrorKind::unreachable || kind == WriteErrorKind::connection_lost) {
            // Connection trouble: retried until nothing has succeeded for a whole request timeout.
            if (Clock::now() - run.last_success > run.timeout) {
                if (kind == WriteErrorKind::unreachable)
                    run.fail(std::make_exception_ptr(ConnectFailure(describe_deadline(run, text()))));
                else
                    run.fail(std::make_exception_ptr(RequestFailure(describe_deadline(run, text()))));
                co_return std::pair{Outcome::abandoned, text()};
            }
        } else if (attempt >= run.options.max_attempts) {
            run.fail(std::make_exception_ptr(RequestFailure(
                "record " + run.source.where(first.file, first.line) + " still failed after " +
                std::to_string(attempt) + " attempts (--max-attempts): " + text() +
                (run.options.resume_file.empty() ? "" : "; run the same command again to continue"))));
            co_return std::pair{Outcome::abandoned, text()};
        }
        ++run.retries;
        asio::steady_timer wait(executor, retry_delay(attempt));
        co_await wait.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<Outcome> write_one(LoadRun& run, const Entry& e) {
    ac::Session session = run.session;
    auto [outcome, reason] = co_await write_with_retries(run, e, [&]() -> asio::awaitable<std::exception_ptr> {
        auto [error, result] = co_await session.try_execute(e.statement);
        co_return error;
    });
    if (outcome == Outcome::written) run.written(e);
    if (outcome == Outcome::rejected) run.reject(e, reason);
    co_return outcome;
}

asio::awaitable<void> write_entries(LoadRun& run, std::vector<Entry>& entries) {
    if (entries.size() == 1) {
        co_await write_one(run, entries[0]);
        co_return;
    }
    ac::Session session = run.session;
    auto [outcome, reason] =
        co_await write_with_retries(run, entries[0], [&]() -> asio::awaitable<std::exception_ptr> {
            ac::Batch batch = ac::Batch::unlogged();
            for (const Entry& e : entries) batch.add(*e.statement);
            batch.options().idempotent = true;
            std::exception_ptr error;
            try {
                co_await session.execute_batch(std::move(batch));
            } catch (...) {
                error = std::current_exception();
            }
            co_return error;
        });
    if (outcome == Outcome::written) {
        for (const Entry& e : entries) run.written(e);
    } else if (outcome == Outcome::rejected) {
        // Find the records at fault: each one alone.
        for (const Entry& e : entries) {
            if (run.stopping()) break;
            co_await write_one(run, e);
        }
    }
}

/// One worker: takes the next records and writes them, until the input ends or the load stops.
asio::awaitable<void> load_worker(LoadRun& run) {
    while (!run.stopping()) {
        std::vector<Entry> entries;
        try {
            entries = run.source.next(run.options.batch_size);
        } catch (...) {
            run.fail(std::current_exception());
            co_return;
        }
        run.check_max_errors();  // records rejected while reading
        if (run.stopping()) co_return;
        if (entries.empty()) co_return;
        co_await write_entries(run, entries);
        if (auto fraction = run.input.fraction()) run.progress.set_fraction(*fraction);
        run.progress.update(run.loaded, -1, run.requests);
        try {
            run.maybe_save();
        } catch (...) {
            run.fail(std::current_exception());
        }
    }
}

/// PREPARE, retried like the writes (a busy node may answer Overloaded to it too): at least 10
/// attempts for server errors, connection trouble until the request timeout has passed.
asio::awaitable<ac::PreparedStatement> prepare_with_retries(ac::Session session, std::string cql, int max_attempts,
                                                            std::chrono::milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    const auto start = Clock::now();
    for (int attempt = 1;; ++attempt) {
        std::exception_ptr error;
        try {
            co_return co_await session.prepare(cql);
        } catch (...) {
            error = std::current_exception();
        }
        const WriteErrorKind kind = classify_write_error(error);
        const bool connection = kind == WriteErrorKind::unreachable || kind == WriteErrorKind::connection_lost;
        if (kind == WriteErrorKind::rejected || kind == WriteErrorKind::fatal ||
            (connection && Clock::now() - start > timeout) || (!connection && attempt >= std::max(max_attempts, 10)))
            std::rethrow_exception(error);
        asio::steady_timer wait(executor, retry_delay(attempt));
        co_await wait.async_wait(asio::use_awaitable);
    }
}

}  // namespace

asio::awaitable<int> run_load(CommandContext& context, const LoadOptions& o) {
    const TableName table = parse_table_name(o.table, context.connection.keyspace);
    const bool csv = o.format == "csv";
    const std::vector<std::string> inputs = expand_inputs(o.in);
    {
        std::vector<FileRole> roles;
        for (const auto& p : inputs) roles.push_back({"--in", p});
        roles.push_back({"--reject-file", o.reject_file});
        if (!o.reject_file.empty()) roles.push_back({"--reject-file's reasons file", o.reject_file + ".reasons"});
        roles.push_back({"--resume-file", o.resume_file});
        refuse_same_files(roles);
    }
    if (!o.resume_file.empty() && std::count(inputs.begin(), inputs.end(), std::string("-")) > 0)
        throw CliUsageError("--resume-file needs input files (standard input cannot be read again)");

    std::optional<ResumeFile> resume_file;
    LoadResumeState state;
    std::optional<LoadResumeState> resumed;
    if (!o.resume_file.empty()) {
        resume_file.emplace(o.resume_file);  // locked until the load ends
        const std::string text = resume_file->read();
        if (!text.empty()) resumed = LoadResumeState::parse(text, o.resume_file);
    }
    state.table = table.cql();
    state.format = csv ? "csv" : "jsonl";
    state.inputs = inputs;
    if (resumed) {
        if (resumed->table != state.table || resumed->format != state.format || resumed->inputs != inputs)
            throw CliUsageError("resume file " + o.resume_file + " belongs to another load (" + resumed->table +
                                " from " + (resumed->inputs.empty() ? "?" : resumed->inputs.front()) +
                                "); delete it to start over");
        if (resumed->finished) {
            std::fprintf(stderr, "acass load: %s says this load is complete (%lld loaded, %lld rejected); delete it "
                         "to load again\n",
                         o.resume_file.c_str(), static_cast<long long>(resumed->loaded),
                         static_cast<long long>(resumed->rejected));
            co_return resumed->rejected > 0 ? exit_rejected : exit_ok;
        }
        state = *resumed;
    }

    const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(context.connection.timeout_seconds * 1000));
    // The table's columns, then the columns of the fields: --columns, the header, or the table's.
    ac::PreparedStatement all =
        co_await prepare_with_retries(context.session, "SELECT * FROM " + table.cql(), o.max_attempts, timeout);
    const auto table_columns = all.result_columns();
    if (!table_columns) throw CliUsageError("cannot find the columns of " + table.cql());
    const ColumnResolver resolver(*table_columns, table.cql());
    InputSet input(inputs, csv, o);
    std::vector<std::string> columns;
    if (!o.columns.empty()) {
        for (const auto& n : split_column_list(o.columns)) columns.push_back(resolver.resolve(n, "--columns"));
    } else if (csv && o.csv.header) {
        for (const auto& n : input.header()) columns.push_back(resolver.resolve(n, inputs[0] + ": header"));
    } else {
        columns = resolver.names();
    }
    std::string insert_text = "INSERT INTO " + table.cql() + " (";
    for (std::size_t i = 0; i < columns.size(); ++i)
        insert_text += (i ? ", " : "") + ac::quote_cql_identifier(columns[i]);
    insert_text += ") VALUES (";
    for (std::size_t i = 0; i < columns.size(); ++i) insert_text += i ? ", ?" : "?";
    insert_text += ")";
    ac::PreparedStatement insert = co_await prepare_with_retries(context.session, insert_text, o.max_attempts, timeout);
    if (insert.bind_markers().size() != columns.size())
        throw CliUsageError("the prepared INSERT has " + std::to_string(insert.bind_markers().size()) +
                            " markers for " + std::to_string(columns.size()) + " columns");

    std::string header_line;
    if (csv && o.csv.header) {
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (i) header_line += o.csv.delimiter;
            append_csv_field(header_line, columns[i], o.csv);
        }
        header_line += '\n';
    }
    Rejects rejects(o, header_line, resumed ? &state : nullptr);
    Completion completion = state.completion;
    completion.below = std::max(completion.below, o.skip_records);
    RecordSource source(input, insert, columns, resolver, o, rejects, completion);
    Progress progress(!o.quiet && Progress::stderr_is_tty(), std::nullopt, "requests");
    LoadRun run{context.session, o, context.interruption, source, input, rejects, completion, progress, resume_file, state,
                timeout,         0,       0,     0,    Clock::now(), Clock::now(), nullptr, false};
    const std::int64_t loaded_before = state.loaded, rejected_before = state.rejected;
    if (resume_file) run.save(false);

    // Bounded concurrency: `concurrency` workers, each with one request in flight; the timer is
    // the "all workers are done" signal (cancelled by the last one).
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
    std::size_t running = o.concurrency;
    for (std::size_t i = 0; i < o.concurrency; ++i) {
        asio::co_spawn(executor, load_worker(run), [&](std::exception_ptr error) {
            if (error) run.fail(error);
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
    const bool finished = !run.stopping() && source.exhausted();
    state.loaded = loaded_before + run.loaded;
    state.rejected = rejected_before + rejects.count();
    std::exception_ptr close_error;
    try {
        run.save(finished);
        rejects.close();
    } catch (...) {
        close_error = std::current_exception();
    }
    progress.finish();

    const double seconds = progress.seconds();
    if (!o.quiet) {
        std::string resumed_note;
        if (resumed || source.records_skipped() > 0)
            resumed_note = ", " + std::to_string(source.records_skipped()) + " skipped as done before";
        std::fprintf(stderr,
                     "acass load: %s%lld loaded, %lld rejected%s of %lld records in %.2f s (%.0f rows/s, %lld "
                     "requests, %lld retries%s), peak RSS %.1f MB\n",
                     run.failure ? "stopped: " : "", static_cast<long long>(run.loaded),
                     static_cast<long long>(rejects.count()),
                     o.reject_file.empty() ? "" : (" (see " + o.reject_file + ")").c_str(),
                     static_cast<long long>(source.records_read()), seconds,
                     seconds > 0 ? static_cast<double>(run.loaded) / seconds : 0,
                     static_cast<long long>(run.requests), static_cast<long long>(run.retries),
                     resumed_note.c_str(), peak_rss_mb());
    }
    if (run.failure) std::rethrow_exception(run.failure);
    if (close_error) std::rethrow_exception(close_error);
    if (run.too_many_rejects) {
        std::fprintf(stderr, "acass load: stopped after %lld rejected records (--max-errors %lld)\n",
                     static_cast<long long>(rejects.count()), static_cast<long long>(o.max_errors));
        co_return exit_rejected;
    }
    if (context.interruption.requested) co_return exit_interrupted;
    co_return rejects.count() > 0 ? exit_rejected : exit_ok;
}

}  // namespace acass_cli
