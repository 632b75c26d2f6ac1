#include "box/instruction.hpp"

#include <signal.h>
#include <string.h>

#include "box/dockerfile.hpp"
#include "box/error.hpp"
#include "box/shell_lexer.hpp"
#include "box/util.hpp"

namespace box {
namespace {

using json = nlohmann::json;

const char* const kChangeKeywords = "CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR";

// One parsed change instruction, with the environment its words expand in.
struct Change {
    const std::string& what;  // "invalid change \"TEXT\"", or a build's FILE:LINE
    const dockerfile::Node& node;
    shell::Env env;
    char escape = '\\';

    Error bad(const std::string& why) const { return Error(what, why); }

    // A raw argument unquoted and $VAR-expanded, as a Dockerfile's ENV or WORKDIR does.
    std::string word(const std::string& raw) const {
        try {
            shell::LexOptions options;
            options.escape = escape;
            return shell::process_word(raw, env, options);
        } catch (const Error& e) {
            throw bad(e.what());
        }
    }
};

json command(const Change& c) {
    if (c.node.json) return c.node.args;
    return json::array({"/bin/sh", "-c", c.node.args[0]});
}

// ENV and LABEL: the parser's (key, value, separator) triples, unquoted.
std::vector<std::pair<std::string, std::string>> pairs(const Change& c) {
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = 0; i + 2 < c.node.args.size(); i += 3) {
        std::string key = c.word(c.node.args[i]);
        if (key.empty()) throw c.bad("expected KEY=VALUE, not \"" + c.node.args[i] + "=" + c.node.args[i + 1] + "\"");
        out.emplace_back(key, c.word(c.node.args[i + 1]));
    }
    return out;
}

void set_env(json& config, const Change& c) {
    json env = config.contains("Env") && config["Env"].is_array() ? config["Env"] : json::array();
    for (const auto& [key, value] : pairs(c)) {
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
}

bool valid_port(const std::string& s, unsigned& n) {
    auto port = parse_number<unsigned>(s);
    if (!port || *port < 1 || *port > 65535) return false;
    n = *port;
    return true;
}

void expose(json& config, const Change& c) {
    for (const auto& raw : c.node.args) {
        std::string w = c.word(raw), port = w, proto = "tcp";
        if (size_t slash = w.find('/'); slash != std::string::npos) {
            port = w.substr(0, slash);
            proto = to_lower(w.substr(slash + 1));
        }
        if (proto != "tcp" && proto != "udp" && proto != "sctp") throw c.bad("invalid proto: " + proto + " (tcp, udp or sctp)");
        unsigned first = 0, last = 0;
        size_t dash = port.find('-');
        bool ok = dash == std::string::npos ? valid_port(port, first) && valid_port(port, last)
                                            : valid_port(port.substr(0, dash), first) &&
                                                  valid_port(port.substr(dash + 1), last) && first <= last;
        if (!ok) throw c.bad("invalid containerPort: " + port);
        for (unsigned p = first; p <= last; ++p) config["ExposedPorts"][std::to_string(p) + "/" + proto] = json::object();
    }
}

void volume(json& config, const Change& c) {
    for (const auto& raw : c.node.args) {
        std::string path = c.node.json ? raw : c.word(raw);
        size_t first = path.find_first_not_of(" \t"), last = path.find_last_not_of(" \t");
        if (first == std::string::npos) throw c.bad("VOLUME specified can not be an empty string");
        config["Volumes"][path.substr(first, last + 1 - first)] = json::object();
    }
}

// WORKDIR: relative to the current one, then cleaned of empty, "." and ".." parts.
void workdir(json& config, const Change& c) {
    std::string dir = c.word(c.node.args[0]);
    if (dir[0] != '/') dir = config.value("WorkingDir", "") + "/" + dir;
    std::vector<std::string> parts;
    for (const auto& p : split(dir, '/')) {
        if (p.empty() || p == ".") continue;
        if (p != "..") parts.push_back(p);
        else if (!parts.empty()) parts.pop_back();
    }
    std::string clean;
    for (const auto& p : parts) clean += "/" + p;
    config["WorkingDir"] = clean.empty() ? "/" : clean;
}

void stop_signal(json& config, const Change& c) {
    std::string signal = c.word(c.node.args[0]);
    std::string name = to_upper(signal);
    std::string bare = starts_with(name, "SIG") ? name.substr(3) : name;
    bool ok = false;
    if (auto n = parse_number<int>(bare)) {
        ok = *n > 0 && *n < NSIG;
    } else {
        for (int n = 1; n < NSIG && !ok; ++n) ok = sigabbrev_np(n) && bare == sigabbrev_np(n);
    }
    if (!ok) throw c.bad("invalid signal: " + signal);
    config["StopSignal"] = signal;
}

bool is_metadata_keyword(const std::string& k) {
    return k == "ENV" || k == "LABEL" || k == "EXPOSE" || k == "ONBUILD" || k == "STOPSIGNAL" || k == "USER" ||
           k == "VOLUME" || k == "WORKDIR";
}

// The instructions of one change (a change of several lines holds several).
std::vector<dockerfile::Node> instructions(const std::string& text) {
    try {
        return dockerfile::parse(text, "change").root.children;
    } catch (const Error& e) {
        throw Error("invalid change \"" + text + "\"", e.reason());
    }
}

// The instructions both import/commit and a build apply alike (the caller
// has checked the keyword with is_metadata_keyword()).
void apply_metadata(json& config, const Change& c, const std::string& k) {
    const dockerfile::Node& node = c.node;
    if (k == "ENV") {
        set_env(config, c);
    } else if (k == "LABEL") {
        for (const auto& [key, value] : pairs(c)) config["Labels"][key] = value;
    } else if (k == "EXPOSE") {
        expose(config, c);
    } else if (k == "VOLUME") {
        volume(config, c);
    } else if (k == "WORKDIR") {
        workdir(config, c);
    } else if (k == "USER") {
        config["User"] = c.word(node.args[0]);
    } else if (k == "ONBUILD") {
        config["OnBuild"].push_back(node.children[0].original);  // the parser refused ONBUILD ONBUILD, FROM
    } else if (k == "STOPSIGNAL") {
        stop_signal(config, c);
    }
}

bool missing_arguments(const dockerfile::Node& node) { return node.args.empty() && node.children.empty() && !node.json; }

}  // namespace

void apply_changes(json& config, const std::vector<std::string>& changes) {
    bool cmd_set = false;  // docker: ENTRYPOINT clears a Cmd not set by these changes
    for (const auto& text : changes) {
        std::string what = "invalid change \"" + text + "\"";
        for (const auto& node : instructions(text)) {
            Change c{what, node, env_of(config)};
            std::string k = to_upper(node.keyword);
            if (k != "CMD" && k != "ENTRYPOINT" && !is_metadata_keyword(k))
                throw c.bad(k + " is not a valid change command (give one of " + kChangeKeywords + ")");
            if (missing_arguments(node)) throw c.bad(k + " requires at least one argument");
            if (k == "CMD") {
                config["Cmd"] = command(c);
                cmd_set = true;
            } else if (k == "ENTRYPOINT") {
                config["Entrypoint"] = command(c);
                if (!cmd_set) config["Cmd"] = nullptr;
            } else {
                apply_metadata(config, c, k);
            }
        }
    }
}

void apply_instruction(json& config, const dockerfile::Node& node, const shell::Env& env, char escape,
                       const std::string& what) {
    Change c{what, node, env, escape};
    std::string k = to_upper(node.keyword);
    if (!is_metadata_keyword(k)) throw c.bad(k + " is not a metadata instruction");
    if (missing_arguments(node)) throw c.bad(k + " requires at least one argument");
    apply_metadata(config, c, k);
}

shell::Env env_of(const json& config) {
    shell::Env env;
    if (config.contains("Env") && config["Env"].is_array())
        for (const auto& e : config["Env"]) {
            std::string entry = e.get<std::string>();
            size_t eq = entry.find('=');
            env[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
        }
    return env;
}

}  // namespace box
