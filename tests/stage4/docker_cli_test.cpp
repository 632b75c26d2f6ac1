// Stage 4, black-box: the tutorial's commands as a Docker user types them —
// inspect of any object, the management commands, docker's exit statuses.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace boxtest;

TEST_CASE("inspect finds a container, then an image, then a volume; --type picks one", "[stage4][cli]") {
    Sandbox sb;
    std::string image_id = import_busybox(sb);
    std::string id = run_detached(sb, {"--name", "web"}, {"sleep", "300"});
    REQUIRE(sb.box({"volume", "create", "notes"}).status == 0);
    CHECK(trim(sb.box({"inspect", "-f", "{{.Id}}", "web"}).out) == id);
    CHECK(trim(sb.box({"inspect", "-f", "{{.Id}}", "busybox"}).out) == image_id);
    CHECK(trim(sb.box({"inspect", "-f", "{{.Name}}", "notes"}).out) == "notes");
    CHECK(trim(sb.box({"inspect", "--type", "image", "-f", "{{.Id}}", "busybox"}).out) == image_id);
    auto wrong_type = sb.box({"inspect", "--type", "image", "web"});
    REQUIRE_ONE_ERROR_LINE(wrong_type, 1);
    auto none = sb.box({"inspect", "nothing-here"});
    REQUIRE_ONE_ERROR_LINE(none, 1);
    CHECK(none.err.find("No such object: nothing-here") != std::string::npos);
    CHECK(trim(none.out) == "[]");
    CHECK(sb.box({"rm", "-f", "web"}).status == 0);
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
    REQUIRE_ONE_ERROR_LINE(sb.box({"container", "run", "--rm", "no-such-image"}), 125);
    CHECK(sb.box({"container", "run", "--rm", "busybox", "no-such-command"}).status == 127);
    CHECK(sb.box({"container", "rm", "-f", "web"}).status == 0);
    CHECK(!alive(pid));
    CHECK(sb.box({"container", "ls", "-aq"}).out.empty());
}
