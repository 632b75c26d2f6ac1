#include "harness.hpp"

#include "box/sys.hpp"

#include <catch2/catch.hpp>
#include <dirent.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono;

namespace boxtest {
namespace {

int decode(int ws) {
    if (WIFEXITED(ws)) return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
    return -1;
}

// fork+exec with stdout/stderr on pipes; stdin a pipe too (write end returned).
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            int& in_w, int& out_r, int& err_r) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
        setpgid(0, 0);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> a;
        for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        execvp(a[0], a.data());
        dprintf(2, "exec %s: %s\n", a[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in_w = in[1];
    out_r = out[0];
    err_r = err[0];
    return pid;
}

// Reads what is available from fd into s; false at EOF.
bool drain(int fd, std::string& s) {
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        s.append(buf, static_cast<size_t>(n));
        return true;
    }
    return n < 0 && errno == EINTR;
}

}  // namespace

Result run(const std::vector<std::string>& argv, const RunOptions& options) {
    int in_w, out_r, err_r;
    pid_t pid = spawn(argv, options.env, in_w, out_r, err_r);
    // Small inputs fit the pipe; the tests never feed more.
    if (!options.input.empty()) {
        ssize_t n = write(in_w, options.input.data(), options.input.size());
        (void)n;
    }
    close(in_w);
    Result r;
    auto deadline = steady_clock::now() + options.timeout;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        int left = static_cast<int>(duration_cast<milliseconds>(deadline - steady_clock::now()).count());
        if (left <= 0) {
            r.timed_out = true;
            break;
        }
        struct pollfd fds[2] = {{out_open ? out_r : -1, POLLIN, 0}, {err_open ? err_r : -1, POLLIN, 0}};
        if (poll(fds, 2, left) < 0 && errno != EINTR) break;
        if (fds[0].revents) out_open = drain(out_r, r.out);
        if (fds[1].revents) err_open = drain(err_r, r.err);
    }
    if (r.timed_out) kill(-pid, SIGKILL);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    close(out_r);
    close(err_r);
    r.status = r.timed_out ? -1 : decode(ws);
    return r;
}

Background::Background(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
    int in_w;
    pid_ = spawn(argv, env, in_w, out_fd_, err_fd_);
    close(in_w);
}

Background::~Background() {
    if (!status_) {
        kill(-pid_, SIGKILL);
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    close(out_fd_);
    close(err_fd_);
}

void Background::pump(int timeout_ms) {
    struct pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (poll(fds, 2, timeout_ms) <= 0) return;
    if (fds[0].revents && !drain(out_fd_, out_)) { close(out_fd_); out_fd_ = -1; }
    if (fds[1].revents && !drain(err_fd_, err_)) { close(err_fd_); err_fd_ = -1; }
}

bool Background::wait_for_output(const std::string& text, milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (out_.find(text) == std::string::npos) {
        if (steady_clock::now() >= deadline || (out_fd_ < 0 && err_fd_ < 0)) return false;
        pump(50);
    }
    return true;
}

std::optional<int> Background::wait(milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (!status_) {
        int ws = 0;
        pid_t r = waitpid(pid_, &ws, WNOHANG);
        if (r == pid_) {
            status_ = decode(ws);
            break;
        }
        if (steady_clock::now() >= deadline) return std::nullopt;
        if (out_fd_ >= 0 || err_fd_ >= 0) pump(20);
        else std::this_thread::sleep_for(milliseconds(20));
    }
    while (out_fd_ >= 0 || err_fd_ >= 0) pump(100);
    return status_;
}

Terminal::Terminal(const std::vector<std::string>& argv, unsigned short rows, unsigned short cols) {
    struct winsize ws {};
    ws.ws_row = rows;
    ws.ws_col = cols;
    pid_ = forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ < 0) throw std::runtime_error("forkpty");
    if (pid_ == 0) {
        std::vector<char*> a;
        for (const auto& arg : argv) a.push_back(const_cast<char*>(arg.c_str()));
        a.push_back(nullptr);
        execvp(a[0], a.data());
        dprintf(2, "exec %s: %s\n", a[0], strerror(errno));
        _exit(127);
    }
    fcntl(master_, F_SETFD, FD_CLOEXEC);
}

