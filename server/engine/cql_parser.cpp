// Lexer and recursive-descent parser for the CQL subset of cql_ast.hpp. Keywords are matched
// case-insensitively and only against unquoted identifiers, so `"select"` stays a column name.
#include "server/engine/cql_ast.hpp"

#include <cctype>

namespace async_cassandra::server::cql {
namespace {

enum class Tok { ident, quoted_ident, string, integer, floating, uuid, hex, duration, punct, qmark, end };

struct Token {
    Tok kind = Tok::end;
    std::string text;  ///< lower-cased for unquoted identifiers; unescaped for strings
    std::size_t line = 1;
    std::size_t col = 0;
};

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Cassandra's IDENT is LETTER (LETTER | DIGIT | '_')*: an unquoted name cannot start with '_'.
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class Lexer {
public:
    explicit Lexer(std::string_view text) : s_(text) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        for (;;) {
            skip_space_and_comments();
            Token t;
            t.line = line_;
            t.col = pos_ - line_start_;
            if (pos_ >= s_.size()) {
                t.kind = Tok::end;
                out.push_back(t);
                return out;
            }
            lex_one(t);
            out.push_back(std::move(t));
        }
    }

private:
    [[noreturn]] void fail(const std::string& what) {
        throw_syntax("line " + std::to_string(line_) + ":" + std::to_string(pos_ - line_start_) + " " + what);
    }
    char peek(std::size_t k = 0) const { return pos_ + k < s_.size() ? s_[pos_ + k] : '\0'; }
    void advance() {
        if (s_[pos_] == '\n') {
            ++line_;
            line_start_ = pos_ + 1;
        }
        ++pos_;
    }
    /// The text between `quote` at pos_ and its closing twin, a doubled quote standing for one
    /// (a "quoted identifier" and a 'string literal' are lexed alike).
    std::string lex_quoted(char quote, const char* unterminated) {
        std::string text;
        ++pos_;
        for (;;) {
            if (pos_ >= s_.size()) fail(unterminated);
            if (peek() == quote) {
                if (peek(1) != quote) break;
                text += quote;
                pos_ += 2;
                continue;
            }
            text += s_[pos_];
            advance();
        }
        ++pos_;
        return text;
    }

    void skip_space_and_comments() {
        for (;;) {
            while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) advance();
            if ((peek() == '-' && peek(1) == '-') || (peek() == '/' && peek(1) == '/')) {
                while (pos_ < s_.size() && s_[pos_] != '\n') advance();
                continue;
            }
            if (peek() == '/' && peek(1) == '*') {
                pos_ += 2;
                while (pos_ < s_.size() && !(peek() == '*' && peek(1) == '/')) advance();
                if (pos_ >= s_.size()) fail("unterminated comment");
                pos_ += 2;
                continue;
            }
            return;
        }
    }

    bool matches_uuid() const {
        static constexpr int groups[] = {8, 4, 4, 4, 12};
        std::size_t p = pos_;
        for (int g = 0; g < 5; ++g) {
            for (int i = 0; i < groups[g]; ++i, ++p)
                if (p >= s_.size() || !is_hex(s_[p])) return false;
            if (g < 4) {
                if (p >= s_.size() || s_[p] != '-') return false;
                ++p;
            }
        }
        return p >= s_.size() || !is_ident_char(s_[p]);
    }

