#include "box/dockerfile.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <set>

#include "box/error.hpp"
#include "box/shell_lexer.hpp"
#include "box/util.hpp"

namespace box::dockerfile {
namespace {

using shell::is_space;

// Why a line does not parse; parse() adds where.
struct Failure {
    std::string why;
};

// The bytes of the blanks `s` starts with (Go's unicode.IsSpace, UTF-8 aware).
size_t leading_blanks(std::string_view s) {
    size_t at = 0;
    for (size_t next = 0; next < s.size() && is_space(shell::utf8_next(s, next)); at = next) {}
    return at;
}

std::string_view trim_left(std::string_view s) { return s.substr(leading_blanks(s)); }

// Go's strings.TrimSpace.
std::string_view trim(std::string_view s) {
    s = trim_left(s);
    size_t end = 0;
    for (size_t at = 0; at < s.size();)
        if (!is_space(shell::utf8_next(s, at))) end = at;
    return s.substr(0, end);
}

// The blanks that separate an instruction's words ([\t\v\f\r ] of buildkit).
bool is_separator(char ch) { return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f' || ch == '\r'; }

// `s` split at runs of separators, at most `limit` parts (0: no limit).
std::vector<std::string> split_blanks(std::string_view s, size_t limit = 0) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (!is_separator(s[i]) || (limit && out.size() + 1 == limit)) continue;
        out.emplace_back(s.substr(start, i - start));
        while (i + 1 < s.size() && is_separator(s[i + 1])) ++i;
        start = i + 1;
    }
    out.emplace_back(s.substr(start));
    return out;
}

bool is_comment(std::string_view line) {
    line = trim_left(line);
    return !line.empty() && line[0] == '#';
}

std::string_view trim_newline(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    return line;
}

// Strips a line continuation (the escape character, then only spaces and
// tabs) from `line`; false if there is none. An escaped escape character
// ends no line: `C:\\` is a path.
bool trim_continuation(std::string& line, char escape) {
    size_t end = line.find_last_not_of(" \t");
    if (end == std::string::npos || line[end] != escape || (end > 0 && line[end - 1] == escape)) return false;
    line.erase(end);
    return true;
}

// The lines of the text as a scanner reads them, each with its line end.
class Lines {
public:
    explicit Lines(std::string_view text) : text_(text) {}
    std::optional<std::string_view> next() {
        if (at_ >= text_.size()) return std::nullopt;
        size_t nl = text_.find('\n', at_);
        size_t end = nl == std::string_view::npos ? text_.size() : nl + 1;
        std::string_view line = text_.substr(at_, end - at_);
        at_ = end;
        ++number_;
        return line;
    }
    int number() const { return number_; }

private:
    std::string_view text_;
    size_t at_ = 0;
    int number_ = 0;
};

// `# name=value` before any other line: syntax and escape, each once.
class DirectiveReader {
public:
    void read(std::string_view line, Dockerfile& df) {
        if (done_) return;
        auto directive = match(line);
        if (!directive || (directive->first != "syntax" && directive->first != "escape" && directive->first != "check")) {
            done_ = true;
            return;
        }
        auto& [name, value] = *directive;
        if (!seen_.insert(name).second) throw Failure{"only one " + name + " parser directive can be used"};
        if (name == "escape") {
            if (value != "\\" && value != "`") throw Failure{"invalid escape token '" + value + "' does not match ` or \\"};
            df.escape = value[0];
        } else if (name == "syntax") {
            df.syntax = value;
        }
    }

private:
    // ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ with the name lower-cased.
    static std::optional<std::pair<std::string, std::string>> match(std::string_view line) {
        const char* blanks = " \t\n\f\r";
        if (line.empty() || line[0] != '#') return std::nullopt;
        size_t at = line.find_first_not_of(blanks, 1);
        if (at == std::string_view::npos || !isalpha(static_cast<unsigned char>(line[at]))) return std::nullopt;
        size_t end = at;
        while (end < line.size() && isalnum(static_cast<unsigned char>(line[end]))) ++end;
        std::string name = to_lower(line.substr(at, end - at));
        size_t eq = line.find_first_not_of(blanks, end);
        if (eq == std::string_view::npos || line[eq] != '=') return std::nullopt;
        size_t value = line.find_first_not_of(blanks, eq + 1);
        if (value == std::string_view::npos) return std::nullopt;
        size_t last = line.find_last_not_of(blanks);
        return std::pair{name, std::string(line.substr(value, last + 1 - value))};
    }

