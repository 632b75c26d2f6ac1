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
    return {{"Status", s.status},          {"Pid", s.pid},
            {"Supervisor", s.supervisor},  {"SupervisorStart", s.supervisor_start},
            {"ExitCode", s.exit_code},     {"OOMKilled", s.oom_killed},
            {"StoppedByUser", s.stopped_by_user}, {"RestartCount", s.restart_count},
            {"Error", s.error},            {"StartedAt", s.started_at},
            {"FinishedAt", s.finished_at}};
}

ContainerState state_from(const json& j) {
    ContainerState s;
    s.status = j.value("Status", "created");
    s.pid = j.value("Pid", 0);
    s.supervisor = j.value("Supervisor", 0);
    s.supervisor_start = j.value("SupervisorStart", 0LL);
    s.exit_code = j.value("ExitCode", 0);
    s.oom_killed = j.value("OOMKilled", false);
    s.stopped_by_user = j.value("StoppedByUser", false);
    s.restart_count = j.value("RestartCount", 0);
    s.error = j.value("Error", "");
    s.started_at = j.value("StartedAt", s.started_at);
    s.finished_at = j.value("FinishedAt", s.finished_at);
    return s;
}

}  // namespace

long long process_start_time(pid_t pid) {
    auto stat = try_read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return 0;
    size_t end = stat->rfind(')');  // the command name may hold spaces
    if (end == std::string::npos) return 0;
    auto fields = split(stat->substr(end + 2), ' ');  // fields[0] is field 3
    return fields.size() > 19 ? std::atoll(fields[19].c_str()) : 0;
}

bool process_alive(pid_t pid, long long start) {
    return pid > 0 && ::kill(pid, 0) == 0 && process_start_time(pid) == start;
}

bool process_running(pid_t pid) {
    auto stat = try_read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t end = stat ? stat->rfind(')') : std::string::npos;
    return pid > 0 && end != std::string::npos && end + 2 < stat->size() && (*stat)[end + 2] != 'Z';
}

std::string Container::status_text() const {
    if (state.status == "running") return "Up " + human_duration(seconds_since(state.started_at).value_or(0));
    if (state.status == "paused")
        return "Up " + human_duration(seconds_since(state.started_at).value_or(0)) + " (Paused)";
    if (state.status == "restarting")
        return "Restarting (" + std::to_string(state.exit_code) + ") " + ago(state.finished_at);
    if (state.status == "exited")
        return "Exited (" + std::to_string(state.exit_code) + ") " + ago(state.finished_at);
    return "Created";
}

ContainerStore::ContainerStore(std::string root)
    : root_(std::move(root)), dir_(root_ + "/containers"), names_(root_ + "/container-names") {}

Container ContainerStore::create(const ContainerSpec& spec, std::string name, const std::string& image_id,
                                 const std::string& restart, bool auto_remove) {
    FileLock lock(dir_);
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    if (!name.empty()) check_name(name);
    auto is_taken = [&](const std::string& n) { return !id_of_name(n).empty(); };
    if (name.empty()) {
        do name = generated_name();
        while (is_taken(name));
    } else if (is_taken(name)) {
        throw Error("Conflict. The container name \"/" + name + "\" is already in use",
                    "remove or rename that container to be able to reuse the name");
    }
    Container c;
    c.id = spec.id;
    c.name = name;
    c.created = now_rfc3339();
    c.dir = dir_ + "/" + c.id;
    c.spec = spec;
    c.image_id = image_id;
    c.restart = restart;
    c.auto_remove = auto_remove;
    make_dirs(c.dir);
    // The name: a symlink container-names/NAME -> ID, made at once or not at all.
    make_dirs(names_);
    ::unlink((names_ + "/" + name).c_str());  // a stale one (is_taken said so)
    if (::symlink(c.id.c_str(), (names_ + "/" + name).c_str()) != 0) throw_errno("name " + name, errno);
    // config.json last: a directory without it is a create that was cut short.
    // No state.json yet: without one a container reads as "created" (one file
    // fewer to make and replace on every run).
    write_file_atomic(c.dir + "/config.json",
                      json{{"Id", c.id}, {"Name", c.name}, {"Created", c.created}, {"Spec", spec_to_json(spec)},
                           {"ImageID", image_id}, {"Restart", restart}, {"AutoRemove", auto_remove}}
                          .dump(),
                      0644, !auto_remove);
    return c;
}

