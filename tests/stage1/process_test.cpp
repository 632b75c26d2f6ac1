// Stage 1, black-box: the command's environment, directory, user, exit
// status, signals and terminal.
#include <catch2/catch.hpp>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "harness.hpp"

using namespace boxtest;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("the environment has docker's PATH and HOSTNAME, and -e adds or overrides", "[stage1][env]") {
    Sandbox sb;
    std::string key = "K" + random_name("", 6), value = random_name("v");
    std::string name = random_name("h");
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "-h", name, "-e", key + "=" + value, "-e",
                     "HOME=/" + value, "env"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto env = lines(r.out);
    auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
    CHECK(has("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    CHECK(has("HOSTNAME=" + name));
    CHECK(has(key + "=" + value));
    CHECK(has("HOME=/" + value));
    CHECK(!has("HOME=/root"));
}

TEST_CASE("-w sets the working directory, creating it if needed", "[stage1][workdir]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    std::string dir = "/" + random_name("w") + "/" + random_name("sub");
    auto r = sb.box({"run", "--rootfs", rootfs, "-w", dir, "pwd"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(trim(r.out) == dir);
    CHECK(fs::is_directory(rootfs + dir));  // made inside the rootfs, not on the host
    CHECK(!fs::exists(dir));
}

TEST_CASE("-u runs the command with the given uid and gid", "[stage1][user]") {
    Sandbox sb;
    long uid = random_int(2000, 60000), gid = random_int(2000, 60000);
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "-u", std::to_string(uid) + ":" + std::to_string(gid),
                     "sh", "-c", "id -u; id -g; grep -E '^(Uid|Gid):' /proc/self/status"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 4);
    CHECK(l[0] == std::to_string(uid));
    CHECK(l[1] == std::to_string(gid));
    auto u = std::to_string(uid), g = std::to_string(gid);
    CHECK(l[2] == "Uid:\t" + u + "\t" + u + "\t" + u + "\t" + u);
    CHECK(l[3] == "Gid:\t" + g + "\t" + g + "\t" + g + "\t" + g);

    // A name is looked up in the container's /etc/passwd (the base has box=1000).
    auto named = sb.box({"run", "--rootfs", base_rootfs(), "-u", "box", "sh", "-c", "id -u; echo $HOME"});
    BOX_SHOW(named);
    REQUIRE(named.status == 0);
    CHECK(lines(named.out) == std::vector<std::string>{"1000", "/home/box"});
}

TEST_CASE("with --userns, root inside is an unprivileged range outside", "[stage1][userns]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    long base = 65536 * random_int(2, 60);
    // Only the range's root may write here: the host sees who really wrote.
    REQUIRE(chown((rootfs + "/tmp").c_str(), static_cast<uid_t>(base), static_cast<gid_t>(base)) == 0);
    std::string file = random_name("f");
    auto r = sb.box({"run", "--rootfs", rootfs, "--userns-range", std::to_string(base) + ":65536", "sh", "-c",
                     "id -u; cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/" + file});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 3);
    CHECK(l[0] == "0");
    std::string map = "0 " + std::to_string(base) + " 65536";
    auto squeeze = [](std::string s) {
        std::istringstream ss(s);
        std::string a, b, c;
        ss >> a >> b >> c;
        return a + " " + b + " " + c;
    };
    CHECK(squeeze(l[1]) == map);
    CHECK(squeeze(l[2]) == map);
    struct stat st {};
    REQUIRE(stat((rootfs + "/tmp/" + file).c_str(), &st) == 0);
    CHECK(st.st_uid == static_cast<uid_t>(base));
    CHECK(st.st_gid == static_cast<gid_t>(base));
}

TEST_CASE("box exits with the command's status", "[stage1][exit]") {
    Sandbox sb;
    int code = static_cast<int>(random_int(1, 120));
    auto ok = sb.box({"run", "--rootfs", base_rootfs(), "true"});
    BOX_SHOW(ok);
    CHECK(ok.status == 0);
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "sh", "-c", "exit " + std::to_string(code)});
    BOX_SHOW(r);
    CHECK(r.status == code);
    CHECK(r.err.empty());
}

