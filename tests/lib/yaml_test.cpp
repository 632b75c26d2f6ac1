// Unit tests of lib/'s YAML: Compose files read as docker compose reads them
// (YAML 1.2 as Go's yaml.v3 resolves it), and JSON written back as YAML.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "box/error.hpp"
#include "box/yaml.hpp"

using namespace box;
using nlohmann::json;

namespace {

json read(const std::string& text, YamlLines* lines = nullptr) { return yaml_to_json(text, "compose.yaml", lines); }

// The value of `scalar` written as a mapping's value, as JSON text
// ("1000.0" for a float, "1000" for an integer).
std::string value_of(const std::string& scalar) { return read("v: " + scalar + "\n")["v"].dump(); }

// The Error yaml_to_json throws for `text`: "what: why".
std::string error_of(const std::string& text) {
    try {
        read(text);
    } catch (const Error& e) {
        return e.tried() + ": " + e.reason();
    }
    return "no error";
}

// The lines map as text, one "path: line" a line, for a readable failure.
std::string describe(const YamlLines& lines) {
    std::string text;
    for (const auto& [path, line] : lines) text += path + ": " + std::to_string(line) + "\n";
    return text;
}

}  // namespace

TEST_CASE("plain scalars resolve as YAML 1.2's core schema says", "[lib][yaml]") {
    const std::vector<std::pair<std::string, std::string>> rows = {
        // null: the null words and the empty value
        {"~", "null"}, {"null", "null"}, {"Null", "null"}, {"NULL", "null"}, {"", "null"},
        // booleans: only true and false; YAML 1.1's yes, no, on, off are strings
        {"true", "true"}, {"True", "true"}, {"TRUE", "true"},
        {"false", "false"}, {"False", "false"}, {"FALSE", "false"},
        {"yes", R"("yes")"}, {"no", R"("no")"}, {"on", R"("on")"}, {"off", R"("off")"}, {"Yes", R"("Yes")"},
        {"nULL", R"("nULL")"}, {"tRUE", R"("tRUE")"},
        // integers: decimal with a sign, 0x hex, 0o octal
        {"42", "42"}, {"0", "0"}, {"-17", "-17"}, {"+5", "5"}, {"0x1F", "31"}, {"-0x10", "-16"}, {"0o17", "15"},
        // and the forms of Go's integers that yaml.v3 keeps: 0b, 0777, digits with _
        {"0b101", "5"}, {"0777", "511"}, {"1_000", "1000"},
        // int64 and beyond: uint64, then a float
        {"9223372036854775807", "9223372036854775807"}, {"-9223372036854775808", "-9223372036854775808"},
        {"18446744073709551615", "18446744073709551615"}, {"99999999999999999999", "1e+20"},
        // floats
        {"1.5", "1.5"}, {"-2.25", "-2.25"}, {".5", "0.5"}, {"1.0", "1.0"}, {"1e3", "1000.0"}, {"+1.5e-2", "0.015"},
        {"1.", "1.0"}, {"08", "8.0"},
        // non-finite floats: JSON cannot hold them, so the text as written
        {".inf", R"(".inf")"}, {"-.Inf", R"("-.Inf")"}, {"+.INF", R"("+.INF")"}, {".nan", R"(".nan")"},
        {"1e999", R"("1e999")"},
        // everything else is a string
        {"nginx:1.25", R"("nginx:1.25")"}, {"1.2.3", R"("1.2.3")"}, {"0x", R"("0x")"}, {"12abc", R"("12abc")"},
        {"2024-01-02", R"("2024-01-02")"}, {"1:30", R"("1:30")"}, {"-x", R"("-x")"}, {"+", R"("+")"},
        {".", R"(".")"}, {"<<", R"("<<")"}, {"hello world", R"("hello world")"},
    };
    for (const auto& [scalar, expected] : rows) {
        INFO("v: " << scalar);
        CHECK(value_of(scalar) == expected);
    }
}

TEST_CASE("quoted and block scalars are strings whatever they spell", "[lib][yaml]") {
    for (const char* quoted : {R"('42')", R"("42")", R"("true")", R"('null')", R"("~")", R"("0x10")", R"('1e3')",
                               R"(".inf")"}) {
        INFO("v: " << quoted);
        CHECK(read(std::string("v: ") + quoted)["v"].is_string());
    }
    CHECK(read("v: ''")["v"] == "");
    CHECK(read("v: \"\"")["v"] == "");
    CHECK(read("v: |\n  42\n")["v"] == "42\n");
    CHECK(read("v: >-\n  true\n  story\n")["v"] == "true story");
    CHECK(read("v: \"a\\tb\\n\"")["v"] == "a\tb\n");
}

