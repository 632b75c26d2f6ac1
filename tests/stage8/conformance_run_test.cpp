// Stage 8, conformance: the Compose specification's conformance projects
// (compose-spec/conformance-tests, tests/*/compose.yaml) and docker compose's
// runtime e2e fixtures (docker/compose, pkg/e2e/testdata) brought up and down
// by ./box compose as their Go harnesses do, read from ../shared/conformance
// (not copied into the kit) and checked in what the containers answer, the
// ports the kernel forwards and what box lists.
//
// No image is pulled: each one the files name is made in the test's store from
// the kit's busybox under that name. composespec/conformance-tests-server (a Go
// server, server/main.go) becomes a shell server with the same endpoints and
// JSON bodies; its UDP port is served by the stage-7 udp-echo fixture (busybox
// has no UDP server), which answers a datagram instead of storing it for /udp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "../stage7/support.hpp"
#include "box/error.hpp"
#include "box/http.hpp"
#include "support.hpp"

using namespace boxtest;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// composespec/conformance-tests-server: HTTP on 8080 (nc runs /handler for each
// connection), UDP on 10001; SIGTERM ends it at once, as the Go server's exit does.
const char* kServer = R"SH(#!/bin/sh
/udp-echo 10001 >/dev/null &
nc -ll -p 8080 -e /handler &
trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
wait
)SH";

// One request on stdin, its answer on stdout: server/main.go's /ping,
// /volumefile and /scalechecker, with echo's JSON bodies and status codes.
// (busybox wget's -T crashes this build: `timeout` bounds it instead.)
const char* kHandler = R"SH(#!/bin/sh
read -r method target version
while read -r line; do [ "${line%$(printf '\r')}" = "" ] && break; done
path=${target%%\?*}
query=
case $target in *\?*) query=${target#*\?} ;; esac
param() { echo "$query" | tr '&' '\n' | sed -n "s/^$1=//p" | head -n 1; }
json() { printf '{"response":"%s"}\n' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }')"; }
reply() {
    printf 'HTTP/1.1 %s\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' "$1" "$(printf '%s' "$2" | wc -c)"
    printf '%s' "$2"
}
nl='
'
case $path in
/ping)
    address=$(param address)
    if [ -z "$address" ]; then
        reply "200 OK" "$(json 'PONG FROM TARGET')$nl"
    elif body=$(timeout 3 wget -q -O - "http://$address" 2>/dev/null); then
        reply "200 OK" "$body$nl"
    else
        reply "400 Bad Request" "$(json "Could not reach address: $address")$nl"
    fi ;;
/volumefile)
    if content=$(cat "/volumes/$(param filename)" 2>/dev/null); then
        reply "200 OK" "$(json "$content")$nl"
    else
        reply "500 Internal Server Error" "{\"message\":\"Internal Server Error\"}$nl"
    fi ;;
/scalechecker)
    value=$(param value)
    touch /tmp/scale-values
    if [ -n "$value" ] && ! grep -qxF "$value" /tmp/scale-values; then echo "$value" >> /tmp/scale-values; fi
    reply "200 OK" "$(json "$(wc -l < /tmp/scale-values | tr -d ' ')")$nl" ;;
*)
    reply "404 Not Found" "{\"message\":\"Not Found\"}$nl" ;;
esac
)SH";

// composespec/conformance-tests-client (client/main.go): a second after it
// starts, it registers its hostname with the server's scale checker; a
// failed request is a failed exit, as the Go client's panic. (It tries 5
// times, a second apart: on a slow machine the server may start later.)
const char* kClient = R"SH(#!/bin/sh
for try in 1 2 3 4 5; do
    sleep 1
    wget -q -O /dev/null "http://server:8080/scalechecker?value=$(hostname)" && exit 0
done
exit 1
)SH";

