#include "box/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "box/error.hpp"
#include "box/util.hpp"

namespace box {

FileLock::FileLock(const std::string& dir, On on) {
    if (on == On::Directory) {
        fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    } else {
        make_dirs(dir);
        fd_.reset(::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    }
    if (!fd_ || ::flock(fd_.get(), LOCK_EX) != 0) throw_errno("lock " + dir, errno);
}

}  // namespace box
