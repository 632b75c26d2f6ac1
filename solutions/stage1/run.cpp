// Chapter 1: `box run` — how box and the container's first process work
// together to start a container. Read this file top to bottom: it calls the
// exercise functions in the order the kernel needs them.
//
//   box (parent)                          child (becomes the container)
//   ------------                          -----------------------------
//   clone(CLONE_NEW...) ───────────────▶  waits for "go"
//   writes uid_map/gid_map (--userns)
//   sends "go" ───────────────────────▶  private mounts, hostname, lo up,
//                                          /proc /sys /dev, pivot_root,
//                                          user, workdir, terminal
//   reads the channel:                     execve(CMD)
//     EOF      → CMD is running             (the channel closes on exec)
//     a message → it failed; report it
//   forwards signals, waits, exits with CMD's status
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <cstdlib>
#include <memory>

#include "box/channel.hpp"
#include "box/cli.hpp"
#include "box/confinement.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/sys.hpp"
#include "box/terminal.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"
#include "stage1.hpp"

namespace box::stage1 {
namespace {

// mkdir -p inside the container, each step traced.
void make_workdir(const std::string& dir) {
    std::string path;
    for (const auto& part : split(dir, '/')) {
        if (part.empty()) continue;
        path += "/" + part;
        sys::mkdir(path, 0755);
    }
}

// The container's first process, from clone() to execve(). Never returns: it
// becomes the command, or reports why it could not over `channel` and exits.
[[noreturn]] void container_main(const ContainerSpec& spec, const NamespacePlan& plan, Channel& channel,
                                 const Extensions& extensions, Confinement& confinement) {
    try {
        // BEGIN ADVANCED EXERCISE 10: container_main()
        sys::set_non_dumpable();  // until the execve: see sys.hpp
        if (!channel.receive()) _exit(kExitBoxError);  // box died before saying "go"
        extensions.each([&](ContainerExtension& e) { e.in_child_first(plan); });  // chapter 2: into its cgroup
        // Namespaces an extension chose to join rather than make (chapter 7's
        // --network container:X), before anything else happens in here.
        for (const auto& [path, kind] : plan.join) {
            Fd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
            if (!ns) throw_errno("open " + path, errno);
            sys::setns(ns.get(), kind);
        }
        if (spec.userns) {
            // Until now we ran as the host's root, which the maps leave
            // unmapped; become the namespace's root so files we create
            // get an owner that exists in here.
            sys::setresgid(0);
            sys::setresuid(0);
        }
        // Only now, so that a cgroup box has put us in by now is the root
        // of our cgroup view (chapter 2).
        if (exists("/proc/self/ns/cgroup")) sys::unshare(CLONE_NEWCGROUP);

        make_mounts_private();
        extensions.each([](ContainerExtension& e) { e.in_child_before_rootfs(); });  // chapter 3: the overlay
        sys::sethostname(spec.hostname);
        if (spec.network != NetworkMode::Host) sys::set_link_up("lo");

        // Mount what the container needs while the host's /proc and /dev
        // are still reachable (a user namespace may only mount proc where a
        // full proc is already visible, and binds the host's devices), then
        // swap roots and let go of the host's.
        bind_rootfs(spec.rootfs);
        mount_proc_and_sys(spec.rootfs, spec);
        populate_dev(spec.rootfs, spec);
        extensions.each([&](ContainerExtension& e) { e.in_child_before_pivot(spec.rootfs); });
        pivot_into(spec.rootfs);

        Identity id = resolve_user(spec.user, try_read_file("/etc/passwd").value_or(""),
                                   try_read_file("/etc/group").value_or(""));
        std::string workdir = spec.workdir.empty() ? "/" : spec.workdir;
        make_workdir(workdir);
        sys::chdir(workdir);

        if (spec.tty) {
            take_new_terminal(channel);
        } else if (!spec.interactive) {
            int null = open("/dev/null", O_RDONLY);  // no -i: stdin is empty, as in docker
            if (null < 0 || dup2(null, STDIN_FILENO) < 0) throw_errno("open(\"/dev/null\")", errno);
            close(null);
        }

        confinement.before_identity();  // chapter 5: rlimits, the bounding set, ...
        set_identity(id);
        std::vector<std::string> env = container_environment(spec, id);
        std::string path = kDefaultPath;
        for (const auto& e : env)
            if (starts_with(e, "PATH=")) path = e.substr(5);
        std::string program = find_executable(spec.args[0], path);

        SignalForwarder::unblock_in_child();
        confinement.before_exec();  // chapter 5: capabilities, no_new_privs, seccomp
        sys::close_fds_on_exec();  // only 0-2 cross, not the descriptors of box's caller
        int err = sys::execve(program, spec.args, env, channel.fd());
        throw Error("exec \"" + spec.args[0] + "\"", strerror(err),
                    err == ENOENT ? kExitNotFound : kExitCannotInvoke);
        // END EXERCISE
    } catch (const Error& e) {
        try {
            channel.send(error_message(e));
        } catch (...) {
        }
        _exit(e.status());
    } catch (const std::exception& e) {
        try {
            channel.send("E125\tcontainer start\t" + std::string(e.what()));
        } catch (...) {
        }
        _exit(kExitBoxError);
    }
}

// Kills and reaps the child unless released: a start that fails half-way
// must not leave a process behind.
class ChildGuard {
public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ~ChildGuard() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    void release() { pid_ = -1; }

private:
    pid_t pid_;
};

}  // namespace

StartedContainer start_container(const ContainerSpec& spec) {
    // BEGIN ADVANCED EXERCISE 11: start_container()
    // What later stages add (chapter 2: the cgroup) is made before any process
    // exists, and undone when `extensions` goes out of scope — after the
    // ChildGuard below has reaped the child, whatever happens.
    Extensions extensions = Extensions::make(spec, ExtensionMode::Create);
    // What the command may do (chapter 5), worked out while nothing runs yet.
    std::unique_ptr<Confinement> confinement = make_confinement({spec});
    NamespacePlan plan{namespace_flags(spec), {}, ""};
    extensions.each([&](ContainerExtension& e) { e.plan_namespaces(plan); });
    auto [parent_end, child_end] = Channel::pair();

    pid_t pid = sys::clone(plan.clone_flags | SIGCHLD, &plan.cgroup2);
    if (pid == 0) {
        parent_end.close();
        container_main(spec, plan, child_end, extensions, *confinement);
    }
    child_end.close();
    ChildGuard guard(pid);

    if (spec.userns) write_id_maps(pid, spec);
    extensions.each([&](ContainerExtension& e) { e.before_start(pid); });
    parent_end.send("go");

    Fd terminal;
    while (auto message = parent_end.receive()) {
        if (message->fd) {
            terminal = std::move(message->fd);  // the master side of the container's terminal
            continue;
        }
        // "E<status>\t<what>\t<why>": the child failed before execve.
        throw error_from_message(message->text, "container start");
    }
    // End-of-file: the child's end closed on execve(), so the command runs.
    extensions.each([&](ContainerExtension& e) { e.after_start(pid); });  // if one fails, the guard ends it
    guard.release();  // from here on the caller waits for it
    return {pid, std::move(terminal), std::move(extensions)};
    // END EXERCISE
}

int run_container(const ContainerSpec& spec) {
    SignalForwarder signals;  // from here on no signal to box is lost
    StartedContainer c = start_container(spec);
    ExitReport report{supervise(c.pid, signals, std::move(c.terminal), spec.interactive)};
    c.extensions.each([&](ContainerExtension& e) { e.after_exit(report); });
    return report.status;  // `c` goes: the extensions undo what they made
}

namespace {

// As docker: what the kernel's sethostname() takes, up to 64 bytes
// (host_ubuntu is fine). Control characters are refused: the name is also a
// line of the container's /etc/hosts, and a newline would add lines to it.
bool valid_hostname(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
}

// What every spec must satisfy, however it was made (SpecPhase::Check).
void check_spec(ContainerSpec& spec) {
    if (spec.args.empty())
        throw Error("run", "no command given (usage: box run --rootfs DIR [OPTIONS] CMD [ARG...])");
    if (!spec.rootfs_made_later) {
        if (spec.rootfs.empty()) throw Error("run", "no root filesystem given (--rootfs DIR)");
        char real[PATH_MAX];
        if (!realpath(spec.rootfs.c_str(), real)) throw_errno("rootfs " + spec.rootfs, errno);
        spec.rootfs = real;
        if (!is_directory(spec.rootfs)) throw Error("rootfs " + spec.rootfs, "not a directory");
        if (spec.rootfs == "/") throw Error("rootfs /", "the host's own root cannot be a container's root");
    }
    if (spec.hostname.empty()) spec.hostname = spec.id.substr(0, 12);  // docker's short id
    if (!valid_hostname(spec.hostname))
        throw Error("invalid hostname " + nlohmann::json(spec.hostname).dump(), "at most 64 bytes, and no control characters");  // quoted: one line
    if (!spec.workdir.empty() && spec.workdir[0] != '/')
        throw Error("invalid working directory \"" + spec.workdir + "\"", "it needs to be an absolute path");
    check_user_spec(spec.user);
    if (spec.network == NetworkMode::None && !spec.net.name.empty())
        throw Error("invalid network mode \"" + spec.net.name + "\"", "box's networks are none and host");
}

// Chapter 1's fields of a request, into the spec (a RequestReader).
void read_request(const ContainerRequest& r, ContainerSpec& spec) {
    spec.rootfs = r.HostConfig.BoxRootfs;
    spec.args = r.Config.Cmd;
    for (const auto& e : r.Config.Env)
        if (e.empty() || e[0] == '=' || e.find('=') == std::string::npos)
            throw Error("invalid environment variable \"" + e + "\"", "expected KEY=VALUE");
    spec.env = r.Config.Env;
    spec.hostname = r.Config.Hostname;
    spec.workdir = r.Config.WorkingDir;
    spec.user = r.Config.User;
    spec.tty = r.Config.Tty;
    spec.interactive = r.Config.OpenStdin;
    // none and host are chapter 1's; any other name is for a later stage
    // (chapter 7's networks) to resolve, or check_spec() refuses it.
    const std::string& net = r.HostConfig.NetworkMode;
    spec.network = net == "host" ? NetworkMode::Host : NetworkMode::None;
    spec.net.name = net == "host" || net == "none" ? "" : net;
    if (!r.HostConfig.BoxUserns.empty()) {
        spec.userns = true;
        spec.uid_map = spec.gid_map = parse_id_range(r.HostConfig.BoxUserns);
    }
}

// run's own flags, as typed.
struct RunFlags {
    ContainerRequest request;
    std::vector<std::string> env;
    bool userns = false;
    std::string userns_range;
};

// Turns the parsed flags into a request; the later stages' fillers add theirs.
ContainerRequest make_request(const RunFlags& f, const std::vector<std::string>& args) {
    ContainerRequest r = f.request;
    r.Config.Cmd = args;
    for (const auto& e : f.env) {
        if (e.empty() || e[0] == '=') throw Error("invalid environment variable \"" + e + "\"", "expected KEY=VALUE");
        if (e.find('=') != std::string::npos) {
            r.Config.Env.push_back(e);
        } else if (const char* v = getenv(e.c_str())) {  // -e KEY: take the host's value
            r.Config.Env.push_back(e + "=" + v);
        }
    }
    if (f.userns || !f.userns_range.empty()) r.HostConfig.BoxUserns = f.userns_range.empty() ? "100000:65536" : f.userns_range;
    fill_request(r);  // the flags later stages add to `run` (chapter 2: the limits)
    return r;
}

}  // namespace

void register_commands() {
    add_request_reader(read_request);
    add_spec_preparer(SpecPhase::Check, check_spec);
    cli::keep_failure_status("run");  // docker: 125 box's own failure, 126/127 the command's
    cli::define("run", "Run a command in a new container", [](CLI::App& run) -> cli::Action {
        auto f = std::make_shared<RunFlags>();
        ContainerRequest& r = f->request;
        run.footer("Usage: box run --rootfs DIR [OPTIONS] CMD [ARG...]\n"
                   "Options end at CMD: whatever follows it is the command's own arguments.");
        run.prefix_command();  // options end at CMD: `box run --rootfs R sh -c ...`
        run.add_option("--rootfs", r.HostConfig.BoxRootfs, "Root filesystem directory")->required();
        run.add_option("-h,--hostname", r.Config.Hostname, "Container host name (default: a random id)");
        run.add_option("-e,--env", f->env, "Set environment variables (KEY=VALUE, or KEY to copy it)")
            ->allow_extra_args(false);
        run.add_option("-w,--workdir", r.Config.WorkingDir, "Working directory inside the container");
        run.add_option("-u,--user", r.Config.User, "Username or UID (format: <name|uid>[:<group|gid>])");
        run.add_flag("-i,--interactive", r.Config.OpenStdin, "Keep STDIN open");
        run.add_flag("-t,--tty", r.Config.Tty, "Allocate a pseudo-TTY");
        run.add_flag("--userns", f->userns,
                     "New user namespace: root inside is an unprivileged id outside (100000:65536)");
        run.add_option("--userns-range", f->userns_range,
                       "With a user namespace: HOSTID[:COUNT] that ids 0.. inside map to");
        run.add_option("--network,--net", r.HostConfig.NetworkMode, "Network: none (own namespace, only lo) or host")
            ->capture_default_str();
        return [f, command = &run] {
            std::vector<std::string> args = command->remaining();
            // Options end at CMD; a dash before it is an option box does not know.
            if (!args.empty() && args[0].size() > 1 && args[0][0] == '-')
                throw Error("unknown flag", args[0] + " (see 'box " + command->get_name() + " --help')");
            ContainerRequest request = make_request(*f, args);
            // Chapter 4 keeps containers in a store and can detach them: it sets a runner.
            if (container_runner()) return container_runner()(request);
            return run_container(spec_from_request(request));
        };
    });
}

}  // namespace box::stage1
