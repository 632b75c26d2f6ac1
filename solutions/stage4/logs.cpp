// Chapter 4: `box logs` — the json-file log the shim writes, read back and
// followed.
#include <chrono>
#include <functional>
#include <optional>
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
    bool timestamps = false;
    LogQuery query;
    std::string container;
};

// One json-file record as a LogLine; none if unreadable or before `since`.
std::optional<LogLine> parse_record(const std::string& line, std::optional<double> since) {
    json r = json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object()) return std::nullopt;
    LogLine l{r.value("stream", "stdout") == "stderr", r.value("time", ""), r.value("log", "")};
    if (since && parse_rfc3339(l.time).value_or(0) < *since) return std::nullopt;
    return l;
}

}  // namespace

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

void read_logs(const Container& c, const LogQuery& q, const std::function<void(const LogLine&)>& sink) {
    auto since = since_time(q.since);
    long tail = -1;
    if (q.tail != "all") {
        try {
            tail = std::stol(q.tail);
        } catch (...) {
            throw Error("invalid value for --tail: " + q.tail, "use a number or all");
        }
    }
    auto emit = [&](const std::string& record) {
        if (auto l = parse_record(record, since)) sink(*l);
    };
    std::ifstream in(c.dir + "/container.log", std::ios::binary);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    size_t first = tail >= 0 && static_cast<size_t>(tail) < lines.size() ? lines.size() - static_cast<size_t>(tail) : 0;
    for (size_t i = first; i < lines.size(); ++i) emit(lines[i]);
    if (!q.follow) return;
    // Following: new records as the shim writes them, until the container stops.
    ContainerStore s(state_root());
    in.clear();
    std::string partial;
    for (;;) {
        bool done = !s.find(c.id).running();
        while (std::getline(in, line)) {
            if (in.eof()) {  // no newline yet: the rest of it is still coming
                partial += line;
                break;
            }
            emit(partial + line);
            partial.clear();
        }
        in.clear();
        if (done) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void register_logs_command() {
    cli::define("logs", "Fetch the logs of a container", [](CLI::App& c) -> cli::Action {
        auto f = std::make_shared<LogsFlags>();
        c.add_option("CONTAINER", f->container, "Container")->required();
        c.add_flag("-f,--follow", f->query.follow, "Follow log output");
        c.add_flag("-t,--timestamps", f->timestamps, "Show timestamps");
        c.add_option("-n,--tail", f->query.tail, "Number of lines to show from the end of the logs")->capture_default_str();
        c.add_option("--since", f->query.since, "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)");
        return [f] {
            Container c = ContainerStore(state_root()).find(f->container);
            read_logs(c, f->query, [&](const LogLine& l) {  // each line to the stream it came from
                std::string text = (f->timestamps ? l.time + " " : "") + l.text;
                FILE* out = l.from_stderr ? stderr : stdout;
                fwrite(text.data(), 1, text.size(), out);
                fflush(out);
            });
            return 0;
        };
    });
}

}  // namespace box::stage4
