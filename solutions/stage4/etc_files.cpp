// Chapter 4: the files docker gives every container — /etc/hostname,
// /etc/hosts and /etc/resolv.conf — kept in the container's directory and
// bind-mounted over the image's, so -h shows in them and a container always
// has a resolver configuration, whatever its image holds.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/extension.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "etc_files.hpp"
#include "volumes.hpp"

namespace box::stage4 {

std::string container_resolv_conf(const std::string& host, bool host_network) {
    if (host_network) return host;
    std::string out;
    bool any = false;
    for (const auto& line : split(host, '\n')) {
        auto words = split(line, ' ');
        if (words.size() >= 2 && words[0] == "nameserver") {
            const std::string& ip = words[1];
            if (starts_with(ip, "127.") || ip == "::1") continue;  // the host's own resolver: unreachable inside
            any = true;
        }
        if (!line.empty()) out += line + "\n";
    }
    if (!any) out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";  // docker's fallback
    return out;
}

std::string container_hosts(const std::string& hostname, const std::string& host, bool host_network) {
    if (host_network) return host;
    return "127.0.0.1\tlocalhost\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n"
           "fe00::0\tip6-localnet\n"
           "ff00::0\tip6-mcastprefix\n"
           "ff02::1\tip6-allnodes\n"
           "ff02::2\tip6-allrouters\n"
           "127.0.1.1\t" + hostname + "\n";
}

void write_etc_file(const std::string& path, const std::string& content) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd || !write_all(fd.get(), content.data(), content.size())) throw_errno("write " + path, errno);
}

namespace {

constexpr const char* kFiles[] = {"hostname", "hosts", "resolv.conf"};


// Writes the three files into the container's directory before the clone
// and binds them over ROOTFS/etc/* in the child (Mounts phase: on the
// overlay). With an image, a missing /etc/FILE is made in the container's
// own layer; a --rootfs directory is the user's and is not changed: a file
// it lacks is not given.
class EtcFilesExtension : public ContainerExtension {
public:
    EtcFilesExtension(const ContainerSpec& spec, std::string dir)
        : rootfs_(spec.rootfs), dir_(std::move(dir)), may_create_(spec.rootfs_made_later) {
        bool host = spec.network == NetworkMode::Host;
        write_etc_file(dir_ + "/hostname", spec.hostname + "\n");
        write_etc_file(dir_ + "/hosts", container_hosts(spec.hostname, try_read_file("/etc/hosts").value_or(""), host));
        write_etc_file(dir_ + "/resolv.conf", container_resolv_conf(try_read_file("/etc/resolv.conf").value_or(""), host));
    }

    void in_child_before_rootfs() override {
        Fd etc = make_dirs_in_root(rootfs_, "/etc");
        for (const char* name : kFiles) {
            struct stat st {};
            bool regular = ::fstatat(etc.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
            if (!regular) {
                if (!may_create_) continue;  // the user's directory: left as it is
                ::unlinkat(etc.get(), name, 0);  // a symlink of the image's (it could point anywhere)
                Fd made(::openat(etc.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
                if (!made) throw_errno(std::string("create /etc/") + name + " in the container", errno);
            }
            Fd target(::openat(etc.get(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
            if (!target) throw_errno(std::string("open /etc/") + name + " in the container", errno);
            sys::mount((dir_ + "/" + name).c_str(), "/proc/self/fd/" + std::to_string(target.get()), nullptr, MS_BIND);
        }
    }

private:
    std::string rootfs_, dir_;
    bool may_create_;
};

}  // namespace

void add_etc_files_extension() {
    add_extension("etc-files", ExtensionPhase::Mounts, [](const ExtensionContext& ctx) -> std::unique_ptr<ContainerExtension> {
        std::string dir = state_root() + "/containers/" + ctx.spec.id;
        if (ctx.mode != ExtensionMode::Create || !is_directory(dir)) return nullptr;  // only a recorded container
        return std::make_unique<EtcFilesExtension>(ctx.spec, dir);
    });
}

}  // namespace box::stage4
