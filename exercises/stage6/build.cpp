// Chapter 6: the build — the Dockerfile's stages in order, each instruction a
// step that starts from the one before, the cache consulted before each
// step that has to do work, and what it reports as events (output.cpp's
// views print them).
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "box/blob_store.hpp"
#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/instruction.hpp"
#include "box/reference.hpp"
#include "box/sys.hpp"
#include "box/units.hpp"
#include "box/user.hpp"
#include "box/util.hpp"
#include "stage6.hpp"

namespace fs = std::filesystem;

namespace box::stage6 {

namespace {

// ARGs docker defines for every build, which need no ARG instruction and
// whose --build-arg is never "not consumed".
const std::set<std::string> kPredefinedArgs = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                               "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                               "ALL_PROXY",  "all_proxy"};

const std::set<std::string> kMetadata = {"env", "label", "expose", "volume", "workdir", "user", "onbuild", "stopsignal"};
const std::set<std::string> kCommand = {"cmd", "entrypoint", "shell", "healthcheck", "maintainer"};

// docker classic's id of a step: the digest of the config it leaves.
std::string step_id(const StepResult& r) { return sha256_digest(r.config.dump()); }

// `what` of an error about node `n`: FILE:LINE.
std::string where(const Context& ctx, const dockerfile::Node& n) {
    return ctx.file_name + ":" + std::to_string(n.start_line);
}

// The StoredLayers of a stored image, bottom first.
std::vector<stage3::StoredLayer> image_layers(const stage3::ImageStore& images, const stage3::StoredImage& img) {
    BlobStore blobs(images.blobs_dir());
    auto descriptors = stage3::manifest_layers(json::parse(blobs.read(img.manifest_digest)));
    const json& diff_ids = img.config["rootfs"]["diff_ids"];
    std::vector<stage3::StoredLayer> layers;
    for (size_t i = 0; i < descriptors.size() && i < diff_ids.size(); ++i)
        layers.push_back({descriptors[i], diff_ids[i].get<std::string>()});
    return layers;
}

class Builder {
public:
    Builder(const BuildOptions& o, Context& ctx, BuildEvents events)
        : o_(o), ctx_(ctx), events_(std::move(events)), images_(state_root()), cache_(state_root()) {
        for (const auto& a : o.build_args) {
            size_t eq = a.find('=');
            if (eq == std::string::npos) {  // `--build-arg NAME`: the value from box's environment
                if (const char* v = ::getenv(a.c_str())) build_args_[a] = v;
                else build_args_[a] = std::nullopt;
            } else {
                build_args_[a.substr(0, eq)] = a.substr(eq + 1);
            }
        }
    }

    std::string run(const dockerfile::Dockerfile& df) {
        escape_ = df.escape;
        const auto& nodes = df.root.children;
        // Which instructions run: the global ARGs, then the stages up to --target.
        size_t end = nodes.size(), stage_count = 0;
        bool target_found = o_.target.empty();
        for (size_t i = 0; i < nodes.size(); ++i) {
            if (nodes[i].keyword != "from") continue;
            if (!target_found) {
                const auto& a = nodes[i].args;
                if (a.size() == 3 && to_lower(a[2]) == to_lower(o_.target)) {
                    target_found = true;
                    for (end = i + 1; end < nodes.size() && nodes[end].keyword != "from"; ++end) {}
                }
            }
            ++stage_count;
        }
        if (!target_found) throw Error("failed to reach build target " + o_.target, "no such stage in " + ctx_.file_name);
        if (nodes.empty() || stage_count == 0) throw Error(ctx_.file_name, "no FROM instruction: a build starts from an image or scratch");
        total_ = end;
        for (size_t i = 0; i < end; ++i) {
            const auto& n = nodes[i];
            if (stages_.empty() && n.keyword != "from" && n.keyword != "arg")
                throw Error(where(ctx_, n), "no build stage in context: " + to_upper(n.keyword) + " before any FROM");
            std::string text = n.original.substr(0, n.original.find('\n'));  // a heredoc's first line
            BuildEvent started(BuildEvent::Kind::Step, text);
            started.index = i + 1;
            started.total = total_;
            emit(started);
            try {
                if (n.keyword == "from") {
                    from(n);
                } else if (stages_.empty()) {  // an ARG before the first FROM
                    declare_args(n, global_args_, /*global*/ true);
                    emit({BuildEvent::Kind::Done, ""});
                } else {
                    step(n, stages_.back());
                }
            } catch (const std::exception& e) {
                emit({BuildEvent::Kind::Failed, e.what()});
                throw;
            }
        }
        BuildState& last = stages_.back();
        if (!o_.labels.empty()) {
            json& labels = last.result.config["config"]["Labels"];
            if (!labels.is_object()) labels = json::object();
            for (const auto& l : o_.labels) {
                size_t eq = l.find('=');
                labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
            }
        }
        std::vector<std::string> unused;
        for (const auto& [k, v] : build_args_)
            if (!used_args_.count(k) && !kPredefinedArgs.count(k)) unused.push_back(k);
        if (!unused.empty())
            emit({BuildEvent::Kind::Warning, "[Warning] One or more build-args [" + join(unused) + "] were not consumed"});
        std::string id = images_.add_built(last.result.layers, last.result.config, o_.tags);
        BuildEvent built{BuildEvent::Kind::Built, id};
        for (const auto& t : o_.tags) built.tags.push_back(parse_ref(t).full());
        emit(built);
        return id;
    }

private:
    void emit(const BuildEvent& e) const { events_(e); }

