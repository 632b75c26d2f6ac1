#include "box/util.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <set>
#include <utility>

#include "box/error.hpp"
#include "box/fd.hpp"

namespace box {

std::string join(const std::vector<std::string>& words, const char* sep) {
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) out += (i ? sep : "") + words[i];
    return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        size_t pos = s.find(sep, start);
        out.emplace_back(s.substr(start, pos - start));
        if (pos == std::string_view::npos) return out;
        start = pos + 1;
    }
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    return out;
}

std::string to_upper(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    return out;
}

std::pair<int, int> kernel_version(const std::string& release) {
    int major = 0, minor = 0;
    if (sscanf(release.c_str(), "%d.%d", &major, &minor) < 1) return {0, 0};
    return {major, minor};
}

const char* native_arch() {
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

std::string random_hex(size_t n) {
    std::string bytes((n + 1) / 2, '\0');
    if (getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
        throw_errno("getrandom", errno);
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    out.resize(n);
    return out;
}

std::optional<std::string> try_read_file(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    std::string out;
    char buf[8192];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        if (n == 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

std::string read_file(const std::string& path) {
    errno = 0;
    auto content = try_read_file(path);
    if (!content) throw_errno("read " + path, errno ? errno : EIO);
    return *content;
}

void write_file_atomic(const std::string& path, const std::string& content, unsigned mode, bool sync) {
    std::string tmp = path + ".tmp-" + random_hex(8);
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd) throw_errno("create " + tmp, errno);
    const char* p = content.data();
    size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd.get(), p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::unlink(tmp.c_str());
            throw_errno("write " + tmp, err);
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    if ((sync && ::fsync(fd.get()) != 0) || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw_errno("write " + path, err);
    }
}

bool write_all(int fd, const char* buf, size_t len) {
    while (len > 0) {
        ssize_t n = ::write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        buf += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

void make_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw Error("mkdir -p " + path, ec.message());
    if (!is_directory(path)) throw Error("mkdir -p " + path, "not a directory");
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::int64_t tree_size(const std::string& dir) {
    namespace fs = std::filesystem;
    struct stat top {};
    if (::lstat(dir.c_str(), &top) != 0 || !S_ISDIR(top.st_mode)) return 0;
    std::set<std::pair<dev_t, ino_t>> seen;
    std::int64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode) && st.st_dev != top.st_dev) {
            it.disable_recursion_pending();  // a mount inside: not this tree's bytes
            continue;
        }
        if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && seen.insert({st.st_dev, st.st_ino}).second)
            total += st.st_size;
    }
    return total;
}

namespace {
std::string g_state_root;
}

const std::string& state_root() {
    if (g_state_root.empty()) {
        const char* env = getenv("BOX_ROOT");
        g_state_root = (env && *env) ? env : "/var/lib/box";
    }
    return g_state_root;
}

void set_state_root(std::string root) { g_state_root = std::move(root); }

}  // namespace box
