// Chapter 2: a container's cgroup on cgroup v2 and on cgroup v1.
#include <errno.h>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <thread>

#include "box/error.hpp"
#include "box/log.hpp"
#include "box/sys.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"
#include "stage2.hpp"

namespace box::stage2 {
namespace {

// "max" or the number, as v2's files spell "no limit".
std::string v2_value(std::int64_t v) { return v < 0 ? "max" : std::to_string(v); }

// The value of "KEY N" in a flat-keyed cgroup file (cpu.stat, memory.events).
std::optional<std::int64_t> keyed(const std::string& text, const std::string& key) {
    for (const auto& line : split(text, '\n')) {
        std::istringstream ss(line);
        std::string k;
        std::int64_t v;
        if (ss >> k >> v && k == key) return v;
    }
    return std::nullopt;
}

std::optional<std::int64_t> number_in(const std::string& path) {
    auto text = try_read_file(path);
    if (!text) return std::nullopt;
    try {
        return std::stoll(*text);
    } catch (...) {
        return std::nullopt;
    }
}

// rmdir, waiting a little for a cgroup whose last process is still being
// torn down (EBUSY); false if it is still there.
bool remove_dir(const std::string& dir) {
    for (int i = 0; i < 50; ++i) {
        int rc = ::rmdir(dir.c_str());
        int err = errno;
        if (rc == 0 || err == ENOENT) {
            if (trace::enabled()) trace::line("rmdir(" + trace::quote(dir) + ") " + trace::result(rc, err));
            return true;
        }
        if (err != EBUSY) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace

void make_in_shared_parent(const std::string& parent, const std::string& dir,
                           const std::function<void()>& prepare_parent) {
    for (int attempt = 1;; ++attempt) {
        sys::mkdir(parent, 0755);
        try {
            if (prepare_parent) prepare_parent();
            sys::mkdir(dir, 0755, false);
            return;
        } catch (const Error&) {
            // Another box removed the parent when its last container went:
            // make it again. Any other failure is real.
            if (exists(parent) || attempt == 5) throw;
        }
    }
}

CpuQuota cpu_quota(double cpus) {
    // EXERCISE 1: write cpu_quota() — see chapters/02-cgroups/README.md, exercise 1.
    // Replace the line below with your code.
    box::not_implemented("cpu_quota()", "chapters/02-cgroups", 1);
}

std::uint64_t cpu_weight(std::uint64_t shares) {
    // EXERCISE 2: write cpu_weight() — see chapters/02-cgroups/README.md, exercise 2.
    // Replace the line below with your code.
    box::not_implemented("cpu_weight()", "chapters/02-cgroups", 2);
}

std::uint64_t oom_kill_count(const std::string& events) {
    // EXERCISE 7: write oom_kill_count() — see chapters/02-cgroups/README.md, exercise 7.
    // Replace the line below with your code.
    box::not_implemented("oom_kill_count()", "chapters/02-cgroups", 7);
}

// ---- cgroup v2 -------------------------------------------------------------

CgroupV2::CgroupV2(std::string root, std::string parent, std::string name, std::set<std::string> controllers)
    : root_(std::move(root)), parent_(root_ + "/" + parent), path_(parent_ + "/" + name),
      controllers_(std::move(controllers)) {}

void CgroupV2::create() {
    // EXERCISE 3: write CgroupV2::create() — see chapters/02-cgroups/README.md, exercise 3.
    // Replace the line below with your code.
    box::not_implemented("CgroupV2::create()", "chapters/02-cgroups", 3);
}

void CgroupV2::set_limits(const ResourceLimits& limits) {
    // EXERCISE 4: write CgroupV2::set_limits() — see chapters/02-cgroups/README.md, exercise 4.
    // Replace the line below with your code.
    box::not_implemented("CgroupV2::set_limits()", "chapters/02-cgroups", 4);
}

void CgroupV2::add_process(pid_t pid) {
    // EXERCISE 5: write CgroupV2::add_process() — see chapters/02-cgroups/README.md, exercise 5.
    // Replace the line below with your code.
    box::not_implemented("CgroupV2::add_process()", "chapters/02-cgroups", 5);
}

std::uint64_t CgroupV2::oom_kills() const {
    return oom_kill_count(try_read_file(path_ + "/memory.events").value_or(""));
}

Usage CgroupV2::usage() const {
    Usage u;
    u.memory_peak = number_in(path_ + "/memory.peak");  // Linux 5.19+
    if (!u.memory_peak) u.memory_peak = number_in(path_ + "/memory.current");
    u.cpu_usec = keyed(try_read_file(path_ + "/cpu.stat").value_or(""), "usage_usec");
    u.pids = number_in(path_ + "/pids.peak");  // Linux 6.1+
    if (!u.pids) u.pids = number_in(path_ + "/pids.current");
    u.memory_now = number_in(path_ + "/memory.current");
    u.memory_limit = number_in(path_ + "/memory.max");  // "max" reads as none
    u.pids_now = number_in(path_ + "/pids.current");
    return u;
}

void CgroupV2::freeze(bool frozen) {
    if (!exists(path_ + "/cgroup.freeze")) throw Error("freeze " + path_, "this cgroup has no cgroup.freeze");
    sys::write_file(path_ + "/cgroup.freeze", frozen ? "1" : "0");
    // cgroup.events says "frozen 1" once every process is.
    for (int i = 0; i < 200; ++i) {
        if (keyed(try_read_file(path_ + "/cgroup.events").value_or(""), "frozen").value_or(-1) == (frozen ? 1 : 0)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void CgroupV2::remove() noexcept {
    // Nothing may escape a removal (it runs in destructors and clean-up):
    // a failure, or an unwritten exercise, is a warning, not an abort.
    try {
        if (!created_) return;
        created_ = false;
        if (!remove_dir(path_)) log::warn("could not remove cgroup " + path_ + ": " + strerror(errno));
        // Only succeeds once no container is left in it.
        int rc = ::rmdir(parent_.c_str());
        if (trace::enabled()) trace::line("rmdir(" + trace::quote(parent_) + ") " + trace::result(rc, errno));
    } catch (const std::exception& e) {
        log::warn(std::string("cgroup removal: ") + e.what());
    }
}

// ---- cgroup v1 -------------------------------------------------------------

CgroupV1::CgroupV1(std::map<std::string, std::string> parents, std::string name)
    : parents_(std::move(parents)), name_(std::move(name)) {}

std::string CgroupV1::dir(const std::string& controller) const {
    auto it = parents_.find(controller);
    return it == parents_.end() ? "" : it->second + "/" + name_;
}

std::string CgroupV1::where() const {
    std::string out;
    for (const auto& d : created_) out += (out.empty() ? "" : " ") + d;
    return out;
}

void CgroupV1::create() {
    // A new cpuset cgroup starts with no CPUs and no memory nodes, and a
    // process cannot join it until both are set: copy them from above.
    auto copy_cpuset = [](const std::string& from, const std::string& to) {
        for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
            std::string value = try_read_file(from + "/" + file).value_or("");
            while (!value.empty() && value.back() == '\n') value.pop_back();
            std::string own = try_read_file(to + "/" + file).value_or("");
            if (own.empty() || own == "\n") sys::write_file(to + "/" + file, value);
        }
    };
    // One directory per hierarchy; co-mounted controllers share it.
    std::map<std::string, bool> parents;  // parent → is it cpuset's
    for (const auto& [controller, parent] : parents_) parents[parent] |= controller == "cpuset";
    for (const auto& [parent, cpuset] : parents) {
        std::string above = parent.substr(0, parent.rfind('/'));
        make_in_shared_parent(parent, parent + "/" + name_, [&, cpuset = cpuset] {
            if (cpuset) copy_cpuset(above, parent);
        });
        created_.insert(parent + "/" + name_);
        if (cpuset) copy_cpuset(parent, parent + "/" + name_);
    }
}

void CgroupV1::set_limits(const ResourceLimits& limits) {
    // EXERCISE 6: write CgroupV1::set_limits() — see chapters/02-cgroups/README.md, exercise 6.
    // Replace the line below with your code.
    box::not_implemented("CgroupV1::set_limits()", "chapters/02-cgroups", 6);
}

void CgroupV1::add_process(pid_t pid) {
    std::set<std::string> dirs;  // co-mounted controllers share one
    for (const auto& [controller, parent] : parents_) dirs.insert(parent + "/" + name_);
    for (const auto& d : dirs)
        if (created_.count(d) || is_directory(d)) sys::write_file(d + (pid == 0 ? "/tasks" : "/cgroup.procs"), std::to_string(pid));
}

std::uint64_t CgroupV1::oom_kills() const {
    return oom_kill_count(try_read_file(dir("memory") + "/memory.oom_control").value_or(""));
}

Usage CgroupV1::usage() const {
    Usage u;
    u.memory_peak = number_in(dir("memory") + "/memory.max_usage_in_bytes");
    if (auto ns = number_in(dir("cpuacct") + "/cpuacct.usage")) u.cpu_usec = *ns / 1000;
    u.pids = number_in(dir("pids") + "/pids.peak");
    if (!u.pids) u.pids = number_in(dir("pids") + "/pids.current");
    u.memory_now = number_in(dir("memory") + "/memory.usage_in_bytes");
    u.memory_limit = number_in(dir("memory") + "/memory.limit_in_bytes");
    u.pids_now = number_in(dir("pids") + "/pids.current");
    return u;
}

void CgroupV1::freeze(bool frozen) {
    std::string file = dir("freezer") + "/freezer.state";
    if (dir("freezer").empty() || !exists(file))
        throw Error("freeze", "the container's cgroup has no freezer (box doctor tells which hierarchies this host has)");
    std::string want = frozen ? "FROZEN" : "THAWED";
    sys::write_file(file, want);
    // v1 says FREEZING until every task is frozen.
    for (int i = 0; i < 200; ++i) {
        std::string now = try_read_file(file).value_or("");
        while (!now.empty() && (now.back() == '\n' || now.back() == ' ')) now.pop_back();
        if (now == want) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void CgroupV1::adopt() {
    for (const auto& [controller, parent] : parents_)
        if (is_directory(parent + "/" + name_)) created_.insert(parent + "/" + name_);
}

void CgroupV1::remove() noexcept {
    // Nothing may escape a removal (it runs in destructors and clean-up):
    // a failure, or an unwritten exercise, is a warning, not an abort.
    try {
        for (const auto& d : created_) {
            if (!remove_dir(d)) log::warn("could not remove cgroup " + d + ": " + strerror(errno));
            std::string parent = d.substr(0, d.rfind('/'));  // shared: goes once empty
            int rc = ::rmdir(parent.c_str());
            if (trace::enabled()) trace::line("rmdir(" + trace::quote(parent) + ") " + trace::result(rc, errno));
        }
        created_.clear();
    } catch (const std::exception& e) {
        log::warn(std::string("cgroup removal: ") + e.what());
    }
}

// ---- choosing one ------------------------------------------------------------

std::unique_ptr<Cgroup> cgroup_at(const CgroupLayout& layout, const std::vector<std::string>& dirs) {
    auto bad = [](const std::string& d) { return Error("cgroup " + d, "not in a cgroup hierarchy of this host"); };
    if (dirs.size() == 1 && !layout.unified.empty() && starts_with(dirs[0], layout.unified + "/")) {
        std::string rel = dirs[0].substr(layout.unified.size() + 1);  // PARENT/NAME
        size_t slash = rel.rfind('/');
        return std::make_unique<CgroupV2>(layout.unified, slash == std::string::npos ? "" : rel.substr(0, slash),
                                          rel.substr(slash + 1), std::set<std::string>{});
    }
    std::map<std::string, std::string> parents;
    std::string name;
    for (const auto& d : dirs) {
        if (d.empty()) continue;
        bool found = false;
        for (const auto& [controller, mount] : layout.v1)
            if (starts_with(d, mount + "/")) {
                parents[controller] = d.substr(0, d.rfind('/'));
                found = true;
            }
        if (!found) throw bad(d);
        name = d.substr(d.rfind('/') + 1);
    }
    if (parents.empty()) throw Error("cgroup", "no directory given");
    return std::make_unique<CgroupV1>(parents, name);
}

std::unique_ptr<Cgroup> cgroup_of_process(const CgroupLayout& layout, pid_t pid) {
    auto text = try_read_file("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text) throw Error("cgroup of process " + std::to_string(pid), "no such process");
    std::vector<CgroupMembership> v1_lines;
    std::string unified_path, name;
    for (const auto& m : parse_proc_cgroup(*text)) {
        if (m.path.empty()) continue;
        if (m.unified()) {
            unified_path = m.path;
            continue;
        }
        if (std::find(m.controllers.begin(), m.controllers.end(), "memory") != m.controllers.end())
            name = m.path.substr(m.path.rfind('/') + 1);  // box always makes one in memory's
        v1_lines.push_back(m);
    }
    if (layout.v2_has({"cpu", "memory", "pids"})) {
        if (unified_path.size() < 2) throw Error("cgroup of process " + std::to_string(pid), "it is in no cgroup2 group");
        size_t slash = unified_path.rfind('/');
        std::string parent = slash == 0 ? "" : unified_path.substr(1, slash - 1);
        return std::make_unique<CgroupV2>(layout.unified, parent, unified_path.substr(slash + 1), std::set<std::string>{});
    }
    // v1: the hierarchies where it is in a group of the container's name
    // (the others, which box does not manage, hold it where box was).
    std::map<std::string, std::string> parents;
    for (const auto& l : v1_lines) {
        if (name.empty() || l.path.substr(l.path.rfind('/') + 1) != name) continue;
        for (const auto& c : l.controllers)
            if (layout.v1.count(c)) parents[c] = layout.v1.at(c) + l.path.substr(0, l.path.rfind('/'));
    }
    if (parents.empty()) throw Error("cgroup of process " + std::to_string(pid), "it is in no container cgroup");
    return std::make_unique<CgroupV1>(parents, name);
}

std::unique_ptr<Cgroup> open_cgroup(const CgroupLayout& layout, const ResourceLimits& limits,
                                    const std::string& id) {
    std::set<std::string> needed = {"cpu", "memory", "pids"};
    if (!limits.cpuset_cpus.empty()) needed.insert("cpuset");
    if (layout.v2_has(needed)) {
        // v2 forbids processes in a cgroup whose children have controllers,
        // and box itself runs in such a cgroup: the parent lives at the root.
        return std::make_unique<CgroupV2>(layout.unified, "box", id, needed);
    }
    std::set<std::string> v1_needed = needed;
    v1_needed.insert("cpuacct");  // for CPU time; often mounted with cpu
    if (layout.v1_has(v1_needed)) {
        // The freezer too, where the host has it: chapter 4's `box pause` uses it.
        if (layout.v1.count("freezer")) v1_needed.insert("freezer");
        // v1 has no such rule: nest under the cgroup box runs in, so any
        // limit on box's own group still covers its containers.
        std::map<std::string, std::string> parents;
        for (const auto& c : v1_needed) {
            auto self = layout.self_v1.count(c) ? layout.self_v1.at(c) : "/";
            parents[c] = layout.v1.at(c) + (self == "/" ? "" : self) + "/box";
        }
        return std::make_unique<CgroupV1>(parents, id);
    }
    std::string list;
    for (const auto& c : needed) list += (list.empty() ? "" : ", ") + c;
    throw Error("cgroups", "no hierarchy of this host offers " + list + " (run box doctor)");
}

}  // namespace box::stage2
