// Stage 7: networks, as the kernel shows them — links, addresses, routes and
// nftables in the tests' own network namespace — and as packets prove them:
// pings, HTTP and UDP between containers, the host and a test host.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "../stage6/support.hpp"
#include "harness.hpp"
#include "support.hpp"

using namespace boxtest;

namespace {

// `box run ARGS...` on the base rootfs; the result.
Result run_on_rootfs(const Sandbox& sb, std::vector<std::string> flags, const std::vector<std::string>& cmd) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--rootfs", base_rootfs()});
    args.insert(args.end(), cmd.begin(), cmd.end());
    return sb.box(args);
}

// A detached container NAME on the base rootfs; requires it to start.
void start(const Sandbox& sb, const std::string& name, std::vector<std::string> flags, const std::vector<std::string>& cmd) {
    flags.insert(flags.begin(), {"-d", "--name", name});
    auto r = run_on_rootfs(sb, flags, cmd);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
}

// The container's httpd serving `dir` on port 5000.
std::vector<std::string> httpd(const std::string& dir, std::vector<std::string> flags) {
    flags.insert(flags.end(), {"-v", dir + ":/www:ro"});
    return flags;
}
const std::vector<std::string> kHttpd = {"httpd", "-f", "-p", "5000", "-h", "/www"};

// Removes every container of the test, then its user networks: the tests of
// this binary share one network namespace, and a bridge left there would
// clash with the next test's network of the same subnet.
void remove_containers(const Sandbox& sb) {
    auto ids = lines(sb.box({"ps", "-aq"}).out);
    if (ids.empty()) return;
    std::vector<std::string> args = {"rm", "-f"};
    args.insert(args.end(), ids.begin(), ids.end());
    sb.box(args);
}
void remove_all(const Sandbox& sb) {
    remove_containers(sb);
    sb.box({"network", "prune", "-f"});
}

}  // namespace

TEST_CASE("a container on the default bridge has eth0 on box0's subnet, a veth on box0, a route via the gateway",
          "[stage7][bridge]") {
    Sandbox sb;
    start(sb, "c", {}, {"sleep", "30"});
    auto inside = sb.box({"exec", "c", "sh", "-c", "ip -4 -o addr show eth0; ip route"});
    BOX_SHOW(inside);
    REQUIRE(inside.status == 0);
    CHECK(inside.out.find("inet 10.87.0.2/16") != std::string::npos);
    CHECK(inside.out.find("default via 10.87.0.1 dev eth0") != std::string::npos);
    // The host's side: box0 with the gateway's address, the container's veth on it.
    CHECK(run({"ip", "-4", "-o", "addr", "show", "box0"}).out.find("inet 10.87.0.1/16") != std::string::npos);
    auto ports = bridge_ports("box0");
    REQUIRE(ports.size() == 1);
    CHECK(ports[0].rfind("vb", 0) == 0);
    CHECK(read_host_file("/proc/sys/net/ipv4/ip_forward") == "1\n");
    // inspect says what the kernel has.
    auto ip = sb.box({"inspect", "-f", "{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}", "c"});
    CHECK(trim(ip.out) == "10.87.0.2 10.87.0.1");
    remove_all(sb);
    CHECK(no_ports_within("box0", std::chrono::seconds(2)));
}

TEST_CASE("containers on a user network reach each other by name and address, whatever the start order",
          "[stage7][names]") {
    Sandbox sb;
    REQUIRE(sb.box({"network", "create", "app"}).status == 0);
    start(sb, "first", {"--network", "app", "--network-alias", "db"}, {"sleep", "30"});
    // A container started later finds the earlier one by name and by alias...
    auto later = run_on_rootfs(sb, {"--rm", "--network", "app", "--name", "second"},
                               {"sh", "-c", "ping -c1 -W2 first && ping -c1 -W2 db && ping -c1 -W2 10.86.0.2"});
    BOX_SHOW(later);
    CHECK(later.status == 0);
    // ...and the earlier one finds a later one, started after it.
    start(sb, "third", {"--network", "app"}, {"sleep", "30"});
    auto earlier = sb.box({"exec", "first", "ping", "-c1", "-W2", "third"});
    BOX_SHOW(earlier);
    CHECK(earlier.status == 0);
    // Once third is gone, first no longer resolves it.
    REQUIRE(sb.box({"rm", "-f", "third"}).status == 0);
    CHECK(sb.box({"exec", "first", "cat", "/etc/hosts"}).out.find("third") == std::string::npos);
    remove_all(sb);
}