    // A base image, pulled if the store lacks it (or with --pull); what the
    // pull prints becomes Pull events.
    stage3::StoredImage pull(const std::string& image) {
        auto stream = event_stream(events_, BuildEvent::Kind::Pull);
        stage3::pull_image(image, stream.get());
        return images_.find(image);
    }

    // The value of an ARG: --build-arg, else its default, else (inside a
    // stage) the global ARG of that name.
    void declare_args(const dockerfile::Node& n, std::vector<std::pair<std::string, std::string>>& scope, bool global,
                      const shell::Env& env = {}) {
        shell::LexOptions lex;
        lex.escape = escape_;
        for (const auto& word : n.args) {
            size_t eq = word.find('=');
            std::string name = word.substr(0, eq);
            std::optional<std::string> value;
            if (eq != std::string::npos) value = shell::process_word(word.substr(eq + 1), global ? global_env() : env, lex);
            auto given = build_args_.find(name);
            if (given != build_args_.end()) {
                used_args_.insert(name);
                if (given->second) value = given->second;
            }
            if (!value && !global)
                for (const auto& [k, v] : global_args_)
                    if (k == name) value = v;
            auto it = std::find_if(scope.begin(), scope.end(), [&](const auto& p) { return p.first == name; });
            if (!value) {  // declared without a value: not set (a RUN does not see it)
                if (it != scope.end()) scope.erase(it);
                continue;
            }
            if (it != scope.end()) it->second = *value;
            else scope.emplace_back(name, *value);
        }
    }

    shell::Env global_env() const {
        shell::Env env;
        for (const auto& [k, v] : global_args_) env[k] = v;
        return env;
    }

    void from(const dockerfile::Node& n) {
        const auto& a = n.args;
        if (a.empty() || (a.size() != 1 && !(a.size() == 3 && to_lower(a[1]) == "as")))
            throw Error(where(ctx_, n), "FROM requires either one or three arguments: FROM IMAGE [AS NAME]");
        for (const auto& f : n.flags)
            if (!starts_with(f, "--platform=")) throw Error(where(ctx_, n), "Unknown flag: " + f.substr(2, f.find('=') - 2));
        shell::LexOptions lex;
        lex.escape = escape_;
        std::string image = shell::process_word(a[0], global_env(), lex);
        BuildState state;
        state.escape = escape_;
        if (a.size() == 3) state.name = to_lower(a[2]);
        const BuildState* earlier = find_stage(image);
        if (to_lower(image) == "scratch") {
            state.result.config = {{"architecture", native_arch()}, {"os", "linux"}, {"config", json::object()},
                                   {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}},
                                   {"history", json::array()}};
            state.key = sha256_digest("scratch");
        } else if (earlier && !earlier->name.empty() && earlier->name == to_lower(image)) {
            state.result = earlier->result;
            state.key = earlier->key;
        } else {
            stage3::StoredImage img;
            bool have = false;
            if (!o_.pull) {
                try {
                    img = images_.find(image);
                    have = true;
                } catch (const Error&) {
                }
            }
            if (!have) img = pull(image);
            state.result.config = img.config;
            state.result.layers = image_layers(images_, img);
            state.key = img.id;
        }
        emit({BuildEvent::Kind::Done, step_id_of(state)});
        stages_.push_back(state);
        // The base's ONBUILD triggers run now, as if written here; the new image has none.
        json& config = stages_.back().result.config["config"];
        if (!config.is_object()) config = json::object();
        json triggers = config.value("OnBuild", json());
        if (triggers.is_array() && !triggers.empty()) {
            config["OnBuild"] = nullptr;
            emit({BuildEvent::Kind::Note, "# Executing " + std::to_string(triggers.size()) + " build trigger" +
                                              (triggers.size() == 1 ? "" : "s")});
            for (const auto& t : triggers) {
                auto parsed = dockerfile::parse(t.get<std::string>(), "ONBUILD trigger");
                for (const auto& trigger : parsed.root.children) step(trigger, stages_.back());
            }
        }
    }

