// Stage 6 tests' helpers: build contexts on disk, builds, and what the image
// store holds afterwards.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../stage5/support.hpp"
#include "harness.hpp"

namespace boxtest {

/// Writes `files` (path relative to the context → content) into a new
/// directory under the sandbox; returns its path.
inline std::string make_context(const Sandbox& sb, const std::map<std::string, std::string>& files) {
    std::string dir = sb.dir() + "/" + random_name("ctx-", 6);
    for (const auto& [path, content] : files) {
        std::filesystem::path p = dir + "/" + path;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
    }
    std::filesystem::create_directories(dir);
    return dir;
}

/// `box build [FLAGS] CONTEXT`; the result as it came.
inline Result build(const Sandbox& sb, const std::string& context, std::vector<std::string> flags = {},
                    const RunOptions& o = {}) {
    std::vector<std::string> args = {"build"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(context);
    return sb.box(args, o);
}

/// A build expected to succeed; the image id it wrote to --iidfile (not what it printed).
inline std::string build_ok(const Sandbox& sb, const std::string& context, std::vector<std::string> flags = {}) {
    std::string iid = sb.dir() + "/" + random_name("iid-", 6);
    flags.insert(flags.end(), {"--iidfile", iid});
    auto r = build(sb, context, flags);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    std::string id = read_host_file(iid);
    REQUIRE(id.rfind("sha256:", 0) == 0);
    return id;
}

/// `box run --rm IMAGE CMD...`, expected to succeed; its stdout.
inline std::string run_image(const Sandbox& sb, const std::string& image, const std::vector<std::string>& cmd = {}) {
    std::vector<std::string> args = {"run", "--rm", image};
    args.insert(args.end(), cmd.begin(), cmd.end());
    auto r = sb.box(args);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return r.out;
}

/// `box run -d [FLAGS] IMAGE CMD...`, expected to succeed; the container's id.
inline std::string run_detached_image(const Sandbox& sb, const std::string& image, std::vector<std::string> flags,
                                      const std::vector<std::string>& cmd) {
    std::vector<std::string> args = {"run", "-d"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(image);
    args.insert(args.end(), cmd.begin(), cmd.end());
    auto r = sb.box(args);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return trim(r.out);
}

/// `box image inspect IMAGE` as JSON (its one element).
inline nlohmann::json inspect_image(const Sandbox& sb, const std::string& image) {
    auto r = sb.box({"image", "inspect", image});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out).at(0);
}

/// How many entries a directory of the state root holds (0 if it is missing).
inline size_t state_entries(const Sandbox& sb, const std::string& sub) {
    std::string dir = sb.dir() + "/state/" + sub;
    if (!std::filesystem::exists(dir)) return 0;
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename() != ".lock") ++n;  // a store's lock is no entry
    return n;
}

}  // namespace boxtest
