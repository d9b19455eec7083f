#include "query.hpp"

#include "server_warnings.hpp"
#include "csv.hpp"
#include "errors.hpp"
#include "export_render.hpp"
#include "formats.hpp"
#include "output_file.hpp"
#include "reads.hpp"

#include <async_cassandra/stream.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <vector>

namespace acass_cli {

namespace ac = async_cassandra;

void add_query_flags(CLI::App& app, QueryOptions& o) {
    app.add_option("cql", o.cql, "The CQL statement")->required();
    app.add_option("-f,--format", o.format, "table, json (one object per line) or csv")
        ->default_val("table")
        ->check(CLI::IsMember({"table", "json", "jsonl", "csv"}));
    app.add_option("--fetch-size", o.fetch_size, "Rows per page")
        ->default_val(5000)
        ->check(CLI::Range(1, 1 << 30));
}

namespace {

// A cell as shown in the table: the CSV text (NULL as "null"), with control characters escaped
// so that a row stays on one line.
std::string display_text(const ac::Row& row, std::size_t i) {
    auto text = cell_text(row, i);
    if (!text) return "null";
    std::string out;
    for (char c : *text) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\t')
            out += "\\t";
        else
            out += c;
    }
    return out;
}

// Display width of UTF-8 text: code points, which is right for everything but wide characters.
std::size_t display_width(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

/// The aligned table: column widths come from the header and the first block of rows; later
/// rows reuse them (a longer cell just pushes its line wider) so that nothing is held back.
class TablePrinter {
public:
    TablePrinter(const ac::Columns& columns, std::size_t block, OutputFile& out) : block_(block), out_(out) {
        for (const ac::Column& c : columns) {
            header_.push_back(c.name);
            widths_.push_back(display_width(c.name));
        }
    }
    void add(const ac::Row& row) {
        std::vector<std::string> cells;
        for (std::size_t i = 0; i < row.size(); ++i) cells.push_back(display_text(row, i));
        if (printed_header_) {
            print_line(cells);
            return;
        }
        for (std::size_t i = 0; i < cells.size() && i < widths_.size(); ++i)
            widths_[i] = std::max(widths_[i], display_width(cells[i]));
        pending_.push_back(std::move(cells));
        if (pending_.size() >= block_) flush_pending();
    }
    void finish(std::int64_t rows) {
        flush_pending();
        out_.write("\n(" + std::to_string(rows) + " rows)\n");
    }

private:
    void flush_pending() {
        if (!printed_header_) {
            print_line(header_);
            std::string rule;
            for (std::size_t i = 0; i < widths_.size(); ++i) {
                if (i) rule += "-+-";
                rule.append(widths_[i], '-');
            }
            rule += '\n';
            out_.write(rule);
            printed_header_ = true;
        }
        for (const auto& cells : pending_) print_line(cells);
        pending_.clear();
    }
    void print_line(const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (i) line += " | ";
            line += cells[i];
            if (i + 1 < cells.size() && i < widths_.size()) {
                const std::size_t w = display_width(cells[i]);
                if (w < widths_[i]) line.append(widths_[i] - w, ' ');
            }
        }
        line += '\n';
        out_.write(line);
    }

    std::size_t block_;
    std::vector<std::string> header_;
    std::vector<std::size_t> widths_;
    std::vector<std::vector<std::string>> pending_;
    bool printed_header_ = false;
    OutputFile& out_;
};


}  // namespace

asio::awaitable<int> run_query(CommandContext& context, const QueryOptions& o) {
    ac::StreamConfig config;
    config.fetch_size = o.fetch_size;
    ac::Statement statement = statement_for(o.cql);  // a SELECT is retried after a timeout
    // A write is sent once: the stream's page retries (a client timeout, a lost connection) would
    // send it again although it may have been applied (a counter or list update would apply twice).
    if (!is_select(o.cql)) config.retry_policy = std::make_shared<ac::NoRetry>();
    ac::ResultStream stream = co_await ac::execute_stream(context.session, statement, config);
    ServerWarnings warnings;  // to stderr, once per distinct text

    OutputFile out("-", false);  // every write checked: a full disk or a closed pipe is exit 8
    std::optional<TablePrinter> table;
    TextBuffer buffer;
    RowRenderer renderer(o.format == "csv" ? TextStyle::csv : TextStyle::jsonl);
    bool header_written = false;
    std::int64_t rows = 0;
    bool stopped = false;
    for (;;) {
        if (context.interruption.requested) {
            stopped = true;
            break;
        }
        std::optional<ac::Page> page = co_await stream.next_page();
        if (!page) break;
        warnings.report(*page);
        buffer.clear();
        if (o.format == "table" && !table) table.emplace(page->columns(), o.table_block, out);
        if (o.format == "csv" && !header_written) {
            std::string header;
            append_csv_header(header, page->columns());
            buffer.append(header);
            header_written = true;
        }
        if (table)
            for (const ac::Row row : *page) table->add(row);
        else
            renderer.append_rows(buffer, *page, 0, page->size());
        rows += static_cast<std::int64_t>(page->size());
        out.write(buffer.view());
    }
    co_await stream.close();
    if (table) table->finish(rows);
    else if (o.format == "table" && is_select(o.cql)) out.write("(0 rows)\n");  // DDL, INSERT: nothing
    out.close();
    if (stopped) {
        std::fprintf(stderr, "acass query: interrupted after %lld rows\n", static_cast<long long>(rows));
        co_return exit_interrupted;
    }
    co_return exit_ok;
}

}  // namespace acass_cli
