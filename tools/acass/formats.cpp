#include "formats.hpp"

#include <async_cassandra/text_codec.hpp>
#include <async_cassandra/value_text.hpp>

#include "csv.hpp"
#include "errors.hpp"
#include "export_render.hpp"
#include "output_file.hpp"

#ifdef ACASS_HAVE_AVRO
#include "avro_writer.hpp"
#endif

#include <CLI/CLI.hpp>

#include <sys/stat.h>

namespace acass_cli {

namespace ac = async_cassandra;

namespace {

// One character: as is, or written as \t, tab, \\ or \0-free escapes users type in shells.
char parse_dialect_char(const std::string& flag, const std::string& text) {
    if (text == "\\t" || text == "tab" || text == "TAB") return '\t';
    if (text.size() == 1 && text[0] != '\n' && text[0] != '\r') return text[0];
    throw CLI::ValidationError(flag, "expected one character (or \\t / tab), got '" + text + "'");
}

}  // namespace

void add_csv_dialect_flags(CLI::App& app, CsvDialect& d) {
    const char* group = "CSV";
    app.add_option_function<std::string>(
           "--delimiter,--delim", [&d](const std::string& v) { d.delimiter = parse_dialect_char("--delimiter", v); },
           "Field separator, one character or \\t (default ,)")
        ->group(group);
    app.add_option_function<std::string>(
           "--quote", [&d](const std::string& v) { d.quote = parse_dialect_char("--quote", v); },
           "Quote character (default \")")
        ->group(group);
    app.add_option_function<std::string>(
           "--escape", [&d](const std::string& v) { d.escape = parse_dialect_char("--escape", v); },
           "Escapes a quote inside quotes (default: the quote itself, i.e. doubled quotes)")
        ->group(group);
    app.add_option("--null-string,--null-value", d.null_string,
                   "Text of a NULL cell (an unquoted field equal to it); default: an empty field")
        ->group(group);
    app.add_option("--header", d.header, "true: the first line names the columns; false: no header line")
        ->default_val(true)
        ->group(group);
}

Format parse_format(const std::string& name) {
    if (name == "csv") return Format::csv;
    if (name == "jsonl" || name == "json") return Format::jsonl;
    if (name == "avro") return Format::avro;
    if (name == "parquet") return Format::parquet;
    throw CliUsageError("--format: unknown format '" + name + "' (csv, jsonl, avro or parquet)");
}

Format format_for(const std::string& format_option, const std::string& path) {
    if (!format_option.empty()) return parse_format(format_option);
    std::string name = path;  // x.jsonl.gz is JSON lines, compressed
    for (const char* compressed : {".gz", ".zst"})
        if (name.ends_with(compressed)) name.resize(name.size() - std::string_view(compressed).size());
    for (const char* ext : {".parquet", ".jsonl", ".json", ".avro"})
        if (name.ends_with(ext)) return parse_format(ext + 1);
    return Format::csv;
}

const char* to_string(Format format) {
    switch (format) {
        case Format::csv:
            return "csv";
        case Format::jsonl:
            return "jsonl";
        case Format::avro:
            return "avro";
        case Format::parquet:
            return "parquet";
    }
    return "?";
}

bool avro_available() {
#ifdef ACASS_HAVE_AVRO
    return true;
#else
    return false;
#endif
}

namespace {


/// CSV and JSON lines: text rendered per page (RowRenderer), written through a checked OutputFile.
class TextWriter : public RowWriter {
public:
    TextWriter(Format format, const std::string& path, const ac::Columns& columns, bool append,
               const CsvDialect& dialect)
        : renderer_(format == Format::csv ? TextStyle::csv : TextStyle::jsonl, dialect), out_(path, append) {
        renderer_.pass_large_values_to([this](std::string_view text) { out_.write(text); });
        if (!append && format == Format::csv && dialect.header) {
            std::string header;
            append_csv_header(header, columns, dialect);
            out_.write(header);
        }
    }

