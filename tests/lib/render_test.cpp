// Unit tests of lib's rendering: docker's tables and --format templates.
#include <catch2/catch.hpp>

#include "box/error.hpp"
#include "box/render.hpp"

using json = nlohmann::json;
namespace render = box::render;

TEST_CASE("tables: columns as wide as their widest cell plus three, at least 10, characters not bytes",
          "[lib][render]") {
    CHECK(render::table({{"NAME", "STATUS", "X"}, {"a-long-name", "Up…", ""}}) ==
          "NAME          STATUS    X\n"
          "a-long-name   Up…\n");
    // docker ps's header: IMAGE is padded to 10, CONTAINER ID to 12 + 3.
    CHECK(render::table({{"CONTAINER ID", "IMAGE", "NAMES"}}) == "CONTAINER ID   IMAGE     NAMES\n");
}

TEST_CASE("templates: fields, nested fields, json, and docker's escapes", "[lib][render]") {
    json v = {{"Name", "/web"}, {"State", {{"Status", "running"}, {"Pid", 42}, {"Error", nullptr}}},
              {"Env", {"A=1"}}};
    CHECK(render::format("{{.Name}} {{ .State.Status }}/{{.State.Pid}}", v) == "/web running/42");
    CHECK(render::format("{{json .Env}}\\t{{.State.Error}}", v) == "[\"A=1\"]\t<no value>");
    CHECK(render::format("{{json .State}}", v) == v["State"].dump());
    CHECK(render::format("plain", v) == "plain");
    CHECK_THROWS_AS(render::format("{{.State.Nope}}", v), box::Error);
    CHECK_THROWS_AS(render::format("{{.Name", v), box::Error);
    CHECK_THROWS_AS(render::format("{{range .Env}}{{.}}{{end}}", v), box::Error);
}

TEST_CASE("templates: a row's method {{.Label \"k\"}} and Go's index; methods are not fields", "[lib][render]") {
    json row = {{"Names", "web"}, {"Labels", "a.b=1"}, {"_Label", {{"a.b", "1"}}}, {"Config", {{"Labels", {{"x", "y"}}}}}};
    CHECK(render::format("{{.Label \"a.b\"}}|{{.Label \"nope\"}}", row) == "1|");
    CHECK(render::format("{{index .Config.Labels \"x\"}}|{{index .Config.Labels \"z\"}}", row) == "y|");
    CHECK(render::format("{{json .}}", row).find("_Label") == std::string::npos);
    CHECK_THROWS_AS(render::format("{{.Names \"x\"}}", row), box::Error);
    CHECK_THROWS_AS(render::format("{{.Label a}}", row), box::Error);
}
