/// @file extension.hpp
/// @brief How later stages add to a container's start without rewriting stage 1.
///
/// Stage 1's start_container() makes the container's extensions — one from
/// each registered factory that has something to do — before it clones, and
/// calls their hooks at fixed points of the start: plan_namespaces() before
/// the clone, before_start() while the child waits for "go", in the child
/// in_child_before_rootfs() and in_child_before_pivot(), after_start() once the
/// command runs, after_exit() once it has ended. Destroying them undoes what
/// they made — also when the start fails half-way. Each declares the phase it
/// acts in, so the order of their hooks never depends on which stage
/// registered first: chapter 2's cgroup (Resources), chapter 7's network
/// (Network), chapter 3's overlay (RootFs), chapter 4's volumes (Mounts),
/// chapter 5's protections (Security).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "box/request.hpp"
#include "box/spec.hpp"

namespace box {

/// Why an extension is made.
enum class ExtensionMode {
    Create,  ///< a new start: make what the container needs
    Adopt,   ///< the box that started the container is gone (chapter 4's shim asks for a cleanup):
             ///< take over what it made, from its record, to report on it and remove it
};

/// Where an extension acts. Hooks run in this order of phases; within one
/// phase, in the order the stages registered.
enum class ExtensionPhase {
    Namespaces,  ///< which namespaces the container gets or joins (chapter 7: --network container:X)
    Resources,   ///< host-side resources it is put in (chapter 2: its cgroup)
    Network,     ///< its place on a network (chapter 7: an address, a veth pair, published ports)
    RootFs,      ///< its root filesystem (chapter 3: the overlay)
    Mounts,      ///< mounts into that root filesystem (chapter 4: volumes)
    Security,    ///< what it may do (chapter 5)
};

/// The namespaces a container starts with.
struct NamespacePlan {
    unsigned long clone_flags = 0;  ///< CLONE_NEW* for clone(2): chapter 1's namespace_flags()
    /// Namespaces to join instead of making new ones: a /proc/PID/ns/* path and
    /// its kind as named there ("net", "ipc"...); the extension that adds one
    /// also takes its CLONE_NEW* flag out of clone_flags. The child setns(2)es
    /// into each right after "go", before anything else.
    std::vector<std::pair<std::string, std::string>> join;
    /// A cgroup2 directory for the child to be born in (clone3's
    /// CLONE_INTO_CGROUP: chapter 2's cgroup on a v2 host), or "". Cleared
    /// if the kernel could not: the child then moves itself.
    std::string cgroup2;
};

/// How a container ended.
struct ExitReport {
    int status = 0;           ///< its exit status (128+N if killed by signal N)
    bool oom_killed = false;  ///< a process of it was killed for lack of memory (chapter 2 says)
};

/// One stage's part of a container. Its destructor undoes what it made
/// (unless released).
class ContainerExtension {
public:
    virtual ~ContainerExtension() = default;
    /// In box, before clone(): choose or join namespaces, or name the cgroup2
    /// directory the child is born in.
    virtual void plan_namespaces(NamespacePlan& plan) { (void)plan; }
    /// In box, after clone(), before the child is told to go on.
    virtual void before_start(pid_t child) { (void)child; }
    /// In the child, first of all once told to go on: still the host's root,
    /// in box's namespaces (chapter 2 moves it into its cgroup here, unless
    /// it was born there: `plan.cgroup2`; a process that moves itself spares
    /// the kernel a global lock on v1).
    virtual void in_child_first(const NamespacePlan& plan) { (void)plan; }
    /// In the child, in its new mount namespace (already private), before the
    /// root filesystem is bound and pivoted into (chapter 3 mounts the
    /// overlay here, chapter 4 the volumes on it). Throws box::Error on failure.
    virtual void in_child_before_rootfs() {}
    /// In the child, once /proc, /sys and /dev are mounted under `rootfs` (a
    /// host path) and before pivot_root (chapter 5 masks /proc paths here).
    virtual void in_child_before_pivot(const std::string& rootfs) { (void)rootfs; }
    /// In box, once the container's command runs (its first process `pid`).
    virtual void after_start(pid_t pid) { (void)pid; }
    /// In box, after the container ended: may report on it or change the report.
    virtual void after_exit(ExitReport& report) { (void)report; }
    /// In box, once the container runs and will outlive this box (chapter 4's
    /// shim supervises it): keep what was made; a later box adopts it.
    virtual void release() {}
    /// What a later box needs to adopt what this one made (a cgroup's paths,
    /// later a network lease), or null. Asked once the container runs;
    /// chapter 4 keeps it in the container's state and hands it back with
    /// ExtensionMode::Adopt.
    virtual nlohmann::json record() const { return nullptr; }
};

/// What a factory is told.
struct ExtensionContext {
    const ContainerSpec& spec;     ///< the container
    ExtensionMode mode;            ///< create, or adopt
    const nlohmann::json& record;  ///< Adopt: what this extension's record() said (null if nothing)
};

/// Makes a stage's extension for a container, or nullptr if it has nothing to do.
using ExtensionFactory = std::function<std::unique_ptr<ContainerExtension>(const ExtensionContext&)>;

/// Registers a factory under `name` (the key of its record) for `phase`. A
/// stage does it whatever the command, so that every start and every adopt
/// sees the same extensions.
void add_extension(const std::string& name, ExtensionPhase phase, ExtensionFactory factory);

/// A container's extensions, in phase order; destroyed in the reverse order.
class Extensions {
public:
    Extensions() = default;
    /// Takes over `other`'s extensions.
    Extensions(Extensions&&) = default;
    /// Destroys this one's, then takes over `other`'s.
    Extensions& operator=(Extensions&& other) noexcept;
    ~Extensions() { clear(); }
    /// One extension per registered factory with something to do. `records`
    /// ({name: record}, from records()) is handed back when adopting.
    static Extensions make(const ContainerSpec& spec, ExtensionMode mode,
                           const nlohmann::json& records = nlohmann::json());
    /// Calls `hook` on each, in phase order.
    void each(const std::function<void(ContainerExtension&)>& hook) const;
    /// {name: record} of those that have one (an empty object if none).
    nlohmann::json records() const;
    /// Destroys them now, last phase first (what they made is undone).
    void clear() noexcept;

private:
    std::vector<std::pair<std::string, std::unique_ptr<ContainerExtension>>> list_;
};

/// What `box run` does with the request its flags make: chapter 1's
/// run_container() of spec_from_request(), until chapter 4 puts a container
/// store (and a detached mode) in front.
using ContainerRunner = std::function<int(const ContainerRequest&)>;
/// Replaces the runner (chapter 4 does, when `run` is declared).
void set_container_runner(ContainerRunner runner);
/// The runner set, or an empty function if none was.
const ContainerRunner& container_runner();

/// Turns a stage's own `run` flags into request fields; throws box::Error on
/// a value it cannot parse (before anything is created). Bound to the parsed
/// command line: only `run` and `create` have fillers. What must hold for
/// every container, however it was asked for, is a SpecPreparer's job.
using RequestFiller = std::function<void(ContainerRequest&)>;

/// Registers a filler (a stage does it when it adds its flags to `run`).
void add_request_filler(RequestFiller filler);

/// Runs every registered filler on `request`, in order (stage 1's run does).
void fill_request(ContainerRequest& request);

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
