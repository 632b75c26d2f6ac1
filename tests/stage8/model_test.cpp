// Stage 8, units: the passes over a Compose file — interpolation, the start
// order, the config hash, the model's long forms and its errors, the project's
// name — and compose-go's own test files where ../shared/conformance exists.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "box/error.hpp"
#include "box/util.hpp"
#include "stage8.hpp"
#include "support.hpp"

using namespace boxtest;
using namespace box::stage8;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string expand(const std::string& text, std::vector<std::string>* unset_out = nullptr) {
    std::map<std::string, std::string> vars = {{"SET", "value"}, {"EMPTY", ""}, {"PORT", "8080"}};
    std::vector<std::string> unset;
    std::string out = interpolate(text, [&](const std::string& n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    }, unset);
    if (unset_out) *unset_out = unset;
    return out;
}

}  // namespace

TEST_CASE("Interpolation: $VAR, ${VAR}, defaults, alternatives, required errors and $$, as the Compose "
          "specification says",
          "[stage8][interpolate]") {
    CHECK(expand("plain") == "plain");
    CHECK(expand("$SET and ${SET}") == "value and value");
    CHECK(expand("${PORT}:80") == "8080:80");
    CHECK(expand("a${SET}b$SET.c") == "avalueb" "value.c");
    std::vector<std::string> unset;
    CHECK(expand("[$MISSING][${MISSING}]", &unset) == "[][]");
    CHECK(unset == std::vector<std::string>{"MISSING", "MISSING"});
    CHECK(expand("${MISSING:-def} ${EMPTY:-def} ${SET:-def}") == "def def value");
    CHECK(expand("${MISSING-def} ${EMPTY-def} ${SET-def}") == "def  value");
    CHECK(expand("${MISSING:+alt} ${EMPTY:+alt} ${SET:+alt}") == "  alt");
    CHECK(expand("${MISSING+alt} ${EMPTY+alt} ${SET+alt}") == " alt alt");
    CHECK(expand("${MISSING:-${SET:-x}} ${MISSING:-${ALSO:-inner}}") == "value inner");
    CHECK(expand("$$HOME costs $$5 and $${SET}") == "$HOME costs $5 and ${SET}");
    CHECK(expand("${SET:?unused}") == "value");
    CHECK(error_of([] { expand("${MISSING:?set it please}"); }).find("required variable MISSING is missing a value: set it please") != std::string::npos);
    CHECK(error_of([] { expand("${EMPTY:?}"); }).find("required variable EMPTY is missing a value") != std::string::npos);
    CHECK(expand("${EMPTY?fine when empty}") == "");
    CHECK(error_of([] { expand("${MISSING?gone}"); }).find("required variable MISSING is missing a value: gone") != std::string::npos);
    for (std::string bad : {"cost: $", "${}", "${SET", "$1", "${SET:}", "${SET!x}", "a $ b"}) {
        INFO(bad);
        CHECK(error_of([&] { expand(bad); }).find("Invalid template: \"" + bad + "\"") != std::string::npos);
    }
}

TEST_CASE("depends_on orders the services, dependencies first; a cycle and an undefined service are errors",
          "[stage8][order]") {
    auto dep = [](std::initializer_list<std::string> names) {
        json d = json::object();
        for (const auto& n : names) d[n] = {{"condition", "service_started"}, {"required", true}};
        return json{{"depends_on", d}};
    };
    json services = {{"web", dep({"db", "cache"})}, {"db", dep({})}, {"cache", dep({"db"})}, {"alone", json::object()},
                     {"worker", dep({"web"})}};
    CHECK(start_order(services) == std::vector<std::string>{"alone", "db", "cache", "web", "worker"});
    CHECK(start_order(json::object()).empty());

    json cycle = {{"a", dep({"b"})}, {"b", dep({"c"})}, {"c", dep({"a"})}};
    CHECK(error_of([&] { start_order(cycle); }).find("dependency cycle detected: a -> b -> c -> a") != std::string::npos);
    json self = {{"solo", dep({"solo"})}};
    CHECK(error_of([&] { start_order(self); }).find("dependency cycle detected: solo -> solo") != std::string::npos);
    json undefined = {{"web", dep({"nowhere"})}};
    CHECK(error_of([&] { start_order(undefined); }).find("service \"web\" depends on undefined service \"nowhere\"") != std::string::npos);
    undefined["web"]["depends_on"]["nowhere"]["required"] = false;
    CHECK(start_order(undefined) == std::vector<std::string>{"web"});
}

