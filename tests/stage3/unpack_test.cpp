// Stage 3, unit tests: unpacking layers, and a corpus of hostile layers that
// must be refused with nothing written outside the target directory.
#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "box/digest.hpp"
#include "box/error.hpp"
#include "unpack.hpp"
#include "harness.hpp"

using namespace box;
using namespace box::stage3;
namespace fs = std::filesystem;

namespace {

// One entry to put in a test tar.
struct E {
    E(std::string p, mode_t t = S_IFREG, std::string d = "", std::string h = "")
        : path(std::move(p)), type(t), data(std::move(d)), hardlink(std::move(h)) {}
    std::string path;
    mode_t type;
    std::string data;      // file content, or symlink target
    std::string hardlink;  // for a hard link
    dev_t rdev = 0;        // for a device node
    mode_t perm = 0;       // 0: 0755 for a directory, 0644 otherwise
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
};

// Writes a tar (gzip-compressed if `gzip`) with libarchive; returns the path.
std::string make_tar(const std::string& path, const std::vector<E>& entries, bool gzip = false) {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip) archive_write_add_filter_gzip(a);
    REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
    for (const auto& e : entries) {
        struct archive_entry* ae = archive_entry_new();
        archive_entry_set_pathname(ae, e.path.c_str());
        archive_entry_set_perm(ae, e.perm ? e.perm : e.type == S_IFDIR ? 0755 : 0644);
        archive_entry_set_uid(ae, e.uid);
        archive_entry_set_gid(ae, e.gid);
        archive_entry_set_rdev(ae, e.rdev);
        for (const auto& [key, value] : e.xattrs) archive_entry_xattr_add_entry(ae, key.c_str(), value.data(), value.size());
        if (!e.hardlink.empty()) {
            archive_entry_set_filetype(ae, S_IFREG);
            archive_entry_set_hardlink(ae, e.hardlink.c_str());
            archive_entry_set_size(ae, 0);
        } else {
            archive_entry_set_filetype(ae, e.type);
            if (e.type == S_IFLNK) archive_entry_set_symlink(ae, e.data.c_str());
            archive_entry_set_size(ae, e.type == S_IFREG ? static_cast<la_int64_t>(e.data.size()) : 0);
        }
        archive_write_header(a, ae);
        if (e.type == S_IFREG && e.hardlink.empty()) archive_write_data(a, e.data.data(), e.data.size());
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return path;
}

UnpackResult unpack_file(const std::string& tar, const std::string& dir, const EntryHook& hook = {}) {
    int fd = open(tar.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{fd};
    return unpack_tar(fd, dir, hook);
}

}  // namespace

TEST_CASE("a layer unpacks with files, dirs, symlinks, hard links and modes", "[stage3][unpack][advanced]") {
    boxtest::Sandbox sb;
    std::string body = boxtest::random_name("hello-");
    for (bool gzip : {false, true}) {
        std::string dir = sb.dir() + (gzip ? "/gz" : "/plain");
        fs::create_directories(dir);
        std::string tar = make_tar(sb.dir() + (gzip ? "/l.tgz" : "/l.tar"),
                                   {{"./etc/", S_IFDIR},
                                    {"etc/motd", S_IFREG, body},
                                    {"etc/link", S_IFLNK, "/etc/motd"},
                                    {"etc/hard", S_IFREG, "", "etc/motd"},
                                    {"usr/bin/tool", S_IFREG, "#!/bin/sh\n"}},
                                   gzip);
        auto r = unpack_file(tar, dir);
        CHECK(r.entries == 5);
        CHECK(boxtest::read_host_file(dir + "/etc/motd") == body);
        CHECK(fs::read_symlink(dir + "/etc/link") == "/etc/motd");  // kept, never followed
        CHECK(fs::equivalent(dir + "/etc/hard", dir + "/etc/motd"));
        CHECK(fs::is_regular_file(dir + "/usr/bin/tool"));  // parents made as needed
        // The diffID is the digest of the uncompressed stream.
        if (!gzip) CHECK(r.diff_id == sha256_digest(boxtest::read_host_file(tar)));
    }
    // Compressed or not, the same tar has the same diffID.
    auto plain = make_tar(sb.dir() + "/same.tar", {{"a", S_IFREG, "x"}});
    auto gz = make_tar(sb.dir() + "/same.tgz", {{"a", S_IFREG, "x"}}, true);
    fs::create_directories(sb.dir() + "/p1");
    fs::create_directories(sb.dir() + "/p2");
    CHECK(unpack_file(plain, sb.dir() + "/p1").diff_id == unpack_file(gz, sb.dir() + "/p2").diff_id);
}

TEST_CASE("device nodes, fifos, owners, set-id modes and xattrs survive unpacking", "[stage3][unpack][advanced]") {
    boxtest::Sandbox sb;
    std::string dir = sb.dir() + "/layer";
    fs::create_directories(dir);
    auto owner = static_cast<uid_t>(boxtest::random_int(1000, 60000));
    std::string label = boxtest::random_name("label-");
    E null_dev("dev/null", S_IFCHR);
    null_dev.rdev = makedev(1, 3);
    null_dev.perm = 0666;
    E loop_dev("dev/loop7", S_IFBLK);
    loop_dev.rdev = makedev(7, 7);
    loop_dev.perm = 0660;
    E fifo("run/pipe", S_IFIFO);
    fifo.perm = 0620;
    E tool("usr/bin/su-tool", S_IFREG, "#!/bin/sh\n");
    tool.perm = 04755;
    tool.uid = owner;
    tool.gid = owner + 1;
    tool.xattrs = {{"user.box.label", label}, {"trusted.box.secret", "t"}};
    E data_dir("srv/data", S_IFDIR);
    data_dir.perm = 01777;
    data_dir.xattrs = {{"user.box.dir", "d"}};
    std::string tar = make_tar(sb.dir() + "/l.tar", {null_dev, loop_dev, fifo, tool, data_dir});
    CHECK(unpack_file(tar, dir).entries == 5);

    struct stat st {};
    REQUIRE(lstat((dir + "/dev/null").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK((major(st.st_rdev) == 1 && minor(st.st_rdev) == 3));
    CHECK((st.st_mode & 07777) == 0666);
    REQUIRE(lstat((dir + "/dev/loop7").c_str(), &st) == 0);
    CHECK(S_ISBLK(st.st_mode));
    CHECK((major(st.st_rdev) == 7 && minor(st.st_rdev) == 7));
    REQUIRE(lstat((dir + "/run/pipe").c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK((st.st_mode & 07777) == 0620);
    REQUIRE(lstat((dir + "/usr/bin/su-tool").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 04755);  // set-uid kept: chmod comes after chown
    CHECK(st.st_uid == owner);
    CHECK(st.st_gid == owner + 1);
    REQUIRE(lstat((dir + "/srv/data").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 01777);

    auto xattr = [](const std::string& path, const char* key) {
        char buf[256];
        ssize_t n = lgetxattr(path.c_str(), key, buf, sizeof buf);
        return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
    };
    CHECK(xattr(dir + "/usr/bin/su-tool", "user.box.label") == label);
    CHECK(xattr(dir + "/usr/bin/su-tool", "trusted.box.secret") == "t");
    CHECK(xattr(dir + "/srv/data", "user.box.dir") == "d");
}

TEST_CASE("hostile layers are refused and write nothing outside", "[stage3][unpack][advanced][hostile]") {
    boxtest::Sandbox sb;
    std::string outside = sb.dir() + "/outside";
    fs::create_directories(outside);
    std::string marker = boxtest::random_name("pwned-");
    const std::vector<std::pair<std::string, std::vector<E>>> corpus = {
        {"dot-dot path", {{"../outside/" + marker, S_IFREG, "x"}}},
        {"deep dot-dot", {{"a/b/../../../outside/" + marker, S_IFREG, "x"}}},
        {"absolute path", {{outside + "/" + marker, S_IFREG, "x"}}},
        {"absolute symlink as parent", {{"evil", S_IFLNK, outside}, {"evil/" + marker, S_IFREG, "x"}}},
        {"relative symlink as parent", {{"evil", S_IFLNK, "../outside"}, {"evil/" + marker, S_IFREG, "x"}}},
        {"chained symlinks", {{"a", S_IFLNK, "b"}, {"b", S_IFLNK, "../outside"}, {"a/" + marker, S_IFREG, "x"}}},
        {"symlink deeper in the path",
         {{"d/", S_IFDIR}, {"d/evil", S_IFLNK, outside}, {"d/evil/sub/" + marker, S_IFREG, "x"}}},
        {"hard link to outside", {{marker, S_IFREG, "", "../outside/target"}}},
        {"hard link through a symlink", {{"evil", S_IFLNK, outside}, {marker, S_IFREG, "", "evil/target"}}},
    };
    std::ofstream(outside + "/target") << "secret";
    for (const auto& [name, entries] : corpus) {
        INFO(name);
        std::string dir = sb.dir() + "/layer-" + boxtest::random_name("", 6);
        fs::create_directories(dir);
        std::string tar = make_tar(dir + ".tar", entries);
        CHECK_THROWS_AS(unpack_file(tar, dir), Error);
        CHECK_FALSE(fs::exists(outside + "/" + marker));
        CHECK_FALSE(fs::exists(outside + "/sub/" + marker));
        CHECK(boxtest::read_host_file(outside + "/target") == "secret");
    }
    // The error names the entry.
    std::string dir = sb.dir() + "/named";
    fs::create_directories(dir);
    try {
        unpack_file(make_tar(dir + ".tar", {{"../x", S_IFREG, "x"}}), dir);
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("\"../x\"") != std::string::npos);
    }
}

TEST_CASE("an entry hook sees each entry with its parent and can take it over", "[stage3][unpack][advanced]") {
    boxtest::Sandbox sb;
    std::string dir = sb.dir() + "/l";
    fs::create_directories(dir);
    std::string tar = make_tar(sb.dir() + "/l.tar", {{"etc/keep", S_IFREG, "k"}, {"etc/.wh.gone", S_IFREG, ""}});
    std::vector<std::string> seen;
    unpack_file(tar, dir, [&](const TarEntry& e, int parent, const std::string& name) {
        seen.push_back(e.path + "|" + name);
        if (name.rfind(".wh.", 0) != 0) return false;
        std::ofstream(dir + "/etc/handled-" + name.substr(4)) << "";  // the hook may write in parent
        (void)parent;
        return true;
    });
    CHECK(seen == std::vector<std::string>{"etc/keep|keep", "etc/.wh.gone|.wh.gone"});
    CHECK(fs::exists(dir + "/etc/keep"));
    CHECK_FALSE(fs::exists(dir + "/etc/.wh.gone"));
    CHECK(fs::exists(dir + "/etc/handled-gone"));
}
