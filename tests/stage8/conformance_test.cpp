// Stage 8, conformance: box's Compose parser against the ecosystem's own test
// data in ../shared/conformance (never copied here; each folder's SOURCE.txt
// says where it comes from): compose-go's dotenv fixtures, its file of
// ${VARIABLE} positions and its cli test project, and the parser-level
// scenarios of docker compose's end-to-end tests. What each should give is
// written here in our words, from those projects' Go tests. Without the
// folder, a case warns that it is skipped, and why, and passes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>

#include "box/error.hpp"
#include "box/util.hpp"
#include "box/yaml.hpp"
#include "stage8.hpp"
#include "support.hpp"

using namespace boxtest;
using namespace box::stage8;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

using Map = std::map<std::string, std::string>;

// Sets (or with nullopt unsets) a variable of this process for the scope:
// the loader reads the shell's variables from the environment.
class ScopedEnv {
public:
    ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
        if (const char* old = ::getenv(name_.c_str())) old_ = old;
        if (value) ::setenv(name_.c_str(), value->c_str(), 1);
        else ::unsetenv(name_.c_str());
    }
    ~ScopedEnv() {
        if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
        else ::unsetenv(name_.c_str());
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

// A project holding `files`, its service `s` (busybox) reading env_file `env_file` if given.
std::string project_with(const Sandbox& sb, std::map<std::string, std::string> files, const std::string& env_file = "") {
    std::string compose = "services:\n  s:\n    image: busybox\n";
    if (!env_file.empty()) compose += "    env_file: ./" + env_file + "\n";
    files.emplace("compose.yaml", compose);
    return make_project(sb, random_name("cf-", 6), files);
}

}  // namespace

// ---- compose-go: dotenv/fixtures -------------------------------------------------