    std::string step_id_of(const BuildState& s) {
        return s.result.layers.empty() && s.key == sha256_digest("scratch") ? std::string("scratch")
                                                                            : step_id(s.result).substr(7, 12);
    }

    // A stage by name (or number) among those built so far.
    const BuildState* find_stage(const std::string& ref) const {
        std::string name = to_lower(ref);
        auto number = parse_number<size_t>(name);
        if (number && *number < stages_.size()) return &stages_[*number];
        for (auto it = stages_.rbegin(); it != stages_.rend(); ++it)
            if (!it->name.empty() && it->name == name) return &*it;
        return nullptr;
    }

    // Adds the history entry of a step to `r`.
    static void add_history(StepResult& r, const std::string& created_by, bool empty_layer) {
        std::string now = now_rfc3339();
        r.config["created"] = now;
        json entry = {{"created", now}, {"created_by", created_by}};
        if (empty_layer) entry["empty_layer"] = true;
        if (!r.config["history"].is_array()) r.config["history"] = json::array();
        r.config["history"].push_back(entry);
    }

    static void add_layer(StepResult& r, const stage3::StoredLayer& layer) {
        r.layers.push_back(layer);
        r.config["rootfs"] = {{"type", "layers"}, {"diff_ids", json::array()}};
        for (const auto& l : r.layers) r.config["rootfs"]["diff_ids"].push_back(l.diff_id);
    }

    // The cached result of `key` (unless --no-cache), or nothing.
    std::optional<StepResult> cached(const std::string& key) {
        if (o_.no_cache) return std::nullopt;
        return cache_.find(key, images_);
    }

    void done(BuildState& state, const std::string& key, const StepResult& result, bool hit) {
        if (!hit) cache_.put(key, result);
        state.result = result;
        state.key = key;
        BuildEvent e{BuildEvent::Kind::Done, step_id(result).substr(7, 12)};
        e.cached = hit;
        emit(e);
    }

    void step(const dockerfile::Node& n, BuildState& state) {
        std::string what = where(ctx_, n);
        const std::string& kw = n.keyword;
        if (kw == "arg") {
            declare_args(n, state.args, false, step_env(state));
            std::string text = "ARG";
            for (const auto& [k, v] : state.args) text += " " + k + "=" + v;
            std::string key = cache_key(state.key, text, {});
            if (auto hit = cached(key)) return done(state, key, *hit, true);
            StepResult r = state.result;
            add_history(r, "/bin/sh -c #(nop)  ARG " + join(n.args), true);
            return done(state, key, r, false);
        }
        if (kMetadata.count(kw) || kCommand.count(kw)) {
            BuildState next = state;
            json& config = next.result.config["config"];
            if (!config.is_object()) config = json::object();
            if (kMetadata.count(kw)) apply_instruction(config, n, step_env(state), escape_, what);
            else set_command(next, n, what);
            // The key: what the step made of the config (its words expanded).
            std::string key = cache_key(state.key, to_upper(kw) + " " + next.result.config.dump(), {});
            state.cmd_set = next.cmd_set;
            state.shell = next.shell;
            if (auto hit = cached(key)) return done(state, key, *hit, true);
            add_history(next.result, "/bin/sh -c #(nop)  " + n.original, true);
            return done(state, key, next.result, false);
        }
        if (kw == "run") {
            RunStep run = run_command(state, n);
            if (run.network == "default") run.network = o_.network;
            if (run.network != "host" && run.network != "none")
                throw Error(what, "network mode \"" + run.network + "\" not supported by box build: use host or none");
            std::vector<std::string> args;
            for (const auto& [k, v] : state.args) args.push_back(k + "=" + v);
            std::string created_by = (args.empty() ? "" : "|" + std::to_string(args.size()) + " " + join(args) + " ") +
                                     (n.json ? join(run.argv) : join(state.shell) + " " + run.argv.back());
            std::string key = cache_key(state.key, "RUN\n" + join(run.argv, "\n") + "\n" + join(run.env, "\n") + "\n" + run.network, {});
            if (auto hit = cached(key)) return done(state, key, *hit, true);
            // docker's predefined proxy ARGs reach RUN without an ARG, and stay out
            // of the key and the history (a proxy is the machine's, not the image's)
            for (const auto& [k, v] : build_args_)
                if (v && kPredefinedArgs.count(k) && !std::any_of(state.args.begin(), state.args.end(), [&](const auto& a) { return a.first == k; }))
                    run.env.push_back(k + "=" + *v);
            StepResult r = state.result;
            add_layer(r, run_step(state, run, events_));
            add_history(r, created_by, false);
            return done(state, key, r, false);
        }
        if (kw == "copy" || kw == "add") return copy(n, state, what);
        throw Error(what, "unknown instruction: " + to_upper(kw));
    }

