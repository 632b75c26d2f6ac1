// Chapter 5: what of /proc and /sys the container sees, and what it may
// write. /proc and /sys are the kernel's own, not the container's: some of
// their files act on the whole host (/proc/sys/kernel/core_pattern,
// /proc/sysrq-trigger), some show the host's secrets (/proc/kcore,
// /proc/keys). docker hides the first kind behind read-only mounts and the
// second behind empty ones; so does box.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <filesystem>

#include "box/error.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "stage5.hpp"

namespace box::stage5 {

const std::vector<std::string>& masked_paths() {
    static const std::vector<std::string> paths = {
        "/proc/asound",       "/proc/acpi",        "/proc/kcore",      "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",         "/sys/firmware",     "/sys/devices/virtual/powercap"};
    return paths;
}

const std::vector<std::string>& readonly_paths() {
    static const std::vector<std::string> paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                   "/proc/sysrq-trigger"};
    return paths;
}

void mask_paths(const std::string& rootfs, const std::vector<std::string>& masked,
                const std::vector<std::string>& readonly) {
    // BEGIN EXERCISE 8: mask_paths()
    for (const auto& path : masked) {
        std::string target = rootfs + path;
        struct stat st {};
        if (::lstat(target.c_str(), &st) != 0) continue;  // not on this kernel: nothing to hide
        if (S_ISDIR(st.st_mode)) {
            // An empty directory over it: an empty, read-only tmpfs.
            sys::mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        } else {
            // A file reads as /dev/null: nothing.
            sys::mount((rootfs + "/dev/null").c_str(), target, nullptr, MS_BIND);
        }
    }
    for (const auto& path : readonly) {
        std::string target = rootfs + path;
        if (!exists(target)) continue;
        // A bind mount of the path onto itself is a mount of its own, which
        // can then be made read-only alone. The flags the mount has
        // (nosuid, nodev, noexec on /proc) are kept: a user namespace may
        // not drop them.
        sys::mount(target.c_str(), target, nullptr, MS_BIND | MS_REC);
        sys::mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
    // END EXERCISE
}

void make_sys_writable(const std::string& rootfs) {
    // --privileged: docker's /sys is read-write then. Chapter 1 mounted a
    // read-only sysfs (read-only for good: a remount of a bind would not
    // change that): a new one takes its place.
    sys::umount2(rootfs + "/sys", MNT_DETACH);
    sys::mount("sysfs", rootfs + "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

void mount_tmpfs(const std::string& rootfs, const std::map<std::string, std::string>& tmpfs) {
    for (const auto& [path, options] : tmpfs) {
        std::string target = rootfs + path;
        std::filesystem::create_directories(target);
        // docker's defaults: noexec, nosuid, nodev, unless the options say
        // exec, suid, dev; the other options go to tmpfs (size=, mode=).
        unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        std::string data;
        for (const auto& o : split(options, ',')) {
            if (o.empty()) continue;
            if (o == "exec") flags &= ~static_cast<unsigned long>(MS_NOEXEC);
            else if (o == "suid") flags &= ~static_cast<unsigned long>(MS_NOSUID);
            else if (o == "dev") flags &= ~static_cast<unsigned long>(MS_NODEV);
            else if (o == "noexec") flags |= MS_NOEXEC;
            else if (o == "nosuid") flags |= MS_NOSUID;
            else if (o == "nodev") flags |= MS_NODEV;
            else if (o == "ro") flags |= MS_RDONLY;
            else if (o == "rw") flags &= ~static_cast<unsigned long>(MS_RDONLY);
            else data += (data.empty() ? "" : ",") + o;
        }
        sys::mount("tmpfs", target, "tmpfs", flags, data.empty() ? nullptr : data.c_str());
    }
}

void make_root_read_only(const std::string& rootfs) {
    // The root is a bind mount of its own (chapter 1's bind_rootfs): only it
    // becomes read-only, not /proc, /dev, the volumes or --tmpfs mounted on it.
    sys::mount(nullptr, rootfs, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY);
}

void make_device_nodes(const std::string& rootfs, const std::vector<DeviceMapping>& devices, bool in_userns) {
    for (const auto& d : devices) {
        struct stat st {};
        if (::stat(d.host.c_str(), &st) != 0) throw_errno("--device " + d.host, errno);
        std::string target = rootfs + (d.container.empty() ? d.host : d.container);
        std::filesystem::create_directories(std::filesystem::path(target).parent_path());
        if (in_userns) {  // a user namespace may not mknod: bind the host's node
            if (!exists(target)) sys::create_file(target, 0666);
            sys::mount(d.host.c_str(), target, nullptr, MS_BIND);
            continue;
        }
        if (exists(target)) ::unlink(target.c_str());
        sys::mknod(target, (st.st_mode & S_IFMT) | (st.st_mode & 07777), major(st.st_rdev), minor(st.st_rdev));
        sys::chmod(target, st.st_mode & 07777);
    }
}

std::vector<DeviceMapping> host_devices() {
    // --privileged: every device node of the host's /dev (not in its
    // subdirectories, and not those chapter 1 makes anyway), as docker does.
    std::vector<DeviceMapping> out;
    for (const auto& e : std::filesystem::directory_iterator("/dev")) {
        struct stat st {};
        if (::lstat(e.path().c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
        std::string name = e.path().filename();
        if (name == "null" || name == "zero" || name == "full" || name == "random" || name == "urandom" ||
            name == "tty" || name == "console" || name == "ptmx")
            continue;
        out.push_back({e.path().string(), "", "rwm"});
    }
    return out;
}

}  // namespace box::stage5
