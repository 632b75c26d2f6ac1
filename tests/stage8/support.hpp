// Stage 8 tests' helpers: a project directory with its files, and
// `box compose` run on it.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../stage3/support.hpp"
#include "box/error.hpp"
#include "harness.hpp"
#include "stage8.hpp"

namespace boxtest {

/// A project directory DIR/NAME holding `files` (path relative to it → content).
inline std::string make_project(const Sandbox& sb, const std::string& name,
                                const std::map<std::string, std::string>& files) {
    std::string dir = sb.dir() + "/" + name;
    std::filesystem::create_directories(dir);
    for (const auto& [path, content] : files) {
        std::filesystem::path p = dir + "/" + path;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
    }
    return dir;
}

/// `box compose ARGS` run in directory `dir` (discovery starts there).
inline Result compose(const Sandbox& sb, const std::string& dir, const std::vector<std::string>& args,
                      const RunOptions& o = {}) {
    std::vector<std::string> argv = sb.box_argv({"compose"});
    argv.insert(argv.end(), args.begin(), args.end());
    std::string line = "cd " + shell_words({dir}) + " && exec " + shell_words(argv);
    return run({"sh", "-c", line}, o);
}

/// `box compose ARGS` in `dir`, required to succeed; its stdout.
inline std::string compose_ok(const Sandbox& sb, const std::string& dir, const std::vector<std::string>& args,
                              const RunOptions& o = {}) {
    auto r = compose(sb, dir, args, o);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return r.out;
}

/// Removes the project of `dir` (down -v) when it goes, whatever the test did.
struct ProjectGuard {
    const Sandbox& sb;
    std::string dir;
    ~ProjectGuard() { compose(sb, dir, {"down", "-v", "--remove-orphans", "-t", "0"}); }
};

/// The folder ../shared/conformance/RELATIVE (canonical), or "" with a
/// "skipped" warning where it is absent: the conformance data comes with CI,
/// not with the kit.
inline std::string conformance_dir(const std::string& relative) {
    std::string dir = kit_root() + "/../shared/conformance/" + relative;
    if (!std::filesystem::is_directory(dir)) {
        WARN("skipped: " + dir + " is not here (the conformance data comes with CI, not with the kit)");
        return "";
    }
    return std::filesystem::canonical(dir).string();
}

/// The message of the box::Error `f` throws; "" if it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const box::Error& e) {
        return e.what();
    }
    return "";
}

/// The project of directory `dir`, loaded as `box compose` run there loads it.
inline box::stage8::Project load(const std::string& dir, box::stage8::LoadOptions o = {}) {
    o.cwd = dir;
    return box::stage8::load_project(o);
}

/// `box inspect` of container `name`, parsed.
inline nlohmann::json inspect_container(const Sandbox& sb, const std::string& name) {
    auto r = sb.box({"inspect", name});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out).at(0);
}

}  // namespace boxtest
