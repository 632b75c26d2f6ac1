// Chapter 4: the container store — ids, names, and state that survives the
// command that wrote it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <regex>

#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/file_lock.hpp"
#include "box/log.hpp"
#include "box/util.hpp"
#include "health.hpp"
#include "stage4.hpp"

namespace fs = std::filesystem;

namespace box::stage4 {
namespace {

// docker's generated names: an adjective and a notable scientist or engineer.
const char* const kAdjectives[] = {
    "admiring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave", "charming", "clever",
    "cool", "compassionate", "confident", "dazzling", "determined", "eager", "ecstatic", "elegant", "epic",
    "focused", "friendly", "gallant", "gifted", "goofy", "happy", "hopeful", "jolly", "keen", "kind", "loving",
    "modest", "nice", "nifty", "optimistic", "peaceful", "quirky", "relaxed", "serene", "sharp", "stoic",
    "sweet", "tender", "trusting", "upbeat", "vibrant", "wizardly", "youthful", "zealous"};
const char* const kSurnames[] = {
    "albattani", "babbage", "banach", "bardeen", "bell", "bhabha", "cerf", "curie", "darwin", "dijkstra",
    "einstein", "euclid", "euler", "faraday", "feynman", "galileo", "gauss", "hamilton", "hawking", "hopper",
    "hypatia", "jemison", "kalam", "kepler", "knuth", "lamport", "liskov", "lovelace", "mayer", "mccarthy",
    "meitner", "noether", "pascal", "raman", "ritchie", "shannon", "tesla", "thompson", "torvalds", "turing",
    "wiles", "wozniak", "yalow", "zhukovsky", "shen", "zhu", "wu", "hoover"};

std::string generated_name() {
    auto pick = [](size_t n) { return static_cast<size_t>(std::stoul(random_hex(8), nullptr, 16) % n); };
    return std::string(kAdjectives[pick(std::size(kAdjectives))]) + "_" + kSurnames[pick(std::size(kSurnames))];
}

void check_name(const std::string& name) {
    static const std::regex valid("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    if (!std::regex_match(name, valid))
        throw Error("Invalid container name (" + name + ")", "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
}

json state_json(const ContainerState& s) {
    return {{"Status", to_string(s.status)},          {"Pid", s.pid}, {"PidStart", s.pid_start},
            {"Supervisor", s.supervisor},  {"SupervisorStart", s.supervisor_start},
            {"ExitCode", s.exit_code},     {"OOMKilled", s.oom_killed},
            {"StoppedByUser", s.stopped_by_user}, {"RestartCount", s.restart_count},
            {"Error", s.error},            {"StartedAt", s.started_at},
            {"FinishedAt", s.finished_at}, {"Extensions", s.extensions}};
}

ContainerState state_from(const json& j) {
    ContainerState s;
    try {
        s.status = parse_status(j.value("Status", "created"));
    } catch (const Error&) {
        s.status = Status::Exited;  // a word of a newer box: nothing to supervise that we know of
    }
    s.pid = j.value("Pid", 0);
    s.pid_start = j.value("PidStart", 0LL);
    s.supervisor = j.value("Supervisor", 0);
    s.supervisor_start = j.value("SupervisorStart", 0LL);
    s.exit_code = j.value("ExitCode", 0);
    s.oom_killed = j.value("OOMKilled", false);
    s.stopped_by_user = j.value("StoppedByUser", false);
    s.restart_count = j.value("RestartCount", 0);
    s.error = j.value("Error", "");
    s.started_at = j.value("StartedAt", s.started_at);
    s.finished_at = j.value("FinishedAt", s.finished_at);
    if (j.contains("Extensions") && j["Extensions"].is_object()) s.extensions = j["Extensions"];
    return s;
}

const char* const kStatusWords[] = {"created", "running", "paused", "restarting", "exited"};

}  // namespace

std::string to_string(Status status) { return kStatusWords[static_cast<int>(status)]; }

Status parse_status(const std::string& text) {
    for (int i = 0; i < 5; ++i)
        if (text == kStatusWords[i]) return static_cast<Status>(i);
    throw Error("invalid container status \"" + text + "\"", "use created, running, paused, restarting or exited");
}

RestartPolicy RestartPolicy::parse(const std::string& text) {
    // no|always|unless-stopped|on-failure[:N] (no std::regex: compiling one costs
    // every `box run` a few hundred microseconds)
    RestartPolicy p;
    std::string retries = starts_with(text, "on-failure:") ? text.substr(11) : "";
    if (text == "no") p.name = Name::No;
    else if (text == "always") p.name = Name::Always;
    else if (text == "unless-stopped") p.name = Name::UnlessStopped;
    else if (text == "on-failure") p.name = Name::OnFailure;
    else if (!retries.empty() && retries.size() < 9 && retries.find_first_not_of("0123456789") == std::string::npos) {
        p.name = Name::OnFailure;
        p.max_retries = std::stoi(retries);
    } else {
        throw Error("invalid restart policy \"" + text + "\"", "use no, always, unless-stopped or on-failure[:max-retries]");
    }
    return p;
}

std::string RestartPolicy::docker_name() const {
    switch (name) {
    case Name::Always: return "always";
    case Name::UnlessStopped: return "unless-stopped";
    case Name::OnFailure: return "on-failure";
    case Name::No: break;
    }
    return "no";
}

std::string RestartPolicy::text() const {
    return name == Name::OnFailure && max_retries > 0 ? "on-failure:" + std::to_string(max_retries) : docker_name();
}

bool RestartPolicy::restarts(int status, int count) const {
    // BEGIN ADVANCED EXERCISE 9: RestartPolicy::restarts()
    switch (name) {
    case Name::Always:
    case Name::UnlessStopped: return true;
    case Name::OnFailure: return status != 0 && (max_retries == 0 || count < max_retries);
    case Name::No: break;
    }
    return false;
    // END EXERCISE
}

long long process_start_time(pid_t pid) {
    auto stat = try_read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return 0;
    size_t end = stat->rfind(')');  // the command name may hold spaces
    if (end == std::string::npos) return 0;
    auto fields = split(stat->substr(end + 2), ' ');  // fields[0] is field 3
    return fields.size() > 19 ? std::atoll(fields[19].c_str()) : 0;
}

bool process_alive(pid_t pid, long long start) {
    // A zombie has ended: only its parent's wait removes it, and a parent
    // that is init in a container may never wait.
    return pid > 0 && process_running(pid) && process_start_time(pid) == start;
}

bool process_running(pid_t pid) {
    auto stat = try_read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t end = stat ? stat->rfind(')') : std::string::npos;
    return pid > 0 && end != std::string::npos && end + 2 < stat->size() && (*stat)[end + 2] != 'Z';
}

std::string Container::status_text() const {
    if (state.status == Status::Running) {
        std::string up = "Up " + human_duration(seconds_since(state.started_at).value_or(0));
        std::string health = health_word(*this);  // docker's: "(healthy)", "(health: starting)"
        if (health == "none") return up;
        return up + (health == "starting" ? " (health: starting)" : " (" + health + ")");
    }
    if (state.status == Status::Paused)
        return "Up " + human_duration(seconds_since(state.started_at).value_or(0)) + " (Paused)";
    if (state.status == Status::Restarting)
        return "Restarting (" + std::to_string(state.exit_code) + ") " + ago(state.finished_at);
    if (state.status == Status::Exited)
        return "Exited (" + std::to_string(state.exit_code) + ") " + ago(state.finished_at);
    return "Created";
}

void repair_orphaned(Container& c) {
    // BEGIN ADVANCED EXERCISE 12: repair_orphaned()
    // Its supervisor gone (killed with box, say), a "running" container is not.
    // (Its process may live on, orphaned: then it is running still.)
    if (c.running() && !process_alive(c.state.supervisor, c.state.supervisor_start) &&
        !process_running(c.state.pid)) {
        c.state.status = Status::Exited;
        c.state.pid = 0;
        // The shim records the wait status first thing (DIR/exit); without it
        // the code is unknown, which docker reports as 255.
        auto exit = try_read_file(c.dir + "/exit");
        int wait_status = exit ? std::atoi(exit->c_str()) : -1;
        c.state.exit_code = wait_status < 0                ? 255
                            : WIFEXITED(wait_status)       ? WEXITSTATUS(wait_status)
                                                           : 128 + WTERMSIG(wait_status);
    }
    // END EXERCISE
}

ContainerStore::ContainerStore(std::string root)
    : records_("container", root + "/containers", root + "/container-names") {}

Container ContainerStore::create(const ContainerSpec& spec, const ContainerRequest& request,
                                 const std::string& image_id, const RestartPolicy& restart) {
    std::string name = request.Name;
    bool auto_remove = request.HostConfig.AutoRemove;
    FileLock lock = records_.lock();
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    if (!name.empty()) check_name(name);
    if (name.empty()) {
        do name = generated_name();
        while (!records_.id_of_name(name).empty());
    }
    Container c;
    c.id = spec.id;
    c.name = name;
    c.created = now_rfc3339();
    c.dir = records_.path(c.id);
    c.spec = spec;
    c.image_id = image_id;
    c.request = request;
    c.request.Name = name;
    c.restart = restart;
    c.auto_remove = auto_remove;
    // No state.json yet: without one a container reads as "created" (one file
    // fewer to make and replace on every run). A --rm container's record goes
    // when it ends: not worth an fsync.
    records_.create(c.id, name,
                    json{{"Id", c.id}, {"Name", c.name}, {"Created", c.created}, {"Request", request_to_json(c.request)},
                         {"Spec", spec_to_json(spec)}, {"ImageID", image_id}, {"Restart", restart.text()},
                         {"AutoRemove", auto_remove}},
                    !auto_remove);
    return c;
}

Container ContainerStore::load(const std::string& id) const {
    std::string dir = records_.path(id);
    json config = records_.read(id);
    Container c;
    c.id = id;
    c.dir = dir;
    c.name = config.value("Name", "");
    c.created = config.value("Created", "");
    c.spec = spec_from_json(config.at("Spec"));
    if (config.contains("Request")) c.request = request_from_json(config["Request"]);
    c.image_id = config.value("ImageID", "");
    try {
        c.restart = RestartPolicy::parse(config.value("Restart", "no"));
    } catch (const Error&) {
        c.restart = {};  // a policy this box does not know: none
    }
    c.auto_remove = config.value("AutoRemove", false);
    json state = json::parse(try_read_file(dir + "/state.json").value_or("{}"), nullptr, false);
    c.state = state_from(state.is_discarded() ? json::object() : state);
    repair_orphaned(c);
    return c;
}

Container ContainerStore::find(const std::string& ref) const {
    return load(records_.find(ref, "see 'box ps -a' for the containers there are"));
}

std::vector<Container> ContainerStore::list() const {
    std::vector<Container> out;
    for (const auto& id : records_.ids()) {
        try {
            out.push_back(load(id));
        } catch (const Error& err) {
            log::warn(std::string("skipping container ") + id + ": " + err.what());
        }
    }
    std::sort(out.begin(), out.end(), [](const Container& a, const Container& b) { return a.created > b.created; });
    return out;
}

void ContainerStore::save_state(const Container& c) const {
    // A --rm container's record goes when it ends: not worth an fsync.
    records_.write(c.id, state_json(c.state), !c.auto_remove, "state.json");
}

void ContainerStore::rename(const Container& c, const std::string& name) const {
    check_name(name);
    FileLock lock = records_.lock();
    records_.rename(c.id, c.name, name);
    json config = records_.read(c.id);
    config["Name"] = name;
    if (config.contains("Request") && config["Request"].is_object()) config["Request"]["Name"] = name;
    records_.write(c.id, config, true);
}

void ContainerStore::update_config(const std::string& id,
                                   const std::function<void(ContainerRequest&, ContainerSpec&)>& change) const {
    FileLock lock = records_.lock();
    json config = records_.read(id);
    ContainerRequest request = config.contains("Request") ? request_from_json(config["Request"]) : ContainerRequest{};
    ContainerSpec spec = spec_from_json(config.at("Spec"));
    change(request, spec);
    config["Request"] = request_to_json(request);
    config["Spec"] = spec_to_json(spec);
    records_.write(id, config, true);
}

void ContainerStore::remove(const Container& c) const { records_.remove(c.id, c.name); }

}  // namespace box::stage4
