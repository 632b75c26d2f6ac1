// Unit tests of the one instruction parser of import -c, commit -c (and,
// later, the Dockerfile): docker's rules for each instruction.
#include <catch2/catch.hpp>

#include "box/error.hpp"
#include "box/instruction.hpp"

using box::apply_changes;
using json = nlohmann::json;

namespace {
json applied(std::vector<std::string> changes, json config = json::object()) {
    apply_changes(config, changes);
    return config;
}
}  // namespace

TEST_CASE("CMD and ENTRYPOINT take the exec form, else the shell form", "[lib][instruction]") {
    CHECK(applied({"CMD [\"echo\", \"a b\"]"})["Cmd"] == json({"echo", "a b"}));
    CHECK(applied({"cmd echo $HOME"})["Cmd"] == json({"/bin/sh", "-c", "echo $HOME"}));
    // Not a JSON array of strings: the shell form, as a Dockerfile treats it.
    CHECK(applied({"CMD [\"unclosed\""})["Cmd"] == json({"/bin/sh", "-c", "[\"unclosed\""}));
    // A JSON array of other than strings is refused, as docker's parser does.
    CHECK_THROWS_AS(applied({"CMD [1, 2]"}), box::Error);
    // ENTRYPOINT clears an inherited Cmd, unless a CMD of the same changes came first.
    json base = {{"Cmd", {"sh"}}};
    CHECK(applied({"ENTRYPOINT [\"top\"]"}, base)["Cmd"].is_null());
    CHECK(applied({"CMD [\"-b\"]", "ENTRYPOINT [\"top\"]"}, base)["Cmd"] == json({"-b"}));
}

TEST_CASE("ENV and LABEL replace a key or add it; quotes and escapes as in a Dockerfile", "[lib][instruction]") {
    json base = {{"Env", {"PATH=/bin", "A=old"}}};
    json c = applied({"ENV A=new B=\"two words\" C='x y' D=a\\ b", "ENV E the rest of it"}, base);
    CHECK(c["Env"] == json({"PATH=/bin", "A=new", "B=two words", "C=x y", "D=a b", "E=the rest of it"}));
    CHECK(applied({"LABEL a=1 \"b c\"=2", "LABEL a=3"})["Labels"] == json({{"a", "3"}, {"b c", "2"}}));
    CHECK_THROWS_AS(applied({"ENV lonely"}), box::Error);
    CHECK_THROWS_AS(applied({"ENV A=\"open"}), box::Error);
    CHECK_THROWS_AS(applied({"LABEL novalue"}), box::Error);
}

TEST_CASE("values expand $VAR with the config's Env as it is at each instruction", "[lib][instruction]") {
    json base = {{"Env", {"HOME=/root"}}};
    json c = applied({"ENV A=$HOME/a B=${UNSET:-dflt}", "ENV C=${A}/c", "WORKDIR ${A}", "LABEL home=\"$HOME\" raw='$HOME'",
                      "CMD echo $HOME"},
                     base);
    CHECK(c["Env"] == json({"HOME=/root", "A=/root/a", "B=dflt", "C=/root/a/c"}));
    CHECK(c["WorkingDir"] == "/root/a");
    CHECK(c["Labels"] == json({{"home", "/root"}, {"raw", "$HOME"}}));
    CHECK(c["Cmd"] == json({"/bin/sh", "-c", "echo $HOME"}));  // CMD is the shell's to expand, at run time
    // A change of two lines is two instructions, as docker joins its changes.
    CHECK(applied({"USER 1\nWORKDIR /w"}) == json({{"User", "1"}, {"WorkingDir", "/w"}}));
    CHECK_THROWS_AS(applied({"ENV X=${UNSET?must be set}"}), box::Error);
}

TEST_CASE("EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL and ONBUILD", "[lib][instruction]") {
    json c = applied({"EXPOSE 80 53/UDP 8000-8002/tcp", "VOLUME /a /b", "VOLUME [\"/c\"]", "WORKDIR /srv",
                      "WORKDIR app/../web", "USER 1000:1000", "STOPSIGNAL SIGINT", "ONBUILD RUN make"});
    CHECK(c["ExposedPorts"] == json({{"80/tcp", json::object()}, {"53/udp", json::object()},
                                     {"8000/tcp", json::object()}, {"8001/tcp", json::object()},
                                     {"8002/tcp", json::object()}}));
    CHECK(c["Volumes"] == json({{"/a", json::object()}, {"/b", json::object()}, {"/c", json::object()}}));
    CHECK(c["WorkingDir"] == "/srv/web");
    CHECK(c["User"] == "1000:1000");
    CHECK(c["StopSignal"] == "SIGINT");
    CHECK(c["OnBuild"] == json({"RUN make"}));
    for (const char* bad : {"EXPOSE 0", "EXPOSE 70000", "EXPOSE 80/icmp", "EXPOSE 90-80", "STOPSIGNAL SIGNOPE",
                            "ONBUILD ONBUILD RUN x", "ONBUILD FROM x", "VOLUME [\"\"]"})
        CHECK_THROWS_AS(applied({bad}), box::Error);
}

TEST_CASE("an instruction import and commit do not take is refused by name", "[lib][instruction][errors]") {
    for (const char* bad : {"COPY a b", "RUN make", "FROM busybox", "", "CMD"}) {
        INFO(bad);
        CHECK_THROWS_AS(applied({bad}), box::Error);
    }
    try {
        applied({"copy a /b"});
        FAIL("COPY was taken");
    } catch (const box::Error& e) {
        CHECK(std::string(e.what()).find("COPY is not a valid change command") != std::string::npos);
    }
}

TEST_CASE("A build applies one parsed metadata instruction with its ARGs and escape", "[lib][instruction]") {
    // What chapter 6's builder calls: the words expand with the variables it
    // passes (the config's Env and the build's ARGs), and `# escape=` counts.
    auto node = [](const std::string& text, char escape = '\\') {
        std::string file = escape == '\\' ? text : "# escape=`\n" + text;
        return box::dockerfile::parse(file).root.children.at(0);
    };
    json config = {{"Env", {"HOME=/root"}}};
    box::shell::Env env = box::env_of(config);
    CHECK(env.at("HOME") == "/root");
    env["VERSION"] = "1.2";  // an ARG: expands, but is not kept in Env
    box::apply_instruction(config, node("ENV APP=/opt/app-${VERSION}"), env, '\\', "Dockerfile:2");
    CHECK(config["Env"] == json({"HOME=/root", "APP=/opt/app-1.2"}));
    box::apply_instruction(config, node("WORKDIR $HOME/src"), box::env_of(config), '\\', "Dockerfile:3");
    CHECK(config["WorkingDir"] == "/root/src");
    box::apply_instruction(config, node("LABEL a=x`$HOME", '`'), box::env_of(config), '`', "Dockerfile:4");
    CHECK(config["Labels"]["a"] == "x$HOME");
    // RUN, COPY, CMD are not metadata: the builder does them itself.
    try {
        box::apply_instruction(config, node("RUN true"), env, '\\', "Dockerfile:5");
        FAIL("RUN was applied");
    } catch (const box::Error& e) {
        CHECK(e.tried() == "Dockerfile:5");
    }
}