TEST_CASE("The config hash changes with what makes a container, and not with build, scale or replicas",
          "[stage8][hash]") {
    json s = {{"image", "busybox"}, {"command", {"sleep", "1"}}, {"ports", json::array({{{"target", 80}, {"published", "8080"}}})}};
    std::string h = config_hash(s);
    CHECK(h.size() == 64);
    CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(config_hash(json::parse(s.dump())) == h);  // the same service, the same hash
    json other = s;
    other["command"] = {"sleep", "2"};
    CHECK(config_hash(other) != h);
    other = s;
    other["environment"] = {{"A", "1"}};
    CHECK(config_hash(other) != h);
    other = s;
    other["build"] = {{"context", "/elsewhere"}};
    other["scale"] = 3;
    other["pull_policy"] = "always";
    other["deploy"] = {{"replicas", 4}};
    json with_deploy = s;
    with_deploy["deploy"] = json::object();
    CHECK(config_hash(other) == config_hash(with_deploy));
    other["deploy"]["resources"] = {{"limits", {{"memory", 1 << 20}}}};
    CHECK(config_hash(other) != config_hash(with_deploy));

    box::stage4::Container c;
    c.request.Config.Labels[label::kConfigHash] = h;
    CHECK_FALSE(needs_recreate(c, h, false, false));
    CHECK(needs_recreate(c, h, true, false));
    std::string other_hash = config_hash(json{{"image", "other"}});
    CHECK(needs_recreate(c, other_hash, false, false));
    CHECK_FALSE(needs_recreate(c, other_hash, false, true));
    c.request.Config.Labels.clear();
    CHECK(needs_recreate(c, h, false, false));
}

