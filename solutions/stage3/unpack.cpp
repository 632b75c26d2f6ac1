// Chapter 3: unpacking a layer. Every file is created relative to a directory descriptor
// that was opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no
// path component of an entry can lead outside the target, however the tar
// was crafted.
#include "unpack.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "box/archive_api.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/util.hpp"

namespace box::stage3 {
namespace {

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;

// openat2 confined to `root`: no symlinks, no "..", no other filesystem.
int open_beneath(int root, const std::string& path, int flags) {
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, root, path.empty() ? "." : path.c_str(), &how, sizeof how));
}

// "./a//b/" → "a/b"; throws for absolute paths and ".." components.
std::string normalise(const std::string& raw, const std::string& what) {
    // BEGIN ADVANCED EXERCISE 5: normalise()
    if (!raw.empty() && raw[0] == '/')
        throw Error("layer entry \"" + raw + "\"", what + " is an absolute path: it would be written outside the layer");
    std::string out;
    for (const auto& part : split(raw, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..")
            throw Error("layer entry \"" + raw + "\"", what + " has a \"..\" component: it would be written outside the layer");
        out += (out.empty() ? "" : "/") + part;
    }
    return out;
    // END EXERCISE
}

// The entry's parent directory, made (without following anything) if missing.
Fd open_parent(int root, const std::string& path, const std::string& raw) {
    // BEGIN ADVANCED EXERCISE 6: open_parent()
    Fd dir(::fcntl(root, F_DUPFD_CLOEXEC, 3));
    auto parts = split(path, '/');
    parts.pop_back();
    for (const auto& part : parts) {
        int next = open_beneath(dir.get(), part, O_PATH | O_DIRECTORY);
        if (next < 0 && errno == ENOENT) {
            if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
                throw_errno("layer entry \"" + raw + "\": mkdir " + part, errno);
            next = open_beneath(dir.get(), part, O_PATH | O_DIRECTORY);
        }
        if (next < 0) {
            if (errno == ELOOP || errno == EXDEV || errno == ENOTDIR)
                throw Error("layer entry \"" + raw + "\"",
                            "its parent \"" + part + "\" is a symlink or not a directory: refusing to write through it");
            throw_errno("layer entry \"" + raw + "\": open " + part, errno);
        }
        dir.reset(next);
    }
    return dir;
    // END EXERCISE
}

// Makes room for `name` in `parent`: a later entry replaces an earlier one,
// except that a directory stays a directory.
void clear_name(int parent, const std::string& name, bool keep_dir) {
    struct stat st {};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir) return;
        throw Error("layer entry \"" + name + "\"", "replaces a directory with a non-directory");
    }
    ::unlinkat(parent, name.c_str(), 0);
}

void check(int rc, const std::string& what) {
    if (rc != 0) throw_errno(what, errno);
}

}  // namespace

