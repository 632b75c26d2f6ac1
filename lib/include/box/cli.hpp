/// @file cli.hpp
/// @brief The command line: a registry of commands built on demand, global
/// flags, one-line errors, exit statuses.
///
/// Each stage *registers* its commands (a name, a one-line summary and a
/// function that declares the command's options and returns its action); box
/// builds only the command named on its command line, so a `box run` does not
/// pay for the options of fifty other commands, and the cost of starting box
/// does not grow with the stages. `box --help` (and an unknown name, for
/// CLI11's error) builds them all.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace box::cli {

/// What a command does once its options are parsed; returns box's exit status.
using Action = std::function<int()>;

/// Declares a command's options on `command` (its positionals and flags,
/// bound to variables the returned action reads) and returns its action.
using Declare = std::function<Action(CLI::App& command)>;

/// Registers `box PATH`: a top-level command ("ps") or one inside a group
/// ("container prune", the group registered with define_group()). `declare`
/// runs only when the command is built. `path` and `summary` must outlive
/// box's main (string literals): they are not copied. Docker-style help: `--help` only, so
/// commands may use `-h` for something else, as `run -h HOSTNAME` does.
void define(const char* path, const char* summary, Declare declare);

/// Registers a group of commands (`box image ...`, `box container ...`).
void define_group(const char* name, const char* summary);

/// Adds options to command `path`, declared after the command's own: how a
/// later stage gives an earlier command its flags (chapter 2's `run -m`).
void extend(const char* path, std::function<void(CLI::App& command)> declare);

/// Declares command `path`'s options — its own, then every extension's — on
/// `command` and returns its action: for a command that takes another's
/// options (`create` takes run's). Throws box::Error if `path` is unknown.
Action declare_like(const std::string& path, CLI::App& command);

/// Runs box: finds the command argv names (skipping the global flags `--root`,
/// `--explain`, `--log-level`), builds it, parses argv with the global flags,
/// and runs it. Any box::Error (or usage error) becomes one line on stderr,
/// `box: <what>: <why>`, and its exit status (125 by default). `stage` is the
/// highest stage built in, shown by `--version`.
int main(int argc, char** argv, int stage);

/// Runs `each` for every name, as docker's commands on several objects do:
/// a failure is printed (`box: ...`) and the rest still run; returns 1 if any
/// failed, else 0.
int for_each(const std::vector<std::string>& names, const std::function<void(const std::string&)>& each);

/// Asks `question` followed by " [y/N] " on stdout and reads a line from
/// stdin; true only for "y" or "Y" (prune's confirmation).
bool confirm(const std::string& question);

/// Forgets every registration (for tests of the registry).
void reset_registry();

}  // namespace box::cli