    bool done_ = false;
    std::set<std::string> seen_;
};

// Leading `--name[=value]` words of `line` (quotes removed, `\` escapes),
// up to the first other word or a `--` of its own; and the rest of the line.
std::pair<std::vector<std::string>, std::string_view> extract_flags(std::string_view line) {
    std::vector<std::string> flags;
    size_t pos = 0;
    while (true) {
        while (pos < line.size() && is_space(static_cast<unsigned char>(line[pos]))) ++pos;
        if (pos + 1 >= line.size() || line[pos] != '-' || line[pos + 1] != '-') return {flags, line.substr(pos)};
        std::string word;
        bool quoted_blank = false;  // "--a=''" is a flag even though nothing is left of it
        char quote = 0;
        for (; pos < line.size() && (quote || !is_space(static_cast<unsigned char>(line[pos]))); ++pos) {
            char ch = line[pos];
            if (!quote && (ch == '\'' || ch == '"')) {
                quote = ch;
                quoted_blank = true;
            } else if (quote && ch == quote) {
                quote = 0;
            } else if (ch == '\\') {
                if (pos + 1 < line.size()) word += line[++pos];
            } else {
                word += ch;
            }
        }
        if (word == "--") return {flags, line.substr(pos)};
        if (quoted_blank || !word.empty()) flags.push_back(word);
    }
}

// Words as buildkit's parseWords splits ENV, LABEL and ARG: at blanks
// outside quotes, with the quotes and escapes kept in the words.
std::vector<std::string> parse_words(std::string_view rest, char escape) {
    std::u32string text = shell::utf8_decode(rest);
    std::vector<std::string> words;
    std::u32string word;
    bool in_word = false, quoted = false;
    char32_t quote = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char32_t ch = text[i];
        bool escapes = ch == static_cast<char32_t>(escape) && !(quote == '\'');
        if (!in_word && !quote && is_space(ch)) continue;
        in_word = true;
        if (!quote && is_space(ch)) {
            if (quoted || !word.empty()) words.push_back(shell::utf8_encode(word));
            word.clear();
            in_word = quoted = false;
            continue;
        }
        if (quote && ch == quote) {
            quote = 0;
        } else if (!quote && (ch == '\'' || ch == '"')) {
            quote = ch;
            quoted = true;
        }
        if (escapes) {
            if (i + 1 == text.size()) continue;  // an escape at the very end is dropped
            word += ch;
            ch = text[++i];
        }
        word += ch;
    }
    if (in_word && (quoted || !word.empty())) words.push_back(shell::utf8_encode(word));
    return words;
}

// The strings of a JSON array, or nothing if `rest` is no JSON array.
std::optional<std::vector<std::string>> json_array(std::string_view rest) {
    if (!starts_with(rest, "[")) return std::nullopt;
    auto j = nlohmann::json::parse(rest.begin(), rest.end(), nullptr, false);
    if (!j.is_array()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& v : j) {
        if (!v.is_string()) throw Failure{"when using JSON array syntax, arrays must be comprised of strings only"};
        out.push_back(v.get<std::string>());
    }
    return out;
}

// RUN, CMD, ENTRYPOINT, SHELL: the JSON array, else the rest as one string.
void maybe_json(Node& n, std::string_view rest) {
    if (rest.empty()) return;
    if (auto words = json_array(rest)) {
        n.args = *words;
        n.json = true;
    } else {
        n.args = {std::string(rest)};
    }
}

