// Chapter 4: entering a running container — `box exec` joins the namespaces
// and the cgroup of the container's first process, then forks the command
// there; `box top` lists the processes that share its PID namespace.
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>

#include "box/cgroup_layout.hpp"
#include "box/channel.hpp"
#include "box/confinement.hpp"
#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/sys.hpp"
#include "box/user.hpp"
#include "box/util.hpp"
#include "exec.hpp"
#include "stage2.hpp"
#include "stage1.hpp"

namespace fs = std::filesystem;

namespace box::stage4 {

void join_namespaces(pid_t pid) {
    // EXERCISE 2: write join_namespaces() — see chapters/04-lifecycle/README.md, exercise 2.
    // Replace the line below with your code.
    box::not_implemented("join_namespaces()", "chapters/04-lifecycle", 2);
}


pid_t start_in(const Container& c, const ExecOptions& o, Fd* terminal) {
    if (c.state.status == Status::Paused)
        throw Error("Container " + c.id + " is paused", "unpause the container before exec");
    if (!c.running() || c.state.pid <= 0)
        throw Error("Container " + c.id.substr(0, 12) + " is not running", "start it first (box start " + c.name + ")");
    pid_t init = c.state.pid;
    // Read from the host's /proc while it is still ours: the container's
    // environment (the image's Env and -e, as its first process got them).
    std::vector<std::string> env;
    for (const auto& e : split(read_file("/proc/" + std::to_string(init) + "/environ"), '\0'))
        if (!e.empty()) env.push_back(e);
    for (const auto& e : o.env) {
        std::string key = e.substr(0, e.find('='));
        std::erase_if(env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
        env.push_back(e);
    }

    // What the command may do: the container's own protections (chapter 5).
    std::unique_ptr<Confinement> confinement = make_confinement({c.spec, true, o.privileged});
    stage2::cgroup_of_process(detect_cgroup_layout(), init)->add_process(0);  // its limits cover us
    confinement->join(init);  // and what else of the container's the namespaces do not carry
    // Before anything of ours is in the container's PID namespace: its
    // processes must not open our /proc/PID/exe, box's binary (CVE-2019-5736).
    // The command's execve makes it dumpable again.
    sys::set_non_dumpable();
    join_namespaces(init);  // from here on "/" is the container's root

    Identity id = resolve_user(o.user.empty() ? c.spec.user : o.user, try_read_file("/etc/passwd").value_or(""),
                               try_read_file("/etc/group").value_or(""));
    std::string workdir = !o.workdir.empty() ? o.workdir : c.spec.workdir.empty() ? "/" : c.spec.workdir;
    Fd master;
    std::string slave;
    if (o.tty) {  // a terminal of the container's own devpts, as `run -t` gets
        master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) throw_errno("open /dev/ptmx", errno);
        slave = ::ptsname(master.get());
    }
    auto [parent_end, child_end] = Channel::pair();
    pid_t child = ::fork();  // the first child after setns(pid): it is in the container's PID namespace
    if (child < 0) throw_errno("fork", errno);
    if (child == 0) {
        parent_end.close();
        try {
            if (o.tty) {
                ::setsid();
                int t = ::open(slave.c_str(), O_RDWR);
                if (t < 0 || ::ioctl(t, TIOCSCTTY, 0) != 0) throw_errno("open " + slave, errno);
                for (int fd = 0; fd < 3; ++fd) ::dup2(t, fd);
                ::close(t);
            } else if (!o.interactive || o.detach) {
                int null = ::open("/dev/null", O_RDONLY);
                ::dup2(null, 0);
                ::close(null);
            }
            if (o.detach) ::setsid();
            if (::chdir(workdir.c_str()) != 0)
                throw Error("chdir to cwd (\"" + workdir + "\") set in config.json failed", strerror(errno), 126);
            confinement->before_identity();
            stage1::set_identity(id);
            std::string path = kDefaultPath;
            for (const auto& e : env)
                if (starts_with(e, "PATH=")) path = e.substr(5);
            std::string program = stage1::find_executable(o.args[0], path);
            stage1::SignalForwarder::unblock_in_child();
            confinement->before_exec();
            sys::close_fds_on_exec();  // only 0-2 cross: none of the caller's
            int err = sys::execve(program, o.args, env, child_end.fd());
            throw Error("exec \"" + o.args[0] + "\"", strerror(err), err == ENOENT ? kExitNotFound : kExitCannotInvoke);
        } catch (const Error& e) {
            try {
                child_end.send(error_message(e));
            } catch (...) {
            }
            _exit(e.status());
        }
    }
    child_end.close();
    if (auto message = parent_end.receive()) {
        ::waitpid(child, nullptr, 0);
        throw error_from_message(message->text, "exec");
    }
    if (terminal) *terminal = std::move(master);
    return child;
}

int exec_in(const Container& c, const ExecOptions& o) {
    stage1::SignalForwarder signals;  // blocked before the fork: the command unblocks them before its exec
    Fd terminal;
    pid_t child = start_in(c, o, &terminal);
    if (o.detach) return 0;  // it goes on; when we exit, the host's init (or nearest subreaper) inherits it
    return stage1::supervise(child, signals, std::move(terminal), o.interactive);
}

int top(const Container& c, const std::vector<std::string>& ps_args) {
    if (!c.running() || c.state.pid <= 0)
        throw Error("Container " + c.id.substr(0, 12) + " is not running", "box top lists a running container's processes");
    // Its processes: every host PID whose PID namespace is its first process's.
    auto ns_of = [](const std::string& pid) {
        char buf[64];
        ssize_t n = ::readlink(("/proc/" + pid + "/ns/pid").c_str(), buf, sizeof buf);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    };
    std::string ns = ns_of(std::to_string(c.state.pid));
    std::string pids;
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") == std::string::npos && ns_of(name) == ns)
            pids += (pids.empty() ? "" : ",") + name;
    }
    // As docker top does: the host's ps, with its own options or -ef, for those PIDs.
    std::vector<std::string> argv = {"ps"};
    argv.insert(argv.end(), ps_args.begin(), ps_args.end());
    if (ps_args.empty()) argv.push_back("-f");
    argv.push_back("-p");
    argv.push_back(pids);
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    pid_t child = ::fork();
    if (child == 0) {
        ::execvp("ps", raw.data());
        _exit(127);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return stage1::exit_status(status);
}

void register_exec_commands() {
    cli::define("exec", "Execute a command in a running container", [](CLI::App& c) -> cli::Action {
        auto o = std::make_shared<ExecOptions>();
        c.prefix_command();
        c.add_flag("-i,--interactive", o->interactive, "Keep STDIN open");
        c.add_flag("-t,--tty", o->tty, "Allocate a pseudo-TTY");
        c.add_flag("-d,--detach", o->detach, "Detached mode: run command in the background");
        c.add_option("-e,--env", o->env, "Set environment variables")->allow_extra_args(false);
        c.add_option("-w,--workdir", o->workdir, "Working directory inside the container");
        c.add_option("-u,--user", o->user, "Username or UID (format: <name|uid>[:<group|gid>])");
        c.add_flag("--privileged", o->privileged, "Give extended privileges to the command (chapter 5)");
        return [o, command = &c] {
            auto rest = command->remaining();
            if (rest.size() < 2) throw Error("exec", "usage: box exec [OPTIONS] CONTAINER COMMAND [ARG...]");
            o->args.assign(rest.begin() + 1, rest.end());
            return exec_in(ContainerStore(state_root()).find(rest[0]), *o);
        };
    });

    cli::define("top", "Display the running processes of a container", [](CLI::App& c) -> cli::Action {
        c.prefix_command();
        return [command = &c] {
            auto rest = command->remaining();
            if (rest.empty()) throw Error("top", "usage: box top CONTAINER [ps OPTIONS]");
            return top(ContainerStore(state_root()).find(rest[0]), std::vector<std::string>(rest.begin() + 1, rest.end()));
        };
    });
}
}  // namespace box::stage4
