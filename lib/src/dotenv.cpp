// .env files, read the way compose-go's dotenv parser reads them, quirks
// included: compose users' files must mean the same to box.
#include "box/dotenv.hpp"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include "box/error.hpp"
#include "box/shell_lexer.hpp"

namespace box {
namespace {

using shell::is_space;  // Go's unicode.IsSpace
using shell::utf8_next;

// Why an expansion failed; the parser adds the file and line.
struct ExpandError {
    std::string why;
};

// ---- text helpers ---------------------------------------------------------

std::string encode(char32_t ch) { return shell::utf8_encode(std::u32string_view(&ch, 1)); }

// A blank within a line (the parser's isSpace): unicode.IsSpace's Latin-1
// blanks without the line feed.
bool is_blank(char32_t ch) {
    return ch == '\t' || ch == '\v' || ch == '\f' || ch == '\r' || ch == ' ' || ch == 0x85 || ch == 0xa0;
}

std::string_view trim_left_blanks(std::string_view s) {
    size_t at = 0;
    while (at < s.size()) {
        size_t start = at;
        if (!is_blank(utf8_next(s, at))) return s.substr(start);
    }
    return {};
}

std::string_view trim_right_spaces(std::string_view s) {
    size_t end = 0;
    for (size_t at = 0; at < s.size();)
        if (!is_space(utf8_next(s, at))) end = at;
    return s.substr(0, end);
}

// Go's unicode.IsLetter || unicode.IsNumber. Non-ASCII code points are
// classified by glibc's C.UTF-8 locale, which agrees with Go for all but ~2%
// of them: numbers such as `²` and `½` (Go: yes, glibc: no) and combining
// marks (Go: no, glibc: yes).
bool is_letter_or_number(char32_t ch) {
    if (ch < 0x80) return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t(nullptr));
    if (!utf8) return ch != 0xfffd && !is_space(ch);
    return iswalnum_l(static_cast<wint_t>(ch), utf8) != 0;
}

// Go's %q of a string, which compose-go's messages use: printable text as it
// is, the rest escaped (close to strconv.IsPrint: controls and blanks).
std::string go_quote(std::string_view s) {
    std::string out = "\"";
    char hex[16];
    for (size_t at = 0; at < s.size();) {
        size_t start = at;
        char32_t ch = utf8_next(s, at);
        auto byte = static_cast<unsigned char>(s[start]);
        switch (ch) {
            case '"': out += "\\\""; continue;
            case '\\': out += "\\\\"; continue;
            case '\a': out += "\\a"; continue;
            case '\b': out += "\\b"; continue;
            case '\f': out += "\\f"; continue;
            case '\n': out += "\\n"; continue;
            case '\r': out += "\\r"; continue;
            case '\t': out += "\\t"; continue;
            case '\v': out += "\\v"; continue;
            default: break;
        }
        if (ch == 0xfffd && at - start == 1 && byte >= 0x80) {
            snprintf(hex, sizeof hex, "\\x%02x", byte);  // not UTF-8
        } else if (ch < 0x20 || ch == 0x7f) {
            snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(ch));
        } else if ((ch >= 0x80 && ch < 0xa0) || (is_space(ch) && ch != ' ') || ch == 0xad || ch == 0xfeff ||
                   (ch >= 0x200b && ch <= 0x200f) || (ch >= 0x2028 && ch <= 0x202e)) {
            snprintf(hex, sizeof hex, "\\u%04x", static_cast<unsigned>(ch));
        } else {
            out.append(s.substr(start, at - start));
            continue;
        }
        out += hex;
    }
    return out + "\"";
}

// ---- variable expansion (compose-go's template.Substitute) ----------------

bool is_name_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_operator(char c) { return c == '-' || c == '+' || c == '?'; }

size_t name_end(std::string_view s, size_t from) {
    while (from < s.size() && is_name_char(s[from])) ++from;
    return from;
}

