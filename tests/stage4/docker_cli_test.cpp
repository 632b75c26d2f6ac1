// Stage 4, black-box: the tutorial's commands as a Docker user types them —
// inspect of any object, the management commands, docker's exit statuses.
#include <catch2/catch.hpp>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "box/units.hpp"
#include "box/util.hpp"
#include "support.hpp"

using namespace boxtest;

namespace {
void fs_remove(const std::string& path) { std::filesystem::remove(path); }
}  // namespace

TEST_CASE("inspect finds a container, then an image, then a volume; --type picks one", "[stage4][cli]") {
    Sandbox sb;
    std::string image_id = import_busybox(sb);
    std::string id = run_detached(sb, {"--name", "web"}, {"sh", "-c", "exit 3"});
    CHECK(trim(sb.box({"wait", "web"}).out) == "3");
    REQUIRE(sb.box({"volume", "create", "notes"}).status == 0);
    CHECK(trim(sb.box({"inspect", "-f", "{{.Id}} {{.State.ExitCode}}", "web"}).out) == id + " 3");
    CHECK(trim(sb.box({"inspect", "-f", "{{.Id}}", "busybox"}).out) == image_id);
    CHECK(trim(sb.box({"inspect", "-f", "{{.Name}}", "notes"}).out) == "notes");
    CHECK(trim(sb.box({"inspect", "--type", "image", "-f", "{{.Id}}", "busybox"}).out) == image_id);
    auto wrong_type = sb.box({"inspect", "--type", "image", "web"});
    REQUIRE_ONE_ERROR_LINE(wrong_type, 1);
    auto none = sb.box({"inspect", "nothing-here"});
    REQUIRE_ONE_ERROR_LINE(none, 1);
    CHECK(none.err.find("No such object: nothing-here") != std::string::npos);
    CHECK(trim(none.out) == "[]");
    CHECK(sb.box({"rm", "web"}).status == 0);
}

TEST_CASE("docker's management commands are the same commands; failures exit 1 with docker's words",
          "[stage4][cli][errors]") {
    Sandbox sb;
    import_busybox(sb);
    std::string id = run_detached(sb, {"--name", "web"}, {"sleep", "300"});
    pid_t pid = inspect(sb, "web")["State"]["Pid"];
    CHECK(sb.box({"container", "ls", "-q"}).out == sb.box({"ps", "-q"}).out);
    CHECK(trim(sb.box({"container", "ls", "-q"}).out) == id.substr(0, 12));
    CHECK(sb.box({"image", "ls"}).out == sb.box({"images"}).out);
    CHECK(trim(sb.box({"container", "inspect", "-f", "{{.State.Status}}", "web"}).out) == "running");
    auto group = sb.box({"container"});
    CHECK(group.status == 0);
    CHECK(group.out.find("\n  ls ") != std::string::npos);

    auto rm = sb.box({"rm", "web"});
    REQUIRE_ONE_ERROR_LINE(rm, 1);
    CHECK(rm.err.find("You cannot remove a running container " + id) != std::string::npos);
    auto rmi = sb.box({"rmi", "busybox"});
    REQUIRE_ONE_ERROR_LINE(rmi, 1);
    CHECK(rmi.err.find("is using its referenced image") != std::string::npos);
    auto stop = sb.box({"stop", "missing"});
    REQUIRE_ONE_ERROR_LINE(stop, 1);
    CHECK(stop.err.find("No such container: missing") != std::string::npos);
    auto unknown = sb.box({"container", "nope"});
    REQUIRE_ONE_ERROR_LINE(unknown, 1);
    CHECK(alive(pid));  // none of that touched it

    // run keeps docker's 125 (box's own failure) and 127 (no such command).
    REQUIRE_ONE_ERROR_LINE(sb.box({"container", "run", "--rm", "--pull", "never", "no-such-image"}), 125);
    CHECK(sb.box({"container", "run", "--rm", "busybox", "no-such-command"}).status == 127);
    CHECK(sb.box({"container", "rm", "-f", "web"}).status == 0);
    CHECK(!alive(pid));
    CHECK(sb.box({"container", "ls", "-aq"}).out.empty());
}

