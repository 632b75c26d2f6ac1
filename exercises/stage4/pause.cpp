// Chapter 4: pause/unpause with the cgroup freezer, and `box stats`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <memory>

#include "box/cgroup_layout.hpp"
#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/render.hpp"
#include "box/sys.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "lifecycle.hpp"
#include "pause.hpp"
#include "stage2.hpp"

namespace box::stage4 {
namespace {

std::unique_ptr<stage2::Cgroup> cgroup_of(const Container& c) {
    if (!c.running() || c.state.pid <= 0) throw Error("Container " + c.id + " is not running", "start it first");
    return stage2::cgroup_of_process(detect_cgroup_layout(), c.state.pid);
}

}  // namespace

void set_frozen(const Container& c, bool frozen) {
    // The kernel freezes every process of the container's cgroup (v2:
    // cgroup.freeze; v1: the freezer hierarchy's freezer.state).
    cgroup_of(c)->freeze(frozen);
}

std::vector<std::string> stats_row(const Container& c, double cpu_percent) {
    pid_t pid = c.state.pid;
    stage2::Usage u = cgroup_of(c)->usage();
    std::int64_t usage = u.memory_now.value_or(-1), limit = u.memory_limit.value_or(-1), count = u.pids_now.value_or(-1);
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

std::int64_t cpu_usage_ns(const Container& c) { return cgroup_of(c)->usage().cpu_usec.value_or(0) * 1000; }

void pause_container(ContainerStore& store, const Container& c, bool frozen) {
    if (frozen && c.state.status == Status::Paused) throw Error("Container " + c.id + " is already paused", "box unpause it");
    if (!frozen && c.state.status != Status::Paused) throw Error("Container " + c.id + " is not paused", "nothing to do");
    set_frozen(c, frozen);
    set_status(store, c, frozen ? Status::Paused : Status::Running);
}

void register_pause_commands() {
    // pause / unpause: the cgroup freezer.
    for (bool frozen : {true, false}) {
        cli::define(frozen ? "pause" : "unpause",
                    frozen ? "Pause all processes within one or more containers"
                           : "Unpause all processes within one or more containers",
                    [frozen](CLI::App& c) -> cli::Action {
            auto refs = std::make_shared<std::vector<std::string>>();
            c.add_option("CONTAINER", *refs, "Containers")->required();
            return [refs, frozen] {
                ContainerStore s(state_root());
                return cli::for_each(*refs, [&](const std::string& ref) {
                    pause_container(s, s.find(ref), frozen);
                    printf("%s\n", ref.c_str());
                });
            };
        });
    }

    // stats: CPU % over a second, memory, network, pids; --no-stream prints once.
    cli::define("stats", "Display a live stream of container(s) resource usage statistics", [](CLI::App& c) -> cli::Action {
        struct StatsFlags { std::vector<std::string> refs; bool no_stream = false, all = false; };
        auto f = std::make_shared<StatsFlags>();
        c.add_option("CONTAINER", f->refs, "Containers (default: all running)");
        c.add_flag("--no-stream", f->no_stream, "Disable streaming stats and only pull the first result");
        c.add_flag("-a,--all", f->all, "Show all containers (default shows just running)");
        return [f] {
            ContainerStore s(state_root());
            for (;;) {
                std::vector<Container> shown;
                if (f->refs.empty()) {
                    for (const auto& ct : s.list())
                        if (ct.running() || f->all) shown.push_back(ct);
                } else {
                    for (const auto& r : f->refs) shown.push_back(s.find(r));
                }
                std::vector<std::int64_t> before;
                for (const auto& ct : shown) before.push_back(ct.running() ? cpu_usage_ns(ct) : 0);
                auto t0 = std::chrono::steady_clock::now();
                std::this_thread::sleep_for(std::chrono::milliseconds(f->no_stream ? 500 : 1000));
                double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                std::vector<std::vector<std::string>> rows = {
                    {"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "PIDS"}};
                for (size_t i = 0; i < shown.size(); ++i) {
                    if (!shown[i].running()) {
                        rows.push_back({shown[i].id.substr(0, 12), shown[i].name, "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0"});
                        continue;
                    }
                    double pct = 100.0 * static_cast<double>(cpu_usage_ns(shown[i]) - before[i]) / (secs * 1e9);
                    rows.push_back(stats_row(shown[i], pct < 0 ? 0 : pct));
                }
                if (!f->no_stream) printf("\033[2J\033[H");  // a fresh screen each second, as docker's
                render::print_table(rows);
                fflush(stdout);
                if (f->no_stream) return 0;
            }
        };
    });
}
}  // namespace box::stage4