    void lex_one(Token& t) {
        char c = peek();
        if (is_hex(c) && matches_uuid()) {
            t.kind = Tok::uuid;
            t.text = lower(s_.substr(pos_, 36));
            pos_ += 36;
            return;
        }
        if (c == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
            pos_ += 2;
            std::size_t start = pos_;
            while (is_hex(peek())) ++pos_;
            if (is_ident_char(peek())) fail("invalid blob literal");
            t.kind = Tok::hex;
            t.text = lower(s_.substr(start, pos_ - start));
            return;
        }
        if (is_digit(c) || (c == '-' && is_digit(peek(1))) || (c == '.' && is_digit(peek(1)))) {
            lex_number(t);
            return;
        }
        if (is_ident_start(c)) {
            std::size_t start = pos_;
            while (is_ident_char(peek())) ++pos_;
            t.kind = Tok::ident;
            t.text = lower(s_.substr(start, pos_ - start));
            return;
        }
        if (c == '"') {
            t.text = lex_quoted('"', "unterminated quoted identifier");
            if (t.text.empty()) fail("empty quoted identifier");
            t.kind = Tok::quoted_ident;
            return;
        }
        if (c == '\'') {
            t.text = lex_quoted('\'', "unterminated string literal");
            t.kind = Tok::string;
            return;
        }
        if (c == '$' && peek(1) == '$') {
            pos_ += 2;
            auto end = s_.find("$$", pos_);
            if (end == std::string_view::npos) fail("unterminated $$ string");
            t.text = std::string(s_.substr(pos_, end - pos_));
            while (pos_ < end) advance();
            pos_ = end + 2;
            t.kind = Tok::string;
            return;
        }
        if (c == '?') {
            ++pos_;
            t.kind = Tok::qmark;
            t.text = "?";
            return;
        }
        static constexpr std::string_view two[] = {"<=", ">=", "!="};
        for (auto op : two)
            if (s_.substr(pos_, 2) == op) {
                t.kind = Tok::punct;
                t.text = std::string(op);
                pos_ += 2;
                return;
            }
        if (std::string_view("(),;.*=<>[]{}:+-").find(c) != std::string_view::npos) {
            t.kind = Tok::punct;
            t.text = std::string(1, c);
            ++pos_;
            return;
        }
        // What Cassandra's (ANTLR 3) lexer reports for a character no token starts with.
        fail(std::string("no viable alternative at character '") + c + "'");
    }

    void lex_number(Token& t) {
        std::size_t start = pos_;
        if (peek() == '-') ++pos_;
        while (is_digit(peek())) ++pos_;
        // A digit run followed by a unit is a duration literal (1h30m, 12mo, 3us).
        if (std::isalpha(static_cast<unsigned char>(peek())) && !((peek() == 'e' || peek() == 'E') &&
                                                                    (is_digit(peek(1)) || ((peek(1) == '-' || peek(1) == '+') && is_digit(peek(2)))))) {
            while (is_ident_char(peek()) || static_cast<unsigned char>(peek()) >= 0x80) ++pos_;
            t.kind = Tok::duration;
            t.text = lower(s_.substr(start, pos_ - start));
            return;
        }
        bool is_float = false;
        if (peek() == '.' && is_digit(peek(1))) {
            is_float = true;
            ++pos_;
            while (is_digit(peek())) ++pos_;
        } else if (peek() == '.' && !is_ident_start(peek(1))) {
            is_float = true;
            ++pos_;
        }
        if ((peek() == 'e' || peek() == 'E') &&
            (is_digit(peek(1)) || ((peek(1) == '-' || peek(1) == '+') && is_digit(peek(2))))) {
            is_float = true;
            pos_ += 2;
            while (is_digit(peek())) ++pos_;
        }
        if (is_ident_char(peek())) fail("invalid number literal");
        t.kind = is_float ? Tok::floating : Tok::integer;
        t.text = std::string(s_.substr(start, pos_ - start));
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    std::size_t line_start_ = 0;
};

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

    ParsedStatement parse_statement() {
        ParsedStatement out;
        out.statement = statement();
        accept_punct(";");
        if (cur().kind != Tok::end) fail("extraneous input");
        out.bind_count = bind_count_;
        return out;
    }

    TypeExpr parse_type_only() {
        TypeExpr t = type();
        if (cur().kind != Tok::end) fail("extraneous input");
        return t;
    }

private:
    const Token& cur() const { return t_[i_]; }
    const Token& ahead(std::size_t k) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
    void next() {
        if (i_ + 1 < t_.size()) ++i_;
    }

    [[noreturn]] void fail(const std::string& what) {
        const Token& t = cur();
        std::string shown = t.kind == Tok::end ? "<EOF>" : t.kind == Tok::string ? "'" + t.text + "'" : t.text;
        throw_syntax("line " + std::to_string(t.line) + ":" + std::to_string(t.col) + " " + what + " at input '" +
                     shown + "'");
    }

    bool is_kw(std::string_view kw, std::size_t k = 0) const {
        const Token& t = ahead(k);
        return t.kind == Tok::ident && t.text == kw;
    }
    bool accept_kw(std::string_view kw) {
        if (!is_kw(kw)) return false;
        next();
        return true;
    }
    void expect_kw(std::string_view kw) {
        if (!accept_kw(kw)) fail("mismatched input, expecting " + lower(kw));
    }
    bool is_punct(std::string_view p, std::size_t k = 0) const {
        const Token& t = ahead(k);
        return t.kind == Tok::punct && t.text == p;
    }
    bool accept_punct(std::string_view p) {
        if (!is_punct(p)) return false;
        next();
        return true;
    }
    void expect_punct(std::string_view p) {
        if (!accept_punct(p)) fail("mismatched input, expecting '" + std::string(p) + "'");
    }

