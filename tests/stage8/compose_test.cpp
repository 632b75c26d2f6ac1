// Stage 8, black-box: projects of busybox services brought up and down by
// ./box compose, checked in what box's listings, the containers and the
// kernel show.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "../stage4/support.hpp"
#include "support.hpp"

using namespace boxtest;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The busybox two-service app: an httpd, and a client that fetches its page
// by the service's name, an alias and a link alias.
const char* kApp = R"(
services:
  web:
    image: busybox
    command: httpd -f -p 80 -h /www
    volumes: ["./www:/www:ro", "logs:/logs"]
    networks:
      default:
        aliases: [site]
    labels:
      tier: front
  client:
    image: busybox
    depends_on: [web]
    links: ["web:linked"]
    command: sh -c 'for n in web site linked; do wget -qO- http://$$n/ || exit 1; done'
volumes:
  logs:
)";

std::vector<std::string> names_of(const Sandbox& sb, const std::vector<std::string>& list_args) {
    return lines(sb.box(list_args).out);
}

}  // namespace

TEST_CASE("up -d of a two-service app: the client reaches the httpd by service name, alias and link; everything "
          "is labelled; down leaves nothing",
          "[stage8][up]") {
    Sandbox sb;
    import_busybox(sb);
    std::string dir = make_project(sb, "app", {{"compose.yaml", kApp}, {"www/index.html", "hello from web\n"}});
    ProjectGuard guard{sb, dir};
    auto r = compose(sb, dir, {"up", "-d"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.err.find(" Network app_default  Created") != std::string::npos);
    CHECK(r.err.find(" Container app-web-1  Started") != std::string::npos);
    CHECK(r.err.find(" Container app-web-1  Started") < r.err.find(" Container app-client-1  Started"));

    // The client ran to its end and fetched the page three times.
    auto client = sb.box({"wait", "app-client-1"});
    CHECK(trim(client.out) == "0");
    CHECK(sb.box({"logs", "app-client-1"}).out == "hello from web\nhello from web\nhello from web\n");

    // Labels on everything, found by box's own listings.
    json web = inspect_container(sb, "app-web-1");
    CHECK(web["Config"]["Labels"]["com.docker.compose.project"] == "app");
    CHECK(web["Config"]["Labels"]["com.docker.compose.service"] == "web");
    CHECK(web["Config"]["Labels"]["com.docker.compose.container-number"] == "1");
    CHECK(web["Config"]["Labels"]["com.docker.compose.project.working_dir"] == dir);
    CHECK(web["Config"]["Labels"]["tier"] == "front");
    CHECK(web["State"]["Running"] == true);
    CHECK(names_of(sb, {"ps", "-q", "--filter", "label=com.docker.compose.project=app"}).size() == 1);
    CHECK(names_of(sb, {"network", "ls", "-q", "--filter", "label=com.docker.compose.network=default"}).size() == 1);
    CHECK(names_of(sb, {"volume", "ls", "-q", "--filter", "label=com.docker.compose.project=app"}) == std::vector<std::string>{"app_logs"});

    // ps: the project's containers with their service.
    std::string ps = compose_ok(sb, dir, {"ps", "-a"});
    CHECK(ps.rfind("NAME", 0) == 0);
    CHECK(ps.find("app-web-1") != std::string::npos);
    CHECK(ps.find("app-client-1") != std::string::npos);
    CHECK(lines(compose_ok(sb, dir, {"ps", "--services"})) == std::vector<std::string>{"web"});
    CHECK(compose_ok(sb, dir, {"logs", "client"}).find("client-1  | hello from web") != std::string::npos);

    // down: containers and the network go; the volume stays without -v, goes with it.
    r = compose(sb, dir, {"down"});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(names_of(sb, {"network", "ls", "-q", "--filter", "label=com.docker.compose.project=app"}).empty());
    CHECK(names_of(sb, {"volume", "ls", "-q"}) == std::vector<std::string>{"app_logs"});
    CHECK(compose(sb, dir, {"down", "-v"}).status == 0);
    CHECK(sb.box({"volume", "ls", "-q"}).out.empty());
    CHECK(sb.leftovers().empty());
}

TEST_CASE("up again changes nothing; a changed service is recreated, alone, keeping its volumes; orphans are "
          "reported, then removed",
          "[stage8][reconcile]") {
    Sandbox sb;
    import_busybox(sb);
    std::string yaml = R"(
services:
  keeper:
    image: busybox
    command: sleep 300
    volumes: ["data:/data", "/scratch"]
  other:
    image: busybox
    command: sleep 300
volumes:
  data:
)";
    std::string dir = make_project(sb, "rc", {{"compose.yaml", yaml}});
    ProjectGuard guard{sb, dir};
    compose_ok(sb, dir, {"up", "-d"});
    std::string keeper = inspect_container(sb, "rc-keeper-1")["Id"], other = inspect_container(sb, "rc-other-1")["Id"];
    REQUIRE(sb.box({"exec", "rc-keeper-1", "sh", "-c", "echo named > /data/f; echo anon > /scratch/f"}).status == 0);

    // Unchanged: the same containers, still running.
    auto r = compose(sb, dir, {"up", "-d"});
    BOX_SHOW(r);
    CHECK(r.err.find(" Container rc-keeper-1  Running") != std::string::npos);
    CHECK(inspect_container(sb, "rc-keeper-1")["Id"] == keeper);
    CHECK(inspect_container(sb, "rc-other-1")["Id"] == other);

    // keeper's command changes: it alone is made anew, its volumes' files still there.
    std::ofstream(dir + "/compose.yaml") << std::regex_replace(yaml, std::regex("sleep 300\n    volumes"), "sleep 301\n    volumes");
    r = compose(sb, dir, {"up", "-d"});
    BOX_SHOW(r);
    CHECK(r.err.find(" Container rc-keeper-1  Recreate") != std::string::npos);
    json now = inspect_container(sb, "rc-keeper-1");
    CHECK(now["Id"] != keeper);
    CHECK(now["Config"]["Cmd"] == json({"sleep", "301"}));
    CHECK(inspect_container(sb, "rc-other-1")["Id"] == other);
    CHECK(sb.box({"exec", "rc-keeper-1", "cat", "/data/f", "/scratch/f"}).out == "named\nanon\n");
    CHECK(sb.box({"ps", "-aq"}).out.size() == 2 * 13);  // the old container is gone

    // --force-recreate makes new ones anyway; --no-recreate keeps them.
    compose_ok(sb, dir, {"up", "-d", "--force-recreate", "other"});
    std::string other2 = inspect_container(sb, "rc-other-1")["Id"];
    CHECK(other2 != other);

    // other leaves the file: an orphan, reported; --remove-orphans removes it.
    std::ofstream(dir + "/compose.yaml") << std::regex_replace(yaml, std::regex("  other:\n    image: busybox\n    command: sleep 300\n"), "");
    r = compose(sb, dir, {"up", "-d"});
    BOX_SHOW(r);
    CHECK(r.err.find("Found orphan containers ([rc-other-1])") != std::string::npos);
    CHECK(inspect_container(sb, "rc-other-1")["Id"] == other2);
    compose_ok(sb, dir, {"up", "-d", "--remove-orphans"});
    CHECK(sb.box({"inspect", "rc-other-1"}).status != 0);

    // --scale: numbered containers, and back down.
    compose_ok(sb, dir, {"up", "-d", "--scale", "keeper=2"});
    CHECK(inspect_container(sb, "rc-keeper-2")["Config"]["Labels"]["com.docker.compose.container-number"] == "2");
    compose_ok(sb, dir, {"up", "-d"});
    CHECK(sb.box({"inspect", "rc-keeper-2"}).status != 0);
    compose_ok(sb, dir, {"down", "-v"});
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(sb.box({"volume", "ls", "-q"}).out.empty());
    CHECK(sb.leftovers().empty());
}

