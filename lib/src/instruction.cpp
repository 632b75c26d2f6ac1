#include "box/instruction.hpp"

#include <signal.h>
#include <string.h>

#include <optional>

#include "box/error.hpp"
#include "box/util.hpp"

namespace box {
namespace {

using json = nlohmann::json;

const char* const kChangeKeywords = "CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR";

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Error bad(const Instruction& ins, const std::string& why) {
    return Error("invalid change \"" + ins.original + "\"", why);
}

json command(const Instruction& ins) {
    if (auto words = exec_form(ins.arguments)) return *words;
    return json::array({"/bin/sh", "-c", ins.arguments});
}

// ENV and LABEL: `K=V K2="v 2"`, or the old form `K the value`.
std::vector<std::pair<std::string, std::string>> pairs(const Instruction& ins) {
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::string> words = split_words(ins.arguments);
    if (words.empty()) throw bad(ins, ins.keyword + " requires at least one argument");
    if (words[0].find('=') == std::string::npos) {
        if (ins.keyword == "LABEL") throw bad(ins, "LABEL takes KEY=VALUE pairs");
        size_t sp = ins.arguments.find_first_of(" \t");
        if (sp == std::string::npos) throw bad(ins, "ENV needs a value: ENV KEY=VALUE (or ENV KEY VALUE)");
        out.emplace_back(words[0], trim(ins.arguments.substr(sp)));
        return out;
    }
    for (const auto& w : words) {
        size_t eq = w.find('=');
        if (eq == std::string::npos || eq == 0) throw bad(ins, "expected KEY=VALUE, not \"" + w + "\"");
        out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
    }
    return out;
}

bool valid_port(const std::string& s, unsigned& n) {
    if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    n = static_cast<unsigned>(std::stoul(s));
    return n >= 1 && n <= 65535;
}

void expose(json& config, const Instruction& ins) {
    std::vector<std::string> words = split_words(ins.arguments);
    if (words.empty()) throw bad(ins, "EXPOSE requires at least one argument");
    for (const auto& w : words) {
        std::string port = w, proto = "tcp";
        if (size_t slash = w.find('/'); slash != std::string::npos) {
            port = w.substr(0, slash);
            proto = w.substr(slash + 1);
            for (auto& ch : proto) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
        }
        if (proto != "tcp" && proto != "udp" && proto != "sctp")
            throw bad(ins, "invalid proto: " + proto + " (tcp, udp or sctp)");
        unsigned first = 0, last = 0;
        size_t dash = port.find('-');
        bool ok = dash == std::string::npos ? valid_port(port, first) && valid_port(port, last)
                                            : valid_port(port.substr(0, dash), first) &&
                                                  valid_port(port.substr(dash + 1), last) && first <= last;
        if (!ok) throw bad(ins, "invalid containerPort: " + port);
        for (unsigned p = first; p <= last; ++p) config["ExposedPorts"][std::to_string(p) + "/" + proto] = json::object();
    }
}

void volume(json& config, const Instruction& ins) {
    std::vector<std::string> paths;
    if (auto words = exec_form(ins.arguments)) paths = *words;
    else paths = split_words(ins.arguments);
    if (paths.empty()) throw bad(ins, "VOLUME requires at least one argument");
    for (const auto& p : paths) {
        if (trim(p).empty()) throw bad(ins, "VOLUME specified can not be an empty string");
        config["Volumes"][trim(p)] = json::object();
    }
}

void stop_signal(json& config, const Instruction& ins) {
    std::string name = ins.arguments;
    for (auto& ch : name) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    std::string bare = starts_with(name, "SIG") ? name.substr(3) : name;
    bool ok = false;
    if (!bare.empty() && bare.find_first_not_of("0123456789") == std::string::npos) {
        int n = std::atoi(bare.c_str());
        ok = n > 0 && n < NSIG;
    } else {
        for (int n = 1; n < NSIG && !ok; ++n) ok = sigabbrev_np(n) && bare == sigabbrev_np(n);
    }
    if (!ok) throw bad(ins, "invalid signal: " + ins.arguments);
    config["StopSignal"] = ins.arguments;
}

}  // namespace

Instruction parse_instruction(const std::string& text) {
    Instruction ins;
    ins.original = trim(text);
    size_t sp = ins.original.find_first_of(" \t");
    ins.keyword = ins.original.substr(0, sp);
    for (auto& ch : ins.keyword) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    ins.arguments = sp == std::string::npos ? "" : trim(ins.original.substr(sp));
    if (ins.keyword.empty()) throw Error("invalid change \"" + text + "\"", "it is empty: give an instruction such as CMD [\"sh\"]");
    return ins;
}

std::optional<std::vector<std::string>> exec_form(const std::string& arguments) {
    if (arguments.empty() || arguments[0] != '[') return std::nullopt;
    json j = json::parse(arguments, nullptr, false);
    if (!j.is_array()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& v : j) {
        if (!v.is_string()) return std::nullopt;
        out.push_back(v.get<std::string>());
    }
    return out;
}

std::vector<std::string> split_words(const std::string& arguments) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < arguments.size(); ++i) {
        char ch = arguments[i];
        if (quote == '\'') {
            if (ch == '\'') quote = 0;
            else word += ch;
        } else if (ch == '\\' && i + 1 < arguments.size()) {
            word += arguments[++i];
            in_word = true;
        } else if (quote == '"') {
            if (ch == '"') quote = 0;
            else word += ch;
        } else if (ch == '"' || ch == '\'') {
            quote = ch;
            in_word = true;
        } else if (ch == ' ' || ch == '\t') {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
        } else {
            word += ch;
            in_word = true;
        }
    }
    if (quote) throw Error("unmatched " + std::string(1, quote) + " quote in \"" + arguments + "\"", "close the quote");
    if (in_word) words.push_back(word);
    return words;
}