    void copy(const dockerfile::Node& n, BuildState& state, const std::string& what) {
        CopyStep cs = parse_copy(state, n, what);
        if (!cs.chown.empty()) {
            Identity id = resolve_user(cs.chown, image_file(state, "/etc/passwd"), image_file(state, "/etc/group"));
            cs.uid = id.uid;
            cs.gid = id.gid;
        }
        SourceRoot root;
        std::string scratch = scratch_dir("sources");
        make_dirs(scratch + "/fetched");
        struct Cleanup {
            std::string dir;
            bool mounted = false;
            ~Cleanup() {
                if (mounted) ::umount2((dir + "/from").c_str(), MNT_DETACH);
                std::error_code ec;
                fs::remove_all(dir, ec);
            }
        } cleanup{scratch};
        root.fetch_dir = scratch + "/fetched";
        std::string from_text;
        if (!cs.from.empty()) {
            std::vector<std::string> dirs;
            if (const BuildState* s = find_stage(cs.from)) {
                for (const auto& l : s->result.layers) dirs.push_back(images_.layer_dir(l.diff_id));
                from_text = s->key;
            } else {  // an image
                stage3::StoredImage img;
                try {
                    img = images_.find(cs.from);
                } catch (const Error&) {
                    img = pull(cs.from);
                }
                dirs = images_.layer_dirs(img);
                from_text = img.id;
            }
            root.own_owners = true;
            root.dir = mount_sources(dirs, scratch, cleanup.mounted);
        } else {
            if (ctx_.dir.empty())
                throw Error(std::string(cs.add ? "ADD" : "COPY") + " failed", "there is no build context (a Dockerfile on stdin alone)");
            root.dir = ctx_.dir;
            root.ignore = &ctx_.ignore;
        }
        std::vector<Match> matched = match_sources(cs, root);
        std::vector<SourceFile> inputs = copy_inputs(cs, root, matched);
        std::string text = to_upper(n.keyword) + " " + from_text + " " + cs.dest + " " +
                           (cs.uid ? std::to_string(*cs.uid) + ":" + std::to_string(*cs.gid) : "") +
                           (cs.mode ? " " + std::to_string(*cs.mode) : "");
        std::string key = cache_key(state.key, text, inputs);
        if (auto hit = cached(key)) return done(state, key, *hit, true);
        StepResult r = state.result;
        add_layer(r, copy_step(state, cs, root, matched));
        std::string sources = join(cs.sources);
        for (const auto& h : cs.heredocs) sources += (sources.empty() ? "" : " ") + ("<<" + h.name);
        add_history(r, "/bin/sh -c #(nop) " + to_upper(n.keyword) + " " + sources + " in " + cs.dest, false);
        done(state, key, r, false);
    }

    // The layers `dirs` as one read-only tree: a layer alone as it is, several
    // as a read-only overlay under `scratch` (in this build's mount namespace).
    std::string mount_sources(std::vector<std::string> dirs, const std::string& scratch, bool& mounted) {
        dirs = stage3::keep_topmost(dirs);
        if (dirs.empty()) {
            make_dirs(scratch + "/empty");
            return scratch + "/empty";
        }
        if (dirs.size() == 1) return dirs[0];
        private_mounts();
        make_dirs(scratch + "/from");
        std::string lower;
        for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
        sys::mount("overlay", scratch + "/from", "overlay", MS_RDONLY, ("lowerdir=" + lower).c_str());
        mounted = true;
        return scratch + "/from";
    }

    // A file of the image built so far (its topmost layer that has it), or "".
    std::string image_file(const BuildState& state, const std::string& path) {
        for (auto it = state.result.layers.rbegin(); it != state.result.layers.rend(); ++it)
            if (auto text = try_read_file(images_.layer_dir(it->diff_id) + path)) return *text;
        return "";
    }

