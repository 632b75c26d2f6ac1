// Chapter 4, inside the stage: volumes.
#pragma once

#include <string>
#include <vector>

#include "box/fd.hpp"
#include "box/filters.hpp"
#include "stage4.hpp"

namespace box::stage4 {

/// Throws box::Error unless `name` is a valid volume name.
void check_volume_name(const std::string& name);
/// Where volume `name` keeps its files: STATE/volumes/NAME/_data.
std::string volume_path(const std::string& name);
/// Makes volume `name`, labelled `labels`, if it does not exist (an existing
/// one is left as it is); returns the name.
std::string create_volume(const std::string& name, const Labels& labels = {});
/// The names of all volumes, sorted.
std::vector<std::string> list_volumes();
/// `box volume inspect`'s objects of the volumes `filters` (docker's volume ls
/// filters: name, label, dangling, driver) keep, sorted by name.
std::vector<json> list_volumes(const Filters& filters);
/// docker volume prune: removes every volume no container uses that
/// `filters` (label, label!) keep; returns their names.
std::vector<std::string> prune_volumes(const Filters& filters);
/// `box volume inspect`'s object (docker's fields); throws if there is none.
json inspect_volume(const std::string& name);
/// Removes volume `name` and its files (the caller checks that no container uses it).
void remove_volume(const std::string& name);
/// Parses one `-v`: /host:/path[:ro|rw], name:/path[:ro|rw], or /path.
VolumeMount parse_volume(const std::string& text);
/// Parses one `--mount` as docker's CLI does: comma-separated KEY=VALUE
/// fields (type, source|src, target|dst|destination, readonly|ro, volume-*,
/// bind-*, tmpfs-size, tmpfs-mode); throws box::Error with docker's words.
RequestMount parse_mount(const std::string& text);
/// Adds a request's mounts to `spec.mounts`: --volumes-from's containers'
/// first, then -v (Binds) and --mount (Mounts), which replace one at the same
/// path, then the image's VOLUMEs that none covers (a volume's source is
/// where it will be; nothing is made yet). Throws box::Error with docker's
/// daemon's words: a --mount bind whose source is missing, a duplicate path.
void fill_volumes(ContainerSpec& spec, const RequestHostConfig& host, const json& image_volumes);
/// Makes the named and anonymous volumes of `spec`, and the host directories of
/// its binds, that do not exist yet.
void create_volumes(const ContainerSpec& spec);
/// Whether volume `name` is an anonymous one (`-v /path`, an image's VOLUME): 64 hex digits.
bool is_anonymous_volume(const std::string& name);
/// The ids of the containers that use volume `name`.
std::vector<std::string> volume_users(const std::string& name);
/// Removes the anonymous volumes of (removed) container `c` that no other uses.
void remove_anonymous_volumes(const Container& c);
/// Registers the extension that mounts a container's volumes.
void add_volume_extension();

/// Makes `path` (absolute, inside the container) below `root`, every step
/// resolved inside `root` (openat2 RESOLVE_IN_ROOT: a symlink in the image
/// cannot lead out), and returns the final directory, open (O_PATH).
Fd make_dirs_in_root(const std::string& root, const std::string& path);

/// Registers `box volume create|ls|inspect|rm|prune`.
void register_volume_commands();

}  // namespace box::stage4
