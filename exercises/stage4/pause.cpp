// Chapter 4: pause/unpause with the cgroup freezer, and `box stats`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "box/cgroup_layout.hpp"
#include "box/error.hpp"
#include "box/sys.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "pause.hpp"

namespace box::stage4 {
namespace {

// The directory of process `pid`'s cgroup in the hierarchy of `controller`
// ("" for cgroup v2), or "" if there is none.
std::string cgroup_dir(pid_t pid, const std::string& controller) {
    CgroupLayout layout = detect_cgroup_layout();
    for (const auto& line : split(try_read_file("/proc/" + std::to_string(pid) + "/cgroup").value_or(""), '\n')) {
        auto f = split(line, ':');
        if (f.size() < 3) continue;
        if (controller.empty() && f[0] == "0" && !layout.unified.empty()) return layout.unified + f[2];
        if (!controller.empty())
            for (const auto& c : split(f[1], ','))
                if (c == controller && layout.v1.count(c)) return layout.v1.at(c) + f[2];
    }
    return "";
}

std::string trimmed(const std::string& s) {
    size_t e = s.find_last_not_of(" \n");
    return e == std::string::npos ? "" : s.substr(0, e + 1);
}

std::int64_t number(const std::string& file) {
    auto text = try_read_file(file);
    return text && !text->empty() && isdigit(static_cast<unsigned char>((*text)[0])) ? std::atoll(text->c_str()) : -1;
}

}  // namespace

void set_frozen(const Container& c, bool frozen) {
    if (!c.running() || c.state.pid <= 0) throw Error("Container " + c.id + " is not running", "start it first");
    // cgroup v2: cgroup.freeze in the container's own cgroup; v1: the freezer
    // hierarchy's freezer.state. The kernel freezes every process in it.
    std::string v2 = cgroup_dir(c.state.pid, "");
    std::string v1 = cgroup_dir(c.state.pid, "freezer");
    std::string file, value, done;
    if (!v1.empty() && exists(v1 + "/freezer.state")) {
        file = v1 + "/freezer.state";
        value = done = frozen ? "FROZEN" : "THAWED";
    } else if (!v2.empty() && exists(v2 + "/cgroup.freeze")) {
        file = v2 + "/cgroup.freeze";
        value = frozen ? "1" : "0";
    } else {
        throw Error("pause " + c.name, "its cgroup has no freezer (box doctor tells which hierarchies this host has)");
    }
    sys::write_file(file, value);
    // Freezing takes a moment; v1 says FREEZING until every task is frozen.
    for (int i = 0; i < 200 && !done.empty() && trimmed(try_read_file(file).value_or("")) != done; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

std::vector<std::string> stats_row(const Container& c, double cpu_percent) {
    pid_t pid = c.state.pid;
    std::string v2 = cgroup_dir(pid, "");
    std::string mem = cgroup_dir(pid, "memory"), pids = cgroup_dir(pid, "pids");
    std::int64_t usage = -1, limit = -1, count = -1;
    if (!mem.empty()) {
        usage = number(mem + "/memory.usage_in_bytes");
        limit = number(mem + "/memory.limit_in_bytes");
    } else if (!v2.empty()) {
        usage = number(v2 + "/memory.current");
        limit = number(v2 + "/memory.max");
    }
    count = number((pids.empty() ? v2 : pids) + "/pids.current");
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    std::int64_t host = static_cast<std::int64_t>(pages) * page;
    if (limit < 0 || limit > host) limit = host;  // unlimited: the host's memory, as docker shows it
    char cpu[32], memp[32];
    snprintf(cpu, sizeof cpu, "%.2f%%", cpu_percent);
    snprintf(memp, sizeof memp, "%.2f%%", usage >= 0 ? 100.0 * static_cast<double>(usage) / static_cast<double>(limit) : 0);
    // NET I/O: what the container's interfaces other than lo moved.
    std::int64_t rx = 0, tx = 0;
    for (const auto& line : split(try_read_file("/proc/" + std::to_string(pid) + "/net/dev").value_or(""), '\n')) {
        auto colon = line.find(':');
        if (colon == std::string::npos || line.substr(0, colon).find("lo") != std::string::npos) continue;
        std::vector<std::string> f;
        for (const auto& x : split(line.substr(colon + 1), ' '))
            if (!x.empty()) f.push_back(x);
        if (f.size() > 8) {
            rx += std::atoll(f[0].c_str());
            tx += std::atoll(f[8].c_str());
        }
    }
    return {c.id.substr(0, 12), c.name, cpu,
            (usage >= 0 ? format_bytes(usage) : "--") + " / " + format_bytes(limit), memp,
            human_size(rx) + " / " + human_size(tx), count >= 0 ? std::to_string(count) : "--"};
}

std::int64_t cpu_usage_ns(const Container& c) {
    std::string acct = cgroup_dir(c.state.pid, "cpuacct");
    if (!acct.empty()) return number(acct + "/cpuacct.usage");
    std::string v2 = cgroup_dir(c.state.pid, "");
    for (const auto& line : split(try_read_file(v2 + "/cpu.stat").value_or(""), '\n'))
        if (starts_with(line, "usage_usec ")) return std::atoll(line.c_str() + 11) * 1000;
    return 0;
}

}  // namespace box::stage4
