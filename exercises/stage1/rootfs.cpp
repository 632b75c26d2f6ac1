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
    // EXERCISE 3: write make_mounts_private() — see chapters/01-namespaces/README.md, exercise 3.
    // Replace the line below with your code.
    box::not_implemented("make_mounts_private()", "chapters/01-namespaces", 3);
}

void bind_rootfs(const std::string& rootfs) {
    // EXERCISE 4: write bind_rootfs() — see chapters/01-namespaces/README.md, exercise 4.
    // Replace the line below with your code.
    box::not_implemented("bind_rootfs()", "chapters/01-namespaces", 4);
}

void mount_proc_and_sys(const std::string& rootfs, const ContainerSpec& spec) {
    // EXERCISE 5: write mount_proc_and_sys() — see chapters/01-namespaces/README.md, exercise 5.
    // Replace the line below with your code.
    box::not_implemented("mount_proc_and_sys()", "chapters/01-namespaces", 5);
}

void populate_dev(const std::string& rootfs, const ContainerSpec& spec) {
    // EXERCISE 6: write populate_dev() — see chapters/01-namespaces/README.md, exercise 6.
    // Replace the line below with your code.
    box::not_implemented("populate_dev()", "chapters/01-namespaces", 6);
}

void pivot_into(const std::string& rootfs) {
    // EXERCISE 7: write pivot_into() — see chapters/01-namespaces/README.md, exercise 7.
    // Replace the line below with your code.
    box::not_implemented("pivot_into()", "chapters/01-namespaces", 7);
}

}  // namespace box::stage1
