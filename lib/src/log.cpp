#include "box/log.hpp"

#include <unistd.h>

#include "box/error.hpp"

namespace box::log {
namespace {
Level g_level = Level::Warn;

void emit(Level at, const std::string& text) {
    if (static_cast<int>(at) > static_cast<int>(g_level)) return;
    std::string line = "box: " + text + "\n";
    ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}
}  // namespace

void set_level(const std::string& name) {
    if (name == "error") g_level = Level::Error;
    else if (name == "warn") g_level = Level::Warn;
    else if (name == "info") g_level = Level::Info;
    else if (name == "debug") g_level = Level::Debug;
    else throw Error("invalid log level " + name, "expected error, warn, info or debug");
}

void warn(const std::string& text) { emit(Level::Warn, "warning: " + text); }
void info(const std::string& text) { emit(Level::Info, text); }
void debug(const std::string& text) { emit(Level::Debug, "debug: " + text); }

}  // namespace box::log