TEST_CASE("the standard tags choose a scalar's type", "[lib][yaml]") {
    CHECK(value_of("!!str 123") == R"("123")");
    CHECK(value_of("!!str true") == R"("true")");
    CHECK(value_of("!!str") == R"("")");
    CHECK(value_of("!!int \"12\"") == "12");
    CHECK(value_of("!!float 1") == "1.0");
    CHECK(value_of("!!bool 'false'") == "false");
    CHECK(value_of("!!null ~") == "null");
    CHECK(value_of("!!map {a: 1}") == R"({"a":1})");
    CHECK(value_of("!!seq [1]") == "[1]");
    CHECK(error_of("v: !!int abc") == R"(compose.yaml: line 1: cannot decode "abc" as !!int)");
    CHECK(error_of("v: !!bool yes") == R"(compose.yaml: line 1: cannot decode "yes" as !!bool)");
}

TEST_CASE("a tag that is not standard, such as compose's !reset, is an error naming it and its line", "[lib][yaml]") {
    CHECK(error_of("services:\n  web:\n    ports: !reset []\n") ==
          "compose.yaml: line 3: tag !reset is not supported");
    CHECK(error_of("services:\n  web:\n    image: !override nginx\n") ==
          "compose.yaml: line 3: tag !override is not supported");
    CHECK(error_of("services:\n  web: !reset\n") == "compose.yaml: line 2: tag !reset is not supported");
    CHECK(error_of("a: 1\nb: !!binary aGk=\n") == "compose.yaml: line 2: tag !!binary is not supported");
    CHECK(error_of("a: 1\n!custom key: 1\n") == "compose.yaml: line 2: tag !custom is not supported");
}

TEST_CASE("mapping keys are text, and must be scalars", "[lib][yaml]") {
    json ports = read("8080: web\n0x10: hex\ntrue: yes\n1.5: f\n");
    CHECK(ports == json{{"8080", "web"}, {"0x10", "hex"}, {"true", "yes"}, {"1.5", "f"}});
    CHECK(read("é: 1\nnull: a\n~: b\n\"\": c\n") == json{{"é", 1}, {"null", "a"}, {"~", "b"}, {"", "c"}});
    CHECK(error_of("a: 1\n[x]: 2\n") == "compose.yaml: line 2: a mapping key must be a scalar");
}

TEST_CASE("a key written twice in one mapping is an error", "[lib][yaml]") {
    CHECK(error_of("services:\n  web:\n    image: a\n    image: b\n") ==
          R"(compose.yaml: line 4: mapping key "image" already defined at line 3)");
    // the same text, quoted or not, is the same key
    CHECK(error_of("8080: a\n\"8080\": b\n") ==
          R"(compose.yaml: line 2: mapping key "8080" already defined at line 1)");
    // the same key in two mappings is fine
    CHECK(read("a: {x: 1}\nb: {x: 2}\n") == json::parse(R"({"a": {"x": 1}, "b": {"x": 2}})"));
}

TEST_CASE("an alias is the anchored value", "[lib][yaml]") {
    json doc = read("x-ports: &ports [80, 443]\n"
                    "x-name: &name web\n"
                    "services:\n"
                    "  web:\n"
                    "    ports: *ports\n"
                    "    hostname: *name\n");
    CHECK(doc["services"]["web"]["ports"] == json{80, 443});
    CHECK(doc["services"]["web"]["hostname"] == "web");
}

TEST_CASE("an alias that would expand without end is refused", "[lib][yaml]") {
    // an alias inside its own anchor
    CHECK_THAT(error_of("a: &x [*x]\n"), Catch::Contains("nested too deeply"));
    CHECK_THAT(error_of("a: &x {<<: *x, b: 1}\n"), Catch::Contains("nested too deeply"));
    // "billion laughs": ten aliases of ten aliases... of a list
    std::string bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (char level = '1'; level <= '9'; ++level) {
        std::string alias = {'*', 'l', static_cast<char>(level - 1)};
        bomb += std::string{'l', level} + ": &l" + level + " [" + alias;
        for (int j = 1; j < 10; ++j) bomb += ", " + alias;
        bomb += "]\n";
    }
    CHECK_THAT(error_of(bomb), Catch::Contains("document contains excessive aliasing"));
}

