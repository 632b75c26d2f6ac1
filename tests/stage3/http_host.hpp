// A small HTTP/1.1 host of the tests' own on a loopback address: every request's
// head goes to a handler that returns the whole response. It keeps the heads it
// saw, so a test can check what box sent (for example, which headers). Requests
// with a body are not supported: the tests using it only fetch.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace boxtest {

class HttpHost {
public:
    using Handler = std::function<std::string(const std::string& head)>;

    /// Listens on `address` (e.g. "127.0.0.2") and a port the kernel picks.
    HttpHost(const std::string& address, Handler handler) : address_(address), handler_(std::move(handler)) {
        listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        REQUIRE(inet_pton(AF_INET, address.c_str(), &a.sin_addr) == 1);
        REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        REQUIRE(listen(listener_, 16) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~HttpHost() {
        stop_ = true;
        shutdown(listener_, SHUT_RDWR);
        close(listener_);
        thread_.join();
    }
    HttpHost(const HttpHost&) = delete;
    HttpHost& operator=(const HttpHost&) = delete;

    /// address:port
    std::string host() const { return address_ + ":" + std::to_string(port_); }
    /// The head (request line and headers) of every request so far.
    std::vector<std::string> heads() {
        std::lock_guard<std::mutex> lock(mutex_);
        return heads_;
    }

    /// Sends `head` (with "Connection: close" in place of the client's choice) to
    /// host:port on 127.0.0.1 and returns the raw response, read to its end.
    static std::string forward(const std::string& head, int port) {
        std::string out = head.substr(0, head.find("\r\n") + 2);
        size_t at = out.size();
        while (at < head.size()) {
            size_t end = head.find("\r\n", at);
            std::string line = head.substr(at, end - at);
            at = end + 2;
            if (line.empty()) break;
            if (strncasecmp(line.c_str(), "connection:", 11) != 0) out += line + "\r\n";
        }
        out += "Connection: close\r\n\r\n";
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        std::string response;
        if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            write(s, out.data(), out.size()) == static_cast<ssize_t>(out.size())) {
            char buf[65536];
            for (ssize_t n; (n = read(s, buf, sizeof buf)) > 0;) response.append(buf, static_cast<size_t>(n));
        }
        close(s);
        return response;
    }

    /// A response with `status` (e.g. "200 OK"), extra header lines and a body.
    static std::string response(const std::string& status, const std::string& headers, const std::string& body,
                                bool head_only = false) {
        return "HTTP/1.1 " + status + "\r\n" + headers + "Content-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + (head_only ? "" : body);
    }

private:
    void serve() {
        while (!stop_) {
            int c = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = read(c, buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, static_cast<size_t>(n));
            }
            std::string head = req.substr(0, req.find("\r\n\r\n") + 4);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                heads_.push_back(head);
            }
            std::string resp = handler_(head);
            for (size_t done = 0; done < resp.size();) {
                ssize_t n = write(c, resp.data() + done, resp.size() - done);
                if (n <= 0) break;
                done += static_cast<size_t>(n);
            }
            close(c);
        }
    }

    std::string address_;
    Handler handler_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> heads_;
};

}  // namespace boxtest
