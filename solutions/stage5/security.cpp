// Chapter 5: the flags of `run`, and what every container and every `exec`
// gets from them — the glue between docker's options and the kernel
// interfaces of capabilities.cpp, seccomp.cpp, paths.cpp and devices.cpp.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "box/cgroup_layout.hpp"
#include "box/cli.hpp"
#include "box/confinement.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/log.hpp"
#include "box/request.hpp"
#include "box/sys.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"
#include "stage2.hpp"
#include "stage3.hpp"
#include "stage4.hpp"
#include "stage5.hpp"

namespace box::stage5 {
namespace {

using json = nlohmann::json;

const std::map<std::string, int>& rlimits() {
    static const std::map<std::string, int> all = {
        {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},
        {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},
        {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
        {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},
        {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING},
        {"stack", RLIMIT_STACK}};
    return all;
}

// ---- flags → request → spec ----------------------------------------------

// "seccomp=VALUE" (docker also takes "seccomp:VALUE") → {"seccomp", "VALUE"}.
std::pair<std::string, std::string> security_option(const std::string& opt) {
    size_t eq = opt.find_first_of("=:");
    if (eq == std::string::npos) return {opt, ""};
    return {opt.substr(0, eq), opt.substr(eq + 1)};
}

// A seccomp value as the request carries it: a profile's text, not its path.
std::string profile_text(const std::string& value) {
    if (value == "unconfined" || value == "builtin" || starts_with(value, "{")) return value;
    auto text = try_read_file(value);
    if (!text) throw_errno("opening seccomp profile (" + value + ")", errno);
    return *text;
}

struct Flags {
    std::vector<std::string> cap_add, cap_drop, security_opt, tmpfs, ulimits, devices;
    bool privileged = false, read_only = false;
};

void fill(const Flags& f, ContainerRequest& r) {
    auto& h = r.HostConfig;
    h.CapAdd = f.cap_add;
    h.CapDrop = f.cap_drop;
    h.Privileged = f.privileged;
    h.ReadonlyRootfs = f.read_only;
    for (const auto& opt : f.security_opt) {
        // As docker's client: a profile is sent as its text, not its path.
        auto [key, value] = security_option(opt);
        h.SecurityOpt.push_back(key == "seccomp" ? "seccomp=" + profile_text(value) : opt);
    }
    for (const auto& t : f.tmpfs) {
        size_t colon = t.find(':');
        h.Tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
    }
    for (const auto& u : f.ulimits) {
        Ulimit l = parse_ulimit(u);
        h.Ulimits.push_back({l.name, l.soft, l.hard});
    }
    for (const auto& d : f.devices) {
        DeviceMapping m = parse_device(d);
        h.Devices.push_back({m.host, m.container, m.permissions});
    }
}

void read_request(const ContainerRequest& r, ContainerSpec& spec) {
    SecuritySpec& s = spec.security;
    const auto& h = r.HostConfig;
    s.privileged = h.Privileged;
    s.cap_add = h.CapAdd;
    s.cap_drop = h.CapDrop;
    s.read_only = h.ReadonlyRootfs;
    s.tmpfs = h.Tmpfs;
    for (const auto& u : h.Ulimits) s.ulimits.push_back({u.Name, u.Soft, u.Hard});
    for (const auto& d : h.Devices) s.devices.push_back({d.PathOnHost, d.PathInContainer, d.CgroupPermissions});
    for (const auto& opt : h.SecurityOpt) {
        auto [key, value] = security_option(opt);
        if (key == "no-new-privileges" && (value.empty() || value == "true")) s.no_new_privileges = true;
        else if (key == "no-new-privileges" && value == "false") s.no_new_privileges = false;
        else if (key == "seccomp" && value == "builtin") s.seccomp.clear();
        else if (key == "seccomp" && !value.empty()) s.seccomp = profile_text(value);  // a program's request may name a file
        else if ((key == "apparmor" || key == "label") && !value.empty()) {
            // Neither AppArmor nor SELinux is box's: there is nothing to set or turn off.
        } else {
            throw Error("invalid --security-opt \"" + opt + "\"",
                        "box knows no-new-privileges[=true|false] and seccomp=unconfined|PROFILE.json");
        }
    }
}

// What must hold however the spec was made (SpecPhase::Check).
void check_security(ContainerSpec& spec) {
    const SecuritySpec& s = spec.security;
    resolve_capabilities(s, bounding_capabilities());  // throws for an unknown capability name
    if (s.privileged && spec.userns)
        throw Error("--privileged", "cannot be combined with --userns: the privileges would be the namespace's");
    if (!s.seccomp.empty() && s.seccomp != "unconfined") parse_profile(s.seccomp);
    for (const auto& u : s.ulimits)
        if (!rlimits().count(u.name)) throw Error("--ulimit " + u.name, "not a resource limit (nofile, nproc, core, ...)");
    for (const auto& [path, options] : s.tmpfs)
        if (path.empty() || path[0] != '/' || path == "/")
            throw Error("--tmpfs \"" + path + "\"", "the path must be absolute, and not /");
    for (const auto& d : s.devices) device_rule(d);  // a path that is not a device throws
}

// ---- the devices cgroup, and the masks: the "security" extension -----------

// Where the container's devices rules go: v1's devices hierarchy, or a
// cgroup2 directory with a BPF program. BOX_DEVICE_CGROUP=bpf takes the v2
// way on a host with both (chapter 5 tries both here).
struct DeviceCgroup {
    std::string dir;                         // "" if this host has neither
    bool bpf = false;                        // a program, not v1 rules
    std::unique_ptr<stage2::Cgroup> owned;   // the group made for it, if chapter 2's is not the one
};

DeviceCgroup make_device_cgroup(const CgroupLayout& layout, const std::string& id) {
    const char* choice = getenv("BOX_DEVICE_CGROUP");
    bool want_bpf = choice && std::string(choice) == "bpf";
    // Pure cgroup v2: chapter 2's cgroup is the container's; the program goes there.
    std::string v2_dir = layout.unified.empty() ? "" : layout.unified + "/box/" + id;
    if (!v2_dir.empty() && is_directory(v2_dir)) return {v2_dir, true, nullptr};
    auto own = [&](const std::string& controller, const std::string& parent, bool bpf) {
        DeviceCgroup d{parent + "/" + id, bpf,
                       std::make_unique<stage2::CgroupV1>(std::map<std::string, std::string>{{controller, parent}}, id)};
        d.owned->create();
        return d;
    };
    if (layout.v1.count("devices") && !want_bpf) {
        auto self = layout.self_v1.count("devices") ? layout.self_v1.at("devices") : "/";
        return own("devices", layout.v1.at("devices") + (self == "/" ? "" : self) + "/box", false);
    }
    // A cgroup2 hierarchy without chapter 2's controllers: a group only for the program.
    if (!layout.unified.empty()) return own("unified", layout.unified + "/box", true);
    return {};
}

class SecurityExtension : public ContainerExtension {
public:
    explicit SecurityExtension(const ExtensionContext& ctx) : spec_(ctx.spec) {
        if (ctx.mode == ExtensionMode::Adopt) {
            if (ctx.record.is_object() && ctx.record.contains("dir")) {
                // What an earlier box made: removed when this one goes.
                std::string dir = ctx.record["dir"].get<std::string>();
                size_t slash = dir.rfind('/');
                cgroup_ = std::make_unique<stage2::CgroupV1>(
                    std::map<std::string, std::string>{{"devices", dir.substr(0, slash)}}, dir.substr(slash + 1));
                cgroup_->adopt();
            }
            return;
        }
        if (spec_.security.privileged) return;  // every device
        // Before any process exists, as chapter 2's cgroup: the rules are in
        // place when the child moves itself in (in_child_first).
        std::vector<DeviceRule> rules = default_device_rules();
        for (const auto& d : spec_.security.devices) rules.push_back(device_rule(d));
        DeviceCgroup cg = make_device_cgroup(detect_cgroup_layout(), spec_.id);
        if (cg.dir.empty()) {
            log::warn("this host has no devices cgroup: the container's devices are not restricted");
            return;
        }
        if (cg.owned) owned_dir_ = cg.dir;
        bpf_ = cg.bpf;
        cgroup_ = std::move(cg.owned);  // removed with the extension if what follows fails
        if (cg.bpf) attach_device_program(cg.dir, device_program(rules));
        else write_v1_rules(cg.dir, rules);
    }

    void plan_namespaces(NamespacePlan& plan) override {
        if (bpf_ && !owned_dir_.empty() && plan.cgroup2.empty()) plan.cgroup2 = owned_dir_;  // born in it
    }

    void in_child_first(const NamespacePlan& plan) override {
        // None, chapter 2's own (pure v2), which the child is in or joining, or born in it.
        if (owned_dir_.empty() || plan.cgroup2 == owned_dir_) return;
        // A process moving itself; v1 spares the global lock for "0" in `tasks`.
        sys::write_file(owned_dir_ + (bpf_ ? "/cgroup.procs" : "/tasks"), "0");
    }

    void in_child_before_pivot(const std::string& rootfs) override {
        const SecuritySpec& s = spec_.security;
        if (s.privileged) {
            make_sys_writable(rootfs);
            make_device_nodes(rootfs, host_devices(), spec_.userns);
        } else {
            mask_paths(rootfs, masked_paths(), readonly_paths());
        }
        make_device_nodes(rootfs, s.devices, spec_.userns);
        mount_tmpfs(rootfs, s.tmpfs);
        if (s.read_only) make_root_read_only(rootfs);
    }

    void release() override {
        if (cgroup_) cgroup_->keep();
    }
    json record() const override { return owned_dir_.empty() ? json(nullptr) : json{{"dir", owned_dir_}}; }

private:
    ContainerSpec spec_;  // a copy: the extension may outlive the caller's spec
    std::unique_ptr<stage2::Cgroup> cgroup_;
    std::string owned_dir_;  // the devices cgroup this extension made, if any
    bool bpf_ = false;       // a cgroup2 group with a device program, not v1's rules
};

// ---- each process: capabilities, rlimits, no_new_privs, seccomp -------------

class SecurityConfinement : public Confinement {
public:
    explicit SecurityConfinement(const ConfinementRequest& r) {
        const SecuritySpec& s = r.spec.security;
        bool privileged = s.privileged || r.privileged;
        caps_ = privileged ? bounding_capabilities() : resolve_capabilities(s, bounding_capabilities());
        no_new_privs_ = s.no_new_privileges;
        if (!s.privileged && s.seccomp != "unconfined") {
            bool builtin = s.seccomp.empty();
            filter_ = seccomp_filter(builtin ? default_profile() : s.seccomp, builtin ? default_profile_digest() : "",
                                     caps_);
        }
        for (const auto& u : s.ulimits) ulimits_.push_back(u);
    }

    void join(pid_t pid) override {
        // exec: the devices cgroup is not part of chapter 2's set, which exec joins.
        CgroupLayout layout = detect_cgroup_layout();
        for (const auto& m : parse_proc_cgroup(read_file("/proc/" + std::to_string(pid) + "/cgroup"))) {
            bool devices = std::find(m.controllers.begin(), m.controllers.end(), "devices") != m.controllers.end();
            std::string root = m.unified() ? layout.unified : devices && layout.v1.count("devices") ? layout.v1.at("devices") : "";
            if (root.empty() || m.path == "/") continue;  // not a hierarchy with device rules, or the root's
            // Ourselves ("0"): v1's `tasks` spares the kernel a global lock.
            std::string file = root + m.path + (m.unified() ? "/cgroup.procs" : "/tasks");
            if (exists(file)) sys::write_file(file, "0");
        }
    }

    void before_identity() override {
        // BEGIN ADVANCED EXERCISE 13: SecurityConfinement::before_identity()
        for (const auto& u : ulimits_) {
            auto value = [](std::int64_t v) { return v < 0 ? RLIM_INFINITY : static_cast<rlim_t>(v); };
            rlimit l{value(u.soft), value(u.hard)};
            if (setrlimit(rlimits().at(u.name), &l) != 0) throw_errno("setrlimit(" + u.name + ")", errno);
        }
        limit_bounding_set(caps_);
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: now,
        // while we have it (the filter must then allow the steps to exec).
        if (filter_ && !no_new_privs_) load_filter(*filter_);
        // END EXERCISE
    }

    void before_exec() override {
        // BEGIN ADVANCED EXERCISE 14: SecurityConfinement::before_exec()
        set_capabilities(caps_, geteuid() == 0);
        if (no_new_privs_) {
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_NO_NEW_PRIVS)", errno);
            trace::line("prctl(PR_SET_NO_NEW_PRIVS, 1) = 0");
            if (filter_) load_filter(*filter_);  // as late as it can be
        }
        // END EXERCISE
    }

private:
    CapSet caps_ = 0;
    bool no_new_privs_ = false;
    std::optional<std::vector<sock_filter>> filter_;
    std::vector<Ulimit> ulimits_;
};

json null_if_empty(const json& j) { return j.empty() ? json(nullptr) : j; }

}  // namespace

Ulimit parse_ulimit(const std::string& text) {
    size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        throw Error("invalid --ulimit \"" + text + "\"", "expected NAME=SOFT[:HARD], e.g. nofile=1024:2048");
    Ulimit u;
    u.name = text.substr(0, eq);
    if (!rlimits().count(u.name)) throw Error("invalid --ulimit \"" + text + "\"", "unknown resource " + u.name);
    auto number = [&](const std::string& v) -> std::int64_t {
        if (v == "-1" || v == "unlimited") return -1;
        auto n = parse_number<std::int64_t>(v);
        if (!n || *n < 0) throw Error("invalid --ulimit \"" + text + "\"", "\"" + v + "\" is not a number");
        return *n;
    };
    std::string values = text.substr(eq + 1);
    size_t colon = values.find(':');
    u.soft = number(values.substr(0, colon));
    u.hard = colon == std::string::npos ? u.soft : number(values.substr(colon + 1));
    auto above = [](std::int64_t a, std::int64_t b) { return b >= 0 && (a < 0 || a > b); };
    if (above(u.soft, u.hard))
        throw Error("invalid --ulimit \"" + text + "\"", "the soft limit is above the hard one");
    return u;
}

DeviceMapping parse_device(const std::string& text) {
    auto parts = split(text, ':');
    auto perms = [](const std::string& p) {
        return !p.empty() && p.size() <= 3 && p.find_first_not_of("rwm") == std::string::npos;
    };
    DeviceMapping d;
    if (parts.empty() || parts.size() > 3 || parts[0].empty() || parts[0][0] != '/')
        throw Error("invalid --device \"" + text + "\"", "expected HOST[:CONTAINER][:PERMISSIONS], e.g. /dev/fuse:/dev/fuse:rwm");
    d.host = parts[0];
    d.container = d.host;
    if (parts.size() == 2 && perms(parts[1])) d.permissions = parts[1];
    else if (parts.size() >= 2) d.container = parts[1];
    if (parts.size() == 3) d.permissions = parts[2];
    if (d.container.empty() || d.container[0] != '/' || !perms(d.permissions))
        throw Error("invalid --device \"" + text + "\"", "expected HOST[:CONTAINER][:PERMISSIONS] with PERMISSIONS of r, w, m");
    return d;
}

void register_commands() {
    auto flags_of = [](CLI::App& run) {
        auto f = std::make_shared<Flags>();
        run.add_option("--cap-add", f->cap_add, "Add Linux capabilities (NET_ADMIN, CAP_SYS_TIME, ALL)")->allow_extra_args(false);
        run.add_option("--cap-drop", f->cap_drop, "Drop Linux capabilities (CHOWN, ALL)")->allow_extra_args(false);
        run.add_flag("--privileged", f->privileged,
                     "Give extended privileges: every capability, no seccomp, no masked paths, all devices");
        run.add_option("--security-opt", f->security_opt,
                       "Security options: no-new-privileges, seccomp=unconfined|PROFILE.json")->allow_extra_args(false);
        run.add_flag("--read-only", f->read_only, "Mount the container's root filesystem as read only");
        run.add_option("--tmpfs", f->tmpfs, "Mount a tmpfs directory: PATH[:OPTIONS], e.g. /run:size=64m")->allow_extra_args(false);
        run.add_option("--ulimit", f->ulimits, "Ulimit options: NAME=SOFT[:HARD], e.g. nofile=1024:2048")->allow_extra_args(false);
        run.add_option("--device", f->devices, "Add a host device: HOST[:CONTAINER][:PERMISSIONS]")->allow_extra_args(false);
        add_request_filler([f](ContainerRequest& request) { fill(*f, request); });
    };
    cli::extend("run", flags_of);
    add_request_reader(read_request);
    add_spec_preparer(SpecPhase::Check, check_security);
    add_extension("security", ExtensionPhase::Security, [](const ExtensionContext& ctx) -> std::unique_ptr<ContainerExtension> {
        return std::make_unique<SecurityExtension>(ctx);
    });
    set_confinement_factory([](const ConfinementRequest& r) -> std::unique_ptr<Confinement> {
        return std::make_unique<SecurityConfinement>(r);
    });

    // inspect: docker's HostConfig fields.
    stage4::add_inspect_filler([](const stage4::Container& c, json& j) {
        const SecuritySpec& s = c.spec.security;
        json& h = j["HostConfig"];
        h["CapAdd"] = null_if_empty(s.cap_add);
        h["CapDrop"] = null_if_empty(s.cap_drop);
        h["Privileged"] = s.privileged;
        json opts = json::array();
        if (s.no_new_privileges) opts.push_back("no-new-privileges");
        if (!s.seccomp.empty()) opts.push_back("seccomp=" + s.seccomp);
        h["SecurityOpt"] = null_if_empty(opts);
        h["ReadonlyRootfs"] = s.read_only;
        if (!s.tmpfs.empty()) h["Tmpfs"] = s.tmpfs;
        json ulimits = json::array(), devices = json::array();
        for (const auto& u : s.ulimits) ulimits.push_back({{"Name", u.name}, {"Soft", u.soft}, {"Hard", u.hard}});
        for (const auto& d : s.devices)
            devices.push_back({{"PathOnHost", d.host}, {"PathInContainer", d.container}, {"CgroupPermissions", d.permissions}});
        h["Ulimits"] = null_if_empty(ulimits);
        h["Devices"] = devices;
        h["MaskedPaths"] = s.privileged ? json(nullptr) : json(masked_paths());
        h["ReadonlyPaths"] = s.privileged ? json(nullptr) : json(readonly_paths());
    });
    // info: what every container gets.
    stage3::add_info_filler([](json& info) {
        info["SecurityOptions"] = {"name=seccomp,profile=default", "name=cgroupns"};
    });
}

}  // namespace box::stage5
