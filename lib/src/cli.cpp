#include "box/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string_view>
#include <vector>

#include "box/error.hpp"
#include "box/log.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"

namespace box::cli {
namespace {
int g_status = 0;
int g_stage = 0;
std::function<void()> g_apply_globals;  // set by main(), run before any command

// Paths and summaries are the string literals the stages pass: registering
// copies no text (box registers ~60 commands at every start).
struct Definition {
    std::string_view path;
    const char* summary;
    Declare declare;  // empty for a group
};
struct Extension {
    std::string_view path;
    std::function<void(CLI::App&)> declare;
};
struct Registry {
    std::vector<Definition> definitions;  // in registration order
    std::vector<Extension> extensions;
    std::vector<std::pair<std::string_view, std::string_view>> aliases;  // path -> target
    std::vector<std::string_view> keep_status;  // commands whose failures keep their status
};
Registry& registry() {
    static Registry r;
    return r;
}

void print_error(const std::string& text) {
    std::string line = "box: " + text + "\n";
    ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

// "container prune" -> group "container", leaf "prune"; "ps" -> no group.
std::string_view group_of(std::string_view path) {
    size_t space = path.find(' ');
    return space == std::string_view::npos ? std::string_view() : path.substr(0, space);
}
std::string leaf_of(std::string_view path) { return std::string(path.substr(path.rfind(' ') + 1)); }

const Definition* find(std::string_view path) {
    for (const auto& d : registry().definitions)
        if (d.path == path) return &d;
    return nullptr;
}

// What an alias stands for ("image ls" -> "images"), or `path` itself.
std::string_view target_of(std::string_view path) {
    for (const auto& [a, t] : registry().aliases)
        if (a == path) return t;
    return path;
}

const char* summary_of(const Definition& d) {
    const Definition* t = find(target_of(d.path));
    return t && *d.summary == 0 ? t->summary : d.summary;
}

// Adds `d` to `parent`. A group gets its member `only` (the one argv names),
// or all of them if `only` is empty. Commands declare their options as they
// are built, and some register a filler or a runner then: build only what runs.
void build(CLI::App& parent, const Definition& d, std::string_view only = {}) {
    CLI::App* sub = parent.add_subcommand(leaf_of(d.path), summary_of(d));
    sub->set_help_flag("--help", "Print usage");
    if (!d.declare) {  // a group: its commands
        sub->require_subcommand(1);
        for (const auto& member : registry().definitions)
            if (group_of(member.path) == d.path && (only.empty() || member.path == only)) build(*sub, member);
        return;
    }
    sub->callback([action = declare_like(std::string(d.path), *sub)] {
        if (g_apply_globals) g_apply_globals();
        g_status = action();
    });
}

// The command word of argv: the first argument that is not a global flag (or
// its value). Empty if there is none; "-" for --help and other flags.
std::string command_word(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--root" || a == "--log-level") {
            ++i;
        } else if (a == "--explain" || starts_with(a, "--root=") || starts_with(a, "--log-level=")) {
        } else if (a == "--version") {
            return "";
        } else {
            return a[0] == '-' ? "-" : a;
        }
    }
    return "";
}

// docker's usage screen: what `box` alone and `box --help` print.
void print_usage() {
    static const char* const common[] = {"run", "exec", "ps", "build", "pull", "push", "images",
                                         "login", "logout", "search", "version", "info"};
    auto shown = [](const Definition& d) { return group_of(d.path).empty() && d.path.substr(0, 2) != "__"; };
    size_t width = 0;
    for (const auto& d : registry().definitions)
        if (shown(d)) width = std::max(width, d.path.size());
    auto row = [&](const Definition& d) { printf("  %-*s  %s\n", static_cast<int>(width), std::string(d.path).c_str(), summary_of(d)); };
    printf("Usage:  box [OPTIONS] COMMAND\n\nA container engine you build yourself, one stage at a time\n\n");
    printf("Common Commands:\n");
    for (const char* name : common)
        if (const Definition* d = find(name)) row(*d);
    printf("\nManagement Commands:\n");
    for (const auto& d : registry().definitions)
        if (shown(d) && !d.declare) row(d);
    printf("\nCommands:\n");
    std::vector<const Definition*> rest;
    for (const auto& d : registry().definitions)
        if (shown(d) && d.declare && std::find(std::begin(common), std::end(common), d.path) == std::end(common))
            rest.push_back(&d);
    std::sort(rest.begin(), rest.end(), [](const Definition* a, const Definition* b) { return a->path < b->path; });
    for (const auto* d : rest) row(*d);
    printf("\nGlobal Options:\n"
           "      --root string        State directory (default $BOX_ROOT or /var/lib/box)\n"
           "      --explain            Print every kernel-facing step (system call or file write) as it is done\n"
           "      --log-level string   Set the logging level (\"debug\", \"info\", \"warn\", \"error\") (default \"warn\")\n"
           "      --help               Print usage\n"
           "      --version            Print version information and quit\n"
           "\nRun 'box COMMAND --help' for more information on a command.\n");
}

// docker: a command that runs and fails exits 1; run, create and start keep
// 125 (box's own failure) and 126/127 (the command cannot run).
int failure_status(std::string_view path, int status) {
    auto& keep = registry().keep_status;
    bool keeps = std::find(keep.begin(), keep.end(), target_of(path)) != keep.end();
    return status == kExitBoxError && !keeps ? 1 : status;
}

// `box GROUP` alone: the group's commands, as docker prints them.
void print_group_usage(const Definition& group) {
    std::vector<const Definition*> members;
    size_t width = 0;
    for (const auto& d : registry().definitions)
        if (group_of(d.path) == group.path) {
            members.push_back(&d);
            width = std::max(width, leaf_of(d.path).size());
        }
    std::sort(members.begin(), members.end(), [](const Definition* a, const Definition* b) { return a->path < b->path; });
    std::string name(group.path);
    printf("Usage:  box %s COMMAND\n\n%s\n\nCommands:\n", name.c_str(), group.summary);
    for (const auto* d : members) printf("  %-*s  %s\n", static_cast<int>(width), leaf_of(d->path).c_str(), summary_of(*d));
    printf("\nRun 'box %s COMMAND --help' for more information on a command.\n", name.c_str());
}

// The command argv runs, as registered ("ps", "container prune"): its word,
// and for a group the next word that is not a flag.
std::string command_path(int argc, char** argv, const std::string& word) {
    const Definition* d = find(word);
    if (!d || d->declare) return word;
    bool seen = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (!seen) {
            seen = a == word;
            continue;
        }
        if (!a.empty() && a[0] != '-') return word + " " + a;
    }
    return word;
}