TEST_CASE("Short forms become long ones: build, command, environment, ports, volumes, networks, depends_on",
          "[stage8][model]") {
    Sandbox sb;
    std::string dir = make_project(sb, "My_App!", {{"compose.yaml", R"(
services:
  web:
    build: ./site
    command: sh -c 'echo "a b"; sleep 1'
    environment:
      - DEBUG=1
      - FROM_SHELL
    ports: ["8080:80", "127.0.0.1:5353:53/udp", "9000-9001:7000-7001", 443]
    expose: ["9091-9092", "7000/udp"]
    volumes: ["./data:/data:ro", "cache:/cache", "/anonymous"]
    networks: [front]
    depends_on: [db]
    labels: {tier: web}
  db:
    image: busybox
    environment: {A: "1", B: 2}
    depends_on:
      init: {condition: service_completed_successfully}
  init:
    image: busybox
volumes:
  cache:
networks:
  front:
)"}});
    Project p = load(dir);
    CHECK(p.name == "my_app");
    CHECK(p.dir == dir);
    const json& web = p.model["services"]["web"];
    CHECK(web["build"] == json({{"context", dir + "/site"}, {"dockerfile", "Dockerfile"}}));
    CHECK(web["command"] == json({"sh", "-c", "echo \"a b\"; sleep 1"}));
    CHECK(web["environment"] == json({{"DEBUG", "1"}, {"FROM_SHELL", nullptr}}));
    CHECK(web["ports"] == json::parse(R"([
        {"mode":"ingress","protocol":"tcp","published":"8080","target":80},
        {"host_ip":"127.0.0.1","mode":"ingress","protocol":"udp","published":"5353","target":53},
        {"mode":"ingress","protocol":"tcp","published":"9000","target":7000},
        {"mode":"ingress","protocol":"tcp","published":"9001","target":7001},
        {"mode":"ingress","protocol":"tcp","target":443}])"));
    CHECK(web["volumes"][0] == json({{"type", "bind"}, {"source", dir + "/data"}, {"target", "/data"}, {"read_only", true},
                                     {"bind", {{"create_host_path", true}}}}));
    CHECK(web["volumes"][1] == json({{"type", "volume"}, {"source", "cache"}, {"target", "/cache"}, {"volume", json::object()}}));
    CHECK(web["volumes"][2] == json({{"type", "volume"}, {"target", "/anonymous"}}));
    CHECK(web["networks"] == json({{"front", nullptr}}));
    CHECK(web["depends_on"] == json({{"db", {{"condition", "service_started"}, {"required", true}}}}));
    CHECK(web["labels"] == json({{"tier", "web"}}));
    CHECK(p.model["services"]["db"]["environment"] == json({{"A", "1"}, {"B", "2"}}));
    CHECK(p.model["services"]["db"]["depends_on"]["init"]["condition"] == "service_completed_successfully");
    CHECK(p.model["services"]["db"]["networks"] == json({{"default", nullptr}}));  // the project's default network
    CHECK(p.model["networks"].contains("default"));
    CHECK(network_name(p, "front") == "my_app_front");
    CHECK(volume_name(p, "cache") == "my_app_cache");
    CHECK(container_name(p, "web", 2) == "my_app-web-2");
    CHECK(service_image(p, "web") == "my_app-web");

    // The request a container of it gets: chapter 4's, with compose's labels.
    box::ContainerRequest r = service_request(p, "web", 1);
    CHECK(r.Name == "my_app-web-1");
    CHECK(r.Config.Labels.at(label::kProject) == "my_app");
    CHECK(r.Config.Labels.at(label::kService) == "web");
    CHECK(r.Config.Labels.at(label::kNumber) == "1");
    CHECK(r.Config.Labels.at(label::kConfigHash) == config_hash(web));
    CHECK(r.Config.Labels.at("tier") == "web");
    CHECK(r.HostConfig.NetworkMode == "my_app_front");
    CHECK(r.NetworkingConfig.EndpointsConfig.at("my_app_front").Aliases == std::vector<std::string>{"web"});
    CHECK(r.HostConfig.PortBindings.at("53/udp").at(0).HostIp == "127.0.0.1");
    CHECK(r.HostConfig.PortBindings.at("53/udp").at(0).HostPort == "5353");
    CHECK(r.HostConfig.Binds == std::vector<std::string>{dir + "/data:/data:ro"});
    for (const char* port : {"9091/tcp", "9092/tcp", "7000/udp", "80/tcp"}) CHECK(r.Config.ExposedPorts.count(port) == 1);
    CHECK(r.Config.ExposedPorts.count("9091-9092/tcp") == 0);  // a range is each of its ports, as docker's
    REQUIRE(r.HostConfig.Mounts.size() == 2);
    CHECK(r.HostConfig.Mounts[0].Source == "my_app_cache");
    CHECK(r.HostConfig.Mounts[1].Source.empty());
    CHECK(std::find(r.Config.Env.begin(), r.Config.Env.end(), "DEBUG=1") != r.Config.Env.end());
}

TEST_CASE("A bad file is one error naming the key's path and line; keys box lacks are refused by name",
          "[stage8][model][errors]") {
    Sandbox sb;
    auto error_for = [&](const std::string& yaml) {
        std::string dir = make_project(sb, random_name("bad-", 6), {{"compose.yaml", yaml}});
        return error_of([&] { load(dir); });
    };
    CHECK(error_for("services:\n  web:\n    image: busybox\n    colour: red\n").find("services.web additional property colour is not allowed (line 4)") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    image: [busybox]\n").find("services.web.image must be a string (line 3)") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    image: busybox\n    secrets: [s]\n").find("services.web.secrets is not supported by box compose yet") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    command: sleep 1\n").find("service \"web\" has neither an image nor a build context specified") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    image: busybox\n    volumes: [data:/data]\n").find("undefined volume data") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    image: busybox\n    networks: [back]\n").find("undefined network back") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    image: busybox\n    ports: ['99999:80']\n").find("invalid port") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    image: busybox\n    restart: sometimes\n").find("services.web.restart") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    image: busybox\n    depends_on: [db]\n").find("undefined service \"db\"") != std::string::npos);
    CHECK(error_for("# nothing\n").find("empty compose file") != std::string::npos);
    CHECK(error_for("services:\n  web: {image: busybox\n").find("yaml: line") != std::string::npos);
    CHECK(error_for("services:\n  web:\n    image: ${TAG:?say which}\n").find("required variable TAG is missing a value: say which") != std::string::npos);
    std::string none = sb.dir() + "/empty-dir";
    fs::create_directories(none);
    CHECK(error_of([&] { load(none); }).find("no configuration file provided: not found") != std::string::npos);
}

