// Chapter 4: `box cp` — files between a container and the host. Every path
// inside the container is resolved with openat2(RESOLVE_IN_ROOT): a symlink
// in the container (say /leak -> /etc/shadow) means the container's
// /etc/shadow, never the host's.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>

#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "commit.hpp"
#include "cp.hpp"

namespace fs = std::filesystem;

namespace box::stage4 {
namespace {

void copy_data(int from, int to, const std::string& what) {
    char buf[65536];
    for (ssize_t n; (n = ::read(from, buf, sizeof buf)) != 0;) {
        if (n < 0) throw_errno("read " + what, errno);
        if (::write(to, buf, static_cast<size_t>(n)) != n) throw_errno("write " + what, errno);
    }
}

// Copies the entry `name` of directory `from_dir` to `name` in `to_dir`,
// never following a symlink on either side (a symlink is copied as one).
void copy_entry(int from_dir, const std::string& name, int to_dir, const std::string& to_name) {
    struct stat st {};
    if (::fstatat(from_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("stat " + name, errno);
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = ::readlinkat(from_dir, name.c_str(), target, sizeof target - 1);
        if (n < 0) throw_errno("readlink " + name, errno);
        ::unlinkat(to_dir, to_name.c_str(), 0);
        if (::symlinkat(std::string(target, static_cast<size_t>(n)).c_str(), to_dir, to_name.c_str()) != 0)
            throw_errno("symlink " + to_name, errno);
    } else if (S_ISDIR(st.st_mode)) {
        if (::mkdirat(to_dir, to_name.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST) throw_errno("mkdir " + to_name, errno);
        Fd src(::openat(from_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        Fd dst(::openat(to_dir, to_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!src || !dst) throw_errno("open " + name, errno);
        DIR* d = ::fdopendir(::dup(src.get()));
        if (!d) throw_errno("opendir " + name, errno);
        std::vector<std::string> names;
        while (struct dirent* e = ::readdir(d))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
        ::closedir(d);
        for (const auto& n : names) copy_entry(src.get(), n, dst.get(), n);
    } else if (S_ISREG(st.st_mode)) {
        Fd src(::openat(from_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!src) throw_errno("open " + name, errno);
        Fd dst(::openat(to_dir, to_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777));
        if (!dst) throw_errno("create " + to_name, errno);
        copy_data(src.get(), dst.get(), name);
    } else {
        throw Error("copy " + name, "only files, directories and symlinks are copied");
    }
}

// Splits "/a/b/c" into "/a/b" and "c".
std::pair<std::string, std::string> split_path(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// The container's root directory, open: /proc/PID/root while it runs; else
// its overlay, mounted in a private mount namespace of ours.
Fd container_root(const Container& c) {
    std::string root = c.spec.rootfs;
    if (c.running() && c.state.pid > 0) {
        root = "/proc/" + std::to_string(c.state.pid) + "/root";
    } else if (!c.spec.layers.empty()) {
        root = mount_privately(c, true);
    }
    Fd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno("open " + root, errno);
    return fd;
}

}  // namespace

int copy_out(const Container& c, const std::string& src, const std::string& dest, bool follow) {
    Fd root = container_root(c);
    auto [dir, name] = split_path(src);
    Fd file = follow ? open_in_root(root.get(), src, O_RDONLY | O_NOFOLLOW) : Fd();
    if (follow && !file && errno == ELOOP) file = open_in_root(root.get(), src, O_RDONLY);  // -L: what it points to
    struct stat st {};
    if (file && ::fstat(file.get(), &st) == 0 && S_ISREG(st.st_mode)) {
        std::string target = is_directory(dest) ? dest + "/" + name : dest;
        Fd out(::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777));
        if (!out) throw_errno("create " + target, errno);
        copy_data(file.get(), out.get(), src);
        return 0;
    }
    Fd from = open_in_root(root.get(), dir, O_RDONLY | O_DIRECTORY);
    if (!from) throw_errno("Could not find the file " + src + " in container " + c.name, errno);
    std::string target_dir = dest, target_name = name;
    if (!is_directory(dest)) std::tie(target_dir, target_name) = split_path(dest);
    Fd to(::open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!to) throw_errno("open " + target_dir, errno);
    copy_entry(from.get(), name == "/" ? "." : name, to.get(), target_name);
    return 0;
}

int copy_in(const Container& c, const std::string& src, const std::string& dest) {
    Fd root = container_root(c);
    auto [src_dir, src_name] = split_path(fs::absolute(src).string());
    Fd from(::open(src_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!from) throw_errno("open " + src_dir, errno);
    Fd dest_as_dir = open_in_root(root.get(), dest, O_RDONLY | O_DIRECTORY);
    if (dest_as_dir) {  // into an existing directory, under the same name
        copy_entry(from.get(), src_name, dest_as_dir.get(), src_name);
        return 0;
    }
    auto [dir, name] = split_path(dest);
    Fd to = open_in_root(root.get(), dir, O_RDONLY | O_DIRECTORY);
    if (!to) throw_errno("Could not find the directory " + dir + " in container " + c.name, errno);
    copy_entry(from.get(), src_name, to.get(), name);
    return 0;
}

void register_cp_command() {
    cli::define("cp", "Copy files/folders between a container and the local filesystem", [](CLI::App& c) -> cli::Action {
        auto args = std::make_shared<std::vector<std::string>>();
        auto follow = std::make_shared<bool>(false);
        c.add_option("SRC DEST", *args, "CONTAINER:SRC_PATH DEST_PATH, or SRC_PATH CONTAINER:DEST_PATH")
            ->required()
            ->expected(2);
        c.add_flag("-L,--follow-link", *follow, "Always follow symbol link in SRC_PATH");
        return [args, follow] {
            const auto& a = *args;
            auto container_part = [](const std::string& s) {
                size_t colon = s.find(':');
                return colon != std::string::npos && s[0] != '/' && s[0] != '.' ? colon : std::string::npos;
            };
            size_t from = container_part(a[0]), to = container_part(a[1]);
            if ((from == std::string::npos) == (to == std::string::npos))
                throw Error("cp", "give one CONTAINER:PATH and one local path");
            ContainerStore s(state_root());
            if (from != std::string::npos) return copy_out(s.find(a[0].substr(0, from)), a[0].substr(from + 1), a[1], *follow);
            return copy_in(s.find(a[1].substr(0, to)), a[0], a[1].substr(to + 1));
        };
    });
}
}  // namespace box::stage4