void apply_changes(json& config, const std::vector<std::string>& changes) {
    bool cmd_set = false;  // docker: ENTRYPOINT clears a Cmd not set by these changes
    for (const auto& text : changes) {
        Instruction ins = parse_instruction(text);
        const std::string& k = ins.keyword;
        bool known = k == "CMD" || k == "ENTRYPOINT" || k == "ENV" || k == "EXPOSE" || k == "LABEL" ||
                     k == "ONBUILD" || k == "STOPSIGNAL" || k == "USER" || k == "VOLUME" || k == "WORKDIR";
        if (!known) throw bad(ins, k + " is not a valid change command (give one of " + kChangeKeywords + ")");
        if (ins.arguments.empty()) throw bad(ins, k + " requires at least one argument");
        if (k == "CMD") {
            config["Cmd"] = command(ins);
            cmd_set = true;
        } else if (k == "ENTRYPOINT") {
            config["Entrypoint"] = command(ins);
            if (!cmd_set) config["Cmd"] = nullptr;
        } else if (k == "ENV") {
            json env = config.contains("Env") && config["Env"].is_array() ? config["Env"] : json::array();
            for (const auto& [key, value] : pairs(ins)) {
                bool replaced = false;
                for (auto& e : env) {
                    std::string entry = e.get<std::string>();
                    if (entry.substr(0, entry.find('=')) == key) {
                        e = key + "=" + value;
                        replaced = true;
                    }
                }
                if (!replaced) env.push_back(key + "=" + value);
            }
            config["Env"] = env;
        } else if (k == "LABEL") {
            for (const auto& [key, value] : pairs(ins)) config["Labels"][key] = value;
        } else if (k == "EXPOSE") {
            expose(config, ins);
        } else if (k == "VOLUME") {
            volume(config, ins);
        } else if (k == "WORKDIR") {
            std::string dir = ins.arguments;
            if (dir[0] != '/') {
                std::string current = config.value("WorkingDir", "");
                dir = (current.empty() ? "" : current) + "/" + dir;
            }
            // Clean the path: no empty, "." or ".." parts.
            std::vector<std::string> parts;
            for (const auto& p : split(dir, '/')) {
                if (p.empty() || p == ".") continue;
                if (p == "..") {
                    if (!parts.empty()) parts.pop_back();
                } else {
                    parts.push_back(p);
                }
            }
            std::string clean;
            for (const auto& p : parts) clean += "/" + p;
            config["WorkingDir"] = clean.empty() ? "/" : clean;
        } else if (k == "USER") {
            config["User"] = ins.arguments;
        } else if (k == "ONBUILD") {
            Instruction trigger = parse_instruction(ins.arguments);
            if (trigger.keyword == "ONBUILD" || trigger.keyword == "FROM" || trigger.keyword == "MAINTAINER")
                throw bad(ins, trigger.keyword + " isn't allowed as an ONBUILD trigger");
            config["OnBuild"].push_back(ins.arguments);
        } else if (k == "STOPSIGNAL") {
            stop_signal(config, ins);
        }
    }
}

}  // namespace box