// compose-go's godotenv_test.go reads each fixture with its dotenv package;
// compose reads such a file as the project's .env (each --env-file in turn,
// seeing the shell's variables, then those of the files before it) and as a
// service's env_file (seeing the project's variables, then the service's
// environment). Both go through box's lib dotenv parser here.
TEST_CASE("compose-go's dotenv fixtures mean to box compose, as .env and as env_file, what its dotenv tests expect",
          "[stage8][conformance]") {
    std::string dir = conformance_dir("compose-go/dotenv/fixtures");
    if (dir.empty()) return;
    const std::string inherited = "VAR_TO_BE_LOADED_FROM_OS_ENV";
    struct Case {
        std::string file;
        Map shell;        // what the Go test puts in the environment (its lookup)
        Map want;         // the variables it expects
        bool whole_map;   // nothing else is set
        std::string error;
    };
    // Names starting with a digit (`456 = ABC`): compose-go's Read() drops
    // them, but compose's .env and env_file readers keep them, as box does.
    const std::vector<Case> cases = {
        // Its test reads this one with a custom "KEY:VALUE" format; .env's yaml-style lines read it the same.
        {"custom.format", {}, {{"FOO", "BAR"}, {"ZOT", "QIX"}}, true, ""},
        {"equals.env", {}, {{"OPTION_A", "postgres://localhost:5432/database?sslmode=disable"}}, true, ""},
        {"exported.env", {}, {{"OPTION_A", "2"}, {"OPTION_B", "\\n"}}, true, ""},
        // A line holding only a name takes that variable from the lookup...
        {"inherited-multi-var.env", {{inherited, "SOME_RANDOM_VALUE"}},
         {{inherited, "SOME_RANDOM_VALUE"}, {"foo", "bar"}, {"bar", "baz"}}, true, ""},
        {"inherited-single-var.env", {{inherited, "SOME_RANDOM_VALUE"}}, {{inherited, "SOME_RANDOM_VALUE"}}, true, ""},
        // ... and is no variable at all when the lookup does not know it.
        {"inherited-not-found.env", {}, {}, true, ""},
        {"invalid1.env", {}, {}, false, "line 7: key cannot contain a space"},
        {"plain.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "2"}, {"OPTION_C", "3"}, {"OPTION_D", "4"}, {"OPTION_E", "5"},
          {"OPTION_F", ""}, {"OPTION_G", ""}, {"OPTION_H", "my string"}, {"456", "ABC"}},
         true, ""},
        {"quoted.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "2"}, {"OPTION_C", ""}, {"OPTION_D", "\\n"}, {"OPTION_E", "1"},
          {"OPTION_F", "2"}, {"OPTION_G", ""}, {"OPTION_H", "\n"}, {"OPTION_I", "echo 'asd'"},
          {"OPTION_J", "first line\nsecond line\nthird line\nand so on"}, {"OPTION_K", "Let's go!"},
          {"OPTION_Z", "last value"}},
         true, ""},
        {"special.env", {},
         {{"VAR-WITH-DASHES", "dashes"}, {"VAR.WITH.DOTS", "dots"}, {"VAR_WITH_UNDERSCORES", "underscores"}}, true, ""},
        // The lookup comes before the file's own variables when expanding...
        {"substitutions.env", {{"OPTION_A", "5"}},
         {{"OPTION_A", "1"}, {"OPTION_B", "5"}, {"OPTION_C", "5"}, {"OPTION_D", "5_5"}, {"OPTION_E", ""}}, true, ""},
        {"substitutions.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "1"}, {"OPTION_C", "1"}, {"OPTION_D", "1_1"}, {"OPTION_E", ""}}, true, ""},
        // ... and a default applies only when neither has the variable.
        {"substitutions-default.env", {{"OPTION_A", "5"}},
         {{"OPTION_A", "5"}, {"OPTION_B", "5"}, {"OPTION_C", "5"}, {"OPTION_D", "5_5"}, {"OPTION_E", ""}}, true, ""},
        {"substitutions-default.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "1"}, {"OPTION_C", "1"}, {"OPTION_D", "1_1"}, {"OPTION_E", ""}}, true, ""},
        {"unquoted.env", {},
         {{"OPTION_A", "some quoted phrase"}, {"OPTION_B", "first one with an unquoted phrase"},
          {"OPTION_C", "then another one with an unquoted phrase"},
          {"OPTION_D", "then another one with an unquoted phrase special è char"},
          {"OPTION_E", "then another one quoted phrase"}},
         true, ""},
        // A byte order mark before the first name is no part of it.
        {"utf8-bom.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "2"}, {"OPTION_C", "3"}, {"OPTION_D", "4"}, {"OPTION_E", "5"}}, false, ""},
    };
    std::set<std::string> covered;
    Sandbox sb;
    for (const auto& c : cases) {
        covered.insert(c.file);
        std::string content = box::read_file(dir + "/" + c.file);
        std::vector<std::unique_ptr<ScopedEnv>> shell;
        for (const auto& name : {inherited, std::string("OPTION_A"), std::string("VARIABLE_NOT_FOUND")}) {
            auto it = c.shell.find(name);
            shell.push_back(std::make_unique<ScopedEnv>(name, it == c.shell.end() ? std::nullopt : std::optional(it->second)));
        }
        std::string name = c.file + (c.shell.empty() ? "" : " with " + c.shell.begin()->first + " in the shell");

        // As a service's env_file: its environment is exactly the file's variables.
        {
            INFO(name << ", as env_file");
            std::string project = project_with(sb, {{"vars", content}}, "vars");
            std::string error = error_of([&] { load(project); });
            if (!c.error.empty()) {
                CHECK(error == "failed to read " + project + "/vars: " + c.error);
            } else {
                REQUIRE(error.empty());
                json env = load(project).model["services"]["s"].value("environment", json::object());
                for (const auto& [key, want] : c.want) {
                    INFO(key);
                    CHECK(env.value(key, json()) == json(want));
                }
                if (c.whole_map) CHECK(env.size() == c.want.size());
                if (c.file == "inherited-not-found.env") CHECK_FALSE(env.contains("VARIABLE_NOT_FOUND"));
            }
        }
        // As the project's .env: its variables, the shell's winning over them.
        {
            INFO(name << ", as .env");
            std::string project = project_with(sb, {{".env", content}});
            std::string error = error_of([&] { load(project); });
            if (!c.error.empty()) {
                CHECK(error == "failed to read " + project + "/.env: " + c.error);
            } else {
                REQUIRE(error.empty());
                Project p = load(project);
                for (const auto& [key, value] : c.want) {
                    INFO(key);
                    auto from_shell = c.shell.find(key);
                    std::string want = from_shell != c.shell.end() ? from_shell->second : value;
                    CHECK(p.env.count(key));
                    CHECK(p.env[key] == want);
                }
                if (c.file == "inherited-not-found.env") CHECK_FALSE(p.env.count("VARIABLE_NOT_FOUND"));
            }
        }
    }
    for (const auto& entry : fs::directory_iterator(dir))
        if (!covered.count(entry.path().filename().string()))
            WARN("no expectations for fixture " << entry.path().filename().string());

    // Several env files, as compose-go's GetEnvFromFile reads them (its
    // TestMultipleFiles): each sees the shell's variables, then what the files
    // before it set; the later file's value wins, the shell's over all.
    std::string project = project_with(sb, {
        {"base.env", "ENV_HOSTNAME=localhost\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n"},
        {"override.env", "ENV_HOSTNAME=dev.my-company.com\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\nFROM_BASE=${ENV_MY_URL}\n"},
        {"late.env", "SEEN=${ENV_HOSTNAME}\n"}});
    LoadOptions o;
    o.env_files = {"base.env", "override.env", "late.env"};
    {
        ScopedEnv unset("ENV_HOSTNAME", std::nullopt);
        Project p = load(project, o);
        CHECK(p.env["ENV_HOSTNAME"] == "dev.my-company.com");
        CHECK(p.env["ENV_MY_URL"] == "http://dev.my-company.com");
        CHECK(p.env["SEEN"] == "dev.my-company.com");  // a file sees those before it
    }
    {
        ScopedEnv shell("ENV_HOSTNAME", "host.local");
        Project p = load(project, o);
        CHECK(p.env["ENV_MY_URL"] == "http://host.local");
        CHECK(p.env["ENV_HOSTNAME"] == "host.local");
    }
}

// ---- compose-go: schema/using-variables.yaml -------------------------------------

namespace {

using Path = std::vector<std::string>;

std::string dotted(const Path& path) { return box::join(path, "."); }

// The value at `path` in `doc` (a number is an index into a list), or null.
const json* at_path(const json& doc, const Path& path) {
    const json* node = &doc;
    for (const auto& step : path) {
        if (node->is_object() && node->contains(step)) node = &(*node)[step];
        else if (node->is_array() && box::parse_number<size_t>(step) && *box::parse_number<size_t>(step) < node->size())
            node = &(*node)[*box::parse_number<size_t>(step)];
        else return nullptr;
    }
    return node;
}

void leaves(const json& v, Path path, std::vector<Path>& out) {
    if (v.is_object())
        for (const auto& [k, item] : v.items()) {
            Path next = path;
            next.push_back(k);
            leaves(item, next, out);
        }
    else if (v.is_array())
        for (size_t i = 0; i < v.size(); ++i) {
            Path next = path;
            next.push_back(std::to_string(i));
            leaves(v[i], next, out);
        }
    else out.push_back(path);
}

// Sets `value` at `path` of `doc`, making the mappings (and one-item lists) on the way.
void put(json& doc, const Path& path, const json& value) {
    json* node = &doc;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
        bool list = box::parse_number<size_t>(path[i + 1]).has_value();
        json& next = node->is_array() ? (*node)[0] : (*node)[path[i]];
        if (list ? !next.is_array() : !next.is_object()) next = list ? json::array({json()}) : json::object();
        node = &next;
    }
    if (node->is_array()) (*node)[0] = value;
    else (*node)[path.back()] = value;
}

void erase(json& doc, const std::string& dotted_path) {
    auto steps = box::split(dotted_path, '.');
    json* node = &doc;
    for (size_t i = 0; i + 1 < steps.size(); ++i) {
        auto index = box::parse_number<size_t>(steps[i]);
        node = node->is_array() && index ? &(*node)[*index] : &(*node)[steps[i]];
    }
    node->erase(steps.back());
}

// What a ${VARIABLE} stands for, by the key that holds it (a list's item: the
// list's key): values each place accepts.
const Map kSuitable = {
    {"name", "proj"}, {"mode", "replicated"}, {"replicas", "2"}, {"parallelism", "1"}, {"delay", "10s"},
    {"failure_action", "pause"}, {"monitor", "10s"}, {"max_failure_ratio", "0.5"}, {"memory", "64m"},
    {"kind", "gpu"}, {"value", "1"}, {"condition", "on-failure"}, {"max_attempts", "3"}, {"window", "10s"},
    {"max_replicas_per_node", "1"}, {"spread", "node.labels.zone"}, {"endpoint_mode", "vip"}, {"expose", "8080"},
    {"external_links", "db:db"}, {"extra_hosts", "somehost:162.242.195.82"}, {"hostname", "web"}, {"test", "true"},
    {"interval", "10s"}, {"timeout", "5s"}, {"retries", "3"}, {"start_period", "10s"}, {"start_interval", "5s"},
    {"image", "busybox"}, {"mac_address", "02:42:ac:11:00:02"}, {"aliases", "alias1"}, {"ipv4_address", "172.16.0.2"},
    {"ipv6_address", "2001:db8::2"}, {"ports", "8080:80"}, {"privileged", "true"}, {"read_only", "true"},
    {"restart", "always"}, {"source", "s"}, {"target", "/cache"}, {"uid", "0"}, {"gid", "0"}, {"stdin_open", "true"},
    {"stop_grace_period", "10s"}, {"stop_signal", "SIGTERM"}, {"size", "64m"}, {"net.core.somaxconn", "1024"},
    {"tmpfs", "/run"}, {"tty", "true"}, {"nproc", "65535"}, {"soft", "20000"}, {"hard", "40000"}, {"user", "nobody"},
    {"volumes", "/data"}, {"driver", "default"}, {"subnet", "172.28.0.0/16"}, {"ip_range", "172.28.5.0/24"},
    {"gateway", "172.28.0.1"}, {"host1", "172.28.1.5"}, {"external", "true"}};

// `doc` with each ${VARIABLE} renamed V1, V2... and the .env text giving each
// its suitable value.
json bind_variables(const json& doc, std::string& dotenv) {
    std::vector<Path> all;
    leaves(doc, {}, all);
    json out = doc;
    int n = 0;
    for (const auto& path : all) {
        const json* v = at_path(doc, path);
        if (!v->is_string() || v->get<std::string>().find("${VARIABLE}") == std::string::npos) continue;
        std::string key = box::parse_number<size_t>(path.back()) ? path[path.size() - 2] : path.back();
        INFO("no suitable value for " << key);
        REQUIRE(kSuitable.count(key));
        std::string var = "V" + std::to_string(++n);
        dotenv += var + "=" + kSuitable.at(key) + "\n";
        std::string text = v->get<std::string>();
        for (size_t at; (at = text.find("${VARIABLE}")) != std::string::npos;) text.replace(at, 11, "${" + var + "}");
        // put() through lists of one item: set the leaf in place instead.
        json* node = &out;
        for (const auto& step : path) node = node->is_array() ? &(*node)[std::stoul(step)] : &(*node)[step];
        *node = text;
    }
    return out;
}

struct Loaded {
    std::optional<Project> project;
    std::string error;
    std::set<std::string> refused;  // the keys box refused as not supported yet, as it names them
};

// Loads `doc` (with `dotenv` as .env); each key refused as "not supported by
// box compose yet" is taken out and the rest loaded again.
Loaded load_refusing(const Sandbox& sb, json doc, const std::string& dotenv, bool interpolate) {
    Loaded out;
    for (int attempt = 0; attempt < 20; ++attempt) {
        std::string dir = make_project(sb, random_name("uv-", 6), {{"compose.yaml", box::json_to_yaml(doc)}, {".env", dotenv}});
        LoadOptions o;
        o.interpolate = interpolate;
        try {
            out.project = load(dir, o);
            out.error.clear();
            return out;
        } catch (const box::Error& e) {
            out.error = e.what();
        }
        const std::string tail = " is not supported by box compose yet";
        size_t end = out.error.find(tail), start = out.error.find(": ");
        if (end == std::string::npos || start == std::string::npos || start > end) return out;
        std::string key = out.error.substr(start + 2, end - start - 2);
        key = key.substr(0, key.find(' '));  // "networks.n.driver overlay"
        out.refused.insert(key);
        erase(doc, box::starts_with(key, "(root).") ? key.substr(7) : key);
    }
    return out;
}

}  // namespace