TEST_CASE("the default bridge has no names; --link NAME:ALIAS gives one, and docker's variables", "[stage7][names]") {
    Sandbox sb;
    start(sb, "db", {"-e", "SECRET=s3", "-p", "127.0.0.1:5432:5432"}, {"sleep", "30"});
    auto env = run_on_rootfs(sb, {"--rm", "--link", "db:database"}, {"env"});
    BOX_SHOW(env);
    CHECK(env.out.find("DATABASE_NAME=/database\n") != std::string::npos);
    CHECK(env.out.find("DATABASE_PORT=tcp://10.87.0.2:5432\n") != std::string::npos);
    CHECK(env.out.find("DATABASE_PORT_5432_TCP_ADDR=10.87.0.2\n") != std::string::npos);
    CHECK(env.out.find("DATABASE_ENV_SECRET=s3\n") != std::string::npos);
    CHECK(run_on_rootfs(sb, {"--rm"}, {"ping", "-c1", "-W1", "db"}).status != 0);
    auto linked = run_on_rootfs(sb, {"--rm", "--link", "db:database"}, {"sh", "-c", "ping -c1 -W2 database && cat /etc/hosts"});
    BOX_SHOW(linked);
    CHECK(linked.status == 0);
    CHECK(linked.out.find("10.87.0.2\tdatabase") != std::string::npos);
    auto stopped = run_on_rootfs(sb, {"--rm", "--link", "nosuch"}, {"true"});
    REQUIRE_ONE_ERROR_LINE(stopped, 125);
    remove_all(sb);
}

TEST_CASE("the default bridge gives a container a way out, masqueraded as the host", "[stage7][nat]") {
    Sandbox sb;
    TestHost outside;
    std::string www = web_root(sb, "from the test host\n");
    Background server(outside.nsenter({"busybox", "httpd", "-f", "-vv", "-p", "8000", "-h", www}));
    REQUIRE(!http_get("192.0.2.2", 8000).empty());  // the test host serves
    auto r = run_on_rootfs(sb, {"--rm"}, {"timeout", "5", "wget", "-q", "-O", "-", "http://192.0.2.2:8000/"});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(r.out == "from the test host\n");
    // The test host saw the host's address, not the container's.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.wait(std::chrono::milliseconds(1));
    INFO("httpd log: " << server.err());
    CHECK(server.err().find("10.87.") == std::string::npos);
    CHECK(server.err().find("192.0.2.1") != std::string::npos);
}

TEST_CASE("-p 127.0.0.1:5001:5000 serves a container's port on the host's loopback only", "[stage7][ports]") {
    Sandbox sb;
    TestHost outside;
    std::string www = web_root(sb, "hello from box\n");
    start(sb, "web", httpd(www, {"-p", "127.0.0.1:5001:5000"}), kHttpd);
    CHECK(http_get("127.0.0.1", 5001) == "hello from box\n");
    // The kernel's DNAT map has it, for 127.0.0.1 only.
    std::string table = box_table();
    CHECK(table.find("127.0.0.1 . tcp . 5001 : 10.87.0.2 . 5000") != std::string::npos);
    // Not on the host's other addresses, not from outside.
    CHECK(http_get("192.0.2.1", 5001, 1, outside.nsenter({})).empty());
    CHECK(sb.box({"port", "web"}).out == "5000/tcp -> 127.0.0.1:5001\n");
    CHECK(sb.box({"ps", "--format", "{{.Ports}}"}).out == "127.0.0.1:5001->5000/tcp\n");
    remove_all(sb);
    CHECK(box_table().find("5001") == std::string::npos);
}

TEST_CASE("-p 5000:5000 serves the outside through the host's address, the host and other containers (hairpin)",
          "[stage7][ports]") {
    Sandbox sb;
    TestHost outside;
    std::string www = web_root(sb, "published\n");
    start(sb, "web", httpd(www, {"-p", "5000:5000"}), kHttpd);
    CHECK(http_get("192.0.2.1", 5000, 30, outside.nsenter({})) == "published\n");
    CHECK(http_get("127.0.0.1", 5000) == "published\n");
    CHECK(http_get("192.0.2.1", 5000) == "published\n");
    auto hairpin = run_on_rootfs(sb, {"--rm"}, {"timeout", "5", "wget", "-q", "-O", "-", "http://192.0.2.1:5000/"});
    BOX_SHOW(hairpin);
    CHECK(hairpin.out == "published\n");
    CHECK(box_table().find("tcp . 5000 : 10.87.0.2 . 5000") != std::string::npos);
    remove_all(sb);
}

