// Stage 4, black-box: a container's stdio held by its shim, reached by
// run -it, attach and start -a; typed through a terminal of the test's own.
#include <catch2/catch.hpp>
#include <signal.h>

#include "support.hpp"

using namespace boxtest;
using namespace std::chrono_literals;

TEST_CASE("run -it: a terminal of the container's, Ctrl-P Ctrl-Q leaves it running, attach takes it back",
          "[stage4][attach]") {
    Sandbox sb;
    import_busybox(sb);
    Terminal run(sb.box_argv({"run", "-it", "--name", "shell", "busybox", "sh"}), 30, 97);
    // The window size is the user's, and what is typed reaches the shell.
    run.type("stty size; echo marker-$((6*7))\r");
    REQUIRE(run.wait_for_output("marker-42", 20s));
    CHECK(run.out().find("30 97") != std::string::npos);

    // The kernel's view: the shell's parent is the shim, not the box the user typed.
    pid_t pid = inspect(sb, "shell")["State"]["Pid"];
    REQUIRE(pid > 0);
    pid_t parent = std::stoi(proc_status(pid, "PPid"));
    CHECK(proc_status(parent, "Name") == "box-shim");
    CHECK(parent != run.pid());

    // Ctrl-P Ctrl-Q: box goes (0, quietly), the shell stays.
    run.type("\x10\x11");
    CHECK(run.wait(10s).value_or(-1) == 0);
    CHECK(run.out().find("read escape sequence") == std::string::npos);
    CHECK(alive(pid));
    CHECK(inspect(sb, "shell")["State"]["Status"] == "running");

    {
        // attach: the same shell; a Ctrl-P not followed by Ctrl-Q is passed on
        // (the shell's history key: the last command again); the window size
        // follows the attached terminal, and a resize reaches the shell.
        Terminal again(sb.box_argv({"attach", "shell"}), 24, 80);
        again.type("echo back-$((1+1))\r");
        REQUIRE(again.wait_for_output("back-2", 20s));
        again.type("stty size\r");
        CHECK(again.wait_for_output("24 80", 10s));
        again.resize(50, 132);
        std::this_thread::sleep_for(300ms);  // the SIGWINCH travels through box and the shim
        again.type("stty size\r");
        CHECK(again.wait_for_output("50 132", 10s));
        again.type("\x10");
        again.type("\r");
        CHECK(again.wait_for_output("50 132", 10s));  // ^P recalled `stty size`
        // Custom detach keys end `box attach` as docker's: a message and 1.
    }
    {
        Terminal keys(sb.box_argv({"attach", "--detach-keys", "ctrl-x,y", "shell"}), 24, 80);
        keys.type("echo third-$((2+1))\r");
        REQUIRE(keys.wait_for_output("third-3", 20s));
        keys.type("\x18y");
        CHECK(keys.wait(10s).value_or(-1) == 1);
        CHECK(keys.out().find("read escape sequence") != std::string::npos);
        CHECK(alive(pid));
    }

    // Leaving the shell ends the container (as the tutorial says), with its code.
    Terminal last(sb.box_argv({"attach", "shell"}), 24, 80);
    last.type("exit 5\r");
    CHECK(last.wait(10s).value_or(-1) == 5);
    CHECK_FALSE(alive(pid));
    auto info = inspect(sb, "shell");
    CHECK(info["State"]["Status"] == "exited");
    CHECK(info["State"]["ExitCode"] == 5);
    auto stopped = sb.box({"attach", "shell"});
    REQUIRE_ONE_ERROR_LINE(stopped, 1);
    CHECK(stopped.err.find("You cannot attach to a stopped container, start it first") != std::string::npos);

    // run -it --rm: the container is gone by the time box returns.
    Terminal once(sb.box_argv({"run", "-it", "--rm", "--name", "once", "busybox", "sh"}), 24, 80);
    once.type("exit 3\r");
    CHECK(once.wait(20s).value_or(-1) == 3);
    CHECK(sb.box({"ps", "-aq", "-f", "name=once"}).out.empty());
    CHECK(container_dirs(sb) == 1);  // only shell's directory is left
    REQUIRE(sb.box({"rm", "shell"}).status == 0);
}

TEST_CASE("attach and start -a without a terminal: output, stdin, signals and the exit code pass through the shim",
          "[stage4][attach]") {
    Sandbox sb;
    import_busybox(sb);

    // start -a: stdout and stderr apart, and box exits with the container's code.
    REQUIRE(sb.box({"create", "--name", "once", "busybox", "sh", "-c", "echo to-out; echo to-err >&2; exit 3"}).status == 0);
    auto once = sb.box({"start", "-a", "once"});
    CHECK(once.status == 3);
    CHECK(once.out == "to-out\n");
    CHECK(once.err == "to-err\n");

    // start -ai: our stdin is the container's, closed when ours ends.
    REQUIRE(sb.box({"create", "-i", "--name", "reader", "busybox", "sh", "-c",
                    "while read l; do echo \"got:$l\"; done; exit 4"}).status == 0);
    RunOptions in;
    in.input = "one\ntwo\n";
    auto reader = sb.box({"start", "-ai", "reader"}, in);
    CHECK(reader.status == 4);
    CHECK(reader.out == "got:one\ngot:two\n");

    // attach to a running container: its output from now on, and the signals
    // box gets pass to it (docker's --sig-proxy).
    run_detached(sb, {"--name", "ticker"},
                 {"sh", "-c", "trap 'echo got-int; exit 9' INT; while true; do echo tick; sleep 0.2; done"});
    pid_t ticker = inspect(sb, "ticker")["State"]["Pid"];
    Background attached(sb.box_argv({"attach", "ticker"}));
    REQUIRE(attached.wait_for_output("tick\n", 10s));
    REQUIRE(kill(attached.pid(), SIGINT) == 0);
    CHECK(attached.wait(10s).value_or(-1) == 9);
    CHECK(attached.out().find("got-int\n") != std::string::npos);
    CHECK(inspect(sb, "ticker")["State"]["ExitCode"] == 9);
    CHECK_FALSE(alive(ticker));

    auto bad_keys = sb.box({"attach", "--detach-keys", "ctrl-1", "ticker"});
    REQUIRE_ONE_ERROR_LINE(bad_keys, 1);
    CHECK(bad_keys.err.find("invalid detach keys") != std::string::npos);
    size_t before = container_dirs(sb);
    REQUIRE_ONE_ERROR_LINE(sb.box({"run", "-it", "--detach-keys", "ctrl-", "busybox", "sh"}), 125);
    CHECK(container_dirs(sb) == before);  // refused before anything was made
    REQUIRE(sb.box({"container", "prune", "-f"}).status == 0);
}