/// `box build -t TAG` of a context holding `files` (name → content; all executable).
void build_image(const Sandbox& sb, const std::string& tag, const std::map<std::string, std::string>& files) {
    std::string ctx = make_project(sb, random_name("ctx-", 6), files);
    for (const auto& [name, unused] : files)
        fs::permissions(ctx + "/" + name, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                              fs::perms::others_read | fs::perms::others_exec);
    auto r = sb.box({"build", "-q", "-t", tag, ctx}, RunOptions{"", std::chrono::seconds(120), {}});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
}

/// The conformance projects' two images, made from busybox in the sandbox's store.
void conformance_images(const Sandbox& sb) {
    import_busybox(sb);
    build_image(sb, "composespec/conformance-tests-server",
                {{"Dockerfile", "FROM busybox\nCOPY server handler udp-echo /\nENTRYPOINT [\"/server\"]\n"},
                 {"server", kServer},
                 {"handler", kHandler},
                 {"udp-echo", read_host_file(fixture_path("udp-echo"))}});
    build_image(sb, "composespec/conformance-tests-client",
                {{"Dockerfile", "FROM busybox\nCOPY client /\nENTRYPOINT [\"/client\"]\n"}, {"client", kClient}});
}

/// A copy of conformance project `src` (a directory) in the sandbox, under its own name.
std::string copy_project(const Sandbox& sb, const std::string& src) {
    std::string dir = sb.dir() + "/" + fs::path(src).filename().string();
    fs::copy(src, dir, fs::copy_options::recursive);
    return dir;
}

/// GET `url` (throws box::Error if nothing answers).
box::HttpResponse fetch(const std::string& url) {
    box::HttpRequest request;
    request.url = url;
    return box::http_request(request);
}

