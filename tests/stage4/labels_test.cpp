// Stage 4, black-box: labels on containers, volumes and images, and docker's
// --filter grammar over them — what compose finds its objects again with.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "box/util.hpp"
#include "support.hpp"

using namespace boxtest;

namespace {
std::set<std::string> out_lines(const Result& r) {
    auto l = lines(r.out);
    return {l.begin(), l.end()};
}
}  // namespace

TEST_CASE("run --label and --label-file label a container over its image's labels; inspect and ps show them",
          "[stage4][labels]") {
    Sandbox sb;
    import_busybox(sb);
    run_detached(sb, {"--name", "base"}, {"true"});
    REQUIRE(sb.box({"wait", "base"}).status == 0);
    REQUIRE(sb.box({"commit", "-c", "LABEL tier=base owner=image", "base", "labelled:v1"}).status == 0);
    std::string file = sb.dir() + "/labels";
    std::ofstream(file) << "# the team's labels\nowner=file\nteam=blue\n";
    auto run = sb.box({"run", "-d", "--name", "web", "-l", "owner=me", "--label", "solo", "--label-file", file,
                       "labelled:v1", "sleep", "300"});
    BOX_SHOW(run);
    REQUIRE(run.status == 0);
    auto labels = inspect(sb, "web")["Config"]["Labels"];
    CHECK(labels == nlohmann::json{{"tier", "base"}, {"owner", "me"}, {"team", "blue"}, {"solo", ""}});
    // The record on disk says so too (what a later box reads).
    auto config = nlohmann::json::parse(read_host_file(sb.dir() + "/state/containers/" + trim(run.out) + "/config.json"));
    CHECK(config["Request"]["Config"]["Labels"] == labels);
    CHECK(sb.box({"ps", "--format", "{{.Names}} {{.Labels}}"}).out == "web owner=me,solo=,team=blue,tier=base\n");
    CHECK(sb.box({"ps", "--format", "{{.Label \"team\"}}|{{.Label \"nope\"}}"}).out == "blue|\n");
    CHECK(trim(sb.box({"inspect", "-f", "{{index .Config.Labels \"tier\"}}", "web"}).out) == "base");
    CHECK(sb.box({"rm", "-f", "web", "base"}).status == 0);
}

TEST_CASE("ps --filter: label=K, label=K=V, several labels all hold, one key any, status lists every state",
          "[stage4][labels][filter]") {
    Sandbox sb;
    import_busybox(sb);
    run_detached(sb, {"--name", "front", "-l", "app=shop", "-l", "tier=front"}, {"sleep", "300"});
    run_detached(sb, {"--name", "back", "-l", "app=shop", "-l", "tier=back"}, {"sleep", "300"});
    run_detached(sb, {"--name", "other", "-l", "app=blog"}, {"sleep", "300"});
    run_detached(sb, {"--name", "done", "-l", "app=shop"}, {"true"});
    REQUIRE(sb.box({"wait", "done"}).status == 0);
    auto names = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "ps");
        args.insert(args.end(), {"--format", "{{.Names}}"});
        auto r = sb.box(args);
        BOX_SHOW(r);
        return out_lines(r);
    };
    using S = std::set<std::string>;
    CHECK(names({"--filter", "label=app"}) == S{"front", "back", "other"});  // running only, as docker
    CHECK(names({"-a", "--filter", "label=app=shop"}) == S{"front", "back", "done"});
    CHECK(names({"--filter", "label=app=shop", "--filter", "label=tier=back"}) == S{"back"});
    CHECK(names({"--filter", "label=app=shop", "--filter", "label=missing"}).empty());
    CHECK(names({"-f", "name=front", "-f", "name=other"}) == S{"front", "other"});
    CHECK(names({"-f", "name=front", "-f", "label=app=blog"}).empty());  // different keys: all
    CHECK(names({"-f", "status=exited"}) == S{"done"});                   // a status filter needs no -a
    CHECK(names({"-a", "-f", "exited=0"}) == S{"done"});

    auto bad = sb.box({"ps", "--filter", "colour=red"});
    REQUIRE_ONE_ERROR_LINE(bad, 1);
    CHECK(bad.err.find("Invalid filter 'colour'") != std::string::npos);
    auto no_eq = sb.box({"ps", "--filter", "label"});
    REQUIRE_ONE_ERROR_LINE(no_eq, 1);
    CHECK(no_eq.err.find("bad format of filter (expected name=value)") != std::string::npos);
    auto status = sb.box({"ps", "--filter", "status=sleeping"});
    REQUIRE_ONE_ERROR_LINE(status, 1);
    CHECK(status.err.find("Unrecognised filter value for status: sleeping") != std::string::npos);
    CHECK(sb.box({"rm", "-f", "front", "back", "other", "done"}).status == 0);
}

