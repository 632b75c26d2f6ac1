// Unit tests of the command registry: box builds only the command it runs.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>
#include <vector>

#include "box/cli.hpp"

namespace cli = box::cli;

namespace {
struct Counts {
    int declared_a = 0, declared_b = 0, extended_a = 0, ran_a = 0;
    std::string flag;
};

Counts& counts() {
    static Counts c;
    return c;
}

void register_two() {
    cli::reset_registry();
    counts() = {};
    cli::define("alpha", "first", [](CLI::App&) -> cli::Action {
        ++counts().declared_a;
        return [] {
            ++counts().ran_a;
            return 7;
        };
    });
    cli::extend("alpha", [](CLI::App& c) {
        ++counts().extended_a;
        c.add_option("--flag", counts().flag);
    });
    cli::define("beta", "second", [](CLI::App&) -> cli::Action {
        ++counts().declared_b;
        return [] { return 0; };
    });
    cli::define("gamma", "like alpha", [](CLI::App& c) { return cli::declare_like("alpha", c); });
}

int run_main(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return cli::main(static_cast<int>(argv.size()), argv.data(), 1);
}
}  // namespace

TEST_CASE("only the command named on the command line is declared", "[lib][cli]") {
    register_two();
    CHECK(run_main({"box", "--log-level", "warn", "alpha", "--flag", "on"}) == 7);
    CHECK(counts().declared_a == 1);
    CHECK(counts().extended_a == 1);  // a later stage's options come with it
    CHECK(counts().declared_b == 0);
    CHECK(counts().ran_a == 1);
    CHECK(counts().flag == "on");
}

TEST_CASE("another command can take a command's options; help declares them all", "[lib][cli]") {
    register_two();
    CHECK(run_main({"box", "gamma", "--flag", "x"}) == 7);
    CHECK(counts().declared_a == 1);
    CHECK(counts().flag == "x");
    counts() = {};
    CHECK(run_main({"box", "--help"}) == 0);
    CHECK(counts().declared_a == 2);  // alpha, and gamma's copy of it
    CHECK(counts().declared_b == 1);
    CHECK(counts().ran_a == 0);
    cli::reset_registry();
}

TEST_CASE("a short option written -x=value gets value, as docker's flag parser reads it", "[lib][cli]") {
    cli::reset_registry();
    static std::string author, message, cmd_word;
    static std::vector<std::string> rest;
    cli::define("commit", "c", [](CLI::App& c) -> cli::Action {
        c.add_option("-a", author);
        c.add_option("-m", message);
        c.add_option("REST", rest);
        return [] { return 0; };
    });
    cli::define("run", "r", [](CLI::App& c) -> cli::Action {
        c.add_option("-e", message);
        c.prefix_command();
        return [&c] {
            rest = c.remaining();
            return 0;
        };
    });
    CHECK(run_main({"box", "commit", "-m=has update", "-a=runoob", "x"}) == 0);
    CHECK(author == "runoob");
    CHECK(message == "has update");
    CHECK(run_main({"box", "commit", "-a", "=x"}) == 0);  // a separate value is kept as it is
    CHECK(author == "=x");
    rest.clear();
    // The container's command keeps its words as typed.
    CHECK(run_main({"box", "run", "-e=A", "sh", "-c=1"}) == 0);
    CHECK(message == "A");
    CHECK(rest == std::vector<std::string>{"sh", "-c=1"});
    cli::reset_registry();
}
