#include "box/shell_lexer.hpp"

#include <algorithm>
#include <optional>

#include "box/error.hpp"

namespace box::shell {
namespace {

constexpr char32_t kEnd = 0xffffffff;  // past the last character, as text/scanner's EOF

// Why a word cannot be processed; process() names the word around it.
struct Failure {
    std::string why;
};

bool is_digit(char32_t ch) { return ch >= '0' && ch <= '9'; }

// Go's unicode.IsLetter, closely enough for names: ASCII letters, and any
// non-ASCII code point that is no blank, control or Latin-1 sign.
bool is_letter(char32_t ch) {
    if (ch < 0x80) return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    return ch >= 0xc0 && ch <= 0x10ffff && !is_space(ch);
}

// POSIX special parameters ($@, $#, ...): never set in a Dockerfile, but one character long.
bool is_special_param(char32_t ch) { return std::u32string_view(U"@*#?-$!0").find(ch) != std::u32string_view::npos; }

// The words of a line being split: a blank that came from the text or an
// unquoted expansion ends a word; a quoted or escaped one is part of it.
class Words {
public:
    void add_char(char32_t ch) {
        if (!is_space(ch)) {
            add_raw(utf8_encode(std::u32string(1, ch)));
        } else if (in_word_ && !word_.empty()) {
            words_.push_back(std::move(word_));
            word_.clear();
            in_word_ = false;
        }
    }
    void add_string(const std::string& s) {
        for (char32_t ch : utf8_decode(s)) add_char(ch);
    }
    void add_raw(const std::string& s) {
        word_ += s;
        in_word_ = true;
    }
    std::vector<std::string> take() {
        if (!word_.empty()) words_.push_back(std::move(word_));
        return std::move(words_);
    }

private:
    std::string word_;
    std::vector<std::string> words_;
    bool in_word_ = false;
};

// A glob of ${v#p}, ${v%p} and ${v/p/r}: `*` any run, `?` one character,
// `\` quotes the next; no bracket expressions (buildkit has none).
struct Glob {
    enum Kind { kLiteral, kAny, kStar };
    std::vector<std::pair<Kind, char32_t>> parts;

    explicit Glob(const std::u32string& pattern) {
        for (size_t i = 0; i < pattern.size(); ++i) {
            char32_t ch = pattern[i];
            if (ch == '*') {
                parts.emplace_back(kStar, 0);
            } else if (ch == '?') {
                parts.emplace_back(kAny, 0);
            } else if (ch == '\\') {
                char32_t quoted = i + 1 < pattern.size() ? pattern[++i] : kEnd;
                // \} and \/ only keep ${...} open; \*, \? and \\ are literal characters.
                if (std::u32string_view(U"}/*?\\").find(quoted) == std::u32string_view::npos)
                    throw Failure{"invalid pattern (" + utf8_encode(pattern) + ") in substitution: invalid escape"};
                parts.emplace_back(kLiteral, quoted);
            } else {
                parts.emplace_back(kLiteral, ch);
            }
        }
    }

    bool matches(std::u32string_view text, size_t part = 0) const {
        if (part == parts.size()) return text.empty();
        auto [kind, ch] = parts[part];
        if (kind == kStar) {
            for (size_t n = 0; n <= text.size(); ++n)
                if (matches(text.substr(n), part + 1)) return true;
            return false;
        }
        if (text.empty() || (kind == kLiteral && text[0] != ch)) return false;
        return matches(text.substr(1), part + 1);
    }

    // The length of the shortest (or longest) prefix of `text` it matches.
    std::optional<size_t> prefix(std::u32string_view text, bool longest) const {
        std::optional<size_t> found;
        for (size_t n = 0; n <= text.size() && !(found && !longest); ++n)
            if (matches(text.substr(0, n))) found = n;
        return found;
    }
};

class Lexer {
public:
    Lexer(std::string_view text, const Env& env, const LexOptions& options)
        : text_(utf8_decode(text)), env_(env), options_(options), raw_escapes_(options.raw_escapes) {}

    std::pair<std::string, std::vector<std::string>> run() { return stop_on(kEnd, options_.raw_escapes); }

private:
    char32_t peek() const { return pos_ < text_.size() ? text_[pos_] : kEnd; }
    char32_t next() { return pos_ < text_.size() ? text_[pos_++] : kEnd; }

    std::optional<std::string> lookup(const std::string& name) const {
        auto it = env_.find(name);
        if (it == env_.end()) return std::nullopt;
        return it->second;
    }

