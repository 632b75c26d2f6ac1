/// @file instruction.hpp
/// @brief Dockerfile instructions that change an image's config: the one
/// parser `import --change` and `commit --change` share, and that chapter 6's
/// Dockerfile builder extends.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace box {

/// One instruction as written: `KEYWORD ARGUMENTS`.
struct Instruction {
    std::string keyword;    ///< upper case: "CMD", "ENV", ...
    std::string arguments;  ///< the rest of the line, without surrounding blanks
    std::string original;   ///< the whole text as given
};

/// Splits `text` into its keyword (any case) and arguments. Throws box::Error
/// for an empty instruction.
Instruction parse_instruction(const std::string& text);

/// The exec form `["a", "b"]` as its strings, or nothing if `arguments` is
/// not a JSON array of strings (Dockerfile rule: then it is the shell form).
std::optional<std::vector<std::string>> exec_form(const std::string& arguments);

/// Words as the Dockerfile splits ENV and LABEL arguments: at blanks outside
/// quotes; "double" and 'single' quotes removed; a backslash keeps the next
/// character (outside single quotes). Throws box::Error on an open quote.
std::vector<std::string> split_words(const std::string& arguments);

/// Applies change instructions to a container config (the image config's
/// "config" object: Cmd, Entrypoint, Env, ExposedPorts, Labels, OnBuild,
/// StopSignal, User, Volumes, WorkingDir) as docker's import and commit do:
/// CMD and ENTRYPOINT take the exec or the shell form (`/bin/sh -c`);
/// ENTRYPOINT clears an inherited Cmd unless a CMD came first; ENV (`K=V ...`
/// or `K V`) and LABEL replace a key or add it; EXPOSE adds `PORT[/PROTO]`
/// (and ranges); VOLUME adds paths (JSON array or words); WORKDIR is taken
/// relative to the current one; ONBUILD records a trigger; STOPSIGNAL must
/// name a signal. Throws box::Error naming the change for any other keyword
/// (`COPY is not a valid change command`) or bad arguments.
void apply_changes(nlohmann::json& config, const std::vector<std::string>& changes);

}  // namespace box
