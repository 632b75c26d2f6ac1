/// @file stage4.hpp
/// @brief Chapter 4: containers that outlive the command that started them —
/// a store of containers with ids, names and state; a small supervisor (the
/// shim) per running container; and the commands that list, enter, stop,
/// commit and remove them.
#pragma once

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "box/record_store.hpp"
#include "box/request.hpp"
#include "box/spec.hpp"

namespace box::stage4 {

using json = nlohmann::json;  ///< the JSON type box uses

/// Where a container is in its life (docker's State.Status).
enum class Status { Created, Running, Paused, Restarting, Exited };
/// docker's word for `status`: "created", "running", "paused", "restarting", "exited".
std::string to_string(Status status);
/// The status docker's word `text` names; throws box::Error for another word.
Status parse_status(const std::string& text);

/// --restart, parsed once (docker's RestartPolicy).
struct RestartPolicy {
    /// The policies docker has.
    enum class Name { No, Always, UnlessStopped, OnFailure };
    Name name = Name::No;  ///< which policy
    int max_retries = 0;   ///< on-failure:N; 0 means no limit
    /// Parses `no`, `always`, `unless-stopped`, `on-failure[:N]`; throws box::Error.
    static RestartPolicy parse(const std::string& text);
    /// As typed: "on-failure:3", "always"...
    std::string text() const;
    /// docker's RestartPolicy.Name: "no", "always", "unless-stopped", "on-failure".
    std::string docker_name() const;
    /// Whether a container that ended with exit status `status`, after
    /// `restarts` restarts so far, starts again (the caller rules out stop/kill).
    bool restarts(int status, int restarts) const;
};

/// What state.json holds: docker's State fields.
struct ContainerState {
    Status status = Status::Created;  ///< where it is in its life
    pid_t pid = 0;                   ///< the container's first process, while it runs (host PID)
    long long pid_start = 0;         ///< its start time (/proc/PID/stat): signal_container() checks it
    pid_t supervisor = 0;            ///< the shim (or foreground box) that waits for it
    long long supervisor_start = 0;  ///< its start time (/proc/PID/stat), to tell a reused PID apart
    int exit_code = 0;               ///< its command's exit status (128+N if killed by signal N)
    bool oom_killed = false;         ///< the OOM killer killed a process of it
    bool stopped_by_user = false;    ///< `stop`/`kill` ended it: no restart (docker's rule)
    int restart_count = 0;           ///< how often --restart started it again
    std::string error;               ///< why it could not start, if it could not
    json extensions = json::object();  ///< what its extensions recorded at start ({name: record}), to adopt them
    std::string started_at = "0001-01-01T00:00:00Z";   ///< RFC 3339; docker's zero time if never
    std::string finished_at = "0001-01-01T00:00:00Z";  ///< RFC 3339; docker's zero time if never
};

/// One container: what it was created with, and what it is doing.
struct Container {
    std::string id;       ///< 64 hex digits
    std::string name;     ///< without docker's leading "/"
    std::string created;  ///< RFC 3339
    std::string dir;      ///< STATE/containers/ID
    ContainerSpec spec;   ///< how to start it (stage 1-3's spec, rootfs the overlay's merged dir)
    ContainerRequest request;  ///< what was asked for, in docker's shape (empty in records of earlier boxes)
    std::string image_id;  ///< the id of the image it runs (empty with --rootfs)
    RestartPolicy restart;       ///< --restart
    bool auto_remove = false;    ///< --rm
    ContainerState state;  ///< from state.json (repaired if its supervisor is gone)

