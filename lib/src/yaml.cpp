#include "box/yaml.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "box/error.hpp"

namespace box {

namespace {

using nlohmann::json;

// yaml-cpp spells the standard tag `!!str` as "tag:yaml.org,2002:str".
constexpr std::string_view kStandardTag = "tag:yaml.org,2002:";

// Guards against documents that expand without end: an alias inside its own
// anchor (a cycle in yaml-cpp's node graph), or aliases of aliases of lists
// ("billion laughs"). yaml-cpp's parser stops at 2000 levels of nesting.
constexpr int kMaxDepth = 2000;
constexpr size_t kMaxValues = 1'000'000;

// What a plain scalar resolves to, as yaml.v3's resolve() decides it.
struct Resolved {
    enum Kind { null, boolean, integer, floating, string } kind;
    json value;  // a non-finite float keeps its text: JSON cannot hold it
};

bool is_one_of(std::string_view text, std::initializer_list<std::string_view> words) {
    for (std::string_view word : words)
        if (text == word) return true;
    return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int digit_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

// An integer as Go's strconv.ParseInt(text, 0, 64) reads it, and where that
// overflows ParseUint (no sign): optional sign, then 0x, 0o, 0b or a leading
// 0 (octal) or decimal digits.
std::optional<json> parse_go_integer(std::string_view text) {
    bool negative = false;
    bool signed_text = !text.empty() && (text[0] == '+' || text[0] == '-');
    if (signed_text) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    int base = 10;
    if (text.size() >= 2 && text[0] == '0') {
        char prefix = static_cast<char>(text[1] | 0x20);
        base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : prefix == 'b' ? 2 : 8;
        text.remove_prefix(base == 8 && prefix != 'o' ? 1 : 2);
    }
    if (text.empty()) return std::nullopt;
    std::uint64_t magnitude = 0;
    for (char c : text) {
        int digit = digit_value(c);
        if (digit >= base) return std::nullopt;
        if (magnitude > (UINT64_MAX - static_cast<std::uint64_t>(digit)) / static_cast<std::uint64_t>(base))
            return std::nullopt;
        magnitude = magnitude * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(digit);
    }
    if (negative) {
        if (magnitude > static_cast<std::uint64_t>(INT64_MAX) + 1) return std::nullopt;
        return json(static_cast<std::int64_t>(0 - magnitude));
    }
    if (magnitude <= static_cast<std::uint64_t>(INT64_MAX)) return json(static_cast<std::int64_t>(magnitude));
    if (signed_text) return std::nullopt;  // ParseUint takes no sign
    return json(magnitude);
}

// yaml.v3's yamlStyleFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_yaml_float(std::string_view text) {
    size_t i = 0;
    auto digits = [&] {
        size_t start = i;
        while (i < text.size() && is_digit(text[i])) ++i;
        return i - start;
    };
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (digits() == 0) return false;
    } else {
        if (digits() == 0) return false;
        if (i < text.size() && text[i] == '.') {
            ++i;
            digits();
        }
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (digits() == 0) return false;
    }
    return i == text.size();
}

Resolved resolve_float(const std::string& text, const std::string& number) {
    // strtod, not from_chars: it tells overflow (inf) from underflow (0), as
    // Go's ParseFloat does. box never calls setlocale, so '.' is the point.
    double value = std::strtod(number.c_str(), nullptr);
    if (!std::isfinite(value)) return {Resolved::floating, text};
    return {Resolved::floating, value};
}

// A plain scalar's value under YAML 1.2's core schema as yaml.v3 reads it
// into interface{} (its resolve(), including the Go integer forms it keeps).
Resolved resolve_plain(const std::string& text) {
    if (is_one_of(text, {"", "~", "null", "Null", "NULL"})) return {Resolved::null, nullptr};
    if (is_one_of(text, {"true", "True", "TRUE"})) return {Resolved::boolean, true};
    if (is_one_of(text, {"false", "False", "FALSE"})) return {Resolved::boolean, false};
    if (is_one_of(text, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                         ".NaN", ".NAN"}))
        return {Resolved::floating, text};
    char first = text[0];
    if (first == '.') {
        if (is_yaml_float(text)) return resolve_float(text, text);
    } else if (is_digit(first) || first == '+' || first == '-') {
        std::string number;  // yaml.v3 drops every '_' first
        for (char c : text)
            if (c != '_') number += c;
        if (auto integer = parse_go_integer(number)) return {Resolved::integer, *integer};
        if (is_yaml_float(number)) return resolve_float(text, number);
    }
    return {Resolved::string, text};
}