Terminal::~Terminal() {
    if (!status_) {
        kill(-pid_, SIGKILL);
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    close(master_);
}

void Terminal::type(const std::string& keys) {
    ssize_t n = write(master_, keys.data(), keys.size());
    (void)n;
}

void Terminal::resize(unsigned short rows, unsigned short cols) {
    struct winsize ws {};
    ws.ws_row = rows;
    ws.ws_col = cols;
    ioctl(master_, TIOCSWINSZ, &ws);
}

void Terminal::pump(int timeout_ms) {
    struct pollfd fd = {master_, POLLIN, 0};
    if (poll(&fd, 1, timeout_ms) > 0 && !drain(master_, out_))  // EIO once the session is gone
        std::this_thread::sleep_for(milliseconds(timeout_ms));
}

bool Terminal::wait_for_output(const std::string& text, milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    for (;;) {
        size_t at = out_.find(text, seen_);
        if (at != std::string::npos) {
            seen_ = at + text.size();
            return true;
        }
        if (steady_clock::now() >= deadline) return false;
        pump(50);
    }
}

std::optional<int> Terminal::wait(milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (!status_) {
        int ws = 0;
        if (waitpid(pid_, &ws, WNOHANG) == pid_) {
            status_ = decode(ws);
            break;
        }
        if (steady_clock::now() >= deadline) return std::nullopt;
        pump(20);
    }
    for (int i = 0; i < 5; ++i) pump(20);  // what it wrote last
    return status_;
}

std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    for (const auto& task : fs::directory_iterator(dir, ec)) {
        std::ifstream f(task.path() / "children");
        pid_t child;
        while (f >> child) out.push_back(child);
    }
    return out;
}

std::string random_name(const std::string& prefix, size_t hex_digits) {
    std::string out = prefix;
    for (size_t i = 0; i < hex_digits; ++i) out += "0123456789abcdef"[random_int(0, 15)];
    return out;
}

long random_int(long lo, long hi) {
    unsigned long r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r) throw std::runtime_error("getrandom");
    return lo + static_cast<long>(r % static_cast<unsigned long>(hi - lo + 1));
}

namespace {
// The directory of the running test binary: build/<dir>/ of the kit.
fs::path test_binary_dir() { return fs::read_symlink("/proc/self/exe").parent_path(); }
}  // namespace

// Defaults let a student run a test binary by hand: the box built beside it,
// and the kit's build/base-rootfs one level up.
const std::string& base_rootfs() {
    static const std::string path = [] {
        const char* p = getenv("BOX_BASE_ROOTFS");
        return (p && *p) ? std::string(p) : (test_binary_dir().parent_path() / "base-rootfs").string();
    }();
    return path;
}

std::string kit_root() { return test_binary_dir().parent_path().parent_path().string(); }

int box_stage() {
    static int stage = [] {
        auto r = run({box_binary(), "--version"});
        auto at = r.out.find("(stage ");
        return at == std::string::npos ? 0 : std::atoi(r.out.c_str() + at + 7);
    }();
    return stage;
}

const std::string& box_binary() {
    static const std::string path = [] {
        const char* p = getenv("BOX_BIN");
        return (p && *p) ? std::string(p) : (test_binary_dir() / "box").string();
    }();
    return path;
}

std::string fixture_path(const std::string& name) { return (test_binary_dir() / name).string(); }

std::string install_fixture(const std::string& name, const std::string& rootfs) {
    fs::copy_file(test_binary_dir() / name, rootfs + "/" + name, fs::copy_options::overwrite_existing);
    return "/" + name;
}

std::vector<std::string> box_cgroups() {
    std::vector<std::string> out;
    std::set<std::string> mounts;
    std::ifstream mi("/proc/self/mountinfo");
    for (std::string line; std::getline(mi, line);) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::string type = line.substr(dash + 3, line.find(' ', dash + 3) - dash - 3);
        if (type != "cgroup" && type != "cgroup2") continue;
        std::istringstream ss(line);
        std::string id, parent, dev, root, mnt;
        ss >> id >> parent >> dev >> root >> mnt;
        mounts.insert(mnt);
    }
    for (const auto& m : mounts) {
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(m, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) break;
            if (it.depth() > 5) it.disable_recursion_pending();
            if (it->is_directory(ec) && it->path().filename() == "box") {
                it.disable_recursion_pending();
                for (const auto& child : fs::directory_iterator(it->path(), ec))
                    if (child.is_directory(ec)) out.push_back(child.path().string());
            }
        }
    }
    return out;
}

