// Stage 3, black-box: images made offline (import, load), run on an overlay
// of their layers; what the kernel and the store's files show.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "box/digest.hpp"
#include "support.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

TEST_CASE("an imported image runs on an overlay whose writes vanish with the container", "[stage3][run]") {
    Sandbox sb;
    std::string id = import_busybox(sb);
    REQUIRE(id.rfind("sha256:", 0) == 0);
    // The image id is the digest of the config blob, which the store holds.
    std::string config = read_host_file(sb.dir() + "/state/images/blobs/sha256/" + id.substr(7));
    CHECK(box::sha256_digest(config) == id);

    std::string file = random_name("/f-");
    auto r = sb.box({"run", "busybox", "sh", "-c",
                     "awk '$5 == \"/\"' /proc/self/mountinfo; echo data > " + file + "; cat " + file + "; head -1 /etc/os-release"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 3);
    CHECK(l[0].find(" - overlay overlay ") != std::string::npos);
    CHECK(l[0].find("lowerdir=" + sb.dir() + "/state/layers/") != std::string::npos);
    CHECK(l[1] == "data");
    CHECK(l[2] == "NAME=\"box base\"");
    // The layer was not written to, and the container's own layer is gone.
    forget_containers(sb);
    for (const auto& layer : fs::directory_iterator(sb.dir() + "/state/layers"))
        if (layer.is_directory()) CHECK_FALSE(fs::exists(layer.path().string() + file));
    CHECK(count_entries(sb.dir() + "/state/containers") == 0);
}

TEST_CASE("whiteouts in an upper layer hide files, and an opaque directory its lower contents", "[stage3][layers]") {
    Sandbox sb;
    std::string l1 = sb.dir() + "/l1.tar", l2 = sb.dir() + "/l2.tar", archive = sb.dir() + "/img.tar";
    std::string keep = random_name("keep-"), gone = random_name("gone-");
    write_tar(l1, {{"etc/" + keep, "k"}, {"etc/" + gone, "g"}, {"data/", "", S_IFDIR}, {"data/old1", "1"}, {"data/old2", "2"}});
    write_tar(l2, {{"etc/.wh." + gone, ""}, {"data/.wh..wh..opq", ""}, {"data/new", "n"}});
    write_docker_archive(archive, "layered:v1", {base_tar(sb), l1, l2});
    auto load = sb.box({"load", "-i", archive});
    BOX_SHOW(load);
    REQUIRE(load.status == 0);
    CHECK(trim(load.out) == "Loaded image: layered:v1");
    auto r = sb.box({"run", "layered:v1", "sh", "-c", "ls /etc/" + keep + " /etc/" + gone + " 2>&1; ls /data"});
    BOX_SHOW(r);
    auto l = lines(r.out);
    REQUIRE(l.size() == 3);
    CHECK(l[0].find("No such file") != std::string::npos);  // ls reports the missing one first
    CHECK(l[1] == "/etc/" + keep);
    CHECK(l[2] == "new");
    // On disk the upper layer holds overlayfs's own markers.
    bool whiteout = false, opaque = false;
    for (const auto& layer : fs::directory_iterator(sb.dir() + "/state/layers")) {
        struct stat st {};
        if (stat((layer.path().string() + "/etc/" + gone).c_str(), &st) == 0 && S_ISCHR(st.st_mode) &&
            st.st_rdev == makedev(0, 0))
            whiteout = true;
        char v[4] = {};
        if (getxattr((layer.path().string() + "/data").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y')
            opaque = true;
    }
    CHECK(whiteout);
    CHECK(opaque);
}

TEST_CASE("images share a base layer: one copy on disk, kept by rmi while used", "[stage3][layers]") {
    Sandbox sb;
    std::string base = base_tar(sb), top1 = sb.dir() + "/t1.tar", top2 = sb.dir() + "/t2.tar";
    write_tar(top1, {{"one", "1"}});
    write_tar(top2, {{"two", "2"}});
    write_docker_archive(sb.dir() + "/a.tar", "app:one", {base, top1});
    write_docker_archive(sb.dir() + "/b.tar", "app:two", {base, top2});
    REQUIRE(sb.box({"load", "-q", "-i", sb.dir() + "/a.tar"}).status == 0);
    REQUIRE(sb.box({"load", "-q", "-i", sb.dir() + "/b.tar"}).status == 0);
    CHECK(count_entries(sb.dir() + "/state/layers") == 3);  // base, one, two
    auto rmi = sb.box({"rmi", "app:one"});
    BOX_SHOW(rmi);
    REQUIRE(rmi.status == 0);
    CHECK(rmi.out.find("Untagged: app:one") != std::string::npos);
    CHECK(count_entries(sb.dir() + "/state/layers") == 2);  // "one" went, the base stayed
    auto r = sb.box({"run", "app:two", "cat", "/two"});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(r.out == "2");
}

TEST_CASE("a hostile layer is refused and nothing of it is stored", "[stage3][layers][errors]") {
    Sandbox sb;
    std::string evil = sb.dir() + "/evil.tar", archive = sb.dir() + "/evil-img.tar";
    std::string marker = random_name("pwned-");
    write_tar(evil, {{"link", sb.dir(), S_IFLNK}, {"link/" + marker, "x"}});
    write_docker_archive(archive, "evil:latest", {evil});
    auto r = sb.box({"load", "-i", archive});
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(r.err.find("symlink") != std::string::npos);
    CHECK_FALSE(fs::exists(sb.dir() + "/" + marker));
    CHECK(count_entries(sb.dir() + "/state/layers") == 0);
    size_t blobs = 0;
    if (fs::exists(sb.dir() + "/state/images/blobs/sha256"))
        for (const auto& b : fs::directory_iterator(sb.dir() + "/state/images/blobs/sha256")) blobs += b.is_regular_file();
    CHECK(blobs == 0);
    auto images = sb.box({"images", "-q"});
    CHECK(images.out.empty());
    import_busybox(sb);  // the store still works
    CHECK(sb.box({"run", "busybox", "true"}).status == 0);
}

TEST_CASE("the image config gives the command, environment, directory and user", "[stage3][config]") {
    Sandbox sb;
    std::string value = random_name("v");
    auto imp = sb.box({"import", "-c", "ENTRYPOINT [\"/bin/sh\", \"-c\"]", "-c", "CMD [\"echo default $X; pwd; id -u\"]",
                       "-c", "ENV X=" + value, "-c", "WORKDIR /tmp", "-c", "USER 1000", base_tar(sb), "cfg:1"});
    BOX_SHOW(imp);
    REQUIRE(imp.status == 0);
    auto r = sb.box({"run", "cfg:1"});
    BOX_SHOW(r);
    CHECK(lines(r.out) == std::vector<std::string>{"default " + value, "/tmp", "1000"});
    // Arguments replace Cmd and keep the Entrypoint; flags beat the config.
    auto own = sb.box({"run", "-e", "X=mine", "-w", "/", "-u", "0", "cfg:1", "echo own $X; pwd; id -u"});
    BOX_SHOW(own);
    CHECK(lines(own.out) == std::vector<std::string>{"own mine", "/", "0"});
    // --entrypoint replaces the Entrypoint and drops the image's Cmd, as docker's;
    // '' leaves no entrypoint: the arguments alone are the command.
    auto entry = sb.box({"run", "--entrypoint", "echo", "cfg:1", "-n", "args"});
    BOX_SHOW(entry);
    CHECK(entry.out == "args");
    auto bare = sb.box({"run", "--entrypoint", "echo", "cfg:1"});
    CHECK(bare.out == "\n");
    auto none = sb.box({"run", "--entrypoint", "", "-u", "0", "cfg:1", "id", "-u"});
    BOX_SHOW(none);
    CHECK(none.out == "0\n");
    auto nothing = sb.box({"run", "--entrypoint", "", "cfg:1"});
    REQUIRE_ONE_ERROR_LINE(nothing, 125);
    CHECK(nothing.err.find("No command specified") != std::string::npos);
    forget_containers(sb);
}

TEST_CASE("images lists names, ids and sizes; tag and rmi follow docker's rules", "[stage3][commands]") {
    Sandbox sb;
    std::string id = import_busybox(sb);
    REQUIRE(sb.box({"tag", "busybox", "other/name:v2"}).status == 0);
    auto images = sb.box({"images"});
    BOX_SHOW(images);
    auto l = lines(images.out);
    REQUIRE(l.size() == 3);
    CHECK(l[0].rfind("REPOSITORY", 0) == 0);
    CHECK(images.out.find("busybox") != std::string::npos);
    CHECK(images.out.find("other/name") != std::string::npos);
    CHECK(images.out.find(id.substr(7, 12)) != std::string::npos);
    CHECK(trim(sb.box({"images", "-q"}).out) == id.substr(7, 12));
    // An id with two names needs -f; a name just untags.
    auto conflict = sb.box({"rmi", id.substr(7, 12)});
    REQUIRE_ONE_ERROR_LINE(conflict, 1);
    CHECK(conflict.err.find("must be forced") != std::string::npos);
    auto untag = sb.box({"rmi", "other/name:v2"});
    CHECK(untag.out == "Untagged: other/name:v2\n");
    CHECK(sb.box({"run", "busybox", "true"}).status == 0);
    forget_containers(sb);
    auto gone = sb.box({"rmi", "-f", id.substr(7, 12)});
    CHECK(gone.out.find("Deleted: " + id) != std::string::npos);
    CHECK(sb.box({"images", "-q"}).out.empty());
    CHECK(count_entries(sb.dir() + "/state/layers") == 0);
}

TEST_CASE("bad references and unknown images give one clear line", "[stage3][errors]") {
    Sandbox sb;
    import_busybox(sb);
    auto upper = sb.box({"run", "BusyBox", "true"});
    REQUIRE_ONE_ERROR_LINE(upper, 125);
    CHECK(upper.err.find("invalid reference format") != std::string::npos);
    auto unknown = sb.box({"run", "--pull", "never", "nosuch/image:v9", "true"});
    REQUIRE_ONE_ERROR_LINE(unknown, 125);
    CHECK(unknown.err.find("Unable to find image 'nosuch/image:v9' locally") != std::string::npos);
    auto rmi = sb.box({"rmi", "nosuch"});
    REQUIRE_ONE_ERROR_LINE(rmi, 1);
    auto bad_tar = sb.box({"load", "-i", "/etc/hostname"});
    REQUIRE_ONE_ERROR_LINE(bad_tar, 1);
    CHECK(count_entries(sb.dir() + "/state/containers") == 0);
    CHECK(sb.box({"run", "busybox", "true"}).status == 0);
}

TEST_CASE("save writes a docker-archive that skopeo reads and box loads back", "[stage3][save]") {
    Sandbox sb;
    std::string id = import_busybox(sb, "saved:v1");
    std::string archive = sb.dir() + "/saved.tar";
    auto save = sb.box({"save", "-o", archive, "saved:v1"});
    BOX_SHOW(save);
    REQUIRE(save.status == 0);
    // An independent reader of docker's format: skopeo.
    auto inspect = run({"skopeo", "inspect", "--raw", "--config", "docker-archive:" + archive});
    INFO(inspect.err);
    REQUIRE(inspect.status == 0);
    CHECK(box::sha256_digest(inspect.out) == id);  // the very config box stored
    Sandbox other;
    if (run({"sh", "-c", "command -v podman"}).status == 0) {
        // podman with a store of its own in the sandbox (vfs: no mounts), both ways:
        // it loads box's archive, and box loads the archive podman saves of it.
        std::vector<std::string> podman = {"podman", "--root", sb.dir() + "/podman", "--runroot", sb.dir() + "/podman-run",
                                           "--storage-driver", "vfs", "--events-backend", "none"};
        auto with = [&](std::vector<std::string> args) {
            args.insert(args.begin(), podman.begin(), podman.end());
            auto r = run(args);
            INFO(r.err);
            CHECK(r.status == 0);
            return r;
        };
        CHECK(with({"load", "-i", archive}).out.find("Loaded image: localhost/saved:v1") != std::string::npos);
        CHECK(trim(with({"images", "-q", "--no-trunc", "localhost/saved:v1"}).out) == id);
        std::string theirs = sb.dir() + "/podman-saved.tar";
        with({"save", "--format", "docker-archive", "-o", theirs, "localhost/saved:v1"});
        auto load = other.box({"load", "-i", theirs});
        BOX_SHOW(load);
        REQUIRE(load.status == 0);
        CHECK(trim(other.box({"images", "-q", "--no-trunc", "localhost/saved:v1"}).out) == id);  // same config
        std::string word = random_name("via-podman-");
        CHECK(trim(other.box({"run", "localhost/saved:v1", "echo", word}).out) == word);
        forget_containers(other);
        REQUIRE(other.box({"rmi", "localhost/saved:v1"}).status == 0);
    } else {
        WARN("podman is not installed here (make deps installs it): box save checked with skopeo and box load only");
    }
    auto load = other.box({"load", "-i", archive});
    BOX_SHOW(load);
    REQUIRE(load.status == 0);
    CHECK(trim(load.out) == "Loaded image: saved:v1");
    CHECK(trim(other.box({"images", "-q"}).out) == id.substr(7, 12));
    CHECK(other.box({"run", "saved:v1", "true"}).status == 0);
}

TEST_CASE("history and image inspect describe the stored image", "[stage3][commands]") {
    Sandbox sb;
    std::string message = random_name("msg-");
    auto imp = sb.box({"import", "-m", message, "-c", "CMD [\"sh\"]", base_tar(sb), "described:v1"});
    BOX_SHOW(imp);
    REQUIRE(imp.status == 0);
    std::string id = trim(imp.out);
    auto history = sb.box({"history", "described:v1"});
    BOX_SHOW(history);
    REQUIRE(history.status == 0);
    CHECK(history.out.find(message) != std::string::npos);
    CHECK(history.out.find(id.substr(7, 12)) != std::string::npos);
    auto inspect = sb.box({"image", "inspect", "described:v1"});
    BOX_SHOW(inspect);
    REQUIRE(inspect.status == 0);
    auto doc = nlohmann::json::parse(inspect.out);
    REQUIRE(doc.size() == 1);
    CHECK(doc[0]["Id"] == id);
    CHECK(doc[0]["RepoTags"][0] == "described:v1");
    CHECK(doc[0]["Config"]["Cmd"][0] == "sh");
    // RootFS.Layers are the digests of the unpacked layers the store holds.
    for (const auto& layer : doc[0]["RootFS"]["Layers"])
        CHECK(fs::is_directory(sb.dir() + "/state/layers/" + layer.get<std::string>().substr(7)));
    auto missing = sb.box({"image", "inspect", "nosuch:v1"});
    CHECK(missing.status == 1);
}

TEST_CASE("import takes a URL, and layers may be zstd-compressed", "[stage3][import]") {
    Sandbox sb;
    std::string tar = base_tar(sb);
    int port = free_port();
    Background server({"python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", sb.dir(), std::to_string(port)});
    std::string url = "http://127.0.0.1:" + std::to_string(port) + "/base.tar";
    bool up = false;
    for (int i = 0; i < 100 && !up; ++i) {
        try {
            box::HttpRequest req;
            req.method = "HEAD";
            req.url = url;
            up = box::http_request(req).status == 200;
        } catch (...) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    REQUIRE(up);
    auto imp = sb.box({"import", "-c", "CMD [\"sh\"]", url, "fromurl:v1"});
    BOX_SHOW(imp);
    REQUIRE(imp.status == 0);
    CHECK(sb.box({"run", "fromurl:v1", "true"}).status == 0);

    // A zstd layer (as newer builders write them) on top of a plain one.
    std::string zst = sb.dir() + "/top.tar.zst";
    {
        struct archive* a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        REQUIRE(archive_write_add_filter_zstd(a) == ARCHIVE_OK);
        REQUIRE(archive_write_open_filename(a, zst.c_str()) == ARCHIVE_OK);
        struct archive_entry* e = archive_entry_new();
        std::string body = random_name("zstd-");
        archive_entry_set_pathname(e, "zfile");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(body.size()));
        archive_write_header(a, e);
        archive_write_data(a, body.data(), body.size());
        archive_entry_free(e);
        archive_write_close(a);
        archive_write_free(a);
        write_docker_archive(sb.dir() + "/z.tar", "zstd:v1", {tar, zst});
        auto load = sb.box({"load", "-i", sb.dir() + "/z.tar"});
        BOX_SHOW(load);
        REQUIRE(load.status == 0);
        auto r = sb.box({"run", "zstd:v1", "cat", "/zfile"});
        CHECK(r.out == body);
    }
}

TEST_CASE("what a killed box left half-made is cleared by the next command", "[stage3][crash]") {
    Sandbox sb;
    import_busybox(sb);
    // Leftovers named after a process that no longer exists, and one of a live process.
    std::string gone_pid = "4194303";  // above pid_max's default: never a live process
    fs::create_directories(sb.dir() + "/state/layers/tmp-" + gone_pid + "-abcdef01/etc");
    fs::create_directories(sb.dir() + "/state/tmp/" + gone_pid + "-12345678");
    std::ofstream(sb.dir() + "/state/tmp/" + gone_pid + "-" + std::string(64, 'a') + ".download") << "partial";
    std::string live = sb.dir() + "/state/tmp/1-live0000";  // pid 1 exists
    fs::create_directories(live);
    auto r = sb.box({"images", "-q"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(trim(r.out).size() == 12);  // the store still reads
    CHECK_FALSE(fs::exists(sb.dir() + "/state/layers/tmp-" + gone_pid + "-abcdef01"));
    CHECK_FALSE(fs::exists(sb.dir() + "/state/tmp/" + gone_pid + "-12345678"));
    CHECK_FALSE(fs::exists(sb.dir() + "/state/tmp/" + gone_pid + "-" + std::string(64, 'a') + ".download"));
    CHECK(fs::exists(live));
    CHECK(sb.box({"run", "busybox", "true"}).status == 0);
}

TEST_CASE("import --change takes docker's instructions; any other is refused before anything is stored",
          "[stage3][import][errors]") {
    Sandbox sb;
    auto imp = sb.box({"import", "-c", "ENV A=1", "-c", "ENV A=2 B=\"two words\"", "-c", "EXPOSE 80 53/udp", "-c",
                       "LABEL org.example.team=web", "-c", "VOLUME /data", "-c", "STOPSIGNAL SIGINT", "-c",
                       "ONBUILD RUN echo hi", "-c", "CMD [\"sh\"]", base_tar(sb), "changed:1"});
    BOX_SHOW(imp);
    REQUIRE(imp.status == 0);
    auto config = nlohmann::json::parse(sb.box({"image", "inspect", "changed:1"}).out).at(0).at("Config");
    CHECK(config["ExposedPorts"] == nlohmann::json({{"80/tcp", nlohmann::json::object()},
                                                    {"53/udp", nlohmann::json::object()}}));
    CHECK(config["Labels"]["org.example.team"] == "web");
    CHECK(config["Volumes"].contains("/data"));
    CHECK(config["StopSignal"] == "SIGINT");
    CHECK(config["OnBuild"] == nlohmann::json({"RUN echo hi"}));
    // ENV replaced A in place and kept PATH: what a container of it sees.
    auto env = sb.box({"run", "changed:1", "sh", "-c", "echo \"$A|$B|$PATH\""});
    BOX_SHOW(env);
    CHECK(trim(env.out) == "2|two words|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

    auto bad = sb.box({"import", "-c", "COPY a /b", base_tar(sb), "refused:1"});
    REQUIRE_ONE_ERROR_LINE(bad, 1);
    CHECK(bad.err.find("COPY is not a valid change command") != std::string::npos);
    CHECK(sb.box({"images", "-q", "refused:1"}).out.empty());
}
