// Chapter 4: what a container changed — `box diff` lists it, `box commit`
// makes it a layer of a new image, `box export` writes the whole filesystem.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>

#include "box/archive_api.hpp"
#include "box/blob_store.hpp"
#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/instruction.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "commit.hpp"
#include "stage1.hpp"
#include "stage3.hpp"

namespace fs = std::filesystem;

namespace box::stage4 {

namespace {
bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }
}  // namespace

std::vector<Change> upper_changes(const std::string& upper, const std::vector<std::string>& lowers) {
    // EXERCISE 3: write upper_changes() — see chapters/04-lifecycle/README.md, exercise 3.
    // Replace the line below with your code.
    box::not_implemented("upper_changes()", "chapters/04-lifecycle", 3);
}

namespace {

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;
using EntryPtr = std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)>;

// Adds the file at `path` to `out` as `name`: its metadata (owner, mode,
// times, xattrs other than overlayfs's own) from the disk, then its data.
void add_file(const ArchiveApi& la, struct archive* disk, struct archive* out, const std::string& path,
              const std::string& name) {
    EntryPtr e(la.entry_new(), la.entry_free);
    la.entry_set_pathname(e.get(), path.c_str());
    if (la.read_disk_entry_from_file(disk, e.get(), -1, nullptr) != ARCHIVE_OK)
        throw Error("read " + path, la.error_string(disk) ? la.error_string(disk) : "failed");
    std::vector<std::pair<std::string, std::string>> xattrs;
    la.entry_xattr_reset(e.get());
    const char* key;
    const void* value;
    size_t size;
    while (la.entry_xattr_next(e.get(), &key, &value, &size) == ARCHIVE_OK)
        if (!starts_with(key, "trusted.overlay.")) xattrs.emplace_back(key, std::string(static_cast<const char*>(value), size));
    la.entry_xattr_clear(e.get());
    for (const auto& [k, v] : xattrs) la.entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    la.entry_set_pathname(e.get(), name.c_str());
    if (la.write_header(out, e.get()) != ARCHIVE_OK) throw Error("tar " + name, la.error_string(out));
    if (la.entry_filetype(e.get()) == AE_IFREG && la.entry_size(e.get()) > 0) {
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd) throw_errno("open " + path, errno);
        char buf[65536];
        for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
            if (la.write_data(out, buf, static_cast<size_t>(n)) < 0) throw Error("tar " + name, la.error_string(out));
    }
}

void add_marker(const ArchiveApi& la, struct archive* out, const std::string& name) {
    EntryPtr e(la.entry_new(), la.entry_free);
    la.entry_set_pathname(e.get(), name.c_str());
    la.entry_set_filetype(e.get(), AE_IFREG);
    la.entry_set_perm(e.get(), 0644);
    la.entry_set_size(e.get(), 0);
    if (la.write_header(out, e.get()) != ARCHIVE_OK) throw Error("tar " + name, la.error_string(out));
}

// Writes the tree at `root` as a tar to `fd` (or the file `path`). With
// `layer`, overlayfs's marks become the OCI image spec's: a whiteout device
// becomes .wh.NAME, an opaque directory gets .wh..wh..opq.
void write_tree(const std::string& root, int fd, const std::string& path, bool layer) {
    const ArchiveApi& la = archive_api();
    ArchivePtr out(la.write_new(), la.write_free);
    ArchivePtr disk(la.read_disk_new(), la.read_free);
    la.write_set_format_pax_restricted(out.get());
    if ((path.empty() ? la.write_open_fd(out.get(), fd) : la.write_open_filename(out.get(), path.c_str())) != ARCHIVE_OK)
        throw Error("tar", la.error_string(out.get()));
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        names.push_back(it->path().string().substr(root.size() + 1));
    if (ec) throw Error("read " + root, ec.message());
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        std::string full = root + "/" + name;
        struct stat st {};
        if (::lstat(full.c_str(), &st) != 0) continue;
        std::string dir = name.find('/') == std::string::npos ? "" : name.substr(0, name.rfind('/') + 1);
        std::string base = name.substr(dir.size());
        if (layer && is_whiteout(st)) {
            add_marker(la, out.get(), dir + ".wh." + base);
            continue;
        }
        add_file(la, disk.get(), out.get(), full, name);
        char opaque[2] = {};
        if (layer && S_ISDIR(st.st_mode) && ::lgetxattr(full.c_str(), "trusted.overlay.opaque", opaque, 1) == 1 &&
            opaque[0] == 'y')
            add_marker(la, out.get(), name + "/.wh..wh..opq");
    }
    if (la.write_close(out.get()) != ARCHIVE_OK) throw Error("tar", la.error_string(out.get()));
}

void need_image(const Container& c, const char* what) {
    if (c.spec.layers.empty())
        throw Error(std::string(what) + " " + c.name, "it runs on --rootfs " + c.spec.rootfs + ", not on an image's layers");
}

}  // namespace