    // Reserved words cannot be unquoted identifiers (keeps `SELECT FROM t` a syntax error).
    static bool reserved(std::string_view w) {
        static constexpr std::string_view words[] = {
            "select", "from", "where", "and", "insert", "into", "values", "update", "set", "delete", "create",
            "drop", "table", "keyspace", "use", "limit", "order", "by", "asc", "desc", "in", "batch", "apply",
            "begin", "using", "if", "not", "with", "primary", "truncate", "token", "allow", "null", "of", "to",
            "is", "grant", "revoke", "modify", "alter", "add", "schema", "unlogged", "infinity", "nan"};
        for (auto r : words)
            if (r == w) return true;
        return false;
    }

    std::string identifier(const char* what = "identifier") {
        const Token& t = cur();
        if (t.kind == Tok::quoted_ident || (t.kind == Tok::ident && !reserved(t.text))) {
            std::string s = t.text;
            next();
            return s;
        }
        // Non-reserved keywords double as names (key, type, ttl, count, ...), like Cassandra.
        fail(std::string("no viable alternative, expecting ") + what);
    }

    QualifiedName qualified_name() {
        QualifiedName q;
        q.name = identifier("table name");
        if (accept_punct(".")) {
            q.keyspace = std::move(q.name);
            q.name = identifier("table name");
        }
        return q;
    }

    bool if_not_exists() {
        if (is_kw("if") && is_kw("not", 1)) {
            next();
            next();
            expect_kw("exists");
            return true;
        }
        return false;
    }
    bool if_exists() {
        if (is_kw("if") && is_kw("exists", 1)) {
            next();
            next();
            return true;
        }
        return false;
    }

    Statement statement() {
        if (accept_kw("select")) return select();
        if (accept_kw("insert")) return insert();
        if (accept_kw("update")) return update();
        if (accept_kw("delete")) return delete_();
        if (accept_kw("begin")) return batch();
        if (accept_kw("use")) return UseStmt{identifier("keyspace name")};
        if (accept_kw("truncate")) {
            accept_kw("table");
            return TruncateStmt{qualified_name()};
        }
        if (accept_kw("create")) {
            if (accept_kw("keyspace") || accept_kw("schema")) return create_keyspace();
            if (accept_kw("table") || accept_kw("columnfamily")) return create_table();
            if (accept_kw("type")) return create_type();
            if (is_kw("index") || is_kw("custom") || is_kw("materialized") || is_kw("function") || is_kw("or") ||
                is_kw("aggregate") || is_kw("trigger") || is_kw("role") || is_kw("user"))
                throw_invalid("CREATE " + cur().text + " is not supported by the embedded node");
            fail("no viable alternative");
        }
        if (accept_kw("drop")) {
            if (accept_kw("keyspace") || accept_kw("schema")) {
                DropKeyspaceStmt s;
                s.if_exists = if_exists();
                s.name = identifier("keyspace name");
                return s;
            }
            if (accept_kw("table") || accept_kw("columnfamily")) {
                DropTableStmt s;
                s.if_exists = if_exists();
                s.table = qualified_name();
                return s;
            }
            if (accept_kw("type")) {
                DropTypeStmt s;
                s.if_exists = if_exists();
                s.type = qualified_name();
                return s;
            }
            fail("no viable alternative");
        }
        if (accept_kw("alter")) {
            if (accept_kw("keyspace") || accept_kw("schema")) {
                AlterKeyspaceStmt s;
                s.spec.name = identifier("keyspace name");
                expect_kw("with");
                std::map<std::string, std::string> ignored;
                with_options(ignored, nullptr, &s.spec);
                return s;
            }
            if (accept_kw("table")) {
                AlterTableAddStmt s;
                s.table = qualified_name();
                if (accept_kw("with")) {
                    std::vector<std::pair<std::string, bool>> order;
                    with_options(s.options, &order, nullptr);
                    if (!order.empty()) throw_invalid("Cannot change the clustering order of an existing table");
                    return s;
                }
                expect_kw("add");
                bool paren = accept_punct("(");
                do {
                    ColumnDecl c;
                    c.name = identifier("column name");
                    c.type = type();
                    c.is_static = accept_kw("static");
                    s.columns.push_back(std::move(c));
                } while (paren && accept_punct(","));
                if (paren) expect_punct(")");
                return s;
            }
            fail("no viable alternative");
        }
        fail("no viable alternative");
    }

