// Chapter 4, inside the stage: the freezer, and resource use for `box stats`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stage4.hpp"

namespace box::stage4 {

/// Freezes (or thaws) every process of running container `c` with its
/// cgroup's freezer; returns once they are. Throws box::Error.
void set_frozen(const Container& c, bool frozen);
/// `box pause` (frozen) or `box unpause` of container `c`: refused with
/// docker's words if it is already so, else frozen or thawed and its status
/// recorded in `store`. Throws box::Error.
void pause_container(ContainerStore& store, const Container& c, bool frozen);
/// The CPU time container `c` used so far, in nanoseconds (from its cgroup).
std::int64_t cpu_usage_ns(const Container& c);
/// One row of `box stats`: CONTAINER ID, NAME, CPU %, MEM USAGE / LIMIT,
/// MEM %, NET I/O, PIDS.
std::vector<std::string> stats_row(const Container& c, double cpu_percent);

/// Registers `box pause`, `box unpause` and `box stats`.
void register_pause_commands();

}  // namespace box::stage4