TEST_CASE("a container killed by a signal makes box exit with 128+N", "[stage1][exit][signal]") {
    Sandbox sb;
    Background box(sb.box_argv({"run", "--rootfs", base_rootfs(), "sh", "-c", "echo ready; exec sleep 60"}));
    bool ready = box.wait_for_output("ready", 10s);
    INFO("box's stderr: " << box.err());
    REQUIRE(ready);
    auto kids = children_of(box.pid());
    REQUIRE(kids.size() == 1);  // the container's PID 1, seen from the host
    REQUIRE(kill(kids[0], SIGKILL) == 0);
    auto status = box.wait(10s);
    REQUIRE(status);
    CHECK(*status == 128 + SIGKILL);
}

TEST_CASE("a signal sent to box reaches the container's PID 1", "[stage1][signal]") {
    Sandbox sb;
    const int signals[] = {SIGTERM, SIGUSR1, SIGUSR2, SIGHUP};
    int sig = signals[random_int(0, 3)];
    int code = static_cast<int>(random_int(1, 100));
    std::string name = sigabbrev_np(sig);
    Background box(sb.box_argv({"run", "--rootfs", base_rootfs(), "sh", "-c",
                                "trap 'exit " + std::to_string(code) + "' " + name +
                                    "; echo ready; while :; do sleep 0.05; done"}));
    bool ready = box.wait_for_output("ready", 10s);
    INFO("box's stderr: " << box.err());
    REQUIRE(ready);
    REQUIRE(kill(box.pid(), sig) == 0);
    auto status = box.wait(10s);
    INFO("signal SIG" << name << ", stderr: " << box.err());
    REQUIRE(status);
    CHECK(*status == code);
}

TEST_CASE("-t gives the command a terminal of the container's own", "[stage1][tty]") {
    Sandbox sb;
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "-t", "sh", "-c",
                     "tty; [ -t 1 ] && echo is-a-tty; echo $TERM; stty size"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() >= 3);
    CHECK(l[0] == "/dev/pts/0");
    CHECK(l[1] == "is-a-tty");
    CHECK(l[2] == "xterm");
    auto plain = sb.box({"run", "--rootfs", base_rootfs(), "sh", "-c", "[ -t 1 ] || echo no-tty"});
    CHECK(trim(plain.out) == "no-tty");
}

TEST_CASE("-i passes stdin to the command; without it stdin is empty", "[stage1][stdin]") {
    Sandbox sb;
    std::string text = random_name("line-");
    RunOptions in;
    in.input = text + "\n";
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "-i", "cat"}, in);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(trim(r.out) == text);
    auto closed = sb.box({"run", "--rootfs", base_rootfs(), "cat"}, in);
    REQUIRE(closed.status == 0);
    CHECK(closed.out.empty());
}

TEST_CASE("the command starts with no signal blocked or ignored, whatever box's caller ignored",
          "[stage1][signal]") {
    Sandbox sb;
    // As under nohup: box is started with SIGHUP (and SIGINT) ignored.
    std::string cmd = "trap '' HUP INT; exec " + box_binary() + " --root " + sb.dir() + "/state run --rootfs " +
                      base_rootfs() + " cat /proc/self/status";
    auto r = run({"sh", "-c", cmd});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    std::string ignored, blocked;
    for (const auto& l : lines(r.out)) {
        if (l.rfind("SigIgn:", 0) == 0) ignored = trim(l.substr(7));
        if (l.rfind("SigBlk:", 0) == 0) blocked = trim(l.substr(7));
    }
    CHECK(ignored == "0000000000000000");
    CHECK(blocked == "0000000000000000");
}

