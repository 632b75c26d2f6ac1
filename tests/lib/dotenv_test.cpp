// Unit tests of lib/: .env files read as docker compose reads them, and
// compose-go's own dotenv fixtures, read from ../shared/conformance/compose-go
// (never copied here; see its SOURCE.txt). Without that folder the fixture
// suite warns that it is skipped, and why, and passes.
#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "box/dotenv.hpp"
#include "box/error.hpp"
#include "box/util.hpp"
#include "harness.hpp"

using namespace box;
namespace fs = std::filesystem;

namespace {

using Map = std::map<std::string, std::string>;

EnvLookup lookup_in(Map env) {
    return [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
}

Map parse(const std::string& text, const Map& env = {}) {
    auto vars = parse_dotenv(text, "test.env", lookup_in(env));
    return Map(vars.begin(), vars.end());
}

// The one value a one-statement text sets to `key`, or "(unset)".
std::string value(const std::string& text, const std::string& key = "FOO", const Map& env = {}) {
    Map vars = parse(text, env);
    auto it = vars.find(key);
    return it == vars.end() ? "(unset)" : it->second;
}

// The reason parse_dotenv() gives for refusing `text`, or "(parsed)".
std::string error_of(const std::string& text, const Map& env = {}) {
    try {
        parse_dotenv(text, "test.env", lookup_in(env));
        return "(parsed)";
    } catch (const Error& e) {
        CHECK(e.tried() == "test.env");
        return e.reason();
    }
}

}  // namespace

TEST_CASE("KEY=VALUE lines give their variables in file order", "[lib][dotenv]") {
    auto vars = parse_dotenv("ONE=1\nTWO='2'\nTHREE = \"3\"", "test.env");
    CHECK(vars == DotenvVars{{"ONE", "1"}, {"TWO", "2"}, {"THREE", "3"}});
    CHECK(parse_dotenv("", "test.env").empty());
    CHECK(value("FOO=foobar=") == "foobar=");
    CHECK(value("FOO=") == "");
    CHECK(value("=\"value\"", "") == "value");  // compose-go accepts an empty name
}

TEST_CASE("blanks around the name and the = are dropped", "[lib][dotenv]") {
    CHECK(value("FOO =bar") == "bar");
    CHECK(value("FOO= bar") == "bar");
    CHECK(value("FOO = bar") == "bar");
    CHECK(value(" FOO =value") == "value");
    CHECK(value("\tFOO=value") == "value");
    CHECK(parse("OPTION_F = \nOPTION_G=\nNEXT=1") == Map{{"OPTION_F", ""}, {"OPTION_G", ""}, {"NEXT", "1"}});
}

TEST_CASE("export before a name is dropped only as a word of its own", "[lib][dotenv]") {
    CHECK(value("export OPTION_A=2", "OPTION_A") == "2");
    CHECK(value("export\tOPTION_A=2", "OPTION_A") == "2");
    CHECK(value("  export OPTION_A=2", "OPTION_A") == "2");
    CHECK(value("export OPTION_A=\"export A\"", "OPTION_A") == "export A");
    CHECK(value("export exportFoo=2", "exportFoo") == "2");
    CHECK(value("exportFOO=2", "exportFOO") == "2");
    CHECK(value("export_FOO =2", "export_FOO") == "2");
    CHECK(value("export.FOO= 2", "export.FOO") == "2");
}

TEST_CASE("a yaml-style KEY: VALUE line sets KEY, and the first = or : ends the name", "[lib][dotenv]") {
    CHECK(value("OPTION_A: 1", "OPTION_A") == "1");
    CHECK(value("OPTION_A: Foo=bar", "OPTION_A") == "Foo=bar");
    CHECK(value("OPTION_A=1:B", "OPTION_A") == "1:B");
    CHECK(parse("FOO:BAR\nZOT:QIX") == Map{{"FOO", "BAR"}, {"ZOT", "QIX"}});
}

TEST_CASE("names hold letters and digits of any script and _ . - [ ]", "[lib][dotenv]") {
    CHECK(parse("a=b\na[1]=c\na.propertyKey=d\nVAR-WITH-DASHES=e\n456 = ABC") ==
          Map{{"a", "b"}, {"a[1]", "c"}, {"a.propertyKey", "d"}, {"VAR-WITH-DASHES", "e"}, {"456", "ABC"}});
    CHECK(value("árvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép", "árvíztűrő-TÜKÖRFÚRÓGÉP") ==
          "ÁRVÍZTŰRŐ-tükörfúrógép");
}

TEST_CASE("unquoted values are trimmed and lose a comment that follows a blank", "[lib][dotenv]") {
    CHECK(value("FOO=bar ") == "bar");
    CHECK(value("FOO=bar # this is foo") == "bar");
    CHECK(value("FOO=bar #this is foo") == "bar");
    CHECK(value("FOO=bar #") == "bar");
    CHECK(value("FOO=123#not-an-inline-comment") == "123#not-an-inline-comment");
    CHECK(value("FOO=my string # Inline comment") == "my string");
    // Backslashes mean nothing outside quotes.
    CHECK(value("FOO=a\\tb") == "a\\tb");
    // The blanks after `=` go before the value is read, so no blank precedes this `#`.
    CHECK(value("FOO= #not a comment") == "#not a comment");
}

TEST_CASE("single-quoted values are literal but for an escaped quote", "[lib][dotenv]") {
    CHECK(value("FOO='bar'") == "bar");
    CHECK(value("FOO='quote $BAR'", "FOO", {{"BAR", "x"}}) == "quote $BAR");
    CHECK(value("FOO='\\n'") == "\\n");
    CHECK(value("FOO='a\\\\b'") == "a\\\\b");
    CHECK(value("FOO='Let\\'s go!'") == "Let's go!");
    CHECK(value("FOO='ba#r' # comment") == "ba#r");
    CHECK(value("FOO=''") == "");
}

TEST_CASE("double-quoted values turn shell escapes into their characters", "[lib][dotenv]") {
    CHECK(value("FOO=\"bar\"") == "bar");
    CHECK(value("FOO=\"escaped\\\"bar\"") == "escaped\"bar");
    CHECK(value("FOO=\"\\\"quoted\\\"\"") == "\"quoted\"");
    CHECK(value("FOO=\"'d'\"") == "'d'");
    CHECK(value("KEY=\"Z\\aZ\\bZ\\fZ\\nZ\\rZ\\tZ\\vZ\\\\Z\\0123Z\"", "KEY") == "Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\ZSZ");
    CHECK(value("FOO=\"bar\\n\\ b\\az\"") == "bar\n\\ b\az");
    CHECK(value("FOO=\"bar\\\\\\n\\ b\\az\"") == "bar\\\n\\ b\az");
    CHECK(value("FOO=\"bar\\\\r\\ b\\az\"") == "bar\\r\\ b\az");
    CHECK(value("FOO=\"bar\\nbaz\\\\\"") == "bar\nbaz\\");
    // Octal needs three digits after \0, at most 0377, and is a code point.
    CHECK(value("FOO=\"\\0377\"") == "\u00ff");
    CHECK(value("FOO=\"\\012\"") == "\\012");
    CHECK(value("FOO=\"\\0400\"") == "\\0400");
    // Go's other escapes are not shell escapes: kept as written.
    CHECK(value("KEY=\"\\x07\"", "KEY") == "\\x07");
    CHECK(value("KEY=\"\\u12e4\"", "KEY") == "\\u12e4");
    CHECK(value("KEY=\"\\U00101234\"", "KEY") == "\\U00101234");
    CHECK(value("FOO=\"\\c\"") == "\\c");
}

TEST_CASE("a # in a quoted value is kept and one after it starts a comment", "[lib][dotenv]") {
    CHECK(value("FOO=\"ba#r\"") == "ba#r");
    CHECK(value("FOO=\"bar#baz\"#") == "bar#baz");
    CHECK(value("FOO=\"bar#baz\" # comment") == "bar#baz");
    CHECK(value("FOO=\"bar#baz#bang\" # comment") == "bar#baz#bang");
}

TEST_CASE("quoted values may span lines", "[lib][dotenv]") {
    CHECK(value("TEST_URLS=\"stratum+tcp://a:3333\nstratum+tcp://a:443\"", "TEST_URLS") ==
          "stratum+tcp://a:3333\nstratum+tcp://a:443");
    CHECK(parse("A='first line\nsecond line'\nB=2") == Map{{"A", "first line\nsecond line"}, {"B", "2"}});
    // What follows a closing quote on its line is a statement of its own.
    CHECK(parse("A=\"1\" B=2") == Map{{"A", "1"}, {"B", "2"}});
}

TEST_CASE("$VAR and ${VAR} expand from the lookup first, then from earlier lines", "[lib][dotenv]") {
    CHECK(value("FOO=test\nBAR=$FOO", "BAR") == "test");
    CHECK(value("FOO=test\nBAR=${FOO}bar", "BAR") == "testbar");
    CHECK(value("BAR=$FOO", "BAR") == "");
    CHECK(value("FOO=test\nBAR=\"quote $FOO\"", "BAR") == "quote test");
    CHECK(value("TEST=$ME", "TEST", {{"ME", "YES"}}) == "YES");
    CHECK(parse("A=1\nB=${A}\nC=$B", {{"A", "5"}}) == Map{{"A", "1"}, {"B", "5"}, {"C", "5"}});
    CHECK(value("FOO=x${A}y$A_z", "FOO", {{"A", "1"}, {"A_z", "2"}}) == "x1y2");
    // A `$` that starts no reference is literal.
    CHECK(value("FOO=$ $1 a$") == "$ $1 a$");
}

TEST_CASE("${VAR:-x} and its family substitute as compose does", "[lib][dotenv]") {
    const Map env = {{"EMPTY_VAR", ""}, {"TEST_VAR", "Test Value"}};
    auto expanded = [&](const std::string& reference) { return value("RESULT=" + reference, "RESULT", env); };
    CHECK(expanded("${UNSET_VAR:-Default Value}") == "Default Value");
    CHECK(expanded("${EMPTY_VAR:-Default Value}") == "Default Value");
    CHECK(expanded("${TEST_VAR:-Default Value}") == "Test Value");
    CHECK(expanded("${UNSET_VAR-Default Value}") == "Default Value");
    CHECK(expanded("${EMPTY_VAR-Default Value}") == "");
    CHECK(expanded("${TEST_VAR-Default Value}") == "Test Value");
    CHECK(expanded("${UNSET_VAR:+alt}") == "");
    CHECK(expanded("${EMPTY_VAR:+alt}") == "");
    CHECK(expanded("${TEST_VAR:+alt}") == "alt");
    CHECK(expanded("${UNSET_VAR+alt}") == "");
    CHECK(expanded("${EMPTY_VAR+alt}") == "alt");
    CHECK(expanded("${EMPTY_VAR?Test error}") == "");
    CHECK(expanded("${TEST_VAR:?Default Value}") == "Test Value");
    // Defaults nest, and what follows a reference is expanded on its own.
    CHECK(expanded("${UNSET_VAR:-${TEST_VAR}}") == "Test Value");
    CHECK(expanded("${UNSET_VAR:-${ALSO_UNSET:-deep}}!") == "deep!");
    CHECK(expanded("${UNSET_VAR:-a} and ${TEST_VAR} ${EMPTY_VAR:-b}") == "a and Test Value b");
    CHECK(expanded("${UNSET_VAR:-{x}}") == "{x}");
    CHECK(value("OPTION_A=${OPTION_A:-1}\nB=${OPTION_A}", "B") == "1");
}

TEST_CASE("a missing required variable is an error naming it", "[lib][dotenv]") {
    CHECK(error_of("RESULT=${UNSET_VAR:?Test error}") ==
          "line 1: required variable UNSET_VAR is missing a value: Test error");
    CHECK(error_of("A=1\nRESULT=${EMPTY_VAR:?}", {{"EMPTY_VAR", ""}}) ==
          "line 2: required variable EMPTY_VAR is missing a value");
    CHECK(error_of("RESULT=\"${UNSET_VAR?need $WHY}\"", {{"WHY", "it"}}) ==
          "line 1: required variable UNSET_VAR is missing a value: need it");
}

TEST_CASE("an escaped $ stays literal", "[lib][dotenv]") {
    CHECK(value("FOO=\"foo\\$BAR\"") == "foo$BAR");
    CHECK(value("FOO=\"foo\\${BAR}\"") == "foo${BAR}");
    CHECK(value("FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"", "BAR") == "foo${FOO} test");
    CHECK(value("FOO=$$BAR") == "$BAR");
    CHECK(value("FOO=\"$${BAR}\"") == "${BAR}");
    // Outside double quotes a backslash is no escape: compose expands after it.
    CHECK(value("FOO=\\$BAR", "FOO", {{"BAR", "x"}}) == "\\x");
}

TEST_CASE("a line with only a name takes its value from the lookup, or is left out", "[lib][dotenv]") {
    const Map env = {{"VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"}};
    auto vars = parse_dotenv("foo=bar\nVAR_TO_BE_LOADED_FROM_OS_ENV\nbar=baz\n", "test.env", lookup_in(env));
    CHECK(vars == DotenvVars{{"foo", "bar"}, {"VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"}, {"bar", "baz"}});
    CHECK(parse("VARIABLE_NOT_FOUND\n").empty());
    CHECK(parse_dotenv("VARIABLE_NOT_FOUND \r\n", "test.env").empty());  // no lookup at all

    std::set<std::string> asked;
    auto counting = [&](const std::string& name) -> std::optional<std::string> {
        asked.insert(name);
        return std::nullopt;
    };
    CHECK(parse_dotenv("VARIABLE_NOT_FOUND\n", "test.env", counting).empty());
    CHECK(asked == std::set<std::string>{"VARIABLE_NOT_FOUND"});
    // Only the lookup counts, not the lines before.
    CHECK(parse("A=1\nA\n") == Map{{"A", "1"}});
    CHECK(parse("A=1\nA\n", {{"A", "2"}}) == Map{{"A", "2"}});
    // compose-go's quirk: a last name with no line feed after it is the value
    // of an empty name.
    CHECK(parse("A=1\nB", {{"B", "2"}}) == Map{{"A", "1"}, {"", "B"}});
}

TEST_CASE("a byte order mark, CRLF line ends, comments and blank lines are skipped", "[lib][dotenv]") {
    std::string text = "\xef\xbb\xbfOPTION_A=1\r\n\r\n# a comment\r\n\t # indented comment\r\n"
                       "OPTION_B = 'two'\r\nOPTION_C=\"3\" # c\r\n\t\t ";
    auto vars = parse_dotenv(text, "test.env");
    CHECK(vars == DotenvVars{{"OPTION_A", "1"}, {"OPTION_B", "two"}, {"OPTION_C", "3"}});
    for (const char* blank : {"\n", "\r\n", "\t\t ", "# Comment", "\t # comment"}) {
        INFO(blank);
        CHECK(parse(blank).empty());
    }
    // A CRLF inside quotes is part of the value.
    CHECK(value("FOO=\"a\r\nb\"\r\n") == "a\r\nb");
}

TEST_CASE("a name set twice keeps its first place and takes the later value", "[lib][dotenv]") {
    auto vars = parse_dotenv("A=1\nB=2\nA=3\nC=$A", "test.env");
    CHECK(vars == DotenvVars{{"A", "3"}, {"B", "2"}, {"C", "3"}});
}

TEST_CASE("later env files add to earlier ones and expand with their values", "[lib][dotenv]") {
    const std::string base = "\nENV_HOSTNAME=localhost\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n";
    const std::string override_file = "\nENV_HOSTNAME=dev.my-company.com\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n";
    DotenvVars vars;
    parse_dotenv_into(vars, base, "base.env");
    parse_dotenv_into(vars, override_file, "override.env");
    CHECK(vars == DotenvVars{{"ENV_HOSTNAME", "dev.my-company.com"}, {"ENV_MY_URL", "http://dev.my-company.com"}});

    // The environment wins over the files' own values when expanding.
    vars.clear();
    auto os_env = lookup_in({{"ENV_HOSTNAME", "host.local"}});
    parse_dotenv_into(vars, base, "base.env", os_env);
    parse_dotenv_into(vars, override_file, "override.env", os_env);
    CHECK(vars == DotenvVars{{"ENV_HOSTNAME", "dev.my-company.com"}, {"ENV_MY_URL", "http://host.local"}});

    DotenvVars seeded = {{"FROM_SERVICE", "s"}};
    parse_dotenv_into(seeded, "A=$FROM_SERVICE", "env_file");
    CHECK(seeded == DotenvVars{{"FROM_SERVICE", "s"}, {"A", "s"}});
}

TEST_CASE("invalid input is an error naming the file and line", "[lib][dotenv]") {
    CHECK(error_of("lol$wut") == "line 1: unexpected character \"$\" in variable name \"lol$wut\"");
    CHECK(error_of("%!(EXTRA string)=foo") ==
          "line 1: unexpected character \"%\" in variable name \"%!(EXTRA string)=foo\"");
    CHECK(error_of("# some comments\nfoo=\"\n  a\n  value\n\"\nINVALID LINE\nzot=qix") ==
          "line 6: key cannot contain a space");
    CHECK(error_of("A=1\n\nFOO BAR=1\n") == "line 3: key cannot contain a space");
    CHECK(error_of("A=1\nB=${\n") == "line 2: Invalid template: \"${\"");
    CHECK(error_of("B=\"${A:-x\n}\"") == "line 1: Invalid template: \"${A:-x\\n}\"");
    for (const char* open : {"KEY=\"", "KEY=\"value", "KEY=\"value\\\"", "KEY=\"value'", "KEY='", "KEY='value",
                             "KEY='value\\'", "KEY='value\""}) {
        INFO(open);
        CHECK(error_of(open).find("unterminated quoted value") != std::string::npos);
    }
    // compose-go counts the lines up to the end of the file for an open quote.
    CHECK(error_of("A=1\nKEY=\"value\nB=2\nC=3\n") == "line 5: unterminated quoted value \"value");
}

// compose-go's fixtures, and what its godotenv_test.go expects of each. Its
// Read*() tests compare the whole map, after dropping names that start with a
// digit (Read does; the parser, and so compose, keeps them); its Load() tests
// check only the names they list.
TEST_CASE("compose-go's dotenv fixtures read as its tests expect", "[lib][dotenv][conformance]") {
    fs::path dir = fs::path(boxtest::kit_root()) / ".." / "shared" / "conformance" / "compose-go" / "dotenv" /
                   "fixtures";
    if (!fs::exists(dir)) {
        WARN("skipped: no " << dir.string() << " (compose-go's conformance data is not on this machine)");
        return;
    }
    struct Case {
        std::string file;
        Map env;           // the environment the Go test sets (the lookup)
        Map want;          // the values it expects
        bool whole_map;    // it checks that nothing else is set
        std::string error; // or the error it expects
    };
    const Map os_var = {{"VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"}};
    const std::vector<Case> cases = {
        // TestLoadWithFormat reads it with a custom "KEY:VALUE" format; the
        // .env format reads it the same (yaml-style lines).
        {"custom.format", {}, {{"FOO", "BAR"}, {"ZOT", "QIX"}}, true, ""},
        {"equals.env", {}, {{"OPTION_A", "postgres://localhost:5432/database?sslmode=disable"}}, false, ""},
        {"exported.env", {}, {{"OPTION_A", "2"}, {"OPTION_B", "\\n"}}, false, ""},
        {"inherited-multi-var.env", os_var,
         {{"VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"}, {"foo", "bar"}, {"bar", "baz"}}, true, ""},
        // The Go test checks that VARIABLE_NOT_FOUND is unset; it is the file's only line.
        {"inherited-not-found.env", {}, {}, true, ""},
        {"inherited-single-var.env", os_var, {{"VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"}}, true, ""},
        {"invalid1.env", {}, {}, false, "line 7: key cannot contain a space"},
        {"plain.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "2"}, {"OPTION_C", "3"}, {"OPTION_D", "4"}, {"OPTION_E", "5"},
          {"OPTION_F", ""}, {"OPTION_G", ""}, {"OPTION_H", "my string"}},
         true, ""},
        {"quoted.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "2"}, {"OPTION_C", ""}, {"OPTION_D", "\\n"}, {"OPTION_E", "1"},
          {"OPTION_F", "2"}, {"OPTION_G", ""}, {"OPTION_H", "\n"}, {"OPTION_I", "echo 'asd'"},
          {"OPTION_J", "first line\nsecond line\nthird line\nand so on"}, {"OPTION_K", "Let's go!"},
          {"OPTION_Z", "last value"}},
         false, ""},
        {"special.env", {},
         {{"VAR-WITH-DASHES", "dashes"}, {"VAR.WITH.DOTS", "dots"}, {"VAR_WITH_UNDERSCORES", "underscores"}},
         false, ""},
        {"substitutions-default.env", {{"OPTION_A", "5"}},
         {{"OPTION_A", "5"}, {"OPTION_B", "5"}, {"OPTION_C", "5"}, {"OPTION_D", "5_5"}, {"OPTION_E", ""}}, true, ""},
        {"substitutions-default.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "1"}, {"OPTION_C", "1"}, {"OPTION_D", "1_1"}, {"OPTION_E", ""}}, true, ""},
        {"substitutions.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "1"}, {"OPTION_C", "1"}, {"OPTION_D", "1_1"}, {"OPTION_E", ""}}, false, ""},
        {"substitutions.env", {{"OPTION_A", "5"}},
         {{"OPTION_A", "1"}, {"OPTION_B", "5"}, {"OPTION_C", "5"}, {"OPTION_D", "5_5"}, {"OPTION_E", ""}}, true, ""},
        {"unquoted.env", {},
         {{"OPTION_A", "some quoted phrase"}, {"OPTION_B", "first one with an unquoted phrase"},
          {"OPTION_C", "then another one with an unquoted phrase"},
          {"OPTION_D", "then another one with an unquoted phrase special è char"},
          {"OPTION_E", "then another one quoted phrase"}},
         false, ""},
        {"utf8-bom.env", {},
         {{"OPTION_A", "1"}, {"OPTION_B", "2"}, {"OPTION_C", "3"}, {"OPTION_D", "4"}, {"OPTION_E", "5"}},
         false, ""},
    };

    std::vector<std::string> failed;
    std::set<std::string> covered;
    for (const auto& c : cases) {
        covered.insert(c.file);
        std::string name = c.file + (c.env.empty() ? "" : " (with " + c.env.begin()->first + " set)");
        std::string path = (dir / c.file).string();
        try {
            auto vars = parse_dotenv(box::read_file(path), path, lookup_in(c.env));
            if (!c.error.empty()) {
                failed.push_back(name + ": parsed, want error \"" + c.error + "\"");
                continue;
            }
            Map got;
            for (const auto& [key, val] : vars)
                if (!c.whole_map || key.empty() || !isdigit(static_cast<unsigned char>(key[0]))) got[key] = val;
            for (const auto& [key, want] : c.want) {
                auto it = got.find(key);
                if (it == got.end()) failed.push_back(name + ": " + key + " unset, want \"" + want + "\"");
                else if (it->second != want)
                    failed.push_back(name + ": " + key + "=\"" + it->second + "\", want \"" + want + "\"");
            }
            if (c.whole_map)
                for (const auto& [key, val] : got)
                    if (!c.want.count(key)) failed.push_back(name + ": unexpected " + key + "=\"" + val + "\"");
        } catch (const Error& e) {
            if (c.error.empty() || e.reason().find(c.error) == std::string::npos || e.tried() != path)
                failed.push_back(name + ": threw " + e.tried() + ": " + e.reason());
        }
    }
    for (const auto& entry : fs::directory_iterator(dir))
        if (!covered.count(entry.path().filename().string()))
            WARN("no expectations for fixture " << entry.path().filename().string());

    std::string list;
    for (const auto& f : failed) list += "\n  " + f;
    INFO(cases.size() - failed.size() << "/" << cases.size() << " fixture cases passed; failed:" << list);
    CHECK(failed.empty());
    CHECK(covered.size() == 14);
    SUCCEED("compose-go dotenv fixtures: " << cases.size() << " cases over " << covered.size() << " files");
}
