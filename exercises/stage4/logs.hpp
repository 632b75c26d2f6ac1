// Chapter 4, inside the stage: a container's log.
#pragma once

#include "stage4.hpp"

namespace box::stage4 {

/// Registers `box logs [-f] [-t] [--tail N] [--since T]`.
void register_logs_command();

}  // namespace box::stage4
