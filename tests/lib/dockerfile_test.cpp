// The Dockerfile parser and the shell lexer on what buildkit's data files do
// not cover: errors and where they are, heredocs, directives, stages, and the
// ${v#p} ${v%p} ${v/p/r} expansions.
#include <catch2/catch.hpp>

#include "box/dockerfile.hpp"
#include "box/error.hpp"
#include "box/shell_lexer.hpp"

using box::dockerfile::dump;
using box::dockerfile::Node;
using box::dockerfile::parse;
using Args = std::vector<std::string>;

namespace {

// The one error parsing `text` throws.
std::string parse_error(const std::string& text) {
    try {
        parse(text);
    } catch (const box::Error& e) {
        return e.what();
    }
    return "(parsed)";
}

Node only(const std::string& text) {
    auto df = parse(text);
    REQUIRE(df.root.children.size() == 1);
    return df.root.children[0];
}

}  // namespace

TEST_CASE("errors name the file, line and column and say what was expected", "[lib][dockerfile][errors]") {
    CHECK(parse_error("FROM a\n\n  FOO bar\n") == "Dockerfile:3:3: unknown instruction: FOO");
    CHECK(parse_error("FROM a\nENV PATH\n").rfind("Dockerfile:2:1: ENV must have two arguments", 0) == 0);
    CHECK(parse_error("FROM a\nCMD [\"a\", 1]\n") ==
          "Dockerfile:2:1: when using JSON array syntax, arrays must be comprised of strings only");
    CHECK(parse_error("FROM a\nCOPY onlyone\n").rfind("Dockerfile:2:1: COPY requires at least two arguments", 0) == 0);
    CHECK(parse_error("FROM a b\n").rfind("Dockerfile:1:1: FROM requires either one argument", 0) == 0);
    CHECK(parse_error("FROM a\nSHELL sh -c\n").rfind("Dockerfile:2:1: SHELL requires the arguments to be in JSON form", 0) == 0);
    CHECK(parse_error("FROM a\nONBUILD ONBUILD RUN x\n") ==
          "Dockerfile:2:1: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    CHECK(parse_error("ONBUILD FROM x\n") == "Dockerfile:1:1: FROM isn't allowed as an ONBUILD trigger");
    CHECK(parse_error("FROM a\nRUN <<EOF\nno end\n").rfind("Dockerfile:2:1: unterminated heredoc", 0) == 0);
    CHECK(parse_error("# only a comment\n\n").rfind("Dockerfile:2:1: file with no instructions", 0) == 0);
    CHECK(parse_error("# escape=x\nFROM a\n").rfind("Dockerfile:1:1: invalid escape token 'x'", 0) == 0);
    CHECK(parse_error("# escape=`\n# escape=\\\nFROM a\n") ==
          "Dockerfile:2:1: only one escape parser directive can be used");
    try {
        parse("FROM a\nBAD\n", "ctx/app.Dockerfile");
        FAIL("BAD was taken");
    } catch (const box::Error& e) {
        CHECK(e.tried() == "ctx/app.Dockerfile:2:1");
        CHECK(e.reason() == "unknown instruction: BAD");
    }
}

TEST_CASE("directives count only at the top; escape changes continuation and words", "[lib][dockerfile]") {
    auto df = parse("\xEF\xBB\xBF# Syntax = docker/dockerfile:1\n#ESCAPE=`\nFROM a\nRUN dir C:\\ `\n  /w\n");
    CHECK(df.syntax == "docker/dockerfile:1");
    CHECK(df.escape == '`');
    CHECK(dump(df.root) == "(from \"a\")\n(run \"dir C:\\\\   /w\")");
    // After any other line a directive is a comment.
    auto late = parse("FROM a\n# escape=`\nRUN x \\\n y\n");
    CHECK(late.escape == '\\');
    CHECK(late.root.children[1].args == Args{"x  y"});
    // An unknown directive ends the directives, too.
    CHECK(parse("# foo=bar\n# escape=`\nFROM a\n").escape == '\\');
}

TEST_CASE("continuations skip comment and blank lines; CRLF and an escaped escape end a line", "[lib][dockerfile]") {
    auto df = parse("FROM a\r\nRUN one \\\r\n# note\r\n\r\n  two\r\nENV P=C:\\\\\r\nLABEL x=1\r\n");
    REQUIRE(df.root.children.size() == 4);
    CHECK(df.root.children[1].args == Args{"one   two"});
    CHECK(df.root.children[1].start_line == 2);
    CHECK(df.root.children[1].end_line == 5);
    CHECK(df.root.children[2].args == Args{"P", "C:\\\\", "="});
    CHECK(df.root.children[3].keyword == "label");
}

TEST_CASE("flags: leading --name[=value] words, quotes removed, -- ends them", "[lib][dockerfile]") {
    auto df = parse(
        "FROM --platform=linux/amd64 golang:1.22 AS build\n"
        "COPY --from=build --chown=1000:1000 --chmod=755 --link /out/app /app\n"
        "RUN --mount=type=cache,target=/root/.cache --network=none go build\n"
        "ADD --checksum=\"sha256:ab cd\" -- --weird-name /dst\n"
        "HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD [\"curl\", \"-f\", \"http://localhost/\"]\n");
    auto& c = df.root.children;
    CHECK(c[0].flags == Args{"--platform=linux/amd64"});
    CHECK(c[0].args == Args{"golang:1.22", "AS", "build"});
    CHECK(c[1].flags == Args{"--from=build", "--chown=1000:1000", "--chmod=755", "--link"});
    CHECK(c[1].args == Args{"/out/app", "/app"});
    CHECK(c[2].flags == Args{"--mount=type=cache,target=/root/.cache", "--network=none"});
    CHECK(c[2].args == Args{"go build"});
    CHECK(c[3].flags == Args{"--checksum=sha256:ab cd"});
    CHECK(c[3].args == Args{"--weird-name", "/dst"});
    CHECK(c[4].flags == Args{"--interval=30s", "--timeout=3s", "--retries=3"});
    CHECK(c[4].args == Args{"CMD", "curl", "-f", "http://localhost/"});
    CHECK(c[4].json);
    CHECK(dump(c[1]) == "copy [\"--from=build\" \"--chown=1000:1000\" \"--chmod=755\" \"--link\"] \"/out/app\" \"/app\"");
}

TEST_CASE("a multi-stage Dockerfile: stages, MAINTAINER, SHELL, STOPSIGNAL, ONBUILD", "[lib][dockerfile]") {
    auto df = parse(
        "from busybox as Base\n"
        "Maintainer Jane <jane@example.com>\n"
        "SHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]\n"
        "STOPSIGNAL SIGTERM\n"
        "ONBUILD COPY --chown=1 . /src\n"
        "\n"
        "FROM base AS final\n"
        "COPY --from=Base /etc/passwd /etc/\n"
        "ENTRYPOINT /bin/sh\n");
    auto& c = df.root.children;
    REQUIRE(c.size() == 8);
    CHECK(c[0].keyword == "from");
    CHECK(c[0].args == Args{"busybox", "as", "Base"});
    CHECK(c[1].args == Args{"Jane <jane@example.com>"});
    CHECK(c[2].json);
    CHECK(c[2].args == Args{"/bin/ash", "-eo", "pipefail", "-c"});
    CHECK(c[3].args == Args{"SIGTERM"});
    REQUIRE(c[4].children.size() == 1);
    CHECK(c[4].children[0].keyword == "copy");
    CHECK(c[4].children[0].flags == Args{"--chown=1"});
    CHECK(c[4].children[0].original == "COPY --chown=1 . /src");
    CHECK(dump(c[4]) == "onbuild (copy [\"--chown=1\"] \".\" \"/src\")");
    CHECK(c[5].args == Args{"base", "AS", "final"});
    CHECK(c[5].start_line == 7);
    CHECK(c[6].keyword == "copy");
    CHECK(c[6].flags == Args{"--from=Base"});
    CHECK(c[6].args == Args{"/etc/passwd", "/etc/"});
    CHECK(c[7].args == Args{"/bin/sh"});
    CHECK_FALSE(c[7].json);
}

TEST_CASE("heredocs: content up to the terminator, <<- strips tabs, a quoted name expands nothing", "[lib][dockerfile]") {
    auto df = parse(
        "FROM a\n"
        "RUN <<EOF\n"
        "echo $HOME\n"
        "EOF\n"
        "COPY <<-\"END\" 3<<'two' /etc/\n"
        "\tindented\n"
        "\tEND\n"
        "second $X\n"
        "two\n"
        "RUN [\"<<EOF\"]\n"
        "ONBUILD RUN <<X\n"
        "x\n"
        "X\n");
    auto& c = df.root.children;
    REQUIRE(c.size() == 5);
    REQUIRE(c[1].heredocs.size() == 1);
    CHECK(c[1].args == Args{"<<EOF"});
    CHECK(c[1].heredocs[0].name == "EOF");
    CHECK(c[1].heredocs[0].content == "echo $HOME\n");
    CHECK(c[1].heredocs[0].expand);
    CHECK(c[1].end_line == 4);
    CHECK(c[2].args == Args{"<<-\"END\"", "3<<'two'", "/etc/"});
    REQUIRE(c[2].heredocs.size() == 2);
    CHECK(c[2].heredocs[0].name == "END");
    CHECK(c[2].heredocs[0].chomp);
    CHECK(c[2].heredocs[0].content == "indented\n");
    CHECK_FALSE(c[2].heredocs[0].expand);
    CHECK(c[2].heredocs[1].name == "two");
    CHECK(c[2].heredocs[1].fd == 3);
    CHECK(c[2].heredocs[1].content == "second $X\n");
    CHECK(c[2].start_line == 5);
    CHECK(c[2].end_line == 9);
    CHECK(c[3].heredocs.empty());  // the exec form has none
    REQUIRE(c[4].heredocs.size() == 1);
    CHECK(c[4].heredocs[0].content == "x\n");
}

TEST_CASE("ENV and LABEL keep values raw; ARG keeps its words", "[lib][dockerfile]") {
    Node env = only("ENV A=\"x y\" B=a\\ b C='$q'\n");
    CHECK(env.args == Args{"A", "\"x y\"", "=", "B", "a\\ b", "=", "C", "'$q'", "="});
    CHECK(only("LABEL key a value\n").args == Args{"key", "a value", ""});
    CHECK(only("ARG V=1 W\n").args == Args{"V=1", "W"});
    CHECK(parse_error("ENV A=1 B\n").find("can't find = in \"B\"") != std::string::npos);
}

TEST_CASE("process_word: prefix, suffix and pattern substitutions", "[lib][shell]") {
    box::shell::Env env = {{"F", "/usr/lib/libz.so.1.2"}, {"E", ""}};
    auto word = [&](const std::string& w) { return box::shell::process_word(w, env); };
    CHECK(word("${F#*/}") == "usr/lib/libz.so.1.2");
    CHECK(word("${F##*/}") == "libz.so.1.2");
    CHECK(word("${F%.*}") == "/usr/lib/libz.so.1");
    CHECK(word("${F%%.*}") == "/usr/lib/libz");
    CHECK(word("${F#/usr}") == "/lib/libz.so.1.2");
    CHECK(word("${F#nomatch}") == "/usr/lib/libz.so.1.2");
    CHECK(word("${F/lib/LIB}") == "/usr/LIB/libz.so.1.2");
    CHECK(word("${F//lib/LIB}") == "/usr/LIB/LIBz.so.1.2");
    CHECK(word("${F//./_}") == "/usr/lib/libz_so_1_2");
    CHECK(word("${F/\\//:}") == ":usr/lib/libz.so.1.2");
    CHECK(word("${E:-empty} ${E-set} ${E:+alt} ${E+alt}") == "empty   alt");
    CHECK_THROWS_AS(word("${F/x}"), box::Error);
    CHECK_THROWS_AS(word("${E:?must not be empty}"), box::Error);
    try {
        word("${UNSET?give UNSET}");
        FAIL("an unset variable passed ?");
    } catch (const box::Error& e) {
        CHECK(e.reason() == "UNSET: give UNSET");
    }
}

TEST_CASE("the lexer: escape character, raw quotes and escapes, unset variables kept", "[lib][shell]") {
    box::shell::Env env = {{"A", "a b"}};
    CHECK(box::shell::process_word("C:\\dir `$A", env, {.escape = '`'}) == "C:\\dir $A");
    CHECK(box::shell::process_words("x $A \"$A\" '$A' y\\ z", env) == Args{"x", "a", "b", "a b", "$A", "y z"});
    CHECK(box::shell::process_word("'q' \"d\" \\n", env, {.raw_quotes = true, .raw_escapes = true}) == "'q' \"d\" \\n");
    CHECK(box::shell::process_word("$NOPE ${NOPE:-x} $A", env, {.skip_unset = true}) == "$NOPE ${NOPE:-x} a b");
}

TEST_CASE("a prefix or suffix trim of an unset variable is empty (found by make fuzz)", "[lib][lexer]") {
    const box::shell::Env env = {{"SET", "value.txt"}};
    CHECK(box::shell::process_word("[${UNSET#v}]", env) == "[]");
    CHECK(box::shell::process_word("[${UNSET##*.}]", env) == "[]");
    CHECK(box::shell::process_word("[${UNSET%.txt}]", env) == "[]");
    CHECK(box::shell::process_word("[${UNSET%%t*}]", env) == "[]");
    CHECK(box::shell::process_word("${SET%.txt}", env) == "value");
}