TEST_CASE("container prune --filter label= and label!= remove exactly the stopped containers they keep",
          "[stage4][labels][filter]") {
    Sandbox sb;
    import_busybox(sb);
    for (auto [name, label] : {std::pair{"a", "keep=no"}, {"b", "keep=yes"}, {"c", "other=1"}})
        run_detached(sb, {"--name", name, "-l", label}, {"true"});
    std::string running = run_detached(sb, {"--name", "up", "-l", "keep=no"}, {"sleep", "300"});
    for (const char* n : {"a", "b", "c"}) REQUIRE(sb.box({"wait", n}).status == 0);
    auto bad = sb.box({"container", "prune", "-f", "--filter", "name=a"});
    REQUIRE_ONE_ERROR_LINE(bad, 1);
    CHECK(sb.box({"ps", "-aq"}).out.size() == 4 * 13);  // nothing removed by a refused prune
    REQUIRE(sb.box({"container", "prune", "-f", "--filter", "label=keep=no"}).status == 0);
    CHECK(out_lines(sb.box({"ps", "-a", "--format", "{{.Names}}"})) == std::set<std::string>{"b", "c", "up"});
    REQUIRE(sb.box({"container", "prune", "-f", "--filter", "label!=keep"}).status == 0);
    CHECK(out_lines(sb.box({"ps", "-a", "--format", "{{.Names}}"})) == std::set<std::string>{"b", "up"});
    CHECK(sb.box({"rm", "-f", "b", "up"}).status == 0);
}

TEST_CASE("volume create --label: inspect shows them, ls and prune filter by them", "[stage4][labels][filter][volumes][given]") {
    Sandbox sb;
    REQUIRE(sb.box({"volume", "create", "--label", "project=shop", "--label", "role=db", "shopdb"}).status == 0);
    REQUIRE(sb.box({"volume", "create", "--label", "project=blog", "blogdb"}).status == 0);
    REQUIRE(sb.box({"volume", "create", "plain"}).status == 0);
    auto labels = nlohmann::json::parse(sb.box({"volume", "inspect", "shopdb"}).out).at(0)["Labels"];
    CHECK(labels == nlohmann::json{{"project", "shop"}, {"role", "db"}});
    CHECK(sb.box({"volume", "ls", "-q", "--filter", "label=project"}).out == "blogdb\nshopdb\n");
    CHECK(sb.box({"volume", "ls", "-q", "--filter", "label=project=shop"}).out == "shopdb\n");
    CHECK(sb.box({"volume", "ls", "--format", "{{.Name}}:{{.Label \"role\"}}", "-f", "name=shop"}).out == "shopdb:db\n");
    auto bad = sb.box({"volume", "create", "--label", "novalue", "v2"});
    REQUIRE_ONE_ERROR_LINE(bad, 1);
    CHECK(bad.err.find("bad attribute format: novalue") != std::string::npos);
    CHECK(!std::filesystem::exists(sb.dir() + "/state/volumes/v2"));
    REQUIRE(sb.box({"volume", "prune", "-f", "--filter", "label=project=blog"}).status == 0);
    CHECK(sb.box({"volume", "ls", "-q"}).out == "plain\nshopdb\n");
    CHECK(!std::filesystem::exists(sb.dir() + "/state/volumes/blogdb"));
    REQUIRE(sb.box({"volume", "prune", "-f", "--filter", "label!=project"}).status == 0);
    CHECK(sb.box({"volume", "ls", "-q"}).out == "shopdb\n");
}

TEST_CASE("images --filter label= and dangling=, image prune --filter label=", "[stage4][labels][filter][given]") {
    Sandbox sb;
    std::string busybox = import_busybox(sb);
    run_detached(sb, {"--name", "src"}, {"true"});
    REQUIRE(sb.box({"wait", "src"}).status == 0);
    REQUIRE(sb.box({"commit", "-c", "LABEL stage=test", "src", "tested:v1"}).status == 0);
    std::string tested = trim(sb.box({"images", "-q", "--no-trunc", "tested:v1"}).out);
    auto with_label = lines(sb.box({"images", "-q", "--no-trunc", "--filter", "label=stage"}).out);
    CHECK(with_label == std::vector<std::string>{tested});
    CHECK(sb.box({"images", "-q", "--filter", "dangling=true"}).out.empty());
    REQUIRE(sb.box({"rm", "src"}).status == 0);
    REQUIRE(sb.box({"image", "prune", "-a", "-f", "--filter", "label=stage=test"}).status == 0);
    CHECK(sb.box({"images", "-q", "tested:v1"}).out.empty());
    CHECK(trim(sb.box({"images", "-q", "--no-trunc", "busybox"}).out) == busybox);  // unlabelled: kept
}

TEST_CASE("commit -m=\"has update\" -a=\"runoob\": the tutorial's flags, stored as docker stores them",
          "[stage4][commit][cli][given]") {
    Sandbox sb;
    import_busybox(sb);
    std::string id = run_detached(sb, {"--name", "work"}, {"true"});
    REQUIRE(sb.box({"wait", "work"}).status == 0);
    auto commit = sb.box({"commit", "-m=has update", "-a=runoob", id.substr(0, 12), "runoob/ubuntu:v2"});
    BOX_SHOW(commit);
    REQUIRE(commit.status == 0);
    CHECK(trim(sb.box({"image", "inspect", "-f", "{{.Author}}|{{.Comment}}", "runoob/ubuntu:v2"}).out) ==
          "runoob|has update");
    CHECK(sb.box({"history", "runoob/ubuntu:v2"}).out.find("=has update") == std::string::npos);
    CHECK(sb.box({"rm", "work"}).status == 0);
}