// The length of the reference at s[at] == '$', as compose-go's pattern
// matches it, or 0 if there is none (the `$` is literal): `$$`, `$NAME`,
// `${NAME}`, `${NAME<op>...}` up to the LAST `}` on the line (the pattern's
// greedy `.*`; the replacement hands what follows the first balanced `}` on),
// or a bare `${` that is invalid.
size_t reference_length(std::string_view s, size_t at) {
    if (at + 1 >= s.size()) return 0;
    char next = s[at + 1];
    if (next == '$') return 2;
    if (is_name_start(next)) return name_end(s, at + 1) - at;
    if (next != '{') return 0;
    size_t name = at + 2;
    if (name < s.size() && is_name_start(s[name])) {
        size_t end = name_end(s, name);
        if (end < s.size() && s[end] == '}') return end + 1 - at;
        size_t op = end < s.size() && s[end] == ':' ? end + 1 : end;
        if (op < s.size() && is_operator(s[op])) {
            size_t line_end = std::min(s.find('\n', op), s.size());
            size_t close = s.substr(0, line_end).rfind('}');
            if (close != std::string_view::npos && close > op) return close + 1 - at;
        }
    }
    return 2;
}

// Where the `${` opened at ref[1] closes, counting nested braces; a `{` hides
// the character after it, as in compose-go's getFirstBraceClosingIndex.
size_t first_closing_brace(std::string_view ref) {
    int open = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (ref[i] == '}' && --open == 0) return i;
        if (ref[i] == '{') {
            ++open;
            ++i;
        }
    }
    return std::string_view::npos;
}

std::string substitute(std::string_view text, const EnvLookup& mapping);

// The value of one reference `ref` found in `text`.
std::string replace(std::string_view text, std::string_view ref, const EnvLookup& mapping) {
    if (ref[1] == '$') return "$";
    if (ref[1] != '{') return mapping(std::string(ref.substr(1))).value_or("");
    if (ref.size() == 2) throw ExpandError{"Invalid template: " + go_quote(text)};

    // `${A:-x}tail}`: the reference ends at its balanced `}`; the tail is
    // expanded on its own after it.
    std::string_view rest;
    if (size_t close = first_closing_brace(ref); close != std::string_view::npos) {
        rest = ref.substr(close + 1);
        ref = ref.substr(0, close + 1);
    }
    std::string_view body = ref.substr(2, ref.size() - 3);
    size_t end = name_end(body, 0);
    std::string name(body.substr(0, end));
    if (end == body.size()) return mapping(name).value_or("");

    size_t op_at = body[end] == ':' ? end + 1 : end;
    bool colon = op_at > end;
    char op = body[op_at];
    std::string_view arg = body.substr(op_at + 1);
    std::optional<std::string> value = mapping(name);
    std::string out;
    if (op == '-') {
        bool use_default = !value || (colon && value->empty());
        out = use_default ? substitute(arg, mapping) : *value;
    } else if (op == '+') {
        bool use_alternative = value && (!colon || !value->empty());
        out = use_alternative ? substitute(arg, mapping) : value.value_or("");
    } else {  // '?'
        if (!value || (colon && value->empty())) {
            std::string reason = substitute(arg, mapping);
            throw ExpandError{"required variable " + name + " is missing a value" +
                              (reason.empty() ? "" : ": " + reason)};
        }
        out = *value;
    }
    return out + substitute(rest, mapping);
}

std::string substitute(std::string_view text, const EnvLookup& mapping) {
    std::string out;
    size_t at = 0;
    while (at < text.size()) {
        size_t dollar = text.find('$', at);
        if (dollar == std::string_view::npos) {
            out.append(text.substr(at));
            break;
        }
        out.append(text.substr(at, dollar - at));
        size_t length = reference_length(text, dollar);
        if (length == 0) {
            out += '$';
            at = dollar + 1;
            continue;
        }
        out += replace(text, text.substr(dollar, length), mapping);
        at = dollar + length;
    }
    return out;
}