/// GET http://127.0.0.1:PORT + `target`, once the port answers /ping (up to
/// 5 s, as the Go harness's waitHTTPReady); the response.
box::HttpResponse get(const std::string& target, int port = 8080) {
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    for (int i = 0; i < 50; ++i) {
        try {
            if (fetch(base + "/ping").status == 200) break;
        } catch (const box::Error&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    try {
        return fetch(base + target);
    } catch (const box::Error& e) {
        FAIL("GET " << base + target << ": " << e.what());
    }
    return {};
}

std::string json_response(const std::string& content) { return json{{"response", content}}.dump() + "\n"; }

/// `box compose up -d` of `dir`, verbatim, required to succeed.
void up_detached(const Sandbox& sb, const std::string& dir) {
    auto r = compose(sb, dir, {"up", "-d"}, RunOptions{"", std::chrono::seconds(60), {}});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
}

/// Plain `down` (the harness's), then what its checkCleanUp asks and more: no
/// container, none of the project's networks, no veth or published port.
void down_leaves_nothing(const Sandbox& sb, const std::string& dir, const std::string& project) {
    auto r = compose(sb, dir, {"down"}, RunOptions{"", std::chrono::seconds(60), {}});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(sb.box({"network", "ls", "-q", "--filter", "label=com.docker.compose.project=" + project}).out.empty());
    CHECK(sb.leftovers().empty());
}

/// The names of the project's containers that `box ps` lists (-a: stopped ones too).
std::vector<std::string> listed(const Sandbox& sb, const std::string& project, bool all = false,
                                const std::string& service = "") {
    std::vector<std::string> args = {"ps", "--format", "{{.Names}}", "--filter", "label=com.docker.compose.project=" + project};
    if (all) args.push_back("-a");
    if (!service.empty()) args.insert(args.end(), {"--filter", "label=com.docker.compose.service=" + service});
    auto r = sb.box(args);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    std::vector<std::string> names = lines(r.out);
    std::sort(names.begin(), names.end());
    return names;
}

#define CONFORMANCE_DATA(var, sub)          \
    std::string var = conformance_dir(sub); \
    if (var.empty()) return;

}  // namespace

// ---- compose-spec/conformance-tests ----------------------------------------

TEST_CASE("conformance simple_lifecycle: up -d runs the server, down removes everything", "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "compose-conformance-tests/tests/simple_lifecycle")
    Sandbox sb;
    conformance_images(sb);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    up_detached(sb, dir);
    CHECK(listed(sb, "simple_lifecycle") == std::vector<std::string>{"simple_lifecycle-test1-1"});
    // It serves, inside; nothing is published (the file has no ports).
    auto r = sb.box({"exec", "simple_lifecycle-test1-1", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/ping"});
    BOX_SHOW(r);
    CHECK(r.out == json_response("PONG FROM TARGET"));
    CHECK_THROWS(fetch("http://127.0.0.1:8080/ping"));
    down_leaves_nothing(sb, dir, "simple_lifecycle");
}

TEST_CASE("conformance simple_network: entry reaches target:8080 by its service name; an unknown name fails",
          "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "compose-conformance-tests/tests/simple_network")
    Sandbox sb;
    conformance_images(sb);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    up_detached(sb, dir);
    CHECK(listed(sb, "simple_network") == std::vector<std::string>{"simple_network-entry-1", "simple_network-target-1"});
    auto r = get("/ping?address=target:8080/ping");  // TestSimpleNetwork
    CHECK(r.status == 200);
    CHECK(r.body == json_response("PONG FROM TARGET"));
    r = get("/ping?address=notatarget:8080/ping");  // TestSimpleNetworkFail
    CHECK(r.status == 400);
    CHECK(r.body == json_response("Could not reach address: notatarget:8080/ping"));
    down_leaves_nothing(sb, dir, "simple_network");
}

TEST_CASE("conformance different_networks: services on different networks cannot reach each other",
          "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "compose-conformance-tests/tests/different_networks")
    Sandbox sb;
    conformance_images(sb);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    up_detached(sb, dir);
    // target runs and answers on its own network: the failure below is the networks' doing.
    auto inside = sb.box({"exec", "different_networks-target-1", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/ping"});
    CHECK(inside.out == json_response("PONG FROM TARGET"));
    CHECK(inspect_container(sb, "different_networks-entry-1")["NetworkSettings"]["Networks"].contains("different_networks_entrynetwork"));
    CHECK(inspect_container(sb, "different_networks-target-1")["NetworkSettings"]["Networks"].contains("different_networks_targetnetwork"));
    auto r = get("/ping?address=target:8080/ping");
    CHECK(r.status == 400);
    CHECK(r.body == json_response("Could not reach address: target:8080/ping"));
    down_leaves_nothing(sb, dir, "different_networks");
}

TEST_CASE("conformance simple_volume: a bind-mounted file is read through the published port",
          "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "compose-conformance-tests/tests/simple_volume")
    Sandbox sb;
    conformance_images(sb);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    up_detached(sb, dir);
    auto r = get("/volumefile?filename=test_volume.txt");
    CHECK(r.status == 200);
    CHECK(r.body == json_response("MYVOLUME"));
    // The file is the project's own: a change on the host shows inside.
    std::ofstream(dir + "/test_volume.txt") << "CHANGED";
    CHECK(get("/volumefile?filename=test_volume.txt").body == json_response("CHANGED"));
    down_leaves_nothing(sb, dir, "simple_volume");
}

TEST_CASE("conformance scaling: deploy.replicas 3 makes three clients, each registered with the server",
          "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "compose-conformance-tests/tests/scaling")
    Sandbox sb;
    conformance_images(sb);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    up_detached(sb, dir);
    std::vector<std::string> clients = listed(sb, "scaling", true, "client");
    CHECK(clients == std::vector<std::string>{"scaling-client-1", "scaling-client-2", "scaling-client-3"});
    for (const auto& c : clients) {
        auto w = sb.box({"wait", c});
        BOX_SHOW(w);
        CHECK(trim(w.out) == "0");  // its request was answered 200
    }
    auto r = get("/scalechecker");
    CHECK(r.status == 200);
    CHECK(r.body == json_response("3"));
    down_leaves_nothing(sb, dir, "scaling");
}

TEST_CASE("conformance udp_port: the long-form UDP port 10001 is published beside 8080/tcp", "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "compose-conformance-tests/tests/udp_port")
    Sandbox sb;
    conformance_images(sb);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    up_detached(sb, dir);
    CHECK(get("/ping").body == json_response("PONG FROM TARGET"));
    std::string request = R"({"request":"myUdpvalue"})";
    CHECK(udp_ask("127.0.0.1", 10001, request) == "echo:" + request);
    CHECK(trim(sb.box({"ps", "--format", "{{.Ports}}"}).out) == "0.0.0.0:8080->8080/tcp, 0.0.0.0:10001->10001/udp");
    down_leaves_nothing(sb, dir, "udp_port");
    CHECK(udp_ask("127.0.0.1", 10001, request).empty());
}

TEST_CASE("conformance simple_secretfile, simple_configfile: secrets and configs are refused by name, nothing made",
          "[stage8][conformance]") {
    CONFORMANCE_DATA(base, "compose-conformance-tests/tests")
    Sandbox sb;
    conformance_images(sb);
    for (const std::string what : {"secret", "config"}) {
        std::string dir = copy_project(sb, base + "/simple_" + what + "file");
        ProjectGuard guard{sb, dir};
        auto r = compose(sb, dir, {"up", "-d"});
        REQUIRE_ONE_ERROR_LINE(r, 1);
        CHECK(r.err.find(what + "s is not supported by box compose yet") != std::string::npos);
        CHECK(sb.box({"ps", "-aq"}).out.empty());
        CHECK(sb.box({"network", "ls", "-q", "--filter", "label=com.docker.compose.project"}).out.empty());
    }
    CHECK(sb.leftovers().empty());
}

// ---- docker/compose pkg/e2e/testdata -----------------------------------------

TEST_CASE("e2e TestCascadeStop: up --abort-on-container-exit stops the project at the first exit and exits 0",
          "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "docker-compose-e2e/pkg/e2e/testdata/TestCascadeStop")
    Sandbox sb;
    import_busybox(sb);
    REQUIRE(sb.box({"tag", "busybox", "alpine"}).status == 0);  // the file's image
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    auto r = compose(sb, dir, {"up", "--abort-on-container-exit"}, RunOptions{"", std::chrono::seconds(60), {}});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(r.out.find("exit-1 exited with code 0") != std::string::npos);
    // `sleep infinity` never ends by itself: the abort stopped it.
    json running = inspect_container(sb, "testcascadestop-running-1");
    CHECK(running["State"]["Status"] == "exited");
    CHECK(running["State"]["Running"] == false);
    CHECK(listed(sb, "testcascadestop").empty());
    down_leaves_nothing(sb, dir, "testcascadestop");
}

namespace {
// The nginx image of TestNetworkAliases, from busybox: its welcome page on port
// 80, and a `curl URL` (the Go test execs curl) that is busybox wget.
void nginx_image(const Sandbox& sb) {
    import_busybox(sb);
    build_image(sb, "nginx",
                {{"Dockerfile", "FROM busybox\nCOPY index.html /usr/share/nginx/html/\nCOPY curl /usr/bin/\n"
                                "CMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/usr/share/nginx/html\"]\n"},
                 {"index.html", "<h1>Welcome to nginx!</h1>\n"},
                 {"curl", "#!/bin/sh\nexec wget -q -O - \"$@\"\n"}});
}
}  // namespace

TEST_CASE("e2e TestNetworkAliases: a link's target starts first; a network alias and the link both resolve to it",
          "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "docker-compose-e2e/pkg/e2e/testdata/TestNetworkAliases")
    Sandbox sb;
    nginx_image(sb);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    // A link is a dependency (compose-go's normalisation): container2 first.
    auto r = compose(sb, dir, {"up", "-d"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.err.find(" Container testnetworkaliases-container2-1  Started") <
          r.err.find(" Container testnetworkaliases-container1-1  Started"));
    CHECK(listed(sb, "testnetworkaliases") ==
          std::vector<std::string>{"testnetworkaliases-container1-1", "testnetworkaliases-container2-1"});
    CHECK(compose_ok(sb, dir, {"exec", "-T", "container1", "curl", "http://alias-of-container2/"}).find("Welcome to nginx!") != std::string::npos);
    CHECK(compose_ok(sb, dir, {"exec", "-T", "container1", "curl", "http://container/"}).find("Welcome to nginx!") != std::string::npos);
    // An unknown name does not resolve: the two above are the file's doing.
    CHECK(compose(sb, dir, {"exec", "-T", "container1", "curl", "http://container3/"}).status != 0);
    down_leaves_nothing(sb, dir, "testnetworkaliases");
}

TEST_CASE("e2e TestExposeRange: up accepts a port range in expose", "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "docker-compose-e2e/pkg/e2e/testdata/TestExposeRange")
    Sandbox sb;
    import_busybox(sb);
    REQUIRE(sb.box({"tag", "busybox", "alpine"}).status == 0);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    auto r = compose(sb, dir, {"up"}, RunOptions{"", std::chrono::seconds(60), {}});  // alpine's sh ends at once: no stdin
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(r.out.find("test-1 exited with code 0") != std::string::npos);
    CHECK(listed(sb, "testexposerange", true) == std::vector<std::string>{"testexposerange-test-1"});
    // Each port of the range is exposed, as docker's --expose makes them.
    json exposed = inspect_container(sb, "testexposerange-test-1")["Config"]["ExposedPorts"];
    CHECK(exposed == json({{"9091/tcp", json::object()}, {"9092/tcp", json::object()}}));
    down_leaves_nothing(sb, dir, "testexposerange");
}

TEST_CASE("e2e TestComposeRunPorts: run --publish maps only the port asked for; --service-ports the model's",
          "[stage8][conformance]") {
    CONFORMANCE_DATA(src, "docker-compose-e2e/pkg/e2e/testdata/TestComposeRunPorts")
    Sandbox sb;
    import_busybox(sb);
    REQUIRE(sb.box({"tag", "busybox", "alpine"}).status == 0);
    std::string dir = copy_project(sb, src);
    ProjectGuard guard{sb, dir};
    auto ps = [&] { return sb.box({"ps", "--filter", "label=com.docker.compose.project=testcomposerunports"}).out; };
    // What the kernel forwards from 127.0.0.1:PORT: an httpd started in `container` serves its hostname.
    auto serves = [&](const std::string& container, int port) {
        sb.box({"exec", container, "httpd", "-p", "80", "-h", "/etc"});
        try {
            return fetch("http://127.0.0.1:" + std::to_string(port) + "/hostname").body;
        } catch (const box::Error&) {
            return std::string();
        }
    };

    std::string adhoc = trim(compose_ok(sb, dir, {"run", "--publish", "8081:80", "-d", "back", "/bin/sh", "-c", "sleep 30"}));
    CHECK(ps().find("8081->80/tcp") != std::string::npos);
    CHECK(ps().find("8082->80/tcp") == std::string::npos);
    std::string hostname = inspect_container(sb, adhoc)["Config"]["Hostname"];
    CHECK(serves(adhoc, 8081) == hostname + "\n");
    CHECK(serves(adhoc, 8082).empty());

    std::string model = trim(compose_ok(sb, dir, {"run", "--service-ports", "-d", "back", "/bin/sh", "-c", "sleep 30"}));
    CHECK(ps().find("8082->80/tcp") != std::string::npos);
    hostname = inspect_container(sb, model)["Config"]["Hostname"];
    CHECK(serves(model, 8082) == hostname + "\n");
    CHECK(compose(sb, dir, {"down", "-t", "0"}).status == 0);
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(sb.leftovers().empty());
}
