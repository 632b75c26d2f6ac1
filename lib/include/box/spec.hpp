/// @file spec.hpp
/// @brief ContainerSpec: everything `box run` was asked for, before anything is done.
///
/// The command line is parsed into a ContainerSpec first; the stages then turn
/// the spec into kernel objects. Later stages add their fields here (limits,
/// image, ports...), so a spec always describes a whole container.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "box/error.hpp"

namespace nlohmann {
/// std::optional fields as JSON: null when empty (records of box's specs).
template <typename T>
struct adl_serializer<std::optional<T>> {
    /// Writes the value, or null.
    static void to_json(json& j, const std::optional<T>& v) {
        if (v) j = *v;
        else j = nullptr;
    }
    /// Reads null as empty, anything else as a T.
    static void from_json(const json& j, std::optional<T>& v) {
        if (j.is_null()) v.reset();
        else v = j.get<T>();
    }
};
}  // namespace nlohmann

namespace box {

/// One line of /proc/PID/uid_map or gid_map: ids [inside, inside+count) in
/// the new user namespace are ids [outside, outside+count) outside it.
struct IdMapping {
    std::uint32_t inside = 0;   ///< first id in the new namespace
    std::uint32_t outside = 0;  ///< the id it is outside
    std::uint32_t count = 0;    ///< how many consecutive ids
};

/// What network namespace the container gets.
enum class NetworkMode {
    None,    ///< a new, empty network namespace with only `lo`, brought up
    Host,    ///< the host's own network namespace (no isolation)
    Bridge,  ///< chapter 7: a new one with `lo` and an `eth0` on a bridge network (NetworkSpec::name)
    Container,  ///< chapter 7: another container's (NetworkSpec::name is container:NAME)
};

/// A container's port published on the host (chapter 7: -p, -P).
struct PortMapping {
    std::string host_ip;     ///< the host address it is published on ("": all of them)
    int host_port = 0;       ///< the host's port (0: a free one is chosen at start)
    int container_port = 0;  ///< the container's port
    std::string protocol = "tcp";  ///< tcp or udp
};

void to_json(nlohmann::json& j, const PortMapping& p);    ///< {host_ip, host_port, container_port, protocol}
void from_json(const nlohmann::json& j, PortMapping& p);  ///< see to_json()

/// Chapter 7: one more network a container is on, beyond its --network's: an
/// entry of the request's EndpointsConfig (`network connect` adds one).
struct NetworkAttachment {
    std::string name;                  ///< the network's name or id
    std::vector<std::string> aliases;  ///< its names there (--alias of network connect)
    std::string ip;                    ///< its address there ("": the first free one)
};

/// Chapter 7: the network a container joins, and what it is known as there.
struct NetworkSpec {
    /// --network as given, when not none or host: "bridge" (the default
    /// network), a user network's name or id, or container:NAME
    std::string name;
    std::vector<std::string> aliases;      ///< --network-alias: more names peers resolve it by
    std::vector<PortMapping> ports;        ///< -p, then -P's (the image's EXPOSEd ports)
    bool publish_all = false;              ///< -P: every port the image EXPOSEs, on a free host port
    std::vector<std::string> dns;          ///< --dns: name servers for /etc/resolv.conf
    std::vector<std::string> dns_search;   ///< --dns-search
    std::vector<std::string> dns_options;  ///< --dns-option
    std::vector<std::string> extra_hosts;  ///< --add-host NAME:IP
    std::vector<std::string> links;        ///< --link NAME[:ALIAS] (the default bridge only)
    std::string ip;                        ///< --ip: eth0's address on a user network ("": the first free one)
    std::vector<NetworkAttachment> more;   ///< its other networks, eth1, eth2... at every start
};

/// Resource limits (chapter 2), in docker's terms; an empty value sets nothing.
struct ResourceLimits {
    std::optional<std::int64_t> memory;       ///< -m: bytes of memory (cgroup memory.max)
    std::optional<std::int64_t> memory_swap;  ///< --memory-swap: memory+swap bytes, -1 unlimited
    std::optional<double> cpus;               ///< --cpus: CPUs' worth of time per period
    std::optional<std::uint64_t> cpu_shares;  ///< --cpu-shares: relative weight (v1 scale, 2..262144)
    std::string cpuset_cpus;                  ///< --cpuset-cpus: CPUs allowed, e.g. "0-1" or "0,2"
    std::optional<std::int64_t> pids;         ///< --pids-limit: most processes, -1 unlimited

