#include "box/cli.hpp"

#include <unistd.h>

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
    std::vector<Definition> definitions;  // in registration order: the order of `box --help`
    std::vector<Extension> extensions;
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

void build(CLI::App& parent, const Definition& d) {
    CLI::App* sub = parent.add_subcommand(leaf_of(d.path), d.summary);
    sub->set_help_flag("--help", "Print usage");
    if (!d.declare) {  // a group: its commands
        sub->require_subcommand(1);
        for (const auto& member : registry().definitions)
            if (group_of(member.path) == d.path) build(*sub, member);
        return;
    }
    sub->callback([sub, action = declare_like(std::string(d.path), *sub)] {
        (void)sub;
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

int main(int argc, char** argv, int stage) {
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
        log::set_level(level);
        if (explain) trace::enable(STDERR_FILENO);
    };

    try {
        // Only the command argv names (a group: its commands); all of them
        // for help, for no command and for an unknown one, so that the
        // listing and CLI11's error stay what they were.
        std::string word = command_word(argc, argv);
        const Definition* named = word.empty() || word == "-" ? nullptr : find(word);
        bool version_only = word.empty() && argc > 1;
        if (named) {
            build(app, *named);
        } else if (!version_only) {
            for (const auto& d : registry().definitions)
                if (group_of(d.path).empty()) build(app, d);
        }
        app.parse(argc, argv);
        return g_status;
    } catch (const CLI::CallForHelp&) {
        CLI::App* shown = &app;
        while (!shown->get_subcommands().empty()) shown = shown->get_subcommands().front();
        std::cout << shown->help();
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        std::cout << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::CallForVersion&) {
        std::cout << app.version() << "\n";
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
        return e.status();
    } catch (const std::exception& e) {
        print_error(e.what());
        return kExitBoxError;
    }
}

}  // namespace box::cli