// COPY, ADD, VOLUME: the JSON array, else the blank-separated words.
void maybe_json_list(Node& n, std::string_view rest) {
    if (auto words = json_array(rest)) {
        n.args = *words;
        n.json = true;
    } else if (!rest.empty()) {
        n.args = split_blanks(rest);
    }
}

// ENV and LABEL: `K=V ...` gives triples (K, V, "="); the legacy `K V W`
// gives (K, "V W", "").
void name_values(Node& n, std::string_view rest, char escape) {
    std::vector<std::string> words = parse_words(rest, escape);
    if (words.empty()) return;
    if (words[0].find('=') == std::string::npos) {
        std::vector<std::string> parts = split_blanks(rest, 2);
        if (parts.size() < 2) throw Failure{to_upper(n.keyword) + " must have two arguments: " + to_upper(n.keyword) + " KEY=VALUE (or KEY VALUE)"};
        n.args = {parts[0], parts[1], ""};
        return;
    }
    for (const auto& w : words) {
        size_t eq = w.find('=');
        if (eq == std::string::npos)
            throw Failure{"Syntax error - can't find = in \"" + w + "\". Must be of the form: name=value"};
        n.args.insert(n.args.end(), {w.substr(0, eq), w.substr(eq + 1), "="});
    }
}

// HEALTHCHECK TYPE [ARGS]: the type, then ARGS as RUN takes them.
void health(Node& n, std::string_view rest) {
    size_t sep = 0;
    while (sep < rest.size() && !is_space(static_cast<unsigned char>(rest[sep]))) ++sep;
    if (sep == 0) return;
    size_t next = sep;
    while (next < rest.size() && is_space(static_cast<unsigned char>(rest[next]))) ++next;
    maybe_json(n, rest.substr(next));
    n.args.insert(n.args.begin(), std::string(rest.substr(0, sep)));
}

// Rules of single instructions the file's structure depends on.
void check(const Node& n) {
    const std::string& k = n.keyword;
    if (k == "from" && !(n.args.size() == 1 || (n.args.size() == 3 && to_lower(n.args[1]) == "as")))
        throw Failure{"FROM requires either one argument (FROM IMAGE) or three (FROM IMAGE AS NAME)"};
    if ((k == "copy" || k == "add") && n.args.size() < 2)
        throw Failure{to_upper(k) + " requires at least two arguments: " + to_upper(k) + " SOURCE... DESTINATION"};
    if (k == "shell" && !n.json) throw Failure{"SHELL requires the arguments to be in JSON form: SHELL [\"sh\", \"-c\"]"};
    if (k == "onbuild" && !n.children.empty()) {
        const std::string& trigger = n.children[0].keyword;
        if (trigger == "onbuild") throw Failure{"Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"};
        if (trigger == "from" || trigger == "maintainer") throw Failure{to_upper(trigger) + " isn't allowed as an ONBUILD trigger"};
    }
}

// One instruction (continuation lines joined): keyword, flags, arguments.
Node node_from_line(std::string_view line, char escape) {
    Node n;
    n.original = std::string(line);
    std::vector<std::string> parts = split_blanks(trim(line), 2);
    n.keyword = to_lower(parts[0]);
    std::string_view after = parts.size() == 2 ? std::string_view(parts[1]) : std::string_view();
    auto [flags, rest_untrimmed] = extract_flags(after);
    n.flags = flags;
    std::string_view rest = trim(rest_untrimmed);
    const std::string& k = n.keyword;
    if (k == "run" || k == "cmd" || k == "entrypoint" || k == "shell") {
        maybe_json(n, rest);
    } else if (k == "copy" || k == "add" || k == "volume") {
        maybe_json_list(n, rest);
    } else if (k == "from" || k == "expose") {
        if (!rest.empty()) n.args = split_blanks(rest);
    } else if (k == "env" || k == "label") {
        name_values(n, rest, escape);
    } else if (k == "arg") {
        n.args = parse_words(rest, escape);
    } else if (k == "healthcheck") {
        health(n, rest);
    } else if (k == "maintainer" || k == "stopsignal" || k == "user" || k == "workdir") {
        if (!rest.empty()) n.args = {std::string(rest)};
    } else if (k == "onbuild") {
        if (!rest.empty()) n.children.push_back(node_from_line(rest, escape));
    } else {
        throw Failure{"unknown instruction: " + to_upper(parts[0])};
    }
    check(n);
    return n;
}

