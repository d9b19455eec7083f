#include "formats.hpp"

#include <async_cassandra/text_codec.hpp>

#include "csv.hpp"
#include "errors.hpp"

#ifdef ACASS_HAVE_AVRO
#include "avro_writer.hpp"
#endif

#include <sys/stat.h>

#include <cstdio>

namespace acass_cli {

namespace ac = async_cassandra;

Format parse_format(const std::string& name) {
    if (name == "csv") return Format::csv;
    if (name == "jsonl" || name == "json") return Format::jsonl;
    if (name == "avro") return Format::avro;
    if (name == "parquet") return Format::parquet;
    throw CliUsageError("--format: unknown format '" + name + "' (csv, jsonl, avro or parquet)");
}

Format format_for(const std::string& format_option, const std::string& path) {
    if (!format_option.empty()) return parse_format(format_option);
    for (const char* ext : {".parquet", ".jsonl", ".json", ".avro"})
        if (path.ends_with(ext)) return parse_format(ext + 1);
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


/// CSV and JSON lines: text built per page, written with one fwrite.
class TextWriter : public RowWriter {
public:
    TextWriter(Format format, const std::string& path, const ac::Columns& columns, bool append)
        : format_(format), path_(path) {
        if (path == "-") {
            file_ = stdout;
        } else {
            file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
            if (!file_) throw_file_error(path, "open the output file");
            owned_ = true;
            if (append) {
                struct stat st {};
                if (fstat(fileno(file_), &st) == 0) bytes_ = st.st_size;
            }
        }
        if (!append && format_ == Format::csv) {
            append_csv_header(buffer_, columns);
            put();
        }
    }
    ~TextWriter() override {
        if (owned_ && file_) std::fclose(file_);
    }

    void write_page(const ac::Page& page) override {
        buffer_.clear();
        for (const ac::Row row : page) {
            if (format_ == Format::csv)
                append_csv_row(buffer_, row);
            else
                append_json_row(buffer_, row);
        }
        put();
    }
    void flush() override {
        if (std::fflush(file_) != 0) throw_file_error(path_, "write");
    }
    void close() override {
        flush();
        if (owned_) {
            FILE* f = file_;
            file_ = nullptr;
            if (std::fclose(f) != 0) throw_file_error(path_, "close");
        }
    }
    std::int64_t bytes() const override { return bytes_; }

private:
    void put() {
        if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
            throw_file_error(path_, "write");
        bytes_ += static_cast<std::int64_t>(buffer_.size());
        buffer_.clear();
    }

    Format format_;
    std::string path_;
    FILE* file_ = nullptr;
    bool owned_ = false;
    std::string buffer_;
    std::int64_t bytes_ = 0;
};

#ifdef ACASS_HAVE_AVRO
class AvroRowWriter : public RowWriter {
public:
    AvroRowWriter(const std::string& path, const ac::Columns& columns, const std::string& record_name,
                  bool append)
        : path_(path), writer_(path, columns, record_name, append) {}
    void write_page(const ac::Page& page) override { writer_.write_page(page); }
    void flush() override { writer_.flush(); }
    void close() override { writer_.close(); }
    std::int64_t bytes() const override {
        struct stat st {};
        return ::stat(path_.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
    }

private:
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
    const ac::Columns& columns = row.columns();
    out += '{';
    for (std::size_t i = 0; i < row.size(); ++i) {
        if (i) out += ", ";
        ac::append_json_string(out, columns[i].name);
        out += ": ";
        out += row.to_json(i);
    }
    out += "}\n";
}

std::unique_ptr<RowWriter> open_writer(Format format, const std::string& path, const ac::Columns& columns,
                                       const std::string& record_name, bool append, const WriterOptions& options) {
    if (format == Format::parquet) {
        if (path == "-") throw CliUsageError("--format parquet needs a file (--out FILE), not standard output");
        return std::make_unique<ParquetRowWriter>(path, columns, options, append);
    }
    if (format != Format::avro) return std::make_unique<TextWriter>(format, path, columns, append);
#ifdef ACASS_HAVE_AVRO
    if (path == "-") throw CliUsageError("--format avro needs a file (--out FILE), not standard output");
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
