/// @file harness.hpp
/// @brief What box's tests share: running ./box as a user would, a private
/// state root per test, random values, and the check that nothing is left behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace boxtest {

/// What a finished command did.
struct Result {
    int status = -1;   ///< exit status (128+N if killed by signal N); -1 if it timed out
    std::string out;   ///< everything it wrote to stdout
    std::string err;   ///< everything it wrote to stderr
    bool timed_out = false;
};

/// How to run a command.
struct RunOptions {
    std::string input;                                       ///< fed to stdin, then closed
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};  ///< then the group is SIGKILLed
    std::map<std::string, std::string> env;                  ///< added to the environment
};

/// Runs argv[0] (looked up in PATH) to completion, in its own process group.
Result run(const std::vector<std::string>& argv, const RunOptions& options = {});

/// A command left running in the background (its own process group); killed
/// and reaped when this goes away.
class Background {
public:
    explicit Background(const std::vector<std::string>& argv,
                        const std::map<std::string, std::string>& env = {});
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    pid_t pid() const { return pid_; }
    /// Reads stdout until it contains `text` or `timeout` passes; true if seen.
    bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout);
    /// Waits for the exit; the status, or nothing after `timeout`.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    /// What it has written to stdout / stderr so far.
    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

private:
    void pump(int timeout_ms);
    pid_t pid_ = -1;
    int out_fd_ = -1, err_fd_ = -1;
    std::string out_, err_;
    std::optional<int> status_;
};

/// A command run on a terminal of the test's own (a pty pair; the command is
/// its session's leader, the terminal its controlling one), as a user at a
/// keyboard runs it. Killed and reaped when this goes away.
class Terminal {
public:
    Terminal(const std::vector<std::string>& argv, unsigned short rows, unsigned short cols);
    ~Terminal();
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;

    pid_t pid() const { return pid_; }
    /// Types `keys` (raw bytes: "\r" is Enter, "\x10" Ctrl-P).
    void type(const std::string& keys);
    /// Resizes the terminal (its foreground process gets SIGWINCH).
    void resize(unsigned short rows, unsigned short cols);
    /// Reads the screen's output until what came after the last call to
    /// wait_for_output contains `text` (then it counts as seen); true if seen.
    bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout);
    /// Waits for the exit; the status, or nothing after `timeout`.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    /// Everything written to the terminal so far.
    const std::string& out() const { return out_; }

private:
    void pump(int timeout_ms);
    pid_t pid_ = -1;
    int master_ = -1;
    std::string out_;
    size_t seen_ = 0;
    std::optional<int> status_;
};

/// The pids of the direct children of `pid` (from /proc/PID/task/*/children).
std::vector<pid_t> children_of(pid_t pid);

/// A random lowercase name with a prefix, different on every run.
std::string random_name(const std::string& prefix, size_t hex_digits = 8);
/// A random integer in [lo, hi].
long random_int(long lo, long hi);

/// The base root filesystem the kit makes ($BOX_BASE_ROOTFS, else the kit's
/// build/base-rootfs); read-only for tests: copy it before changing anything.
const std::string& base_rootfs();

/// The kit's top directory (the test binary is in its build/<dir>/).
std::string kit_root();

/// Path of the box binary under test ($BOX_BIN, else the box built beside
/// the test binary).
const std::string& box_binary();

/// The highest stage built into the box under test (from `box --version`).
int box_stage();

/// A static test program built beside the test binary (tests/stageN/fixtures),
/// copied into `rootfs` as /NAME; returns "/NAME".
std::string install_fixture(const std::string& name, const std::string& rootfs);

/// The host path of that static test program (to run it outside a container).
std::string fixture_path(const std::string& name);

/// Every container cgroup box has made and not removed: the directories in a
/// directory named "box" (box's parent of containers' cgroups) in this host's
/// cgroup hierarchies.
std::vector<std::string> box_cgroups();

/// Empty if the tests can run here; otherwise what is missing.
std::string check_environment();

/// Moves the test process into a network namespace of its own, with lo up:
/// the "host" of every container the tests start. Bridges, veths, sysctls
/// and NAT rules that box makes vanish with it, and nothing reaches the
/// machine's own network. main() calls it once, so that a fixture shared by
/// the tests of one binary (a registry on 127.0.0.1) stays reachable.
void enter_private_network();

/// The network interfaces of the test's network namespace, by name.
std::vector<std::string> network_links();

/// Each black-box test makes one: a private temporary directory holding the
/// state root and any rootfs copies. When it goes away it checks — as a test
/// assertion — that nothing of the test is left: no mount under the
/// directory, no process rooted in it or started with it, then removes it.
class Sandbox {
public:
    Sandbox();
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    /// The temporary directory.
    const std::string& dir() const { return dir_; }
    /// Runs `box --root <dir>/state ARGS...`.
    Result box(const std::vector<std::string>& args, const RunOptions& options = {}) const;
    /// The argv for running box with this sandbox's state root.
    std::vector<std::string> box_argv(const std::vector<std::string>& args) const;
    /// A private copy of the base rootfs that the test may change.
    std::string rootfs_copy(const std::string& name = "rootfs") const;
    /// Leftovers of this test now: mounts, processes, box cgroups, veths and
    /// published ports in box's NAT table, one line each.
    std::vector<std::string> leftovers() const;

private:
    std::string dir_;
    std::vector<std::string> cgroups_before_;  // other containers' cgroups are not ours to judge
};

}  // namespace boxtest

namespace boxtest {

/// The lines of `text`, without their newlines ("\r\n" too).
std::vector<std::string> lines(const std::string& text);
/// `text` without leading and trailing white space.
std::string trim(const std::string& text);
/// The blank-separated words of `text` (a mount table's or /proc file's fields).
std::vector<std::string> words(const std::string& text);
/// `argv` as one line for sh -c, each word single-quoted.
std::string shell_words(const std::vector<std::string>& argv);

}  // namespace boxtest

/// Shows what box printed when a check about `result` fails.
#define BOX_SHOW(result) \
    INFO("exit " << (result).status << "\nstdout: " << (result).out << "\nstderr: " << (result).err)

/// Bad input: one line on stderr, `box: ...`, and the given exit status.
#define REQUIRE_ONE_ERROR_LINE(result, exit_status)                              \
    do {                                                                         \
        BOX_SHOW(result);                                                        \
        REQUIRE((result).status == (exit_status));                               \
        REQUIRE(boxtest::lines((result).err).size() == 1);                       \
        REQUIRE((result).err.rfind("box: ", 0) == 0);                            \
    } while (0)

namespace boxtest {
/// The content of a file on the host ("" if unreadable).
std::string read_host_file(const std::string& path);
}  // namespace boxtest

namespace boxtest {
/// A command box must refuse: its own words, and part of its one error line.
struct Refusal {
    std::vector<std::string> words;  ///< put between the call's `before` and `after`
    std::string error;               ///< found in the error line
};
/// Runs `box BEFORE... WORDS... AFTER...` for each refusal: each must fail
/// with one error line (exit `status`) that holds its error.
void check_refusals(const Sandbox& sb, const std::vector<std::string>& before, const std::vector<std::string>& after,
                    const std::vector<Refusal>& refusals, int status = 125);
}  // namespace boxtest