Container ContainerStore::load(const std::string& id) const {
    std::string dir = dir_ + "/" + id;
    auto config_text = try_read_file(dir + "/config.json");
    if (!config_text) throw Error("No such container: " + id, "it has no config (a create that was cut short?)");
    json config = json::parse(*config_text, nullptr, false);
    if (config.is_discarded()) throw Error("container " + id, "config.json is not JSON");
    Container c;
    c.id = id;
    c.dir = dir;
    c.name = config.value("Name", "");
    c.created = config.value("Created", "");
    c.spec = spec_from_json(config.at("Spec"));
    c.image_id = config.value("ImageID", "");
    c.restart = config.value("Restart", "no");
    c.auto_remove = config.value("AutoRemove", false);
    json state = json::parse(try_read_file(dir + "/state.json").value_or("{}"), nullptr, false);
    c.state = state_from(state.is_discarded() ? json::object() : state);
    // Its supervisor gone (killed with box, say), a "running" container is not.
    // (Its process may live on, orphaned: then it is running still.)
    if (c.running() && !process_alive(c.state.supervisor, c.state.supervisor_start) &&
        !process_running(c.state.pid)) {
        c.state.status = "exited";
        c.state.pid = 0;
        // The shim records the wait status first thing (DIR/exit); without it
        // the code is unknown, which docker reports as 255.
        auto exit = try_read_file(dir + "/exit");
        int wait_status = exit ? std::atoi(exit->c_str()) : -1;
        c.state.exit_code = wait_status < 0                ? 255
                            : WIFEXITED(wait_status)       ? WEXITSTATUS(wait_status)
                                                           : 128 + WTERMSIG(wait_status);
    }
    return c;
}

std::string ContainerStore::id_of_name(const std::string& name) const {
    char id[65];
    ssize_t n = ::readlink((names_ + "/" + name).c_str(), id, sizeof id);
    if (n != 64) return "";
    std::string out(id, 64);
    return exists(dir_ + "/" + out + "/config.json") ? out : "";  // else stale: its container is gone
}

Container ContainerStore::find(const std::string& ref) const {
    if (ref.empty()) throw Error("No such container: ", "give a container's name or id");
    if (ref.size() == 64 && exists(dir_ + "/" + ref + "/config.json")) return load(ref);
    // A name wins over an id prefix, as in docker.
    std::string by_name = id_of_name(ref[0] == '/' ? ref.substr(1) : ref);
    if (!by_name.empty()) return load(by_name);
    std::vector<std::string> by_prefix;
    if (is_directory(dir_)) {
        for (const auto& e : fs::directory_iterator(dir_)) {
            std::string id = e.path().filename();
            if (id.size() == 64 && starts_with(id, ref) && exists(e.path().string() + "/config.json"))
                by_prefix.push_back(id);
        }
    }
    if (by_prefix.size() == 1) return load(by_prefix[0]);
    if (by_prefix.size() > 1) throw Error("multiple containers found with provided prefix: " + ref, "give more of the id");
    throw Error("No such container: " + ref, "see 'box ps -a' for the containers there are");
}

std::vector<Container> ContainerStore::list() const {
    std::vector<Container> out;
    if (!is_directory(dir_)) return out;
    for (const auto& e : fs::directory_iterator(dir_)) {
        std::string id = e.path().filename();
        if (id.size() != 64 || !exists(e.path().string() + "/config.json")) continue;
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
    write_file_atomic(c.dir + "/state.json", state_json(c.state).dump(), 0644, !c.auto_remove);
}

void ContainerStore::rename(const Container& c, const std::string& name) const {
    check_name(name);
    FileLock lock(dir_);
    std::string other = id_of_name(name);
    if (!other.empty())
        throw Error("Error when allocating new name: Conflict. The container name \"/" + name + "\" is already in use",
                    "by container " + other);
    ::unlink((names_ + "/" + name).c_str());  // stale
    if (::symlink(c.id.c_str(), (names_ + "/" + name).c_str()) != 0) throw_errno("name " + name, errno);
    json config = json::parse(read_file(c.dir + "/config.json"));
    config["Name"] = name;
    write_file_atomic(c.dir + "/config.json", config.dump());
    ::unlink((names_ + "/" + c.name).c_str());
}

void ContainerStore::remove(const Container& c) const {
    // config.json first: from then on no command sees the container, even if
    // removing the rest is cut short (the next `container prune` finishes it).
    ::unlink((c.dir + "/config.json").c_str());
    if (id_of_name(c.name).empty()) ::unlink((names_ + "/" + c.name).c_str());
    std::error_code ec;
    fs::remove_all(c.dir, ec);
    if (ec) throw Error("remove " + c.dir, ec.message());
}

}  // namespace box::stage4