std::string check_environment() {
    if (!fs::exists(box_binary())) return "no box binary at " + box_binary() + " (set BOX_BIN)";
    if (!fs::exists(base_rootfs() + "/bin/busybox"))
        return "no base rootfs at " + base_rootfs() + " (make rootfs, or set BOX_BASE_ROOTFS)";
    if (geteuid() != 0) return "the tests create namespaces and mounts: run them as root";
    return "";
}

void enter_private_network() {
    if (unshare(CLONE_NEWNET) != 0) throw std::runtime_error(std::string("unshare(CLONE_NEWNET): ") + strerror(errno));
    box::sys::set_link_up("lo");  // lib's (it throws box::Error, a std::runtime_error, naming the call)
}

std::vector<std::string> network_links() {
    std::vector<std::string> out;
    if (struct if_nameindex* all = if_nameindex()) {
        for (auto* i = all; i->if_index; ++i) out.push_back(i->if_name);
        if_freenameindex(all);
    }
    return out;
}

Sandbox::Sandbox() {
    char tmpl[] = "/tmp/boxtest-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    // Traversable by others: a user-namespaced container's root is an
    // unprivileged uid on the host and must reach its rootfs below here.
    chmod(dir_.c_str(), 0711);
    fs::create_directories(dir_ + "/state");
    cgroups_before_ = box_cgroups();
}

