// Stage 4, black-box: volumes and `box cp`.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

TEST_CASE("a named volume outlives its container; -v host:path:ro is read-only inside", "[stage4][volumes]") {
    Sandbox sb;
    import_busybox(sb);
    std::string word = random_name("kept-");
    // Written by one detached container, read by the next one after the first is gone.
    std::string id = run_detached(sb, {"-v", "notes:/data"}, {"sh", "-c", "echo " + word + " > /data/note"});
    CHECK(trim(sb.box({"wait", id}).out) == "0");
    CHECK(sb.box({"rm", id}).status == 0);
    CHECK(trim(sb.box({"run", "--rm", "-v", "notes:/data", "busybox", "cat", "/data/note"}).out) == word);
    auto info = nlohmann::json::parse(sb.box({"volume", "inspect", "notes"}).out).at(0);
    CHECK(read_host_file(info["Mountpoint"].get<std::string>() + "/note") == word + "\n");  // on the host's disk
    CHECK(lines(sb.box({"volume", "ls", "-q"}).out) == std::vector<std::string>{"notes"});

    // A volume in use cannot go; unused, it can.
    std::string holder = run_detached(sb, {"-v", "notes:/data"}, {"sleep", "300"});
    CHECK(inspect(sb, holder)["Mounts"][0]["Name"] == "notes");
    auto busy = sb.box({"volume", "rm", "notes"});
    CHECK(busy.status != 0);
    CHECK(busy.err.find("volume is in use") != std::string::npos);
    CHECK(sb.box({"rm", "-f", holder}).status == 0);
    CHECK(sb.box({"volume", "rm", "notes"}).status == 0);
    CHECK(sb.box({"volume", "ls", "-q"}).out.empty());

    // A host directory: the container sees its files; with :ro it cannot write.
    std::string host = sb.dir() + "/shared";
    fs::create_directories(host);
    std::ofstream(host + "/from-host") << word;
    auto ro = sb.box({"run", "--rm", "-v", host + ":/mnt/shared:ro", "busybox", "sh", "-c",
                      "cat /mnt/shared/from-host; echo x > /mnt/shared/from-container"});
    CHECK(ro.out == word);
    CHECK(ro.status != 0);
    CHECK(ro.err.find("Read-only file system") != std::string::npos);
    CHECK_FALSE(fs::exists(host + "/from-container"));
    CHECK(sb.box({"run", "--rm", "-v", host + ":/mnt/shared", "busybox", "sh", "-c", "echo y > /mnt/shared/rw"})
              .status == 0);
    CHECK(read_host_file(host + "/rw") == "y\n");
    // --rm takes the anonymous volume of `-v /path` along.
    CHECK(sb.box({"run", "--rm", "-v", "/scratch", "busybox", "touch", "/scratch/x"}).status == 0);
    CHECK(sb.box({"volume", "ls", "-q"}).out.empty());
    REQUIRE_ONE_ERROR_LINE(sb.box({"run", "--rm", "-v", "data:relative", "busybox", "true"}), 125);
}

TEST_CASE("-v FILE:PATH binds one host file, over an image's file or a new one", "[stage4][volumes]") {
    Sandbox sb;
    import_busybox(sb);
    std::string conf = sb.dir() + "/app.conf", word = random_name("conf-");
    std::ofstream(conf) << word << "\n";
    // Over a file the image has, read-only; and where the image has none (made,
    // with its parents): in a detached container, as a server's config is.
    std::string id = run_detached(sb, {"-v", conf + ":/etc/passwd:ro", "-v", conf + ":/opt/app/app.conf"}, {"sleep", "60"});
    auto r = sb.box({"exec", id, "sh", "-c",
                     "cat /etc/passwd /opt/app/app.conf; echo more >> /opt/app/app.conf; echo x > /etc/passwd"});
    BOX_SHOW(r);
    CHECK(sb.box({"rm", "-f", id}).status == 0);
    CHECK(r.out == word + "\n" + word + "\n");
    CHECK(r.err.find("Read-only file system") != std::string::npos);
    CHECK(read_host_file(conf) == word + "\nmore\n");  // the host's file, written through the rw bind
    // A symlink of the image is followed inside its root (an image's /etc/localtime is one).
    REQUIRE(sb.box({"run", "--name", "linked", "busybox", "ln", "-s", "/etc/real.conf", "/etc/link.conf"}).status == 0);
    REQUIRE(sb.box({"commit", "linked", "linked:v1"}).status == 0);
    auto linked = sb.box({"run", "--rm", "-v", conf + ":/etc/link.conf:ro", "linked:v1", "cat", "/etc/real.conf"});
    BOX_SHOW(linked);
    CHECK(linked.out == word + "\nmore\n");
    // A directory of the image cannot be covered by a file.
    REQUIRE_ONE_ERROR_LINE(sb.box({"run", "--rm", "-v", conf + ":/etc", "busybox", "true"}), 125);
}

