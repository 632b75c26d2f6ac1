// Chapter 4: `box logs` — the json-file log the shim writes, read back and
// followed.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <thread>

#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/util.hpp"
#include "logs.hpp"

namespace box::stage4 {
namespace {

struct LogsFlags {
    bool follow = false, timestamps = false;
    std::string tail = "all", since, container;
};

std::optional<double> since_time(const std::string& since) {
    if (since.empty()) return std::nullopt;
    if (auto t = parse_rfc3339(since)) return t;
    static const std::regex relative("([0-9]+)(s|m|h)");
    std::smatch m;
    if (!std::regex_match(since, m, relative))
        throw Error("invalid value for \"since\": " + since, "use an RFC 3339 time or a duration such as 10m");
    double n = std::stod(m[1]) * (m[2] == "s" ? 1 : m[2] == "m" ? 60 : 3600);
    return parse_rfc3339(now_rfc3339()).value_or(0) - n;
}

void print_record(const std::string& line, const LogsFlags& f, std::optional<double> since) {
    json r = json::parse(line, nullptr, false);
    if (r.is_discarded()) return;
    std::string time = r.value("time", "");
    if (since && parse_rfc3339(time).value_or(0) < *since) return;
    std::string text = (f.timestamps ? time + " " : "") + r.value("log", "");
    FILE* out = r.value("stream", "stdout") == "stderr" ? stderr : stdout;
    fwrite(text.data(), 1, text.size(), out);
    fflush(out);
}

int logs(const LogsFlags& f) {
    ContainerStore s(state_root());
    Container c = s.find(f.container);
    auto since = since_time(f.since);
    long tail = -1;
    if (f.tail != "all") {
        try {
            tail = std::stol(f.tail);
        } catch (...) {
            throw Error("invalid value for --tail: " + f.tail, "use a number or all");
        }
    }
    std::ifstream in(c.dir + "/container.log", std::ios::binary);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    size_t first = tail >= 0 && static_cast<size_t>(tail) < lines.size() ? lines.size() - static_cast<size_t>(tail) : 0;
    for (size_t i = first; i < lines.size(); ++i) print_record(lines[i], f, since);
    if (!f.follow) return 0;
    // -f: new records as the shim writes them, until the container stops.
    in.clear();
    std::string partial;
    for (;;) {
        bool done = !s.find(c.id).running();
        while (std::getline(in, line)) {
            if (in.eof()) {  // no newline yet: the rest of it is still coming
                partial += line;
                break;
            }
            print_record(partial + line, f, since);
            partial.clear();
        }
        in.clear();
        if (done) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace

void register_logs_command() {
    cli::define("logs", "Fetch the logs of a container", [](CLI::App& c) -> cli::Action {
        auto f = std::make_shared<LogsFlags>();
        c.add_option("CONTAINER", f->container, "Container")->required();
        c.add_flag("-f,--follow", f->follow, "Follow log output");
        c.add_flag("-t,--timestamps", f->timestamps, "Show timestamps");
        c.add_option("-n,--tail", f->tail, "Number of lines to show from the end of the logs")->capture_default_str();
        c.add_option("--since", f->since, "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)");
        return [f] { return logs(*f); };
    });
}

}  // namespace box::stage4