TEST_CASE("The project: files found upwards with their override, merged in order; its name from -p, "
          "COMPOSE_PROJECT_NAME, name: or the directory; .env for interpolation, the shell's variables win",
          "[stage8][project]") {
    Sandbox sb;
    std::string dir = make_project(sb, "shop", {
        {"compose.yaml", "services:\n  web:\n    image: busybox:${TAG:-1}\n    command: sleep ${NAP}\n    ports: ['80']\n    environment: {A: base}\n"},
        {"compose.override.yaml", "services:\n  web:\n    command: sleep 2\n    ports: ['81']\n    environment: {B: over}\n"},
        {".env", "TAG=from-dotenv\nNAP=5\n"},
        {"sub/dir/.keep", ""}});
    Project p = load(dir + "/sub/dir");
    CHECK(p.name == "shop");
    CHECK(p.files == std::vector<std::string>{dir + "/compose.yaml", dir + "/compose.override.yaml"});
    const json& web = p.model["services"]["web"];
    CHECK(web["image"] == "busybox:from-dotenv");
    CHECK(web["command"] == json({"sleep", "2"}));  // replaced
    CHECK(web["ports"].size() == 2);               // added to
    CHECK(web["environment"] == json({{"A", "base"}, {"B", "over"}}));

    ::setenv("TAG", "from-shell", 1);
    CHECK(load(dir).model["services"]["web"]["image"] == "busybox:from-shell");
    ::unsetenv("TAG");

    LoadOptions o;
    o.files = {dir + "/compose.yaml"};  // -f: no override file
    o.project_name = "explicit";
    p = load(dir, o);
    CHECK(p.name == "explicit");
    CHECK(p.model["services"]["web"]["command"] == json({"sleep", "5"}));
    o.project_name = "Bad Name";
    CHECK(error_of([&] { load(dir, o); }).find("invalid project name \"Bad Name\"") != std::string::npos);
    o.project_name.clear();
    ::setenv("COMPOSE_PROJECT_NAME", "from_env", 1);
    CHECK(load(dir, o).name == "from_env");
    ::unsetenv("COMPOSE_PROJECT_NAME");
    std::ofstream(dir + "/named.yaml") << "name: named-in-file\nservices: {}\n";
    o.files = {dir + "/named.yaml"};
    CHECK(load(dir, o).name == "named-in-file");
    CHECK(normalise_project_name("__My.Project-2!") == "myproject-2");
}

TEST_CASE("compose-go's loader files: cycles and an empty file are refused with its words", "[stage8][conformance]") {
    std::string base = conformance_dir("compose-go/loader/testdata");
    if (base.empty()) return;
    Sandbox sb;
    auto error_for = [&](const std::string& file) {
        std::string dir = make_project(sb, random_name("cf-", 6), {{"compose.yaml", box::read_file(base + "/" + file)}});
        return error_of([&] { load(dir); });
    };
    CHECK(error_for("compose-depends-on-cycle.yaml").find("dependency cycle detected: service1 -> service2 -> service3 -> service1") != std::string::npos);
    CHECK(error_for("compose-depends-on-self.yaml").find("dependency cycle detected: service1 -> service1") != std::string::npos);
    CHECK(error_for("empty.yaml").find("empty compose file") != std::string::npos);
    std::string with_version = error_for("compose-test-with-version.yaml");
    INFO(with_version);
    CHECK(with_version.empty());  // `version` is obsolete: a warning, not an error

    // Every key the specification's schema has is one box knows: used, or refused as
    // "not supported" — never "additional property" (box's own key lists, kept in step).
    json schema = json::parse(box::read_file(conformance_dir("compose-go/schema") + "/compose-spec.json"));
    const json& defs = schema.contains("$defs") ? schema["$defs"] : schema["definitions"];
    auto check_keys = [&](const json& properties, const std::function<std::string(const std::string&)>& file_with) {
        for (const auto& [key, unused] : properties.items()) {
            std::string dir = make_project(sb, random_name("key-", 6), {{"compose.yaml", file_with(key)}});
            std::string error = error_of([&] { load(dir); });
            INFO(key << ": " << error);
            CHECK(error.find("additional property") == std::string::npos);
        }
    };
    check_keys(schema["properties"], [](const std::string& k) { return k + ": null\nservices: {}\n"; });
    check_keys(defs["service"]["properties"], [](const std::string& k) {
        return "services:\n  s:\n    image: busybox\n    " + k + ": null\n";
    });
    for (const char* section : {"network", "volume"})
        check_keys(defs[section]["properties"], [&](const std::string& k) {
            return std::string(section) + "s:\n  x:\n    " + k + ": null\nservices: {}\n";
        });
    check_keys(defs["healthcheck"]["properties"], [](const std::string& k) {
        return "services:\n  s:\n    image: busybox\n    healthcheck:\n      " + k + ": null\n";
    });
    check_keys(defs["deployment"]["properties"], [](const std::string& k) {
        return "services:\n  s:\n    image: busybox\n    deploy:\n      " + k + ": null\n";
    });
}
