/// @file confinement.hpp
/// @brief What a process box starts in a container may do: the last steps
/// before it becomes the container's command.
///
/// Chapter 5 sets the factory. Every process box puts into a container goes
/// through one: the first process of `run` (chapter 1's container_main) and
/// each command of `exec` (chapter 4). It is made in box, before the fork, so
/// that everything that can fail (a capability name, a seccomp profile) fails
/// there, while nothing has been made yet; the child then only applies it, in
/// two steps around set_identity():
///
///     before_identity()   still the container's root, with box's capabilities:
///                         rlimits, the bounding set, a seccomp filter that
///                         needs CAP_SYS_ADMIN to load (no no_new_privs)
///     set_identity()      chapter 1: groups, gid, uid
///     before_exec()       the capability sets, no_new_privs, the seccomp filter
///     execve()
///
/// Before chapter 5 (or with no factory) the confinement does nothing.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>

#include "box/spec.hpp"

namespace box {

/// One process's confinement.
class Confinement {
public:
    virtual ~Confinement() = default;
    /// In box, for `exec` only, before it joins the container's namespaces:
    /// puts this process where the container's first process `pid` is and
    /// the namespaces do not carry (chapter 5: its devices cgroup). Throws
    /// box::Error.
    virtual void join(pid_t pid) { (void)pid; }
    /// In the child, as the container's root with all of box's capabilities,
    /// right before set_identity(). Throws box::Error.
    virtual void before_identity() {}
    /// In the child, after set_identity(), right before the command's execve.
    /// Throws box::Error.
    virtual void before_exec() {}
};

/// What a confinement is for.
struct ConfinementRequest {
    const ContainerSpec& spec;  ///< the container
    bool exec = false;          ///< a command of `box exec`, not the first process
    bool privileged = false;    ///< `exec --privileged`: every capability, whatever the container has
};

/// Makes the confinement of one process; throws box::Error on a field it
/// cannot honour (nothing is made yet).
using ConfinementFactory = std::function<std::unique_ptr<Confinement>(const ConfinementRequest&)>;

/// Sets the factory (chapter 5 does, whatever the command).
void set_confinement_factory(ConfinementFactory factory);

/// The factory's confinement for `request`, or one that does nothing if no
/// factory is set. Throws box::Error.
std::unique_ptr<Confinement> make_confinement(const ConfinementRequest& request);

}  // namespace box