TEST_CASE("up attached shows each line prefixed with its container; --exit-code-from returns that service's status",
          "[stage8][attach]") {
    Sandbox sb;
    import_busybox(sb);
    std::string dir = make_project(sb, "att", {{"compose.yaml", R"(
services:
  server:
    image: busybox
    command: sh -c 'echo serving; sleep 30'
  client:
    image: busybox
    depends_on: [server]
    command: sh -c 'echo asking; exit 3'
)"}});
    ProjectGuard guard{sb, dir};
    auto r = compose(sb, dir, {"up", "--exit-code-from", "client", "-t", "1"});
    BOX_SHOW(r);
    CHECK(r.status == 3);
    CHECK(r.out.find("client-1  | asking\n") != std::string::npos);
    CHECK(r.out.find("server-1  | serving\n") != std::string::npos);
    CHECK(r.out.find("client-1 exited with code 3") != std::string::npos);
    // Aborting stopped the server too.
    CHECK(inspect_container(sb, "att-server-1")["State"]["Running"] == false);
}

TEST_CASE("depends_on conditions: a dependency that must complete, and one that must be healthy, are waited "
          "for; a failing one stops up",
          "[stage8][depends]") {
    Sandbox sb;
    import_busybox(sb);
    std::string dir = make_project(sb, "dep", {{"compose.yaml", R"(
services:
  migrate:
    image: busybox
    command: sh -c 'sleep 1; echo done > /shared/migrated'
    volumes: ["shared:/shared"]
  db:
    image: busybox
    command: sh -c 'sleep 1; touch /ready; sleep 300'
    healthcheck:
      test: ["CMD", "test", "-f", "/ready"]
      interval: 200ms
      retries: 50
  app:
    image: busybox
    command: sh -c 'cat /shared/migrated; sleep 300'
    volumes: ["shared:/shared"]
    depends_on:
      migrate: {condition: service_completed_successfully}
      db: {condition: service_healthy}
volumes:
  shared:
)"}});
    ProjectGuard guard{sb, dir};
    auto r = compose(sb, dir, {"up", "-d"}, RunOptions{"", std::chrono::seconds(60), {}});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.err.find(" Container dep-db-1  Healthy") != std::string::npos);
    CHECK(r.err.find(" Container dep-migrate-1  Exited") != std::string::npos);
    CHECK(inspect_container(sb, "dep-app-1")["State"]["Running"] == true);
    for (int i = 0; i < 50 && sb.box({"logs", "dep-app-1"}).out.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(sb.box({"logs", "dep-app-1"}).out == "done\n");  // it started after migrate had finished
    compose_ok(sb, dir, {"down", "-v", "-t", "0"});

    // A dependency that fails: up stops with docker compose's words; its dependant is never made.
    std::ofstream(dir + "/compose.yaml") << R"(
services:
  migrate:
    image: busybox
    command: sh -c 'exit 4'
  app:
    image: busybox
    command: sleep 300
    depends_on:
      migrate: {condition: service_completed_successfully}
)";
    r = compose(sb, dir, {"up", "-d"});
    BOX_SHOW(r);
    CHECK(r.status != 0);
    CHECK(r.err.find("service \"migrate\" didn't complete successfully: exit 4") != std::string::npos);
    CHECK(sb.box({"inspect", "dep-app-1"}).status != 0);
    compose_ok(sb, dir, {"down", "-v"});
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(sb.leftovers().empty());
}

TEST_CASE("box-compose is box compose; config prints the model; a bad file makes nothing", "[stage8][cli]") {
    Sandbox sb;
    std::string dir = make_project(sb, "cli", {{"docker-compose.yml", "version: '3'\nservices:\n  web:\n    image: busybox:${TAG:-1.36}\n    ports: ['8080:80']\n"}});
    std::vector<std::string> argv = sb.box_argv({"-f", dir + "/docker-compose.yml", "config"});
    argv[0] = fs::path(argv[0]).parent_path().string() + "/box-compose";
    auto r = run(argv);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("image: busybox:1.36") != std::string::npos);
    CHECK(r.out.find("published: \"8080\"") != std::string::npos);
    CHECK(r.out.find("target: 80") != std::string::npos);
    CHECK(r.err.find("`version` is obsolete") != std::string::npos);
    CHECK(compose_ok(sb, dir, {"config", "--services"}) == "web\n");
    CHECK(compose_ok(sb, dir, {"version"}).rfind("box compose version ", 0) == 0);

    // A file error: one line, exit 1, nothing made.
    std::ofstream(dir + "/docker-compose.yml") << "services:\n  web:\n    image: busybox\n    colour: red\n";
    r = compose(sb, dir, {"up", "-d"});
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(r.err.find("services.web additional property colour is not allowed (line 4)") != std::string::npos);
    r = compose(sb, dir, {"-p", "Not Valid", "ps"});
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(sb.box({"network", "ls", "-q", "--filter", "label=com.docker.compose.project"}).out.empty());
    CHECK(sb.leftovers().empty());
}

TEST_CASE("exec, run, port, top and kill act on a service's containers; one-off containers are labelled and go "
          "with down",
          "[stage8][commands]") {
    Sandbox sb;
    import_busybox(sb);
    std::string dir = make_project(sb, "cmds", {{"compose.yaml", R"(
services:
  web:
    image: busybox
    command: httpd -f -p 80
    ports: ["127.0.0.1::80"]
    environment: {GREETING: hi}
)"}, {".env", "FROM_DOTENV=from-dotenv\n"}});
    ProjectGuard guard{sb, dir};
    compose_ok(sb, dir, {"up", "-d"});
    // exec: in the running container, with its environment.
    CHECK(compose_ok(sb, dir, {"exec", "-T", "web", "sh", "-c", "echo $GREETING"}) == "hi\n");
    auto r = compose(sb, dir, {"exec", "-T", "web", "sh", "-c", "exit 4"});
    CHECK(r.status == 4);
    // port: the host port the kernel forwards to the container's 80.
    std::string port = trim(compose_ok(sb, dir, {"port", "web", "80"}));
    CHECK(std::regex_match(port, std::regex("127\\.0\\.0\\.1:[0-9]+")));
    CHECK(inspect_container(sb, "cmds-web-1")["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"] == port.substr(port.find(':') + 1));
    // run: a new container of the service, its status returned; --rm leaves nothing.
    r = compose(sb, dir, {"run", "--rm", "-T", "web", "sh", "-c", "echo one-off $GREETING; exit 5"});
    BOX_SHOW(r);
    CHECK(r.status == 5);
    CHECK(r.out == "one-off hi\n");
    CHECK(lines(sb.box({"ps", "-aq"}).out).size() == 1);
    // -e KEY alone: the project's value (.env's here), as docker compose resolves it.
    CHECK(compose_ok(sb, dir, {"run", "--rm", "-T", "-e", "FROM_DOTENV", "web", "sh", "-c", "echo $FROM_DOTENV"}) == "from-dotenv\n");
    r = compose(sb, dir, {"run", "-d", "web", "sleep", "60"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    std::string oneoff = trim(r.out);
    CHECK(oneoff.rfind("cmds-web-run-", 0) == 0);
    CHECK(inspect_container(sb, oneoff)["Config"]["Labels"]["com.docker.compose.oneoff"] == "True");
    // top: the service's processes; kill: SIGKILL by default.
    CHECK(compose_ok(sb, dir, {"top", "web"}).find("httpd") != std::string::npos);
    compose_ok(sb, dir, {"kill", "web"});
    json web = inspect_container(sb, "cmds-web-1");
    CHECK(web["State"]["Running"] == false);
    CHECK(web["State"]["ExitCode"] == 137);
    compose_ok(sb, dir, {"down", "-t", "0"});
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(sb.leftovers().empty());
}

TEST_CASE("build and push send a service's image to its registry; images, pause, unpause and ls act on the "
          "project; --version",
          "[stage8][commands]") {
    Sandbox sb;
    import_busybox(sb);
    auto registry = std::make_unique<TestRegistry>(sb);
    std::string host = registry->host(), image = host + "/shop/app:1";
    std::string dir = make_project(sb, "shop", {{"compose.yaml", R"(
services:
  app:
    build: .
    image: )" + image + R"(
    command: sh -c 'while true; do echo tick; sleep 0.1; done'
  db:
    image: busybox
    command: sleep 600
)"}, {"Dockerfile", "FROM busybox\nRUN echo built-here > /built\n"}});
    ProjectGuard guard{sb, dir};
    compose_ok(sb, dir, {"build"});
    auto r = compose(sb, dir, {"push"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.err.find(" db Skipped") != std::string::npos);  // no build: nothing of the project's to push
    // The registry has it: removed here, pulled back, it runs what was built.
    REQUIRE(sb.box({"rmi", image}).status == 0);
    REQUIRE(sb.box({"pull", image}).status == 0);
    CHECK(sb.box({"run", "--rm", image, "cat", "/built"}).out == "built-here\n");

    compose_ok(sb, dir, {"up", "-d"});
    // images: one row per container, naming the image each runs.
    std::string images = compose_ok(sb, dir, {"images"});
    INFO(images);
    CHECK(images.rfind("CONTAINER", 0) == 0);
    CHECK(std::regex_search(images, std::regex("shop-app-1 +" + host + "/shop/app +1 +[0-9a-f]{12} ")));
    CHECK(std::regex_search(images, std::regex("shop-db-1 +busybox +latest +[0-9a-f]{12} ")));
    std::vector<std::string> ids = lines(compose_ok(sb, dir, {"images", "-q"}));
    CHECK(ids.size() == 2);
    std::string app_image = inspect_container(sb, "shop-app-1")["Image"];
    CHECK(std::count(ids.begin(), ids.end(), app_image.substr(7)) == 1);

    // pause: no line comes while the app is frozen; unpause: they come again.
    auto ticks = [&] { return lines(sb.box({"logs", "shop-app-1"}).out).size(); };
    REQUIRE(eventually([&] { return ticks() >= 2; }));
    compose_ok(sb, dir, {"pause", "app"});
    CHECK(inspect_container(sb, "shop-app-1")["State"]["Paused"] == true);
    CHECK(inspect_container(sb, "shop-db-1")["State"]["Paused"] == false);
    size_t frozen_at = ticks();
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    CHECK(ticks() == frozen_at);
    compose_ok(sb, dir, {"unpause"});
    CHECK(eventually([&] { return ticks() > frozen_at + 2; }));

    // ls: the project by its labels, from anywhere (no file read); -a counts stopped ones too.
    std::string elsewhere = make_project(sb, "elsewhere", {});
    std::string ls = compose_ok(sb, elsewhere, {"ls"});
    INFO(ls);
    CHECK(std::regex_search(ls, std::regex("\nshop +running\\(2\\) +" + dir + "/compose.yaml\n")));
    CHECK(compose_ok(sb, elsewhere, {"ls", "-q"}) == "shop\n");
    compose_ok(sb, dir, {"stop", "-t", "0", "db"});
    CHECK(json::parse(compose_ok(sb, elsewhere, {"ls", "-a", "--format", "json"}))[0]["Status"] == "exited(1), running(1)");

    CHECK(compose_ok(sb, dir, {"--version"}).rfind("box compose version ", 0) == 0);
    compose_ok(sb, dir, {"down", "-t", "0"});
    CHECK(compose_ok(sb, elsewhere, {"ls", "-a"}) == "NAME      STATUS    CONFIG FILES\n");
    registry.reset();
    CHECK(sb.leftovers() == std::vector<std::string>{});
}

TEST_CASE("a compose up or down killed at any moment leaves a project that the next up and down handle",
          "[stage8][crash]") {
    Sandbox sb;
    import_busybox(sb);
    std::string dir = make_project(sb, "crash", {{"compose.yaml", R"(
services:
  web:
    image: busybox
    command: httpd -f -p 80
    ports: ["127.0.0.1::80"]
    volumes: ["data:/data"]
  worker:
    image: busybox
    command: sleep 600
    depends_on: [web]
    networks: [default, back]
  cache:
    image: busybox
    command: sleep 600
    networks: [back]
networks:
  back:
volumes:
  data:
)"}});
    ProjectGuard guard{sb, dir};
    auto kill_midway = [&](const std::string& args, long max_ms) {
        std::vector<std::string> argv = sb.box_argv({"compose"});
        Background box({"sh", "-c", "cd " + shell_words({dir}) + " && exec " + shell_words(argv) + " " + args});
        long ms = random_int(0, max_ms);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        ::kill(box.pid(), SIGKILL);
        box.wait(std::chrono::seconds(5));
        return ms;
    };
    for (int round = 0; round < 6; ++round) {
        long at = kill_midway("up -d", 500);
        INFO("round " << round << ": up -d killed after " << at << " ms");
        auto r = compose(sb, dir, {"up", "-d"});
        BOX_SHOW(r);
        REQUIRE(r.status == 0);
        CHECK(lines(sb.box({"ps", "-q", "--filter", "label=com.docker.compose.project=crash"}).out).size() == 3);
        CHECK(lines(compose_ok(sb, dir, {"ps", "-q"})).size() == 3);
        at = kill_midway("down -t 0", 300);
        INFO("down killed after " << at << " ms");
        r = compose(sb, dir, {"down", "-t", "0"});
        BOX_SHOW(r);
        REQUIRE(r.status == 0);
        CHECK(sb.box({"ps", "-aq"}).out.empty());
        CHECK(lines(sb.box({"network", "ls", "-q", "--filter", "label=com.docker.compose.project=crash"}).out).empty());
        CHECK(sb.leftovers() == std::vector<std::string>{});
    }
    // The named volume outlived every round (down without -v), and goes with -v.
    CHECK(lines(sb.box({"volume", "ls", "-q"}).out) == std::vector<std::string>{"crash_data"});
    compose_ok(sb, dir, {"down", "-v"});
    CHECK(sb.box({"volume", "ls", "-q"}).out.empty());
}

TEST_CASE("two projects with the same services keep apart; a recreated service is reached at its new container "
          "by the same name",
          "[stage8][reconcile]") {
    Sandbox sb;
    import_busybox(sb);
    std::string yaml = R"(
services:
  web:
    image: busybox
    command: httpd -f -p 80 -h /www
    volumes: ["./www:/www:ro"]
  probe:
    image: busybox
    command: sleep 600
    depends_on: [web]
)";
    std::string one = make_project(sb, "one", {{"compose.yaml", yaml}, {"www/index.html", "one\n"}});
    std::string two = make_project(sb, "two", {{"compose.yaml", yaml}, {"www/index.html", "two\n"}});
    ProjectGuard guard_one{sb, one}, guard_two{sb, two};
    compose_ok(sb, one, {"up", "-d"});
    compose_ok(sb, two, {"up", "-d"});
    auto fetch = [&](const std::string& probe) {
        auto r = sb.box({"exec", probe, "wget", "-qO-", "http://web/"});
        return r.status == 0 ? r.out : "exit " + std::to_string(r.status) + ": " + r.err;
    };
    CHECK(fetch("one-probe-1") == "one\n");  // each project's `web` is its own
    CHECK(fetch("two-probe-1") == "two\n");
    std::string web_two = inspect_container(sb, "two-web-1")["Id"], probe_one = inspect_container(sb, "one-probe-1")["Id"];
    std::string web_one = inspect_container(sb, "one-web-1")["Id"];

    // one's web changes: it alone is recreated; probe (depends_on only) and project two stay.
    std::ofstream(one + "/compose.yaml") << std::regex_replace(yaml, std::regex("-h /www"), "-h /www -c /dev/null");
    auto r = compose(sb, one, {"up", "-d"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(inspect_container(sb, "one-web-1")["Id"] != web_one);
    CHECK(inspect_container(sb, "one-probe-1")["Id"] == probe_one);
    CHECK(inspect_container(sb, "two-web-1")["Id"] == web_two);
    CHECK(eventually([&] { return fetch("one-probe-1") == "one\n"; }));  // the name follows the new container
    CHECK(fetch("two-probe-1") == "two\n");
    compose_ok(sb, one, {"down", "-t", "0"});
    CHECK(inspect_container(sb, "two-web-1")["State"]["Running"] == true);
    CHECK(lines(sb.box({"ps", "-q"}).out).size() == 2);
}

TEST_CASE("up that fails midway — an image no registry has, a port taken, a build that fails — says so in one "
          "line, and down removes what it made",
          "[stage8][faults]") {
    Sandbox sb;
    import_busybox(sb);
    auto check_fails = [&](const std::string& name, const std::string& extra, const std::string& words,
                           const std::map<std::string, std::string>& files = {}) {
        std::map<std::string, std::string> all = files;
        all["compose.yaml"] = "services:\n  first:\n    image: busybox\n    command: sleep 600\n" + extra;
        std::string dir = make_project(sb, name, all);
        ProjectGuard guard{sb, dir};
        auto r = compose(sb, dir, {"up", "-d"});
        INFO(name);
        BOX_SHOW(r);
        // up's progress lines, then one error line, its last, and exit 1.
        CHECK(r.status == 1);
        std::vector<std::string> err = lines(r.err);
        REQUIRE(!err.empty());
        CHECK(std::count_if(err.begin(), err.end(), [](const std::string& l) { return l.rfind("box: ", 0) == 0; }) == 1);
        CHECK(err.back().rfind("box: ", 0) == 0);
        CHECK(err.back().find(words) != std::string::npos);
        r = compose(sb, dir, {"down", "-t", "0"});
        BOX_SHOW(r);
        CHECK(r.status == 0);
        CHECK(sb.box({"ps", "-aq"}).out.empty());
        CHECK(sb.box({"network", "ls", "-q", "--filter", "label=com.docker.compose.project=" + name}).out.empty());
        CHECK(sb.leftovers() == std::vector<std::string>{});
    };
    int closed = free_port();  // nothing listens there: no registry answers
    check_fails("nopull", "  second:\n    image: 127.0.0.1:" + std::to_string(closed) + "/nowhere:1\n",
                "127.0.0.1:" + std::to_string(closed));
    // A port something on the host holds already.
    int held = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(held, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(held, 1) == 0);
    socklen_t len = sizeof a;
    ::getsockname(held, reinterpret_cast<sockaddr*>(&a), &len);
    std::string port = std::to_string(ntohs(a.sin_port));
    check_fails("porttaken", "  second:\n    image: busybox\n    command: sleep 600\n    depends_on: [first]\n"
                             "    ports: ['127.0.0.1:" + port + ":80']\n",
                "port is already allocated");
    ::close(held);
    check_fails("badbuild", "  second:\n    build: ./app\n    depends_on: [first]\n", "returned a non-zero code: 3",
                {{"app/Dockerfile", "FROM busybox\nRUN exit 3\n"}});
}
