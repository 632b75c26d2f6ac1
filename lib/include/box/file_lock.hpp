/// @file file_lock.hpp
/// @brief An exclusive lock on a store directory, so box commands running at
/// the same time take turns at changing it.
#pragma once

#include <string>

#include "box/fd.hpp"

namespace box {

/// flock(LOCK_EX) on DIR/.lock (or DIR itself) for its lifetime (the directory
/// is made if needed). The kernel drops the lock when the process dies, so a killed box
/// never leaves the store locked.
class FileLock {
public:
    /// Where the lock is taken.
    enum class On {
        LockFile,   ///< DIR/.lock, made if needed (a store's lock: the file stays)
        Directory,  ///< DIR itself, which must exist (no file to make and delete: a
                    ///< container's lock, taken on every start)
    };
    /// Waits for, then holds, the lock of `dir`; throws box::Error if it cannot.
    explicit FileLock(const std::string& dir, On on = On::LockFile);

private:
    Fd fd_;
};

}  // namespace box