// compose-go checks this file against the Compose schema before interpolating
// (schema_test.go's TestValidateVariables): each ${VARIABLE} stands where the
// schema wants a string, an integer, a boolean, a duration, a size, a port...
// and must be accepted there. box checks types after interpolation, so each
// place is loaded twice: with the variable set to a value that place takes
// (it must land in the model with its type), and as `config --no-interpolate`
// reads it (kept as written). Keys box does not do yet (secrets, configs, most
// of deploy, ...) are refused by name, as box refuses them whatever their
// value: that is the only failure accepted, and the list of them is fixed
// here so that a key box starts to refuse for another reason fails the test.
TEST_CASE("compose-go's using-variables.yaml: a ${VARIABLE} is accepted in every place it stands, interpolated "
          "or not; only keys box does not do yet are refused, by name",
          "[stage8][conformance]") {
    std::string dir = conformance_dir("compose-go/schema");
    if (dir.empty()) return;
    json file = box::yaml_to_json(box::read_file(dir + "/using-variables.yaml"), "using-variables.yaml");
    const std::set<std::string> not_yet = {
        "(root).configs", "(root).secrets", "services.foo.deploy.mode", "services.foo.deploy.rollback_config",
        "services.foo.deploy.update_config", "services.foo.deploy.resources.reservations",
        "services.foo.deploy.restart_policy", "services.foo.deploy.placement", "services.foo.deploy.endpoint_mode",
        "services.foo.external_links", "services.foo.mac_address", "services.foo.networks.other-network.ipv6_address",
        "services.foo.networks.other-network.mac_address", "services.foo.secrets", "services.foo.storage_opt",
        "networks.network.ipam.config.0.ip_range", "networks.network.ipam.config.0.aux_addresses"};

    // One place at a time: the leaf, or the list item holding it, on a
    // service that is valid without it (and the networks it may name).
    std::vector<Path> all;
    leaves(file, {}, all);
    std::set<Path> units;
    for (const auto& leaf : all) {
        Path unit;
        for (const auto& step : leaf) {
            unit.push_back(step);
            if (box::parse_number<size_t>(step)) break;
        }
        units.insert(unit);
    }
    REQUIRE(units.size() > 40);
    Sandbox sb;
    std::set<std::string> refused, refused_raw;
    size_t kept_as_written = 0;
    for (const auto& unit : units) {
        json doc = {{"services", {{"foo", {{"image", "busybox"}}}}},
                    {"networks", {{"some-network", nullptr}, {"other-network", nullptr}}}};
        put(doc, unit, *at_path(file, unit));
        INFO(dotted(unit) << " in " << doc.dump());

        std::string dotenv;
        Loaded interpolated = load_refusing(sb, bind_variables(doc, dotenv), dotenv, true);
        CHECK(interpolated.error.empty());
        refused.insert(interpolated.refused.begin(), interpolated.refused.end());

        Loaded raw = load_refusing(sb, doc, "", false);
        CHECK(raw.error.empty());
        CHECK(raw.refused == interpolated.refused);
        refused_raw.insert(raw.refused.begin(), raw.refused.end());
        if (!raw.project) continue;
        // Not interpolated, a place the model keeps holds the text as written.
        std::vector<Path> mine;
        leaves(*at_path(file, unit), unit, mine);
        for (const auto& leaf : mine) {
            Path in_doc = leaf;  // a list item is the list's only one there
            if (box::parse_number<size_t>(unit.back())) in_doc[unit.size() - 1] = "0";
            const json* v = at_path(raw.project->model, in_doc);
            if (!v || v->is_structured() || leaf == Path{"name"}) continue;
            INFO(dotted(leaf));
            CHECK(*v == *at_path(file, leaf));
            ++kept_as_written;
        }
        if (unit == Path{"name"}) CHECK(raw.project->name == "variable");  // compose-go normalises "${VARIABLE}"
    }
    CHECK(refused == not_yet);
    CHECK(refused_raw == not_yet);
    CHECK(kept_as_written >= 30);  // 34 places here when written

    // The whole file, less what box refuses, in one go: each value in the
    // model with the type its place has.
    json whole = file;
    for (const auto& key : not_yet) erase(whole, box::starts_with(key, "(root).") ? key.substr(7) : key);
    whole["networks"]["some-network"] = nullptr;  // the service's networks, which the file does not define
    whole["networks"]["other-network"] = nullptr;
    std::string dotenv;
    Loaded loaded = load_refusing(sb, bind_variables(whole, dotenv), dotenv, true);
    INFO(loaded.error);
    REQUIRE(loaded.project);
    CHECK(loaded.refused.empty());
    const Project& p = *loaded.project;
    CHECK(p.name == "proj");
    const json& foo = p.model["services"]["foo"];
    CHECK(foo["deploy"] == json::parse(R"({"replicas": 2, "resources": {"limits": {"memory": 67108864}}})"));
    for (const char* flag : {"privileged", "read_only", "stdin_open", "tty"}) CHECK(foo[flag] == true);
    CHECK(foo["healthcheck"] == json::parse(R"({"test": ["CMD-SHELL", "true"], "interval": "10s", "timeout": "5s",
        "retries": 3, "start_period": "10s", "start_interval": "5s"})"));
    CHECK(foo["ulimits"] == json::parse(R"({"nproc": {"soft": 65535, "hard": 65535}, "nofile": {"soft": 20000, "hard": 40000}})"));
    CHECK(foo["ports"] == json::parse(R"([{"mode": "ingress", "protocol": "tcp", "published": "8080", "target": 80}])"));
    CHECK(foo["volumes"] == json::parse(R"([
        {"type": "bind", "source": "/data", "target": "/data", "bind": {"create_host_path": true}},
        {"type": "tmpfs", "target": "/cache", "tmpfs": {"size": 67108864}}])"));
    CHECK(foo["networks"] == json::parse(R"({"some-network": {"aliases": ["alias1"]}, "other-network": {"ipv4_address": "172.16.0.2"}})"));
    CHECK(foo["sysctls"] == json({{"net.core.somaxconn", "1024"}}));
    CHECK(foo["expose"] == json({"8080"}));
    CHECK(foo["extra_hosts"] == json({"somehost:162.242.195.82"}));
    CHECK(foo["tmpfs"] == json({"/run"}));
    CHECK(foo["restart"] == "always");
    CHECK(foo["stop_grace_period"] == "10s");
    for (const auto& [key, value] : Map{{"hostname", "web"}, {"image", "busybox"}, {"user", "nobody"}, {"stop_signal", "SIGTERM"}})
        CHECK(foo[key] == value);
    CHECK(p.model["networks"]["network"]["ipam"] == json::parse(R"({"config": [{"subnet": "172.28.0.0/16", "gateway": "172.28.0.1"}]})"));
    CHECK(p.model["networks"]["external-network"]["external"] == true);
    CHECK(p.model["volumes"]["external-volume"]["external"] == true);
}

