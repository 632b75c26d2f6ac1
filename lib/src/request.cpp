#include "box/request.hpp"

#include "box/error.hpp"
#include "box/extension.hpp"

namespace box {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestHealthcheck, Test, Interval, Timeout, StartPeriod,
                                                StartInterval, Retries)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestConfig, Hostname, User, WorkingDir, Image, Env, Cmd, Tty,
                                                OpenStdin, Entrypoint, Labels, ExposedPorts, Healthcheck,
                                                StopSignal, StopTimeout)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestRestartPolicy, Name, MaximumRetryCount)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestUlimit, Name, Soft, Hard)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestDevice, PathOnHost, PathInContainer, CgroupPermissions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestPortBinding, HostIp, HostPort)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestVolumeOptions, NoCopy)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestTmpfsOptions, SizeBytes, Mode)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestMount, Type, Source, Target, ReadOnly, VolumeOptions, TmpfsOptions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestIPAMConfig, IPv4Address)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestEndpoint, Aliases, IPAMConfig)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestNetworkingConfig, EndpointsConfig)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RequestHostConfig, NetworkMode, PortBindings, PublishAllPorts, Dns,
                                                DnsSearch, DnsOptions, ExtraHosts, Links, Binds, Mounts, VolumesFrom, AutoRemove, Init,
                                                Sysctls, RestartPolicy,
                                                Memory, MemorySwap, NanoCpus, CpuShares, CpusetCpus, PidsLimit,
                                                CapAdd, CapDrop, Privileged, SecurityOpt, ReadonlyRootfs, Tmpfs,
                                                Ulimits, Devices, BoxRootfs, BoxUserns, BoxStats, BoxLayers)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerRequest, Name, Config, HostConfig, NetworkingConfig)

nlohmann::json request_to_json(const ContainerRequest& request) { return request; }

ContainerRequest request_from_json(const nlohmann::json& j) { return json_as<ContainerRequest>(j, "container request"); }

namespace {
std::vector<RequestReader>& readers() {
    static std::vector<RequestReader> all;
    return all;
}
}  // namespace

void add_request_reader(RequestReader reader) { readers().push_back(std::move(reader)); }

ContainerSpec spec_from_request(const ContainerRequest& request) {
    ContainerSpec spec;
    for (const auto& read : readers()) read(request, spec);
    prepare_spec(spec);
    return spec;
}

}  // namespace box
