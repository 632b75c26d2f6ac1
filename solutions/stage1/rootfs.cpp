// Chapter 1: a root filesystem of the container's own — private mount
// propagation, pivot_root, and the kernel filesystems programs expect.
#include <sys/mount.h>
#include <sys/stat.h>

#include "box/error.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "stage1.hpp"

namespace box::stage1 {

void make_mounts_private() {
    // BEGIN EXERCISE 3: make_mounts_private()
    sys::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE);
    // END EXERCISE
}

void bind_rootfs(const std::string& rootfs) {
    // BEGIN EXERCISE 4: bind_rootfs()
    sys::mount(rootfs.c_str(), rootfs, nullptr, MS_BIND | MS_REC);
    // END EXERCISE
}

void mount_proc_and_sys(const std::string& rootfs, const ContainerSpec& spec) {
    // BEGIN EXERCISE 5: mount_proc_and_sys()
    sys::mkdir(rootfs + "/proc", 0555);
    sys::mount("proc", rootfs + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
    sys::mkdir(rootfs + "/sys", 0555);
    if (spec.userns && spec.network == NetworkMode::Host) {
        sys::mount("/sys", rootfs + "/sys", nullptr, MS_BIND | MS_REC);
        sys::mount(nullptr, rootfs + "/sys", nullptr,
                   MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    } else {
        sys::mount("sysfs", rootfs + "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
    // END EXERCISE
}

void populate_dev(const std::string& rootfs, const ContainerSpec& spec) {
    // BEGIN EXERCISE 6: populate_dev()
    std::string dev = rootfs + "/dev";
    sys::mkdir(dev, 0755);
    sys::mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    struct Device { const char* name; unsigned major, minor; };
    const Device devices[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                              {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
    for (const auto& d : devices) {
        std::string path = dev + "/" + d.name;
        if (spec.userns) {
            sys::create_file(path, 0666);
            sys::mount((std::string("/dev/") + d.name).c_str(), path, nullptr, MS_BIND);
        } else {
            sys::mknod(path, S_IFCHR | 0666, d.major, d.minor);
            sys::chmod(path, 0666);  // mknod's mode was cut by the umask
        }
    }
    sys::mkdir(dev + "/pts", 0755);
    sys::mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
    sys::symlink("pts/ptmx", dev + "/ptmx");
    sys::mkdir(dev + "/shm", 01777);
    sys::mount("shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    sys::symlink("/proc/self/fd", dev + "/fd");
    sys::symlink("/proc/self/fd/0", dev + "/stdin");
    sys::symlink("/proc/self/fd/1", dev + "/stdout");
    sys::symlink("/proc/self/fd/2", dev + "/stderr");
    // END EXERCISE
}

void pivot_into(const std::string& rootfs) {
    // BEGIN EXERCISE 7: pivot_into()
    sys::chdir(rootfs);
    sys::pivot_root(".", ".");
    sys::umount2(".", MNT_DETACH);
    sys::chdir("/");
    // END EXERCISE
}

}  // namespace box::stage1
