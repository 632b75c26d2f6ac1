// Chapter 4, inside the stage: listing and inspecting containers.
#pragma once

#include "stage4.hpp"

namespace box::stage4 {

/// docker inspect's document for container `c` (Id, State, HostConfig, Config...).
json inspect_json(const Container& c);

/// Registers `box ps`, `box container ls`, `box inspect` and `box rename`.
void register_ps_commands();

}  // namespace box::stage4
