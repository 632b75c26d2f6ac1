// Chapter 6: the steps that make a layer (RUN, COPY, ADD) and the command
// instructions (CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER).
#include <fcntl.h>
#include <fnmatch.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>

#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/http.hpp"
#include "box/instruction.hpp"
#include "box/sys.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "commit.hpp"
#include "lifecycle.hpp"
#include "stage1.hpp"
#include "stage6.hpp"

namespace fs = std::filesystem;

namespace box::stage6 {

shell::Env step_env(const BuildState& state) {
    shell::Env env;
    for (const auto& [k, v] : state.args) env[k] = v;
    for (const auto& [k, v] : env_of(state.result.config.value("config", json::object()))) env[k] = v;
    return env;
}

namespace {

void set_healthcheck(json& config, const dockerfile::Node& node, const std::string& what) {
    if (node.args.empty()) throw Error(what, "HEALTHCHECK requires an argument");
    std::string kind = to_upper(node.args[0]);
    if (kind == "NONE") {
        if (node.args.size() > 1 || !node.flags.empty()) throw Error(what, "HEALTHCHECK NONE takes no arguments");
        config["Healthcheck"] = {{"Test", {"NONE"}}};
        return;
    }
    if (kind != "CMD" || node.args.size() < 2) throw Error(what, "HEALTHCHECK needs NONE or CMD COMMAND");
    json hc = json::object();
    std::vector<std::string> rest(node.args.begin() + 1, node.args.end());
    if (node.json) {
        json test = json::array({"CMD"});
        for (const auto& a : rest) test.push_back(a);
        hc["Test"] = test;
    } else {
        hc["Test"] = {"CMD-SHELL", join(rest)};
    }
    for (const auto& flag : node.flags) {
        size_t eq = flag.find('=');
        std::string name = flag.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        std::string value = eq == std::string::npos ? "" : flag.substr(eq + 1);
        // Go's durations ("30s", "1m30s", "500ms"), in nanoseconds as docker stores them
        auto duration = [&] {
            try {
                return parse_duration(value, "--" + name);
            } catch (const Error& e) {
                throw Error(what, e.what());
            }
        };
        if (name == "interval") hc["Interval"] = duration();
        else if (name == "timeout") hc["Timeout"] = duration();
        else if (name == "start-period") hc["StartPeriod"] = duration();
        else if (name == "start-interval") hc["StartInterval"] = duration();
        else if (name == "retries") {
            auto n = parse_number<int>(value);
            if (!n || *n < 0) throw Error(what, "invalid --retries " + value);
            hc["Retries"] = *n;
        } else {
            throw Error(what, "Unknown flag: " + name);
        }
    }
    config["Healthcheck"] = hc;
}

}  // namespace

void set_command(BuildState& state, const dockerfile::Node& node, const std::string& what) {
    json& config = state.result.config["config"];
    if (!config.is_object()) config = json::object();
    const std::string& kw = node.keyword;
    if (kw == "healthcheck") return set_healthcheck(config, node, what);
    if (kw == "maintainer") {
        state.result.config["author"] = join(node.args);
        return;
    }
    // BEGIN EXERCISE 3: set_command()
    if (kw == "shell") {
        if (!node.json || node.args.empty()) throw Error(what, "SHELL requires the arguments to be in JSON form");
        state.shell = node.args;
        config["Shell"] = node.args;
        return;
    }
    json command = json::array();
    if (node.json) {
        for (const auto& a : node.args) command.push_back(a);
    } else {
        for (const auto& s : state.shell) command.push_back(s);
        command.push_back(node.args.empty() ? "" : node.args[0]);
    }
    if (kw == "cmd") {
        config["Cmd"] = command;
        state.cmd_set = true;
    } else if (kw == "entrypoint") {
        config["Entrypoint"] = command;
        if (!state.cmd_set) config["Cmd"] = nullptr;  // an inherited CMD is for another ENTRYPOINT
    } else {
        throw Error(what, "not a command instruction: " + to_upper(kw));
    }
    // END EXERCISE
}

RunStep run_command(const BuildState& state, const dockerfile::Node& node) {
    RunStep step;
    for (const auto& flag : node.flags) {
        if (starts_with(flag, "--network=")) step.network = flag.substr(10);
        else throw Error(to_upper(node.keyword), "Unknown flag: " + flag.substr(2, flag.find('=') - 2));
    }
    if (node.json) {
        step.argv = node.args;
    } else {
        std::string line = node.args.empty() ? "" : node.args[0];
        std::string script = line;
        std::string bare = line;
        bare.erase(0, bare.find_first_not_of(" \t"));
        bare.erase(bare.find_last_not_of(" \t") + 1);
        if (node.heredocs.size() == 1 && starts_with(bare, "<<") && bare.find_first_of(" \t") == std::string::npos) {
            script = node.heredocs[0].content;  // `RUN <<EOF`: the text is the script
        } else {
            for (const auto& h : node.heredocs) script += "\n" + h.content + h.name;  // the shell reads them
        }
        step.argv = state.shell;
        step.argv.push_back(script);
    }
    json env = state.result.config.value("config", json::object()).value("Env", json::array());
    std::set<std::string> in_env;
    for (const auto& e : env) {
        std::string s = e.get<std::string>();
        in_env.insert(s.substr(0, s.find('=')));
        step.env.push_back(s);
    }
    for (const auto& [k, v] : state.args)
        if (!in_env.count(k)) step.env.push_back(k + "=" + v);
    return step;
}

namespace {

// Removes from a step's upper directory what only the step's container put
// there: the empty files box bound /etc/hostname, hosts and resolv.conf over,
// and /etc itself if that left it empty and the layers have it.
void drop_mountpoints(const std::string& upper, const std::vector<std::string>& lowers) {
    auto in_lowers = [&](const std::string& rel) {
        for (const auto& l : lowers)
            if (::access((l + rel).c_str(), F_OK) == 0) return true;
        return false;
    };
    for (const char* name : {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}) {
        struct stat st {};
        if (::lstat((upper + name).c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 && !in_lowers(name))
            ::unlink((upper + name).c_str());
    }
    if (in_lowers("/etc")) ::rmdir((upper + "/etc").c_str());  // fails unless empty: then it is a change
}

// A layer tar of upper directory `upper`, stored in the image store.
stage3::StoredLayer store_upper(const std::string& upper) {
    std::string tar = scratch_dir("layer") ;
    struct Remove {
        std::string dir;
        ~Remove() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } remove{tar};
    stage4::write_layer(upper, tar + "/layer.tar");
    return stage3::ImageStore(state_root()).add_layer(tar + "/layer.tar");
}

std::vector<std::string> layer_dirs(const BuildState& state) {
    stage3::ImageStore images(state_root());
    std::vector<std::string> dirs;
    for (const auto& l : state.result.layers) dirs.push_back(images.layer_dir(l.diff_id));
    return stage3::keep_topmost(dirs);
}

}  // namespace

stage3::StoredLayer run_step(const BuildState& state, const RunStep& step, const BuildEvents& events) {
    std::vector<std::string> lowers = layer_dirs(state);
    if (lowers.empty()) throw Error("RUN", "the image has no files to run a command in (FROM scratch)");
    const json config = state.result.config.value("config", json::object());
    // BEGIN EXERCISE 2: run_step()
    ContainerRequest request;
    request.Config.Cmd = step.argv;
    request.Config.Env = step.env;
    request.Config.User = config.value("User", "");
    request.Config.WorkingDir = config.value("WorkingDir", "");
    request.HostConfig.NetworkMode = step.network;
    request.HostConfig.BoxLayers = lowers;
    stage4::ContainerStore store(state_root());
    stage4::Container c = stage4::create_container(request);
    struct Remove {  // the step's container goes, whatever happens
        const stage4::ContainerStore& store;
        std::string id;
        ~Remove() {
            try {
                stage4::remove_container(store, id, true, true);
            } catch (const std::exception&) {
            }
        }
    } remove{store, c.id};
    events({BuildEvent::Kind::Running, c.id});
    int status = stage4::run_foreground(store, c, [&](std::string_view output) {
        events({BuildEvent::Kind::Output, std::string(output)});
    });
    if (status != 0)
        throw Error("The command '" + join(step.argv) + "' returned a non-zero code", std::to_string(status), 1);
    drop_mountpoints(c.dir + "/upper", lowers);
    stage3::StoredLayer layer = store_upper(c.dir + "/upper");
    events({BuildEvent::Kind::Removed, c.id});
    return layer;
    // END EXERCISE
}

// ---- COPY and ADD -------------------------------------------------------------

namespace {

// A path relative to a root: cleaned, without a leading "/".
std::string clean_relative(const std::string& path) {
    std::string p = clean_path(path);
    while (starts_with(p, "/")) p = p.substr(1);
    return p.empty() ? "." : p;
}

bool is_url(const std::string& s) { return starts_with(s, "http://") || starts_with(s, "https://"); }

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::string parent_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p.substr(p.find_last_of('/') + 1);
}

Fd open_dir_path(const std::string& dir) {
    Fd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno("open " + dir, errno);
    return fd;
}

std::string fd_path(const Fd& fd) { return "/proc/self/fd/" + std::to_string(fd.get()); }

// Every entry under directory `base` (not following symlinks), parents first,
// named relative to it; `skip(rel)` leaves an entry out (and, for a
// directory, what is under it unless `descend_skipped`).
void walk(const std::string& base, const std::function<bool(const std::string&)>& skip, bool descend_skipped,
          const std::function<void(const std::string& rel, const std::string& full, const struct stat&)>& visit) {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::directory_iterator(base, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
        names.push_back(it->path().filename());
    if (ec) throw Error("read " + base, ec.message());
    std::sort(names.begin(), names.end());
    std::function<void(const std::string&)> go = [&](const std::string& rel) {
        std::string full = base + "/" + rel;
        struct stat st {};
        if (::lstat(full.c_str(), &st) != 0) return;
        bool skipped = skip(rel);
        if (!skipped) visit(rel, full, st);
        if (!S_ISDIR(st.st_mode) || (skipped && !descend_skipped)) return;
        std::vector<std::string> children;
        for (auto it = fs::directory_iterator(full, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
            children.push_back(it->path().filename());
        std::sort(children.begin(), children.end());
        for (const auto& c : children) go(rel + "/" + c);
    };
    for (const auto& n : names) go(n);
}

// What ignore rules say of `rel` under match `m` of `root`.
std::function<bool(const std::string&)> skipper(const SourceRoot& root, const Match& m) {
    if (m.fetched || !root.ignore) return [](const std::string&) { return false; };
    const IgnoreMatcher* ignore = root.ignore;
    std::string prefix = m.path == "." ? "" : m.path + "/";
    return [ignore, prefix](const std::string& rel) { return ignore->ignored(prefix + rel); };
}

std::string file_digest(int dir_fd_or_file, const std::string& name) {
    Fd fd(name.empty() ? ::fcntl(dir_fd_or_file, F_DUPFD_CLOEXEC, 0)
                       : ::openat(dir_fd_or_file, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_errno("read " + name, errno);
    Sha256 hash;  // streamed: a source may be larger than memory
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) hash.update(buf, static_cast<size_t>(n));
    if (n < 0) throw_errno("read " + name, errno);
    return hash.digest();
}

bool archive_magic(int fd) {
    char head[512] = {};
    ssize_t n = ::pread(fd, head, sizeof head, 0);
    return n > 0 && is_archive(std::string_view(head, static_cast<size_t>(n)));
}

}  // namespace

CopyStep parse_copy(const BuildState& state, const dockerfile::Node& node, const std::string& what) {
    shell::Env env = step_env(state);
    shell::LexOptions lex;
    lex.escape = state.escape;
    CopyStep s;
    s.add = node.keyword == "add";
    for (const auto& flag : node.flags) {
        size_t eq = flag.find('=');
        std::string name = flag.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        std::string value = eq == std::string::npos ? "" : shell::process_word(flag.substr(eq + 1), env, lex);
        if (name == "from" && !s.add) s.from = value;
        else if (name == "chown") s.chown = value;
        else if (name == "chmod") {
            if (value.empty() || value.size() > 4 || value.find_first_not_of("01234567") != std::string::npos)
                throw Error(what, "invalid chmod value \"" + value + "\": an octal mode is expected (0755)");
            s.mode = static_cast<unsigned>(std::stoul(value, nullptr, 8));
        } else if (name == "link" || (s.add && (name == "checksum" || name == "keep-git-dir"))) {
            // layers box makes are independent already; the rest is not checked
        } else {
            throw Error(what, "Unknown flag: " + name);
        }
    }
    std::vector<std::string> words;
    for (const auto& a : node.args) {
        if (!node.heredocs.empty() && starts_with(a, "<<")) continue;  // a heredoc source: its text below
        words.push_back(node.json ? a : shell::process_word(a, env, lex));
    }
    s.heredocs = node.heredocs;
    if (words.empty() || words.size() + s.heredocs.size() < 2)
        throw Error(what, to_upper(node.keyword) + " requires at least two arguments, but only one was provided. "
                                                 "Destination could not be determined.");
    s.dest = words.back();
    words.pop_back();
    if (s.dest.empty()) throw Error(what, to_upper(node.keyword) + " needs a destination: it is empty");
    s.sources = words;
    std::string workdir = state.result.config.value("config", json::object()).value("WorkingDir", "");
    if (workdir.empty()) workdir = "/";
    bool into = s.dest.back() == '/' || s.dest == "." || (s.dest.size() >= 2 && s.dest.substr(s.dest.size() - 2) == "/.");
    if (!starts_with(s.dest, "/")) s.dest = (workdir.back() == '/' ? workdir : workdir + "/") + s.dest;
    s.dest = "/" + clean_relative(s.dest);
    if (s.dest == "/.") s.dest = "/";
    if (into && s.dest.back() != '/') s.dest += "/";
    return s;
}

std::vector<Match> match_sources(const CopyStep& step, const SourceRoot& root) {
    const char* kw = step.add ? "ADD" : "COPY";
    std::vector<Match> out;
    // BEGIN ADVANCED EXERCISE 5: match_sources()
    bool wild = std::any_of(step.sources.begin(), step.sources.end(), has_wildcard);
    if ((step.sources.size() + step.heredocs.size() > 1 || wild) && step.dest.back() != '/')
        throw Error(std::string(kw) + " failed",
                    std::string("When using ") + kw + " with more than one source file, the destination must be a "
                    "directory and end with a /");
    auto not_found = [&](const std::string& src) {
        return Error(std::string(kw) + " failed",
                     "file not found in build context or excluded by .dockerignore: stat " + src + ": file does not exist");
    };
    Fd root_fd = open_dir_path(root.dir);
    for (const auto& src : step.sources) {
        if (step.add && is_url(src)) {
            HttpRequest rq;
            rq.url = src;
            HttpResponse r = http_request(rq);
            if (r.status != 200) throw Error("ADD failed", "fetching " + src + ": HTTP " + std::to_string(r.status));
            std::string name = base_of(src.substr(0, src.find_first_of("?#")));
            if (name.empty() || name.find(':') != std::string::npos) name = "download";
            write_file_atomic(root.fetch_dir + "/" + name, r.body, 0600, false);
            out.push_back({root.fetch_dir, name, step.dest, true});
            continue;
        }
        std::string rel = clean_relative(src);
        if (rel == ".." || starts_with(rel, "../")) throw Error(std::string(kw) + " failed", "forbidden path outside the build context: " + src);
        if (has_wildcard(rel)) {
            size_t before = out.size();
            walk(root.dir, [](const std::string&) { return false; }, true,
                 [&](const std::string& path, const std::string&, const struct stat&) {
                     if (::fnmatch(rel.c_str(), path.c_str(), FNM_PATHNAME) == 0 &&
                         !(root.ignore && root.ignore->ignored(path)))
                         out.push_back({root.dir, path, step.dest, false});
                 });
            if (out.size() == before) throw not_found(src);
            continue;
        }
        if ((rel != "." && root.ignore && root.ignore->ignored(rel)) || !open_in_root(root_fd.get(), rel, O_PATH))
            throw not_found(src);
        out.push_back({root.dir, rel, step.dest, false});
    }
    // END EXERCISE
    return out;
}

std::vector<SourceFile> copy_inputs(const CopyStep& step, const SourceRoot& root, const std::vector<Match>& matched) {
    std::vector<SourceFile> inputs;
    auto owner = [&](const struct stat& st, SourceFile& f, bool own) {
        f.uid = step.uid.value_or(own ? st.st_uid : 0);
        f.gid = step.gid.value_or(own ? st.st_gid : 0);
    };
    for (const auto& m : matched) {
        Fd base = open_dir_path(m.root);
        Fd top = open_in_root(base.get(), m.path, O_PATH);
        if (!top) throw_errno("open " + m.path, errno);
        struct stat st {};
        if (::fstat(top.get(), &st) != 0) throw_errno("stat " + m.path, errno);
        bool own = root.own_owners && !m.fetched;
        SourceFile f{m.dest + "\n" + m.path, st.st_mode, 0, 0, ""};
        owner(st, f, own);
        if (S_ISREG(st.st_mode)) {
            Fd file = open_in_root(base.get(), m.path, O_RDONLY);
            f.content = file_digest(file.get(), "");
        }
        if (m.fetched) f.mode = S_IFREG | 0600;
        inputs.push_back(f);
        if (!S_ISDIR(st.st_mode)) continue;
        walk(fd_path(top), skipper(root, m), root.ignore && root.ignore->has_exceptions(),
             [&](const std::string& rel, const std::string& full, const struct stat& est) {
                 SourceFile e{rel, est.st_mode, 0, 0, ""};
                 owner(est, e, own);
                 if (S_ISREG(est.st_mode)) e.content = file_digest(AT_FDCWD, full);
                 else if (S_ISLNK(est.st_mode)) e.content = fs::read_symlink(full).string();
                 inputs.push_back(e);
             });
    }
    for (const auto& h : step.heredocs) inputs.push_back({"<<" + h.name, S_IFREG | 0644, 0, 0, sha256_digest(h.content)});
    for (auto& f : inputs)
        if (step.mode) f.mode = (f.mode & S_IFMT) | *step.mode;
    return inputs;
}

void private_mounts() {
    static bool done = false;
    if (done) return;
    sys::unshare(CLONE_NEWNS);
    stage1::make_mounts_private();
    done = true;
}

namespace {

// Writes entries into the image mounted at `merged`, each path resolved
// inside it (an image's symlink cannot lead a copy out of its root).
class Writer {
public:
    Writer(const std::string& merged, const CopyStep& step) : step_(step) {
        root_ = open_dir_path(merged);
    }

    // Makes directory `path` of the image and its parents, as docker's
    // MkdirAll in the root's scope: a symlink on the way is followed inside
    // the root, and what it points to is made if missing.
    Fd dirs(const std::string& path, int depth = 0) {
        if (depth > 40) throw Error("COPY", "too many levels of symbolic links making " + path);
        Fd cur(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
        std::string done;
        for (const auto& part : split(path, '/')) {
            if (part.empty() || part == ".") continue;
            std::string next = done + "/" + part;
            Fd fd = open_in_root(root_.get(), next, O_PATH | O_DIRECTORY);
            if (!fd && errno == ENOENT) {
                char target[4096];
                ssize_t n = ::readlinkat(cur.get(), part.c_str(), target, sizeof target);
                if (n > 0) {  // a dangling link: make what it points at
                    std::string t(target, static_cast<size_t>(n));
                    dirs(t[0] == '/' ? t : done + "/" + t, depth + 1);
                } else if (::mkdirat(cur.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
                    throw_errno("mkdir " + next + " in the image", errno);
                }
                fd = open_in_root(root_.get(), next, O_PATH | O_DIRECTORY);
            }
            if (!fd) throw_errno("COPY to " + next + " in the image", errno);
            cur = std::move(fd);
            done = next;
        }
        return cur;
    }

    bool is_dir(const std::string& path) {
        Fd fd = open_in_root(root_.get(), path, O_PATH | O_DIRECTORY);
        return static_cast<bool>(fd);
    }

    // Puts the entry at host path `from` (stat `st`) at `to` in the image,
    // owned as --chown says, else as it is (`own`) or by root.
    void put(const std::string& from, const struct stat& st, const std::string& to, bool own) {
        std::string name = base_of(to);
        Fd dir = dirs(parent_of(to));
        uid_t uid = step_.uid.value_or(own ? st.st_uid : 0);
        gid_t gid = step_.gid.value_or(own ? st.st_gid : 0);
        mode_t mode = step_.mode ? *step_.mode : st.st_mode & 07777;
        if (S_ISDIR(st.st_mode)) {
            struct stat cur {};
            if (::fstatat(dir.get(), name.c_str(), &cur, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(cur.st_mode))
                ::unlinkat(dir.get(), name.c_str(), 0);
            if (::mkdirat(dir.get(), name.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("mkdir " + to, errno);
            Fd d(::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!d) throw_errno("open " + to, errno);
            if (::fchown(d.get(), uid, gid) != 0 || ::fchmod(d.get(), mode) != 0) throw_errno("chown " + to, errno);
            return;
        }
        if (::unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT)
            if (errno == EISDIR) throw Error("COPY", "cannot replace directory " + to + " with a file");
        if (S_ISLNK(st.st_mode)) {
            std::string target = fs::read_symlink(from).string();
            if (::symlinkat(target.c_str(), dir.get(), name.c_str()) != 0) throw_errno("symlink " + to, errno);
            ::fchownat(dir.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
        } else if (S_ISREG(st.st_mode)) {
            Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
            if (!in) throw_errno("read " + from, errno);
            Fd out(::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!out) throw_errno("create " + to, errno);
            char buf[65536];
            for (ssize_t n; (n = ::read(in.get(), buf, sizeof buf)) > 0;)
                if (!write_all(out.get(), buf, static_cast<size_t>(n))) throw_errno("write " + to, errno);
            if (::fchown(out.get(), uid, gid) != 0 || ::fchmod(out.get(), mode) != 0) throw_errno("chown " + to, errno);
            struct timespec times[2] = {st.st_mtim, st.st_mtim};
            ::futimens(out.get(), times);
        }  // devices, fifos and sockets of a context are not copied
    }

    // Puts the text of a heredoc at `to`.
    void put_text(const std::string& text, const std::string& to) {
        std::string name = base_of(to);
        Fd dir = dirs(parent_of(to));
        ::unlinkat(dir.get(), name.c_str(), 0);
        Fd out(::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!out || !write_all(out.get(), text.data(), text.size())) throw_errno("create " + to, errno);
        ::fchown(out.get(), step_.uid.value_or(0), step_.gid.value_or(0));
        if (step_.mode) ::fchmod(out.get(), *step_.mode);
    }

    // Copies the tree under host directory `from` into directory `to`.
    void put_tree(const std::string& from, const std::string& to, bool own,
                  const std::function<bool(const std::string&)>& skip, bool descend_skipped) {
        dirs(to);
        walk(from, skip, descend_skipped, [&](const std::string& rel, const std::string& full, const struct stat& st) {
            put(full, st, (to == "/" ? "" : to) + "/" + rel, own);
        });
    }

private:
    const CopyStep& step_;
    Fd root_;
};

// Writes what copy `step` adds into the image mounted at `merged` (`scratch`:
// where a local archive is unpacked first).
void write_sources(const std::string& merged, const CopyStep& step, const SourceRoot& root,
                   const std::vector<Match>& matched, const std::string& scratch) {
    Writer writer(merged, step);
    bool descend_ignored = root.ignore && root.ignore->has_exceptions();
    for (const auto& m : matched) {
        Fd base = open_dir_path(m.root);
        Fd top = open_in_root(base.get(), m.path, O_PATH);
        if (!top) throw_errno(std::string(step.add ? "ADD " : "COPY ") + m.path, errno);
        struct stat st {};
        if (::fstat(top.get(), &st) != 0) throw_errno("stat " + m.path, errno);
        bool own = root.own_owners && !m.fetched;
        std::string dest = m.dest.size() > 1 && m.dest.back() == '/' ? m.dest.substr(0, m.dest.size() - 1) : m.dest;
        if (S_ISDIR(st.st_mode)) {  // a directory: its contents
            writer.put_tree(fd_path(top), dest, own, skipper(root, m), descend_ignored);
            continue;
        }
        Fd file = open_in_root(base.get(), m.path, O_RDONLY);
        if (!file) throw_errno("open " + m.path, errno);
        if (step.add && !m.fetched && S_ISREG(st.st_mode) && archive_magic(file.get())) {
            // ADD of a local archive: its files (with the archive's owners), not the archive
            std::string unpacked = scratch + "/unpacked-" + random_hex(4);
            make_dirs(unpacked);
            stage3::unpack_tar(file.get(), unpacked);
            writer.put_tree(unpacked, dest, true, [](const std::string&) { return false; }, false);
            continue;
        }
        bool into = m.dest.back() == '/' || writer.is_dir(dest);
        std::string to = into ? (dest == "/" ? "" : dest) + "/" + base_of(m.path) : dest;
        struct stat fst = st;
        if (m.fetched) fst.st_mode = S_IFREG | 0600;
        writer.put(fd_path(file), fst, to, own);
    }
    for (const auto& h : step.heredocs)
        writer.put_text(h.content, step.dest.back() == '/' ? step.dest + h.name : step.dest);
}

}  // namespace

stage3::StoredLayer copy_step(const BuildState& state, const CopyStep& step, const SourceRoot& root,
                              const std::vector<Match>& matched) {
    private_mounts();
    std::string scratch = scratch_dir("copy");
    struct Cleanup {
        std::string dir;
        ~Cleanup() {
            ::umount2((dir + "/merged").c_str(), MNT_DETACH);
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{scratch};
    for (const char* d : {"/upper", "/work", "/merged", "/empty"}) make_dirs(scratch + d);
    std::vector<std::string> lowers = layer_dirs(state);
    if (lowers.empty()) lowers.push_back(scratch + "/empty");
    stage3::mount_overlay(lowers, scratch + "/upper", scratch + "/work", scratch + "/merged");
    // (write_sources()'s descriptors of the overlay are closed when it returns: unmount then)
    write_sources(scratch + "/merged", step, root, matched, scratch);
    sys::umount2(scratch + "/merged", 0);
    fs::remove_all(scratch + "/work");
    return store_upper(scratch + "/upper");
}

}  // namespace box::stage6
