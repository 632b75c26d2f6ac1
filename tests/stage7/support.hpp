// Stage 7 tests' helpers. The test binary runs in a network namespace of its
// own (enter_private_network): that is "the host". A TestHost is another
// namespace joined to it by a veth pair — "the internet" of the tests, at
// 192.0.2.2 (a documentation range), with the host at 192.0.2.1 on its side.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace boxtest {

/// Runs `argv` and requires it to succeed (the tests' own set-up commands).
inline std::string must(const std::vector<std::string>& argv) {
    auto r = run(argv);
    INFO(shell_words(argv) << ": " << r.err);
    REQUIRE(r.status == 0);
    return r.out;
}

/// Another network namespace, linked to the tests' by a veth pair (tho0 on
/// the host's side): the outside world, at 192.0.2.2.
class TestHost {
public:
    TestHost() : ns_({"unshare", "--net", "sleep", "300"}) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // unshare has made it by then
        pid_ = std::to_string(ns_.pid());
        for (int i = 0; i < 100 && read_link("/proc/" + pid_ + "/ns/net") == read_link("/proc/self/ns/net"); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        must({"ip", "link", "add", "tho0", "type", "veth", "peer", "name", "eth0", "netns", pid_});
        must({"ip", "addr", "add", "192.0.2.1/24", "dev", "tho0"});
        must({"ip", "link", "set", "tho0", "up"});
        in({"ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"});
        in({"ip", "link", "set", "eth0", "up"});
        in({"ip", "link", "set", "lo", "up"});
    }
    ~TestHost() { run({"ip", "link", "del", "tho0"}); }
    /// Runs `argv` in the test host's namespace.
    std::string in(const std::vector<std::string>& argv) const { return must(nsenter(argv)); }
    /// `argv` prefixed to run in the test host's namespace.
    std::vector<std::string> nsenter(const std::vector<std::string>& argv) const {
        std::vector<std::string> out = {"nsenter", "-t", pid_, "-n"};
        out.insert(out.end(), argv.begin(), argv.end());
        return out;
    }

private:
    static std::string read_link(const std::string& path) {
        std::error_code ec;
        return std::filesystem::read_symlink(path, ec).string();
    }
    Background ns_;
    std::string pid_;
};

/// A directory with index.html holding `text`, for busybox httpd to serve.
inline std::string web_root(const Sandbox& sb, const std::string& text) {
    std::string dir = sb.dir() + "/" + random_name("www-", 6);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/index.html") << text;
    return dir;
}

/// GET http://ADDRESS:PORT/ with the host's busybox wget, at most `tries`
/// times 100 ms apart (a server just started may not listen yet); the body
/// or "" if it never answered.
inline std::string http_get(const std::string& address, int port, int tries = 30,
                            const std::vector<std::string>& prefix = {}) {
    std::vector<std::string> argv = prefix;
    // Straight to the server: not through the proxy main() sets against registries off the machine.
    // (busybox's -T makes this build of wget crash: the harness's timeout bounds it instead.)
    for (const char* w : {"env", "-u", "http_proxy", "-u", "HTTP_PROXY", "busybox", "wget", "-q", "-O", "-"})
        argv.push_back(w);
    argv.push_back("http://" + address + ":" + std::to_string(port) + "/");
    RunOptions o;
    o.timeout = std::chrono::seconds(5);
    for (int i = 0; i < tries; ++i) {
        auto r = run(argv, o);
        if (r.status == 0) return r.out;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
}

/// Sends `message` by UDP to ADDRESS:PORT from the host and returns the first
/// answer, trying at most 20 times 100 ms apart; "" if none came.
inline std::string udp_ask(const std::string& address, int port, const std::string& message) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    timeval tv{0, 100000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<unsigned short>(port));
    inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    std::string answer;
    for (int i = 0; i < 20 && answer.empty(); ++i) {
        sendto(s, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
        char buf[512];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n > 0) answer.assign(buf, static_cast<size_t>(n));
    }
    close(s);
    return answer;
}

/// The names of the links whose master is `bridge`, as `ip` lists them.
inline std::vector<std::string> bridge_ports(const std::string& bridge) {
    std::vector<std::string> out;
    for (const auto& line : lines(run({"ip", "-o", "link", "show", "master", bridge}).out)) {
        auto w = words(line);
        if (w.size() > 1) out.push_back(w[1].substr(0, w[1].find_first_of("@:")));
    }
    return out;
}

/// Whether `bridge` has no port left within `limit` (the kernel deletes a
/// veth pair with its namespace, a moment after the container's end).
inline bool no_ports_within(const std::string& bridge, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!bridge_ports(bridge).empty()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

/// box's nftables table as nft lists it ("" if there is none).
inline std::string box_table() { return run({"nft", "list", "table", "ip", "box"}).out; }

/// The lease files of every network under the sandbox's state.
inline std::vector<std::string> lease_files(const Sandbox& sb) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& n : std::filesystem::directory_iterator(sb.dir() + "/state/networks", ec)) {
        std::error_code ec2;
        for (const auto& e : std::filesystem::directory_iterator(n.path() / "endpoints", ec2))
            if (e.path().filename().string()[0] != '.') out.push_back(e.path().string());
    }
    return out;
}

}  // namespace boxtest