// ---- compose-go: cli/testdata/simple ------------------------------------------------

// compose-go's cli/options_test.go loads this project: its .env sets
// PUBLIC_PORT=8000, which compose-with-variables.yaml publishes as 8000:80.
TEST_CASE("compose-go's cli project: .env's PUBLIC_PORT publishes 8000:80, a name: with a variable, -f files merged",
          "[stage8][conformance]") {
    std::string dir = conformance_dir("compose-go/cli/testdata/simple");
    if (dir.empty()) return;
    ScopedEnv no_port("PUBLIC_PORT", std::nullopt);
    LoadOptions o;
    o.files = {"compose-with-variables.yaml"};
    Project p = load(dir, o);
    CHECK(p.name == "simple");  // the directory's
    CHECK(p.env.at("PUBLIC_PORT") == "8000");
    CHECK(p.model["services"]["simple"]["ports"] ==
          json::parse(R"([{"mode": "ingress", "protocol": "tcp", "published": "8000", "target": 80}])"));
    {
        ScopedEnv shell("PUBLIC_PORT", "9000");  // the shell's value wins over .env's
        CHECK(load(dir, o).model["services"]["simple"]["ports"][0]["published"] == "9000");
    }

    // TestProjectName's "by name in compose.yaml with variable".
    ScopedEnv test("TEST", "expected");
    o.files = {"compose-name.yaml"};
    CHECK(load(dir, o).name == "test-expected-test");
    // TestProjectFromSetOfFiles: the later file's image.
    o.files = {"compose.yaml", "compose-with-overrides.yaml"};
    o.project_name = "my_project";
    p = load(dir, o);
    CHECK(p.name == "my_project");
    CHECK(p.model["services"]["simple"]["image"] == "haproxy");
    CHECK(p.files == std::vector<std::string>{dir + "/compose.yaml", dir + "/compose-with-overrides.yaml"});
}

