// Stage 1, unit tests of the exercise functions that need no container.
#include <catch2/catch.hpp>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "box/error.hpp"
#include "harness.hpp"
#include "stage1.hpp"

using namespace box;
namespace fs = std::filesystem;

TEST_CASE("namespace_flags asks for the namespaces the spec wants", "[stage1][unit]") {
    ContainerSpec spec;
    const unsigned long always = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC;
    CHECK(stage1::namespace_flags(spec) == (always | CLONE_NEWNET));
    spec.network = NetworkMode::Host;
    CHECK(stage1::namespace_flags(spec) == always);
    spec.userns = true;
    CHECK(stage1::namespace_flags(spec) == (always | CLONE_NEWUSER));
}

TEST_CASE("find_executable searches PATH in order and reports 126/127 as docker does", "[stage1][unit]") {
    char tmpl[] = "/tmp/boxtest-path-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    std::string dir = tmpl;
    struct Cleanup {
        std::string d;
        ~Cleanup() { fs::remove_all(d); }
    } cleanup{dir};
    for (const char* d : {"/a", "/b", "/c"}) fs::create_directories(dir + d);
    std::string name = boxtest::random_name("prog");
    auto make = [&](const std::string& path, mode_t mode) {
        std::ofstream(path) << "#!/bin/sh\n";
        chmod(path.c_str(), mode);
    };
    make(dir + "/a/" + name, 0644);  // not executable: skipped
    make(dir + "/b/" + name, 0755);
    make(dir + "/c/" + name, 0755);
    std::string path = dir + "/a:" + dir + "/b:" + dir + "/c";
    CHECK(stage1::find_executable(name, path) == dir + "/b/" + name);
    CHECK(stage1::find_executable(dir + "/c/" + name, "") == dir + "/c/" + name);

    auto status_of = [](auto&& f) {
        try {
            f();
        } catch (const Error& e) {
            return std::to_string(e.status()) + " " + e.reason();
        }
        return std::string("no error");
    };
    CHECK(status_of([&] { stage1::find_executable("missing-" + name, path); }) ==
          "127 executable file not found in $PATH");
    CHECK(status_of([&] { stage1::find_executable(name, dir + "/a"); }) == "126 permission denied");
    CHECK(status_of([&] { stage1::find_executable(dir + "/a/" + name, path); }) == "126 permission denied");
    CHECK(status_of([&] { stage1::find_executable(dir + "/nope/" + name, path); }) ==
          "127 no such file or directory");
    CHECK(status_of([&] { stage1::find_executable(dir + "/a", path); }) == "126 is a directory");
    // A directory of that name in PATH is no candidate: the search goes on past it.
    fs::create_directories(dir + "/d/" + name);
    CHECK(stage1::find_executable(name, dir + "/d:" + dir + "/c") == dir + "/c/" + name);
    CHECK(status_of([&] { stage1::find_executable(name, dir + "/d"); }) == "127 executable file not found in $PATH");
}
