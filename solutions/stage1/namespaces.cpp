// Chapter 1: the namespaces a container is made of, and the user
// namespace's id maps.
#include <sched.h>
#include <unistd.h>

#include "box/error.hpp"
#include "box/sys.hpp"
#include "stage1.hpp"

namespace box::stage1 {

unsigned long namespace_flags(const ContainerSpec& spec) {
    // BEGIN EXERCISE 1: namespace_flags()
    unsigned long flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC;
    if (spec.network != NetworkMode::Host) flags |= CLONE_NEWNET;
    if (spec.userns) flags |= CLONE_NEWUSER;
    return flags;
    // END EXERCISE
}

void write_id_maps(pid_t pid, const ContainerSpec& spec) {
    // BEGIN EXERCISE 2: write_id_maps()
    auto line = [](const IdMapping& m) {
        return std::to_string(m.inside) + " " + std::to_string(m.outside) + " " +
               std::to_string(m.count) + "\n";
    };
    std::string proc = "/proc/" + std::to_string(pid);
    sys::write_file(proc + "/uid_map", line(spec.uid_map));
    // Only a process privileged in the parent namespace may keep setgroups(2)
    // for the child; anyone else must give it up before writing gid_map.
    sys::write_file(proc + "/setgroups", geteuid() == 0 ? "allow" : "deny");
    sys::write_file(proc + "/gid_map", line(spec.gid_map));
    // END EXERCISE
}

}  // namespace box::stage1
