/// @file instruction.hpp
/// @brief Dockerfile instructions that change an image's config, as
/// `import --change` and `commit --change` take them: read by the one
/// Dockerfile parser (box/dockerfile.hpp) that chapter 6's builder uses too.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "box/dockerfile.hpp"
#include "box/shell_lexer.hpp"

namespace box {

/// Applies change instructions to a container config (the image config's
/// "config" object: Cmd, Entrypoint, Env, ExposedPorts, Labels, OnBuild,
/// StopSignal, User, Volumes, WorkingDir) as docker's import and commit do.
/// Each change is parsed as a Dockerfile (a change of several lines is
/// several instructions); the arguments of ENV, LABEL, EXPOSE, VOLUME,
/// WORKDIR, USER and STOPSIGNAL are unquoted and `$VAR`-expanded with the
/// config's Env as it is at that instruction (box/shell_lexer.hpp).
/// CMD and ENTRYPOINT take the exec or the shell form (`/bin/sh -c`);
/// ENTRYPOINT clears an inherited Cmd unless a CMD came first; ENV (`K=V ...`
/// or `K V`) and LABEL replace a key or add it; EXPOSE adds `PORT[/PROTO]`
/// (and ranges); VOLUME adds paths (JSON array or words); WORKDIR is taken
/// relative to the current one; ONBUILD records a trigger; STOPSIGNAL must
/// name a signal. Throws box::Error naming the change for any other keyword
/// (`COPY is not a valid change command`) or bad arguments.
void apply_changes(nlohmann::json& config, const std::vector<std::string>& changes);

/// Applies one parsed metadata instruction — ENV, LABEL, EXPOSE, VOLUME,
/// WORKDIR, USER, ONBUILD or STOPSIGNAL, by apply_changes()'s rules — to a
/// container config, its words expanded with `env` (a build passes its ARGs
/// too) and `escape`. `what` names the instruction in errors (a build: its
/// Dockerfile line). Throws box::Error for another keyword or bad arguments.
void apply_instruction(nlohmann::json& config, const dockerfile::Node& node, const shell::Env& env, char escape,
                       const std::string& what);

/// The config's Env (`K=V` strings) as the lexer's variables.
shell::Env env_of(const nlohmann::json& config);

}  // namespace box
