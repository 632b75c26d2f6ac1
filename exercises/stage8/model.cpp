// Chapter 8: the model — each key of a Compose file checked (known, of its
// type) and its short forms made long, so that the rest of compose reads one
// shape: `ports: ["8080:80"]` becomes {target: 80, published: "8080", ...}.
#include <filesystem>
#include <regex>
#include <set>

#include "box/error.hpp"
#include "box/shell_lexer.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "stage8.hpp"

namespace fs = std::filesystem;

namespace box::stage8 {
namespace {

// Keys of the Compose specification that box does not do yet: refused by
// name, never ignored.
const std::set<std::string> kUnsupportedTop = {"secrets", "configs", "include", "models"};
const std::set<std::string> kUnsupportedService = {
    "annotations", "attach", "blkio_config", "cgroup", "cgroup_parent", "configs", "cpu_count", "cpu_percent",
    "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "credential_spec", "develop",
    "device_cgroup_rules", "domainname", "extends", "external_links", "gpus", "group_add", "ipc", "isolation",
    "label_file", "logging", "mac_address", "mem_reservation", "mem_swappiness", "memswap_limit", "models",
    "oom_kill_disable", "oom_score_adj", "pid", "platform", "post_start", "pre_start", "pre_stop", "provider",
    "pull_refresh_after", "runtime", "secrets",
    "shm_size", "storage_opt", "userns_mode", "uts", "use_api_socket", "devices", "network_mode"};

// What one file's checks need: where it is, the lines for messages, and
// whether its variables were interpolated.
struct Checker {
    const std::string& source;
    const std::string& dir;
    const std::map<std::string, int>& lines;
    bool interpolated;

    // Read without interpolation (config --no-interpolate), a value holding a
    // `$` reference has no type yet: it is kept as written, unchecked, as
    // compose-go's schema takes a string in any such place.
    bool kept(const json& v) const {
        return !interpolated && v.is_string() && v.get_ref<const std::string&>().find('$') != std::string::npos;
    }

    // `line_of`: the path whose line the message gives (default: `path`'s).
    [[noreturn]] void fail(const std::string& path, const std::string& why, const std::string& line_of = "") const {
        auto line = lines.find(line_of.empty() ? path : line_of);
        std::string at = line == lines.end() ? "" : " (line " + std::to_string(line->second) + ")";
        throw Error("validating " + source, path + " " + why + at);
    }
    void unsupported(const std::string& path) const {
        auto line = lines.find(path);
        std::string at = line == lines.end() ? "" : " (line " + std::to_string(line->second) + ")";
        throw Error("validating " + source, path + " is not supported by box compose yet" + at);
    }

