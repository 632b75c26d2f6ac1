// Stage 4, black-box: what a container's first process starts with —
// --init (box's init as PID 1) and --sysctl (its namespaces' kernel parameters).
#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "box/util.hpp"
#include "support.hpp"

using namespace boxtest;

namespace {

// The processes of the container whose first process is `pid` (same PID
// namespace), as "STATE COMMAND" from the host's /proc.
std::vector<std::string> container_processes(pid_t pid) {
    auto ns = [](const std::string& p) {
        std::error_code ec;
        return std::filesystem::read_symlink("/proc/" + p + "/ns/pid", ec).string();
    };
    std::string theirs = ns(std::to_string(pid));
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos || ns(name) != theirs) continue;
        std::string stat = read_host_file("/proc/" + name + "/stat");
        size_t open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        out.push_back(stat.substr(close + 2, 1) + " " + stat.substr(open + 1, close - open - 1));
    }
    return out;
}

size_t zombies(pid_t pid) {
    size_t n = 0;
    for (const auto& p : container_processes(pid)) n += p[0] == 'Z';
    return n;
}

}  // namespace

TEST_CASE("--init runs box's init as PID 1: it reaps orphans, passes signals on and exits as the command did",
          "[stage4][init][given]") {
    Sandbox sb;
    import_busybox(sb);
    // An orphan that ends, given to PID 1: `sleep` as PID 1 never waits for it.
    std::vector<std::string> orphan = {"sh", "-c", "(sleep 0.2 &); exec sleep 300"};
    std::string plain = run_detached(sb, {}, orphan);
    std::string with_init = run_detached(sb, {"--init"}, orphan);
    pid_t plain_pid = inspect(sb, plain)["State"]["Pid"], init_pid = inspect(sb, with_init)["State"]["Pid"];
    CHECK(eventually([&] { return zombies(plain_pid) == 1; }));  // the test itself works: a zombie without
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    INFO(box::join(container_processes(init_pid), ", "));
    CHECK(zombies(init_pid) == 0);
    CHECK(container_processes(init_pid).size() == 2);  // the init and sleep 300
    CHECK(inspect(sb, with_init)["HostConfig"]["Init"] == true);
    CHECK(inspect(sb, plain)["HostConfig"]["Init"].is_null());
    // PID 1 in the container is the init, the command its child.
    auto one = sb.box({"exec", with_init, "cat", "/proc/1/cmdline"});
    CHECK(one.out.rfind("box-init", 0) == 0);
    CHECK(trim(sb.box({"exec", with_init, "sh", "-c", "cat /proc/2/comm"}).out) == "sleep");

    // stop's SIGTERM reaches the command (as PID 1, sleep would ignore it): 143, at once.
    auto start = std::chrono::steady_clock::now();
    CHECK(sb.box({"stop", "-t", "20", with_init}).status == 0);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    CHECK(inspect(sb, with_init)["State"]["ExitCode"] == 143);

    // The command's exit code, and exec's errors, are the command's.
    auto code = sb.box({"run", "--rm", "--init", "busybox", "sh", "-c", "echo out; exit 3"});
    CHECK(code.status == 3);
    CHECK(code.out == "out\n");
    auto missing = sb.box({"run", "--rm", "--init", "busybox", "/no/such"});
    REQUIRE_ONE_ERROR_LINE(missing, 127);
    CHECK(sb.box({"rm", "-f", plain, with_init}).status == 0);
}

TEST_CASE("--sysctl sets its namespaces' kernel parameters in the container, not the host's; others are refused",
          "[stage4][sysctl][given]") {
    Sandbox sb;
    import_busybox(sb);
    std::string host_shmmax = read_host_file("/proc/sys/kernel/shmmax");
    auto r = sb.box({"run", "--name", "tuned", "--sysctl", "kernel.shmmax=65536", "--sysctl", "net.ipv4.ip_default_ttl=33",
                     "--sysctl", "fs.mqueue.msg_max=20", "busybox", "cat", "/proc/sys/kernel/shmmax",
                     "/proc/sys/net/ipv4/ip_default_ttl", "/proc/sys/fs/mqueue/msg_max"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.out == "65536\n33\n20\n");
    CHECK(read_host_file("/proc/sys/kernel/shmmax") == host_shmmax);
    CHECK(inspect(sb, "tuned")["HostConfig"]["Sysctls"] ==
          nlohmann::json{{"kernel.shmmax", "65536"}, {"net.ipv4.ip_default_ttl", "33"}, {"fs.mqueue.msg_max", "20"}});
    CHECK(sb.box({"rm", "tuned"}).status == 0);

    check_refusals(sb, {"run", "--rm"}, {"busybox", "true"}, {
        {{"--sysctl", "kernel.hostname=x"}, "sysctl 'kernel.hostname=x' is not whitelisted"},
        {{"--sysctl", "vm.swappiness=1"}, "sysctl 'vm.swappiness=1' is not whitelisted"},
        {{"--sysctl", "net.ipv4.ip_forward"}, "invalid argument \"net.ipv4.ip_forward\" for \"--sysctl\" flag"},
        {{"--network", "host", "--sysctl", "net.ipv4.ip_forward=1"}, "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"},
        {{"--sysctl", "net.no_such_thing=1"}, "net/no_such_thing"},  // refused by the kernel, at start
    });
    CHECK(sb.box({"ps", "-aq"}).out.empty());
}
