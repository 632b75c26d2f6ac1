/// @file stage2.hpp
/// @brief Stage 2 (chapter 2, cgroups): the functions you write, and the
/// cgroup a container gets.
///
/// Every container gets one cgroup, made before it is cloned, joined before it
/// runs its command, and removed after it ends. The kernel has two cgroup
/// interfaces — v2 (one tree) and v1 (one tree per controller) — and box picks
/// one at start-up (open_cgroup()) behind the small Cgroup interface below.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "box/cgroup_layout.hpp"
#include "box/util.hpp"
#include "box/spec.hpp"

namespace box::stage2 {

/// A CPU bandwidth limit: the cgroup may run `quota_us` microseconds of CPU
/// time in every `period_us` microseconds of wall time (summed over CPUs).
struct CpuQuota {
    std::int64_t quota_us;   ///< CPU time allowed per period
    std::int64_t period_us;  ///< the period
};

/// Exercise 1. The quota for `--cpus N`, with docker's period of 100000 µs
/// (100 ms): N CPUs' worth of time per period, rounded to whole µs.
/// `cpu_quota(0.5)` is {50000, 100000}; `cpu_quota(1.5)` is {150000, 100000}.
CpuQuota cpu_quota(double cpus);

/// Exercise 2. v1's `cpu.shares` (2..262144, default 1024) on v2's
/// `cpu.weight` scale (1..10000, default 100), the linear mapping crun and
/// runc use: 1 + ((shares - 2) * 9999) / 262142 in integers, after clamping
/// shares into 2..262144. So 2 → 1, 1024 → 39, 262144 → 10000.
std::uint64_t cpu_weight(std::uint64_t shares);

/// Exercise 7. The number of OOM kills in the cgroup, from the text of v2's
/// `memory.events` or v1's `memory.oom_control` — both have a line
/// "oom_kill N". 0 if there is no such line.
std::uint64_t oom_kill_count(const std::string& events);

/// What a container used, read from its cgroup; a field is empty when this
/// kernel does not report it.
struct Usage {
    std::optional<std::int64_t> memory_peak;  ///< bytes, most ever charged
    std::optional<std::int64_t> cpu_usec;     ///< CPU time, microseconds
    std::optional<std::int64_t> pids;         ///< processes now (or at most, if known)
    std::optional<std::int64_t> memory_now;   ///< bytes charged now
    std::optional<std::int64_t> memory_limit; ///< bytes allowed (none: no limit)
    std::optional<std::int64_t> pids_now;     ///< processes now
};

/// One container's cgroup. Made by open_cgroup(); removed when destroyed.
class Cgroup {
public:
    virtual ~Cgroup() = default;
    /// Creates the cgroup (and its parent), with the controllers it needs.
    virtual void create() = 0;
    /// Writes the limits into the cgroup's control files.
    virtual void set_limits(const ResourceLimits& limits) = 0;
    /// Moves process `pid` (and so, later, its children) into the cgroup; pid
    /// 0 is the calling process, as the kernel reads "0". On v1 that one
    /// writes "0" to `tasks` (one thread: itself), which the kernel does
    /// without the global lock a move of another process takes (a wait of an
    /// RCU grace period, 5-15 ms here).
    virtual void add_process(pid_t pid) = 0;
    /// How many times the OOM killer killed a process of the cgroup.
    virtual std::uint64_t oom_kills() const = 0;
    /// What the container used.
    virtual Usage usage() const = 0;
    /// Removes the cgroup (it must hold no process) and, if that left it
    /// empty, the shared parent. Never throws.
    virtual void remove() noexcept = 0;
    /// Where it is, for messages: a path per hierarchy.
    virtual std::string where() const = 0;
    /// Takes over the cgroup an earlier box made for this container (chapter
    /// 4): from now on it is removed when this object is destroyed.
    virtual void adopt() = 0;
    /// Leaves the cgroup in place when this object is destroyed: the
    /// container outlives this box (chapter 4).
    virtual void keep() noexcept = 0;
    /// Freezes (or thaws) every process in the cgroup with the kernel's
    /// freezer, and returns once they are (chapter 4's pause). Throws
    /// box::Error if the cgroup has no freezer.
    virtual void freeze(bool frozen) = 0;
};

/// cgroup v2: ROOT/PARENT/NAME in the single hierarchy mounted at ROOT.
class CgroupV2 : public Cgroup {
public:
    /// `root` is the cgroup2 mount (/sys/fs/cgroup); `controllers` those to
    /// enable for the container (e.g. cpu memory pids).
    CgroupV2(std::string root, std::string parent, std::string name, std::set<std::string> controllers);
    ~CgroupV2() override { remove(); }
    /// Exercise 3.
    void create() override;
    /// Exercise 4.
    void set_limits(const ResourceLimits& limits) override;
    /// Exercise 5.
    void add_process(pid_t pid) override;
    std::uint64_t oom_kills() const override;
    Usage usage() const override;
    void remove() noexcept override;
    std::string where() const override { return path_; }
    void adopt() override { created_ = is_directory(path_); }
    void keep() noexcept override { created_ = false; }
    void freeze(bool frozen) override;
    /// The container's cgroup directory.
    const std::string& path() const { return path_; }

private:
    std::string root_, parent_, path_;
    std::set<std::string> controllers_;
    bool created_ = false;
};

/// cgroup v1: PARENT/NAME in each controller's own hierarchy.
class CgroupV1 : public Cgroup {
public:
    /// `parents`: controller → the directory the container's cgroup goes in,
    /// e.g. "memory" → "/sys/fs/cgroup/memory/box". Controllers that share a
    /// hierarchy (cpu,cpuacct) share one directory.
    CgroupV1(std::map<std::string, std::string> parents, std::string name);
    ~CgroupV1() override { remove(); }
    void create() override;
    /// Exercise 6.
    void set_limits(const ResourceLimits& limits) override;
    void add_process(pid_t pid) override;
    std::uint64_t oom_kills() const override;
    Usage usage() const override;
    void remove() noexcept override;
    std::string where() const override;
    void adopt() override;
    void keep() noexcept override { created_.clear(); }
    void freeze(bool frozen) override;
    /// The container's cgroup directory in `controller`'s hierarchy.
    std::string dir(const std::string& controller) const;

private:
    std::map<std::string, std::string> parents_;
    std::string name_;
    std::set<std::string> created_;  // directories made, to remove
};

/// Makes directory `dir` in `parent`, a parent that every container shares:
/// (re)makes the parent and calls `prepare_parent` (if any) on it first, and
/// tries again if the parent vanished meanwhile — another box removes it as
/// soon as its last container is gone. Throws box::Error for anything else.
void make_in_shared_parent(const std::string& parent, const std::string& dir,
                           const std::function<void()>& prepare_parent);

/// The cgroup for container `id` on a host laid out as `layout`: v2 if its
/// cgroup2 offers the controllers `limits` needs, else v1. Not yet created.
/// Throws box::Error if neither can.
std::unique_ptr<Cgroup> open_cgroup(const CgroupLayout& layout, const ResourceLimits& limits,
                                    const std::string& id);

/// The cgroup process `pid` (a container's first process) is in, by the same
/// rule as open_cgroup() (v2 where it offers the controllers, else v1), read
/// from /proc/PID/cgroup: for `exec` to join, `pause` to freeze, `stats` to
/// read. Not owned: destroying it removes nothing. Throws box::Error if the
/// process is gone.
std::unique_ptr<Cgroup> cgroup_of_process(const CgroupLayout& layout, pid_t pid);

/// The cgroup whose directories are `dirs` (what Cgroup::where() said,
/// split at blanks): one under cgroup2 is v2; otherwise v1, each directory
/// in the hierarchies mounted above it. Not created, not owned until
/// adopt(). Throws box::Error for a directory in no hierarchy of `layout`.
std::unique_ptr<Cgroup> cgroup_at(const CgroupLayout& layout, const std::vector<std::string>& dirs);

/// Adds `-m`, `--memory-swap`, `--cpus`, `--cpu-shares`, `--cpuset-cpus`,
/// `--pids-limit` and `--stats` to `box run`, and the cgroup to every container.
void register_commands();

}  // namespace box::stage2