    // A string, or a number or bool written where a string goes (YAML's 8080).
    std::string text(const json& v, const std::string& path) const {
        if (v.is_string()) return v.get<std::string>();
        if (v.is_number_integer()) return std::to_string(v.get<long long>());
        if (v.is_number()) return v.dump();
        if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
        fail(path, "must be a string");
    }
    json boolean(const json& v, const std::string& path) const {
        if (kept(v)) return v;
        if (v.is_boolean()) return v.get<bool>();
        if (v.is_string()) {  // interpolated: "${DEBUG:-false}"
            std::string s = to_lower(v.get<std::string>());
            if (s == "true" || s == "1" || s == "yes") return true;
            if (s == "false" || s == "0" || s == "no") return false;
        }
        fail(path, "must be a boolean");
    }
    json integer(const json& v, const std::string& path) const {
        if (kept(v)) return v;
        if (v.is_number_integer()) return v.get<long long>();
        if (v.is_string())
            if (auto n = parse_number<long long>(v.get<std::string>())) return *n;
        fail(path, "must be an integer");
    }
    json number(const json& v, const std::string& path) const {
        if (kept(v)) return v;
        if (v.is_number()) return v.get<double>();
        if (v.is_string()) {
            try {
                size_t used = 0;
                double d = std::stod(v.get<std::string>(), &used);
                if (used == v.get<std::string>().size()) return d;
            } catch (const std::exception&) {
            }
        }
        fail(path, "must be a number");
    }
    std::string duration(const json& v, const std::string& path) const {
        std::string s = text(v, path);
        if (kept(v)) return s;
        try {
            parse_duration(s, path);
        } catch (const Error& e) {
            fail(path, "must be a duration (" + std::string(e.what()) + ")");
        }
        return s;
    }
    // A list of strings, or one string (`dns: 8.8.8.8`).
    json strings(const json& v, const std::string& path, bool one_allowed = true) const {
        json out = json::array();
        if (one_allowed && !v.is_array() && !v.is_object() && !v.is_null()) {
            out.push_back(text(v, path));
            return out;
        }
        if (!v.is_array()) fail(path, one_allowed ? "must be a string or a list of strings" : "must be a list of strings");
        for (size_t i = 0; i < v.size(); ++i) out.push_back(text(v[i], path + "." + std::to_string(i)));
        return out;
    }
    // A mapping of strings, from a mapping or a list of "K=V" (`environment`,
    // `labels`, `args`, `sysctls`); a value may be null (`- KEY`: unset).
    json mapping(const json& v, const std::string& path, char sep = '=') const {
        json out = json::object();
        if (v.is_null()) return out;
        if (v.is_object()) {
            for (const auto& [k, item] : v.items())
                out[k] = item.is_null() ? json() : json(text(item, path + "." + k));
            return out;
        }
        if (!v.is_array()) fail(path, "must be a mapping or a list of KEY" + std::string(1, sep) + "VALUE");
        for (size_t i = 0; i < v.size(); ++i) {
            std::string item = text(v[i], path + "." + std::to_string(i));
            size_t at = item.find(sep);
            if (at == 0) fail(path + "." + std::to_string(i), "has no name before '" + std::string(1, sep) + "'");
            if (at == std::string::npos) out[item] = nullptr;
            else out[item.substr(0, at)] = item.substr(at + 1);
        }
        return out;
    }
    // A command: the list as given, a string split as a shell would (quotes, no expansion).
    json command(const json& v, const std::string& path) const {
        if (v.is_null()) return nullptr;
        if (v.is_array()) return strings(v, path, false);
        shell::LexOptions lex;
        lex.skip_unset = true;
        try {
            return shell::process_words(text(v, path), {}, lex);
        } catch (const Error& e) {
            fail(path, std::string("cannot be split into words: ") + e.what());
        }
    }
    // Keys of object `v` at `path` must be among `known` (x-* extensions
    // aside); keys of `unsupported` are refused by name.
    void keys(const json& v, const std::string& path, const std::set<std::string>& known,
              const std::set<std::string>& not_yet = {}) const {
        if (!v.is_object()) fail(path, "must be a mapping");
        for (const auto& [k, unused] : v.items()) {
            if (starts_with(k, "x-") || known.count(k)) continue;
            if (not_yet.count(k)) unsupported(path + "." + k);
            fail(path, "additional property " + k + " is not allowed", path + "." + k);
        }
    }
    // `path` from the project directory, without a trailing `/` (compose-go's
    // filepath.Join: `build: .` is the directory itself, not "DIR/").
    std::string absolute(const std::string& path) const {
        std::string p = path;
        if (p == "~" || starts_with(p, "~/")) p = (getenv("HOME") ? getenv("HOME") : "/root") + p.substr(1);
        fs::path full = (fs::path(p).is_absolute() ? fs::path(p) : fs::path(dir) / p).lexically_normal();
        std::string out = full.string();
        while (out.size() > 1 && out.back() == '/') out.pop_back();
        return out;
    }

    std::string env_file_path(const std::string& path) const { return interpolated || path.find('$') == std::string::npos ? absolute(path) : path; }