    // ------------------------------------------------------------ terms

    Term bind(std::string name) {
        Term t;
        t.kind = Term::Kind::bind;
        t.bind_index = bind_count_++;
        t.bind_name = std::move(name);
        return t;
    }

    struct DepthGuard {
        int& depth;
        explicit DepthGuard(int& d) : depth(d) { ++depth; }
        ~DepthGuard() { --depth; }
    };

    Term term() {
        DepthGuard guard(term_depth_);
        if (term_depth_ > 64) fail("literal nested too deeply");
        const Token& t = cur();
        Term out;
        switch (t.kind) {
            case Tok::string: out.kind = Term::Kind::string; break;
            case Tok::integer: out.kind = Term::Kind::integer; break;
            case Tok::floating: out.kind = Term::Kind::floating; break;
            case Tok::uuid: out.kind = Term::Kind::uuid; break;
            case Tok::hex: out.kind = Term::Kind::hex; break;
            case Tok::duration: out.kind = Term::Kind::duration; break;
            case Tok::qmark: next(); return bind({});
            case Tok::ident:
                if (t.text == "true" || t.text == "false") {
                    out.kind = Term::Kind::boolean;
                    break;
                }
                if (t.text == "null") {
                    out.kind = Term::Kind::null;
                    break;
                }
                if (t.text == "nan" || t.text == "infinity") {
                    out.kind = Term::Kind::floating;
                    break;
                }
                if (is_punct("(", 1)) {  // function call: now(), uuid(), totimestamp(now()), ...
                    out.kind = Term::Kind::function;
                    out.text = t.text;
                    next();
                    next();
                    if (!accept_punct(")")) {
                        do out.elems.push_back(term());
                        while (accept_punct(","));
                        expect_punct(")");
                    }
                    return out;
                }
                fail("no viable alternative, expecting a value");
            case Tok::punct:
                if (t.text == "-" && ahead(1).kind == Tok::ident &&
                    (ahead(1).text == "nan" || ahead(1).text == "infinity")) {
                    next();
                    out.kind = Term::Kind::floating;
                    out.text = "-" + cur().text;
                    next();
                    return out;
                }
                if (t.text == ":") {
                    next();
                    return bind(identifier("bind marker name"));
                }
                if (t.text == "[") return collection("[", "]", Term::Kind::list);
                if (t.text == "(") return collection("(", ")", Term::Kind::tuple);
                if (t.text == "{") return brace_literal();
                fail("no viable alternative, expecting a value");
            default: fail("no viable alternative, expecting a value");
        }
        out.text = t.text;
        next();
        return out;
    }

    Term collection(std::string_view open, std::string_view close, Term::Kind kind) {
        expect_punct(open);
        Term out;
        out.kind = kind;
        if (!accept_punct(close)) {
            do out.elems.push_back(term());
            while (accept_punct(","));
            expect_punct(close);
        }
        return out;
    }

    Term brace_literal() {
        expect_punct("{");
        Term out;
        out.kind = Term::Kind::map;  // `{}` stays a map; the receiver's type may turn it into a set
        if (accept_punct("}")) return out;
        if ((cur().kind == Tok::ident || cur().kind == Tok::quoted_ident) && is_punct(":", 1)) {
            out.kind = Term::Kind::udt;
            do {
                out.field_names.push_back(identifier("field name"));
                expect_punct(":");
                out.elems.push_back(term());
            } while (accept_punct(","));
            expect_punct("}");
            return out;
        }
        Term first = term();
        if (accept_punct(":")) {
            out.elems.push_back(std::move(first));
            out.elems.push_back(term());
            while (accept_punct(",")) {
                out.elems.push_back(term());
                expect_punct(":");
                out.elems.push_back(term());
            }
        } else {
            out.kind = Term::Kind::set;
            out.elems.push_back(std::move(first));
            while (accept_punct(",")) out.elems.push_back(term());
        }
        expect_punct("}");
        return out;
    }

    // ------------------------------------------------------------ types

