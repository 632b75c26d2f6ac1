/// @file extension.hpp
/// @brief How later stages add to a container's start without rewriting stage 1.
///
/// Stage 1's run_container() makes one ContainerExtension from each registered
/// factory before it clones, calls before_start() while the child waits for
/// "go", after_exit() once the container has ended, and destroys them last —
/// also when the start fails half-way. Chapter 2's cgroup is one; chapter 6's
/// network will be another.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <vector>

#include "box/spec.hpp"

namespace box {

/// One stage's part of a container. Its destructor undoes what it made.
class ContainerExtension {
public:
    virtual ~ContainerExtension() = default;
    /// In box, after clone(), before the child is told to go on.
    virtual void before_start(pid_t child) { (void)child; }
    /// In the child, in its new mount namespace (already private), before the
    /// root filesystem is bound and pivoted into (chapter 3 mounts the
    /// overlay here). Throws box::Error on failure.
    virtual void in_child_before_rootfs() {}
    /// In box, after the container ended; may report on it or change `status`.
    virtual void after_exit(int& status) { (void)status; }
    /// In box, once the container runs and will outlive this box (chapter 4's
    /// shim supervises it): keep what was made; a later box adopts it
    /// (ContainerSpec::adopt) to clean up after the container ends.
    virtual void release() {}
    /// After the container ended: was a process of it killed for lack of memory?
    virtual bool oom_killed() const { return false; }
};

/// Makes a stage's extension for a container, or nullptr if it has nothing to do.
using ExtensionFactory = std::function<std::unique_ptr<ContainerExtension>(const ContainerSpec&)>;

/// Registers a factory (a stage does it when its commands are added).
void add_extension(ExtensionFactory factory);

/// One extension per registered factory that has something to do, in order.
std::vector<std::unique_ptr<ContainerExtension>> make_extensions(const ContainerSpec& spec);

/// What `box run` does with a complete spec: chapter 1's run_container(),
/// until chapter 4 puts a container store (and a detached mode) in front.
using ContainerRunner = std::function<int(const ContainerSpec&)>;
/// Replaces the runner (chapter 4 does, when its commands are added).
void set_container_runner(ContainerRunner runner);
/// The runner set, or an empty function if none was.
const ContainerRunner& container_runner();

/// Turns a stage's own `run` flags into spec fields; throws box::Error on a bad
/// value (before anything is created). Bound to the parsed command line: only
/// `run` and `create` have fillers. What must hold for every spec, however it
/// was made, is a SpecPreparer.
using SpecFiller = std::function<void(ContainerSpec&)>;

/// Registers a filler (a stage does it when it adds its flags to `run`).
void add_spec_filler(SpecFiller filler);

/// Runs every registered filler on `spec`, in order (stage 1's make_spec does).
void fill_spec(ContainerSpec& spec);

/// When a SpecPreparer runs. Preparers of one phase run in the order their
/// stages registered them; a phase never depends on a later one.
enum class SpecPhase {
    Resolve,  ///< turn names into things: chapter 3's image into layers, rootfs, Cmd and Env
    Check,    ///< refuse what cannot run: chapter 1's hostname, workdir, user, rootfs
};

/// Completes and checks a spec in place; throws box::Error on a bad field.
using SpecPreparer = std::function<void(ContainerSpec&)>;

/// Registers a preparer (a stage does it whatever the command, so that a spec
/// made by a program — a build step, a compose service — is prepared as one
/// made from `run`'s flags is).
void add_spec_preparer(SpecPhase phase, SpecPreparer preparer);

/// Makes `spec` ready to create: gives it an id if it has none, then runs the
/// Resolve preparers, then the Check ones. Throws box::Error (nothing is made).
void prepare_spec(ContainerSpec& spec);

}  // namespace box
