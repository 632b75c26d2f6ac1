#include "box/cgroup_layout.hpp"

#include <sstream>

#include "box/util.hpp"

namespace box {

std::string CgroupLayout::kind() const {
    if (!unified.empty() && v1.empty()) return "v2";
    if (unified.empty() && !v1.empty()) return "v1";
    if (!unified.empty() && !v1.empty()) return "hybrid";
    return "none";
}

bool CgroupLayout::v2_has(const std::set<std::string>& needed) const {
    if (unified.empty()) return false;
    for (const auto& c : needed)
        if (!unified_controllers.count(c)) return false;
    return true;
}

bool CgroupLayout::v1_has(const std::set<std::string>& needed) const {
    for (const auto& c : needed)
        if (!v1.count(c)) return false;
    return true;
}

namespace {

// The process's own cgroups (its /proc/self/cgroup) into `layout`.
void add_own_cgroups(CgroupLayout& layout, const std::string& self_cgroup) {
    for (const auto& m : parse_proc_cgroup(self_cgroup))
        for (const auto& c : m.controllers) layout.self_v1[c] = m.path;
}

}  // namespace

CgroupLayout parse_cgroup_layout(const std::string& mountinfo, const std::string& proc_cgroups,
                                 const std::string& self_cgroup,
                                 const std::function<std::string(const std::string&)>& read_controllers) {
    // The controllers the kernel knows: the first column of /proc/cgroups.
    std::set<std::string> known;
    for (const auto& line : split(proc_cgroups, '\n')) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        std::string name;
        ss >> name;
        known.insert(name);
    }
    CgroupLayout layout;
    for (const auto& line : split(mountinfo, '\n')) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTIONS
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream left(line.substr(0, dash)), right(line.substr(dash + 3));
        std::string id, parent, dev, root, mount, type, source, super;
        left >> id >> parent >> dev >> root >> mount;
        right >> type >> source >> super;
        if (type == "cgroup2" && layout.unified.empty()) {
            layout.unified = mount;
            for (const auto& c : split(read_controllers(mount), ' ')) {
                std::string name = c;
                while (!name.empty() && name.back() == '\n') name.pop_back();
                if (!name.empty()) layout.unified_controllers.insert(name);
            }
        } else if (type == "cgroup") {
            for (const auto& opt : split(super, ','))
                if (known.count(opt) && !layout.v1.count(opt)) layout.v1[opt] = mount;
        }
    }
    add_own_cgroups(layout, self_cgroup);
    return layout;
}

std::vector<CgroupMembership> parse_proc_cgroup(const std::string& text) {
    std::vector<CgroupMembership> out;
    for (const auto& line : split(text, '\n')) {
        auto first = line.find(':');
        auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        CgroupMembership m;
        for (const auto& c : split(line.substr(first + 1, second - first - 1), ','))
            if (!c.empty()) m.controllers.push_back(c);
        m.path = line.substr(second + 1);
        out.push_back(std::move(m));
    }
    return out;
}

CgroupLayout detect_cgroup_layout() {
    // Where the hierarchies are mounted does not change while a box runs: it
    // is read once per process (a start asks twice, for chapter 2's cgroup and
    // chapter 5's devices group). Which cgroups the process is in does change
    // (exec joins the container's), and is read at each call.
    static const CgroupLayout mounts = parse_cgroup_layout(
        try_read_file("/proc/self/mountinfo").value_or(""), try_read_file("/proc/cgroups").value_or(""), "",
        [](const std::string& mount) { return try_read_file(mount + "/cgroup.controllers").value_or(""); });
    CgroupLayout layout = mounts;
    add_own_cgroups(layout, try_read_file("/proc/self/cgroup").value_or(""));
    return layout;
}

}  // namespace box