// ---- docker compose: pkg/e2e/testdata ---------------------------------------------

// The scenarios of docker compose's end-to-end tests that its parser decides:
// `config`'s output (run as a user would) and the model up would use.
TEST_CASE("docker compose's e2e projects: .env interpolation (the shell wins), env file priority, comments in "
          ".env, config's long ports and --no-interpolate, an expose range",
          "[stage8][conformance]") {
    std::string base = conformance_dir("docker-compose-e2e/pkg/e2e/testdata");
    if (base.empty()) return;
    Sandbox sb;
    ScopedEnv no_whereami("WHEREAMI", std::nullopt);
    ScopedEnv no_port("PORT", std::nullopt);
    ScopedEnv no_myvar("MYVAR", std::nullopt);
    ScopedEnv no_env_files("COMPOSE_ENV_FILES", std::nullopt);

    SECTION("TestEnvInterpolation: .env's IMAGE=default_env:${WHEREAMI} takes the shell's WHEREAMI over .env's") {
        std::string dir = base + "/TestEnvInterpolation";
        CHECK(load(dir).model["services"]["env-interpolation"]["environment"]["IMAGE"] == "default_env:EnvFile");
        {
            ScopedEnv shell("WHEREAMI", "shell");
            Project p = load(dir);
            CHECK(p.env.at("IMAGE") == "default_env:shell");
            CHECK(p.model["services"]["env-interpolation"]["environment"]["IMAGE"] == "default_env:shell");
            // `command: echo "$IMAGE"` is interpolated too.
            CHECK(p.model["services"]["env-interpolation"]["command"] == json({"echo", "default_env:shell"}));
        }
        RunOptions in_shell;
        in_shell.env = {{"WHEREAMI", "shell"}};
        std::string out = compose_ok(sb, dir, {"config"}, in_shell);
        CHECK(out.find("\n      IMAGE: default_env:shell\n") != std::string::npos);
    }

    SECTION("TestEnvInterpolationDefaultValue: ${WHEREAMI:-EnvFileDefaultValue} in .env, WHEREAMI unset") {
        std::string dir = base + "/TestEnvInterpolationDefaultValue";
        CHECK(load(dir).model["services"]["env-interpolation"]["environment"]["IMAGE"] == "default_env:EnvFileDefaultValue");
        CHECK(compose_ok(sb, dir, {"config"}).find("IMAGE: default_env:EnvFileDefaultValue\n") != std::string::npos);
    }

    SECTION("TestCommentsInEnvFile: a # inside a value, quoted or not, is no comment; build: . is the directory") {
        // The scenario runs `run -e COMMENT -e NO_COMMENT` and looks for
        // "COMMENT=1234" and "NO_COMMENT=1234#5" in the output (substrings).
        // compose-go's parser starts a comment only at a `#` after a blank
        // (godotenv_test: FOO=123#not-an-inline-comment keeps its `#`), so
        // COMMENT is 1234#5 too; " #" would start one.
        std::string dir = base + "/TestCommentsInEnvFile";
        Project p = load(dir);
        CHECK(p.env.at("COMMENT") == "1234#5");
        CHECK(p.env.at("NO_COMMENT") == "1234#5");
        CHECK(p.model["services"]["env-file-comments"]["build"] == json({{"context", dir}, {"dockerfile", "Dockerfile"}}));
        std::string own = project_with(sb, {{".env", box::read_file(dir + "/.env") + "SPACED=1234 #5\n"}});
        CHECK(load(own).env.at("SPACED") == "1234");
    }

    SECTION("TestLocalComposeConfig: ${PORT:-8080}:80 is a long-form port; --no-interpolate keeps it as written") {
        std::string dir = base + "/TestLocalComposeConfig";
        const json want = json::parse(R"([{"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}])");
        CHECK(load(dir).model["services"]["test"]["ports"] == want);
        {
            ScopedEnv port("PORT", "9000");
            CHECK(load(dir).model["services"]["test"]["ports"][0]["published"] == "9000");
        }
        // docker compose v2 prints (keys in its Go struct's order; box's YAML
        // writes a mapping's keys sorted, so the test reads the YAML back):
        //     ports:
        //       - mode: ingress
        //         target: 80
        //         published: "8080"
        //         protocol: tcp
        std::string yaml = compose_ok(sb, dir, {"config"});
        json shown = box::yaml_to_json(yaml, "config");
        CHECK(shown["services"]["test"]["ports"] == want);
        CHECK(yaml.find("\n    ports:\n      - mode: ingress\n") != std::string::npos);
        CHECK(yaml.find("\n        published: \"8080\"\n") != std::string::npos);  // a string, quoted
        CHECK(yaml.find("\n        target: 80\n") != std::string::npos);
        CHECK(shown["networks"] == json::parse(R"({"default": {"name": "testlocalcomposeconfig_default"}})"));
        std::string as_json = compose_ok(sb, dir, {"config", "--format", "json"});
        CHECK(as_json.find("\"published\": \"8080\"") != std::string::npos);
        CHECK(json::parse(as_json)["services"]["test"]["ports"] == want);
        CHECK(compose_ok(sb, dir, {"config", "--no-interpolate"}).find("\n    ports:\n      - ${PORT:-8080}:80\n") != std::string::npos);
    }

    SECTION("TestConfigInterpolate: config --no-interpolate keeps ${MYVAR} and still resolves the build context") {
        std::string dir = base + "/TestConfigInterpolate";
        LoadOptions o;
        o.interpolate = false;
        Project p = load(dir, o);
        CHECK(p.model["services"]["nginx"]["build"] == json({{"context", dir + "/nginx-build"}, {"dockerfile", "${MYVAR}"}}));
        // What docker compose prints, to the byte.
        std::string want = "name: testconfiginterpolate\n"
                           "networks:\n"
                           "  default:\n"
                           "    name: testconfiginterpolate_default\n"
                           "services:\n"
                           "  nginx:\n"
                           "    build:\n"
                           "      context: " + dir + "/nginx-build\n"
                           "      dockerfile: ${MYVAR}\n"
                           "    networks:\n"
                           "      default: null\n";
        auto r = compose(sb, dir, {"config", "--no-interpolate"});
        BOX_SHOW(r);
        CHECK(r.status == 0);
        CHECK(r.out == want);
        CHECK(r.err.empty());  // nothing interpolated, so no "variable is not set" warning
        // Interpolated, MYVAR is unset: a blank string, with compose's warning.
        r = compose(sb, dir, {"config"});
        CHECK(r.out.find("      dockerfile: \"\"\n") != std::string::npos);
        CHECK(r.err.find("The \"MYVAR\" variable is not set. Defaulting to a blank string.") != std::string::npos);
    }

    SECTION("TestEnvPriority: the shell beats --env-file (or COMPOSE_ENV_FILES), which replaces the project's .env") {
        // The scenario then runs `run -e WHEREAMI`: the container gets the
        // project's value, which is what is checked here.
        std::string dir = base + "/TestEnvPriority";
        auto whereami = [&](const std::vector<std::string>& env_files) -> std::optional<std::string> {
            LoadOptions o;
            o.env_files = env_files;
            Project p = load(dir, o);
            CHECK(p.model["services"]["env-compose-priority"]["build"]["context"] == dir);
            auto it = p.env.find("WHEREAMI");
            if (it == p.env.end()) return std::nullopt;
            return it->second;
        };
        CHECK(whereami({}) == "Env File");
        CHECK(whereami({dir + "/.env.override"}) == "override");
        CHECK(whereami({dir + "/.env.override.with.default"}) == "EnvFileDefaultValue");
        CHECK(whereami({dir + "/.env.empty"}) == std::nullopt);  // the image's ENV stays
        {
            ScopedEnv files("COMPOSE_ENV_FILES", dir + "/.env.override.with.default");
            CHECK(whereami({}) == "EnvFileDefaultValue");
            CHECK(whereami({".env.override"}) == "override");  // --env-file first
        }
        ScopedEnv shell("WHEREAMI", "shell");
        CHECK(whereami({dir + "/.env.override"}) == "shell");
        CHECK(whereami({dir + "/.env.override.with.default"}) == "shell");
    }

    SECTION("TestExposeRange: expose 9091-9092 is accepted and kept as a range") {
        Project p = load(base + "/TestExposeRange");
        CHECK(p.model["services"]["test"]["expose"] == json({"9091-9092"}));
        CHECK(compose_ok(sb, base + "/TestExposeRange", {"config"}).find("\n    expose:\n      - 9091-9092\n") != std::string::npos);
    }
}

