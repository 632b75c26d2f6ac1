// Stage 4, black-box: the tutorial's container commands, checked against what
// the kernel and the files show.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "support.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

TEST_CASE("run -d keeps a container running under a shim; ps, logs, stop, start and rm follow docker",
          "[stage4][lifecycle]") {
    Sandbox sb;
    import_busybox(sb);
    std::string name = random_name("web-", 6);
    std::string id = run_detached(sb, {"--name", name}, hello_loop());
    CHECK(std::regex_match(id, std::regex("[0-9a-f]{64}")));

    // The kernel's view: the container's first process runs in namespaces of
    // its own, and its parent is the shim, which box run -d left behind.
    auto info = inspect(sb, name);
    pid_t pid = info["State"]["Pid"];
    REQUIRE(pid > 0);
    CHECK(alive(pid));
    CHECK(fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/pid") != fs::read_symlink("/proc/self/ns/pid"));
    pid_t shim = std::stoi(proc_status(pid, "PPid"));
    CHECK(proc_status(shim, "Name") == "box-shim");
    CHECK(info["Id"] == id);
    CHECK(info["Name"] == "/" + name);
    CHECK(info["State"]["Status"] == "running");

    auto ps = sb.box({"ps"});
    CHECK(ps.out.rfind("CONTAINER ID   IMAGE     COMMAND", 0) == 0);
    CHECK(std::regex_search(ps.out, std::regex(id.substr(0, 12) + " +busybox +\"sh -c while true; d…\" +.* Up .* " + name)));

    // logs: the lines so far; -f follows new ones as they come.
    CHECK(eventually([&] { return sb.box({"logs", name}).out.find("hello world\nhello world\n") != std::string::npos; }));
    Background follow(sb.box_argv({"logs", "-f", "--tail", "0", name}));
    CHECK(follow.wait_for_output("hello world\n", std::chrono::seconds(5)));
    auto stamped = sb.box({"logs", "-t", "--tail", "1", name});
    CHECK(std::regex_match(stamped.out, std::regex("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z hello world\n")));

    // stop: sh as PID 1 ignores SIGTERM, so after the grace time SIGKILL: 137.
    auto stop = sb.box({"stop", "-t", "1", name});
    CHECK(stop.status == 0);
    CHECK(trim(stop.out) == name);
    CHECK_FALSE(alive(pid));
    CHECK(follow.wait(std::chrono::seconds(5)).value_or(-1) == 0);  // logs -f ends with it
    CHECK(sb.box({"ps", "-q"}).out.empty());
    CHECK(std::regex_search(sb.box({"ps", "-a"}).out, std::regex("Exited \\(137\\) .* ago +" + name)));
    info = inspect(sb, id.substr(0, 8));  // a prefix of the id names it too
    CHECK(info["State"]["ExitCode"] == 137);
    CHECK(info["State"]["Pid"] == 0);

    // start: the same container (same writable layer) runs again.
    REQUIRE(sb.box({"exec", name, "true"}).status != 0);  // not running: nothing to enter
    REQUIRE(sb.box({"start", name}).status == 0);
    pid_t again = inspect(sb, name)["State"]["Pid"];
    CHECK(alive(again));
    CHECK(again != pid);

    // rename: the running container answers to the new name only; the store's
    // name index says so too.
    std::string renamed = name + "-2";
    REQUIRE(sb.box({"rename", name, renamed}).status == 0);
    CHECK(fs::read_symlink(sb.dir() + "/state/container-names/" + renamed) == id);
    CHECK(sb.box({"inspect", name}).status != 0);
    CHECK(inspect(sb, renamed)["State"]["Pid"] == again);
    REQUIRE(sb.box({"rename", renamed, name}).status == 0);

    // rm refuses a running container with docker's message; rm -f kills it.
    auto refused = sb.box({"rm", name});
    CHECK(refused.status != 0);
    CHECK(refused.err.find("You cannot remove a running container " + id) != std::string::npos);
    CHECK(alive(again));
    auto removed = sb.box({"rm", "-f", name});
    CHECK(removed.status == 0);
    CHECK_FALSE(alive(again));
    CHECK_FALSE(fs::exists(sb.dir() + "/state/containers/" + id));
    CHECK(sb.box({"ps", "-aq"}).out.empty());
}

TEST_CASE("exec sees the container's hostname, processes and files, and leaves it running", "[stage4][exec]") {
    Sandbox sb;
    import_busybox(sb);
    std::string host = random_name("h", 6);
    std::string id = run_detached(sb, {"-h", host, "-e", "GREETING=hi", "--pids-limit", "50"}, {"sleep", "300"});
    auto exec = [&](std::vector<std::string> cmd, const std::vector<std::string>& flags = {}) {
        std::vector<std::string> args = {"exec"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.push_back(id.substr(0, 12));
        args.insert(args.end(), cmd.begin(), cmd.end());
        return sb.box(args);
    };
    CHECK(trim(exec({"hostname"}).out) == host);
    CHECK(trim(exec({"sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline"}).out) == "sleep 300");
    CHECK(trim(exec({"sh", "-c", "echo $GREETING"}).out) == "hi");  // the container's environment
    CHECK(trim(exec({"sh", "-c", "echo $GREETING"}, {"-e", "GREETING=yo"}).out) == "yo");
    std::string word = random_name("w-");
    CHECK(exec({"sh", "-c", "echo " + word + " > /note"}).status == 0);
    CHECK(trim(exec({"cat", "/note"}).out) == word);
    CHECK(trim(exec({"pwd"}, {"-w", "/tmp"}).out) == "/tmp");
    CHECK(trim(exec({"id", "-u"}, {"-u", "1234"}).out) == "1234");
    CHECK(exec({"sh", "-c", "exit 7"}).status == 7);
    auto missing = exec({"no-such-command"});
    CHECK(missing.status == 127);
    // Its process was in the container: same PID namespace as the container's init.
    auto ns = exec({"readlink", "/proc/self/ns/pid"});
    CHECK(trim(ns.out) == fs::read_symlink("/proc/" + std::to_string(inspect(sb, id)["State"]["Pid"].get<int>()) + "/ns/pid").string());
    // ...and in its cgroup: it sees its own cgroups as PID 1 sees its own (the
    // cgroup namespace's root, "/", in every hierarchy); a process left in
    // box's cgroup would see a path above the root ("/../..").
    auto own = exec({"cat", "/proc/self/cgroup"});
    CHECK(own.out == exec({"cat", "/proc/1/cgroup"}).out);
    CHECK(own.out.find("/..") == std::string::npos);
    CHECK_FALSE(own.out.empty());
    // A terminal of the container's own, through a pty of the test's.
    auto tty = run({"script", "-qefc", box_binary() + " --root " + sb.dir() + "/state exec -it " + id + " tty", "/dev/null"});
    CHECK(tty.out.find("/dev/pts/") != std::string::npos);
    // Leaving it did not stop the container.
    CHECK(inspect(sb, id)["State"]["Running"] == true);
    // Only 0-2 cross: a host directory the caller of exec holds as fd 7 is
    // not the command's (through it, /proc/self/fd/7/ is the host's files).
    std::string held = sb.dir() + "/held";
    fs::create_directories(held);
    auto fds = run({"sh", "-c", "exec 7<" + held + "; ls /proc/self/fd/7/ >/dev/null && exec " +
                                    shell_words(sb.box_argv({"exec", id, "ls", "/proc/self/fd"}))});
    BOX_SHOW(fds);
    CHECK(fds.status == 0);
    auto listed = lines(fds.out);
    CHECK(std::find(listed.begin(), listed.end(), "0") != listed.end());
    CHECK(std::find(listed.begin(), listed.end(), "7") == listed.end());
    // top: its processes, by host PID.
    auto top = sb.box({"top", id});
    CHECK(top.status == 0);
    CHECK(top.out.find(" " + std::to_string(inspect(sb, id)["State"]["Pid"].get<int>()) + " ") != std::string::npos);
    CHECK(top.out.find("sleep 300") != std::string::npos);
    CHECK(sb.box({"rm", "-f", id}).status == 0);
}

TEST_CASE("stop sends SIGTERM and waits up to -t for the container to exit before SIGKILL", "[stage4][stop]") {
    Sandbox sb;
    import_busybox(sb);
    // The shell traps TERM, takes a second to finish, and exits 7: a stop that
    // kills at once, or does not wait, ends it with 137 and no "got TERM".
    std::string word = random_name("term-");
    std::string id = run_detached(sb, {}, {"sh", "-c", "trap 'sleep 1; echo " + word + "; exit 7' TERM; echo ready; "
                                           "while true; do sleep 0.1; done"});
    REQUIRE(eventually([&] { return sb.box({"logs", id}).out.find("ready") != std::string::npos; }));
    auto stop = sb.box({"stop", "-t", "30", id});
    BOX_SHOW(stop);
    CHECK(stop.status == 0);
    CHECK(inspect(sb, id)["State"]["ExitCode"] == 7);
    CHECK(sb.box({"logs", id}).out.find(word) != std::string::npos);
    // One that ignores TERM is killed once -t has passed: 137.
    std::string stubborn = run_detached(sb, {}, {"sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"});
    REQUIRE(eventually([&] { return sb.box({"logs", stubborn}).out.find("ready") != std::string::npos; }));
    CHECK(sb.box({"stop", "-t", "1", stubborn}).status == 0);
    CHECK(inspect(sb, stubborn)["State"]["ExitCode"] == 137);
    CHECK_FALSE(inspect(sb, stubborn)["State"]["Running"].get<bool>());
}

TEST_CASE("--stop-signal and --stop-timeout are what stop sends and waits; the image's STOPSIGNAL is the default",
          "[stage4][stop]") {
    Sandbox sb;
    import_busybox(sb);
    // The shell, PID 1, traps USR1 only: TERM does nothing to it, USR1 makes it say so and exit 5.
    std::string script = "trap 'echo got USR1; exit 5' USR1; echo ready; while true; do sleep 0.1; done";
    std::string id = run_detached(sb, {"--stop-signal", "SIGUSR1"}, {"sh", "-c", script});
    CHECK(inspect(sb, id)["Config"]["StopSignal"] == "SIGUSR1");
    REQUIRE(eventually([&] { return sb.box({"logs", id}).out.find("ready") != std::string::npos; }));
    CHECK(sb.box({"stop", id}).status == 0);
    CHECK(inspect(sb, id)["State"]["ExitCode"] == 5);
    CHECK(sb.box({"logs", id}).out.find("got USR1") != std::string::npos);

    // --stop-timeout 1: a container that ignores its stop signal is killed after 1 s, not 10.
    std::string stubborn = run_detached(sb, {"--stop-timeout", "1"}, {"sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"});
    CHECK(inspect(sb, stubborn)["Config"]["StopTimeout"] == 1);
    REQUIRE(eventually([&] { return sb.box({"logs", stubborn}).out.find("ready") != std::string::npos; }));
    auto start = std::chrono::steady_clock::now();
    CHECK(sb.box({"stop", stubborn}).status == 0);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(8));
    CHECK(inspect(sb, stubborn)["State"]["ExitCode"] == 137);

    // An image's STOPSIGNAL, when run says none (commit -c makes one here).
    REQUIRE(sb.box({"commit", "-c", "STOPSIGNAL USR1", id, "usr1:latest"}).status == 0);
    std::string from_image = run_detached(sb, {}, {"sh", "-c", script});  // busybox: TERM
    std::string with_image = trim(sb.box({"run", "-d", "usr1", "sh", "-c", script}).out);
    CHECK(inspect(sb, with_image)["Config"]["StopSignal"] == "USR1");
    REQUIRE(eventually([&] { return sb.box({"logs", with_image}).out.find("ready") != std::string::npos; }));
    CHECK(sb.box({"stop", with_image}).status == 0);
    CHECK(inspect(sb, with_image)["State"]["ExitCode"] == 5);
    // busybox's own: TERM, which a shell as PID 1 without a trap for it ignores.
    REQUIRE(eventually([&] { return sb.box({"logs", from_image}).out.find("ready") != std::string::npos; }));
    CHECK(sb.box({"stop", "-t", "1", from_image}).status == 0);
    CHECK(inspect(sb, from_image)["State"]["ExitCode"] == 137);
    CHECK(sb.box({"logs", from_image}).out.find("got USR1") == std::string::npos);

    auto bad = sb.box({"run", "-d", "--stop-signal", "SIGNOPE", "busybox", "true"});
    REQUIRE_ONE_ERROR_LINE(bad, 125);
    CHECK(bad.err.find("Invalid signal: SIGNOPE") != std::string::npos);
    CHECK(sb.box({"rm", "-f", id, stubborn, from_image, with_image}).status == 0);
    CHECK(sb.box({"ps", "-aq"}).out.empty());  // the refused one was never made
    CHECK(sb.box({"rmi", "usr1"}).status == 0);
}

TEST_CASE("--restart on-failure:2 restarts twice, then the exit code stays", "[stage4][restart]") {
    Sandbox sb;
    import_busybox(sb);
    std::string id = run_detached(sb, {"--restart", "on-failure:2"}, {"sh", "-c", "echo ran; exit 3"});
    CHECK(eventually([&] {
        auto s = inspect(sb, id)["State"];
        return s["Status"] == "exited" && inspect(sb, id)["RestartCount"] == 2;
    }));
    auto info = inspect(sb, id);
    CHECK(info["State"]["ExitCode"] == 3);
    CHECK(info["HostConfig"]["RestartPolicy"]["Name"] == "on-failure");
    CHECK(eventually([&] { return sb.box({"logs", id}).out == "ran\nran\nran\n"; }));
    CHECK(trim(sb.box({"wait", id}).out) == "3");
    CHECK(sb.box({"rm", id}).status == 0);
}

TEST_CASE("--restart always restarts after success, and stop ends it; on-failure leaves a success alone",
          "[stage4][restart]") {
    Sandbox sb;
    import_busybox(sb);
    // Each run appends a line to a host file: what really ran, not only what box recorded.
    std::string runs = sb.dir() + "/runs";
    fs::create_directories(runs);
    auto ran = [&] { return lines(read_host_file(runs + "/log")).size(); };
    std::string id = run_detached(sb, {"--restart", "always", "-v", runs + ":/runs"},
                                  {"sh", "-c", "echo ran; echo ran >> /runs/log; sleep 0.1"});
    CHECK(eventually([&] { return inspect(sb, id)["RestartCount"].get<int>() >= 2; }));
    CHECK(sb.box({"stop", "-t", "1", id}).status == 0);
    auto stopped = inspect(sb, id);
    CHECK(stopped["State"]["Status"] == "exited");
    int count = stopped["RestartCount"].get<int>();
    // RestartCount counts restarts decided; the last may have been pending when stopped.
    size_t runs_at_stop = ran();
    CHECK(runs_at_stop >= static_cast<size_t>(count));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // longer than the back-off so far
    CHECK(inspect(sb, id)["RestartCount"].get<int>() == count);  // stopped by the user: not restarted
    CHECK(inspect(sb, id)["State"]["Status"] == "exited");
    CHECK(ran() == runs_at_stop);  // and nothing ran since
    // Started again by the user, the policy applies again.
    CHECK(sb.box({"start", id}).status == 0);
    CHECK(eventually([&] { return inspect(sb, id)["RestartCount"].get<int>() >= count + 2; }));
    CHECK(sb.box({"stop", "-t", "1", id}).status == 0);
    CHECK(ran() >= runs_at_stop + 2);  // the start's run, and at least one restart

    std::string ok = run_detached(sb, {"--restart", "on-failure"}, {"true"});
    CHECK(trim(sb.box({"wait", ok}).out) == "0");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(inspect(sb, ok)["RestartCount"] == 0);
    CHECK(inspect(sb, ok)["State"]["Status"] == "exited");
    CHECK(sb.box({"rm", id, ok}).status == 0);
}

TEST_CASE("a foreground run is kept as an exited container; --rm removes it; rmi refuses its image",
          "[stage4][lifecycle]") {
    Sandbox sb;
    std::string image = import_busybox(sb);
    auto r = sb.box({"run", "--name", "once", "busybox", "sh", "-c", "exit 5"});
    CHECK(r.status == 5);
    CHECK(std::regex_search(sb.box({"ps", "-a"}).out, std::regex("Exited \\(5\\) .* once")));
    CHECK(sb.box({"ps"}).out.find("once") == std::string::npos);
    // The image is in use: rmi refuses, as docker does, until the container goes.
    auto rmi = sb.box({"rmi", "busybox"});
    CHECK(rmi.status != 0);
    CHECK(rmi.err.find("is using its referenced image") != std::string::npos);
    CHECK(sb.box({"rm", "once"}).status == 0);

    CHECK(sb.box({"run", "--rm", "busybox", "true"}).status == 0);
    // A detached one's exit code is what its shim recorded.
    run_detached(sb, {"--name", "fin"}, {"sh", "-c", "exit 4"});
    CHECK(trim(sb.box({"wait", "fin"}).out) == "4");
    CHECK(sb.box({"rm", "fin"}).status == 0);
    std::string id = run_detached(sb, {"--rm"}, {"sh", "-c", "sleep 0.2"});
    CHECK(eventually([&] { return !fs::exists(sb.dir() + "/state/containers/" + id); }));
    // Stopped, a --rm container goes too; the stop itself succeeds.
    std::string stopped = run_detached(sb, {"--rm"}, {"sleep", "300"});
    auto stop = sb.box({"stop", "-t", "0", stopped});
    BOX_SHOW(stop);
    CHECK(stop.status == 0);
    CHECK(eventually([&] { return !fs::exists(sb.dir() + "/state/containers/" + stopped); }));
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(sb.box({"rmi", "busybox"}).status == 0);
}

TEST_CASE("inspect tells OOMKilled after an OOM kill, and -f picks fields", "[stage4][inspect]") {
    Sandbox sb;
    import_busybox(sb);
    // A shell that doubles a string until the 8 MiB limit stops it; detached,
    // so that the shim records how it ended.
    run_detached(sb, {"--name", "hog", "-m", "8m", "--memory-swap", "8m"},
                 {"sh", "-c", "x=xxxxxxxxxxxxxxxx; while true; do x=$x$x; done"});
    CHECK(trim(sb.box({"wait", "hog"}).out) == "137");
    auto state = inspect(sb, "hog")["State"];
    CHECK(state["OOMKilled"] == true);
    CHECK(state["ExitCode"] == 137);
    CHECK(trim(sb.box({"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", "hog"}).out) ==
          "exited 137 /hog");
    auto bad = sb.box({"inspect", "-f", "{{.State.Nope}}", "hog"});
    CHECK(bad.status != 0);
    CHECK(sb.box({"rm", "hog"}).status == 0);
}

TEST_CASE("diff lists what a container added, changed and deleted; commit makes an image of it",
          "[stage4][commit]") {
    Sandbox sb;
    import_busybox(sb);
    std::string id = run_detached(sb, {"--name", "work"}, {"sleep", "300"});
    std::string word = random_name("made-");
    // /usr/sbin removed and made again: overlayfs marks the new one opaque,
    // so none of the image's /usr/sbin shows through it.
    REQUIRE(sb.box({"exec", "work", "sh", "-c",
                    "echo " + word + " > /new; echo motd > /etc/motd; rm /etc/profile; "
                    "rm -rf /usr/sbin && mkdir /usr/sbin && echo only > /usr/sbin/only"})
                .status == 0);
    auto diff = sb.box({"diff", "work"});
    BOX_SHOW(diff);
    auto l = lines(diff.out);
    CHECK(std::find(l.begin(), l.end(), "A /new") != l.end());
    CHECK(std::find(l.begin(), l.end(), "C /etc") != l.end());
    CHECK(std::find(l.begin(), l.end(), "A /etc/motd") != l.end());
    CHECK(std::find(l.begin(), l.end(), "D /etc/profile") != l.end());

    auto commit = sb.box({"commit", "-m", "a note", "-a", "Student <s@example.org>", "-c", "CMD [\"cat\", \"/new\"]",
                          "work", "noted:v1"});
    BOX_SHOW(commit);
    REQUIRE(commit.status == 0);
    CHECK(std::regex_match(trim(commit.out), std::regex("sha256:[0-9a-f]{64}")));
    auto shown = sb.box({"run", "--rm", "noted:v1"});
    CHECK(trim(shown.out) == word);  // the new CMD, and the file from the container
    CHECK(sb.box({"run", "--rm", "noted:v1", "test", "-e", "/etc/profile"}).status == 1);  // the deletion too
    CHECK(sb.box({"run", "--rm", "noted:v1", "ls", "/usr/sbin"}).out == "only\n");    // and the opaque directory
    auto history = sb.box({"history", "noted:v1"});
    CHECK(history.out.find("a note") != std::string::npos);
    auto config = nlohmann::json::parse(sb.box({"image", "inspect", "noted:v1"}).out).at(0);
    CHECK(config["Author"] == "Student <s@example.org>");

    // export: the whole filesystem as a tar; import makes a one-layer image of it.
    std::string tar = sb.dir() + "/work.tar";
    REQUIRE(sb.box({"export", "-o", tar, "work"}).status == 0);
    auto listing = lines(run({"tar", "-tf", tar}).out);
    CHECK(std::find(listing.begin(), listing.end(), "new") != listing.end());
    CHECK(std::find(listing.begin(), listing.end(), "etc/profile") == listing.end());
    REQUIRE(sb.box({"import", tar, "flat:v1"}).status == 0);
    CHECK(trim(sb.box({"run", "--rm", "flat:v1", "cat", "/new"}).out) == word);
    CHECK(sb.box({"run", "--rm", "flat:v1", "test", "-e", "/etc/profile"}).status == 1);
    CHECK(sb.box({"rm", "-f", "work"}).status == 0);
}

TEST_CASE("bad input gets one clear line and leaves no container behind", "[stage4][errors]") {
    Sandbox sb;
    import_busybox(sb);
    // First what works: a detached container's end is recorded.
    run_detached(sb, {"--name", "fine"}, {"true"});
    CHECK(trim(sb.box({"wait", "fine"}).out) == "0");
    CHECK(sb.box({"rm", "fine"}).status == 0);
    REQUIRE_ONE_ERROR_LINE(sb.box({"rm", "no-such-box"}), 1);
    REQUIRE_ONE_ERROR_LINE(sb.box({"logs", "no-such-box"}), 1);
    REQUIRE_ONE_ERROR_LINE(sb.box({"run", "--restart", "sometimes", "busybox", "true"}), 125);
    REQUIRE_ONE_ERROR_LINE(sb.box({"run", "--rm", "--restart", "always", "busybox", "true"}), 125);
    REQUIRE_ONE_ERROR_LINE(sb.box({"run", "--name", "bad/name", "busybox", "true"}), 125);
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    // A name is taken once.
    CHECK(sb.box({"create", "--name", "taken", "busybox", "true"}).status == 0);
    auto dup = sb.box({"run", "--name", "taken", "busybox", "true"});
    REQUIRE_ONE_ERROR_LINE(dup, 125);
    CHECK(dup.err.find("is already in use") != std::string::npos);
    CHECK(lines(sb.box({"ps", "-aq"}).out).size() == 1);
    CHECK(std::regex_search(sb.box({"ps", "-a"}).out, std::regex("Created +taken")));
    // A command that does not exist: 127, and the container stays "Created", as in docker.
    CHECK(sb.box({"run", "--name", "nocmd", "busybox", "no-such-command"}).status == 127);
    CHECK(inspect(sb, "nocmd")["State"]["ExitCode"] == 127);
    REQUIRE_ONE_ERROR_LINE(sb.box({"kill", "-s", "NOPE", "taken"}), 1);
    CHECK(sb.box({"container", "prune", "-f"}).status == 0);
    CHECK(sb.box({"ps", "-aq"}).out.empty());
}

TEST_CASE("a killed box leaves state that ps, rm -f and prune handle, and nothing else", "[stage4][crash]") {
    Sandbox sb;
    import_busybox(sb);
    std::string first = run_detached(sb, {}, {"sh", "-c", "exit 6"});
    CHECK(trim(sb.box({"wait", first}).out) == "6");
    // Each of these box commands killed at a random moment, a few times over.
    auto kill_midway = [&](const std::vector<std::string>& args) {
        Background box(sb.box_argv(args));
        std::this_thread::sleep_for(std::chrono::milliseconds(random_int(0, 60)));
        ::kill(box.pid(), SIGKILL);
        box.wait(std::chrono::seconds(5));
        auto ps = sb.box({"ps", "-a"});
        BOX_SHOW(ps);
        REQUIRE(ps.status == 0);  // whatever it left, the store reads
    };
    for (int round = 0; round < 4; ++round) {
        kill_midway({"run", "-d", "busybox", "sleep", "300"});
        std::string id = run_detached(sb, {}, {"sh", "-c", "mkdir -p /data; echo x > /data/f; sleep 300"});
        kill_midway({"commit", id, "snap:" + std::to_string(round)});
        kill_midway({"rm", "-f", id});
    }
    for (const auto& id : lines(sb.box({"ps", "-aq"}).out)) {
        auto rm = sb.box({"rm", "-f", id});
        BOX_SHOW(rm);
        CHECK(rm.status == 0);
    }
    CHECK(sb.box({"container", "prune", "-f"}).status == 0);
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(container_dirs(sb) == 0);
    // Images that a cut-short commit made are whole or absent: each one runs.
    for (const auto& image : lines(sb.box({"images", "-q"}).out)) CHECK(sb.box({"run", "--rm", image, "true"}).status == 0);
    // The Sandbox checks, as it goes, that no mount, process or cgroup is left.
}

TEST_CASE("pause freezes every process of a container, unpause thaws them; stats shows its use",
          "[stage4][pause]") {
    Sandbox sb;
    import_busybox(sb);
    std::string id = run_detached(sb, {"--name", "ticker"}, {"sh", "-c", "while true; do echo tick; sleep 0.1; done"});
    auto count = [&] { return lines(sb.box({"logs", "ticker"}).out).size(); };
    REQUIRE(eventually([&] { return count() >= 2; }));
    REQUIRE(sb.box({"pause", "ticker"}).status == 0);
    // The kernel's view: the freezer of its cgroup says so, and no line comes.
    pid_t pid = inspect(sb, id)["State"]["Pid"];
    std::string freezer;
    for (const auto& l : lines(read_host_file("/proc/" + std::to_string(pid) + "/cgroup"))) {
        if (l.find(":freezer:") != std::string::npos) freezer = "/sys/fs/cgroup/freezer" + l.substr(l.rfind(':') + 1) + "/freezer.state";
        if (l.rfind("0::", 0) == 0 && freezer.empty() && fs::exists("/sys/fs/cgroup/cgroup.controllers"))
            freezer = "/sys/fs/cgroup" + l.substr(3) + "/cgroup.freeze";
    }
    INFO(freezer);
    CHECK((trim(read_host_file(freezer)) == "FROZEN" || trim(read_host_file(freezer)) == "1"));
    size_t frozen_at = count();
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    CHECK(count() == frozen_at);
    CHECK(std::regex_search(sb.box({"ps"}).out, std::regex("Up .* \\(Paused\\) +ticker")));
    CHECK(inspect(sb, id)["State"]["Paused"] == true);
    CHECK(sb.box({"exec", "ticker", "true"}).status != 0);
    REQUIRE(sb.box({"unpause", "ticker"}).status == 0);
    CHECK(eventually([&] { return count() > frozen_at + 2; }));

    auto stats = sb.box({"stats", "--no-stream", "ticker"});
    BOX_SHOW(stats);
    CHECK(stats.out.rfind("CONTAINER ID   NAME      CPU %", 0) == 0);
    CHECK(std::regex_search(stats.out, std::regex(id.substr(0, 12) + " +ticker +[0-9.]+% +[0-9.]+[KMG]?i?B / [0-9.]+[KMG]iB")));
    // A paused container can be removed by force.
    REQUIRE(sb.box({"pause", "ticker"}).status == 0);
    CHECK(sb.box({"rm", "-f", "ticker"}).status == 0);
    CHECK_FALSE(alive(pid));
}