std::string mount_privately(const Container& c, bool writable) {
    sys::unshare(CLONE_NEWNS);  // ours alone: the mount goes with this process, however it ends
    stage1::make_mounts_private();
    std::string merged = c.dir + "/merged";
    make_dirs(merged);
    if (writable) {
        stage3::mount_overlay(c.spec.layers, c.dir + "/upper", c.dir + "/work", merged);
    } else {  // every layer a lower one, the container's own on top: no upper, no work dir
        std::string lower = c.dir + "/upper";
        for (auto it = c.spec.layers.rbegin(); it != c.spec.layers.rend(); ++it) lower += ":" + *it;
        sys::mount("overlay", merged, "overlay", MS_RDONLY, ("lowerdir=" + lower).c_str());
    }
    return merged;
}

void write_layer(const std::string& upper, const std::string& file) { write_tree(upper, -1, file, true); }

int diff(const Container& c) {
    need_image(c, "diff");
    for (const auto& ch : upper_changes(c.dir + "/upper", c.spec.layers)) printf("%c %s\n", ch.kind, ch.path.c_str());
    return 0;
}

int export_container(const Container& c, const std::string& output) {
    if (output.empty() && isatty(STDOUT_FILENO))
        throw Error("export", "refusing to write an archive to a terminal: use -o FILE or redirect stdout");
    // Read-only: the container may be running on the same upper dir.
    std::string root = c.spec.layers.empty() ? c.spec.rootfs : mount_privately(c, false);
    std::string tmp = output.empty() ? "" : output + ".tmp-" + random_hex(6);
    try {
        write_tree(root, STDOUT_FILENO, tmp, false);
    } catch (...) {
        if (!tmp.empty()) ::unlink(tmp.c_str());
        throw;
    }
    if (!tmp.empty() && ::rename(tmp.c_str(), output.c_str()) != 0) throw_errno("export " + output, errno);
    return 0;
}

int commit(const Container& c, const CommitOptions& o) {
    need_image(c, "commit");
    using stage3::ImageStore;
    ImageStore images(state_root());
    stage3::StoredImage base = images.find(c.image_id.empty() ? c.spec.image : c.image_id);
    json config = base.config;
    json& cc = config["config"];
    if (!cc.is_object()) cc = json::object();
    apply_changes(cc, o.changes);  // a bad change is refused before any work
    std::string tmp_dir = state_root() + "/tmp";
    make_dirs(tmp_dir);
    std::string layer = tmp_dir + "/commit-" + random_hex(12) + ".tar";
    struct Remove {
        std::string p;
        ~Remove() { ::unlink(p.c_str()); }
    } remove{layer};
    write_layer(c.dir + "/upper", layer);

    BlobStore blobs(images.blobs_dir());
    std::vector<std::string> layers;
    for (const auto& d : stage3::manifest_layers(json::parse(blobs.read(base.manifest_digest))))
        layers.push_back(blobs.path(d.digest));
    layers.push_back(layer);

    config["created"] = now_rfc3339();
    config["container"] = c.id;
    if (!o.author.empty()) config["author"] = o.author;
    config.erase("comment");  // image inspect's Comment: this commit's message, as docker keeps it
    if (!o.message.empty()) config["comment"] = o.message;
    json history = config.value("history", json::array());
    json entry = {{"created", config["created"]}, {"created_by", "box commit " + c.name}};
    if (!o.message.empty()) entry["comment"] = o.message;
    history.push_back(entry);
    config["history"] = history;
    std::string id = images.add_image(layers, config, o.reference);
    printf("%s\n", id.c_str());
    return 0;
}

void register_commit_commands() {
    cli::define("diff", "Inspect changes to files or directories on a container's filesystem", [](CLI::App& c) -> cli::Action {
        auto ref = std::make_shared<std::string>();
        c.add_option("CONTAINER", *ref, "Container")->required();
        return [ref] { return diff(ContainerStore(state_root()).find(*ref)); };
    });

    cli::define("commit", "Create a new image from a container's changes", [](CLI::App& c) -> cli::Action {
        struct CommitFlags { std::string ref; CommitOptions o; };
        auto f = std::make_shared<CommitFlags>();
        c.add_option("CONTAINER", f->ref, "Container")->required();
        c.add_option("REPOSITORY[:TAG]", f->o.reference, "Name of the new image");
        c.add_option("-m,--message", f->o.message, "Commit message");
        c.add_option("-a,--author", f->o.author, "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
        c.add_option("-c,--change", f->o.changes, "Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)")
            ->allow_extra_args(false);
        return [f] { return commit(ContainerStore(state_root()).find(f->ref), f->o); };
    });

    cli::define("export", "Export a container's filesystem as a tar archive", [](CLI::App& c) -> cli::Action {
        struct ExportFlags { std::string ref, output; };
        auto f = std::make_shared<ExportFlags>();
        c.add_option("CONTAINER", f->ref, "Container")->required();
        c.add_option("-o,--output", f->output, "Write to a file, instead of STDOUT");
        return [f] { return export_container(ContainerStore(state_root()).find(f->ref), f->output); };
    });
}
}  // namespace box::stage4
