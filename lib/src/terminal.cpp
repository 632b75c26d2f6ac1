#include "box/terminal.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/sys.hpp"

namespace box {

RawMode::RawMode(int fd) : fd_(fd) {
    if (!isatty(fd) || tcgetattr(fd, &saved_) != 0) return;
    struct termios raw = saved_;
    cfmakeraw(&raw);
    active_ = tcsetattr(fd, TCSANOW, &raw) == 0;
}

RawMode::~RawMode() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);
}

void copy_window_size(int from, int to) {
    struct winsize ws {};
    if (ioctl(from, TIOCGWINSZ, &ws) == 0) ioctl(to, TIOCSWINSZ, &ws);
}

}  // namespace box