TEST_CASE("a << key merges a mapping in, the mapping's own keys winning", "[lib][yaml]") {
    json doc = read("x-base: &base\n"
                    "  image: nginx\n"
                    "  restart: always\n"
                    "web:\n"
                    "  <<: *base\n"
                    "  restart: \"no\"\n");
    CHECK(doc["web"] == json{{"image", "nginx"}, {"restart", "no"}});
    CHECK(doc["x-base"] == json{{"image", "nginx"}, {"restart", "always"}});  // the anchored mapping is untouched
}

TEST_CASE("a << key with a sequence merges each mapping, earlier ones winning over later", "[lib][yaml]") {
    json doc = read("first: &first {x: 1, y: 1, z: 1}\n"
                    "second: &second {y: 2, z: 2, w: 2}\n"
                    "merged:\n"
                    "  <<: [*first, *second, {v: 3, w: 3}]\n"
                    "  z: own\n");
    CHECK(doc["merged"] == json{{"x", 1}, {"y", 1}, {"z", "own"}, {"w", 2}, {"v", 3}});
}

TEST_CASE("a merged mapping's own << keys are merged first", "[lib][yaml]") {
    json doc = read("root: &root {level: root, deep: true, env: {A: 1}}\n"
                    "middle: &middle\n"
                    "  <<: *root\n"
                    "  level: middle\n"
                    "  env: {<<: {A: 0, B: 2}, A: 9}\n"
                    "leaf:\n"
                    "  <<: *middle\n"
                    "  name: leaf\n");
    CHECK(doc["leaf"] == json{{"level", "middle"}, {"deep", true}, {"env", {{"A", 9}, {"B", 2}}}, {"name", "leaf"}});
}

TEST_CASE("only a plain << merges, and only mappings", "[lib][yaml]") {
    CHECK(read("a: {\"<<\": {x: 1}}\n") == json::parse(R"({"a": {"<<": {"x": 1}}})"));
    CHECK(error_of("a:\n  <<: 5\n") == "compose.yaml: line 2: map merge requires map or sequence of maps as the value");
    CHECK(error_of("a:\n  <<: [{x: 1}, 5]\n") ==
          "compose.yaml: line 2: map merge requires map or sequence of maps as the value");
    CHECK(error_of("a:\n  <<: {x: 1}\n  <<: {y: 1}\n") ==
          R"(compose.yaml: line 3: mapping key "<<" already defined at line 2)");
}

TEST_CASE("text that is not YAML is an error with its line", "[lib][yaml]") {
    std::string why = error_of("services:\n  web:\n    ports: [80\n  db: {}\n");
    CHECK_THAT(why, Catch::StartsWith("compose.yaml: yaml: line 4: "));
    CHECK(error_of("a: 1\nb: 2\nc: d: e\n").rfind("compose.yaml: yaml: line 3: ", 0) == 0);
    CHECK(error_of("a: *missing\n").rfind("compose.yaml: yaml: line 1: ", 0) == 0);
    // a token no node starts with, after a document (yaml-cpp 0.7's LoadAll loops on it)
    CHECK(error_of("'a',\n") == "compose.yaml: yaml: line 1: unexpected ','");
    CHECK(error_of("services: {}\n---\n,\n") == "compose.yaml: yaml: line 3: unexpected ','");
}

TEST_CASE("an empty document is null", "[lib][yaml]") {
    CHECK(read("").is_null());
    CHECK(read("# only a comment\n\n# and another\n").is_null());
    CHECK(read("---\n").is_null());
    CHECK(read("---\na: 1\n...\n") == json{{"a", 1}});  // one document, with its markers
}

TEST_CASE("several documents in one file are an error", "[lib][yaml]") {
    CHECK(error_of("a: 1\n---\nb: 2\n") == "compose.yaml: multiple YAML documents are not supported");
    CHECK(error_of("---\na: 1\n---\n") == "compose.yaml: multiple YAML documents are not supported");
}

