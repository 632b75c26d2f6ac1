/// @file stage8.hpp
/// @brief Chapter 8: `box compose` — a Compose file becomes networks, volumes,
/// builds and containers, found again by their labels.
///
/// Compose is passes over data, then a reconcile (as compose-go and docker
/// compose v2 do it):
///
///     compose.yaml ─load─▶ JSON ─interpolate─▶ ─check+normalise─▶ the model
///     the model + the labelled objects box has ─reconcile─▶ create/start/recreate/remove
///
///     loader.cpp       the files (discovery, -f, merge), .env, the project's name
///     interpolate.cpp  ${VAR} and its forms in every string of the file
///     model.cpp        each key checked and its short forms made long (the model)
///     order.cpp        the start order that depends_on makes
///     service.cpp      a service as chapter 4's ContainerRequest; its config hash
///     up.cpp           up and down: the reconcile over labelled objects
///     commands.cpp     `box compose ...` (and `box-compose`)
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "box/dotenv.hpp"
#include "box/request.hpp"
#include "logs.hpp"
#include "stage4.hpp"

namespace box::stage8 {

using json = nlohmann::json;  ///< the JSON type box uses

/// docker compose's labels, on every object a project makes.
namespace label {
inline constexpr const char* kProject = "com.docker.compose.project";             ///< the project's name
inline constexpr const char* kService = "com.docker.compose.service";             ///< a container's service
inline constexpr const char* kNumber = "com.docker.compose.container-number";     ///< 1, 2, ... within its service
inline constexpr const char* kOneoff = "com.docker.compose.oneoff";               ///< "True" for `compose run`'s
inline constexpr const char* kConfigHash = "com.docker.compose.config-hash";      ///< config_hash() of its service
inline constexpr const char* kWorkingDir = "com.docker.compose.project.working_dir";     ///< the project directory
inline constexpr const char* kConfigFiles = "com.docker.compose.project.config_files";   ///< the files, comma-separated
inline constexpr const char* kNetwork = "com.docker.compose.network";             ///< a network's key in the file
inline constexpr const char* kVolume = "com.docker.compose.volume";               ///< a volume's key in the file
inline constexpr const char* kVersion = "com.docker.compose.version";             ///< the compose that made it
}  // namespace label

/// The object `j[key]`, or an empty object if `j` has none: a reference that
/// outlives the expression (json::value() returns a copy, and a loop over
/// the items() of a temporary reads freed memory).
inline const json& member(const json& j, const std::string& key) {
    static const json empty = json::object();
    auto it = j.find(key);
    return it != j.end() && it->is_object() ? *it : empty;
}

/// Container `c`'s label `key` (label::...), or "".
inline std::string label_of(const stage4::Container& c, const std::string& key) {
    auto it = c.request.Config.Labels.find(key);
    return it == c.request.Config.Labels.end() ? "" : it->second;
}

// ---- interpolation (interpolate.cpp) ----------------------------------------

/// Exercise 3: `text` with every variable reference replaced, as the Compose
/// specification says: `$$` is one `$`; `$NAME` and `${NAME}` its value
/// (NAME: a letter or `_`, then letters, digits, `_`); `${NAME:-word}` word if
/// NAME is unset or empty, `${NAME-word}` if unset; `${NAME:+word}` word if
/// NAME is set and not empty, else "", `${NAME+word}` if set; `${NAME:?msg}`
/// throws box::Error `required variable NAME is missing a value: msg` if unset
/// or empty, `${NAME?msg}` if unset. A word may hold references of its own.
/// An unset NAME referenced without an operator (`$NAME`, `${NAME}`) is ""
/// and adds its name to `unset`, at each such reference (the caller warns
/// once per name); the operator forms add nothing. Anything else after `$`
/// (a `$` alone, `${}`, an unclosed `${`, a `:` with no operator after it)
/// throws `Invalid template: "TEXT"`, TEXT the whole text given.
std::string interpolate(const std::string& text, const EnvLookup& lookup, std::vector<std::string>& unset);

/// `doc` with interpolate() applied to every string value (keys stay as
/// written); an error names the value's path ("services.web.image").
json interpolate_all(const json& doc, const EnvLookup& lookup, std::vector<std::string>& unset);

// ---- the model (model.cpp) -----------------------------------------------------

/// One Compose file's document, checked and in its long forms: every key
/// known (an unknown one, a wrong type or a key box does not support yet is
/// a box::Error naming its path and line), `build: .` an object with an
/// absolute context, ports, volumes, networks, depends_on, environment,
/// labels... each in one shape. `dir` is the project directory (relative
/// paths are from there); `lines` (from yaml_to_json) are for messages.
/// `env_file` is only listed (path, required): load_project() reads the files.
/// Not `interpolated` (config --no-interpolate), a string value holding a
/// `$` is kept as written where a typed value or a form would be checked.
json normalise(const json& doc, const std::string& source, const std::string& dir,
               const std::map<std::string, int>& lines, std::vector<std::string>& warnings, bool interpolated = true);

/// Merges `over` (a later -f file, normalised) into `base` as the Compose
/// specification says: mappings key by key, a service's command, entrypoint
/// and healthcheck test replaced, its ports, volumes (by target), and other
/// lists added to.
void merge_models(json& base, const json& over);

// ---- the project (loader.cpp) ------------------------------------------------

/// What `box compose`'s global flags ask for.
struct LoadOptions {
    std::vector<std::string> files;      ///< -f, in order ("-": stdin); none: discovery
    std::string project_name;            ///< -p
    std::string project_directory;       ///< --project-directory
    std::vector<std::string> env_files;  ///< --env-file (instead of PROJECT_DIR/.env)
    std::vector<std::string> profiles;   ///< --profile (and COMPOSE_PROFILES)
    std::string cwd;                     ///< where discovery starts ("": the working directory)
    bool interpolate = true;             ///< false: `${VAR}` kept as written (config --no-interpolate)
};

/// A loaded project: what every compose command works on.
struct Project {
    std::string name;                        ///< normalised as compose-go does
    std::string dir;                         ///< the project directory (absolute)
    std::vector<std::string> files;          ///< the Compose files read, absolute
    json model;                              ///< name, services, networks, volumes: normalised and merged
    std::map<std::string, std::string> env;  ///< the variables interpolation used (.env, then the shell's)
};

/// Reads the project the options name: finds the files (compose.yaml,
/// compose.yml, docker-compose.yaml, docker-compose.yml in the directory or
/// its parents, with their override file), reads .env (or --env-file, or
/// COMPOSE_ENV_FILES: each file seeing the shell's variables, then the files'
/// before it), interpolates, checks and normalises each file, merges them,
/// reads each service's env_file into its environment (as compose-go does
/// after its merge), and works out the name (-p > COMPOSE_PROJECT_NAME >
/// `name:`, normalised > the directory's name). Services of profiles not
/// enabled are left out. Warnings go to stderr. Throws box::Error.
Project load_project(const LoadOptions& options);

/// compose-go's normalisation of a project name: lower case, only
/// [a-z0-9_-], no leading `_` or `-`.
std::string normalise_project_name(const std::string& name);

// ---- the start order (order.cpp) -----------------------------------------------

/// Exercise 1: the services of `services` (the model's, each with a
/// long-form `depends_on` map) ordered so that every service comes after the
/// ones it depends on; services that do not depend on each other keep their
/// names' order. A dependency that is not a service throws box::Error
/// `service "A" depends on undefined service "B"` (unless its `required` is
/// false: then it is ignored); a cycle throws `dependency cycle detected: A
/// -> B -> A`: the walk's path from the service met again, then that service.
std::vector<std::string> start_order(const json& services);

// ---- a service's containers (service.cpp) --------------------------------------

/// Exercise 2: the config hash of service `service` (the model's): a SHA-256,
/// in hex, of its JSON with what does not change a container left out
/// (`build`, `pull_policy`, `scale`, `deploy.replicas`), so that an up
/// recreates exactly the containers whose service changed.
std::string config_hash(const json& service);

/// Exercise 4: whether up must make a new container for existing `c` of a service whose
/// config hash is now `hash`: its hash label differs or `force` (--force-recreate),
/// unless `never` (--no-recreate).
bool needs_recreate(const stage4::Container& c, const std::string& hash, bool force, bool never);

/// The image service `name` runs: its `image`, or for a build without one
/// PROJECT-SERVICE (docker compose's name for what it builds).
std::string service_image(const Project& p, const std::string& name);

/// The name of container `number` of service `name`: container_name, or PROJECT-SERVICE-N.
std::string container_name(const Project& p, const std::string& name, int number);

/// Advanced exercise 5: the request for container `number` of service `name`: chapter 4's
/// ContainerRequest with everything the model says (command, environment,
/// ports, volumes with the project's volume names, networks with the
/// service's name and aliases, health check, limits, ...) and compose's labels.
ContainerRequest service_request(const Project& p, const std::string& name, int number);

/// The name of network `key` of the project on box (`name:`, or PROJECT_KEY).
std::string network_name(const Project& p, const std::string& key);
/// The name of volume `key` of the project on box (`name:`, or PROJECT_KEY).
std::string volume_name(const Project& p, const std::string& key);

// ---- up and down (up.cpp) --------------------------------------------------------

/// `compose up`'s flags.
struct UpOptions {
    bool detach = false;                      ///< -d
    bool build = false;                       ///< --build: build before starting
    bool no_build = false;                    ///< --no-build
    bool force_recreate = false;              ///< --force-recreate
    bool no_recreate = false;                 ///< --no-recreate
    bool no_start = false;                    ///< --no-start: create only
    bool remove_orphans = false;              ///< --remove-orphans
    bool abort_on_exit = false;               ///< --abort-on-container-exit
    std::string exit_code_from;               ///< --exit-code-from SERVICE
    bool wait = false;                        ///< --wait: until running (healthy, if checked)
    std::optional<int> timeout;               ///< -t: stop's grace time when recreating
    std::map<std::string, int> scale;         ///< --scale SERVICE=N
    std::vector<std::string> services;        ///< only these (and what they depend on)
};

/// `compose down`'s flags.
struct DownOptions {
    bool volumes = false;         ///< -v: the project's named volumes and anonymous ones too
    std::string rmi;              ///< --rmi local|all
    bool remove_orphans = false;  ///< --remove-orphans
    std::optional<int> timeout;   ///< -t
};

/// The project's containers (its label), services' order unknown: newest first.
/// `oneoff`: compose run's too.
std::vector<stage4::Container> project_containers(const std::string& project, bool oneoff = false);

/// Builds service `name`'s image from its `build` section (named
/// service_image()), showing the build's compact view on stderr.
void build_image(const Project& p, const std::string& name);

/// What the containers of `services` need before they are made: the
/// project's networks they are on and its volumes (made if missing), and
/// their images (built or pulled as up's `o` says).
void prepare(const Project& p, const std::vector<std::string>& services, const UpOptions& o);

/// Brings the project up as `o` asks: its networks and volumes, images
/// (pulled or built), then each service's containers in start order —
/// created, recreated or started as the reconcile decides, each service only
/// once the conditions of its depends_on hold. Reports each step on stderr
/// as docker compose does (` Container p-web-1  Started`). Without -d, then
/// shows the containers' output until they end; returns the exit status
/// (--exit-code-from's, else 0). Throws box::Error.
int up(const Project& p, const UpOptions& o);

/// Shows what `containers` write, each line prefixed with the container's
/// name without the project's (`web-1  | `; coloured on a terminal), while
/// each has lines for `query` (following them with query.follow), with
/// their times if `timestamps`. For `up` (`up` given): reports each exit
/// (`web-1 exited with code 3`), stops them all on Ctrl-C, or at the first
/// exit with --abort-on-container-exit / --exit-code-from; returns
/// --exit-code-from's service's status, else 0.
int show_logs(const Project& p, const std::vector<stage4::Container>& containers, const stage4::LogQuery& query,
              bool timestamps, const UpOptions* up = nullptr);

/// Stops and removes the project's containers (dependants first), its
/// networks, and with -v its volumes; with --rmi its images. Objects of the
/// project that the file no longer names go too (its containers only with --remove-orphans).
void down(const Project& p, const DownOptions& o);

// ---- the command (commands.cpp) -------------------------------------------------

/// Registers `box compose` (and its commands).
void register_commands();

}  // namespace box::stage8
