// Chapter 4, inside the stage: `box cp`.
#pragma once

#include <string>

#include "stage4.hpp"

namespace box::stage4 {

/// Copies `src` (a path in container `c`, resolved inside its root) to host
/// path `dest` (into it, if it is a directory). A symlink is copied as a
/// symlink, unless `follow` (-L): then what it points to in the container.
/// Returns 0; throws box::Error.
int copy_out(const Container& c, const std::string& src, const std::string& dest, bool follow);
/// Copies host path `src` to `dest` in container `c` (into it, if it is a directory).
int copy_in(const Container& c, const std::string& src, const std::string& dest);

/// Registers `box cp`.
void register_cp_command();

}  // namespace box::stage4