UnpackResult unpack_tar(int fd, const std::string& dir, const EntryHook& hook) {
    const ArchiveApi& la = archive_api();
    Fd root(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open " + dir, errno);

    // Two readers: `raw` undoes any compression; `tar` parses the bytes `raw`
    // yields, which are hashed on the way into the diffID.
    ArchivePtr raw(la.read_new(), la.read_free);
    la.read_support_filter_all(raw.get());
    la.read_support_format_raw(raw.get());
    if (la.read_open_fd(raw.get(), fd, 1 << 16) != ARCHIVE_OK)
        throw Error("layer", la.error_string(raw.get()) ? la.error_string(raw.get()) : "cannot read");
    struct archive_entry* raw_entry;
    if (la.read_next_header(raw.get(), &raw_entry) != ARCHIVE_OK) throw Error("layer", "empty or unreadable stream");

    struct Feed {
        struct archive* raw;
        Sha256 hash;
        std::int64_t bytes = 0;
        char buf[1 << 16];
    } feed{raw.get(), {}, 0, {}};
    auto read_cb = [](struct archive*, void* data, const void** out) -> la_ssize_t {
        auto* f = static_cast<Feed*>(data);
        la_ssize_t n = archive_api().read_data(f->raw, f->buf, sizeof f->buf);
        if (n > 0) {
            f->hash.update(f->buf, static_cast<size_t>(n));
            f->bytes += n;
        }
        *out = f->buf;
        return n;
    };
    ArchivePtr tar(la.read_new(), la.read_free);
    la.read_support_format_tar(tar.get());
    la.read_support_format_gnutar(tar.get());
    if (la.read_open(tar.get(), &feed, nullptr, read_cb, nullptr) != ARCHIVE_OK)
        throw Error("layer", la.error_string(tar.get()) ? la.error_string(tar.get()) : "not a tar stream");

    UnpackResult result;
    struct archive_entry* e;
    int rc;
    while ((rc = la.read_next_header(tar.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        std::string raw_path = la.entry_pathname(e) ? la.entry_pathname(e) : "";
        TarEntry entry;
        entry.path = normalise(raw_path, "its path");
        if (entry.path.empty()) continue;  // "./": the layer's root itself
        entry.type = la.entry_filetype(e);
        entry.mode = la.entry_perm(e);
        entry.uid = static_cast<uid_t>(la.entry_uid(e));
        entry.gid = static_cast<gid_t>(la.entry_gid(e));
        if (const char* l = la.entry_symlink(e)) entry.link = l;
        if (const char* h = la.entry_hardlink(e)) entry.hardlink = normalise(h, "its hard link target");
        entry.rdev_major = la.entry_rdevmajor(e);
        entry.rdev_minor = la.entry_rdevminor(e);
        la.entry_xattr_reset(e);
        const char* xname;
        const void* xvalue;
        size_t xsize;
        while (la.entry_xattr_next(e, &xname, &xvalue, &xsize) == ARCHIVE_OK)
            entry.xattrs.emplace_back(xname, std::string(static_cast<const char*>(xvalue), xsize));
        ++result.entries;

        Fd parent = open_parent(root.get(), entry.path, raw_path);
        std::string name = entry.path.substr(entry.path.rfind('/') + 1);
        if (hook && hook(entry, parent.get(), name)) continue;
        std::string what = "layer entry \"" + raw_path + "\"";
        // BEGIN ADVANCED EXERCISE 7: write_entry()

        Fd file;  // open for writing data and xattrs, when the entry has a file of its own
        if (!entry.hardlink.empty()) {
            Fd target(open_beneath(root.get(), entry.hardlink, O_PATH));
            if (!target)
                throw Error(what, "hard link to \"" + entry.hardlink + "\", which is not a file in this layer");
            clear_name(parent.get(), name, false);
            check(::linkat(target.get(), "", parent.get(), name.c_str(), AT_EMPTY_PATH), what + ": link");
            continue;  // a hard link shares the target's owner, mode and data
        }
        switch (entry.type) {
            case S_IFDIR:
                clear_name(parent.get(), name, true);
                if (::mkdirat(parent.get(), name.c_str(), 0700) != 0 && errno != EEXIST) throw_errno(what, errno);
                file.reset(open_beneath(parent.get(), name, O_RDONLY | O_DIRECTORY));
                if (!file) throw_errno(what, errno);
                break;
            case S_IFREG: {
                clear_name(parent.get(), name, false);
                file.reset(::openat(parent.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
                if (!file) throw_errno(what, errno);
                const void* block;
                size_t size;
                la_int64_t offset;
                while ((rc = la.read_data_block(tar.get(), &block, &size, &offset)) == ARCHIVE_OK) {
                    if (::pwrite(file.get(), block, size, offset) != static_cast<ssize_t>(size)) throw_errno(what, errno);
                }
                if (rc != ARCHIVE_EOF) throw Error(what, la.error_string(tar.get()) ? la.error_string(tar.get()) : "read error");
                check(::ftruncate(file.get(), la.entry_size(e)), what);
                break;
            }
            case S_IFLNK:
                clear_name(parent.get(), name, false);
                check(::symlinkat(entry.link.c_str(), parent.get(), name.c_str()), what + ": symlink");
                break;
            case S_IFCHR:
            case S_IFBLK:
            case S_IFIFO:
                clear_name(parent.get(), name, false);
                check(::mknodat(parent.get(), name.c_str(), entry.type | entry.mode,
                                makedev(entry.rdev_major, entry.rdev_minor)),
                      what + ": mknod");
                break;
            default:
                throw Error(what, "unsupported entry type");
        }
        check(::fchownat(parent.get(), name.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW), what + ": chown");
        if (entry.type != S_IFLNK) check(::fchmodat(parent.get(), name.c_str(), entry.mode, 0), what + ": chmod");
        if (file)
            for (const auto& [key, value] : entry.xattrs)
                check(::fsetxattr(file.get(), key.c_str(), value.data(), value.size(), 0), what + ": xattr " + key);
        if (entry.type != S_IFDIR) {
            struct timespec times[2] = {{la.entry_mtime(e), 0}, {la.entry_mtime(e), 0}};
            ::utimensat(parent.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
        }
        // END EXERCISE
    }
    if (rc != ARCHIVE_EOF)
        throw Error("layer", la.error_string(tar.get()) ? la.error_string(tar.get()) : "corrupt tar stream");
    // The tar reader may stop before the stream's padding: hash all of it.
    const void* out;
    while (read_cb(tar.get(), &feed, &out) > 0) {
    }
    result.diff_id = feed.hash.digest();
    result.bytes = feed.bytes;
    return result;
}

}  // namespace box::stage3
