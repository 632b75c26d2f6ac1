/// @file commands.hpp
/// @brief The commands lib/ itself provides, in every stage: `doctor` and `base-rootfs`.
#pragma once

#include <string>

namespace box {

/// Registers `box doctor` and `box base-rootfs` (see cli::define).
void register_lib_commands();

/// Builds the kit's base root filesystem in `dir` from the host's static
/// busybox: busybox and its applet links, the usual directories, and a
/// minimal /etc (passwd, group, hosts, resolv.conf, os-release, ...).
/// Built beside `dir` and renamed into place, so `dir` is whole or absent.
/// Throws box::Error if `dir` exists (unless `replace`) or busybox is missing.
void make_base_rootfs(const std::string& dir, bool replace);

/// Runs the host checks of `box doctor`, prints the table, returns 0 if every
/// check the stages need passed and 1 otherwise.
int run_doctor();

}  // namespace box
