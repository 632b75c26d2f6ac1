// Chapter 1: `-t` — a terminal made inside the container, its master side
// handed to box over the start channel.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/sys.hpp"
#include "stage1.hpp"

namespace box::stage1 {

void take_new_terminal(Channel& channel) {
    // BEGIN ADVANCED EXERCISE 16: take_new_terminal()
    // Made from the container's own /dev/ptmx so that the terminal lives in the
    // container's devpts: `tty` inside prints /dev/pts/0, not a host path.
    Fd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) throw_errno("open(\"/dev/ptmx\")", errno);
    if (unlockpt(master.get()) != 0) throw_errno("unlockpt", errno);
    char name[64];
    if (ptsname_r(master.get(), name, sizeof name) != 0) throw_errno("ptsname", errno);
    Fd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) throw_errno(std::string("open(\"") + name + "\")", errno);

    sys::create_file("/dev/console", 0600);
    sys::mount(name, "/dev/console", nullptr, MS_BIND);

    channel.send("", master.get());
    master.reset();

    if (setsid() < 0) throw_errno("setsid", errno);
    if (ioctl(slave.get(), TIOCSCTTY, 0) != 0) throw_errno("ioctl(TIOCSCTTY)", errno);
    for (int fd = 0; fd <= 2; ++fd)
        if (dup2(slave.get(), fd) < 0) throw_errno("dup2", errno);
    // END EXERCISE
}

}  // namespace box::stage1
