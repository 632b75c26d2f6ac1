/// @file log.hpp
/// @brief Messages for the user on stderr: warnings always, debug with `--log-level debug`.
#pragma once

#include <string>

namespace box::log {

/// How much box says on its own: `error`, `warn` (default), `info`, `debug`.
enum class Level { Error = 0, Warn = 1, Info = 2, Debug = 3 };

/// Sets the level from its name; throws box::Error on an unknown name.
void set_level(const std::string& name);
/// `box: warning: <text>`.
void warn(const std::string& text);
/// `box: <text>` at level info or above.
void info(const std::string& text);
/// `box: debug: <text>` at level debug.
void debug(const std::string& text);

}  // namespace box::log