    // Up to `stop` (consumed) or the end: the text as one string and as words.
    std::pair<std::string, std::vector<std::string>> stop_on(char32_t stop, bool raw_escapes) {
        bool saved = raw_escapes_;
        raw_escapes_ = raw_escapes;
        std::string result;
        Words words;
        while (peek() != kEnd) {
            char32_t ch = peek();
            if (stop != kEnd && ch == stop) {
                next();
                raw_escapes_ = saved;
                return {result, words.take()};
            }
            if (ch == '$' || ch == '\'' || ch == '"') {
                std::string part = ch == '$' ? dollar() : ch == '\'' ? single_quoted() : double_quoted();
                result += part;
                if (ch == '$') words.add_string(part);
                else words.add_raw(part);
                continue;
            }
            next();
            if (ch == static_cast<char32_t>(options_.escape)) {
                if (raw_escapes_) {
                    words.add_raw(utf8_encode(std::u32string(1, ch)));
                    result += utf8_encode(std::u32string(1, ch));
                }
                ch = next();
                if (ch == kEnd) break;  // an escape at the end is dropped
                words.add_raw(utf8_encode(std::u32string(1, ch)));
            } else {
                words.add_char(ch);
            }
            result += utf8_encode(std::u32string(1, ch));
        }
        raw_escapes_ = saved;
        if (stop != kEnd)
            throw Failure{"unexpected end of statement while looking for matching " + utf8_encode(std::u32string(1, stop))};
        return {result, words.take()};
    }

    std::string quote_char(char32_t ch) const { return options_.raw_quotes ? utf8_encode(std::u32string(1, ch)) : ""; }

    // 'text': every character as it is; nothing escapes a single quote.
    std::string single_quoted() {
        std::string out = quote_char(next());
        for (char32_t ch = next();; ch = next()) {
            if (ch == kEnd) throw Failure{"unexpected end of statement while looking for matching single-quote"};
            if (ch == '\'') return out + quote_char(ch);
            out += utf8_encode(std::u32string(1, ch));
        }
    }

    // "text": $ expands; the escape character quotes only ", $ and itself.
    std::string double_quoted() {
        std::string out = quote_char(next());
        while (true) {
            char32_t ch = peek();
            if (ch == kEnd) throw Failure{"unexpected end of statement while looking for matching double-quote"};
            if (ch == '"') return out + quote_char(next());
            if (ch == '$') {
                out += dollar();
                continue;
            }
            next();
            if (ch == static_cast<char32_t>(options_.escape)) {
                if (raw_escapes_) out += utf8_encode(std::u32string(1, ch));
                char32_t after = peek();
                if (after == kEnd) continue;
                if (after == '"' || after == '$' || after == ch) ch = next();
            }
            out += utf8_encode(std::u32string(1, ch));
        }
    }

    // A name after $: letters, digits and _; or all the digits of a
    // positional parameter; or one special parameter.
    std::string name() {
        std::u32string out;
        if (is_digit(peek())) {
            while (is_digit(peek())) out += next();
        } else if (is_special_param(peek())) {
            out += next();
        } else {
            while (is_letter(peek()) || is_digit(peek()) || peek() == '_') out += next();
        }
        return utf8_encode(out);
    }

    std::string unset_as_written(const std::string& inner) const { return "${" + inner + "}"; }

    std::string dollar() {
        next();
        if (peek() != '{') {
            std::string n = name();
            if (n.empty()) return "$";
            auto value = lookup(n);
            if (!value && options_.skip_unset) return "$" + n;
            return value.value_or("");
        }
        next();
        if (peek() == kEnd) throw Failure{"syntax error: missing '}'"};
        if (peek() == '{' || peek() == '}' || peek() == ':') throw Failure{"syntax error: bad substitution"};
        std::string n = name();
        char32_t op = next();
        if (op == '}') {
            auto value = lookup(n);
            if (!value && options_.skip_unset) return unset_as_written(n);
            return value.value_or("");
        }
        if (op == '/') return replace(n);
        bool null_is_unset = op == ':';
        std::string ops = null_is_unset ? ":" : "";
        if (null_is_unset) op = next();
        if (op == kEnd) throw Failure{"syntax error: missing '}'"};
        ops += utf8_encode(std::u32string(1, op));
        if (std::u32string_view(U"+-?#%").find(op) == std::u32string_view::npos)
            throw Failure{"unsupported modifier (" + ops + ") in substitution"};
        std::string word = operand('}', op == '#' || op == '%');
        auto value = lookup(n);
        if (!value && options_.skip_unset) return unset_as_written(n + ops + word);
        bool empty = !value || (null_is_unset && value->empty());
        switch (op) {
            case '-': return empty ? word : *value;
            case '+': return empty ? "" : word;
            case '?':
                if (empty)
                    throw Failure{n + ": " + (!word.empty() ? word : value ? "is not allowed to be empty" : "is not allowed to be unset")};
                return *value;
            default: return trim(value ? *value : std::string(), word, op == '%');
        }
    }

