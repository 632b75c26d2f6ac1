// Chapter 8: a service's containers — each one chapter 4's ContainerRequest,
// made from the model and labelled so that the next `up` finds it and knows,
// by the config hash, whether it still is what the file asks for.
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "stage7.hpp"
#include "stage8.hpp"

namespace box::stage8 {

std::string config_hash(const json& service) {
    // BEGIN EXERCISE 2: config_hash()
    json s = service;
    s.erase("build");
    s.erase("pull_policy");
    s.erase("scale");
    if (s.contains("deploy") && s["deploy"].is_object()) s["deploy"].erase("replicas");
    return digest_hex(sha256_digest(s.dump()));  // dump(): keys sorted, the same text for the same service
    // END EXERCISE
}

bool needs_recreate(const stage4::Container& c, const std::string& hash, bool force, bool never) {
    // BEGIN EXERCISE 4: needs_recreate()
    if (never) return false;
    if (force) return true;
    auto it = c.request.Config.Labels.find(label::kConfigHash);
    return it == c.request.Config.Labels.end() || it->second != hash;
    // END EXERCISE
}

std::string service_image(const Project& p, const std::string& name) {
    const json& s = p.model["services"].at(name);
    if (s.contains("image")) return s["image"];
    return p.name + "-" + name;
}

std::string container_name(const Project& p, const std::string& name, int number) {
    const json& s = p.model["services"].at(name);
    if (s.contains("container_name")) return s["container_name"];
    return p.name + "-" + name + "-" + std::to_string(number);
}

std::string network_name(const Project& p, const std::string& key) {
    const json& n = p.model["networks"].value(key, json::object());
    if (n.contains("name")) return n["name"];
    if (n.value("external", false)) return key;
    return p.name + "_" + key;
}

std::string volume_name(const Project& p, const std::string& key) {
    const json& v = p.model["volumes"].value(key, json::object());
    if (v.contains("name")) return v["name"];
    if (v.value("external", false)) return key;
    return p.name + "_" + key;
}

ContainerRequest service_request(const Project& p, const std::string& name, int number) {
    const json& s = p.model["services"].at(name);
    ContainerRequest r;
    // BEGIN ADVANCED EXERCISE 5: service_request()
    r.Name = container_name(p, name, number);
    RequestConfig& c = r.Config;
    RequestHostConfig& h = r.HostConfig;
    c.Image = service_image(p, name);
    if (s.contains("command")) c.Cmd = s["command"].get<std::vector<std::string>>();
    if (s.contains("entrypoint")) c.Entrypoint = s["entrypoint"].get<std::vector<std::string>>();
    // `- KEY` without a value: the project's (shell or .env) value, if it has one.
    for (const auto& [k, v] : member(s, "environment").items()) {
        if (!v.is_null()) c.Env.push_back(k + "=" + v.get<std::string>());
        else if (auto it = p.env.find(k); it != p.env.end()) c.Env.push_back(k + "=" + it->second);
    }
    c.Hostname = s.value("hostname", "");
    c.User = s.value("user", "");
    c.WorkingDir = s.value("working_dir", "");
    c.Tty = s.value("tty", false);
    c.OpenStdin = s.value("stdin_open", false);
    c.StopSignal = s.value("stop_signal", "");
    if (s.contains("stop_grace_period"))
        c.StopTimeout = static_cast<int>(parse_duration(s["stop_grace_period"], "stop_grace_period") / 1000000000);
    for (const auto& [k, v] : member(s, "labels").items()) c.Labels[k] = v.is_null() ? "" : v.get<std::string>();
    c.Labels[label::kProject] = p.name;
    c.Labels[label::kService] = name;
    c.Labels[label::kNumber] = std::to_string(number);
    c.Labels[label::kOneoff] = "False";
    c.Labels[label::kConfigHash] = config_hash(s);
    c.Labels[label::kWorkingDir] = p.dir;
    c.Labels[label::kConfigFiles] = join(p.files, ",");
    c.Labels[label::kVersion] = BOX_VERSION;
    for (const auto& e : s.value("expose", json::array()))  // "9091-9092": each port, as --expose's
        for (const auto& port : stage7::parse_publish(e.get<std::string>()))
            c.ExposedPorts[std::to_string(port.container_port) + "/" + port.protocol] = json::object();
    if (s.contains("healthcheck")) {
        const json& hc = s["healthcheck"];
        RequestHealthcheck check;
        if (hc.value("disable", false)) check.Test = {"NONE"};
        else if (hc.contains("test")) check.Test = hc["test"].get<std::vector<std::string>>();
        auto ns = [&](const char* key) { return hc.contains(key) ? parse_duration(hc[key], key) : 0; };
        check.Interval = ns("interval");
        check.Timeout = ns("timeout");
        check.StartPeriod = ns("start_period");
        check.StartInterval = ns("start_interval");
        check.Retries = hc.value("retries", 0);
        c.Healthcheck = check;
    }

    // Networks: the first is the container's NetworkMode; on each, its service's
    // name and aliases are names the others find it by.
    bool first = true;
    for (const auto& [key, e] : member(s, "networks").items()) {
        std::string net = network_name(p, key);
        if (first) h.NetworkMode = net;
        first = false;
        RequestEndpoint endpoint;
        endpoint.Aliases.push_back(name);
        if (e.is_object()) {
            for (const auto& a : e.value("aliases", json::array())) endpoint.Aliases.push_back(a);
            endpoint.IPAMConfig.IPv4Address = e.value("ipv4_address", "");
        }
        r.NetworkingConfig.EndpointsConfig[net] = endpoint;
    }
    for (const auto& port : s.value("ports", json::array())) {
        std::string key = std::to_string(port["target"].get<long long>()) + "/" + port.value("protocol", "tcp");
        h.PortBindings[key].push_back({port.value("host_ip", ""), port.value("published", "")});
        c.ExposedPorts[key] = json::object();
    }
    for (const auto& link : s.value("links", json::array())) {  // SERVICE[:ALIAS], to its first container
        std::string l = link, service = l.substr(0, l.find(':'));
        std::string alias = l.find(':') == std::string::npos ? service : l.substr(l.find(':') + 1);
        if (!p.model["services"].contains(service))
            throw Error("service \"" + name + "\" has a link to undefined service \"" + service + "\"", "links name services of the file");
        h.Links.push_back(container_name(p, service, 1) + ":" + alias);
    }

    // Volumes: binds as -v (a missing host directory is made, as compose's
    // create_host_path), the file's volumes under their project names.
    for (const auto& v : s.value("volumes", json::array())) {
        std::string type = v["type"], target = v["target"];
        bool ro = v.value("read_only", false);
        if (type == "bind") {
            h.Binds.push_back(v["source"].get<std::string>() + ":" + target + (ro ? ":ro" : ""));
        } else if (type == "volume") {
            RequestMount m;
            m.Type = "volume";
            m.Target = target;
            m.ReadOnly = ro;
            if (v.contains("source")) m.Source = volume_name(p, v["source"]);
            h.Mounts.push_back(m);
        } else {
            RequestMount m;
            m.Type = "tmpfs";
            m.Target = target;
            m.ReadOnly = ro;
            if (v.contains("tmpfs")) {
                m.TmpfsOptions.SizeBytes = v["tmpfs"].value("size", std::int64_t{0});
                m.TmpfsOptions.Mode = v["tmpfs"].value("mode", 0u);
            }
            h.Mounts.push_back(m);
        }
    }
    for (const auto& from : s.value("volumes_from", json::array())) {  // [service:|container:]NAME[:ro|rw]
        std::string ref = from, mode;
        bool container = starts_with(ref, "container:");
        if (container) ref = ref.substr(10);
        else if (starts_with(ref, "service:")) ref = ref.substr(8);
        if (size_t colon = ref.find(':'); colon != std::string::npos) {
            mode = ref.substr(colon);
            ref = ref.substr(0, colon);
        }
        h.VolumesFrom.push_back((container ? ref : container_name(p, ref, 1)) + mode);
    }
    for (const auto& t : s.value("tmpfs", json::array())) {
        std::string spec = t;
        size_t colon = spec.find(':');
        h.Tmpfs[spec.substr(0, colon)] = colon == std::string::npos ? "" : spec.substr(colon + 1);
    }

    std::string restart = s.value("restart", "no");
    h.RestartPolicy.Name = restart.substr(0, restart.find(':'));
    if (restart.find(':') != std::string::npos) h.RestartPolicy.MaximumRetryCount = std::stoi(restart.substr(restart.find(':') + 1));
    if (s.contains("init")) h.Init = s["init"].get<bool>();
    h.ReadonlyRootfs = s.value("read_only", false);
    h.Privileged = s.value("privileged", false);
    h.CapAdd = s.value("cap_add", std::vector<std::string>{});
    h.CapDrop = s.value("cap_drop", std::vector<std::string>{});
    h.SecurityOpt = s.value("security_opt", std::vector<std::string>{});
    h.Dns = s.value("dns", std::vector<std::string>{});
    h.DnsSearch = s.value("dns_search", std::vector<std::string>{});
    h.DnsOptions = s.value("dns_opt", std::vector<std::string>{});
    h.ExtraHosts = s.value("extra_hosts", std::vector<std::string>{});
    for (const auto& [k, v] : member(s, "sysctls").items()) h.Sysctls[k] = v.is_null() ? "" : v.get<std::string>();
    for (const auto& [k, u] : member(s, "ulimits").items()) h.Ulimits.push_back({k, u["soft"], u["hard"]});
    h.CpusetCpus = s.value("cpuset", "");
    // Limits: deploy.resources.limits, else the short keys.
    const json limits = s.value("deploy", json::object()).value("resources", json::object()).value("limits", json::object());
    if (limits.contains("memory") || s.contains("mem_limit")) h.Memory = limits.value("memory", s.value("mem_limit", std::int64_t{0}));
    if (limits.contains("cpus") || s.contains("cpus"))
        h.NanoCpus = static_cast<std::int64_t>(limits.value("cpus", s.value("cpus", 0.0)) * 1e9);
    if (limits.contains("pids") || s.contains("pids_limit")) h.PidsLimit = limits.value("pids", s.value("pids_limit", std::int64_t{0}));
    return r;
    // END EXERCISE
}

}  // namespace box::stage8