    json build(const json& v, const std::string& path) const {
        json out = json::object();
        if (!v.is_object()) {
            out["context"] = absolute(text(v, path));
            out["dockerfile"] = "Dockerfile";
            return out;
        }
        keys(v, path, {"context", "dockerfile", "args", "target", "labels", "network", "no_cache", "pull"},
             {"dockerfile_inline", "ssh", "secrets", "cache_from", "cache_to", "extra_hosts", "isolation", "platforms",
              "privileged", "shm_size", "tags", "ulimits", "additional_contexts", "entitlements", "provenance", "sbom"});
        std::string context = v.contains("context") ? text(v["context"], path + ".context") : ".";
        out["context"] = kept(v.value("context", json())) ? context : absolute(context);
        out["dockerfile"] = v.contains("dockerfile") ? text(v["dockerfile"], path + ".dockerfile") : "Dockerfile";
        if (v.contains("args")) out["args"] = mapping(v["args"], path + ".args");
        if (v.contains("target")) out["target"] = text(v["target"], path + ".target");
        if (v.contains("labels")) out["labels"] = mapping(v["labels"], path + ".labels");
        if (v.contains("network")) out["network"] = text(v["network"], path + ".network");
        if (v.contains("no_cache")) out["no_cache"] = boolean(v["no_cache"], path + ".no_cache");
        if (v.contains("pull")) out["pull"] = boolean(v["pull"], path + ".pull");
        return out;
    }

    // ports: "8080:80", "127.0.0.1:8080:80/udp", "80", "9090-9091:8080-8081", 80, or the long form.
    void ports(const json& v, const std::string& path, json& out) const {
        if (!v.is_array()) fail(path, "must be a list");
        // A short form with a reference cannot be read before interpolation:
        // compose-go then keeps the whole list as written.
        if (std::any_of(v.begin(), v.end(), [&](const json& p) { return kept(p); })) {
            out = v;
            return;
        }
        for (size_t i = 0; i < v.size(); ++i) {
            std::string at = path + "." + std::to_string(i);
            const json& p = v[i];
            if (p.is_object()) {
                keys(p, at, {"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"});
                if (!p.contains("target")) fail(at, "target is required");
                json port = {{"target", integer(p["target"], at + ".target")},
                             {"protocol", p.contains("protocol") ? to_lower(text(p["protocol"], at + ".protocol")) : "tcp"},
                             {"mode", p.contains("mode") ? text(p["mode"], at + ".mode") : "ingress"}};
                if (p.contains("published")) port["published"] = text(p["published"], at + ".published");
                if (p.contains("host_ip")) port["host_ip"] = text(p["host_ip"], at + ".host_ip");
                if (p.contains("name")) port["name"] = text(p["name"], at + ".name");
                out.push_back(port);
                continue;
            }
            std::string spec = text(p, at), protocol = "tcp";
            if (size_t slash = spec.rfind('/'); slash != std::string::npos) {
                protocol = to_lower(spec.substr(slash + 1));
                spec = spec.substr(0, slash);
            }
            if (protocol != "tcp" && protocol != "udp" && protocol != "sctp") fail(at, "has an invalid protocol: " + protocol);
            // The container's port is after the last ':' (an IPv6 host address has more).
            size_t colon = spec.rfind(':');
            std::string target = colon == std::string::npos ? spec : spec.substr(colon + 1);
            std::string host = colon == std::string::npos ? "" : spec.substr(0, colon), host_ip, published;
            if (size_t c2 = host.rfind(':'); c2 != std::string::npos) {
                host_ip = host.substr(0, c2);
                published = host.substr(c2 + 1);
                if (host_ip.size() > 1 && host_ip.front() == '[' && host_ip.back() == ']') host_ip = host_ip.substr(1, host_ip.size() - 2);
            } else {
                published = host;
            }
            auto range = [&](const std::string& r) -> std::pair<long long, long long> {
                size_t dash = r.find('-');
                auto a = parse_number<long long>(r.substr(0, dash));
                auto b = dash == std::string::npos ? a : parse_number<long long>(r.substr(dash + 1));
                if (!a || !b || *a < 0 || *b > 65535 || *b < *a) fail(at, "has an invalid port: " + r);
                return {*a, *b};
            };
            auto [t0, t1] = range(target);
            long long p0 = 0, p1 = 0;
            if (!published.empty()) std::tie(p0, p1) = range(published);
            if (!published.empty() && p1 - p0 != t1 - t0 && p0 != p1)
                fail(at, "has ranges of different lengths: " + published + " and " + target);
            for (long long t = t0; t <= t1; ++t) {
                json port = {{"target", t}, {"protocol", protocol}, {"mode", "ingress"}};
                if (!published.empty()) port["published"] = std::to_string(p0 == p1 ? p0 : p0 + (t - t0));
                if (!host_ip.empty()) port["host_ip"] = host_ip;
                out.push_back(port);
            }
        }
    }

