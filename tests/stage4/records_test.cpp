// Stage 4: containers made without a command line, and records written by an
// earlier box.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/request.hpp"
#include "box/util.hpp"
#include "lifecycle.hpp"
#include "stage1.hpp"
#include "stage2.hpp"
#include "stage3.hpp"
#include "stage4.hpp"
#include "support.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

namespace {
// A config.json exactly as the box of 2026-12-01 (commit 8dd0b67) wrote it for
// `box create --name old-record -m 64m --pids-limit 50 -e GREETING=hello
// -h oldhost -w /tmp --rootfs ROOTFS sh -c '...; exit 3'`, ROOTFS put back by the test.
const char* const kOldRecord =
    R"({"AutoRemove":false,"Created":"2026-12-01T21:59:22.556209545Z","Id":"@ID@","ImageID":"","Name":"old-record","Restart":"no","Spec":{"args":["sh","-c","echo \"$GREETING from $(hostname) in $PWD\"; exit 3"],"env":["GREETING=hello"],"gid_map":[0,100000,65536],"hostname":"oldhost","id":"@ID@","image":"","interactive":false,"keep_rootfs":true,"layers":[],"limits":{"cpuset_cpus":"","memory":67108864,"pids":50},"mounts":[],"network":"none","rootfs":"@ROOTFS@","rootfs_made_later":false,"tty":false,"uid_map":[0,100000,65536],"user":"","userns":false,"workdir":"/tmp"}})";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
    return s;
}
}  // namespace