    /// Running or restarting: a supervisor is responsible for it.
    bool running() const {
        return state.status == Status::Running || state.status == Status::Restarting || state.status == Status::Paused;
    }
    /// docker ps's STATUS column: "Up 3 minutes", "Exited (0) 5 seconds ago", "Created".
    std::string status_text() const;
};

/// The containers under STATE/containers/ID/: config.json (the spec and
/// options), state.json (from its first start on), container.log, and the
/// overlay's upper/work/merged — a RecordStore of lib's, so every change
/// happens under one lock and every file is replaced atomically.
class ContainerStore {
public:
    /// The store under state root `root`.
    explicit ContainerStore(std::string root);
    /// STATE/containers
    const std::string& dir() const { return records_.dir(); }
    /// STATE/container-names: a symlink NAME -> ID per container
    const std::string& names_dir() const { return records_.names_dir(); }
    /// Records a new container for `spec` (its id is the spec's), asked for
    /// by `request` (its Name, AutoRemove; `restart` its policy, parsed).
    /// Throws box::Error if the name is taken or malformed; an empty name gets
    /// a generated one (adjective_surname, as docker's).
    Container create(const ContainerSpec& spec, const ContainerRequest& request, const std::string& image_id,
                     const RestartPolicy& restart);
    /// A container by full id, unique id prefix, or name; throws box::Error
    /// "No such container: REF" (or an ambiguous-prefix error).
    Container find(const std::string& ref) const;
    /// Every container, newest first. A container marked running whose
    /// supervisor is gone (box was killed) is reported as exited.
    std::vector<Container> list() const;
    /// Writes the container's state.json.
    void save_state(const Container& c) const;
    /// Rewrites what container `id` was created with — its request and its
    /// spec, as `change` leaves them — under the store's lock (chapter 7's
    /// `network connect` adds a network to both).
    void update_config(const std::string& id, const std::function<void(ContainerRequest&, ContainerSpec&)>& change) const;
    /// Renames a container; throws box::Error if the new name is taken.
    void rename(const Container& c, const std::string& name) const;
    /// Removes the container's directory (it must not be running).
    void remove(const Container& c) const;
    /// Removes what a create or rm cut short left: directories without
    /// config.json, names whose container is gone.
    void repair() const { records_.repair(); }

private:
    Container load(const std::string& id) const;
    RecordStore records_;  // lib's store: lock, atomic records, name index, repair
};

/// True if process `pid` exists, has not ended (a zombie has) and started at
/// `start` (see process_start_time).
bool process_alive(pid_t pid, long long start);
/// True if process `pid` exists and has not ended (a zombie has).
bool process_running(pid_t pid);
/// The start time of process `pid` (field 22 of /proc/PID/stat), or 0.
long long process_start_time(pid_t pid);
/// Exercise 12 (advanced): corrects the state of a container loaded from
/// disk whose supervisor is gone (see chapter 4, exercise 12).
void repair_orphaned(Container& c);

/// Exercise 1 (in shim.cpp): the shim's reap-and-record loop.

/// Exercise 2: joins the namespaces of process `pid` (a container's first
/// process) — user (if it has its own), ipc, uts, net, pid, cgroup, and mount
/// last — so that a child forked afterwards is in the container. Throws
/// box::Error naming the namespace that could not be joined.
void join_namespaces(pid_t pid);

/// One change in a container's writable layer, as `docker diff` shows it.
struct Change {
    char kind;         ///< 'A' added, 'C' changed, 'D' deleted
    std::string path;  ///< absolute, inside the container
};

/// Exercise 3: the changes a container's upper directory `upper` holds over
/// its image's layers `lowers` (bottom first): a whiteout (character device
/// 0/0) is a deletion, a name no layer has is an addition, any other a change;
/// the parents of a change are listed too (overlayfs copied them up, so the
/// walk meets them: nothing to add). Sorted by path (plain string order).
std::vector<Change> upper_changes(const std::string& upper, const std::vector<std::string>& lowers);

/// Registers run's --init and --sysctl, and what they do at a start (first_process.cpp).
void register_first_process();

/// Registers chapter 4's commands and run's -d/--name/--rm/--restart (see
/// cli::define; commands.cpp lists where each one lives).
void register_commands();

/// Adds to what `box inspect` shows of a container: `fill` gets the
/// container and its document, docker's fields (chapter 5 adds its
/// HostConfig fields).
void add_inspect_filler(std::function<void(const Container& c, json& document)> fill);

/// Adds to a row of `box ps`: `fill` gets the container and its row, docker's
/// fields (chapter 7 fills Ports).
void add_ps_filler(std::function<void(const Container& c, json& row)> fill);

}  // namespace box::stage4