TEST_CASE("the lines map gives each value's line by its dotted path", "[lib][yaml]") {
    YamlLines lines{{"stale", 99}};
    json doc = read("x-common: &common\n"       // 1
                    "  restart: always\n"       // 2
                    "services:\n"               // 3
                    "  web:\n"                  // 4
                    "    image: nginx\n"        // 5
                    "    ports:\n"              // 6
                    "      - \"8080:80\"\n"     // 7
                    "      - 443\n"             // 8
                    "    environment:\n"        // 9
                    "  db:\n"                   // 10
                    "    <<: *common\n"         // 11
                    "    image: postgres\n",    // 12
                    &lines);
    CHECK(doc["services"]["db"]["restart"] == "always");
    YamlLines expected = {
        {"x-common", 1},  // an anchored value: its anchor's line
        {"x-common.restart", 2},
        {"services", 4},
        {"services.web", 5},
        {"services.web.image", 5},
        {"services.web.ports", 7},
        {"services.web.ports.0", 7},
        {"services.web.ports.1", 8},
        {"services.web.environment", 9},  // an empty value: its key's line
        {"services.db", 11},
        {"services.db.image", 12},
        {"services.db.restart", 2},  // merged: where the value was written
    };
    CHECK(describe(lines) == describe(expected));
}

TEST_CASE("json_to_yaml writes block YAML, quoting strings that would read back as something else", "[lib][yaml]") {
    json compose = {{"services", {{"web", {{"image", "nginx"}, {"ports", {"8080:80", 443}}}}}}};
    CHECK(json_to_yaml(compose) ==
          "services:\n"
          "  web:\n"
          "    image: nginx\n"
          "    ports:\n"
          "      - 8080:80\n"
          "      - 443\n");
    json scalars = {{"a", "8080"}, {"b", "yes"}, {"c", ""}, {"d", "a: b"}, {"e", "plain text"},
                    {"f", nullptr}, {"g", 1.0}, {"h", true}, {"i", json::array()}, {"j", json::object()}};
    CHECK(json_to_yaml(scalars) ==
          "a: \"8080\"\n"
          "b: \"yes\"\n"
          "c: \"\"\n"
          "d: \"a: b\"\n"
          "e: plain text\n"
          "f: null\n"
          "g: 1.0\n"
          "h: true\n"
          "i: []\n"
          "j: {}\n");
    CHECK(json_to_yaml(nullptr) == "null\n");
    CHECK(json_to_yaml("42") == "\"42\"\n");
}

TEST_CASE("json_to_yaml's text reads back as the same JSON", "[lib][yaml]") {
    json strings = json::array();
    for (const char* s :
         {"plain", "", " lead", "trail ", "8080", "80:80", "1:30", "a: b", "key:", "#x", "x #y", "a#b", "- item",
          "-x", "-", "?", "? q", ":", "*ref", "&a", "!tag", "|", ">", "'q'", "\"dq\"", "%p", "@at", "`b", "[1]",
          "{a}", ",c", "a,b", "yes", "No", "on", "OFF", "y", "true", "False", "null", "~", "NULL", "0x10", "0o7",
          "0777", "1_000", "1e3", ".5", "-1", "+1", ".inf", "-.Inf", ".nan", "<<", "---", "...", "--- x",
          "2024-01-02", "line1\nline2\n", "\n", "tab\there", "ctrl\x01\x7f", "back\\slash", "quote\"s",
          "unicode é ✓", "trailing newline\n"}) {
        strings.push_back(s);
    }
    json value = {
        {"strings", strings},
        {"numbers",
         {0, -1, 42, std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(),
          std::numeric_limits<std::uint64_t>::max(), 0.5, -2.25, 1.0, -0.0, 1e21, 1e-7, 0.1, 123456.789}},
        {"bools", {true, false}},
        {"nothing", nullptr},
        {"empty list", json::array()},
        {"empty map", json::object()},
        {"nested", {{{"a", {1, {2, 3}, json::object(), json::array()}}}, {json::array()}, {{"b", nullptr}}}},
        {"keys", {{"8080", 1}, {"", 2}, {"true", 3}, {"a: b", 4}, {"null", 5}, {"with space", 6}, {"-", 7},
                  {"<<", 8}, {"x.y", 9}}},
    };
    std::string text = json_to_yaml(value);
    INFO(text);
    json back = yaml_to_json(text, "round trip");
    CHECK(back == value);
    CHECK(back.dump() == value.dump());  // floats stay floats, integers integers
    CHECK(json_to_yaml(back) == text);
    for (const json& scalar : strings) {  // each also as the whole document
        INFO(scalar.dump());
        CHECK(yaml_to_json(json_to_yaml(scalar), "scalar") == scalar);
    }
}
