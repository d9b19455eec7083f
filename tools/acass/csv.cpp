#include "csv.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/value_text.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace acass_cli {

namespace ac = async_cassandra;

namespace {

bool is_text_kind(ac::TypeKind kind) {
    return kind == ac::TypeKind::varchar || kind == ac::TypeKind::ascii;
}

// 'it''s' -> it's, when the literal is exactly one quoted string; std::nullopt otherwise.
std::optional<std::string> unquote_literal(const std::string& literal) {
    if (literal.size() < 2 || literal.front() != '\'' || literal.back() != '\'') return std::nullopt;
    std::string out;
    out.reserve(literal.size() - 2);
    for (std::size_t i = 1; i + 1 < literal.size(); ++i) {
        if (literal[i] == '\'') {
            if (i + 2 < literal.size() && literal[i + 1] == '\'')
                ++i;
            else
                return std::nullopt;  // a lone quote: several strings, not one
        }
        out += literal[i];
    }
    return out;
}

}  // namespace

std::optional<std::string> value_text(const ac::DataType& type, std::optional<ac::BytesView> raw) {
    if (!raw) return std::nullopt;
    if (is_text_kind(type.kind)) return std::string(reinterpret_cast<const char*>(raw->data()), raw->size());
    std::string literal = ac::to_cql_literal(type, raw);
    if (auto inner = unquote_literal(literal)) return inner;
    return literal;
}

std::optional<std::string> cell_text(const ac::Row& row, std::size_t i) {
    return value_text(*row.columns()[i].type, row.raw(i));
}

void append_csv_field(std::string& out, std::string_view text, const CsvDialect& dialect) {
    const char escape = dialect.escape_char();
    // One pass with five compares per character: string_view::find_first_of calls memchr on the
    // set for every character, which was a fifth of an export's instructions.
    const auto special = [&](char c) {
        return c == dialect.delimiter || c == dialect.quote || c == escape || c == '\r' || c == '\n';
    };
    const bool needs_quotes = text.empty() || text == dialect.null_string || std::any_of(text.begin(), text.end(), special);
    if (!needs_quotes) {
        out += text;
        return;
    }
    out += dialect.quote;
    for (char c : text) {
        if (c == dialect.quote || c == escape) out += escape;
        out += c;
    }
    out += dialect.quote;
}

void append_csv_header(std::string& out, const ac::Columns& columns, const CsvDialect& dialect) {
    bool first = true;
    for (const ac::Column& c : columns) {
        if (!first) out += dialect.delimiter;
        first = false;
        append_csv_field(out, c.name, dialect);
    }
    out += '\n';
}

std::string format_csv_record(const std::vector<CsvField>& fields, const CsvDialect& dialect) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out += dialect.delimiter;
        if (fields[i].is_null(dialect))
            out += dialect.null_string;
        else
            append_csv_field(out, fields[i].text, dialect);
    }
    return out;
}

bool CsvReader::read_line(std::string& line) {
    if (!std::getline(in_, line)) return false;
    if (line_++ == 0 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 BOM
    return true;
}

bool CsvReader::next(CsvRecord& record) {
    record.fields.clear();
    record.raw.clear();
    record.error.clear();
    std::string line;
    do {
        if (!read_line(line)) return false;
    } while (line.empty() || line == "\r");
    record.line = line_;
    std::string consumed;  // earlier lines of a multi-line record (kept for a malformed one)
    const char delimiter = dialect_.delimiter, quote = dialect_.quote, escape = dialect_.escape_char();
    auto malformed = [&](std::string why) {
        record.error = std::move(why);
        record.raw = std::move(consumed);
        record.raw += line;
        if (!record.raw.empty() && record.raw.back() == '\r') record.raw.pop_back();
        return true;
    };

    std::size_t i = 0;
    for (;;) {
        CsvField field;
        if (i < line.size() && line[i] == quote) {
            field.quoted = true;
            ++i;
            field.text.reserve(line.size() - i);  // no reallocation while a large value is copied
            for (;;) {
                if (i >= line.size()) {
                    std::string more;
                    if (!read_line(more)) return malformed("unterminated quoted field");
                    field.text += '\n';
                    consumed += line;
                    consumed += '\n';
                    line = std::move(more);
                    i = 0;
                    continue;
                }
                const char c = line[i];
                if (c == escape && escape != quote && i + 1 < line.size() &&
                    (line[i + 1] == quote || line[i + 1] == escape)) {
                    field.text += line[i + 1];
                    i += 2;
                    continue;
                }
                if (c == quote) {
                    if (escape == quote && i + 1 < line.size() && line[i + 1] == quote) {
                        field.text += quote;
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                // Plain characters up to the next quote or escape: appended in one go.
                std::size_t end = i + 1;
                while (end < line.size() && line[end] != quote && line[end] != escape) ++end;
                field.text.append(line, i, end - i);
                i = end;
            }
            if (i + 1 == line.size() && line[i] == '\r') ++i;
            if (i < line.size() && line[i] != delimiter)
                return malformed("unexpected character after a closing quote (column " +
                                 std::to_string(record.fields.size() + 1) + ")");
        } else {
            std::size_t end = line.find(delimiter, i);
            if (end == std::string::npos) end = line.size();
            std::size_t stop = end;
            if (end == line.size() && stop > i && line[stop - 1] == '\r') --stop;  // CRLF
            field.text.assign(line, i, stop - i);
            i = end;
            if (field.text.find(quote) != std::string::npos)
                return malformed("quote inside an unquoted field (column " + std::to_string(record.fields.size() + 1) +
                                 ")");
        }
        record.fields.push_back(std::move(field));
        if (i >= line.size()) break;
        ++i;  // the delimiter
        if (i == line.size() || (i + 1 == line.size() && line[i] == '\r')) {
            record.fields.push_back(CsvField{});  // trailing delimiter: one more (empty) field
            break;
        }
    }
    return true;
}

}  // namespace acass_cli