TEST_CASE("info counts containers and images as docker does, with the host's facts", "[stage4][cli]") {
    Sandbox sb;
    import_busybox(sb);
    std::string running = run_detached(sb, {}, {"sleep", "300"});
    std::string ended = run_detached(sb, {}, {"sh", "-c", "exit 4"});
    CHECK(trim(sb.box({"wait", ended}).out) == "4");
    CHECK(sb.box({"rm", ended}).status == 0);
    REQUIRE(sb.box({"create", "busybox", "true"}).status == 0);
    auto r = sb.box({"info"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n") != std::string::npos);
    CHECK(r.out.find("\n CPUs: " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + "\n") != std::string::npos);
    CHECK(r.out.find("\n Docker Root Dir: " + sb.dir() + "/state\n") != std::string::npos);
    struct utsname u {};
    uname(&u);
    CHECK(r.out.find(std::string("\n Kernel Version: ") + u.release + "\n") != std::string::npos);
    CHECK(r.out.find(std::string("\n Architecture: ") + u.machine + "\n") != std::string::npos);
    auto f = sb.box({"info", "--format", "{{.ContainersRunning}} {{.ContainersStopped}} {{.Images}} {{.MemTotal}}"});
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    CHECK(trim(f.out) == "1 1 1 " + std::to_string(static_cast<long long>(pages) * page));
    CHECK(sb.box({"rm", "-f", running}).status == 0);
    CHECK(trim(sb.box({"system", "info", "--format", "{{.ContainersRunning}}"}).out) == "0");
}

TEST_CASE("every container gets /etc/hostname, /etc/hosts and /etc/resolv.conf, even from an image without them",
          "[stage4][cli]") {
    Sandbox sb;
    import_busybox(sb);
    // An image without /etc/hostname and /etc/resolv.conf, and with /etc/hosts a symlink to the host's file.
    std::string root = sb.rootfs_copy("bare");
    fs_remove(root + "/etc/hostname");
    fs_remove(root + "/etc/resolv.conf");
    fs_remove(root + "/etc/hosts");
    REQUIRE(symlink("/proc/1/root/etc/shadow", (root + "/etc/hosts").c_str()) == 0);
    auto tar = sb.dir() + "/bare.tar";
    REQUIRE(run({"tar", "-C", root, "-cf", tar, "."}).status == 0);
    REQUIRE(sb.box({"import", tar, "bare"}).status == 0);

    std::string name = random_name("h");
    auto r = sb.box({"run", "--rm", "-h", name, "bare", "sh", "-c",
                     "cat /etc/hostname; echo --; cat /etc/hosts; echo --; cat /etc/resolv.conf"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto parts = r.out;
    CHECK(parts.rfind(name + "\n--\n", 0) == 0);
    CHECK(parts.find("127.0.0.1\tlocalhost\n") != std::string::npos);
    CHECK(parts.find("\t" + name + "\n") != std::string::npos);
    // The host's resolvers, less the loopback ones (unreachable from another network namespace).
    std::string expected;
    bool any = false;
    for (const auto& line : lines(read_host_file("/etc/resolv.conf"))) {
        if (line.rfind("nameserver 127.", 0) == 0 || line == "nameserver ::1") continue;
        any = any || line.rfind("nameserver ", 0) == 0;
        if (!line.empty()) expected += line + "\n";
    }
    if (!any) expected += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
    CHECK(parts.substr(parts.rfind("--\n") + 3) == expected);
    // The image's symlink was not followed: the host's shadow file is as it was, and not shown.
    CHECK(parts.find("root:") == std::string::npos);
    // With the host's network, the host's files.
    auto host = sb.box({"run", "--rm", "--network", "host", "bare", "cat", "/etc/resolv.conf"});
    CHECK(host.out == read_host_file("/etc/resolv.conf"));
    // A detached container has them from its first start, under its shim.
    std::string id = run_detached(sb, {"-h", name + "-d"}, {"sh", "-c", "cat /etc/hostname; exit 4"});
    CHECK(trim(sb.box({"wait", id}).out) == "4");
    CHECK(trim(sb.box({"logs", id}).out) == name + "-d");
    CHECK(sb.box({"rm", id}).status == 0);
}

TEST_CASE("image prune takes dangling images, -a every image no container uses; system prune the stopped containers too",
          "[stage4][cli]") {
    Sandbox sb;
    std::string busybox = import_busybox(sb);
    // A dangling image (imported without a name) and an unused named one, of other content.
    std::string root = sb.rootfs_copy("other");
    std::ofstream(root + "/marker") << random_name("m");
    REQUIRE(run({"tar", "-C", root, "-cf", sb.dir() + "/other.tar", "."}).status == 0);
    std::string dangling = trim(sb.box({"import", sb.dir() + "/other.tar"}).out);
    std::ofstream(root + "/marker2") << "x";
    REQUIRE(run({"tar", "-C", root, "-cf", sb.dir() + "/other2.tar", "."}).status == 0);
    std::string unused = trim(sb.box({"import", sb.dir() + "/other2.tar", "unused:1"}).out);
    std::string stopped = run_detached(sb, {}, {"sh", "-c", "exit 3"});
    CHECK(trim(sb.box({"wait", stopped}).out) == "3");
    auto ids = [&] {
        auto v = lines(sb.box({"images", "-q", "--no-trunc"}).out);
        return std::set<std::string>(v.begin(), v.end());
    };
    REQUIRE(ids() == std::set<std::string>{busybox, dangling, unused});

    auto p = sb.box({"image", "prune", "-f"});
    BOX_SHOW(p);
    CHECK(p.status == 0);
    CHECK(p.out.rfind("Deleted Images:\n", 0) == 0);
    CHECK(p.out.find("\ndeleted: " + dangling + "\n") != std::string::npos);
    CHECK(ids() == std::set<std::string>{busybox, unused});
    // -a: the image the stopped container uses stays.
    CHECK(sb.box({"image", "prune", "-a", "-f"}).out.find("untagged: unused:1") != std::string::npos);
    CHECK(ids() == std::set<std::string>{busybox});
    // system prune: the stopped container goes, then its image with -a.
    auto sp = sb.box({"system", "prune", "-a", "-f"});
    BOX_SHOW(sp);
    CHECK(sp.out.rfind("Deleted Containers:\n" + stopped + "\n", 0) == 0);
    CHECK(sp.out.find("untagged: busybox:latest") != std::string::npos);
    CHECK(ids().empty());
    CHECK(container_dirs(sb) == 0);
    CHECK(std::filesystem::is_empty(sb.dir() + "/state/layers"));
}

TEST_CASE("system df counts what images, containers and volumes hold on disk", "[stage4][cli][df]") {
    Sandbox sb;
    import_busybox(sb);
    // One row per kind, in docker's columns and order; a shared layer counts once.
    auto df = [&] {
        auto r = sb.box({"system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}"});
        INFO(r.err);
        REQUIRE(r.status == 0);
        std::map<std::string, std::vector<std::string>> rows;
        for (const auto& l : lines(r.out)) {
            auto cells = box::split(l, '|');
            rows[cells[0]] = std::vector<std::string>(cells.begin() + 1, cells.end());
        }
        return rows;
    };
    auto table = sb.box({"system", "df"});
    REQUIRE(lines(table.out).size() == 5);
    CHECK(lines(table.out)[0] == "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE");
    std::string image_size = box::human_size(inspect(sb, "busybox")["Size"].get<std::int64_t>(), 4);
    REQUIRE(sb.box({"tag", "busybox", "again:v1"}).status == 0);
    auto rows = df();
    CHECK(rows["Images"] == std::vector<std::string>{"1", "0", image_size, image_size + " (100%)"});
    CHECK(rows["Containers"] == std::vector<std::string>{"0", "0", "0B", "0B"});
    CHECK(rows["Local Volumes"] == std::vector<std::string>{"0", "0", "0B", "0B"});
    CHECK(rows["Build Cache"] == std::vector<std::string>{"0", "0", "0B", "0B"});

    // A running container with 100000 bytes in its writable layer and 2 MB in a volume.
    REQUIRE(sb.box({"volume", "create", "data"}).status == 0);
    run_detached(sb, {"--name", "web", "-v", "data:/data"},
                 {"sh", "-c", "head -c 100000 /dev/zero > /blob; head -c 2000000 /dev/zero > /data/big; "
                              "touch /ready; sleep 1000"});
    for (int i = 0; i < 200 && sb.box({"exec", "web", "test", "-e", "/ready"}).status != 0; ++i) usleep(50000);
    rows = df();
    CHECK(rows["Images"] == std::vector<std::string>{"1", "1", image_size, "0B (0%)"});
    CHECK(rows["Containers"] == std::vector<std::string>{"1", "1", "100kB", "0B (0%)"});
    CHECK(rows["Local Volumes"] == std::vector<std::string>{"1", "1", "2MB", "0B (0%)"});
    REQUIRE(sb.box({"stop", "-t", "0", "web"}).status == 0);
    rows = df();
    CHECK(rows["Containers"] == std::vector<std::string>{"1", "0", "100kB", "100kB (100%)"});
    REQUIRE(sb.box({"rm", "web"}).status == 0);
    rows = df();
    CHECK(rows["Images"] == std::vector<std::string>{"1", "0", image_size, image_size + " (100%)"});
    CHECK(rows["Containers"] == std::vector<std::string>{"0", "0", "0B", "0B"});
    CHECK(rows["Local Volumes"] == std::vector<std::string>{"1", "0", "2MB", "2MB (100%)"});
}

TEST_CASE("create pulls a missing image as run does, its lines on stderr", "[stage4][cli]") {
    Sandbox sb;
    TestRegistry registry(sb);
    push_with_skopeo(sb, registry, "team/web:v1");
    std::string name = registry.host() + "/team/web:v1";
    auto created = sb.box({"create", name, "sh", "-c", "exit 4"});
    BOX_SHOW(created);
    REQUIRE(created.status == 0);
    std::string id = trim(created.out);  // only the id on stdout
    CHECK(id.size() == 64);
    CHECK(created.err.rfind("Unable to find image '" + name + "' locally\n", 0) == 0);
    CHECK(created.err.find("Status: Downloaded newer image for " + name) != std::string::npos);
    CHECK(sb.box({"start", "-a", id}).status == 4);
}
