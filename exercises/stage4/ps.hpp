// Chapter 4, inside the stage: listing and inspecting containers.
#pragma once

#include <vector>

#include "box/filters.hpp"
#include "stage4.hpp"

namespace box::stage4 {

/// Which containers `box ps` lists.
struct PsQuery {
    bool all = false;  ///< -a: stopped ones too
    int last = -1;     ///< -n: the last N made, whatever their state (-l: 1)
    Filters filters;   ///< --filter (status, exited, id, name, label, ancestor, health)
};

/// The containers `q` asks for, newest first; prints nothing.
std::vector<Container> list_containers(const PsQuery& q);

/// ps's row of container `c`: docker's fields (ID, Image, Command,
/// CreatedAt, RunningFor, Ports, State, Status, Names, Labels) for the table
/// and --format, with what later chapters fill (Ports); `no_trunc`: whole id
/// and command.
json ps_row(const Container& c, bool no_trunc = false);

/// docker inspect's document for container `c` (Id, State, HostConfig, Config...).
json inspect_json(const Container& c);

/// Registers `box ps`, `box container ls`, `box inspect` and `box rename`.
void register_ps_commands();

}  // namespace box::stage4
