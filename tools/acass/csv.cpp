#include "csv.hpp"

#include <async_cassandra/codec.hpp>

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

std::optional<std::string> cell_text(const ac::Row& row, std::size_t i) {
    const auto raw = row.raw(i);
    if (!raw) return std::nullopt;
    const ac::Column& column = row.columns()[i];
    if (is_text_kind(column.type->kind))
        return std::string(reinterpret_cast<const char*>(raw->data()), raw->size());
    std::string literal = ac::to_cql_literal(*column.type, raw);
    if (auto inner = unquote_literal(literal)) return inner;
    return literal;
}

void append_csv_field(std::string& out, std::string_view text) {
    const bool needs_quotes = text.empty() || text.find_first_of(",\"\r\n") != std::string_view::npos;
    if (!needs_quotes) {
        out += text;
        return;
    }
    out += '"';
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

namespace {

/// Appends the decimal text of a big-endian two's-complement integer of 1, 2, 4 or 8 bytes.
bool append_integer(std::string& out, ac::protocol::BytesView raw) {
    if (raw.size() != 1 && raw.size() != 2 && raw.size() != 4 && raw.size() != 8) return false;
    std::uint64_t bits = 0;
    for (std::uint8_t b : raw) bits = (bits << 8) | b;
    const unsigned shift = 64 - 8 * static_cast<unsigned>(raw.size());
    const auto value = static_cast<std::int64_t>(bits << shift) >> shift;  // sign-extend
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    out.append(buf, end);
    return true;
}

}  // namespace

void append_csv_row(std::string& out, const ac::Row& row) {
    const std::size_t n = row.size();
    const ac::Columns& columns = row.columns();
    for (std::size_t i = 0; i < n; ++i) {
        if (i) out += ',';
        // Fast paths for the commonest types, with the same text as cell_text (no allocation).
        const auto raw = row.raw(i);
        if (!raw) continue;  // NULL: empty field
        switch (columns[i].type->kind) {
            case ac::TypeKind::varchar:
            case ac::TypeKind::ascii:
                append_csv_field(out, std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()));
                continue;
            case ac::TypeKind::tinyint:
            case ac::TypeKind::smallint:
            case ac::TypeKind::int_:
            case ac::TypeKind::bigint:
            case ac::TypeKind::counter:
                if (append_integer(out, *raw)) continue;
                break;
            default:
                break;
        }
        if (auto text = cell_text(row, i)) append_csv_field(out, *text);
    }
    out += '\n';
}

void append_csv_header(std::string& out, const ac::Columns& columns) {
    bool first = true;
    for (const ac::Column& c : columns) {
        if (!first) out += ',';
        first = false;
        append_csv_field(out, c.name);
    }
    out += '\n';
}

bool CsvReader::read_line(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++line_;
    return true;
}

bool CsvReader::next(CsvRecord& record) {
    record = CsvRecord{};
    std::string line;
    do {
        if (!read_line(line)) return false;
    } while (line.empty() || line == "\r");
    record.line = line_;
    record.raw = line;

    // A CR right before the LF ends the line (CRLF files); inside quotes CR is data.
    auto strip_cr = [](std::string& s) {
        if (!s.empty() && s.back() == '\r') s.pop_back();
    };
    std::size_t i = 0;
    for (;;) {
        CsvField field;
        if (i < line.size() && line[i] == '"') {
            field.quoted = true;
            ++i;
            for (;;) {
                if (i >= line.size()) {
                    std::string more;
                    if (!read_line(more)) {
                        record.error = "unterminated quoted field";
                        return true;
                    }
                    field.text += '\n';
                    record.raw += '\n';
                    record.raw += more;
                    line = std::move(more);
                    i = 0;
                    continue;
                }
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        field.text += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field.text += line[i++];
            }
            if (i + 1 == line.size() && line[i] == '\r') ++i;
            if (i < line.size() && line[i] != ',') {
                record.error = "unexpected character after a closing quote (column " +
                               std::to_string(record.fields.size() + 1) + ")";
                return true;
            }
        } else {
            const std::size_t end = line.find(',', i);
            field.text = line.substr(i, end == std::string::npos ? std::string::npos : end - i);
            i = end == std::string::npos ? line.size() : end;
            if (i == line.size()) strip_cr(field.text);
            if (field.text.find('"') != std::string::npos) {
                record.error = "quote inside an unquoted field (column " +
                               std::to_string(record.fields.size() + 1) + ")";
                return true;
            }
        }
        record.fields.push_back(std::move(field));
        if (i >= line.size()) break;
        ++i;  // the comma
        if (i == line.size()) {
            record.fields.push_back(CsvField{});  // trailing comma: one more (empty) field
            break;
        }
    }
    strip_cr(record.raw);
    return true;
}

}  // namespace acass_cli