// docker's flag parser reads `-m=value` as `-m value`; CLI11 would keep the
// "=" in the value (`commit -a="runoob"` stored the author "=runoob"). The
// arguments of command `cmd` with each such short option split in two, up to
// `--` or, for a command whose options end at its first word (run, exec), that
// word. `from` is where the command's own arguments start.
std::vector<std::string> split_short_values(int argc, char** argv, int from, const CLI::App& cmd) {
    std::vector<std::string> out(argv, argv + argc);
    auto takes_value = [&](const std::string& name) {
        const CLI::Option* o = cmd.get_option_no_throw(name);
        return o && o->get_items_expected_min() > 0;
    };
    for (size_t i = static_cast<size_t>(from); i < out.size(); ++i) {
        const std::string a = out[i];
        if (a == "--") break;
        if (a.size() < 2 || a[0] != '-') {
            if (cmd.get_prefix_command()) break;  // the container's command: its words are its own
            continue;
        }
        if (a[1] == '-') {  // --long value: skip the value
            if (a.find('=') == std::string::npos && takes_value(a)) ++i;
            continue;
        }
        std::string name = a.substr(0, 2);
        if (!takes_value(name)) continue;  // flags (a group like -it), or unknown: CLI11 judges
        if (a.size() == 2) {
            ++i;  // -m value
        } else if (a[2] == '=') {
            out[i] = name;
            out.insert(out.begin() + static_cast<std::ptrdiff_t>(i) + 1, a.substr(3));
            ++i;
        }
    }
    return out;
}

// Where the command's own arguments start: after the words of `path` ("container prune").
int arguments_start(int argc, char** argv, const std::string& path) {
    auto words = split(path, ' ');
    size_t matched = 0;
    for (int i = 1; i < argc; ++i) {
        if (matched < words.size() && words[matched] == argv[i] && ++matched == words.size()) return i + 1;
    }
    return argc;
}

}  // namespace

void define(const char* path, const char* summary, Declare declare) {
    auto& all = registry().definitions;
    if (all.empty()) all.reserve(80);
    all.push_back({path, summary, std::move(declare)});
}

void define_group(const char* name, const char* summary) {
    if (!find(name)) registry().definitions.push_back({name, summary, nullptr});
}

void extend(const char* path, std::function<void(CLI::App&)> declare) {
    registry().extensions.push_back({path, std::move(declare)});
}

void alias(const char* path, const char* target) {
    registry().aliases.emplace_back(path, target);
    define(path, "", [target](CLI::App& c) { return declare_like(target, c); });
}

void keep_failure_status(const char* path) { registry().keep_status.emplace_back(path); }

Action declare_like(const std::string& path, CLI::App& command) {
    const Definition* d = find(path);
    if (!d || !d->declare) throw Error("command " + path, "no such command is registered");
    Action action = d->declare(command);
    for (const auto& e : registry().extensions)
        if (e.path == path) e.declare(command);
    return action;
}

