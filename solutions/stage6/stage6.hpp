/// @file stage6.hpp
/// @brief Chapter 6: `box build` — a Dockerfile becomes a stack of layers.
///
/// lib/ parses the Dockerfile (box/dockerfile.hpp) and expands its words
/// (box/shell_lexer.hpp). This stage runs the instructions: each one starts
/// from the state the one before left (an image config and its layers) and
/// either changes the config only (ENV, CMD, ...) or adds a layer (RUN runs
/// a container of the state so far and keeps what it changed; COPY and ADD
/// write files from the build context). Every step has a cache key; a step
/// whose key is in the build cache is not run again.
///
///     build.cpp    the build: stages, ARGs, the steps in order, its events
///     context.cpp  the build context and .dockerignore
///     cache.cpp    the cache key of a step, the build cache on disk
///     steps.cpp    RUN, COPY/ADD, CMD/ENTRYPOINT/SHELL/HEALTHCHECK
///     output.cpp   the views that print a build's events
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "box/dockerfile.hpp"
#include "box/record_store.hpp"
#include "box/shell_lexer.hpp"
#include "stage3.hpp"

namespace box::stage6 {

using json = nlohmann::json;  ///< the JSON type box uses

// ---- the build context (context.cpp) --------------------------------------

/// `.dockerignore`: which paths of the context a build does not see. Each
/// line is a pattern of Go's filepath.Match (`*`, `?`, `[a-z]`, `\` escapes)
/// plus `**` (any number of directories); a leading `!` makes it an
/// exception; `#` lines are comments; patterns are cleaned (`./a/` is `a`).
/// The last pattern that matches a path decides; a pattern that matches a
/// directory matches everything under it.
class IgnoreMatcher {
public:
    /// No patterns: nothing is ignored.
    IgnoreMatcher() = default;
    /// The patterns of a .dockerignore file's text.
    explicit IgnoreMatcher(const std::string& text);
    /// Advanced exercise 4: whether `path` (relative to the context, `/`
    /// separated, no leading `./`) is ignored.
    bool ignored(const std::string& path) const;
    /// Whether any pattern is an exception (`!`): then a directory that is
    /// ignored may still hold a path that is not.
    bool has_exceptions() const { return exceptions_; }

private:
    struct Rule {
        std::regex regex;  // the pattern, as pattern_regex() makes it
        bool exception;    // `!pattern`
    };
    std::vector<Rule> rules_;
    bool exceptions_ = false;
};

/// The pattern `pattern` (cleaned, without `!`) as a regex that matches a
/// whole relative path: `*` → `[^/]*`, `?` → `[^/]`, `**` → any directories.
std::string pattern_regex(const std::string& pattern);

/// What a build reads: a directory of files, its .dockerignore, the Dockerfile.
struct Context {
    std::string dir;         ///< the context's directory ("" for a Dockerfile on stdin alone)
    std::string temp;        ///< a directory the build made (an unpacked tar), removed by the build
    IgnoreMatcher ignore;    ///< the context's .dockerignore
    std::string dockerfile;  ///< the Dockerfile's text
    std::string file_name;   ///< its name, for error messages ("Dockerfile", "-f" as given)
};

/// The context `source` names — a directory, `-` (a tar or a Dockerfile on
/// stdin, told apart by content) or an http(s) URL of a tar — with the
/// Dockerfile `file` (-f; "" for DIR/Dockerfile, `-` for stdin). Throws
/// box::Error: `unable to prepare context: path "X" not found`, a missing
/// Dockerfile, a tar that does not unpack.
Context open_context(const std::string& source, const std::string& file);

/// Whether bytes starting with `head` are a tar or a compressed stream
/// (gzip, bzip2, xz, zstd), by their magic numbers.
bool is_archive(std::string_view head);

/// Go's filepath.Clean of a `/`-separated path ("a/./b/../c/" → "a/c", "" → ".").
std::string clean_path(const std::string& path);

/// A new scratch directory of this process under STATE/tmp, named after its
/// pid (the image store removes those of processes that are gone).
std::string scratch_dir(const std::string& what);

// ---- the cache (cache.cpp) --------------------------------------------------

/// One step's input beyond its instruction: a file COPY or ADD reads.
struct SourceFile {
    std::string path;      ///< where it lands, relative to the copy's destination
    unsigned mode = 0;     ///< st_mode: type and permission bits
    unsigned uid = 0;      ///< the owner it gets
    unsigned gid = 0;      ///< the group it gets
    std::string content;   ///< sha256 of a file's bytes, a symlink's target, "" for a directory
};

/// Exercise 1: the cache key of a step, "sha256:HEX": a SHA-256 over the
/// parent step's key, the instruction as expanded (its keyword, flags and
/// words, plus the build args it sees for RUN), and, for COPY and ADD, each
/// source file's path, mode, owner and content digest, in the given order.
/// An mtime is not part of it: touching a file does not change the key.
/// Each field must be framed (its length first, or a separator no field may
/// hold) so that "ab"+"c" and "a"+"bc" make different keys.
std::string cache_key(const std::string& parent, const std::string& instruction,
                      const std::vector<SourceFile>& sources);

/// What a step left: the image config and layers after it.
struct StepResult {
    json config;                                 ///< the image config (rootfs.diff_ids, history)
    std::vector<stage3::StoredLayer> layers;     ///< bottom first
};

/// The build cache: a step's result by key, in lib's RecordStore keyed by
/// name (STATE/build-cache/KEY-HEX/step.json), so that a killed box leaves
/// whole entries or none.
class BuildCache {
public:
    /// The cache of state root `root`.
    explicit BuildCache(std::string root);
    /// The result stored for `key`, if any and if every layer is still in `images`.
    std::optional<StepResult> find(const std::string& key, const stage3::ImageStore& images) const;
    /// Stores `result` for `key` (atomically: a reader sees all or nothing).
    void put(const std::string& key, const StepResult& result) const;
    /// `box builder prune`: removes every entry, and the layers only the
    /// cache kept; returns the bytes freed.
    std::int64_t prune(stage3::ImageStore& images) const;
    /// The entries and the bytes of the layers only the cache keeps (system df).
    std::pair<int, std::int64_t> usage(const stage3::ImageStore& images) const;

private:
    RecordStore records_;
};

// ---- what a build reports (output.cpp) -----------------------------------------

/// One thing a build reports as it goes. The build itself prints nothing:
/// a view turns its events into output (docker classic's lines, the compact
/// view, -q), and a program that builds (compose) may give its own.
struct BuildEvent {
    /// What happened.
    enum class Kind {
        Step,     ///< a step starts: `index` of `total`, `text` its instruction (a heredoc's first line)
        Pull,     ///< `text`: what pulling a base image printed
        Running,  ///< a RUN step's container runs: `text` is its id
        Output,   ///< `text`: bytes the RUN step's command wrote, stdout and stderr in the order written
        Removed,  ///< the RUN step's container is removed: `text` is its id
        Done,     ///< the step ended: `text` the short id of what it left ("" for an ARG before FROM),
                  ///< `cached` if the cache gave it (an ONBUILD trigger's steps end too, within FROM's)
        Note,     ///< `text`: a line of docker classic's ("# Executing 1 build trigger")
        Warning,  ///< `text`: a warning (a --build-arg no ARG used)
        Failed,   ///< the step failed: `text` the error (the build then throws it)
        Built,    ///< the image is stored: `text` its id, `tags` its names (full references)
    };
    /// An event of `kind` with `text`.
    BuildEvent(Kind kind, std::string text = {}) : kind(kind), text(std::move(text)) {}
    Kind kind;                      ///< what happened
    std::string text;               ///< see Kind
    size_t index = 0;               ///< Step: its number, from 1
    size_t total = 0;               ///< Step: the number of steps
    bool cached = false;            ///< Done: from the cache
    std::vector<std::string> tags;  ///< Built
};

/// Where a build's events go (called on the build's thread, except Output:
/// see run_step()); an empty one drops them.
using BuildEvents = std::function<void(const BuildEvent&)>;

/// docker classic builder's lines on `out` (--progress plain): "Step 2/5 :
/// RUN ...", " ---> Running in ID", the step's output as it comes,
/// " ---> Using cache", " ---> ID", "Successfully built ID", "Successfully tagged NAME".
BuildEvents classic_view(FILE* out);
/// The compact view on `out` (--progress tty, auto on a terminal): a line per
/// step, "CACHED" or its time, written in place on a `terminal`; a RUN step's
/// output only if it fails (on stderr).
BuildEvents compact_view(FILE* out, bool terminal);
/// -q: nothing but a failed RUN step's output and pulls' lines, on stderr
/// (the command prints the image's id).
BuildEvents quiet_view();
/// A stdio stream whose writes become events of kind `kind` (what a pull
/// prints, as Pull events), closed when the pointer goes.
std::unique_ptr<FILE, int (*)(FILE*)> event_stream(const BuildEvents& events, BuildEvent::Kind kind);

// ---- the steps (steps.cpp) --------------------------------------------------

/// A stage of the build being built: FROM up to the next FROM.
struct BuildState {
    std::string name;                          ///< `AS name` (lower case), "" if none
    StepResult result;                         ///< config and layers so far
    std::string key;                           ///< the cache key of the last step
    bool cmd_set = false;                      ///< a CMD came in this stage (ENTRYPOINT keeps it)
    std::vector<std::pair<std::string, std::string>> args;  ///< ARGs in scope, in order declared
    std::vector<std::string> shell = {"/bin/sh", "-c"};     ///< SHELL
    char escape = '\\';                       ///< the Dockerfile's escape character
};

/// The variables a step's words expand with: the ARGs in scope, then the
/// config's Env (ENV wins over an ARG of the same name).
shell::Env step_env(const BuildState& state);

/// CMD, ENTRYPOINT, SHELL, HEALTHCHECK or MAINTAINER on `state`. The
/// HEALTHCHECK and MAINTAINER part is given (MAINTAINER sets the config's
/// author); exercise 3 is the rest: CMD and ENTRYPOINT take the exec form
/// (JSON) as is and wrap the shell form in the stage's SHELL
/// (`["/bin/sh", "-c", "TEXT"]`). An ENTRYPOINT clears an inherited Cmd
/// unless this stage set one (state.cmd_set); a CMD sets cmd_set. SHELL
/// needs the JSON form. Throws box::Error naming `what` for bad arguments.
void set_command(BuildState& state, const dockerfile::Node& node, const std::string& what);

/// How a RUN step runs: its command and the environment of the moment.
struct RunStep {
    std::vector<std::string> argv;   ///< the command: exec form, or SHELL + the line
    std::vector<std::string> env;    ///< the config's Env plus the ARGs in scope (K=V)
    std::string network = "host";    ///< --network: host or none (docker's default, the bridge, is not wired into build yet)
};

/// The command of RUN `node` on `state` (the exec form as is; the shell form,
/// with any heredocs, in the stage's SHELL; a lone `<<EOF` runs its text).
RunStep run_command(const BuildState& state, const dockerfile::Node& node);

/// Exercise 2: runs `step` in a container of the state so far — made through
/// chapter 4's create_container() on `state.result.layers` (HostConfig.BoxLayers),
/// with the config's User and WorkingDir and chapter 5's protections —
/// waits for it, and turns what it changed into a layer (chapter 4's
/// write_layer(), stored with ImageStore::add_layer()). Reports a Running
/// event with the container's id once made, its output as Output events
/// (run_foreground()'s output sink: called from another thread while this
/// one waits), and a Removed event once the layer is stored. The container
/// is removed whatever happens. A non-zero exit throws box::Error `The
/// command 'CMD' returned a non-zero code: N` (exit status 1 of box) and
/// stores nothing. Returns the new layer.
stage3::StoredLayer run_step(const BuildState& state, const RunStep& step, const BuildEvents& events);

/// COPY or ADD `node`: what a copy reads from where to where.
struct CopyStep {
    std::vector<std::string> sources;  ///< relative to the source root, wildcards allowed
    std::string dest;                  ///< absolute, in the image; a trailing `/` kept
    std::string from;                  ///< --from: a stage name or number, or an image
    std::string chown;                 ///< --chown USER[:GROUP] as given
    std::optional<unsigned> uid;       ///< --chown's user, resolved by the build with the image's /etc/passwd
    std::optional<unsigned> gid;       ///< --chown's group, resolved with the image's /etc/group
    std::optional<unsigned> mode;      ///< --chmod (octal)
    bool add = false;                  ///< ADD: URLs fetched, local tars unpacked
    std::vector<dockerfile::Heredoc> heredocs;  ///< `COPY <<EOF /path`: files of inline text
};

/// A COPY or ADD read from its node, its words expanded with step_env(),
/// a relative destination taken from the stage's WorkingDir. Throws
/// box::Error naming `what` (an unknown flag, a bad --chmod, one argument).
CopyStep parse_copy(const BuildState& state, const dockerfile::Node& node, const std::string& what);

/// Where a copy's files come from: a directory, with the context's
/// .dockerignore (or none, for another stage or an image).
struct SourceRoot {
    std::string dir;                        ///< the directory the sources are relative to
    const IgnoreMatcher* ignore = nullptr;  ///< paths the build must not see
    bool own_owners = false;                ///< keep the files' owners (--from), else root's
    std::string fetch_dir;                  ///< where ADD puts what it fetches from URLs
};

/// One source of a copy, matched: a file or directory under `root`, and
/// where it goes.
struct Match {
    std::string root;  ///< the directory `path` is relative to (the source root, or fetch_dir)
    std::string path;  ///< relative to `root`, cleaned ("." for the root itself)
    std::string dest;  ///< absolute in the image; a trailing `/`: into that directory
    bool fetched = false;  ///< ADD fetched it from a URL (mode 0600, never unpacked)
};

/// Advanced exercise 5: the sources of `step` under `root`, as docker
/// resolves them: a wildcard (Go filepath.Match, `*` not crossing `/`)
/// matches paths of the root; an ignored path is not there; a directory's
/// contents go into the destination; ADD fetches a URL into root.fetch_dir.
/// With several sources or a wildcard the destination must end in `/`.
/// Throws box::Error `COPY failed: file not found in build context or
/// excluded by .dockerignore: stat SRC: file does not exist`.
std::vector<Match> match_sources(const CopyStep& step, const SourceRoot& root);

/// The files a copy writes, for its cache key: every path under each match
/// (not the ignored ones) with its mode, the owner it gets (--chown, else
/// root for the context, the file's own with `own_owners`) and its content
/// digest; and each heredoc of the step.
std::vector<SourceFile> copy_inputs(const CopyStep& step, const SourceRoot& root, const std::vector<Match>& matched);

/// Gives this process a mount namespace of its own, once (chapter 1's
/// private mounts): what a build mounts goes with it, however it ends.
void private_mounts();

/// Runs copy `step` onto the layers of `state`: an overlay of them with a
/// fresh upper directory, in this process's private mount namespace; the
/// upper directory becomes the returned layer.
stage3::StoredLayer copy_step(const BuildState& state, const CopyStep& step, const SourceRoot& root,
                              const std::vector<Match>& matched);

// ---- the build (build.cpp) --------------------------------------------------

/// What a build is asked for (`box build`'s flags, but for how it shows progress).
struct BuildOptions {
    std::string context = ".";             ///< PATH | URL | -
    std::string file;                      ///< -f
    std::vector<std::string> tags;         ///< -t NAME[:TAG], several
    std::vector<std::string> build_args;   ///< --build-arg K[=V]
    std::vector<std::string> labels;       ///< --label K=V
    std::string target;                    ///< --target
    std::string iidfile;                   ///< --iidfile
    std::string network = "host";          ///< --network
    bool no_cache = false;                 ///< --no-cache
    bool pull = false;                     ///< --pull
};

/// Builds the image the options ask for, reporting to `events`; returns the
/// image id. Throws box::Error (after a Failed event, if a step failed).
std::string build(const BuildOptions& options, const BuildEvents& events);

/// Registers `box build`, `box builder prune` and the Build Cache row of `box system df`.
void register_commands();

}  // namespace box::stage6