TEST_CASE("a container recorded by an earlier box still lists, starts and goes; missing and unknown fields are fine", "[stage4][records]") {
    Sandbox sb;
    std::string id = box::random_hex(64);
    std::string dir = sb.dir() + "/state/containers/" + id;
    fs::create_directories(dir);
    fs::create_directories(sb.dir() + "/state/container-names");
    fs::create_symlink(id, sb.dir() + "/state/container-names/old-record");
    std::ofstream(dir + "/config.json") << replace_all(replace_all(kOldRecord, "@ID@", id), "@ROOTFS@", base_rootfs());

    CHECK(trim(sb.box({"ps", "-a", "-q", "--no-trunc"}).out) == id);
    auto j = inspect(sb, "old-record");
    CHECK(j["Config"]["Hostname"] == "oldhost");
    CHECK(j["HostConfig"]["Memory"] == 67108864);
    CHECK(j["HostConfig"]["PidsLimit"] == 50);
    CHECK(j["State"]["Status"] == "created");
    // It runs as it was made: environment, host name, directory, exit status.
    auto r = sb.box({"start", "-a", "old-record"});
    BOX_SHOW(r);
    CHECK(r.status == 3);
    CHECK(trim(r.out) == "hello from oldhost in /tmp");
    CHECK(inspect(sb, "old-record")["State"]["ExitCode"] == 3);
    CHECK(sb.box({"rm", "old-record"}).status == 0);
    CHECK(!fs::exists(dir));

    // A record missing fields, or holding fields this box does not know, still loads.
    id = box::random_hex(64);
    auto record = nlohmann::json::parse(replace_all(replace_all(kOldRecord, "@ID@", id), "@ROOTFS@", base_rootfs()));
    record["Spec"].erase("limits");
    record["Spec"].erase("mounts");
    record["Spec"]["from_the_future"] = {{"ports", {"80/tcp"}}};
    record["Spec"]["hostname"] = "newer";
    dir = sb.dir() + "/state/containers/" + id;
    fs::create_directories(dir);
    std::ofstream(dir + "/config.json") << record.dump();
    j = inspect(sb, id.substr(0, 12));
    CHECK(j["Config"]["Hostname"] == "newer");
    CHECK(j["HostConfig"]["Memory"] == 0);
    CHECK(j["HostConfig"]["PidsLimit"].is_null());
    // A field of the wrong type is an error naming the container, not a crash.
    record["Spec"]["args"] = 42;
    std::ofstream(dir + "/config.json") << record.dump();
    auto bad = sb.box({"inspect", id});
    CHECK(bad.status != 0);
    CHECK(bad.err.find("container spec") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("a program makes a container through the request API, without a command line", "[stage4][records]") {
    Sandbox sb;
    import_busybox(sb);
    box::set_state_root(sb.dir() + "/state");
    // What box registers at start: chapter 3's image preparer, chapter 1's checks.
    box::stage1::register_commands();
    box::stage2::register_commands();
    box::stage3::register_commands();
    box::stage4::register_commands();
    // docker's shape: what a build step or a compose service will fill in.
    box::ContainerRequest request;
    request.Name = random_name("api-");
    request.Config.Image = "busybox";
    request.Config.Cmd = {"sh", "-c", "echo made by $MAKER in $(pwd) as $(hostname); cat /data/seed 2>/dev/null || echo no-seed"};
    request.Config.Env = {"MAKER=api"};
    request.Config.WorkingDir = "/srv";
    request.Config.Hostname = "from-api";
    request.HostConfig.Binds = {"/data"};
    request.HostConfig.Memory = 64 << 20;
    box::ContainerSpec spec = box::spec_from_request(request);  // what create_container reads
    CHECK(spec.rootfs_made_later);
    CHECK(!spec.layers.empty());
    CHECK(spec.limits.memory == 64 << 20);
    box::stage4::Container c = box::stage4::create_container(request);
    CHECK(inspect(sb, c.id)["HostConfig"]["Memory"] == 64 << 20);
    // The request is kept with the container, in docker's names.
    auto config = nlohmann::json::parse(read_host_file(sb.dir() + "/state/containers/" + c.id + "/config.json"));
    CHECK(config["Request"]["Config"]["Image"] == "busybox");
    CHECK(config["Request"]["HostConfig"]["Binds"] == nlohmann::json({"/data"}));

    // The record is the CLI's: box lists it, starts it, and it runs the image.
    CHECK(trim(sb.box({"ps", "-a", "--filter", "name=" + request.Name, "-q", "--no-trunc"}).out) == c.id);
    auto r = sb.box({"start", "-a", request.Name});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(lines(r.out) == std::vector<std::string>{"made by api in /srv as from-api", "no-seed"});
    CHECK(inspect(sb, request.Name)["Mounts"][0]["Destination"] == "/data");
    // ps --format, as docker's: fields, and `table` with docker's headers.
    auto listed = sb.box({"ps", "-a", "--format", "{{.ID}} {{.Names}} {{.State}}"});
    BOX_SHOW(listed);
    CHECK(trim(listed.out) == c.id.substr(0, 12) + " " + request.Name + " exited");
    auto table = sb.box({"ps", "-a", "--format", "table {{.ID}}\\t{{.Names}}"});
    BOX_SHOW(table);
    CHECK(lines(table.out) == std::vector<std::string>{"CONTAINER ID   NAMES", c.id.substr(0, 12) + "   " + request.Name});

    // Bad input through the API is refused with nothing recorded.
    CHECK_THROWS_AS(box::stage4::create_container(request), box::Error);  // the name is taken
    box::ContainerRequest bad = request;
    bad.Name.clear();
    bad.HostConfig.RestartPolicy.Name = "sometimes";
    CHECK_THROWS_AS(box::stage4::create_container(bad), box::Error);
    bad.HostConfig.RestartPolicy = {"on-failure", 2};
    bad.HostConfig.AutoRemove = true;
    CHECK_THROWS_AS(box::stage4::create_container(bad), box::Error);  // --rm with a restart policy
    bad = request;
    bad.Name.clear();
    bad.HostConfig.Memory = 1024;  // under docker's 6 MiB floor
    CHECK_THROWS_AS(box::stage4::create_container(bad), box::Error);
    bad.HostConfig.Memory = 0;
    bad.Config.Hostname = "no\nnewlines";  // it would be two lines of /etc/hosts
    CHECK_THROWS_AS(box::stage4::create_container(bad), box::Error);
    CHECK(container_dirs(sb) == 1);

    // wait and remove as functions too: the record and its anonymous volume go.
    box::stage4::ContainerStore store(sb.dir() + "/state");
    CHECK(box::stage4::wait_container(store, request.Name).state.exit_code == 0);
    CHECK(!sb.box({"volume", "ls", "-q"}).out.empty());
    box::stage4::remove_container(store, request.Name, false, true);
    CHECK(container_dirs(sb) == 0);
    CHECK(sb.box({"volume", "ls", "-q"}).out.empty());
    CHECK(sb.box({"inspect", request.Name}).status != 0);
}