// The tag as written: "!!str" for yaml-cpp's "tag:yaml.org,2002:str".
std::string tag_text(const std::string& tag) {
    if (tag.rfind(kStandardTag, 0) == 0) return "!!" + tag.substr(kStandardTag.size());
    return tag;
}

// "str" for !!str; "" for another tag.
std::string standard_tag(const std::string& tag) {
    return tag.rfind(kStandardTag, 0) == 0 ? tag.substr(kStandardTag.size()) : "";
}

int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

// One key and value of a mapping, after merging.
struct Entry {
    std::string key;
    YAML::Node value;
    int key_line;
};

// One document's conversion: its text, the source's name for errors, the
// lines to fill.
class Reader {
public:
    Reader(const std::string& text, const std::string& source, YamlLines* lines)
        : text_(text), source_(source), lines_(lines) {}

    json convert(const YAML::Node& node, const std::string& path, int depth) {
        if (depth > kMaxDepth) fail(node, "document is nested too deeply (an alias inside its own anchor?)");
        if (++values_ > kMaxValues) fail(node, "document contains excessive aliasing");
        switch (node.Type()) {
            case YAML::NodeType::Scalar:
                return convert_scalar(node);
            case YAML::NodeType::Sequence: {
                check_collection_tag(node, "seq", "a sequence");
                json items = json::array();
                for (YAML::Node item : node) {
                    std::string item_path = join(path, std::to_string(items.size()));
                    record(item_path, line_of(item));
                    items.push_back(convert(item, item_path, depth + 1));
                }
                return items;
            }
            case YAML::NodeType::Map: {
                check_collection_tag(node, "map", "a mapping");
                json object = json::object();
                for (const Entry& entry : entries(node, depth)) {
                    std::string entry_path = join(path, entry.key);
                    // An empty value's mark is the next token's, often on a later line.
                    record(entry_path, entry.value.IsNull() ? entry.key_line : line_of(entry.value));
                    object[entry.key] = convert(entry.value, entry_path, depth + 1);
                }
                return object;
            }
            default:  // Null (yaml-cpp gives tagged empty values as scalars) or Undefined
                return nullptr;
        }
    }

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
        throw Error(source_, "line " + std::to_string(line_of(node)) + ": " + message);
    }

