/// @file cli.hpp
/// @brief The command line: global flags, subcommands, one-line errors, exit statuses.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace box::cli {

/// Adds subcommand `name` to `app`. `action` runs when the command is given
/// and returns box's exit status. Docker-style help: `--help` only (so
/// commands may use `-h` for something else, as `run -h HOSTNAME` does).
CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& description,
                      std::function<int()> action);

/// Runs box: parses argv with the global flags (`--root`, `--explain`,
/// `--log-level`, `--version`, `--help`) and the subcommands `add_commands`
/// adds, then runs the chosen one. Any box::Error (or usage error) becomes one
/// line on stderr, `box: <what>: <why>`, and its exit status (125 by default).
/// `stage` is the highest stage built in, shown by `--version`.
int main(int argc, char** argv, int stage, const std::function<void(CLI::App&)>& add_commands);

}  // namespace box::cli