    TypeExpr type(int depth = 0) {
        if (depth > 32) fail("type nested too deeply");
        TypeExpr out;
        if (cur().kind == Tok::string) {  // custom type class name
            out.name = "'" + cur().text + "'";
            next();
            return out;
        }
        // Type names may be keywords (`set`), so any unquoted word is accepted here.
        std::string name;
        if (cur().kind == Tok::ident) {
            name = cur().text;
            next();
        } else {
            name = identifier("type");
        }
        if (accept_punct(".")) {
            out.keyspace = name;
            out.name = identifier("type");
            return out;
        }
        out.name = name;
        if (accept_punct("<")) {
            if (name == "vector") {
                out.params.push_back(type(depth + 1));
                expect_punct(",");
                if (cur().kind != Tok::integer) fail("expecting vector dimension");
                out.dimension = std::stoi(cur().text.size() > 9 ? "0" : cur().text);
                next();
            } else {
                do out.params.push_back(type(depth + 1));
                while (accept_punct(","));
            }
            expect_punct(">");
        }
        return out;
    }

    // ------------------------------------------------------------ statements

    std::map<std::string, std::string> string_map_literal() {
        std::map<std::string, std::string> out;
        expect_punct("{");
        if (accept_punct("}")) return out;
        do {
            std::string k = literal_text();
            expect_punct(":");
            out[k] = literal_text();
        } while (accept_punct(","));
        expect_punct("}");
        return out;
    }

    std::string literal_text() {
        const Token& t = cur();
        if (t.kind == Tok::string || t.kind == Tok::integer || t.kind == Tok::floating || t.kind == Tok::ident ||
            t.kind == Tok::quoted_ident) {
            std::string s = t.text;
            next();
            return s;
        }
        fail("expecting a constant");
    }

    // WITH name = value AND ... ; values are constants or maps; returned as text.
    void with_options(std::map<std::string, std::string>& out,
                      std::vector<std::pair<std::string, bool>>* clustering_order, CreateKeyspaceStmt* ks) {
        do {
            if (clustering_order && is_kw("clustering") && is_kw("order", 1)) {
                next();
                next();
                expect_kw("by");
                expect_punct("(");
                do {
                    std::string col = identifier("column name");
                    bool desc = false;
                    if (accept_kw("desc")) desc = true;
                    else accept_kw("asc");
                    clustering_order->emplace_back(col, desc);
                } while (accept_punct(","));
                expect_punct(")");
                continue;
            }
            if (clustering_order && accept_kw("compact")) {
                expect_kw("storage");
                continue;
            }
            std::string name = identifier("property name");
            expect_punct("=");
            if (is_punct("{")) {
                auto map = string_map_literal();
                if (ks && name == "replication") {
                    ks->replication = map;
                } else {
                    std::string text = "{";
                    for (const auto& [k, v] : map) text += (text.size() > 1 ? ", '" : "'") + k + "': '" + v + "'";
                    out[name] = text + "}";
                }
            } else {
                std::string v = literal_text();
                if (ks && name == "durable_writes") {
                    if (v != "true" && v != "false")
                        throw CqlError{ServerErrorCode::syntax_error, "Invalid boolean value " + v, {}, {}, {}};
                    ks->durable_writes = v == "true";
                } else {
                    out[name] = v;
                }
            }
        } while (accept_kw("and"));
    }

    Statement create_keyspace() {
        CreateKeyspaceStmt s;
        s.if_not_exists = if_not_exists();
        s.name = identifier("keyspace name");
        std::map<std::string, std::string> ignored;
        if (accept_kw("with")) with_options(ignored, nullptr, &s);
        return s;
    }

    Statement create_table() {
        CreateTableStmt s;
        s.if_not_exists = if_not_exists();
        s.table = qualified_name();
        expect_punct("(");
        do {
            if (is_kw("primary") && is_kw("key", 1)) {
                next();
                next();
                expect_punct("(");
                if (accept_punct("(")) {
                    do s.partition_key.push_back(identifier("column name"));
                    while (accept_punct(","));
                    expect_punct(")");
                } else {
                    s.partition_key.push_back(identifier("column name"));
                }
                while (accept_punct(",")) s.clustering.push_back(identifier("column name"));
                expect_punct(")");
                continue;
            }
            if (is_punct(")")) break;  // trailing comma
            ColumnDecl c;
            c.name = identifier("column name");
            c.type = type();
            if (accept_kw("static")) c.is_static = true;
            if (is_kw("primary") && is_kw("key", 1)) {
                next();
                next();
                s.partition_key.push_back(c.name);
            }
            s.columns.push_back(std::move(c));
        } while (accept_punct(","));
        expect_punct(")");
        if (accept_kw("with")) with_options(s.options, &s.clustering_order, nullptr);
        return s;
    }