private:
    static std::string join(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }

    void record(const std::string& path, int line) {
        if (lines_) (*lines_)[path] = line;
    }

    json convert_scalar(const YAML::Node& node) const {
        const std::string& text = node.Scalar();
        const std::string& tag = node.Tag();
        if (tag == "?") return resolve_plain(text).value;
        if (tag == "!") return text;  // quoted, or a block scalar
        std::string standard = standard_tag(tag);
        if (standard == "str") return text;
        Resolved resolved = resolve_plain(text);
        if (standard == "int" && resolved.kind == Resolved::integer) return resolved.value;
        if (standard == "float" && resolved.kind == Resolved::integer) return resolved.value.get<double>();
        if (standard == "float" && resolved.kind == Resolved::floating) return resolved.value;
        if (standard == "bool" && resolved.kind == Resolved::boolean) return resolved.value;
        if (standard == "null" && resolved.kind == Resolved::null) return nullptr;
        if (is_one_of(standard, {"int", "float", "bool", "null"}))
            fail(node, "cannot decode \"" + text + "\" as " + tag_text(tag));
        if (is_one_of(standard, {"map", "seq"})) fail(node, "tag " + tag_text(tag) + " does not fit a scalar");
        fail(node, "tag " + tag_text(tag) + " is not supported");
    }

    void check_collection_tag(const YAML::Node& node, const std::string& fits, const std::string& kind) const {
        const std::string& tag = node.Tag();
        if (tag == "?" || tag == "!" || tag.empty()) return;
        std::string standard = standard_tag(tag);
        if (standard == fits) return;
        if (is_one_of(standard, {"str", "int", "float", "bool", "null", "map", "seq"}))
            fail(node, "tag " + tag_text(tag) + " does not fit " + kind);
        fail(node, "tag " + tag_text(tag) + " is not supported");
    }

    // A key's text, after checking that it is a scalar with a supported tag.
    std::string key_text(const YAML::Node& key) const {
        if (key.IsMap() || key.IsSequence()) fail(key, "a mapping key must be a scalar");
        if (key.IsScalar()) {
            convert_scalar(key);  // only to refuse a tag such as !reset
            return key.Scalar();
        }
        // yaml-cpp keeps no text for a null: read the word at the key's mark.
        size_t at = static_cast<size_t>(key.Mark().pos);
        for (std::string_view word : {"null", "Null", "NULL", "~"})
            if (at < text_.size() && text_.compare(at, word.size(), word) == 0) return std::string(word);
        return "";  // an empty key
    }

    static bool is_merge_key(const YAML::Node& key) {
        return key.IsScalar() && ((key.Tag() == "?" && key.Scalar() == "<<") || standard_tag(key.Tag()) == "merge");
    }

    // The entries of `mapping`: its own, then those that each mapping merged
    // in with `<<` adds (earlier ones first), keys already present skipped.
    std::vector<Entry> entries(const YAML::Node& mapping, int depth) const {
        if (depth > kMaxDepth) fail(mapping, "document is nested too deeply (an alias inside its own anchor?)");
        std::vector<Entry> result;
        std::map<std::string, int> key_lines;
        std::vector<YAML::Node> merged;
        for (auto it = mapping.begin(); it != mapping.end(); ++it) {
            // Copies: *it is a temporary pair that the references would outlive.
            YAML::Node key = it->first;
            YAML::Node value = it->second;
            bool merge = is_merge_key(key);
            std::string text = merge ? "<<" : key_text(key);
            auto [seen, fresh] = key_lines.emplace(text, line_of(key));
            if (!fresh) {
                std::string quoted = json(text).dump(-1, ' ', false, json::error_handler_t::replace);
                fail(key, "mapping key " + quoted + " already defined at line " + std::to_string(seen->second));
            }
            if (!merge) {
                result.push_back({text, value, line_of(key)});
                continue;
            }
            if (value.IsMap()) {
                merged.push_back(value);
            } else if (value.IsSequence()) {
                check_collection_tag(value, "seq", "a sequence");
                for (YAML::Node item : value) {
                    if (!item.IsMap()) fail(item, "map merge requires map or sequence of maps as the value");
                    merged.push_back(item);
                }
            } else {
                fail(value, "map merge requires map or sequence of maps as the value");
            }
        }
        std::set<std::string> present;
        for (const Entry& entry : result) present.insert(entry.key);
        for (const YAML::Node& source : merged) {
            check_collection_tag(source, "map", "a mapping");
            for (Entry& entry : entries(source, depth + 1))
                if (present.insert(entry.key).second) result.push_back(std::move(entry));
        }
        return result;
    }

    const std::string& text_;
    const std::string& source_;
    YamlLines* lines_;
    size_t values_ = 0;
};

// yaml.v3's isBase60Float, [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?:
// YAML 1.1 read "1:30" as 90, so yaml.v3 quotes it for older readers.
bool is_base60_float(std::string_view text) {
    size_t i = 0;
    auto digits_or_underscores = [&] {
        while (i < text.size() && (is_digit(text[i]) || text[i] == '_')) ++i;
    };
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (i == text.size() || !is_digit(text[i])) return false;
    digits_or_underscores();
    size_t groups = 0;
    while (i < text.size() && text[i] == ':') {
        ++i;
        if (i + 1 < text.size() && text[i] >= '0' && text[i] <= '5' && is_digit(text[i + 1]))
            i += 2;
        else if (i < text.size() && is_digit(text[i]))
            ++i;
        else
            return false;
        ++groups;
    }
    if (groups == 0) return false;
    if (i < text.size() && text[i] == '.') {
        ++i;
        digits_or_underscores();
    }
    return i == text.size();
}

