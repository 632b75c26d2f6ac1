// Chapter 4, inside the stage: how containers are started and stopped
// (used by the commands in commands.cpp and exec.cpp).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "box/file_lock.hpp"
#include "box/request.hpp"
#include "box/filters.hpp"
#include "stage4.hpp"

namespace box::stage4 {

/// Waits until container `ref` no longer runs; returns it as it is then
/// (its exit code in state.exit_code).
Container wait_container(const ContainerStore& store, const std::string& ref);

/// docker rm: removes container `ref` (and, with `volumes`, its anonymous
/// volumes); a running one only with `force` (SIGKILL first). Throws box::Error.
void remove_container(const ContainerStore& store, const std::string& ref, bool force, bool volumes);

/// docker container prune: removes every container that does not run and
/// that `filters` (label, label!) keep (and what cut-short creates left);
/// returns their ids.
std::vector<std::string> prune_containers(const Filters& filters = {});

/// Records the container `request` asks for (not started): every stage's
/// fields read and checked (spec_from_request), the image's id and VOLUMEs
/// taken, its volumes made. What `run` and `create` do with their flags, and
/// what a build step or a compose service will do. Throws box::Error and
/// records nothing on bad input (a taken name, a bad policy or volume).
Container create_container(const ContainerRequest& request);

/// The box binary that runs now (/proc/self/exe): what box-shim and a
/// container's health monitor are started from (box-shim lies beside it).
std::string self_path();

/// Starts container `c` under a new box-shim and returns once its command
/// runs; throws box::Error (with the start's exit status) if it cannot start.
/// `attach_socket` (if open) is handed to the shim as an attached box from the
/// first byte on (run -it, start -a): nothing the container writes is missed.
void start_detached(const Container& c, int attach_socket = -1);
/// Where a container's output goes when box reads it: called with each piece
/// as it comes (from a thread of box's, while run_foreground() waits).
using OutputSink = std::function<void(std::string_view)>;

/// Starts container `c` with this box as its supervisor, waits for it, records
/// its end (and removes it with --rm); returns its exit status. The command's
/// stdout and stderr are box's own, or, with `output`, one pipe whose bytes
/// `output` gets in the order written (a build step's; box's fds stay as they are).
int run_foreground(const ContainerStore& store, const Container& c, const OutputSink& output = {});
/// `box __start ID`, run by the shim: starts the container, records it as
/// running, sends "P<pid>" (and the terminal) over `control_fd`, and exits,
/// leaving the container to the shim.
int start_helper(const std::string& id, int control_fd);
/// `box __cleanup ID WAIT-STATUS`, run by the shim once the container ended:
/// removes its cgroup, records the end; returns 3 if --restart says to start
/// it again, else 0 (and removes it, with --rm).
int cleanup_helper(const std::string& id, int wait_status);
/// docker stop: the container's stop signal (Config.StopSignal, else SIGTERM),
/// SIGKILL after `grace` seconds (0: SIGKILL at once; -1: no limit; none: the
/// container's Config.StopTimeout, else 10); returns once the end is recorded.
/// No restart follows.
void stop_container(const ContainerStore& store, const std::string& ref, std::optional<int> grace = std::nullopt);

/// The signal `text` names: KILL, SIGKILL, 9; throws box::Error "Invalid signal: TEXT".
int parse_signal(const std::string& text);

/// Sends `sig` to container `c`'s first process, the one way box signals a
/// container: only while `c` runs and that PID is still its process (same
/// start time: not a process that took the PID since). Returns false if it
/// is not; throws box::Error for a bad signal or another failure of kill().
bool signal_container(const Container& c, int sig);
/// For a container that does not run: removes what a killed box may have
/// left of it (its cgroup) and keeps the state find() repaired.
void clean_up_leftovers(const ContainerStore& store, const Container& c);

/// The lock a start holds on container `c` until it runs; `rm` and `prune` take
/// it before they judge whether the container runs, so they never remove one
/// that is starting.
FileLock starting_lock(const Container& c);
/// Sets container `c`'s status (pause/unpause: Paused, Running).
void set_status(const ContainerStore& store, const Container& c, Status status);
/// Records whether `stop`/`kill` ended container `c` (then --restart does not apply).
void update_stopped_by_user(const ContainerStore& store, const Container& c, bool stopped);

/// Registers run's -d/--name/--rm/--restart/-v/--mount/--volumes-from/-l/
/// --label-file/--stop-signal/--stop-timeout/--detach-keys, `create`,
/// `start`, `stop`, `restart`, `kill`, `wait`, `rm`, `container prune`, and
/// the shim's `__start` and `__cleanup`.
void register_lifecycle_commands();

}  // namespace box::stage4