    Statement create_type() {
        CreateTypeStmt s;
        s.if_not_exists = if_not_exists();
        s.type = qualified_name();
        expect_punct("(");
        do {
            std::string name = identifier("field name");
            s.fields.emplace_back(name, type());
        } while (accept_punct(","));
        expect_punct(")");
        return s;
    }

    void using_clause(std::optional<Term>* ttl, std::optional<Term>* timestamp) {
        do {
            if (ttl && accept_kw("ttl")) *ttl = term();
            else if (accept_kw("timestamp")) *timestamp = term();
            else fail("mismatched input, expecting TTL or TIMESTAMP");
        } while (accept_kw("and"));
    }

    Statement insert() {
        InsertStmt s;
        expect_kw("into");
        s.table = qualified_name();
        if (is_kw("json")) fail("INSERT JSON is not supported");
        expect_punct("(");
        do s.columns.push_back(identifier("column name"));
        while (accept_punct(","));
        expect_punct(")");
        expect_kw("values");
        expect_punct("(");
        do s.values.push_back(term());
        while (accept_punct(","));
        expect_punct(")");
        if (is_kw("if")) {
            if (!if_not_exists()) fail("mismatched input, expecting NOT");
            s.if_not_exists = true;
        }
        if (accept_kw("using")) using_clause(&s.ttl, &s.timestamp);
        return s;
    }

    Statement update() {
        UpdateStmt s;
        s.table = qualified_name();
        if (accept_kw("using")) using_clause(&s.ttl, &s.timestamp);
        expect_kw("set");
        do {
            Assignment a;
            a.column = identifier("column name");
            if (accept_punct("[")) {
                a.element_key = term();
                expect_punct("]");
            }
            expect_punct("=");
            // `c = c + x`, `c = c - x`, `l = x + l`; a negative literal after c is `c - literal`.
            const Token& t = cur();
            bool self = (t.kind == Tok::ident || t.kind == Tok::quoted_ident) && t.text == a.column &&
                        !is_punct("(", 1) && !a.element_key;
            if (self && (is_punct("+", 1) || is_punct("-", 1))) {
                next();
                a.kind = cur().text == "+" ? Assignment::Kind::add : Assignment::Kind::subtract;
                next();
                a.value = term();
            } else if (self && (ahead(1).kind == Tok::integer || ahead(1).kind == Tok::floating) &&
                       ahead(1).text.starts_with("-")) {
                next();
                a.kind = Assignment::Kind::subtract;
                a.value = term();
                a.value.text.erase(0, 1);
            } else {
                a.value = term();
                if (accept_punct("+")) {
                    std::string col = identifier("column name");
                    if (col != a.column) fail("invalid operation");
                    a.kind = Assignment::Kind::prepend;
                }
            }
            s.assignments.push_back(std::move(a));
        } while (accept_punct(","));
        expect_kw("where");
        s.where = where_clause();
        if (is_kw("if")) {
            if (!if_exists()) fail("conditional updates other than IF EXISTS are not supported");
            s.if_exists = true;
        }
        return s;
    }

    Statement delete_() {
        DeleteStmt s;
        if (!is_kw("from")) {
            do s.columns.push_back(identifier("column name"));
            while (accept_punct(","));
        }
        expect_kw("from");
        s.table = qualified_name();
        if (accept_kw("using")) using_clause(nullptr, &s.timestamp);
        expect_kw("where");
        s.where = where_clause();
        if (is_kw("if")) {
            if (!if_exists()) fail("conditional deletions other than IF EXISTS are not supported");
            s.if_exists = true;
        }
        return s;
    }

    Statement batch() {
        auto b = std::make_shared<BatchStmt>();
        if (accept_kw("unlogged")) b->unlogged = true;
        else if (accept_kw("counter")) b->counter = true;
        else accept_kw("logged");
        expect_kw("batch");
        if (accept_kw("using")) using_clause(nullptr, &b->timestamp);
        for (;;) {
            accept_punct(";");
            if (accept_kw("apply")) {
                expect_kw("batch");
                break;
            }
            if (accept_kw("insert")) b->statements.push_back(insert());
            else if (accept_kw("update")) b->statements.push_back(update());
            else if (accept_kw("delete")) b->statements.push_back(delete_());
            else fail("mismatched input, expecting INSERT, UPDATE, DELETE or APPLY BATCH");
        }
        return b;
    }

