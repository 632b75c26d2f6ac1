// Chapter 2: `box run`'s resource flags, and the cgroup every container gets.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "box/cgroup_layout.hpp"
#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/log.hpp"
#include "box/units.hpp"
#include "stage2.hpp"

namespace box::stage2 {
namespace {

constexpr std::int64_t kMinMemory = 6 * 1024 * 1024;  // docker's floor: less cannot start a process

// The flags as typed; checked and converted by fill().
struct Flags {
    std::string memory, memory_swap, cpus, cpuset_cpus;
    std::optional<std::int64_t> cpu_shares, pids;
    bool stats = false;
};

// run's flags as typed, into the request's HostConfig (a RequestFiller: only parsing).
void fill(const Flags& f, ContainerRequest& request) {
    RequestHostConfig& h = request.HostConfig;
    if (!f.memory.empty()) h.Memory = parse_bytes(f.memory, "--memory");
    if (!f.memory_swap.empty()) h.MemorySwap = f.memory_swap == "-1" ? -1 : parse_bytes(f.memory_swap, "--memory-swap");
    if (!f.cpus.empty()) h.NanoCpus = std::llround(parse_cpus(f.cpus, "--cpus") * 1e9);
    if (f.cpu_shares) {
        if (*f.cpu_shares < 0) throw Error("invalid value for --cpu-shares", "it cannot be negative");
        h.CpuShares = *f.cpu_shares;
    }
    h.CpusetCpus = f.cpuset_cpus;
    if (f.pids) {
        if (*f.pids < -1) throw Error("invalid value for --pids-limit", "use a positive number, or -1 for unlimited");
        h.PidsLimit = *f.pids;
    }
    h.BoxStats = f.stats;
}

// Chapter 2's fields of a request, into the spec (a RequestReader).
void read_request(const ContainerRequest& r, ContainerSpec& spec) {
    const RequestHostConfig& h = r.HostConfig;
    ResourceLimits& l = spec.limits;
    if (h.Memory != 0) l.memory = h.Memory;
    if (h.MemorySwap != 0) l.memory_swap = h.MemorySwap;
    if (h.NanoCpus != 0) l.cpus = static_cast<double>(h.NanoCpus) / 1e9;
    if (h.CpuShares > 0) l.cpu_shares = static_cast<std::uint64_t>(h.CpuShares);
    l.cpuset_cpus = h.CpusetCpus;
    if (h.PidsLimit) l.pids = *h.PidsLimit <= 0 ? -1 : *h.PidsLimit;  // docker: 0 and -1 both mean unlimited
    spec.print_stats = h.BoxStats;
}

// docker's rules for limits, however the spec was made (SpecPhase::Check):
// refused before anything is created.
void check_limits(ContainerSpec& spec) {
    const ResourceLimits& l = spec.limits;
    if (l.memory && *l.memory < kMinMemory)
        throw Error("invalid value \"" + format_bytes(*l.memory) + "\" for --memory", "the minimum memory limit is 6MiB");
    if (l.memory_swap) {
        if (!l.memory) throw Error("--memory-swap", "set --memory too: --memory-swap is memory plus swap");
        if (*l.memory_swap < -1 || (*l.memory_swap >= 0 && *l.memory_swap < *l.memory))
            throw Error("invalid value \"" + format_bytes(*l.memory_swap) + "\" for --memory-swap",
                        "it must be at least --memory (it counts memory plus swap), or -1 for unlimited swap");
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (l.cpus && (*l.cpus < 0.01 || *l.cpus > static_cast<double>(online))) {
        char range[128], value[32];
        snprintf(range, sizeof range, "the range is 0.01 to %ld.00, as this host has %ld CPUs", online, online);
        snprintf(value, sizeof value, "%.2f", *l.cpus);
        throw Error("invalid value \"" + std::string(value) + "\" for --cpus", range);
    }
    if (!l.cpuset_cpus.empty()) parse_cpu_list(l.cpuset_cpus, static_cast<unsigned>(online), "--cpuset-cpus");
    if (l.pids && *l.pids < -1) throw Error("invalid value for --pids-limit", "use a positive number, or -1 for unlimited");
}

// The container's cgroup, as one of start_container()'s extensions: created
// before the clone, joined by the child before it is told to go on, and
// removed (by ~Cgroup) after the container has been reaped.
class CgroupExtension : public ContainerExtension {
public:
    explicit CgroupExtension(const ExtensionContext& ctx)
        : limits_(ctx.spec.limits), stats_(ctx.spec.print_stats),
          cgroup_(ctx.mode == ExtensionMode::Adopt && ctx.record.contains("dirs")
                      ? cgroup_at(detect_cgroup_layout(), ctx.record["dirs"].get<std::vector<std::string>>())
                      : open_cgroup(detect_cgroup_layout(), ctx.spec.limits, ctx.spec.id)) {
        if (ctx.mode == ExtensionMode::Adopt) {  // chapter 4: made by the box that started the container
            cgroup_->adopt();
            return;
        }
        cgroup_->create();
        cgroup_->set_limits(ctx.spec.limits);
    }

    void release() override { cgroup_->keep(); }
    // Where it is, so that the box that cleans up after the container (chapter
    // 4's shim runs one) removes this cgroup wherever that box itself runs.
    nlohmann::json record() const override { return {{"dirs", split(cgroup_->where(), ' ')}}; }

    // On v2 the child is born in its cgroup (clone3); else it moves itself
    // (pid 0): see stage2.hpp's add_process().
    void plan_namespaces(NamespacePlan& plan) override {
        if (auto* v2 = dynamic_cast<CgroupV2*>(cgroup_.get())) plan.cgroup2 = v2->path();
    }
    void in_child_first(const NamespacePlan& plan) override {
        if (plan.cgroup2 != cgroup_->where()) cgroup_->add_process(0);
    }

    void after_exit(ExitReport& report) override {
        report.oom_killed = report.oom_killed || cgroup_->oom_kills() > 0;
        if (cgroup_->oom_kills() > 0) {
            std::string limit = limits_.memory ? " (memory limit " + format_bytes(*limits_.memory) + ")" : "";
            log::warn("the container was killed by the OOM killer" + limit + ": it ran out of memory");
        }
        if (stats_) {
            Usage u = cgroup_->usage();
            auto show = [](const std::optional<std::int64_t>& v, auto fmt) { return v ? fmt(*v) : std::string("?"); };
            fprintf(stderr, "box: stats: cpu %s, memory peak %s, pids %s\n",
                    show(u.cpu_usec, [](std::int64_t us) {
                        char b[32];
                        snprintf(b, sizeof b, "%.3fs", static_cast<double>(us) / 1e6);
                        return std::string(b);
                    }).c_str(),
                    show(u.memory_peak, format_bytes).c_str(),
                    show(u.pids, [](std::int64_t n) { return std::to_string(n); }).c_str());
        }
    }

private:
    ResourceLimits limits_;
    bool stats_;
    std::unique_ptr<Cgroup> cgroup_;
};

}  // namespace

void register_commands() {
    cli::extend("run", [](CLI::App& run) {
        auto flags = std::make_shared<Flags>();
        run.add_option("-m,--memory", flags->memory, "Memory limit (e.g. 64m, 1g; at least 6m)");
        run.add_option("--memory-swap", flags->memory_swap, "Memory plus swap limit (-1: unlimited swap)");
        run.add_option("--cpus", flags->cpus, "Number of CPUs' worth of time (e.g. 0.5)");
        run.add_option("-c,--cpu-shares", flags->cpu_shares, "CPU shares (relative weight; default 1024)");
        run.add_option("--cpuset-cpus", flags->cpuset_cpus, "CPUs in which to allow execution (0-1, 0,2)");
        run.add_option("--pids-limit", flags->pids, "Most processes at once (-1: unlimited)");
        run.add_flag("--stats", flags->stats, "When the container ends, print its CPU time, memory peak and pids");
        add_request_filler([flags](ContainerRequest& request) { fill(*flags, request); });
    });
    add_request_reader(read_request);
    add_spec_preparer(SpecPhase::Check, check_limits);
    add_extension("cgroup", ExtensionPhase::Resources, [](const ExtensionContext& ctx) -> std::unique_ptr<ContainerExtension> {
        return std::make_unique<CgroupExtension>(ctx);
    });
}

}  // namespace box::stage2
