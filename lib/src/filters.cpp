#include "box/filters.hpp"

#include <algorithm>

#include "box/error.hpp"
#include "box/util.hpp"

namespace box {
namespace {

void add_label(Labels& labels, const std::string& text, const std::string& where) {
    size_t eq = text.find('=');
    std::string key = text.substr(0, eq);
    if (key.empty()) throw Error("invalid label '" + text + "'" + where, "empty name");
    labels[key] = eq == std::string::npos ? "" : text.substr(eq + 1);
}

}  // namespace

Labels parse_labels(const std::vector<std::string>& labels, const std::vector<std::string>& files, bool require_value) {
    Labels out;
    for (const auto& file : files) {
        auto text = try_read_file(file);
        if (!text) throw Error("open " + file, "no such file or directory (--label-file)");
        int number = 0;
        for (auto line : split(*text, '\n')) {
            ++number;
            line.erase(0, line.find_first_not_of(" \t\r\v\f"));
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty() || line[0] == '#') continue;
            std::string key = line.substr(0, line.find('='));
            if (key.find_first_of(" \t") != std::string::npos)
                throw Error("invalid label '" + line + "' in " + file + ":" + std::to_string(number),
                            "the name contains whitespace");
            add_label(out, line, " in " + file + ":" + std::to_string(number));
        }
    }
    for (const auto& l : labels) {
        if (require_value && l.find('=') == std::string::npos) throw Error("bad attribute format: " + l, "use --label KEY=VALUE");
        add_label(out, l, "");
    }
    return out;
}

std::string labels_text(const Labels& labels) {
    std::string out;
    for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
    return out;
}

Filters Filters::parse(const std::vector<std::string>& args, std::initializer_list<std::string_view> accepted) {
    Filters f;
    for (const auto& arg : args) {
        size_t eq = arg.find('=');
        if (eq == std::string::npos)
            throw Error("invalid argument \"" + arg + "\" for \"-f, --filter\" flag", "bad format of filter (expected name=value)");
        std::string key = to_lower(arg.substr(0, eq)), value = arg.substr(eq + 1);
        if (std::find(accepted.begin(), accepted.end(), key) == accepted.end())
            throw Error("Invalid filter '" + key + "'", "see the command's --help for the filters it takes");
        f.by_key_[key].push_back(value);
    }
    return f;
}

const std::vector<std::string>& Filters::values(const std::string& key) const {
    static const std::vector<std::string> none;
    auto it = by_key_.find(key);
    return it == by_key_.end() ? none : it->second;
}

bool Filters::any(const std::string& key, const std::function<bool(const std::string&)>& match) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return true;
    return std::any_of(it->second.begin(), it->second.end(), match);
}

bool Filters::match_labels(const Labels& labels) const {
    auto holds = [&](const std::string& filter) {
        size_t eq = filter.find('=');
        auto it = labels.find(filter.substr(0, eq));
        return it != labels.end() && (eq == std::string::npos || it->second == filter.substr(eq + 1));
    };
    const auto& want = values("label");
    if (!std::all_of(want.begin(), want.end(), holds)) return false;
    const auto& unwanted = values("label!");
    return unwanted.empty() || !std::all_of(unwanted.begin(), unwanted.end(), holds);
}

void Filters::check_values(const std::string& key, std::initializer_list<std::string_view> allowed) const {
    for (const auto& v : values(key))
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
            throw Error("Unrecognised filter value for " + key + ": " + v, "see the command's --help for the values it takes");
}

}  // namespace box