TEST_CASE("--mount binds, volumes and tmpfs as docker parses them; --volumes-from shares another container's",
          "[stage4][volumes][given]") {
    Sandbox sb;
    import_busybox(sb);
    std::string host = sb.dir() + "/site";
    fs::create_directories(host);
    std::ofstream(host + "/index.html") << "hello\n";
    // A bind, read-only; a named volume; a tmpfs of 1 MiB, mode 1770.
    auto r = sb.box({"run", "--name", "m", "--mount", "type=bind,source=" + host + ",target=/www,readonly",
                     "--mount", "type=volume,src=cache,dst=/cache", "--mount",
                     "type=tmpfs,destination=/scratch,tmpfs-size=1m,tmpfs-mode=1770", "busybox", "sh", "-c",
                     "cat /www/index.html; touch /www/x 2>/dev/null || echo ro; echo kept > /cache/f; "
                     "grep ' /scratch ' /proc/mounts; stat -c %a /scratch"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto out = lines(r.out);
    REQUIRE(out.size() == 4);
    CHECK(out[0] == "hello");
    CHECK(out[1] == "ro");
    CHECK(out[2].find("tmpfs /scratch tmpfs") == 0);
    CHECK(out[2].find("size=1024k") != std::string::npos);
    CHECK(out[3] == "1770");
    CHECK(!fs::exists(host + "/x"));
    auto cache = nlohmann::json::parse(sb.box({"volume", "inspect", "cache"}).out).at(0);
    CHECK(read_host_file(cache["Mountpoint"].get<std::string>() + "/f") == "kept\n");
    auto mounts = inspect(sb, "m")["HostConfig"]["Mounts"];
    REQUIRE(mounts.size() == 3);
    CHECK(mounts[0]["Type"] == "bind");
    CHECK(mounts[0]["ReadOnly"] == true);

    // --volumes-from: the same mounts in another container; :ro makes them read-only.
    auto from = sb.box({"run", "--rm", "--volumes-from", "m", "busybox", "sh", "-c", "cat /cache/f /www/index.html"});
    CHECK(from.out == "kept\nhello\n");
    auto ro = sb.box({"run", "--rm", "--volumes-from", "m:ro", "busybox", "sh", "-c", "echo x > /cache/g || echo refused"});
    CHECK(ro.out.find("refused") != std::string::npos);
    CHECK(!fs::exists(cache["Mountpoint"].get<std::string>() + "/g"));

    // docker's errors; nothing made.
    check_refusals(sb, {"create"}, {"busybox", "true"}, {
        {{"--mount", "type=bind,target=/x"}, "field Source must not be empty"},
        {{"--mount", "type=bind,source=" + sb.dir() + "/missing,target=/x"}, "bind source path does not exist"},
        {{"--mount", "type=volume,source=v"}, "target is required"},
        {{"--mount", "type=volume,target=/x,colour=red"}, "unexpected key 'colour' in 'colour=red'"},
        {{"--mount", "type=bind,source=/tmp,target=/x,volume-nocopy"}, "cannot mix 'volume-*' options with mount type 'bind'"},
        {{"--mount", "type=disk,target=/x"}, "mount type unknown"},
        {{"--mount", "type=tmpfs,source=/tmp,target=/x"}, "field Source must not be specified"},
        {{"--mount", "type=volume,target=relative"}, "mount path must be absolute"},
        {{"-v", "a:/same", "--mount", "type=volume,source=b,target=/same"}, "Duplicate mount point: /same"},
        {{"--volumes-from", "nobody"}, "No such container: nobody"},
        {{"--volumes-from", "m:rx"}, "invalid mode: rx"},
    });
    CHECK(lines(sb.box({"ps", "-aq"}).out).size() == 1);
    CHECK(lines(sb.box({"volume", "ls", "-q"}).out) == std::vector<std::string>{"cache"});
    CHECK(sb.box({"rm", "m"}).status == 0);
}

TEST_CASE("cp copies both ways and resolves the container's symlinks inside it", "[stage4][cp]") {
    Sandbox sb;
    import_busybox(sb);
    std::string secret = random_name("container-shadow-");
    std::string id = run_detached(sb, {"--name", "files"},
                                  {"sh", "-c", "echo " + secret + " > /etc/shadow; ln -s /etc/shadow /leak; "
                                               "ln -s /etc /etclink; mkdir -p /d/e; echo deep > /d/e/f; sleep 300"});
    REQUIRE(eventually([&] { return sb.box({"exec", "files", "test", "-L", "/etclink"}).status == 0; }));
    std::string out = sb.dir() + "/out";
    fs::create_directories(out);
    // A symlink is copied as a symlink...
    CHECK(sb.box({"cp", "files:/leak", out + "/leak"}).status == 0);
    CHECK(fs::is_symlink(out + "/leak"));
    // ...and followed (-L), or passed through as a parent, it is the container's file, not the host's.
    CHECK(sb.box({"cp", "-L", "files:/leak", out + "/followed"}).status == 0);
    CHECK(read_host_file(out + "/followed") == secret + "\n");
    CHECK(sb.box({"cp", "files:/etclink/shadow", out + "/via-parent"}).status == 0);
    CHECK(read_host_file(out + "/via-parent") == secret + "\n");
    CHECK(read_host_file(out + "/via-parent") != read_host_file("/etc/shadow"));
    // Directories, and the other way.
    CHECK(sb.box({"cp", "files:/d", out}).status == 0);
    CHECK(read_host_file(out + "/d/e/f") == "deep\n");
    std::ofstream(out + "/in.txt") << secret;
    CHECK(sb.box({"cp", out + "/in.txt", "files:/tmp/"}).status == 0);
    CHECK(sb.box({"exec", "files", "cat", "/tmp/in.txt"}).out == secret);
    // A stopped container too: its writable layer takes it.
    CHECK(sb.box({"stop", "-t", "0", "files"}).status == 0);
    CHECK(sb.box({"cp", out + "/in.txt", "files:/while-stopped"}).status == 0);
    CHECK(sb.box({"start", "files"}).status == 0);
    CHECK(sb.box({"exec", "files", "cat", "/while-stopped"}).out == secret);
    REQUIRE_ONE_ERROR_LINE(sb.box({"cp", "files:/no/such/file", out}), 1);
    CHECK(sb.box({"rm", "-f", id}).status == 0);
}

TEST_CASE("volumes a killed box left half-made: a create's directory is no volume and goes, a remove's is finished, "
          "a volume whose record is lost keeps its files",
          "[stage4][volumes][given]") {
    Sandbox sb;
    std::string volumes = sb.dir() + "/state/volumes";
    CHECK(sb.box({"volume", "create", "kept"}).status == 0);
    std::ofstream(volumes + "/kept/_data/file") << "precious";
    CHECK(sb.box({"volume", "create", "lost"}).status == 0);
    std::ofstream(volumes + "/lost/_data/file") << "still here";
    // As a create, a remove and a disk problem cut short would leave them.
    fs::create_directories(volumes + "/cut/_data");
    fs::create_directories(volumes + "/.removing-gone-0123abcd/_data");
    std::ofstream(volumes + "/.removing-gone-0123abcd/_data/f") << "x";
    fs::remove(volumes + "/lost/volume.json");
    auto r = sb.box({"volume", "inspect", "cut"});
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(r.err.find("No such volume: cut") != std::string::npos);
    REQUIRE_ONE_ERROR_LINE(sb.box({"volume", "create", "../escape"}), 1);
    r = sb.box({"volume", "inspect", "../volumes/kept"});
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(r.err.find("No such volume") != std::string::npos);

    CHECK(lines(sb.box({"volume", "ls", "-q"}).out) == std::vector<std::string>{"kept", "lost"});
    CHECK_FALSE(fs::exists(volumes + "/cut"));
    CHECK_FALSE(fs::exists(volumes + "/.removing-gone-0123abcd"));
    CHECK(read_host_file(volumes + "/lost/_data/file") == "still here");
    CHECK(read_host_file(volumes + "/kept/_data/file") == "precious");
    CHECK(sb.box({"volume", "rm", "kept", "lost"}).status == 0);
    CHECK(sb.box({"volume", "ls", "-q"}).out.empty());
    CHECK_FALSE(fs::exists(volumes + "/kept"));
}
