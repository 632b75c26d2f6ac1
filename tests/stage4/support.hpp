// Stage 4 tests' helpers: containers of the kit's busybox image, and what the
// kernel says about them.
#pragma once

#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "../stage3/support.hpp"
#include "harness.hpp"

namespace boxtest {

/// `box inspect C` as JSON (its one element).
inline nlohmann::json inspect(const Sandbox& sb, const std::string& c) {
    auto r = sb.box({"inspect", c});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out).at(0);
}

/// True if process `pid` exists (and is not a zombie).
inline bool alive(pid_t pid) {
    auto stat = read_host_file("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty()) return false;
    size_t end = stat.rfind(')');
    return end != std::string::npos && stat.size() > end + 2 && stat[end + 2] != 'Z';
}

/// A field of /proc/PID/status ("PPid", "Name"...), or "".
inline std::string proc_status(pid_t pid, const std::string& field) {
    for (const auto& l : lines(read_host_file("/proc/" + std::to_string(pid) + "/status")))
        if (l.rfind(field + ":", 0) == 0) return trim(l.substr(field.size() + 1));
    return "";
}

/// Polls `check` every 50 ms until it is true or `timeout` passes.
template <typename F>
bool eventually(F check, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (check()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return check();
}

/// How many container directories the store holds (kept or half-made).
inline size_t container_dirs(const Sandbox& sb) {
    size_t n = 0;
    std::string dir = sb.dir() + "/state/containers";
    if (std::filesystem::exists(dir))
        for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_directory();
    return n;
}

/// The tutorial's endless loop, as the container command.
inline std::vector<std::string> hello_loop() {
    return {"sh", "-c", "while true; do echo hello world; sleep 1; done"};
}

/// `box run -d [FLAGS] busybox CMD...`; returns the id it printed.
inline std::string run_detached(const Sandbox& sb, std::vector<std::string> flags, const std::vector<std::string>& cmd) {
    std::vector<std::string> args = {"run", "-d"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("busybox");
    args.insert(args.end(), cmd.begin(), cmd.end());
    auto r = sb.box(args);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return trim(r.out);
}

}  // namespace boxtest