    Op relation_op() {
        const Token& t = cur();
        if (t.kind == Tok::punct) {
            static const std::pair<std::string_view, Op> ops[] = {{"=", Op::eq}, {"<", Op::lt}, {"<=", Op::le},
                                                                  {">", Op::gt}, {">=", Op::ge}, {"!=", Op::neq}};
            for (const auto& [s, op] : ops)
                if (t.text == s) {
                    next();
                    return op;
                }
        }
        if (accept_kw("in")) return Op::in;
        if (accept_kw("contains")) return accept_kw("key") ? Op::contains_key : Op::contains;
        fail("no viable alternative, expecting a relation operator");
    }

    std::vector<Relation> where_clause() {
        std::vector<Relation> out;
        do {
            Relation r;
            if (is_kw("token") && is_punct("(", 1)) {
                next();
                next();
                r.is_token = true;
                do r.columns.push_back(identifier("column name"));
                while (accept_punct(","));
                expect_punct(")");
            } else if (is_punct("(")) {
                fail("multi-column relations are not supported");
            } else {
                r.columns.push_back(identifier("column name"));
            }
            r.op = relation_op();
            if (r.op == Op::in && is_punct("(")) {
                next();
                r.in_list = true;
                if (!accept_punct(")")) {
                    do r.in_values.push_back(term());
                    while (accept_punct(","));
                    expect_punct(")");
                }
            } else {
                r.value = term();
            }
            if (r.is_token && r.op == Op::in) fail("IN is not supported on token()");
            out.push_back(std::move(r));
        } while (accept_kw("and"));
        return out;
    }

    Selector selector() {
        Selector s;
        if ((is_kw("count")) && is_punct("(", 1)) {
            next();
            next();
            if (accept_punct("*")) {
            } else if (cur().kind == Tok::integer && cur().text == "1") {
                next();
            } else {
                s.column = identifier("column name");
            }
            expect_punct(")");
            s.kind = Selector::Kind::count;
        } else if ((is_kw("writetime") || is_kw("ttl")) && is_punct("(", 1)) {
            s.kind = is_kw("ttl") ? Selector::Kind::ttl : Selector::Kind::writetime;
            next();
            next();
            s.column = identifier("column name");
            expect_punct(")");
        } else if (is_kw("token") && is_punct("(", 1)) {
            next();
            next();
            s.kind = Selector::Kind::token;
            do s.args.push_back(identifier("column name"));
            while (accept_punct(","));
            expect_punct(")");
        } else {
            s.column = identifier("column name");
        }
        if (accept_kw("as")) s.alias = identifier("alias");
        return s;
    }

    Statement select() {
        SelectStmt s;
        if (is_kw("json")) fail("SELECT JSON is not supported");
        if (is_kw("distinct") && !is_kw("from", 1) && !is_punct(",", 1)) {
            next();
            s.distinct = true;
        }
        if (accept_punct("*")) {
            s.star = true;
        } else {
            do s.selectors.push_back(selector());
            while (accept_punct(","));
        }
        expect_kw("from");
        s.table = qualified_name();
        if (accept_kw("where")) s.where = where_clause();
        if (accept_kw("group")) fail("GROUP BY is not supported");
        if (accept_kw("order")) {
            expect_kw("by");
            do {
                std::string col = identifier("column name");
                bool desc = false;
                if (accept_kw("desc")) desc = true;
                else accept_kw("asc");
                s.order_by.emplace_back(col, desc);
            } while (accept_punct(","));
        }
        if (is_kw("per") && is_kw("partition", 1)) {
            next();
            next();
            expect_kw("limit");
            s.per_partition_limit = term();
        }
        if (accept_kw("limit")) s.limit = term();
        if (accept_kw("allow")) {
            expect_kw("filtering");
            s.allow_filtering = true;
        }
        return s;
    }

    std::vector<Token> t_;
    std::size_t i_ = 0;
    int bind_count_ = 0;
    int term_depth_ = 0;
};

}  // namespace

ParsedStatement parse_cql(std::string_view text) { return Parser(Lexer(text).run()).parse_statement(); }

TypeExpr parse_cql_type(std::string_view text) { return Parser(Lexer(text).run()).parse_type_only(); }

}  // namespace async_cassandra::server::cql