// Whether `text` must be double-quoted to read back as this string: it
// would resolve to something else, or plain YAML cannot hold it.
bool needs_quotes(const std::string& text) {
    if (text.empty() || resolve_plain(text).kind != Resolved::string) return true;
    // YAML 1.1's booleans: yaml.v3 quotes them for older readers, as docker
    // compose config shows; so do we.
    if (is_one_of(text, {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
                         "OFF", "<<"}) ||
        is_base60_float(text))
        return true;
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return true;  // line breaks, tabs, control characters
    char first = text.front();
    if (first == ' ' || text.back() == ' ') return true;
    if (std::string_view("!&*|>'\"%@`#,[]{}").find(first) != std::string_view::npos) return true;
    if ((first == '-' || first == '?' || first == ':') && (text.size() == 1 || text[1] == ' ')) return true;
    if (text.rfind("---", 0) == 0 || text.rfind("...", 0) == 0) return true;  // document markers
    return text.find(": ") != std::string::npos || text.back() == ':' || text.find(" #") != std::string::npos;
}

void emit_string(YAML::Emitter& out, const std::string& text) {
    if (needs_quotes(text)) out << YAML::DoubleQuoted;
    out << text;
}

// A float as the shortest text that reads back as the same float ("1.0", not
// "1", which would read back as an integer).
std::string float_text(double value) {
    if (std::isnan(value)) return ".nan";
    if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string text(buffer, end);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
}

void emit(YAML::Emitter& out, const json& value) {
    switch (value.type()) {
        case json::value_t::null:
            out << YAML::Null;
            break;
        case json::value_t::boolean:
            out << value.get<bool>();
            break;
        case json::value_t::number_integer:
            out << value.get<std::int64_t>();
            break;
        case json::value_t::number_unsigned:
            out << value.get<std::uint64_t>();
            break;
        case json::value_t::number_float:
            out << float_text(value.get<double>());
            break;
        case json::value_t::string:
            emit_string(out, value.get_ref<const std::string&>());
            break;
        case json::value_t::array:
            if (value.empty()) out << YAML::Flow;
            out << YAML::BeginSeq;
            for (const json& item : value) emit(out, item);
            out << YAML::EndSeq;
            break;
        case json::value_t::object:
            if (value.empty()) out << YAML::Flow;
            out << YAML::BeginMap;
            for (const auto& [key, item] : value.items()) {
                out << YAML::Key;
                emit_string(out, key);
                out << YAML::Value;
                emit(out, item);
            }
            out << YAML::EndMap;
            break;
        default:  // binary, discarded: not JSON
            throw Error("json_to_yaml", "a " + std::string(value.type_name()) + " value has no YAML form");
    }
}

// Records where each document starts, and nothing else.
class DocumentStarts : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> starts;

    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

// The number of documents in `text`. Not YAML::LoadAll: on a token that
// starts no node (`'a' ,`) yaml-cpp 0.7 returns an empty document without
// consuming it, again and again, and LoadAll fills memory with them
// (yaml-cpp issue 1040, fixed in 0.8). Here a document that starts where the
// one before it started is that token, an error. Throws YAML::Exception for
// text that is not YAML.
size_t count_documents(const std::string& text, const std::string& source) {
    std::istringstream input(text);
    YAML::Parser parser(input);
    DocumentStarts documents;
    while (parser.HandleNextDocument(documents)) {
        const auto& starts = documents.starts;
        if (starts.size() >= 2 && starts.back().pos == starts[starts.size() - 2].pos) {
            size_t at = static_cast<size_t>(starts.back().pos);
            std::string what = "text";
            if (at < text.size()) what = {'\'', text[at], '\''};
            throw Error(source, "yaml: line " + std::to_string(starts.back().line + 1) + ": unexpected " + what);
        }
    }
    return documents.starts.size();
}

}  // namespace

json yaml_to_json(const std::string& text, const std::string& source, YamlLines* lines) {
    if (lines) lines->clear();
    YAML::Node document;  // the first document; null if there is none
    try {
        if (count_documents(text, source) > 1) throw Error(source, "multiple YAML documents are not supported");
        document = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        if (e.mark.is_null()) throw Error(source, "yaml: " + e.msg);
        throw Error(source, "yaml: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return Reader(text, source, lines).convert(document, "", 0);
}

std::string json_to_yaml(const json& value) {
    YAML::Emitter out;
    out.SetNullFormat(YAML::LowerNull);
    emit(out, value);
    if (!out.good()) throw Error("json_to_yaml", out.GetLastError());
    return std::string(out.c_str()) + "\n";
}

}  // namespace box