// A double-quoted value's escapes: `\a \b \f \n \r \t \v \\ \"`, `\0ddd`
// (three octal digits, at most 0377, the code point in UTF-8), and `\$`,
// which becomes `$$` for substitute() to turn into a literal `$`. Any other
// backslash, and a malformed octal escape, stays as written.
std::string expand_escapes(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        char c = s[i + 1];
        std::string_view simple = "abfnrtv";
        if (size_t k = simple.find(c); k != std::string_view::npos) {
            out += "\a\b\f\n\r\t\v"[k];
            ++i;
        } else if (c == '\\' || c == '"') {
            out += c;
            ++i;
        } else if (c == '$') {
            out += "$$";
            ++i;
        } else if (c == '0') {
            size_t digits = 0;
            while (digits < 3 && i + 2 + digits < s.size() && s[i + 2 + digits] >= '0' && s[i + 2 + digits] <= '9')
                ++digits;
            std::string_view octal = s.substr(i + 2, digits);
            unsigned code = 0;
            bool ok = digits == 3;
            for (char d : octal) {
                ok = ok && d <= '7';
                code = code * 8 + static_cast<unsigned>(d - '0');
            }
            if (ok && code <= 0377) out += encode(code);
            else out.append(s.substr(i, 2 + digits));
            i += 1 + digits;
        } else if (c == 'c') {
            out += "\\c";  // matched by compose-go's escape pattern, but no Go escape: kept
            ++i;
        } else {
            out += '\\';
        }
    }
    return out;
}

// ---- the parser -----------------------------------------------------------

class DotenvParser {
public:
    DotenvParser(DotenvVars& vars, const std::string& source, const EnvLookup& lookup)
        : vars_(vars), source_(source), lookup_(lookup) {
        for (size_t i = 0; i < vars_.size(); ++i) index_[vars_[i].first] = i;
    }

    void parse(std::string_view text) {
        for (;;) {
            text = statement_start(text);
            if (text.empty()) return;
            statement_line_ = line_;
            auto [key, rest, inherited] = key_name(text);
            if (key.find(' ') != std::string::npos) fail(line_, "key cannot contain a space");
            if (inherited) {
                if (lookup_)
                    if (auto value = lookup_(key)) set(key, std::move(*value));
                text = rest;
                continue;
            }
            set(key, read_value(rest, text));
        }
    }

private:
    struct Key {
        std::string name;
        std::string_view rest;
        bool inherited;
    };

    [[noreturn]] void fail(int line, const std::string& why) const {
        throw Error(source_, "line " + std::to_string(line) + ": " + why);
    }

    void set(const std::string& key, std::string value) {
        auto [it, added] = index_.try_emplace(key, vars_.size());
        if (added) vars_.emplace_back(key, std::move(value));
        else vars_[it->second].second = std::move(value);
    }

    // The text from the next statement on: blanks, blank lines and comment
    // lines skipped, and the line feeds among them counted.
    std::string_view statement_start(std::string_view src) {
        for (;;) {
            size_t at = 0, start = 0;
            bool found = false;
            while (!found && at < src.size()) {
                start = at;
                char32_t ch = utf8_next(src, at);
                if (ch == '\n') ++line_;
                found = !is_space(ch);
            }
            if (!found) return {};
            src = src.substr(start);
            if (src[0] != '#') return src;
            size_t newline = src.find('\n');
            if (newline == std::string_view::npos) return {};
            src = src.substr(newline);
        }
    }