int for_each(const std::vector<std::string>& names, const std::function<void(const std::string&)>& each) {
    int status = 0;
    for (const auto& n : names) {
        try {
            each(n);
        } catch (const Error& e) {
            fflush(stdout);
            print_error(e.what());
            status = 1;
        }
    }
    return status;
}

bool confirm(const std::string& question) {
    printf("%s [y/N] ", question.c_str());
    fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y";
}

void reset_registry() { registry() = Registry{}; }

int stage() { return g_stage; }

int main(int argc, char** argv, int stage) {
    g_stage = stage;
    // Never destroyed: box exits right after, and taking the app apart costs
    // every command time for nothing.
    CLI::App& app = *new CLI::App{"box: a container engine you build yourself, one stage at a time", "box"};
    app.set_help_flag("--help", "Print usage");
    app.set_version_flag("--version", std::string("box ") + BOX_VERSION + " (stage " +
                                          std::to_string(stage) + ")");
    app.require_subcommand(1);
    std::string root;
    bool explain = false;
    std::string level = "warn";
    app.add_option("--root", root, "State directory (default $BOX_ROOT or /var/lib/box)");
    app.add_flag("--explain", explain,
                 "Print every kernel-facing step (system call or file write) as it is done");
    app.add_option("--log-level", level, "error, warn, info or debug")->capture_default_str();
    g_apply_globals = [&] {
        if (!root.empty()) set_state_root(root);
        try {
            log::set_level(level);
        } catch (const Error& e) {  // a bad global flag is a usage error: 125, whatever the command
            throw CLI::ValidationError("--log-level", e.what());
        }
        if (explain) trace::enable(STDERR_FILENO);
    };

    std::string path;  // the command that runs, for its exit status
    try {
        // Only the command argv names (a group: its commands); all of them
        // for help, for no command and for an unknown one, so that the
        // listing and CLI11's error stay what they were.
        std::string word = command_word(argc, argv);
        const Definition* named = word.empty() || word == "-" ? nullptr : find(word);
        bool version_only = word.empty() && argc > 1 && std::string(argv[argc - 1]) == "--version";
        path = command_path(argc, argv, word);
        if (word.empty() && !version_only) {  // `box` alone (with global flags at most): docker's usage
            print_usage();
            return 0;
        }
        if (!named && word != "-" && !word.empty()) {
            print_error("unknown command: box " + word + " (see 'box --help' for the commands there are)");
            return 1;
        }
        if (named && !named->declare && path != word && !find(path)) {
            print_error("unknown command: box " + path + " (see 'box " + word + " --help' for the commands there are)");
            return 1;
        }
        if (named && !named->declare && path == word) {  // `box image`: what the group has
            print_group_usage(*named);
            return 0;
        }
        if (named) {
            build(app, *named, path == word ? std::string_view() : std::string_view(path));
            CLI::App* cmd = app.get_subcommand(word);
            if (path != word) cmd = cmd->get_subcommand(leaf_of(path));
            std::vector<std::string> args = split_short_values(argc, argv, arguments_start(argc, argv, path), *cmd);
            std::vector<char*> pointers;
            for (auto& a : args) pointers.push_back(a.data());
            app.parse(static_cast<int>(pointers.size()), pointers.data());
            return g_status;
        }
        if (!version_only)
            for (const auto& d : registry().definitions)
                if (group_of(d.path).empty()) build(app, d);
        app.parse(argc, argv);
        return g_status;
    } catch (const CLI::CallForHelp&) {
        if (app.get_subcommands().empty()) {  // `box --help`: the usage screen, as docker's
            print_usage();
            return 0;
        }
        CLI::App* shown = &app;
        while (!shown->get_subcommands().empty()) shown = shown->get_subcommands().front();
        std::cout << shown->help();
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        std::cout << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::CallForVersion&) {  // the innermost command's (`box compose --version`'s), else box's
        std::string version = app.version();
        for (CLI::App* a = &app; !a->get_subcommands().empty();) {
            a = a->get_subcommands().front();
            if (!a->version().empty()) version = a->version();
        }
        std::cout << version << "\n";
        return 0;
    } catch (const CLI::ParseError& e) {
        std::string cmd = "box";
        for (CLI::App* a = &app; !a->get_subcommands().empty();) {
            a = a->get_subcommands().front();
            cmd += " " + a->get_name();
        }
        print_error(std::string(e.what()) + " (see '" + cmd + " --help')");
        return kExitBoxError;
    } catch (const Error& e) {
        print_error(e.what());
        return failure_status(path, e.status());
    } catch (const std::exception& e) {
        print_error(e.what());
        return failure_status(path, kExitBoxError);
    }
}

}  // namespace box::cli