    /// True if any limit was asked for.
    bool any() const {
        return memory || memory_swap || cpus || cpu_shares || !cpuset_cpus.empty() || pids;
    }
};

/// A host directory mounted into the container (chapter 4: `-v`).
struct VolumeMount {
    std::string type;         ///< "bind" (a host path), "volume" (a named or anonymous volume) or "tmpfs" (--mount)
    std::string name;         ///< the volume's name (empty for a bind)
    std::string source;       ///< host directory (empty for a tmpfs)
    std::string destination;  ///< absolute path inside the container
    bool readonly = false;    ///< `:ro`
    std::string options;      ///< a tmpfs's mount options: "size=65536,mode=1777"
};

/// A resource limit of the container's processes (chapter 5: `--ulimit`), as setrlimit(2) takes it.
struct Ulimit {
    std::string name;       ///< docker's name: nofile, nproc, core, stack, ... (RLIMIT_ without the prefix, lower case)
    std::int64_t soft = 0;  ///< soft limit (-1: unlimited)
    std::int64_t hard = 0;  ///< hard limit (-1: unlimited)
};

/// A host device made available in the container (chapter 5: `--device`).
struct DeviceMapping {
    std::string host;                 ///< its path on the host, e.g. /dev/fuse
    std::string container;            ///< its path in the container (default: the same)
    std::string permissions = "rwm";  ///< what the devices cgroup allows: r read, w write, m mknod
};

/// What the container's processes may do (chapter 5); the defaults are docker's.
struct SecuritySpec {
    bool privileged = false;            ///< --privileged: every capability, no seccomp, no masks, all devices
    std::vector<std::string> cap_add;   ///< --cap-add, as given (CAP_ optional, ALL)
    std::vector<std::string> cap_drop;  ///< --cap-drop, as given
    bool no_new_privileges = false;     ///< --security-opt no-new-privileges
    /// --security-opt seccomp=: "" box's default profile, "unconfined" none,
    /// else a profile's JSON text (read from the file when asked: the
    /// container keeps working if the file goes).
    std::string seccomp;
    bool read_only = false;                     ///< --read-only: the root filesystem mounted read-only
    std::map<std::string, std::string> tmpfs;  ///< --tmpfs PATH[:OPTIONS]: path → mount options
    std::vector<Ulimit> ulimits;                ///< --ulimit NAME=SOFT[:HARD]
    std::vector<DeviceMapping> devices;         ///< --device HOST[:CONTAINER[:PERMS]]
};

/// Everything `box run` was asked for.
struct ContainerSpec {
    std::string id;                 ///< 64 hex digits, new for every container
    std::string rootfs;             ///< host path of the root filesystem
    std::vector<std::string> args;  ///< the command and its arguments
    /// chapter 3: --entrypoint, which replaces the image's Entrypoint and Cmd (unset: the image's)
    std::optional<std::vector<std::string>> entrypoint;
    std::vector<std::string> env;   ///< KEY=VALUE from -e, in the order given
    std::string hostname;           ///< never empty once parsed
    std::string workdir;            ///< absolute path inside; empty means "/"
    std::string user;               ///< -u as given (`uid`, `name`, `uid:gid`...); empty: root
    bool interactive = false;       ///< -i: keep stdin open
    bool tty = false;               ///< -t: give the command a pseudo-terminal
    NetworkMode network = NetworkMode::None;  ///< --network none|host
    bool userns = false;            ///< --userns: a new user namespace
    IdMapping uid_map{0, 100000, 65536};  ///< used with --userns
    IdMapping gid_map{0, 100000, 65536};  ///< used with --userns
    ResourceLimits limits;          ///< chapter 2: -m, --cpus, --pids-limit, ...
    std::string image;              ///< chapter 3: the image it runs (empty with --rootfs)
    std::vector<std::string> layers;  ///< chapter 3: the image's layer directories, bottom first
    bool rootfs_made_later = false;   ///< chapter 3: rootfs is an overlay, made at start
    bool print_stats = false;       ///< chapter 2: --stats, resource use when it ends
    std::vector<VolumeMount> mounts;  ///< chapter 4: -v, and the image's VOLUMEs
    bool keep_rootfs = false;       ///< chapter 4: the container is kept: its writable layer outlives a run
    bool init = false;              ///< chapter 4: --init, box's init as PID 1 (sys::exec_as_init)
    std::map<std::string, std::string> sysctls;  ///< chapter 4: --sysctl, namespaced kernel parameters
    /// chapter 4: a descriptor of box's that becomes the command's stdout and
    /// stderr (a build step's pipe), -1 for box's own; never stored
    int output_fd = -1;
    SecuritySpec security;          ///< chapter 5: capabilities, seccomp, masks, devices, ...
    NetworkSpec net;                ///< chapter 7: the network, ports, names (with NetworkMode::Bridge)
};

/// The spec as JSON, to keep with a container (chapter 4), and back.
nlohmann::json spec_to_json(const ContainerSpec& spec);
/// Reads what spec_to_json() wrote, by this or an earlier box: a missing
/// field keeps its default, an unknown one is ignored. Throws box::Error if
/// a field has the wrong type or `j` is not an object.
ContainerSpec spec_from_json(const nlohmann::json& j);

/// `j` read as a T with nlohmann's from_json (records of box's own types);
/// throws box::Error naming `what` if `j` is not an object or a field has the
/// wrong type.
template <typename T>
T json_as(const nlohmann::json& j, const std::string& what) {
    if (!j.is_object()) throw Error(what, "not a JSON object");
    try {
        return j.get<T>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(what, e.what());
    }
}

/// Parses `HOSTID[:COUNT]` (e.g. `100000:65536`) into a mapping of inside id 0.
/// Throws box::Error on anything else.
IdMapping parse_id_range(const std::string& text);

/// The path a command will look up: PATH as docker sets it.
inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

}  // namespace box
