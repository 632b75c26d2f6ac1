/// @file unpack.hpp
/// @brief Chapter 3: unpacking a layer tar safely — nothing may land outside
/// the directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace box::stage3 {

/// One entry of a tar stream, as libarchive read it.
struct TarEntry {
    std::string path;      ///< normalised: relative, no "." or ".." components
    mode_t type = 0;       ///< S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO
    mode_t mode = 0;       ///< permission bits (07777)
    uid_t uid = 0;         ///< owner
    gid_t gid = 0;         ///< group
    std::string link;      ///< a symlink's target, as stored
    std::string hardlink;  ///< for a hard link: the (normalised) path it links to
    unsigned rdev_major = 0;  ///< device numbers of a device node
    unsigned rdev_minor = 0;  ///< device numbers of a device node
    std::vector<std::pair<std::string, std::string>> xattrs;  ///< extended attributes
};

/// Called for each entry before it is written, with a descriptor of the entry's
/// parent directory (already made, inside the target) and the entry's last path
/// component. Returns true if it handled the entry itself (stage 3 turns
/// whiteout entries into overlayfs whiteouts this way); false to have it written.
using EntryHook = std::function<bool(const TarEntry& entry, int parent_fd, const std::string& name)>;

/// What unpack_tar() measured.
struct UnpackResult {
    std::string diff_id;     ///< sha256 of the uncompressed tar stream (the OCI "diffID")
    std::int64_t bytes = 0;  ///< bytes of the uncompressed stream
    std::int64_t entries = 0;  ///< entries read
};

/// Unpacks the tar stream (plain, gzip or zstd) read from `fd` into `dir`,
/// which must exist and be empty. Keeps owners, modes, symlinks, hard links,
/// device nodes and xattrs. Refuses — with box::Error naming the entry — any
/// entry that would be written outside `dir`: an absolute path, a ".."
/// component, a parent directory that is a symlink (made by an earlier entry
/// or not), or a hard link to something outside or missing. Never follows a
/// symlink while writing. On error `dir` may hold part of the layer: the caller
/// removes it.
UnpackResult unpack_tar(int fd, const std::string& dir, const EntryHook& hook = {});

}  // namespace box::stage3