    const BuildOptions& o_;
    Context& ctx_;
    BuildEvents events_;  // never empty: build() gives one that drops them
    stage3::ImageStore images_;
    BuildCache cache_;
    char escape_ = '\\';
    size_t total_ = 0;
    std::map<std::string, std::optional<std::string>> build_args_;
    std::set<std::string> used_args_;
    std::vector<std::pair<std::string, std::string>> global_args_;
    std::vector<BuildState> stages_;
};

}  // namespace

std::string build(const BuildOptions& o, const BuildEvents& events) {
    for (const auto& t : o.tags) parse_ref(t);  // a bad name is refused before any work
    Context ctx = open_context(o.context, o.file);
    struct Cleanup {
        std::string dir;
        ~Cleanup() {
            std::error_code ec;
            if (!dir.empty()) fs::remove_all(dir, ec);
        }
    } cleanup{ctx.temp};
    dockerfile::Dockerfile df = dockerfile::parse(ctx.dockerfile, ctx.file_name);
    Builder builder(o, ctx, events ? events : [](const BuildEvent&) {});
    std::string id = builder.run(df);
    if (!o.iidfile.empty()) write_file_atomic(o.iidfile, id, 0644, false);
    return id;
}

void register_commands() {
    cli::define("build", "Build an image from a Dockerfile", [](CLI::App& c) -> cli::Action {
        struct Flags : BuildOptions {
            std::string progress = "auto";
            bool quiet = false;
        };
        auto o = std::make_shared<Flags>();
        c.add_option("PATH|URL|-", o->context, "The build context: a directory, a tar's URL, or - (a tar or a Dockerfile on stdin)")
            ->required();
        c.add_option("-f,--file", o->file, "Name of the Dockerfile (default: PATH/Dockerfile; - for stdin)");
        c.add_option("-t,--tag", o->tags, "Name and optionally a tag in the 'name:tag' format")->allow_extra_args(false);
        c.add_option("--build-arg", o->build_args, "Set build-time variables")->allow_extra_args(false);
        c.add_option("--label", o->labels, "Set metadata for an image")->allow_extra_args(false);
        c.add_option("--target", o->target, "Set the target build stage to build");
        c.add_option("--iidfile", o->iidfile, "Write the image ID to the file");
        c.add_option("--network", o->network, "Networking mode for the RUN instructions: host, none")->capture_default_str();
        c.add_option("--progress", o->progress, "Type of progress output: auto (tty on a terminal, else plain), plain (docker's classic lines), tty (a line per step), quiet")->capture_default_str();
        c.add_flag("--no-cache", o->no_cache, "Do not use cache when building the image");
        c.add_flag("--pull", o->pull, "Always attempt to pull a newer version of the image");
        c.add_flag("-q,--quiet", o->quiet, "Suppress the build output and print image ID on success");
        return [o] {
            if (o->network != "host" && o->network != "none" && o->network != "default")
                throw Error("build", "network mode \"" + o->network + "\" not supported by box build: use host or none");
            if (o->progress != "auto" && o->progress != "plain" && o->progress != "tty" && o->progress != "quiet")
                throw Error("build", "invalid --progress \"" + o->progress + "\": auto, plain, tty or quiet");
            bool quiet = o->quiet || o->progress == "quiet";
            bool terminal = ::isatty(STDOUT_FILENO);
            BuildEvents view = quiet ? quiet_view()
                               : o->progress == "tty" || (o->progress == "auto" && terminal) ? compact_view(stdout, terminal)
                                                                                               : classic_view(stdout);
            std::string id = build(*o, view);
            if (quiet) printf("%s\n", id.c_str());
            return 0;
        };
    });
    cli::define_group("builder", "Manage builds");
    cli::define("builder prune", "Remove build cache", [](CLI::App& c) -> cli::Action {
        struct Flags { bool force = false, all = false; };
        auto f = std::make_shared<Flags>();
        c.add_flag("-f,--force", f->force, "Do not prompt for confirmation");
        c.add_flag("-a,--all", f->all, "Remove all unused build cache, not just dangling ones");
        return [f] {
            if (!f->force && !cli::confirm("WARNING! This will remove all dangling build cache.\nAre you sure you want to continue?"))
                return 0;
            stage3::ImageStore images(state_root());
            std::int64_t freed = BuildCache(state_root()).prune(images);
            printf("Total reclaimed space: %s\n", human_size(freed).c_str());
            return 0;
        };
    });
    stage3::add_disk_usage_filler([](std::vector<stage3::DiskUsage>& rows) {
        auto [entries, bytes] = BuildCache(state_root()).usage(stage3::ImageStore(state_root()));
        rows.push_back({"Build Cache", entries, 0, bytes, bytes, false});
    });
}

}  // namespace box::stage6
