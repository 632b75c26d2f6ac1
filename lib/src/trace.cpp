#include "box/trace.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace box::trace {
namespace {
int g_fd = -1;
}

void enable(int fd) {
    if (g_fd < 0) g_fd = fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

bool enabled() { return g_fd >= 0; }

void line(const std::string& text) {
    if (g_fd < 0) return;
    // One write(2) per line, so lines of box and of the container's first
    // process never interleave mid-line.
    std::string out = "[pid " + std::to_string(getpid()) + "] " + text + "\n";
    const char* p = out.data();
    size_t left = out.size();
    while (left > 0) {
        ssize_t n = write(g_fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
}

std::string quote(const char* s) {
    if (s == nullptr) return "NULL";
    std::string out = "\"";
    for (const char* c = s; *c; ++c) {
        switch (*c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(*c) < 0x20) {
                    char buf[8];
                    snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(*c));
                    out += buf;
                } else {
                    out += *c;
                }
        }
    }
    return out + "\"";
}

std::string quote(const std::string& s) { return quote(s.c_str()); }

std::string quote_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += quote(items[i]);
    }
    return out + "]";
}

std::string flags(std::uint64_t value, std::initializer_list<FlagName> names) {
    if (value == 0) return "0";
    std::string out;
    for (const auto& [bit, name] : names) {
        if (bit != 0 && (value & bit) == bit) {
            if (!out.empty()) out += "|";
            out += name;
            value &= ~bit;
        }
    }
    if (value != 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(value));
        if (!out.empty()) out += "|";
        out += buf;
    }
    return out;
}

std::string mount_flags(unsigned long value) {
    return flags(value, {{MS_RDONLY, "MS_RDONLY"},
                         {MS_NOSUID, "MS_NOSUID"},
                         {MS_NODEV, "MS_NODEV"},
                         {MS_NOEXEC, "MS_NOEXEC"},
                         {MS_REMOUNT, "MS_REMOUNT"},
                         {MS_BIND, "MS_BIND"},
                         {MS_MOVE, "MS_MOVE"},
                         {MS_REC, "MS_REC"},
                         {MS_PRIVATE, "MS_PRIVATE"},
                         {MS_SLAVE, "MS_SLAVE"},
                         {MS_SHARED, "MS_SHARED"},
                         {MS_RELATIME, "MS_RELATIME"},
                         {MS_STRICTATIME, "MS_STRICTATIME"}});
}

std::string clone_flags(unsigned long value) {
    unsigned long sig = value & 0xff;  // the low byte is the exit signal
    std::string out = flags(value & ~0xffUL, {{CLONE_NEWUSER, "CLONE_NEWUSER"},
                                              {CLONE_NEWUTS, "CLONE_NEWUTS"},
                                              {CLONE_NEWPID, "CLONE_NEWPID"},
                                              {CLONE_NEWNS, "CLONE_NEWNS"},
                                              {CLONE_NEWIPC, "CLONE_NEWIPC"},
                                              {CLONE_NEWNET, "CLONE_NEWNET"},
                                              {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
                                              {CLONE_NEWTIME, "CLONE_NEWTIME"}});
    if (sig == SIGCHLD) return out == "0" ? "SIGCHLD" : out + "|SIGCHLD";
    if (sig != 0) return out + "|" + std::to_string(sig);
    return out;
}

std::string result(long value, int err) {
    if (value != -1) return "= " + std::to_string(value);
    const char* name = strerrorname_np(err);
    return std::string("= -1 ") + (name ? name : std::to_string(err).c_str()) + " (" +
           strerror(err) + ")";
}

}  // namespace box::trace