    // volumes: "./data:/data:ro", "name:/path", "/path", or the long form.
    json volumes(const json& v, const std::string& path) const {
        if (!v.is_array()) fail(path, "must be a list");
        json out = json::array();
        for (size_t i = 0; i < v.size(); ++i) {
            std::string at = path + "." + std::to_string(i);
            const json& m = v[i];
            json vol;
            if (m.is_object()) {
                keys(m, at, {"type", "source", "target", "read_only", "bind", "volume", "tmpfs", "consistency"}, {"image", "npipe", "cluster"});
                if (!m.contains("type")) fail(at, "type is required");
                vol["type"] = text(m["type"], at + ".type");
                if (!m.contains("target")) fail(at, "target is required");
                vol["target"] = text(m["target"], at + ".target");
                if (m.contains("source")) vol["source"] = text(m["source"], at + ".source");
                if (m.contains("read_only")) vol["read_only"] = boolean(m["read_only"], at + ".read_only");
                if (m.contains("bind")) {
                    keys(m["bind"], at + ".bind", {"create_host_path"}, {"propagation", "selinux", "recursive"});
                    vol["bind"] = json::object();
                    if (m["bind"].contains("create_host_path"))
                        vol["bind"]["create_host_path"] = boolean(m["bind"]["create_host_path"], at + ".bind.create_host_path");
                }
                if (m.contains("volume")) {
                    keys(m["volume"], at + ".volume", {"nocopy"}, {"subpath"});
                    vol["volume"] = json::object();
                    if (m["volume"].contains("nocopy")) vol["volume"]["nocopy"] = boolean(m["volume"]["nocopy"], at + ".volume.nocopy");
                }
                if (m.contains("tmpfs")) {
                    keys(m["tmpfs"], at + ".tmpfs", {"size", "mode"});
                    vol["tmpfs"] = json::object();
                    if (m["tmpfs"].contains("size")) vol["tmpfs"]["size"] = bytes(m["tmpfs"]["size"], at + ".tmpfs.size");
                    if (m["tmpfs"].contains("mode")) vol["tmpfs"]["mode"] = integer(m["tmpfs"]["mode"], at + ".tmpfs.mode");
                }
            } else {
                if (kept(m)) {  // "${SRC}:/data": its parts are known once interpolated
                    out.push_back(m);
                    continue;
                }
                std::string spec = text(m, at);
                auto parts = split(spec, ':');
                if (parts.size() == 1) {
                    vol = {{"type", "volume"}, {"target", parts[0]}};
                } else if (parts.size() == 2 || parts.size() == 3) {
                    const std::string& source = parts[0];
                    bool host = starts_with(source, "/") || starts_with(source, ".") || starts_with(source, "~");
                    vol = {{"type", host ? "bind" : "volume"}, {"source", source}, {"target", parts[1]}};
                    if (host) vol["bind"] = {{"create_host_path", true}};
                    else vol["volume"] = json::object();
                    if (parts.size() == 3) {
                        for (const auto& opt : split(parts[2], ',')) {
                            if (opt == "ro") vol["read_only"] = true;
                            else if (opt == "rw") vol["read_only"] = false;
                            else if (opt != "z" && opt != "Z" && opt != "cached" && opt != "delegated" && opt != "consistent" && opt != "nocopy")
                                fail(at, "has an invalid mode: " + opt);
                        }
                    }
                } else {
                    fail(at, "is not a volume: use SOURCE:TARGET[:MODE] or TARGET");
                }
            }
            std::string type = vol["type"], target = vol["target"];
            if (!kept(vol["type"]) && type != "bind" && type != "volume" && type != "tmpfs") unsupported(at + ".type " + type);
            if (!kept(vol["target"]) && (target.empty() || target[0] != '/')) fail(at, "target must be an absolute path: " + target);
            if (type == "bind") {
                if (!vol.contains("source")) fail(at, "source is required for a bind mount");
                if (!kept(vol["source"])) vol["source"] = absolute(vol["source"]);
            }
            out.push_back(vol);
        }
        return out;
    }