// docker compose's `config` (cmd/compose/config.go) prints the model so that it
// reads back as the same project: every `$` doubled once interpolated, the
// env_files already read into environment (and left out), each network and
// volume with its name on the engine; compose-go normalises a name: from the file.
TEST_CASE("config prints a model that reads back as itself: $ doubled, env_file read, names filled in",
          "[stage8][conformance]") {
    Sandbox sb;
    ScopedEnv shell("FROM_SHELL", "hi");
    std::string dir = make_project(sb, "render", {
        {"compose.yaml", "name: My_App\n"
                         "services:\n"
                         "  s:\n"
                         "    image: busybox\n"
                         "    command: sh -c 'echo $$HOME'\n"
                         "    env_file: [vars.env]\n"
                         "    environment:\n"
                         "      - FROM_SHELL\n"
                         "      - X=$${Y}\n"
                         "      - FROM_FILE=over\n"
                         "    volumes: [data:/data]\n"
                         "volumes:\n"
                         "  data:\n"},
        {"vars.env", "FROM_FILE=file\nONLY_FILE=${FROM_SHELL}-too\n"}});
    Project p = load(dir);
    CHECK(p.name == "my_app");
    CHECK(p.model["services"]["s"]["environment"] ==
          json({{"FROM_SHELL", "hi"}, {"X", "${Y}"}, {"FROM_FILE", "over"}, {"ONLY_FILE", "hi-too"}}));

    std::string yaml = compose_ok(sb, dir, {"config"});
    CHECK(yaml.find("      - echo $$HOME\n") != std::string::npos);
    CHECK(yaml.find("      X: $${Y}\n") != std::string::npos);
    CHECK(yaml.find("env_file") == std::string::npos);
    json shown = box::yaml_to_json(yaml, "config");
    CHECK(shown["volumes"] == json::parse(R"({"data": {"name": "my_app_data"}})"));
    CHECK(shown["networks"] == json::parse(R"({"default": {"name": "my_app_default"}})"));
    CHECK(compose_ok(sb, dir, {"config", "--format", "json"}).find("\"echo $$HOME\"") != std::string::npos);

    // Read back, it is the same model.
    std::string again = make_project(sb, "again", {{"compose.yaml", yaml}});
    json round = load(again).model;
    json model = p.model;
    model["services"]["s"].erase("env_file");
    for (auto& [key, v] : model["volumes"].items()) v["name"] = volume_name(p, key);
    for (auto& [key, n] : model["networks"].items()) n["name"] = network_name(p, key);
    CHECK(round == model);

    // A required env_file that is not there, and one that is not a .env, in compose's words.
    std::string missing = make_project(sb, "missing", {{"compose.yaml", "services:\n  s:\n    image: busybox\n    env_file: [nowhere.env]\n"}});
    CHECK(error_of([&] { load(missing); }) ==
          "env file " + missing + "/nowhere.env not found: stat " + missing + "/nowhere.env: no such file or directory");
    std::string optional = make_project(sb, "optional", {{"compose.yaml",
        "services:\n  s:\n    image: busybox\n    env_file: [{path: nowhere.env, required: false}]\n"}});
    CHECK(error_of([&] { load(optional); }).empty());
}