    // The text of a ${...} operand, up to `stop`.
    std::string operand(char32_t stop, bool raw_escapes) {
        try {
            return stop_on(stop, raw_escapes).first;
        } catch (const Failure&) {
            if (peek() == kEnd) throw Failure{stop == '}' ? "syntax error: missing '}'" : "syntax error: missing '/' in ${}"};
            throw;
        }
    }

    // ${v#p} ${v##p}: the shortest (longest) prefix matching p removed; % and %% the suffix.
    static std::string trim(const std::string& value, std::string pattern, bool suffix) {
        char doubled = suffix ? '%' : '#';
        bool longest = !pattern.empty() && pattern[0] == doubled;
        if (longest) pattern.erase(0, 1);
        std::u32string v = utf8_decode(value), p = utf8_decode(pattern);
        if (suffix) {
            // Matching the reversed pattern on the reversed value finds a suffix as a prefix.
            std::reverse(v.begin(), v.end());
            p = reversed_pattern(p);
        }
        auto n = Glob(p).prefix(v, longest);
        if (n) v.erase(0, *n);
        if (suffix) std::reverse(v.begin(), v.end());
        return utf8_encode(v);
    }

    // A pattern reversed with each `\x` kept in front of its x.
    static std::u32string reversed_pattern(const std::u32string& p) {
        std::vector<std::u32string> units;
        for (size_t i = 0; i < p.size(); ++i) units.push_back(p[i] == '\\' && i + 1 < p.size() ? p.substr(i++, 2) : p.substr(i, 1));
        std::u32string out;
        for (auto it = units.rbegin(); it != units.rend(); ++it) out += *it;
        return out;
    }

    // ${v/p/r}: the first longest match of p replaced by r; ${v//p/r} every one.
    std::string replace(const std::string& n) {
        bool all = peek() == '/';
        if (all) next();
        std::string pattern = operand('/', true);
        std::string replacement = operand('}', true);
        auto value = lookup(n);
        if (!value && options_.skip_unset) return unset_as_written(n + (all ? "//" : "/") + pattern + "/" + replacement);
        Glob glob(utf8_decode(pattern));
        std::u32string v = utf8_decode(value.value_or("")), with = utf8_decode(replacement), out;
        bool done = false;
        size_t last_end = std::u32string::npos;
        for (size_t at = 0; at <= v.size();) {
            auto n = done ? std::nullopt : glob.prefix(std::u32string_view(v).substr(at), true);
            // As Go's regexp: an empty match right after a match is no match.
            if (n && !(*n == 0 && at == last_end)) {
                out += with;
                done = !all;
                last_end = at + *n;
                if (*n > 0) {
                    at += *n;
                    continue;
                }
            }
            if (at < v.size()) out += v[at];
            ++at;
        }
        return utf8_encode(out);
    }

    std::u32string text_;
    size_t pos_ = 0;
    const Env& env_;
    LexOptions options_;
    bool raw_escapes_;
};

std::pair<std::string, std::vector<std::string>> process(std::string_view text, const Env& env, const LexOptions& options) {
    try {
        return Lexer(text, env, options).run();
    } catch (const Failure& f) {
        throw Error("failed to process \"" + std::string(text) + "\"", f.why);
    }
}

}  // namespace

std::string process_word(std::string_view word, const Env& env, const LexOptions& options) {
    return process(word, env, options).first;
}

std::vector<std::string> process_words(std::string_view line, const Env& env, const LexOptions& options) {
    return process(line, env, options).second;
}

bool is_space(char32_t ch) {
    switch (ch) {
        case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xa0:
        case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
            return true;
        default:
            return ch >= 0x2000 && ch <= 0x200a;
    }
}

char32_t utf8_next(std::string_view text, size_t& at) {
    auto b = static_cast<unsigned char>(text[at]);
    size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
    char32_t cp = len == 1 ? b : len == 2 ? b & 0x1f : len == 3 ? b & 0x0f : b & 0x07;
    bool ok = len > 0 && at + len <= text.size();
    for (size_t k = 1; ok && k < len; ++k) {
        auto c = static_cast<unsigned char>(text[at + k]);
        ok = (c & 0xc0) == 0x80;
        cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms and surrogates are not UTF-8 either.
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = ok && cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    at += ok ? len : 1;
    return ok ? cp : 0xfffd;
}

std::u32string utf8_decode(std::string_view text) {
    std::u32string out;
    for (size_t at = 0; at < text.size();) out += utf8_next(text, at);
    return out;
}

std::string utf8_encode(std::u32string_view text) {
    std::string out;
    for (char32_t cp : text) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }
    return out;
}

}  // namespace box::shell
