/// @file cli.hpp
/// @brief The command line: a registry of commands built on demand, global
/// flags, one-line errors, exit statuses.
///
/// Each stage *registers* its commands (a name, a one-line summary and a
/// function that declares the command's options and returns its action); box
/// builds only the command named on its command line, so a `box run` does not
/// pay for the options of fifty other commands, and the cost of starting box
/// does not grow with the stages. `box --help` builds them all; `box` alone,
/// `box GROUP` alone and an unknown name are answered from the registry.
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

/// Registers `box PATH` as another name of command `target`, with its
/// options and action: docker's management commands (`image ls` is `images`,
/// `container run` is `run`).
void alias(const char* path, const char* target);

/// Lets command `path`'s failures exit with the error's own status (docker's
/// 125, or 126/127 when the command cannot run): `run`, `create` and `start`.
/// Any other command that runs and fails exits 1, as docker's do; a usage
/// error exits 125 whatever the command.
void keep_failure_status(const char* path);

/// Declares command `path`'s options — its own, then every extension's — on
/// `command` and returns its action: for a command that takes another's
/// options (`create` takes run's). Throws box::Error if `path` is unknown.
Action declare_like(const std::string& path, CLI::App& command);

/// Runs box: finds the command argv names (skipping the global flags `--root`,
/// `--explain`, `--log-level`), builds it, parses argv with the global flags,
/// and runs it. Any box::Error (or usage error) becomes one line on stderr,
/// `box: <what>: <why>`, and an exit status (see keep_failure_status()).
/// `box` alone and `box --help` print docker's usage screen (common,
/// management and other commands) and exit 0. `stage` is the highest stage
/// built in, shown by `--version`.
int main(int argc, char** argv, int stage);

/// Runs `each` for every name, as docker's commands on several objects do:
/// a failure is printed (`box: ...`) and the rest still run; returns 1 if any
/// failed, else 0.
int for_each(const std::vector<std::string>& names, const std::function<void(const std::string&)>& each);

/// Asks `question` followed by " [y/N] " on stdout and reads a line from
/// stdin; true only for "y" or "Y" (prune's confirmation).
bool confirm(const std::string& question);

/// The highest stage built into this box (what main() was given).
int stage();

/// Forgets every registration (for tests of the registry).
void reset_registry();

}  // namespace box::cli
