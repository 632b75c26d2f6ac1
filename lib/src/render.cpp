#include "box/render.hpp"

#include <cstdio>

#include "box/error.hpp"
#include "box/util.hpp"

namespace box::render {
namespace {

size_t display_width(const std::string& s) {  // UTF-8: count lead bytes only
    size_t n = 0;
    for (unsigned char ch : s) n += (ch & 0xc0) != 0x80;
    return n;
}

std::string unescape(const std::string& tmpl) {
    std::string out;
    for (size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] == '\\' && i + 1 < tmpl.size() && (tmpl[i + 1] == 't' || tmpl[i + 1] == 'n')) {
            out += tmpl[++i] == 't' ? '\t' : '\n';
        } else {
            out += tmpl[i];
        }
    }
    return out;
}

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

const char* const kUnderstood = "box understands {{.Field.Sub}}, {{.}}, {{json .Field}}, {{json .}}, {{.Method \"arg\"}} "
                                "and {{index .Field \"key\"}}";

// `value` without the keys that serve methods ("_Label"): what {{.}} and {{json .}} show.
nlohmann::json shown(const nlohmann::json& value) {
    if (!value.is_object()) return value;
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : value.items())
        if (k.empty() || k[0] != '_') out[k] = v;
    return out;
}

// The value at a path ".A.B" of `value`.
const nlohmann::json& at_path(const std::string& tmpl, const std::string& path, const nlohmann::json& value) {
    if (path.empty() || path[0] != '.' || path.find_first_of(" |()\"") != std::string::npos)
        throw Error("template: " + tmpl, kUnderstood);
    const nlohmann::json* v = &value;
    for (const auto& key : split(path.substr(1), '.')) {
        if (key.empty()) continue;
        if (!v->is_object() || !v->contains(key))
            throw Error("template: " + tmpl, "map has no entry for key \"" + key + "\"");
        v = &v->at(key);
    }
    return *v;
}

// `"text"` -> text; anything else is not an argument box reads.
std::string quoted(const std::string& tmpl, const std::string& arg) {
    if (arg.size() < 2 || arg.front() != '"' || arg.back() != '"' || arg.find('"', 1) != arg.size() - 1)
        throw Error("template: " + tmpl, kUnderstood);
    return arg.substr(1, arg.size() - 2);
}

std::string text_of(const nlohmann::json& v, bool as_json) {
    if (as_json || v.is_object() || v.is_array()) return v.dump();
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "<no value>";
    return v.dump();
}

// One action's text ("json .A.B", ".X", ".", ".Label \"k\"", "index .A \"k\"") applied to `value`.
std::string action(const std::string& tmpl, const std::string& text, const nlohmann::json& value) {
    std::string path = trim(text);
    bool as_json = starts_with(path, "json ");
    if (as_json) path = trim(path.substr(5));
    if (starts_with(path, "index ")) {  // Go's index of a map: a missing key is ""
        std::string rest = trim(path.substr(6));
        size_t space = rest.find(' ');
        if (space == std::string::npos) throw Error("template: " + tmpl, kUnderstood);
        const nlohmann::json& map = at_path(tmpl, rest.substr(0, space), value);
        std::string key = quoted(tmpl, trim(rest.substr(space + 1)));
        if (!map.is_object() && !map.is_null()) throw Error("template: " + tmpl, "index of a value that is not a map");
        return map.is_object() && map.contains(key) ? text_of(map.at(key), as_json) : "";
    }
    size_t space = path.find(' ');
    if (space != std::string::npos && path[0] == '.') {  // a method of the row, e.g. ps's .Label "k"
        std::string method = path.substr(1, space - 1);
        std::string key = quoted(tmpl, trim(path.substr(space + 1)));
        if (!value.is_object() || !value.contains("_" + method) || !value.at("_" + method).is_object())
            throw Error("template: " + tmpl, "can't evaluate field " + method);
        const nlohmann::json& map = value.at("_" + method);
        return map.contains(key) ? text_of(map.at(key), as_json) : "";
    }
    if (path == ".") return text_of(shown(value), as_json);
    return text_of(at_path(tmpl, path, value), as_json);
}

// The field an action shows, for its column's header: ".A.B" -> "B",
// "json .X" -> "X", ".Label \"k\"" -> "Label", "index .Labels \"k\"" -> "Labels".
std::string header_field(std::string path) {
    if (starts_with(path, "json ")) path = trim(path.substr(5));
    if (starts_with(path, "index ")) path = trim(path.substr(6));
    path = path.substr(0, path.find(' '));
    return path.substr(path.rfind('.') + 1);
}

}  // namespace

std::string ellipsis(const std::string& text, size_t width) {
    if (width == 0 || display_width(text) <= width) return text;
    size_t chars = 0, at = 0;
    for (; at < text.size(); ++at)
        if ((static_cast<unsigned char>(text[at]) & 0xc0) != 0x80 && chars++ == width - 1) break;
    return text.substr(0, at) + "…";
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& r : rows) {
        if (r.size() > width.size()) width.resize(r.size(), 0);
        for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display_width(r[i]));
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(std::max<size_t>(width[i] + 3, 10) - display_width(r[i]), ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::string text = table(rows);
    fwrite(text.data(), 1, text.size(), stdout);
}

std::string format(const std::string& tmpl, const nlohmann::json& value) {
    std::string t = unescape(tmpl), out;
    size_t at = 0;
    for (;;) {
        size_t open = t.find("{{", at);
        if (open == std::string::npos) break;
        size_t close = t.find("}}", open + 2);
        if (close == std::string::npos) throw Error("template: " + tmpl, "unclosed action (a {{ without }})");
        out += t.substr(at, open - at);
        out += action(tmpl, t.substr(open + 2, close - open - 2), value);
        at = close + 2;
    }
    return out + t.substr(at);
}

void print_list(const std::string& tmpl, const std::vector<nlohmann::json>& items,
                const std::map<std::string, std::string>& headers) {
    if (!starts_with(tmpl, "table")) {
        for (const auto& item : items) printf("%s\n", format(tmpl, item).c_str());
        return;
    }
    std::string body = trim(tmpl.substr(5));
    // The header: each action's field, in docker's words.
    nlohmann::json names = nlohmann::json::object();
    std::string t = unescape(body);
    for (size_t open = t.find("{{"); open != std::string::npos; open = t.find("{{", open + 2)) {
        size_t close = t.find("}}", open);
        if (close == std::string::npos) break;
        std::string path = trim(t.substr(open + 2, close - open - 2));
        std::string field = header_field(path);
        auto h = headers.find(field);
        names[field] = h != headers.end() ? h->second : to_upper(field);
    }
    // A header row is the template filled with the header names.
    auto fill_header = [&](nlohmann::json n) {
        std::string out;
        size_t at = 0;
        for (size_t open; (open = t.find("{{", at)) != std::string::npos;) {
            size_t close = t.find("}}", open);
            if (close == std::string::npos) break;
            std::string path = trim(t.substr(open + 2, close - open - 2));
            out += t.substr(at, open - at) + n.value(header_field(path), std::string());
            at = close + 2;
        }
        return out + t.substr(at);
    };
    std::vector<std::vector<std::string>> rows = {split(fill_header(names), '\t')};
    for (const auto& item : items) rows.push_back(split(format(body, item), '\t'));
    print_table(rows);
}

void print_inspect(const std::vector<nlohmann::json>& values, const std::string& tmpl) {
    if (tmpl.empty()) {
        printf("%s\n", nlohmann::json(values).dump(4).c_str());
        return;
    }
    for (const auto& v : values) printf("%s\n", format(tmpl, v).c_str());
}

}  // namespace box::render