    json networks(const json& v, const std::string& path) const {
        json out = json::object();
        if (v.is_array()) {
            for (size_t i = 0; i < v.size(); ++i) out[text(v[i], path + "." + std::to_string(i))] = nullptr;
            return out;
        }
        if (!v.is_object()) fail(path, "must be a list or a mapping");
        for (const auto& [name, n] : v.items()) {
            std::string at = path + "." + name;
            if (n.is_null()) {
                out[name] = nullptr;
                continue;
            }
            keys(n, at, {"aliases", "ipv4_address"}, {"ipv6_address", "link_local_ips", "priority", "mac_address", "driver_opts", "gw_priority", "interface_name"});
            json e = json::object();
            if (n.contains("aliases")) e["aliases"] = strings(n["aliases"], at + ".aliases", false);
            if (n.contains("ipv4_address")) e["ipv4_address"] = text(n["ipv4_address"], at + ".ipv4_address");
            out[name] = e;
        }
        return out;
    }

    json depends_on(const json& v, const std::string& path) const {
        json out = json::object();
        if (v.is_array()) {
            for (size_t i = 0; i < v.size(); ++i)
                out[text(v[i], path + "." + std::to_string(i))] = {{"condition", "service_started"}, {"required", true}};
            return out;
        }
        if (!v.is_object()) fail(path, "must be a list or a mapping");
        static const std::set<std::string> conditions = {"service_started", "service_healthy", "service_completed_successfully"};
        for (const auto& [name, d] : v.items()) {
            std::string at = path + "." + name;
            keys(d, at, {"condition", "required", "restart"});
            json e = {{"condition", d.contains("condition") ? text(d["condition"], at + ".condition") : "service_started"},
                      {"required", d.contains("required") ? boolean(d["required"], at + ".required") : json(true)}};
            if (!kept(e["condition"]) && !conditions.count(e["condition"])) fail(at + ".condition", "must be one of service_started, service_healthy, service_completed_successfully");
            if (d.contains("restart")) e["restart"] = boolean(d["restart"], at + ".restart");
            out[name] = e;
        }
        return out;
    }

