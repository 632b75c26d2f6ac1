/// @file request.hpp
/// @brief ContainerRequest: a container as docker's API asks for one — a
/// name, a Config and a HostConfig, in docker's field names.
///
/// `run` and `create` turn their flags into one (each stage fills the fields
/// of its flags); chapter 6's RUN steps and chapter 8's services will fill one
/// in directly. Each stage registers a *reader* that copies its fields into
/// the ContainerSpec the kernel-facing code works from; spec_from_request()
/// runs them and then the spec preparers, which check every field however the
/// request was made. Fields box has and docker has not (a --rootfs directory,
/// a user namespace range, --stats) carry box's own names.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "box/spec.hpp"

namespace box {

/// docker's HealthConfig: a container's health check (chapter 4). Durations in
/// nanoseconds; 0 means "the image's, else docker's default" (30 s, 30 s, 0 s;
/// Retries 0: 3).
struct RequestHealthcheck {
    /// ["CMD", args...], ["CMD-SHELL", "command"], ["NONE"] (no check), or []
    /// (the image's test)
    std::vector<std::string> Test;
    std::int64_t Interval = 0;     ///< --health-interval: from one probe's end to the next's start
    std::int64_t Timeout = 0;      ///< --health-timeout: a probe still running then is killed, a failure
    std::int64_t StartPeriod = 0;  ///< --health-start-period: failures then do not count, until a success
    std::int64_t StartInterval = 0;  ///< (docker 25's --health-start-interval: kept, not used)
    int Retries = 0;               ///< --health-retries: failures in a row that make it unhealthy
};

/// RequestHealthcheck as docker's JSON (an image config's Healthcheck too), and back.
void to_json(nlohmann::json& j, const RequestHealthcheck& h);
/// See to_json(); missing fields keep their defaults.
void from_json(const nlohmann::json& j, RequestHealthcheck& h);

/// docker's Config: what runs, and how (the image's defaults fill what is empty).
struct RequestConfig {
    std::string Hostname;          ///< -h (empty: the short id)
    std::string User;              ///< -u as given
    std::string WorkingDir;        ///< -w
    std::string Image;             ///< the image it runs (empty with HostConfig.Rootfs)
    std::vector<std::string> Env;  ///< KEY=VALUE, over the image's Env
    std::vector<std::string> Cmd;  ///< the command (empty: the image's Cmd)
    /// --entrypoint: set, it replaces the image's Entrypoint and its Cmd ([]: none)
    std::optional<std::vector<std::string>> Entrypoint;
    bool Tty = false;              ///< -t
    bool OpenStdin = false;        ///< -i
    /// --label, --label-file; at create the image's labels are added under them
    std::map<std::string, std::string> Labels;
    /// chapter 7: --expose and -p's container ports, "PORT/PROTO" → {}; at create the image's are added
    std::map<std::string, nlohmann::json> ExposedPorts;
    /// --health-*, --no-healthcheck; at create the image's fills what is unset
    std::optional<RequestHealthcheck> Healthcheck;
    /// --stop-signal: what `stop` sends first ("" : the image's STOPSIGNAL, else SIGTERM)
    std::string StopSignal;
    /// --stop-timeout: seconds `stop` waits before SIGKILL when not told (none: 10; -1: no limit)
    std::optional<int> StopTimeout;
};

/// docker's RestartPolicy.
struct RequestRestartPolicy {
    std::string Name = "no";    ///< no, always, unless-stopped, on-failure
    int MaximumRetryCount = 0;  ///< on-failure:N
};

/// docker's Ulimit: one of HostConfig.Ulimits.
struct RequestUlimit {
    std::string Name;      ///< nofile, nproc, ...
    std::int64_t Soft = 0;  ///< soft limit
    std::int64_t Hard = 0;  ///< hard limit
};

/// docker's DeviceMapping: one of HostConfig.Devices.
struct RequestDevice {
    std::string PathOnHost;               ///< e.g. /dev/fuse
    std::string PathInContainer;          ///< where it appears (default: PathOnHost)
    std::string CgroupPermissions = "rwm";  ///< r, w, m
};

/// docker's mount.VolumeOptions (of a --mount type=volume).
struct RequestVolumeOptions {
    bool NoCopy = false;  ///< volume-nocopy (box never copies the image's files into a volume)
};
/// docker's mount.TmpfsOptions (of a --mount type=tmpfs).
struct RequestTmpfsOptions {
    std::int64_t SizeBytes = 0;  ///< tmpfs-size (0: the kernel's default, half the memory)
    std::uint32_t Mode = 0;      ///< tmpfs-mode, e.g. 01777 (0: the kernel's default)
};
/// docker's mount.Mount: one of HostConfig.Mounts (--mount).
struct RequestMount {
    std::string Type = "volume";  ///< bind, volume or tmpfs
    std::string Source;  ///< bind: a host path (it must exist); volume: its name ("": a new anonymous one)
    std::string Target;  ///< the absolute path in the container
    bool ReadOnly = false;  ///< readonly / ro
    RequestVolumeOptions VolumeOptions;  ///< type=volume's
    RequestTmpfsOptions TmpfsOptions;    ///< type=tmpfs's
};

/// docker's PortBinding: where one container port is published.
struct RequestPortBinding {
    std::string HostIp;    ///< "" (every address of the host) or one address
    std::string HostPort;  ///< "" (a free one, chosen at start) or a number
};
/// docker's EndpointIPAMConfig: the address a container asks for on a network.
struct RequestIPAMConfig {
    std::string IPv4Address;  ///< --ip ("": the first free one)
};
/// docker's EndpointSettings, as a request gives them: a container on one network.
struct RequestEndpoint {
    std::vector<std::string> Aliases;  ///< --network-alias
    RequestIPAMConfig IPAMConfig;      ///< --ip
};
/// docker's NetworkingConfig.
struct RequestNetworkingConfig {
    /// By network name: its --network's, and every other network it is on
    /// (chapter 7: each an endpoint at every start; `network connect` adds one)
    std::map<std::string, RequestEndpoint> EndpointsConfig;
};
/// docker's HostConfig: what the host gives the container.
struct RequestHostConfig {
    /// none or host; chapter 7: "" or "default" (its default, the bridge),
    /// bridge, a network's name, container:NAME
    std::string NetworkMode = "none";
    /// chapter 7: -p, by "PORT/PROTO" of the container; each binding one host port
    std::map<std::string, std::vector<RequestPortBinding>> PortBindings;
    bool PublishAllPorts = false;          ///< chapter 7: -P
    std::vector<std::string> Dns;          ///< chapter 7: --dns
    std::vector<std::string> DnsSearch;    ///< chapter 7: --dns-search
    std::vector<std::string> DnsOptions;   ///< chapter 7: --dns-option
    std::vector<std::string> ExtraHosts;   ///< chapter 7: --add-host NAME:IP
    std::vector<std::string> Links;        ///< chapter 7: --link NAME[:ALIAS]
    std::vector<std::string> Binds;      ///< -v as typed: /host:/path[:ro], NAME:/path[:ro], /path
    std::vector<RequestMount> Mounts;    ///< --mount, parsed
    std::vector<std::string> VolumesFrom;  ///< --volumes-from CONTAINER[:ro|rw]: its mounts too
    bool AutoRemove = false;             ///< --rm
    std::optional<bool> Init;            ///< --init: box's init as the container's PID 1
    std::map<std::string, std::string> Sysctls;  ///< --sysctl K=V: namespaced kernel parameters only
    RequestRestartPolicy RestartPolicy;  ///< --restart
    std::int64_t Memory = 0;             ///< -m, bytes (0: no limit)
    std::int64_t MemorySwap = 0;         ///< --memory-swap, bytes (-1: unlimited swap, 0: unset)
    std::int64_t NanoCpus = 0;           ///< --cpus x 10^9 (0: no limit)
    std::int64_t CpuShares = 0;          ///< --cpu-shares (0: unset)
    std::string CpusetCpus;              ///< --cpuset-cpus
    std::optional<std::int64_t> PidsLimit;  ///< --pids-limit (-1: unlimited)
    std::vector<std::string> CapAdd;     ///< --cap-add
    std::vector<std::string> CapDrop;    ///< --cap-drop
    bool Privileged = false;             ///< --privileged
    /// --security-opt: "no-new-privileges", "seccomp=unconfined", "seccomp=" and a
    /// profile's JSON text (docker's client puts the file's text there, and so does box)
    std::vector<std::string> SecurityOpt;
    bool ReadonlyRootfs = false;                 ///< --read-only
    std::map<std::string, std::string> Tmpfs;   ///< --tmpfs: path → options
    std::vector<RequestUlimit> Ulimits;          ///< --ulimit
    std::vector<RequestDevice> Devices;          ///< --device
    std::string BoxRootfs;               ///< box: --rootfs DIR instead of an image
    std::string BoxUserns;               ///< box: "" no user namespace; "HOSTID:COUNT" (--userns[-range])
    bool BoxStats = false;               ///< box: --stats
    /// box: layer directories (bottom first) to run on instead of an image's:
    /// a build step's container (chapter 6) runs on the image built so far
    std::vector<std::string> BoxLayers;
};

/// A container to create.
struct ContainerRequest {
    std::string Name;               ///< --name ("": a generated one)
    RequestConfig Config;           ///< docker's Config
    RequestHostConfig HostConfig;   ///< docker's HostConfig
    RequestNetworkingConfig NetworkingConfig;  ///< chapter 7: --network-alias
};

/// The request as JSON with docker's names, and back (missing fields keep
/// their defaults, unknown ones are ignored; throws box::Error on a wrong type).
nlohmann::json request_to_json(const ContainerRequest& request);
/// See request_to_json().
ContainerRequest request_from_json(const nlohmann::json& j);

/// Copies a stage's fields of a request into a spec (no checks: the spec
/// preparers check); throws box::Error on a value it cannot read.
using RequestReader = std::function<void(const ContainerRequest&, ContainerSpec&)>;

/// Registers a reader (a stage does it whatever the command).
void add_request_reader(RequestReader reader);

/// The spec `request` describes, ready to create: every reader, then
/// prepare_spec(). Throws box::Error (nothing is made).
ContainerSpec spec_from_request(const ContainerRequest& request);

}  // namespace box
