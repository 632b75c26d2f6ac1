// `box base-rootfs`: the kit's offline base root filesystem, made from the
// host's static busybox. No registry is needed to get a first container up.
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "box/commands.hpp"
#include "box/error.hpp"
#include "box/util.hpp"

namespace fs = std::filesystem;

namespace box {
namespace {

const char* const kBusyboxCandidates[] = {"/bin/busybox", "/usr/bin/busybox"};

// True if the ELF file at `path` asks for no dynamic loader (PT_INTERP), i.e.
// it runs in a root filesystem that has no libc.
bool is_static_elf(const std::string& path) {
    auto data = try_read_file(path);
    if (!data || data->size() < sizeof(Elf64_Ehdr)) return false;
    const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(data->data());
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) return false;
    for (unsigned i = 0; i < eh->e_phnum; ++i) {
        size_t off = eh->e_phoff + static_cast<size_t>(i) * eh->e_phentsize;
        if (off + sizeof(Elf64_Phdr) > data->size()) return false;
        const auto* ph = reinterpret_cast<const Elf64_Phdr*>(data->data() + off);
        if (ph->p_type == PT_INTERP) return false;
    }
    return true;
}

std::string find_static_busybox() {
    for (const char* path : kBusyboxCandidates)
        if (exists(path) && is_static_elf(path)) return path;
    throw Error("base-rootfs", "no static busybox found (install it: apt-get install busybox-static)");
}

// The applets busybox was built with, as paths relative to / ("usr/bin/awk").
std::vector<std::string> applet_paths(const std::string& busybox) {
    std::string cmd = "'" + busybox + "' --list-full";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) throw_errno("popen " + cmd, errno);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) throw Error(cmd, "failed");
    std::vector<std::string> paths;
    for (auto& line : split(out, '\n'))
        if (!line.empty() && line.find("..") == std::string::npos && line[0] != '/') paths.push_back(line);
    return paths;
}

void write(const fs::path& path, const std::string& content, unsigned mode = 0644) {
    write_file_atomic(path.string(), content, mode);
}

void populate(const fs::path& root, const std::string& busybox) {
    for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "run",
                          "var/tmp", "var/log", "home/box", "root", "tmp", "mnt", "opt"})
        fs::create_directories(root / d);
    fs::permissions(root / "tmp", fs::perms(01777));
    fs::permissions(root / "var/tmp", fs::perms(01777));
    fs::permissions(root / "root", fs::perms(0700));
    if (chown((root / "home/box").c_str(), 1000, 1000) != 0) throw_errno("chown home/box", errno);

    fs::copy_file(busybox, root / "bin/busybox");
    fs::permissions(root / "bin/busybox", fs::perms(0755));
    for (const auto& applet : applet_paths(busybox)) {
        fs::path link = root / applet;
        if (applet == "bin/busybox" || fs::exists(fs::symlink_status(link))) continue;
        fs::create_directories(link.parent_path());
        fs::create_symlink("/bin/busybox", link);
    }

    write(root / "etc/passwd",
          "root:x:0:0:root:/root:/bin/sh\n"
          "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
          "box:x:1000:1000:box user:/home/box:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    write(root / "etc/group",
          "root:x:0:\n"
          "daemon:x:1:\n"
          "wheel:x:10:box\n"
          "box:x:1000:\n"
          "nogroup:x:65534:\n");
    write(root / "etc/shadow", "root:*:19000:0:99999:7:::\nbox:*:19000:0:99999:7:::\n", 0640);
    write(root / "etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    write(root / "etc/resolv.conf", "# no name servers yet: stage 6 (network) writes this file\n");
    write(root / "etc/hostname", "box\n");
    write(root / "etc/os-release",
          "NAME=\"box base\"\n"
          "ID=box\n"
          "VERSION_ID=" BOX_VERSION "\n"
          "PRETTY_NAME=\"box base " BOX_VERSION " (busybox, made offline by the box kit)\"\n");
    write(root / "etc/profile", "export PS1='\\u@\\h:\\w\\$ '\n");
}

}  // namespace

void make_base_rootfs(const std::string& dir, bool replace) {
    if (dir.empty()) throw Error("base-rootfs", "no directory given");
    fs::path target = fs::absolute(dir).lexically_normal();
    if (fs::exists(fs::symlink_status(target)) && !replace)
        throw Error("base-rootfs " + target.string(), "already exists (use --force to replace it)");
    std::string busybox = find_static_busybox();
    fs::create_directories(target.parent_path());

    // Build beside the target and rename into place: a failure half-way leaves
    // no half-made root filesystem under the real name.
    fs::path tmp = target;
    tmp += ".tmp-" + random_hex(8);
    try {
        populate(tmp, busybox);
        if (fs::exists(fs::symlink_status(target))) {
            fs::path old = target;
            old += ".old-" + random_hex(8);
            fs::rename(target, old);
            fs::rename(tmp, target);
            fs::remove_all(old);
        } else {
            fs::rename(tmp, target);
        }
    } catch (const fs::filesystem_error& e) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw Error("base-rootfs " + target.string(), e.code().message() + " (" + e.path1().string() + ")");
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
}

}  // namespace box