    json healthcheck(const json& v, const std::string& path) const {
        keys(v, path, {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"});
        json out = json::object();
        if (v.contains("test")) {
            const json& t = v["test"];
            if (t.is_string()) out["test"] = {"CMD-SHELL", t.get<std::string>()};
            else out["test"] = strings(t, path + ".test", false);
        }
        for (const char* d : {"interval", "timeout", "start_period", "start_interval"})
            if (v.contains(d)) out[d] = duration(v[d], path + "." + d);
        if (v.contains("retries")) out["retries"] = integer(v["retries"], path + ".retries");
        if (v.contains("disable")) out["disable"] = boolean(v["disable"], path + ".disable");
        return out;
    }

    json deploy(const json& v, const std::string& path) const {
        keys(v, path, {"replicas", "resources"}, {"mode", "endpoint_mode", "labels", "placement", "restart_policy", "rollback_config", "update_config"});
        json out = json::object();
        if (v.contains("replicas")) out["replicas"] = integer(v["replicas"], path + ".replicas");
        if (v.contains("resources")) {
            const json& r = v["resources"];
            keys(r, path + ".resources", {"limits"}, {"reservations"});
            if (r.contains("limits")) {
                const json& l = r["limits"];
                std::string at = path + ".resources.limits";
                keys(l, at, {"cpus", "memory", "pids"});
                json limits = json::object();
                if (l.contains("cpus")) limits["cpus"] = number(l["cpus"], at + ".cpus");
                if (l.contains("memory")) limits["memory"] = bytes(l["memory"], at + ".memory");
                if (l.contains("pids")) limits["pids"] = integer(l["pids"], at + ".pids");
                out["resources"] = {{"limits", limits}};
            }
        }
        return out;
    }
    json bytes(const json& v, const std::string& path) const {
        if (kept(v)) return v;
        if (v.is_number_integer()) return v.get<long long>();
        try {
            return parse_bytes(text(v, path), path);
        } catch (const Error&) {
            fail(path, "must be a size (64m, 1g, bytes)");
        }
    }

    json service(const std::string& name, const json& s) const {
        std::string path = "services." + name;
        static const std::set<std::string> known = {
            "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes",
            "networks", "depends_on", "healthcheck", "restart", "container_name", "hostname", "working_dir", "user",
            "links", "labels", "stop_signal", "stop_grace_period", "init", "read_only", "tmpfs", "cap_add", "cap_drop",
            "privileged", "dns", "dns_search", "dns_opt", "extra_hosts", "sysctls", "deploy", "mem_limit", "cpus",
            "pids_limit", "scale", "profiles", "stdin_open", "tty", "security_opt", "ulimits", "pull_policy", "cpuset",
            "volumes_from"};
        if (s.is_null()) fail(path, "must be a mapping");
        keys(s, path, known, kUnsupportedService);
        json out = json::object();
        auto at = [&](const char* key) { return path + "." + key; };
        if (s.contains("image")) out["image"] = text(s["image"], at("image"));
        if (s.contains("build")) out["build"] = build(s["build"], at("build"));
        for (const char* k : {"command", "entrypoint"})
            if (s.contains(k)) out[k] = command(s[k], at(k));
        // env_file: the files, read once the files are merged (the loader's
        // resolve_environment(), as compose-go does it after its merge).
        if (s.contains("env_file")) {
            json files = json::array();
            const json& ef = s["env_file"];
            if (ef.is_array() && !ef.empty() && ef[0].is_object()) {
                for (size_t i = 0; i < ef.size(); ++i) {
                    std::string p = at("env_file") + "." + std::to_string(i);
                    keys(ef[i], p, {"path", "required", "format"});
                    json f = {{"path", env_file_path(text(ef[i].value("path", json()), p + ".path"))},
                              {"required", ef[i].contains("required") ? boolean(ef[i]["required"], p + ".required") : json(true)}};
                    files.push_back(f);
                }
            } else {
                for (const auto& f : strings(ef, at("env_file"))) files.push_back({{"path", env_file_path(f)}, {"required", true}});
            }
            out["env_file"] = files;
        }
        if (s.contains("environment")) {
            json env = mapping(s["environment"], at("environment"));
            if (!env.empty()) out["environment"] = env;
        }
        if (s.contains("ports")) {
            json ports_out = json::array();
            ports(s["ports"], at("ports"), ports_out);
            out["ports"] = ports_out;
        }
        if (s.contains("expose")) out["expose"] = strings(s["expose"], at("expose"), false);
        if (s.contains("volumes")) out["volumes"] = volumes(s["volumes"], at("volumes"));
        if (s.contains("networks")) out["networks"] = networks(s["networks"], at("networks"));
        if (s.contains("depends_on")) out["depends_on"] = depends_on(s["depends_on"], at("depends_on"));
        if (s.contains("healthcheck")) out["healthcheck"] = healthcheck(s["healthcheck"], at("healthcheck"));
        if (s.contains("restart")) {
            std::string r = text(s["restart"], at("restart"));
            static const std::regex policy("no|always|unless-stopped|on-failure(:[0-9]+)?");
            if (!kept(s["restart"]) && !std::regex_match(r, policy)) fail(at("restart"), "must be no, always, on-failure[:N] or unless-stopped");
            out["restart"] = r;
        }
        for (const char* k : {"container_name", "hostname", "working_dir", "user", "stop_signal", "pull_policy", "cpuset"})
            if (s.contains(k)) out[k] = text(s[k], at(k));
        if (s.contains("stop_grace_period")) out["stop_grace_period"] = duration(s["stop_grace_period"], at("stop_grace_period"));
        for (const char* k : {"init", "read_only", "privileged", "stdin_open", "tty"})
            if (s.contains(k)) out[k] = boolean(s[k], at(k));
        for (const char* k : {"links", "cap_add", "cap_drop", "profiles", "security_opt", "volumes_from"})
            if (s.contains(k)) out[k] = strings(s[k], at(k), false);
        for (const char* k : {"tmpfs", "dns", "dns_search", "dns_opt"})
            if (s.contains(k)) out[k] = strings(s[k], at(k));
        if (s.contains("labels")) out["labels"] = mapping(s["labels"], at("labels"));
        if (s.contains("sysctls")) out["sysctls"] = mapping(s["sysctls"], at("sysctls"));
        if (s.contains("extra_hosts")) {
            json hosts = json::array();
            const json& h = s["extra_hosts"];
            if (h.is_object()) {
                for (const auto& [host, ip] : h.items()) hosts.push_back(host + ":" + text(ip, at("extra_hosts") + "." + host));
            } else {
                for (const auto& e : strings(h, at("extra_hosts"), false)) {
                    std::string item = e;
                    size_t eq = item.find('=');  // compose's HOST=IP form
                    if (eq != std::string::npos) item = item.substr(0, eq) + ":" + item.substr(eq + 1);
                    hosts.push_back(item);
                }
            }
            out["extra_hosts"] = hosts;
        }
        if (s.contains("ulimits")) {
            json limits = json::object();
            keys(s["ulimits"], at("ulimits"), {"nofile", "nproc", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "rtprio", "rttime", "sigpending", "stack", "as"});
            for (const auto& [k, u] : s["ulimits"].items()) {
                std::string p = at("ulimits") + "." + k;
                if (u.is_object()) {
                    keys(u, p, {"soft", "hard"});
                    limits[k] = {{"soft", integer(u.value("soft", json(0)), p + ".soft")}, {"hard", integer(u.value("hard", json(0)), p + ".hard")}};
                } else {
                    json n = integer(u, p);
                    limits[k] = {{"soft", n}, {"hard", n}};
                }
            }
            out["ulimits"] = limits;
        }
        if (s.contains("deploy")) out["deploy"] = deploy(s["deploy"], at("deploy"));
        if (s.contains("mem_limit")) out["mem_limit"] = bytes(s["mem_limit"], at("mem_limit"));
        if (s.contains("cpus")) out["cpus"] = number(s["cpus"], at("cpus"));
        if (s.contains("pids_limit")) out["pids_limit"] = integer(s["pids_limit"], at("pids_limit"));
        if (s.contains("scale")) out["scale"] = integer(s["scale"], at("scale"));
        if (out.contains("pull_policy")) {
            static const std::set<std::string> policies = {"always", "never", "missing", "if_not_present", "build"};
            if (!kept(out["pull_policy"]) && !policies.count(out["pull_policy"])) fail(at("pull_policy"), "must be always, never, missing or build");
        }
        return out;
    }

    json network(const std::string& key, const json& n) const {
        std::string path = "networks." + key;
        json out = json::object();
        if (n.is_null()) return out;
        keys(n, path, {"name", "driver", "external", "internal", "labels", "ipam", "attachable"}, {"driver_opts", "enable_ipv6", "enable_ipv4"});
        if (n.contains("name")) out["name"] = text(n["name"], path + ".name");
        if (n.contains("driver")) {
            std::string d = text(n["driver"], path + ".driver");
            if (d != "bridge" && !kept(n["driver"])) unsupported(path + ".driver " + d);
            out["driver"] = d;
        }
        if (n.contains("external")) out["external"] = boolean(n["external"], path + ".external");
        if (n.contains("internal")) out["internal"] = boolean(n["internal"], path + ".internal");
        if (n.contains("attachable")) out["attachable"] = boolean(n["attachable"], path + ".attachable");
        if (n.contains("labels")) out["labels"] = mapping(n["labels"], path + ".labels");
        if (n.contains("ipam")) {
            const json& ipam = n["ipam"];
            keys(ipam, path + ".ipam", {"driver", "config"}, {"options"});
            json configs = json::array();
            if (ipam.contains("config")) {
                const json& c = ipam["config"];
                if (!c.is_array()) fail(path + ".ipam.config", "must be a list");
                for (size_t i = 0; i < c.size(); ++i) {
                    std::string p = path + ".ipam.config." + std::to_string(i);
                    keys(c[i], p, {"subnet", "gateway"}, {"ip_range", "aux_addresses"});
                    json e = json::object();
                    if (c[i].contains("subnet")) e["subnet"] = text(c[i]["subnet"], p + ".subnet");
                    if (c[i].contains("gateway")) e["gateway"] = text(c[i]["gateway"], p + ".gateway");
                    configs.push_back(e);
                }
                if (configs.size() > 1) unsupported(path + ".ipam.config (more than one subnet)");
            }
            out["ipam"] = {{"config", configs}};
        }
        return out;
    }

    json volume(const std::string& key, const json& v) const {
        std::string path = "volumes." + key;
        json out = json::object();
        if (v.is_null()) return out;
        keys(v, path, {"name", "driver", "external", "labels"}, {"driver_opts"});
        if (v.contains("name")) out["name"] = text(v["name"], path + ".name");
        if (v.contains("driver")) {
            std::string d = text(v["driver"], path + ".driver");
            if (d != "local" && !kept(v["driver"])) unsupported(path + ".driver " + d);
            out["driver"] = d;
        }
        if (v.contains("external")) out["external"] = boolean(v["external"], path + ".external");
        if (v.contains("labels")) out["labels"] = mapping(v["labels"], path + ".labels");
        return out;
    }
};

}  // namespace

json normalise(const json& doc, const std::string& source, const std::string& dir,
               const std::map<std::string, int>& lines, std::vector<std::string>& warnings, bool interpolated) {
    Checker check{source, dir, lines, interpolated};
    if (doc.is_null()) throw Error(source, "empty compose file");
    check.keys(doc, "(root)", {"version", "name", "services", "networks", "volumes"}, kUnsupportedTop);
    if (doc.contains("version"))
        warnings.push_back(source + ": the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion");
    json out = json::object();
    if (doc.contains("name")) out["name"] = check.text(doc["name"], "name");
    json top = {{"networks", doc.value("networks", json::object())}, {"volumes", doc.value("volumes", json::object())}};
    if (top["networks"].is_null()) top["networks"] = json::object();
    if (top["volumes"].is_null()) top["volumes"] = json::object();
    out["networks"] = json::object();
    for (const auto& [key, n] : top["networks"].items()) out["networks"][key] = check.network(key, n);
    out["volumes"] = json::object();
    for (const auto& [key, v] : top["volumes"].items()) out["volumes"][key] = check.volume(key, v);
    out["services"] = json::object();
    const json& services = doc.value("services", json::object());
    if (!services.is_object() && !services.is_null()) check.fail("services", "must be a mapping");
    if (services.is_object())
        for (const auto& [name, s] : services.items()) {
            static const std::regex valid("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
            if (!std::regex_match(name, valid)) check.fail("services." + name, "is not a valid service name");
            out["services"][name] = check.service(name, s);
        }
    return out;
}

void merge_models(json& base, const json& over) {
    if (over.contains("name")) base["name"] = over["name"];
    for (const char* section : {"networks", "volumes"})
        for (const auto& [k, v] : member(over, section).items()) {
            json& into = base[section][k];
            if (into.is_object() && v.is_object()) into.update(v);
            else into = v;
        }
    static const std::set<std::string> replaced = {"command", "entrypoint", "image", "build", "healthcheck", "networks", "deploy"};
    static const std::set<std::string> merged_maps = {"environment", "labels", "sysctls", "depends_on", "ulimits"};
    for (const auto& [name, s] : member(over, "services").items()) {
        json& into = base["services"][name];
        if (!into.is_object()) {
            into = s;
            continue;
        }
        for (const auto& [k, v] : s.items()) {
            if (!into.contains(k) || replaced.count(k) || !v.is_structured()) {
                into[k] = v;
            } else if (merged_maps.count(k)) {
                into[k].update(v);
            } else if (k == "volumes") {  // by target: the later file's mount at a path replaces one
                for (const auto& m : v) {
                    auto& list = into[k];
                    for (auto it = list.begin(); it != list.end();)
                        it = (*it)["target"] == m["target"] ? list.erase(it) : it + 1;
                    list.push_back(m);
                }
            } else if (v.is_array()) {  // other lists: added to, each item once
                for (const auto& item : v)
                    if (std::find(into[k].begin(), into[k].end(), item) == into[k].end()) into[k].push_back(item);
            } else {
                into[k] = v;
            }
        }
    }
}

}  // namespace box::stage8
