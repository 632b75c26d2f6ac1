// Chapter 8: interpolation — `${VAR}` and its forms in a Compose file's
// strings, with the shell's variables and the project's .env.
#include <cctype>

#include "box/error.hpp"
#include "stage8.hpp"

namespace box::stage8 {
namespace {

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

Error invalid(const std::string& text) { return Error("Invalid template: \"" + text + "\"", "see the Compose specification's interpolation"); }

}  // namespace

std::string interpolate(const std::string& text, const EnvLookup& lookup, std::vector<std::string>& unset) {
    // BEGIN EXERCISE 3: interpolate()
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c != '$') {
            out += c;
            ++i;
            continue;
        }
        if (i + 1 >= text.size()) throw invalid(text);
        char next = text[i + 1];
        if (next == '$') {  // $$: a dollar sign
            out += '$';
            i += 2;
            continue;
        }
        if (name_start(next)) {  // $NAME
            size_t end = i + 1;
            while (end < text.size() && name_char(text[end])) ++end;
            std::string name = text.substr(i + 1, end - i - 1);
            if (auto v = lookup(name)) out += *v;
            else unset.push_back(name);
            i = end;
            continue;
        }
        if (next != '{') throw invalid(text);
        // ${NAME[OP WORD]}: find the matching brace (a word may hold ${...} of its own).
        size_t depth = 1, end = i + 2;
        for (; end < text.size() && depth > 0; ++end) {
            if (text[end] == '{' && text[end - 1] == '$') ++depth;
            else if (text[end] == '}') --depth;
        }
        if (depth != 0) throw invalid(text);
        std::string inner = text.substr(i + 2, end - i - 3);  // between ${ and }
        i = end;
        size_t n = 0;
        while (n < inner.size() && (n == 0 ? name_start(inner[n]) : name_char(inner[n]))) ++n;
        if (n == 0) throw invalid(text);
        std::string name = inner.substr(0, n), rest = inner.substr(n);
        std::optional<std::string> value = lookup(name);
        if (rest.empty()) {
            if (value) out += *value;
            else unset.push_back(name);
            continue;
        }
        bool colon = rest[0] == ':';
        if (colon) rest = rest.substr(1);
        if (rest.empty()) throw invalid(text);
        char op = rest[0];
        std::string word = rest.substr(1);
        bool set = colon ? value && !value->empty() : value.has_value();
        if (op == '-') {
            out += set ? *value : interpolate(word, lookup, unset);
        } else if (op == '+') {
            out += set ? interpolate(word, lookup, unset) : "";
        } else if (op == '?') {
            if (!set) {
                std::string message = interpolate(word, lookup, unset);
                throw Error("required variable " + name + " is missing a value" + (message.empty() ? "" : ": " + message),
                            "set it in the shell or in the project's .env");
            }
            out += *value;
        } else {
            throw invalid(text);
        }
    }
    return out;
    // END EXERCISE
}

json interpolate_all(const json& doc, const EnvLookup& lookup, std::vector<std::string>& unset) {
    std::function<json(const json&, const std::string&)> walk = [&](const json& v, const std::string& path) -> json {
        if (v.is_string()) {
            try {
                return interpolate(v.get<std::string>(), lookup, unset);
            } catch (const Error& e) {
                throw Error(path, e.what());
            }
        }
        json out = v;
        if (v.is_object())
            for (auto& [k, item] : out.items()) item = walk(v.at(k), path.empty() ? k : path + "." + k);
        else if (v.is_array())
            for (size_t n = 0; n < v.size(); ++n) out[n] = walk(v[n], path + "." + std::to_string(n));
        return out;
    };
    return walk(doc, "");
}

}  // namespace box::stage8