// RUN, COPY and ADD in the shell form (also as an ONBUILD trigger) may have heredocs.
bool takes_heredocs(const Node& n) {
    const Node& ins = n.keyword == "onbuild" && !n.children.empty() ? n.children[0] : n;
    return (ins.keyword == "run" || ins.keyword == "copy" || ins.keyword == "add") && !ins.json;
}

size_t count_quotes(const std::string& s) { return std::count(s.begin(), s.end(), '\'') + std::count(s.begin(), s.end(), '"'); }

// A word `[N]<<[-]NAME`, NAME possibly quoted, as a heredoc.
std::optional<Heredoc> heredoc_of(const std::string& word) {
    size_t digits = word.find_first_not_of("0123456789");
    if (digits == std::string::npos || word.compare(digits, 2, "<<") != 0) return std::nullopt;
    Heredoc h;
    h.fd = digits ? parse_number<unsigned>(word.substr(0, digits)).value_or(0) : 0;
    size_t at = digits + 2;
    h.chomp = at < word.size() && word[at] == '-';
    std::string rest = word.substr(at + h.chomp);
    if (rest.empty() || rest.find('<') != std::string::npos) return std::nullopt;
    shell::LexOptions plain{.skip_unset = true}, raw{.raw_quotes = true, .skip_unset = true};
    std::vector<std::string> words = shell::process_words(rest, {}, plain);
    if (words.size() != 1) return std::nullopt;
    h.name = words[0];
    // A quote the lexer removed: the name was quoted, and the content is not expanded.
    std::vector<std::string> raw_words = shell::process_words(rest, {}, raw);
    h.expand = raw_words.size() == 1 && count_quotes(raw_words[0]) == count_quotes(h.name);
    return h;
}

std::vector<Heredoc> heredocs_of(const std::string& line) {
    std::vector<std::string> words;
    try {
        words = shell::process_words(line, {}, {.raw_quotes = true, .raw_escapes = true, .skip_unset = true});
    } catch (const Error&) {
        return {};  // a line the lexer cannot split names no heredoc (buildkit ignores it too)
    }
    std::vector<Heredoc> out;
    for (const auto& w : words)
        if (auto h = heredoc_of(w)) out.push_back(*h);
    return out;
}

// Reads each heredoc's lines up to its terminator.
void read_heredocs(Node& n, Lines& lines) {
    for (Heredoc& h : n.heredocs) {
        bool terminated = false;
        while (auto raw = lines.next()) {
            std::string_view line = trim_newline(*raw);
            if (h.chomp) line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
            if (line == h.name) {
                terminated = true;
                break;
            }
            std::string_view content = *raw;
            if (h.chomp) content.remove_prefix(std::min(content.find_first_not_of('\t'), content.size()));
            h.content += content;
        }
        if (!terminated) throw Failure{"unterminated heredoc: no line \"" + h.name + "\" after it"};
    }
}

std::string where(const std::string& file, int line, size_t column) {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// Go's strconv.IsPrint, closely enough: no controls, no blanks but the
// space, no invisible format characters, no private use.
bool printable(char32_t ch) {
    if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0)) return false;
    if (ch != ' ' && is_space(ch)) return false;
    return ch != 0xad && !(ch >= 0x200b && ch <= 0x200f) && !(ch >= 0x202a && ch <= 0x202e) &&
           !(ch >= 0x2060 && ch <= 0x2064) && ch != 0xfeff && !(ch >= 0xe000 && ch <= 0xf8ff) && ch != 0xfffe &&
           ch != 0xffff;
}