std::vector<std::string> Sandbox::box_argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {box_binary(), "--root", dir_ + "/state"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

Result Sandbox::box(const std::vector<std::string>& args, const RunOptions& options) const {
    return run(box_argv(args), options);
}

std::string Sandbox::rootfs_copy(const std::string& name) const {
    std::string dst = dir_ + "/" + name;
    auto r = run({"cp", "-a", base_rootfs(), dst});
    if (r.status != 0) throw std::runtime_error("cp -a " + base_rootfs() + ": " + r.err);
    return dst;
}

std::vector<std::string> Sandbox::leftovers() const {
    std::vector<std::string> out;
    std::ifstream mi("/proc/self/mountinfo");
    for (std::string line; std::getline(mi, line);) {
        std::istringstream ss(line);
        std::string id, parent, dev, root, mnt;
        ss >> id >> parent >> dev >> root >> mnt;
        if (mnt.rfind(dir_, 0) == 0) out.push_back("mount " + mnt);
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        std::string pid = e.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos || std::stoi(pid) == getpid()) continue;
        char buf[PATH_MAX];
        ssize_t n = readlink((e.path() / "root").c_str(), buf, sizeof buf - 1);
        std::string root = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
        std::ifstream cf(e.path() / "cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(cf)), {});
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        bool rooted_here = root.rfind(dir_, 0) == 0 || root.rfind(base_rootfs(), 0) == 0;
        if (!rooted_here && cmdline.find(dir_) == std::string::npos) {
            // A container's process after pivot_root: its root reads "/", but
            // its mount table names the sandbox (the overlay's upperdir, say).
            std::ifstream pm(e.path() / "mountinfo");
            std::string mounts((std::istreambuf_iterator<char>(pm)), {});
            rooted_here = mounts.find(dir_ + "/") != std::string::npos;
        }
        if (rooted_here || cmdline.find(dir_) != std::string::npos)
            out.push_back("process " + pid + ": " + cmdline);
    }
    // The network namespace is the test binary's own: a veth of box's (vb...)
    // or a published port in box's NAT table is this test's, as the containers
    // are gone. (The table and a network's sets stay while the network does.)
    for (const auto& link : network_links())
        if (link.rfind("vb", 0) == 0) out.push_back("veth " + link);
    if (box_stage() >= 7)
        for (const char* map : {"publish", "publish_ip"})
            if (run({"nft", "list", "map", "ip", "box", map}).out.find("elements") != std::string::npos)
                out.push_back(std::string("nftables map ip box ") + map + " has elements");
    // New box cgroups, less those of another sandbox's containers (tests of
    // several binaries, or check_regions' workers, may run side by side).
    std::set<std::string> theirs;
    for (const auto& other : fs::directory_iterator("/tmp", ec)) {
        if (other.path().string() == dir_ || other.path().filename().string().rfind("boxtest-", 0) != 0) continue;
        std::error_code ec2;
        for (const auto& c : fs::directory_iterator(other.path() / "state" / "containers", ec2))
            theirs.insert(c.path().filename().string());
    }
    for (const auto& cg : box_cgroups())
        if (std::find(cgroups_before_.begin(), cgroups_before_.end(), cg) == cgroups_before_.end() &&
            !theirs.count(fs::path(cg).filename().string()))
            out.push_back("cgroup " + cg);
    return out;
}

Sandbox::~Sandbox() {
    auto left = leftovers();
    // Give a container that is just exiting a moment before calling it a leak.
    for (int i = 0; i < 40 && !left.empty(); ++i) {
        std::this_thread::sleep_for(milliseconds(25));
        left = leftovers();
    }
    if (std::uncaught_exceptions() == 0) {
        INFO("left behind by the test: " << (left.empty() ? std::string("nothing") : left.front()));
        CHECK(left.empty());
    }
    // Clean up whatever is there so one failure does not spoil the next tests.
    for (const auto& l : left)
        if (l.rfind("process ", 0) == 0) kill(std::stoi(l.substr(8)), SIGKILL);
    if (!left.empty()) std::this_thread::sleep_for(milliseconds(100));  // killed: out of their cgroups
    std::vector<std::string> cgroups;
    for (const auto& l : left) {
        if (l.rfind("mount ", 0) == 0) umount2(l.substr(6).c_str(), MNT_DETACH);
        if (l.rfind("cgroup ", 0) == 0) cgroups.push_back(l.substr(7));
    }
    // A container's cgroup goes once its processes have: thawed first (a frozen
    // process does not die: a test that failed with its container paused),
    // every one killed, then removed as they leave it (retried for 2 s).
    for (const auto& dir : cgroups) {
        if (fs::exists(dir + "/freezer.state")) std::ofstream(dir + "/freezer.state") << "THAWED";
        if (fs::exists(dir + "/cgroup.freeze")) std::ofstream(dir + "/cgroup.freeze") << "0";
        std::ifstream procs(dir + "/cgroup.procs");
        for (pid_t pid; procs >> pid;)
            if (pid > 0) kill(pid, SIGKILL);  // a process of this test's container (its cgroup is new)
    }
    for (int i = 0; i < 40 && !cgroups.empty(); ++i) {
        std::erase_if(cgroups, [](const std::string& dir) {
            if (rmdir(dir.c_str()) != 0 && errno != ENOENT) return false;
            rmdir(dir.substr(0, dir.rfind('/')).c_str());  // box's parent, if now empty
            return true;
        });
        if (!cgroups.empty()) std::this_thread::sleep_for(milliseconds(50));
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

}  // namespace boxtest

namespace boxtest {

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream ss(text);
    for (std::string line; std::getline(ss, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(line);
    }
    return out;
}

std::string shell_words(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        std::string q = "'";
        for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += (out.empty() ? "" : " ") + q + "'";
    }
    return out;
}

std::string trim(const std::string& text) {
    size_t b = text.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = text.find_last_not_of(" \t\r\n");
    return text.substr(b, e - b + 1);
}

std::vector<std::string> words(const std::string& text) {
    std::istringstream ss(text);
    std::vector<std::string> out;
    for (std::string w; ss >> w;) out.push_back(w);
    return out;
}

}  // namespace boxtest

namespace boxtest {
std::string read_host_file(const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), {});
}
}  // namespace boxtest

namespace boxtest {
void check_refusals(const Sandbox& sb, const std::vector<std::string>& before, const std::vector<std::string>& after,
                    const std::vector<Refusal>& refusals, int status) {
    for (const auto& r : refusals) {
        std::vector<std::string> args = before;
        args.insert(args.end(), r.words.begin(), r.words.end());
        args.insert(args.end(), after.begin(), after.end());
        auto result = sb.box(args);
        INFO(r.error);
        REQUIRE_ONE_ERROR_LINE(result, status);
        CHECK(result.err.find(r.error) != std::string::npos);
    }
}
}  // namespace boxtest
