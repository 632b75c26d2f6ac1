/// @file cgroup_layout.hpp
/// @brief Which cgroup hierarchies this host mounts, read once from
/// /proc/self/mountinfo, /proc/cgroups and /proc/self/cgroup.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace box {

/// The cgroup hierarchies of a host.
struct CgroupLayout {
    std::string unified;                         ///< mount point of cgroup2, "" if none
    std::set<std::string> unified_controllers;   ///< controllers its root offers (cgroup.controllers)
    std::map<std::string, std::string> v1;       ///< v1 controller → mount point of its hierarchy
    std::map<std::string, std::string> self_v1;  ///< v1 controller → this process's cgroup in it ("/a/b")

    /// "v2" (cgroup2 only), "v1" (v1 hierarchies only), "hybrid" (both), "none".
    std::string kind() const;
    /// True if cgroup2 offers every controller in `needed`.
    bool v2_has(const std::set<std::string>& needed) const;
    /// True if a v1 hierarchy is mounted for every controller in `needed`.
    bool v1_has(const std::set<std::string>& needed) const;
};

/// One line of /proc/PID/cgroup, "ID:CONTROLLER[,CONTROLLER]:PATH": a v1
/// hierarchy's controllers (or "name=systemd"), none for cgroup2's line "0::PATH".
struct CgroupMembership {
    std::vector<std::string> controllers;  ///< "memory", "cpu", "name=systemd"...; none for cgroup2
    std::string path;                      ///< "/box/ID", relative to the hierarchy's root
    /// True for cgroup2's line (no controllers named).
    bool unified() const { return controllers.empty(); }
};

/// The lines of a /proc/PID/cgroup text; malformed lines skipped.
std::vector<CgroupMembership> parse_proc_cgroup(const std::string& text);

/// Builds the layout from the text of /proc/self/mountinfo, /proc/cgroups and
/// /proc/self/cgroup; `read_controllers(mount)` returns the content of
/// MOUNT/cgroup.controllers.
CgroupLayout parse_cgroup_layout(const std::string& mountinfo, const std::string& proc_cgroups,
                                 const std::string& self_cgroup,
                                 const std::function<std::string(const std::string&)>& read_controllers);

/// The layout of this host, read from /proc (the mounts once per process, the
/// process's own cgroups at each call).
CgroupLayout detect_cgroup_layout();

}  // namespace box