    void write_page(const ac::Page& page) override {
        // A page of large values is passed on in parts of about 1 MB (the text of one row at
        // least), so that the text of a large page is not held whole besides the page.
        for (std::size_t row = 0; row < page.size();) {
            row = renderer_.append_rows(buffer_, page, row, page.size(), std::size_t{1} << 20);
            put();
        }
    }
    void flush() override { out_.flush(); }
    void close() override { out_.close(); }
    std::int64_t bytes() const override { return out_.bytes(); }

private:
    void put() {
        out_.write(buffer_.view());
        buffer_.clear();
        if (buffer_.capacity() > (4u << 20)) buffer_.release();  // after a large value
    }

    RowRenderer renderer_;
    OutputFile out_;
    TextBuffer buffer_;
};

#ifdef ACASS_HAVE_AVRO
class AvroRowWriter : public RowWriter {
public:
    AvroRowWriter(const std::string& path, const ac::Columns& columns, const std::string& record_name,
                  bool append)
        : path_(path), writer_(path, columns, record_name, append) {}
    // The writer's errors name the file and the reason; they are file errors (exit 8), except
    // a value Avro cannot hold (DataError, exit 9).
    void write_page(const ac::Page& page) override { as_file_error([&] { writer_.write_page(page); }); }
    void flush() override { as_file_error([&] { writer_.flush(); }); }
    void close() override { as_file_error([&] { writer_.close(); }); }
    std::int64_t bytes() const override {
        struct stat st {};
        return ::stat(path_.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
    }

private:
    template <class F>
    static void as_file_error(F&& f) {
        try {
            f();
        } catch (const FileError&) {
            throw;
        } catch (const DataError&) {
            throw;
        } catch (const async_cassandra::Error&) {
            throw;  // a value the schema cannot hold: not a file problem
        } catch (const std::runtime_error& e) {
            throw FileError(e.what());
        }
    }
    std::string path_;
    AvroWriter writer_;
};
#endif

class ParquetRowWriter : public RowWriter {
public:
    ParquetRowWriter(const std::string& path, const ac::Columns& columns, const WriterOptions& options, bool append)
        : writer_(path, columns, options.parquet,
                  append ? std::optional<std::string>(options.resume_state) : std::nullopt) {}
    void write_page(const ac::Page& page) override { writer_.write_page(page); }
    void flush() override {}  // row groups are written whole, when full (or by commit)
    void close() override { writer_.close(); }
    std::int64_t bytes() const override { return writer_.committed_bytes() + writer_.buffered_bytes(); }
    bool all_committed() const override { return writer_.buffered_bytes() == 0; }
    void commit() override { writer_.flush_row_group(); }
    std::int64_t committed_bytes() const override { return writer_.committed_bytes(); }
    std::string resume_state() const override { return writer_.resume_state(); }

private:
    ParquetWriter writer_;
};

}  // namespace

void append_json_row(std::string& out, const ac::Row& row) {
    RowRenderer renderer(TextStyle::jsonl);
    TextBuffer text;
    renderer.append_row(text, row);
    out += text.view();
}

std::unique_ptr<RowWriter> open_writer(Format format, const std::string& path, const ac::Columns& columns,
                                       const std::string& record_name, bool append, const WriterOptions& options) {
    if (format == Format::parquet) {
        if (path == "-") throw CliUsageError("--format parquet needs a file (--out FILE), not standard output");
        if (compression_for(path) != Compression::none)
            throw CliUsageError("--format parquet: " + path +
                                ": Parquet files compress their pages themselves; drop the .gz/.zst");
        return std::make_unique<ParquetRowWriter>(path, columns, options, append);
    }
    if (format != Format::avro) return std::make_unique<TextWriter>(format, path, columns, append, options.csv);
#ifdef ACASS_HAVE_AVRO
    if (path == "-") throw CliUsageError("--format avro needs a file (--out FILE), not standard output");
    if (compression_for(path) != Compression::none)
        throw CliUsageError("--format avro: " + path +
                            ": Avro files compress their blocks themselves (snappy by default); drop the .gz/.zst");
    try {
        return std::make_unique<AvroRowWriter>(path, columns, record_name, append);
    } catch (const std::runtime_error& e) {
        throw FileError(e.what());
    }
#else
    (void)record_name;
    throw CliUsageError(
        "--format avro: this acass was built without Avro support (install libavro-dev and rebuild)");
#endif
}

}  // namespace acass_cli