TEST_CASE("-p PORT/udp publishes a UDP port", "[stage7][ports]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    std::string echo = install_fixture("udp-echo", rootfs);
    auto r = sb.box({"run", "-d", "--name", "echo", "-p", "127.0.0.1:5353:53/udp", "--rootfs", rootfs, echo, "53"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(udp_ask("127.0.0.1", 5353, "ping") == "echo:ping");
    CHECK(box_table().find("127.0.0.1 . udp . 5353") != std::string::npos);
    CHECK(sb.box({"port", "echo", "53/udp"}).out == "127.0.0.1:5353\n");
    remove_all(sb);
}

TEST_CASE("-P publishes every EXPOSEd port on a free host port from 32768 up", "[stage7][ports]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\nEXPOSE 5000 6000/udp\n"}});
    build_ok(sb, ctx, {"-t", "exposing"});
    std::string www = web_root(sb, "random port\n");
    auto r = sb.box({"run", "-d", "--name", "web", "-P", "-v", www + ":/www", "exposing", "httpd", "-f", "-p", "5000", "-h", "/www"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto tcp = trim(sb.box({"port", "web", "5000"}).out);
    auto udp = trim(sb.box({"port", "web", "6000/udp"}).out);
    REQUIRE(tcp.rfind("0.0.0.0:", 0) == 0);
    REQUIRE(udp.rfind("0.0.0.0:", 0) == 0);
    int port = std::stoi(tcp.substr(8));
    CHECK(port >= 32768);
    CHECK(http_get("127.0.0.1", port) == "random port\n");
    CHECK(box_table().find("tcp . " + std::to_string(port) + " : 10.87.0.2 . 5000") != std::string::npos);
    // --expose's ports are exposed too: -P publishes them with the image's.
    auto more = sb.box({"run", "-d", "--name", "more", "-P", "--expose", "7000", "-v", www + ":/www", "exposing", "httpd",
                        "-f", "-p", "7000", "-h", "/www"});
    BOX_SHOW(more);
    REQUIRE(more.status == 0);
    auto extra = trim(sb.box({"port", "more", "7000"}).out);
    REQUIRE(extra.rfind("0.0.0.0:", 0) == 0);
    CHECK(http_get("127.0.0.1", std::stoi(extra.substr(8))) == "random port\n");
    CHECK(trim(sb.box({"port", "more", "5000"}).out).rfind("0.0.0.0:", 0) == 0);
    remove_all(sb);
}

TEST_CASE("a host port already taken is refused before the container starts, and nothing is left", "[stage7][ports]") {
    Sandbox sb;
    start(sb, "one", {"-p", "5010:80"}, {"sleep", "30"});
    auto leases = lease_files(sb).size();
    // Taken by another container.
    auto twice = run_on_rootfs(sb, {"--rm", "-p", "5010:80"}, {"true"});
    REQUIRE_ONE_ERROR_LINE(twice, 125);
    CHECK(twice.err.find("port is already allocated") != std::string::npos);
    // Taken by a process of the host.
    Background holder({"busybox", "nc", "-l", "-p", "5011"});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto host = run_on_rootfs(sb, {"--rm", "-p", "5011:80"}, {"true"});
    REQUIRE_ONE_ERROR_LINE(host, 125);
    // No lease, no veth, no DNAT of the refused ones.
    CHECK(lease_files(sb).size() == leases);
    CHECK(bridge_ports("box0").size() == 1);
    CHECK(box_table().find("5011") == std::string::npos);
    // Bad -p values: one clear line each.
    for (const char* bad : {"70000:80", "abc", "80/sctpx", "1.2.3:80:80", "8000-8001:80"}) {
        auto r = run_on_rootfs(sb, {"--rm", "-p", bad}, {"true"});
        INFO(bad);
        REQUIRE_ONE_ERROR_LINE(r, 125);
    }
    remove_all(sb);
}

TEST_CASE("--dns, --dns-search, --dns-option, -h and --add-host are in the container's /etc files", "[stage7][names]") {
    Sandbox sb;
    auto r = run_on_rootfs(sb, {"--rm", "-h", "web1", "--dns", "192.0.2.53", "--dns-search", "example.test", "--dns-option",
                                "ndots:2", "--add-host", "db.test:192.0.2.7"},
                           {"sh", "-c", "cat /etc/resolv.conf /etc/hostname /etc/hosts"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("nameserver 192.0.2.53\n") != std::string::npos);
    CHECK(r.out.find("search example.test\n") != std::string::npos);
    CHECK(r.out.find("options ndots:2\n") != std::string::npos);
    CHECK(r.out.find("web1\n") != std::string::npos);
    CHECK(r.out.find("192.0.2.7\tdb.test\n") != std::string::npos);
    CHECK(r.out.find("10.87.0.2\tweb1") != std::string::npos);
    // The daemon config's dns is the default.
    std::string config = sb.dir() + "/config.json";
    std::ofstream(config) << R"({"dns": ["192.0.2.99"]})";
    auto d = run({"env", "BOX_CONFIG=" + config, box_binary(), "--root", sb.dir() + "/state", "run", "--rm", "--rootfs",
                  base_rootfs(), "cat", "/etc/resolv.conf"});
    CHECK(d.out.find("nameserver 192.0.2.99\n") != std::string::npos);
}

TEST_CASE("network create, ls, inspect and rm: a bridge with the gateway's address, removed with it", "[stage7][cli]") {
    Sandbox sb;
    auto created = sb.box({"network", "create", "--subnet", "10.99.5.0/24", "--gateway", "10.99.5.254", "backend"});
    BOX_SHOW(created);
    REQUIRE(created.status == 0);
    std::string id = trim(created.out);
    REQUIRE(id.size() == 64);
    std::string bridge = "br-" + id.substr(0, 12);
    auto ls = sb.box({"network", "ls"});
    CHECK(ls.out.rfind("NETWORK ID", 0) == 0);
    for (const char* n : {"bridge", "host", "none", "backend"}) CHECK(ls.out.find(n) != std::string::npos);
    start(sb, "c", {"--network", "backend"}, {"sleep", "30"});
    CHECK(run({"ip", "-4", "-o", "addr", "show", bridge}).out.find("10.99.5.254/24") != std::string::npos);
    CHECK(sb.box({"exec", "c", "ip", "route"}).out.find("default via 10.99.5.254") != std::string::npos);
    auto inspect = sb.box({"network", "inspect", "-f", "{{json .Containers}}", "backend"});
    CHECK(inspect.out.find("10.99.5.1/24") != std::string::npos);
    // In use: refused (docker's rm of several exits 1); then removed with its bridge.
    REQUIRE_ONE_ERROR_LINE(sb.box({"network", "rm", "backend"}), 1);
    remove_containers(sb);
    REQUIRE(sb.box({"network", "rm", "backend"}).status == 0);
    CHECK(run({"ip", "link", "show", bridge}).status != 0);
    // Bad input: one line each, nothing made.
    REQUIRE_ONE_ERROR_LINE(sb.box({"network", "create", "--subnet", "10.99.5.1/24", "x"}), 1);
    REQUIRE_ONE_ERROR_LINE(sb.box({"network", "create", "--subnet", "10.87.3.0/24", "x"}), 1);  // inside box0's
    REQUIRE_ONE_ERROR_LINE(sb.box({"network", "rm", "bridge"}), 1);
    REQUIRE_ONE_ERROR_LINE(run_on_rootfs(sb, {"--rm", "--network", "nosuch"}, {"true"}), 125);
    REQUIRE_ONE_ERROR_LINE(run_on_rootfs(sb, {"--rm", "--network-alias", "x"}, {"true"}), 125);  // a user network's
    CHECK(sb.box({"network", "ls", "-q"}).out.find('\n') != std::string::npos);
    CHECK(lines(sb.box({"network", "ls", "-q"}).out).size() == 3);  // bridge, host, none
}

TEST_CASE("an --internal network reaches nothing outside it", "[stage7][nat]") {
    Sandbox sb;
    TestHost outside;
    REQUIRE(sb.box({"network", "create", "--internal", "closed"}).status == 0);
    std::string www = web_root(sb, "outside\n");
    Background server(outside.nsenter({"busybox", "httpd", "-f", "-p", "8000", "-h", www}));
    REQUIRE(!http_get("192.0.2.2", 8000).empty());
    start(sb, "a", {"--network", "closed"}, {"sleep", "30"});
    CHECK(sb.box({"exec", "a", "timeout", "3", "wget", "-q", "-O", "-", "http://192.0.2.2:8000/"}).status != 0);
    auto peer = run_on_rootfs(sb, {"--rm", "--network", "closed"}, {"ping", "-c1", "-W2", "a"});
    CHECK(peer.status == 0);  // inside it, containers still see each other
    remove_all(sb);
}

TEST_CASE("--network container:NAME shares another container's network namespace", "[stage7][bridge]") {
    Sandbox sb;
    start(sb, "owner", {}, {"sleep", "30"});
    auto pid = trim(sb.box({"inspect", "-f", "{{.State.Pid}}", "owner"}).out);
    auto r = run_on_rootfs(sb, {"--rm", "--network", "container:owner"}, {"readlink", "/proc/self/ns/net"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    std::error_code ec;
    CHECK(trim(r.out) == std::filesystem::read_symlink("/proc/" + pid + "/ns/net", ec).string());
    CHECK(bridge_ports("box0").size() == 1);  // no veth of its own
    remove_all(sb);
}

TEST_CASE("after rm nothing of a container's network is left: veth, lease, DNAT; the last one takes the network's NAT",
          "[stage7][cleanup]") {
    Sandbox sb;
    start(sb, "c", {"-p", "5020:80", "-p", "127.0.0.1:5021:81/udp"}, {"sleep", "30"});
    REQUIRE(lease_files(sb).size() == 1);
    REQUIRE(box_table().find("5021") != std::string::npos);
    REQUIRE(sb.box({"rm", "-f", "c"}).status == 0);
    CHECK(lease_files(sb).empty());
    CHECK(no_ports_within("box0", std::chrono::seconds(2)));  // the kernel deletes the pair with the namespace
    CHECK(box_table().find("5020") == std::string::npos);
    CHECK(box_table().find("5021") == std::string::npos);
    // A container that ends by itself cleans up as well.
    REQUIRE(run_on_rootfs(sb, {"-p", "5022:80"}, {"true"}).status == 0);
    CHECK(lease_files(sb).empty());
    CHECK(box_table().find("5022") == std::string::npos);
    // A user network's own part (its bridge and subnet in the sets) is there
    // while a container is on it, and goes with the last one. (The default
    // bridge's stays, as docker0's does.)
    CHECK(box_table().find("10.87.0.0/16") != std::string::npos);
    REQUIRE(sb.box({"network", "create", "--subnet", "10.98.0.0/24", "--internal", "tmp"}).status == 0);
    auto bridge = "br-" + trim(sb.box({"network", "inspect", "-f", "{{.Id}}", "tmp"}).out).substr(0, 12);
    start(sb, "a", {"--network", "tmp"}, {"sleep", "30"});
    start(sb, "b", {"--network", "tmp"}, {"sleep", "30"});
    std::string table = box_table();
    CHECK(table.find("10.98.0.0/24") != std::string::npos);
    CHECK(table.find("\"" + bridge + "\" . \"" + bridge + "\"") != std::string::npos);
    CHECK(read_host_file("/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet") == "1\n");
    REQUIRE(sb.box({"rm", "-f", "a"}).status == 0);
    CHECK(box_table().find("10.98.0.0/24") != std::string::npos);  // b is still on it
    REQUIRE(sb.box({"rm", "-f", "b"}).status == 0);
    table = box_table();
    CHECK(table.find("10.98.0.0/24") == std::string::npos);
    CHECK(table.find(bridge) == std::string::npos);  // in none of the sets, internal's included
    CHECK(read_host_file("/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet") == "0\n");
    // The next start puts it back, and network rm takes it and the bridge.
    REQUIRE(run_on_rootfs(sb, {"--rm", "--network", "tmp"}, {"true"}).status == 0);
    start(sb, "c", {"--network", "tmp"}, {"sleep", "30"});
    CHECK(box_table().find("10.98.0.0/24") != std::string::npos);
    REQUIRE(sb.box({"rm", "-f", "c"}).status == 0);
    REQUIRE(sb.box({"network", "rm", "tmp"}).status == 0);
    CHECK(box_table().find("10.98.0.0/24") == std::string::npos);
    CHECK(!std::filesystem::exists("/sys/class/net/" + bridge));
    remove_all(sb);
}

TEST_CASE("a kill -9 of box during run -d -p leaves a state the next command repairs", "[stage7][cleanup]") {
    Sandbox sb;
    for (int delay_ms : {2, 5, 10, 20, 40}) {
        Background b(sb.box_argv({"run", "-d", "-p", "5030:80", "--rootfs", base_rootfs(), "sleep", "30"}));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        kill(b.pid(), SIGKILL);
        b.wait(std::chrono::seconds(5));
        remove_all(sb);
        // The port, the address and the names are free again.
        auto again = run_on_rootfs(sb, {"--rm", "-p", "5030:80"}, {"sh", "-c", "ip -4 -o addr show eth0"});
        BOX_SHOW(again);
        INFO("killed after " << delay_ms << " ms");
        REQUIRE(again.status == 0);
        CHECK(again.out.find("10.87.0.2/16") != std::string::npos);
    }
    remove_all(sb);
    CHECK(lease_files(sb).empty());
    CHECK(box_table().find("5030") == std::string::npos);
}

TEST_CASE("network connect gives a running container an eth1 on another network; disconnect takes it away",
          "[stage7][cli]") {
    Sandbox sb;
    REQUIRE(sb.box({"network", "create", "front"}).status == 0);
    REQUIRE(sb.box({"network", "create", "back"}).status == 0);
    start(sb, "app", {"--network", "front"}, {"sleep", "30"});
    start(sb, "db", {"--network", "back"}, {"sleep", "30"});
    CHECK(sb.box({"exec", "db", "ping", "-c1", "-W1", "app"}).status != 0);  // apart
    auto c = sb.box({"network", "connect", "--alias", "api", "back", "app"});
    BOX_SHOW(c);
    REQUIRE(c.status == 0);
    auto eth1 = sb.box({"exec", "app", "ip", "-4", "-o", "addr", "show", "eth1"});
    CHECK(eth1.out.find("inet 10.86.1.") != std::string::npos);
    CHECK(sb.box({"exec", "db", "ping", "-c1", "-W2", "app"}).status == 0);
    CHECK(sb.box({"exec", "db", "ping", "-c1", "-W2", "api"}).status == 0);
    CHECK(sb.box({"exec", "app", "ping", "-c1", "-W2", "db"}).status == 0);
    auto nets = sb.box({"inspect", "-f", "{{json .NetworkSettings.Networks}}", "app"});
    CHECK(nets.out.find("\"front\"") != std::string::npos);
    CHECK(nets.out.find("\"back\"") != std::string::npos);
    REQUIRE_ONE_ERROR_LINE(sb.box({"network", "connect", "back", "app"}), 1);  // on it already
    REQUIRE(sb.box({"network", "disconnect", "back", "app"}).status == 0);
    CHECK(sb.box({"exec", "app", "ip", "link", "show", "eth1"}).status != 0);
    CHECK(sb.box({"exec", "db", "cat", "/etc/hosts"}).out.find("app") == std::string::npos);
    REQUIRE_ONE_ERROR_LINE(sb.box({"network", "disconnect", "back", "app"}), 1);
    // A connected network goes with the container too.
    REQUIRE(sb.box({"network", "connect", "back", "app"}).status == 0);
    remove_all(sb);
    CHECK(lease_files(sb).empty());
}

TEST_CASE("a connected network is kept in the request: a restarted container comes back on every network, "
          "a stopped one gets it at its next start; --ip asks for an address",
          "[stage7][cli]") {
    Sandbox sb;
    REQUIRE(sb.box({"network", "create", "--subnet", "10.86.7.0/24", "front"}).status == 0);
    REQUIRE(sb.box({"network", "create", "--subnet", "10.86.8.0/24", "back"}).status == 0);
    start(sb, "app", {"--network", "front", "--ip", "10.86.7.50"}, {"sleep", "300"});
    start(sb, "db", {"--network", "back"}, {"sleep", "300"});
    auto addr = [&](const std::string& c, const std::string& dev) {
        return sb.box({"exec", c, "ip", "-4", "-o", "addr", "show", dev}).out;
    };
    CHECK(addr("app", "eth0").find("inet 10.86.7.50/24") != std::string::npos);
    REQUIRE(sb.box({"network", "connect", "--alias", "api", "--ip", "10.86.8.77", "back", "app"}).status == 0);
    CHECK(addr("app", "eth1").find("inet 10.86.8.77/24") != std::string::npos);
    // Kept in the container's request, as docker's EndpointsConfig.
    std::string id = trim(sb.box({"inspect", "-f", "{{.Id}}", "app"}).out);
    auto config = nlohmann::json::parse(read_host_file(sb.dir() + "/state/containers/" + id + "/config.json"));
    auto back = config["Request"]["NetworkingConfig"]["EndpointsConfig"]["back"];
    CHECK(back["IPAMConfig"]["IPv4Address"] == "10.86.8.77");
    CHECK(back["Aliases"] == nlohmann::json{"api"});
    REQUIRE(sb.box({"restart", "-t", "0", "app"}).status == 0);
    CHECK(addr("app", "eth0").find("inet 10.86.7.50/24") != std::string::npos);
    CHECK(addr("app", "eth1").find("inet 10.86.8.77/24") != std::string::npos);
    CHECK(sb.box({"exec", "db", "ping", "-c1", "-W2", "api"}).status == 0);  // its alias there, after the restart

    // A stopped container: connected now, on the network from its next start.
    REQUIRE(sb.box({"create", "--name", "later", "--network", "front", "--rootfs", base_rootfs(), "sleep", "300"}).status == 0);
    REQUIRE(sb.box({"network", "connect", "back", "later"}).status == 0);
    REQUIRE(sb.box({"start", "later"}).status == 0);
    CHECK(addr("later", "eth1").find("inet 10.86.8.") != std::string::npos);
    CHECK(sb.box({"exec", "later", "ping", "-c1", "-W2", "db"}).status == 0);
    // Disconnected, it stays off after a restart.
    REQUIRE(sb.box({"network", "disconnect", "back", "later"}).status == 0);
    REQUIRE(sb.box({"restart", "-t", "0", "later"}).status == 0);
    CHECK(sb.box({"exec", "later", "ip", "link", "show", "eth1"}).status != 0);

    // --ip: taken, outside the subnet, on the default bridge, not an address: one error each, nothing made.
    check_refusals(sb, {"run", "-d", "--rm"}, {"--rootfs", base_rootfs(), "sleep", "300"}, {
        {{"--network", "front", "--ip", "10.86.7.50"}, "Address already in use"},
        {{"--network", "front", "--ip", "10.99.0.5"}, "Invalid address 10.99.0.5"},
        {{"--ip", "10.87.0.9"}, "user specified IP address is supported on user defined networks only"},
        {{"--network", "front", "--ip", "ten"}, "invalid string being converted to IP address: ten"},
    });
    CHECK(sb.box({"ps", "-aq"}).out.size() == 3 * 13);  // app, db, later
    remove_all(sb);
    CHECK(lease_files(sb).empty());
}

TEST_CASE("a stopped container keeps its published port for its next start", "[stage7][ports]") {
    Sandbox sb;
    std::string www = web_root(sb, "again\n");
    start(sb, "web", httpd(www, {"-p", "5040:5000"}), kHttpd);
    CHECK(http_get("127.0.0.1", 5040) == "again\n");
    REQUIRE(sb.box({"stop", "-t", "1", "web"}).status == 0);
    CHECK(box_table().find("5040") == std::string::npos);
    CHECK(sb.box({"port", "web"}).out.empty());
    REQUIRE(sb.box({"start", "web"}).status == 0);
    CHECK(http_get("127.0.0.1", 5040) == "again\n");
    CHECK(sb.box({"port", "web"}).out == "5000/tcp -> 0.0.0.0:5040\n");
    remove_all(sb);
}

TEST_CASE("rm of a stopped container leaves alone its host port, taken by another container since", "[stage7][ports]") {
    Sandbox sb;
    std::string www = web_root(sb, "the second one\n");
    start(sb, "first", httpd(www, {"-p", "127.0.0.1:5060:5000"}), kHttpd);
    REQUIRE(sb.box({"stop", "-t", "1", "first"}).status == 0);
    start(sb, "second", httpd(www, {"-p", "127.0.0.1:5060:5000"}), kHttpd);
    REQUIRE(sb.box({"rm", "first"}).status == 0);
    CHECK(box_table().find("127.0.0.1 . tcp . 5060 : ") != std::string::npos);
    CHECK(http_get("127.0.0.1", 5060) == "the second one\n");
    remove_all(sb);
}

TEST_CASE("a container cannot reach a service of the host on 127.0.0.1 through the bridge (CVE-2020-8558)",
          "[stage7][security]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    std::string spoof = install_fixture("loopback-spoof", rootfs);
    // A service of the host's that listens on loopback only.
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(5099);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{1, 500000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // -p 127.0.0.1:... is what makes box let 127.0.0.0/8 be routed onto its bridge.
    auto hostile = sb.box({"run", "--rm", "-p", "127.0.0.1:5098:80", "--rootfs", rootfs, "sh", "-c",
                           "ping -c1 -W1 10.87.0.1 >/dev/null; " + spoof + " 10.87.0.1 5099"});
    BOX_SHOW(hostile);
    REQUIRE(hostile.status == 0);
    REQUIRE(hostile.out.find("sent") != std::string::npos);
    char buf[64];
    ssize_t n = recv(s, buf, sizeof buf, 0);
    close(s);
    INFO("the host's loopback service received: " << (n > 0 ? std::string(buf, static_cast<size_t>(n)) : "nothing"));
    CHECK(n < 0);
}

TEST_CASE("networks are apart: a container reaches no container of another network, except a published port",
          "[stage7][nat]") {
    Sandbox sb;
    REQUIRE(sb.box({"network", "create", "red"}).status == 0);
    REQUIRE(sb.box({"network", "create", "blue"}).status == 0);
    std::string www = web_root(sb, "blue's page\n");
    start(sb, "b", httpd(www, {"--network", "blue", "-p", "5050:5000"}), kHttpd);
    std::string ip = trim(sb.box({"inspect", "-f", "{{.NetworkSettings.IPAddress}}", "b"}).out);
    REQUIRE(!ip.empty());
    CHECK(run_on_rootfs(sb, {"--rm", "--network", "blue"}, {"ping", "-c1", "-W2", ip}).status == 0);  // within one
    CHECK(run_on_rootfs(sb, {"--rm", "--network", "red"}, {"ping", "-c1", "-W2", ip}).status != 0);   // across
    CHECK(run_on_rootfs(sb, {"--rm"}, {"ping", "-c1", "-W2", ip}).status != 0);                      // from the default
    auto published = run_on_rootfs(sb, {"--rm", "--network", "red"},
                                   {"timeout", "5", "wget", "-q", "-O", "-", "http://10.86.0.1:5050/"});
    CHECK(published.out == "blue's page\n");
    remove_all(sb);
}

TEST_CASE("-P of an image whose ExposedPorts are not ports is one error line, and nothing is made", "[stage7][ports]") {
    Sandbox sb;
    std::string archive = sb.dir() + "/hostile.tar";
    write_docker_archive(archive, "hostile:ports", {base_tar(sb)}, {{"ExposedPorts", {{"99999/tcp", nlohmann::json::object()}}}});
    REQUIRE(sb.box({"load", "-i", archive}).status == 0);
    auto r = sb.box({"run", "--rm", "-P", "hostile:ports", "true"});
    REQUIRE_ONE_ERROR_LINE(r, 125);
    CHECK(lease_files(sb).empty());
    CHECK(bridge_ports("box0").empty());
    // Without -P the image runs, on the bridge.
    auto plain = sb.box({"run", "--rm", "hostile:ports", "sh", "-c", "ip -4 -o addr show eth0"});
    BOX_SHOW(plain);
    CHECK(plain.out.find("10.87.0.2/16") != std::string::npos);
}

TEST_CASE("network create --label: inspect shows them; network ls and prune filter by them", "[stage7][labels][filter][given]") {
    Sandbox sb;
    struct Cleanup {
        const Sandbox& sb;
        ~Cleanup() { remove_all(sb); }
    } cleanup{sb};
    REQUIRE(sb.box({"network", "create", "--label", "project=shop", "--label", "tier=back", "shopnet"}).status == 0);
    REQUIRE(sb.box({"network", "create", "--label", "project=blog", "blognet"}).status == 0);
    REQUIRE(sb.box({"network", "create", "plainnet"}).status == 0);
    auto labels = nlohmann::json::parse(sb.box({"network", "inspect", "shopnet"}).out).at(0)["Labels"];
    CHECK(labels == nlohmann::json{{"project", "shop"}, {"tier", "back"}});
    auto names = [&](std::vector<std::string> filters) {
        std::vector<std::string> args = {"network", "ls", "--format", "{{.Name}}"};
        for (const auto& f : filters) args.insert(args.end(), {"--filter", f});
        auto r = sb.box(args);
        BOX_SHOW(r);
        return lines(r.out);
    };
    CHECK(names({"label=project"}) == std::vector<std::string>{"blognet", "shopnet"});  // not bridge, host, none
    CHECK(names({"label=project=shop", "label=tier=back"}) == std::vector<std::string>{"shopnet"});
    CHECK(names({"type=custom"}) == std::vector<std::string>{"blognet", "plainnet", "shopnet"});  // by name, as docker's
    CHECK(names({}) == std::vector<std::string>{"blognet", "bridge", "host", "none", "plainnet", "shopnet"});
    CHECK(sb.box({"network", "ls", "--format", "{{.Label \"tier\"}}", "-f", "name=shop"}).out == "back\n");
    auto bad = sb.box({"network", "create", "--label", "novalue", "badnet"});
    REQUIRE_ONE_ERROR_LINE(bad, 1);
    CHECK(bad.err.find("bad attribute format: novalue") != std::string::npos);
    auto bad_filter = sb.box({"network", "ls", "--filter", "colour=red"});
    REQUIRE_ONE_ERROR_LINE(bad_filter, 1);
    CHECK(bad_filter.err.find("Invalid filter 'colour'") != std::string::npos);
    REQUIRE(sb.box({"network", "prune", "-f", "--filter", "label!=project"}).status == 0);
    CHECK(names({"type=custom"}) == std::vector<std::string>{"blognet", "shopnet"});
    REQUIRE(sb.box({"network", "prune", "-f", "--filter", "label=project=blog"}).status == 0);
    CHECK(names({"type=custom"}) == std::vector<std::string>{"shopnet"});
}

TEST_CASE("ps lists a container's exposed ports that are not published beside its mappings, as docker does",
          "[stage7][ports]") {
    Sandbox sb;
    struct Cleanup {
        const Sandbox& sb;
        ~Cleanup() { remove_all(sb); }
    } cleanup{sb};
    import_busybox(sb);
    run_detached(sb, {"--name", "base"}, {"true"});
    REQUIRE(sb.box({"wait", "base"}).status == 0);
    REQUIRE(sb.box({"commit", "-c", "EXPOSE 5000", "base", "exposing:v1"}).status == 0);
    auto r = sb.box({"run", "-d", "--name", "web", "-p", "127.0.0.1:5300:5000/udp", "--expose", "7000-7001",
                     "exposing:v1", "sleep", "300"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(sb.box({"ps", "--format", "{{.Ports}}"}).out == "5000/tcp, 7000-7001/tcp, 127.0.0.1:5300->5000/udp\n");
    // The tutorial's -p 127.0.0.1:5000:5000/udp of an image that EXPOSEs 5000 (the same port on both sides).
    REQUIRE(sb.box({"run", "-d", "--name", "same", "-p", "127.0.0.1:5400:5400/udp", "--expose", "5400", "busybox",
                    "sleep", "300"}).status == 0);
    CHECK(sb.box({"ps", "-f", "name=same", "--format", "{{.Ports}}"}).out == "5400/tcp, 127.0.0.1:5400->5400/udp\n");
    auto exposed = inspect(sb, "web")["Config"]["ExposedPorts"];
    CHECK(exposed == nlohmann::json{{"5000/tcp", nlohmann::json::object()}, {"5000/udp", nlohmann::json::object()},
                                    {"7000/tcp", nlohmann::json::object()}, {"7001/tcp", nlohmann::json::object()}});
    // The kernel's DNAT map has the published one only.
    CHECK(box_table().find("127.0.0.1 . udp . 5300") != std::string::npos);
    CHECK(box_table().find(". 7000") == std::string::npos);
    auto bad = sb.box({"run", "--rm", "--expose", "80:80", "busybox", "true"});
    REQUIRE_ONE_ERROR_LINE(bad, 125);
}