std::string hex(unsigned long value, int digits) {
    static const char* kDigits = "0123456789abcdef";
    std::string out(static_cast<size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i, value >>= 4) out[static_cast<size_t>(i)] = kDigits[value & 0xf];
    return out;
}

const char* control_escape(char32_t ch) {
    switch (ch) {
        case '\a': return "\\a";
        case '\b': return "\\b";
        case '\f': return "\\f";
        case '\n': return "\\n";
        case '\r': return "\\r";
        case '\t': return "\\t";
        case '\v': return "\\v";
        default: return nullptr;
    }
}

// Go's strconv.Quote.
std::string quote(std::string_view s) {
    std::string out = "\"";
    for (size_t at = 0; at < s.size();) {
        size_t start = at;
        char32_t ch = shell::utf8_next(s, at);
        if (ch == 0xfffd && at - start == 1) {
            out += "\\x" + hex(static_cast<unsigned char>(s[start]), 2);
        } else if (ch == '"' || ch == '\\') {
            out += "\\" + std::string(1, static_cast<char>(ch));
        } else if (printable(ch)) {
            out += s.substr(start, at - start);
        } else if (const char* e = control_escape(ch)) {
            out += e;
        } else if (ch < 0x20 || ch == 0x7f) {
            out += "\\x" + hex(ch, 2);
        } else {
            out += ch < 0x10000 ? "\\u" + hex(ch, 4) : "\\U" + hex(ch, 8);
        }
    }
    return out + "\"";
}

}  // namespace

Dockerfile parse(std::string_view text, const std::string& file) {
    Dockerfile df;
    DirectiveReader directives;
    Lines lines(text);
    while (auto raw = lines.next()) {
        std::string_view first = trim_newline(*raw);
        if (lines.number() == 1 && starts_with(first, "\xEF\xBB\xBF")) first.remove_prefix(3);
        size_t column = leading_blanks(first) + 1;
        first = trim_left(first);
        int start = lines.number();
        try {
            directives.read(first, df);
            std::string line = is_comment(first) ? "" : std::string(first);
            bool continued = trim_continuation(line, df.escape);
            if (!continued && line.empty()) continue;
            while (continued && (raw = lines.next())) {
                std::string next(trim_newline(*raw));
                // Comment and blank lines inside an instruction are left out, not ends.
                if (is_comment(next) || trim_left(next).empty()) continue;
                continued = trim_continuation(next, df.escape);
                line += next;
            }
            Node n = node_from_line(line, df.escape);
            if (takes_heredocs(n) && line.find("<<") != std::string::npos) {
                n.heredocs = heredocs_of(line);
                read_heredocs(n, lines);
            }
            n.start_line = start;
            n.end_line = lines.number();
            df.root.children.push_back(std::move(n));
        } catch (const Failure& f) {
            throw Error(where(file, start, column), f.why);
        } catch (const Error& e) {
            throw Error(where(file, start, column), e.what());
        }
    }
    if (df.root.children.empty())
        throw Error(where(file, std::max(lines.number(), 1), 1), "file with no instructions: give at least FROM IMAGE");
    df.root.start_line = df.root.children.front().start_line;
    df.root.end_line = df.root.children.back().end_line;
    return df;
}

std::string dump(const Node& node) {
    std::string out = node.keyword;
    if (!node.flags.empty()) {
        out += " [";
        for (size_t i = 0; i < node.flags.size(); ++i) out += (i ? " " : "") + quote(node.flags[i]);
        out += "]";
    }
    for (const Node& child : node.children)
        out += node.keyword.empty() ? "(" + dump(child) + ")\n" : " (" + dump(child) + ")";
    for (const auto& arg : node.args) out += " " + quote(arg);
    return std::string(trim(out));
}

}  // namespace box::dockerfile
