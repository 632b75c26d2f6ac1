#include "box/cli.hpp"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "box/error.hpp"
#include "box/log.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"

namespace box::cli {
namespace {
int g_status = 0;
std::function<void()> g_apply_globals;  // set by main(), run before any command

void print_error(const std::string& text) {
    std::string line = "box: " + text + "\n";
    ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}
}  // namespace

CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& description,
                      std::function<int()> action) {
    CLI::App* sub = app.add_subcommand(name, description);
    sub->set_help_flag("--help", "Print usage");
    sub->callback([action = std::move(action)] {
        if (g_apply_globals) g_apply_globals();
        g_status = action();
    });
    return sub;
}

int main(int argc, char** argv, int stage, const std::function<void(CLI::App&)>& add_commands) {
    // Never destroyed: box exits right after, and taking apart ~60 subcommands'
    // options costs every command (`box run`) most of a millisecond.
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
    add_commands(app);

    try {
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