TEST_CASE("only stdin, stdout and stderr cross into the container, not a directory the caller holds",
          "[stage1][fds]") {
    Sandbox sb;
    std::string host = sb.dir() + "/host-only";
    fs::create_directories(host);
    std::string secret = random_name("secret-");
    std::ofstream(host + "/note") << secret << "\n";
    // The caller of box holds fd 7 on a host directory and fd 8 on a file
    // (neither close-on-exec, as a shell leaves them). Through /proc/self/fd/7/
    // a container would read the host's files (runc's CVE-2024-21626).
    std::string inside = "ls /proc/self/fd; cat /proc/self/fd/7/note 2>/dev/null || echo unreadable; "
                         "{ echo written >&8; } 2>/dev/null || echo unwritable";
    std::string script = "exec 7<" + host + " 8>" + sb.dir() + "/fd8; cat /proc/self/fd/7/note; exec " +
                         shell_words(sb.box_argv({"run", "--rootfs", base_rootfs(), "sh", "-c", inside}));
    auto r = run({"sh", "-c", script});
    BOX_SHOW(r);
    auto l = lines(r.out);
    REQUIRE(!l.empty());
    CHECK(l[0] == secret);  // the caller could: the test can tell
    REQUIRE(r.status == 0);  // the container ran
    std::vector<std::string> fds(l.begin() + 1, l.end());
    CHECK(std::find(fds.begin(), fds.end(), "0") != fds.end());  // its own stdio, listed
    CHECK(std::find(fds.begin(), fds.end(), "7") == fds.end());
    CHECK(std::find(fds.begin(), fds.end(), "8") == fds.end());
    CHECK(std::count(l.begin(), l.end(), secret) == 1);  // not read again from inside
    CHECK(std::count(l.begin(), l.end(), "unreadable") == 1);
    CHECK(std::count(l.begin(), l.end(), "unwritable") == 1);
    CHECK(read_host_file(sb.dir() + "/fd8").empty());
}

TEST_CASE("a command cannot make box's own binary run in the container (CVE-2019-5736)", "[stage1][exe]") {
    // While the kernel execs a script, its "#!/proc/self/exe" names the binary
    // of the process calling execve. The root filesystem plays a hostile
    // image: the libraries box's binary needs (so that it could run in here),
    // a library preloaded into every dynamic program, which prints where it
    // landed, and that script.
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    auto copy_in = [&](const std::string& host, const std::string& inside) {
        fs::create_directories(fs::path(rootfs + inside).parent_path());
        fs::copy_file(fs::canonical(host), rootfs + inside, fs::copy_options::overwrite_existing);
    };
    auto deps = run({"ldd", box_binary()});
    REQUIRE(deps.status == 0);
    for (const auto& l : lines(deps.out)) {
        auto w = words(l);
        auto arrow = std::find(w.begin(), w.end(), "=>");
        std::string lib = arrow != w.end() && arrow + 1 != w.end() ? *(arrow + 1) : w.empty() ? "" : w[0];
        if (lib.rfind("/", 0) == 0) copy_in(lib, lib);
    }
    copy_in("/usr/bin/true", "/hosttrue");  // a dynamic program of the host's, for the control
    copy_in(fixture_path("thief/exe-thief.so"), "/thief.so");
    { std::ofstream(rootfs + "/evil") << "#!/proc/self/exe\n"; }
    fs::permissions(rootfs + "/evil", fs::perms(0755));
    auto run_box = [&](const std::string& cmd) {
        return sb.box({"run", "--rootfs", rootfs, "-e", "LD_PRELOAD=/thief.so", cmd});
    };
    auto control = run_box("/hosttrue");
    BOX_SHOW(control);
    CHECK(control.out.find("thief: exe=/hosttrue") != std::string::npos);  // the test can tell
    auto attack = run_box("/evil");
    BOX_SHOW(attack);
    CHECK(attack.out.find("thief:") == std::string::npos);  // box's binary did not run in there
    CHECK(attack.status == 126);
}