    // The name at the start of `src` (after an `export `) up to `=`, `:` or a
    // line feed (then it is inherited), and the text after that, blanks skipped.
    Key key_name(std::string_view src) {
        // `export` and at least one of regexp's \s ([\t\n\f\r ]), then blanks.
        bool export_word = src.size() > 6 && src.substr(0, 6) == "export" &&
                           std::string_view(" \t\n\f\r").find(src[6]) != std::string_view::npos;
        if (export_word) src = trim_left_blanks(src.substr(6));

        // With no `=`, `:` or line feed before the end, compose-go leaves the
        // name empty and reads the whole statement as its value.
        std::string_view key;
        size_t offset = 0;
        bool inherited = false;
        for (size_t at = 0; at < src.size();) {
            size_t start = at;
            char32_t ch = utf8_next(src, at);
            if (is_blank(ch) || ch == '_' || ch == '.' || ch == '-' || ch == '[' || ch == ']' ||
                is_letter_or_number(ch))
                continue;
            if (ch == '=' || ch == ':' || ch == '\n') {
                key = src.substr(0, start);
                offset = start + 1;
                inherited = ch == '\n';
                break;
            }
            fail(line_, "unexpected character " + go_quote(encode(ch)) + " in variable name " +
                            go_quote(src.substr(0, src.find('\n'))));
        }
        if (src.empty()) fail(line_, "zero length string");  // `export ` and nothing after it
        // compose-go counts the line feed only if the raw name has no space.
        if (inherited && key.find(' ') == std::string_view::npos) ++line_;
        return {std::string(trim_right_spaces(key)), trim_left_blanks(src.substr(offset)), inherited};
    }

    // The value at the start of `src`; sets `rest` to the text after it.
    std::string read_value(std::string_view src, std::string_view& rest) {
        char quote = src.empty() ? 0 : src[0];
        if (quote != '\'' && quote != '"') {
            size_t newline = src.find('\n');
            std::string_view line = src.substr(0, newline);
            rest = newline == std::string_view::npos ? std::string_view() : src.substr(newline + 1);
            ++line_;
            return expand(trim_right_spaces(line.substr(0, line.find(" #"))));
        }

        // A backslash keeps the character after it, and the backslash too
        // unless that character is this quote.
        std::string chars;
        bool escaped = false;
        for (size_t i = 1; i < src.size(); ++i) {
            char c = src[i];
            if (c == '\n') ++line_;
            if (c == quote && !escaped) {
                rest = src.substr(i + 1);
                return quote == '"' ? expand(expand_escapes(chars)) : chars;
            }
            if (c == '\\' && !escaped) {
                escaped = true;
                continue;
            }
            if (escaped && c != quote) chars += '\\';
            escaped = false;
            chars += c;
        }
        fail(line_, "unterminated quoted value " + std::string(src.substr(0, src.find('\n'))));
    }

    // Expands references with the lookup first, then the variables so far.
    std::string expand(std::string_view value) {
        EnvLookup mapping = [this](const std::string& name) -> std::optional<std::string> {
            if (lookup_)
                if (auto found = lookup_(name)) return found;
            if (auto it = index_.find(name); it != index_.end()) return vars_[it->second].second;
            return std::nullopt;
        };
        try {
            return substitute(value, mapping);
        } catch (const ExpandError& e) {
            fail(statement_line_, e.why);
        }
    }

    DotenvVars& vars_;
    const std::string& source_;
    const EnvLookup& lookup_;
    std::unordered_map<std::string, size_t> index_;  // name -> place in vars_
    int line_ = 1;                                   // compose-go's line count
    int statement_line_ = 1;                         // where the statement began
};

}  // namespace

void parse_dotenv_into(DotenvVars& vars, const std::string& text, const std::string& source,
                       const EnvLookup& lookup) {
    std::string_view body = text;
    if (body.substr(0, 3) == "\xef\xbb\xbf") body.remove_prefix(3);  // UTF-8 byte order mark
    DotenvParser(vars, source, lookup).parse(body);
}

DotenvVars parse_dotenv(const std::string& text, const std::string& source, const EnvLookup& lookup) {
    DotenvVars vars;
    parse_dotenv_into(vars, text, source, lookup);
    return vars;
}

}  // namespace box
