// Stage 6, black-box: the tutorial's Dockerfiles, adapted to the kit's
// busybox image, built by ./box and checked in the images they make — their
// layers, configs and files as the store and a container of them show them.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "../stage3/http_host.hpp"
#include "support.hpp"

using namespace boxtest;
using json = nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("The tutorial's first Dockerfile: RUN writes a page that busybox httpd serves byte for byte",
          "[stage6][build]") {
    Sandbox sb;
    import_busybox(sb);
    const std::string page = "<h1>你好，Docker！</h1>";
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                       "RUN mkdir -p /www && echo '" + page + "' > /www/index.html\n"}});
    std::string id = build_ok(sb, ctx, {"-t", "nginx:v2"});
    CHECK(inspect_image(sb, "nginx:v2")["Id"] == id);

    int port = free_port();
    std::string c = run_detached_image(sb, "nginx:v2", {"--network", "host"},
                                       {"httpd", "-f", "-p", "127.0.0.1:" + std::to_string(port), "-h", "/www"});
    std::string response;
    CHECK(eventually([&] {
        response = HttpHost::forward("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", port);
        return !response.empty();
    }));
    CHECK(response.substr(response.find("\r\n\r\n") + 4) == page + "\n");
    CHECK(sb.box({"rm", "-f", c}).status == 0);
}

TEST_CASE("Each RUN is a layer of its own: the image shows one per RUN, history shows every instruction",
          "[stage6][build]") {
    Sandbox sb;
    import_busybox(sb);
    // busybox has neither useradd nor chpasswd: shims of the two, in a base of their own.
    std::string shims = make_context(sb, {{"Dockerfile", "FROM busybox\nCOPY useradd chpasswd /usr/sbin/\nRUN mkdir /etc/default\n"},
                                          {"useradd", "#!/bin/sh\necho \"$1:x:1001:1001::/home/$1:/bin/sh\" >> /etc/passwd\n"},
                                          {"chpasswd", "#!/bin/sh\nwhile IFS=: read -r u p; do\n"
                                                       "  echo \"$u:$(echo \"$p\" | sha256sum | cut -c1-16):0:0:99999:7:::\" >> /etc/shadow\n"
                                                       "done\n"}});
    fs::permissions(shims + "/useradd", fs::perms::owner_all);
    fs::permissions(shims + "/chpasswd", fs::perms::owner_all);
    build_ok(sb, shims, {"-t", "centos:6.7"});
    // The tutorial's multi-instruction Dockerfile, as written.
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM    centos:6.7\n"
                                                       "MAINTAINER      Fisher \"fisher@sudops.com\"\n"
                                                       "\n"
                                                       "RUN     /bin/echo 'root:123456' |chpasswd\n"
                                                       "RUN     useradd runoob\n"
                                                       "RUN     /bin/echo 'runoob:123456' |chpasswd\n"
                                                       "RUN     /bin/echo -e \"LANG=\\\"en_US.UTF-8\\\"\" >/etc/default/local\n"
                                                       "EXPOSE  22\n"
                                                       "EXPOSE  80\n"
                                                       "CMD     /usr/sbin/sshd -D\n"}});
    build_ok(sb, ctx, {"-t", "runoob/centos:6.7"});
    json img = inspect_image(sb, "runoob/centos:6.7");
    json base = inspect_image(sb, "centos:6.7");
    CHECK(img["RootFS"]["Layers"].size() == base["RootFS"]["Layers"].size() + 4);
    CHECK(img["Author"] == "Fisher \"fisher@sudops.com\"");
    CHECK(img["Config"]["ExposedPorts"] == json({{"22/tcp", json::object()}, {"80/tcp", json::object()}}));
    CHECK(img["Config"]["Cmd"] == json({"/bin/sh", "-c", "/usr/sbin/sshd -D"}));

    // The layers hold what the steps changed: the user is in /etc/passwd, a
    // hash of its password in /etc/shadow (not the text), the locale file is there.
    std::string out = run_image(sb, "runoob/centos:6.7", {"sh", "-c", "grep ^runoob: /etc/passwd; grep -c 123456 /etc/shadow; cat /etc/default/local"});
    CHECK(out == "runoob:x:1001:1001::/home/runoob:/bin/sh\n0\nLANG=\"en_US.UTF-8\"\n");

    // A RUN that deletes a file of a lower layer stores a whiteout (.wh.NAME), as docker's layers.
    std::string rm = make_context(sb, {{"Dockerfile", "FROM runoob/centos:6.7\nRUN rm /etc/default/local\n"}});
    build_ok(sb, rm, {"-t", "removed"});
    CHECK(run_image(sb, "removed", {"sh", "-c", "ls /etc/default/local 2>&1; true"}).find("No such file") != std::string::npos);
    std::string archive = sb.dir() + "/removed.tar", unpacked = sb.dir() + "/removed";
    REQUIRE(sb.box({"save", "-o", archive, "removed"}).status == 0);
    fs::create_directories(unpacked);
    REQUIRE(run({"tar", "-C", unpacked, "-xf", archive}).status == 0);
    json manifest = json::parse(read_host_file(unpacked + "/manifest.json"));
    std::string top = manifest.at(0).at("Layers").back();
    auto listing = run({"tar", "-tf", unpacked + "/" + top});
    CHECK(lines(listing.out) == std::vector<std::string>({"etc/", "etc/default/", "etc/default/.wh.local"}));

    auto r = sb.box({"history", "runoob/centos:6.7"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto rows = lines(r.out);
    CHECK(rows.size() == 1 + 8 + 2 + 1);  // header, eight instructions after FROM, the shims' COPY and RUN, the import
    CHECK(std::regex_search(rows.at(1), std::regex("^[0-9a-f]{12} ")));  // the image itself
    CHECK(rows.at(2).rfind("<missing>", 0) == 0);                      // steps are not images
}

TEST_CASE("ENTRYPOINT and CMD together: CMD gives default arguments that run's arguments replace",
          "[stage6][build]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                       "ENTRYPOINT [\"echo\", \"-n\", \"conf:\"]\n"
                                                       "CMD [\"/etc/nginx/nginx.conf\"]\n"}});
    build_ok(sb, ctx, {"-t", "nginx:test"});
    CHECK(run_image(sb, "nginx:test") == "conf: /etc/nginx/nginx.conf");
    CHECK(run_image(sb, "nginx:test", {"/etc/nginx/new.conf"}) == "conf: /etc/nginx/new.conf");

    // An ENTRYPOINT of a later build clears the CMD it inherits; the shell
    // form runs in the stage's SHELL.
    std::string child = make_context(sb, {{"Dockerfile", "FROM nginx:test\n"
                                                         "SHELL [\"/bin/sh\", \"-ec\"]\n"
                                                         "ENTRYPOINT echo from-shell \"$0\"\n"}});
    build_ok(sb, child, {"-t", "child"});
    json config = inspect_image(sb, "child")["Config"];
    CHECK(config["Cmd"].is_null());
    CHECK(config["Entrypoint"] == json({"/bin/sh", "-ec", "echo from-shell \"$0\""}));
    CHECK(run_image(sb, "child") == "from-shell /bin/sh\n");
}

TEST_CASE("The layer cache: a rebuild reuses every step; content, not mtime, decides for COPY",
          "[stage6][cache]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                       "ENV GREETING=hello\n"
                                                       "COPY app.txt /app/\n"
                                                       "RUN cat /app/app.txt > /app/copy.txt; cat /proc/sys/kernel/random/uuid > /app/when\n"
                                                       "CMD [\"cat\", \"/app/copy.txt\", \"/app/when\"]\n"},
                                        {"app.txt", "one\n"}});
    std::string first = build_ok(sb, ctx, {"-t", "app"});
    size_t layers = state_entries(sb, "layers");
    std::string when = run_image(sb, "app");

    // Same context: the same image (its config, dates included, comes from the cache), no new layer.
    CHECK(build_ok(sb, ctx, {"-t", "app"}) == first);
    CHECK(state_entries(sb, "layers") == layers);
    CHECK(run_image(sb, "app") == when);

    // The compact view (--progress tty; auto on a terminal): a line per step,
    // CACHED for each the cache gave, no RUN output.
    auto compact = build(sb, ctx, {"--progress", "tty", "-t", "app"});
    BOX_SHOW(compact);
    REQUIRE(compact.status == 0);
    auto steps = lines(compact.out);
    REQUIRE(steps.size() >= 5);
    CHECK(steps[0].rfind(" => [1/5] FROM busybox", 0) == 0);
    for (size_t i = 1; i < 5; ++i) CHECK(steps[i].rfind(" => CACHED [" + std::to_string(i + 1) + "/5] ", 0) == 0);
    CHECK(compact.out.find("Step ") == std::string::npos);

    // A new mtime alone changes nothing.
    fs::last_write_time(ctx + "/app.txt", fs::last_write_time(ctx + "/app.txt") + std::chrono::hours(1));
    CHECK(build_ok(sb, ctx, {"-t", "app"}) == first);

    // New content: COPY and every step after it run again.
    std::ofstream(ctx + "/app.txt") << "two\n";
    std::string second = build_ok(sb, ctx, {"-t", "app"});
    CHECK(second != first);
    std::string out = run_image(sb, "app");
    CHECK(out.rfind("two\n", 0) == 0);
    CHECK(out != when);

    // A mode change of a source is a change too; --no-cache runs everything.
    fs::permissions(ctx + "/app.txt", fs::perms::owner_exec, fs::perm_options::add);
    std::string third = build_ok(sb, ctx, {"-t", "app"});
    CHECK(third != second);
    std::string fourth = build_ok(sb, ctx, {"-t", "app", "--no-cache"});
    CHECK(fourth != third);
    CHECK(run_image(sb, "app") != out);

    // builder prune empties the cache: the next build runs its steps again.
    auto r = sb.box({"builder", "prune", "-f"});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(state_entries(sb, "build-cache") == 0);
}

TEST_CASE("The build context: .dockerignore hides paths (with ** and ! exceptions) from COPY",
          "[stage6][context]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\nCOPY . /ctx/\n"},
                                        {".dockerignore", "# build output\n*.log\n**/tmp\nsecrets\n!keep.log\n/docs/*.md\n"},
                                        {"main.c", "int main;\n"},
                                        {"debug.log", "x"},
                                        {"keep.log", "kept"},
                                        {"src/tmp/scratch", "x"},
                                        {"src/lib.c", "lib"},
                                        {"secrets/key", "do not ship"},
                                        {"docs/guide.md", "x"},
                                        {"docs/sub/deep.md", "deep"}});
    build_ok(sb, ctx, {"-t", "ctx"});
    std::string out = run_image(sb, "ctx", {"sh", "-c", "cd /ctx && find . -type f | sort"});
    CHECK(out == "./.dockerignore\n./Dockerfile\n./docs/sub/deep.md\n./keep.log\n./main.c\n./src/lib.c\n");

    // An ignored file named alone is not there either.
    std::ofstream(ctx + "/Dockerfile") << "FROM busybox\nCOPY secrets/key /key\n";
    auto r = build(sb, ctx);
    BOX_SHOW(r);
    CHECK(r.status != 0);
    CHECK(r.err.find("excluded by .dockerignore") != std::string::npos);
}

TEST_CASE("Build args: ARG before FROM names the base, --build-arg overrides, a stage sees only its own",
          "[stage6][args]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "ARG BASE=nothing-such\n"
                                                       "ARG VERSION=1.0\n"
                                                       "FROM ${BASE} AS first\n"
                                                       "ARG VERSION\n"
                                                       "ARG USER_NAME=anon\n"
                                                       "ENV FROM_ENV=env-wins\n"
                                                       "ARG FROM_ENV=arg-loses\n"
                                                       "RUN echo \"$VERSION $USER_NAME $FROM_ENV\" > /args\n"
                                                       "FROM busybox\n"
                                                       "RUN echo \"[$VERSION][$USER_NAME]\" > /second\n"}});
    build_ok(sb, ctx, {"--build-arg", "BASE=busybox", "--build-arg", "USER_NAME=ann", "--target", "first", "-t", "first"});
    std::string out = run_image(sb, "first", {"cat", "/args"});
    CHECK(out == "1.0 ann env-wins\n");

    // A build arg is in RUN's environment, not in the image's.
    CHECK(inspect_image(sb, "first")["Config"]["Env"].dump().find("USER_NAME") == std::string::npos);

    build_ok(sb, ctx, {"--build-arg", "BASE=busybox", "--build-arg", "USER_NAME=ann", "-t", "second"});
    CHECK(run_image(sb, "second", {"cat", "/second"}) == "[][]\n");

    // A changed build arg is a different RUN step.
    build_ok(sb, ctx, {"--build-arg", "BASE=busybox", "--build-arg", "USER_NAME=bob", "--build-arg", "VERSION=2", "--target", "first", "-t", "first"});
    CHECK(run_image(sb, "first", {"cat", "/args"}) == "2 bob env-wins\n");

    // docker's predefined proxy args reach RUN without an ARG, and neither the cache key nor the history.
    std::string proxy = make_context(sb, {{"Dockerfile", "FROM busybox\nRUN echo \"[$HTTP_PROXY][$no_proxy]\" > /proxy\n"}});
    build_ok(sb, proxy, {"-t", "proxy"});
    CHECK(run_image(sb, "proxy", {"cat", "/proxy"}) == "[][]\n");
    std::string iid = sb.dir() + "/proxy.iid";
    auto p = build(sb, proxy, {"--no-cache", "-t", "proxy", "--iidfile", iid, "--build-arg",
                               "HTTP_PROXY=http://127.0.0.1:3128", "--build-arg", "no_proxy=localhost"});
    BOX_SHOW(p);
    REQUIRE(p.status == 0);
    CHECK(p.out.find("not consumed") == std::string::npos);
    CHECK(run_image(sb, "proxy", {"cat", "/proxy"}) == "[http://127.0.0.1:3128][localhost]\n");
    CHECK(sb.box({"history", "--no-trunc", "proxy"}).out.find("3128") == std::string::npos);
    // Not in the key: a build without them takes that step from the cache.
    CHECK(build_ok(sb, proxy) == read_host_file(iid));

    // Unknown base: the build says so and makes nothing.
    auto r = build(sb, ctx, {"-t", "never"});
    CHECK(r.status != 0);
    CHECK(sb.box({"image", "inspect", "never"}).status != 0);
}

TEST_CASE("Multi-stage builds: COPY --from a stage, --target stops at a named stage", "[stage6][multistage]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox AS builder\n"
                                                       "WORKDIR /src\n"
                                                       "COPY hello.sh .\n"
                                                       "RUN chmod 755 hello.sh && sh hello.sh > built.txt && mkdir -p /tools && cp hello.sh /tools/\n"
                                                       "FROM busybox\n"
                                                       "COPY --from=builder /src/built.txt /app/\n"
                                                       "COPY --from=0 /tools /opt/tools\n"
                                                       "COPY --from=busybox /etc/passwd /from-image/\n"
                                                       "CMD [\"cat\", \"/app/built.txt\"]\n"},
                                        {"hello.sh", "echo built by the first stage\n"}});
    std::string id = build_ok(sb, ctx, {"-t", "final", "-t", "final:v2"});
    CHECK(inspect_image(sb, "final:v2")["Id"] == id);
    CHECK(run_image(sb, "final") == "built by the first stage\n");
    CHECK(run_image(sb, "final", {"cat", "/from-image/passwd"}) == read_host_file(base_rootfs() + "/etc/passwd"));
    CHECK(run_image(sb, "final", {"sh", "-c", "ls /src 2>&1; stat -c %a /opt/tools/hello.sh"}) ==
          "ls: /src: No such file or directory\n755\n");
    // The final image has the base's layers and the three COPYs only.
    CHECK(inspect_image(sb, "final")["RootFS"]["Layers"].size() == inspect_image(sb, "busybox")["RootFS"]["Layers"].size() + 3);

    build_ok(sb, ctx, {"--target", "builder", "-t", "builder"});
    CHECK(run_image(sb, "builder", {"cat", "/src/built.txt"}) == "built by the first stage\n");
    CHECK(inspect_image(sb, "builder")["Config"]["WorkingDir"] == "/src");

    auto r = build(sb, ctx, {"--target", "nosuch"});
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(r.err.find("nosuch") != std::string::npos);
}

TEST_CASE("ONBUILD triggers run in the child's build, and the child keeps none", "[stage6][onbuild]") {
    Sandbox sb;
    import_busybox(sb);
    std::string parent = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                          "ONBUILD COPY package.json /app/\n"
                                                          "ONBUILD RUN wc -c < /app/package.json > /app/size\n"}});
    build_ok(sb, parent, {"-t", "my-node"});
    CHECK(inspect_image(sb, "my-node")["Config"]["OnBuild"].size() == 2);
    CHECK(run_image(sb, "my-node", {"sh", "-c", "ls /app 2>&1; true"}).find("No such file") != std::string::npos);

    std::string child = make_context(sb, {{"Dockerfile", "FROM my-node\nCMD [\"cat\", \"/app/size\"]\n"},
                                          {"package.json", "{\"name\": \"app\"}"}});
    build_ok(sb, child, {"-t", "my-app"});
    CHECK(trim(run_image(sb, "my-app")) == "15");
    CHECK(inspect_image(sb, "my-app")["Config"]["OnBuild"].is_null());
}

TEST_CASE("Heredocs: RUN <<EOF runs a script, COPY <<EOF writes a file", "[stage6][heredoc]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                       "RUN <<EOF\n"
                                                       "echo first > /one\n"
                                                       "echo second >> /one\n"
                                                       "EOF\n"
                                                       "COPY <<EOT /etc/app.conf\n"
                                                       "listen 80\n"
                                                       "EOT\n"
                                                       "RUN cat <<END > /two\n"
                                                       "fed on stdin\n"
                                                       "END\n"}});
    build_ok(sb, ctx, {"-t", "hd"});
    CHECK(run_image(sb, "hd", {"cat", "/one", "/etc/app.conf", "/two"}) == "first\nsecond\nlisten 80\nfed on stdin\n");
}

TEST_CASE("ADD unpacks local gzip, bzip2 and xz tars and fetches a URL as a 0600 file", "[stage6][add]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"payload/a.txt", "alpha\n"}, {"payload/sub/b.txt", "beta\n"}});
    for (const char* flag : {"-czf", "-cjf", "-cJf"}) {
        std::string name = std::string("files") + flag + ".tar";
        auto t = run({"tar", flag, ctx + "/" + name, "-C", ctx + "/payload", "."});
        REQUIRE(t.status == 0);
    }
    HttpHost server("127.0.0.1", [](const std::string& head) {
        if (head.rfind("GET /config.txt ", 0) == 0) return HttpHost::response("200 OK", "", "from the web\n");
        return HttpHost::response("404 Not Found", "", "");
    });
    std::ofstream(ctx + "/Dockerfile") << "FROM busybox\n"
                                          "ADD files-czf.tar /gz/\n"
                                          "ADD files-cjf.tar /bz2\n"
                                          "ADD files-cJf.tar /xz/\n"
                                          "ADD http://" + server.host() + "/config.txt /etc/\n";
    build_ok(sb, ctx, {"-t", "added"});
    CHECK(run_image(sb, "added", {"cat", "/gz/a.txt", "/bz2/sub/b.txt", "/xz/a.txt", "/etc/config.txt"}) ==
          "alpha\nbeta\nalpha\nfrom the web\n");
    CHECK(run_image(sb, "added", {"stat", "-c", "%a", "/etc/config.txt"}) == "600\n");

    std::ofstream(ctx + "/Dockerfile") << "FROM busybox\nADD http://" + server.host() + "/missing /x\n";
    auto r = build(sb, ctx);
    CHECK(r.status != 0);
    CHECK(r.err.find("404") != std::string::npos);
}

TEST_CASE("A failing RUN reports its exit code and leaves no container, mount, layer or image", "[stage6][errors]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\nRUN echo made > /file\nRUN echo failing; exit 3\n"}});
    size_t layers = state_entries(sb, "layers");
    auto r = build(sb, ctx, {"-t", "broken"});
    BOX_SHOW(r);
    CHECK(r.status == 1);
    CHECK(lines(r.err).back() == "box: The command '/bin/sh -c echo failing; exit 3' returned a non-zero code: 3");
    CHECK(r.out.find("failing") != std::string::npos);
    CHECK(container_dirs(sb) == 0);
    CHECK(state_entries(sb, "tmp") == 0);
    CHECK(state_entries(sb, "layers") == layers + 2);  // the first RUN's layer (and its record), cached
    CHECK(sb.box({"image", "inspect", "broken"}).status != 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("What a build shows: a RUN's stdout and stderr as written, within its step; -q and the compact view show "
          "only a failed step's, on stderr",
          "[stage6][output]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\nRUN echo one; echo two >&2; echo three\n"}});

    // docker's classic builder: both streams of the step, in the order the
    // command wrote them, on stdout between its container's two lines.
    auto r = build(sb, ctx, {"--progress", "plain", "--no-cache"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    std::smatch m;
    CHECK(std::regex_search(r.out, m, std::regex(" ---> Running in ([0-9a-f]{12})\none\ntwo\nthree\n"
                                                 "Removing intermediate container ([0-9a-f]{12})\n")));
    CHECK(m.size() == 3);
    if (m.size() == 3) CHECK(m[1] == m[2]);
    CHECK(r.err.find("two") == std::string::npos);

    // -q: the image id alone; nothing of a step that succeeded.
    r = build(sb, ctx, {"-q", "--no-cache"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(std::regex_match(r.out, std::regex("sha256:[0-9a-f]{64}\n")));
    CHECK(r.err.empty());

    // A failed step's output, on stderr before the error, with -q and in the compact view.
    std::string failing = make_context(sb, {{"Dockerfile", "FROM busybox\nRUN echo visible; echo on-err >&2; exit 4\n"}});
    for (auto flags : {std::vector<std::string>{"-q"}, std::vector<std::string>{"--progress", "tty"}}) {
        r = build(sb, failing, flags);
        BOX_SHOW(r);
        CHECK(r.status == 1);
        CHECK(r.err.find("visible\non-err\n") != std::string::npos);
        CHECK(lines(r.err).back() == "box: The command '/bin/sh -c echo visible; echo on-err >&2; exit 4' returned a non-zero code: 4");
        CHECK(r.out.find("visible") == std::string::npos);
    }
    CHECK(container_dirs(sb) == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("Bad Dockerfiles and bad flags get one error line naming the file and line", "[stage6][errors]") {
    Sandbox sb;
    import_busybox(sb);
    // The same kind of context with a good Dockerfile builds: the errors below are the input's.
    build_ok(sb, make_context(sb, {{"Dockerfile", "FROM busybox\nCOPY a b /dest/\nRUN test -f /dest/a -a -f /dest/b\n"},
                                   {"a", "a"}, {"b", "b"}}));
    struct Case {
        std::string dockerfile, expected;
    };
    std::vector<Case> cases = {
        {"FROM busybox\nRUNN echo\n", "Dockerfile:2:1"},
        {"FROM busybox\nENV\n", "Dockerfile:2"},
        {"RUN echo no base\n", "no FROM instruction"},
        {"FROM busybox\nCOPY only-one\n", "requires at least two arguments"},
        {"FROM busybox\nCOPY --chmod=999 a /a\n", "invalid chmod"},
        {"FROM busybox\nCOPY --bogus=1 a /a\n", "Unknown flag: bogus"},
        {"FROM busybox\nCOPY a b /dest\n", "must be a directory and end with a /"},
        {"FROM busybox\nCOPY ../outside /x\n", "outside the build context"},
        {"FROM busybox\nCOPY [\"a\", \"\"]\n", "needs a destination"},
        {"FROM busybox\nSHELL /bin/bash -c\n", "SHELL requires the arguments to be in JSON form"},
    };
    for (const auto& c : cases) {
        std::string ctx = make_context(sb, {{"Dockerfile", c.dockerfile}, {"a", "a"}, {"b", "b"}});
        auto r = build(sb, ctx);
        INFO(c.dockerfile);
        REQUIRE_ONE_ERROR_LINE(r, 1);
        CHECK(r.err.find(c.expected) != std::string::npos);
    }
    auto r = build(sb, sb.dir() + "/no-such-dir");
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(r.err.find("unable to prepare context") != std::string::npos);
    CHECK(container_dirs(sb) == 0);
    CHECK(state_entries(sb, "tmp") == 0);
}

TEST_CASE("A hostile image's symlinks cannot lead COPY out of its root, nor the context's out of the context",
          "[stage6][security]") {
    Sandbox sb;
    import_busybox(sb);
    std::string victim = sb.dir() + "/victim";
    fs::create_directories(victim);
    // The base image points /escape at a host directory, absolutely and relatively.
    std::string base = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                        "RUN ln -s " + victim + " /escape && ln -s ../../../../../../.." + victim + " /rel\n"}});
    build_ok(sb, base, {"-t", "hostile"});
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM hostile\nCOPY a.txt /escape/\nCOPY a.txt /rel/b.txt\n"},
                                        {"a.txt", "payload"}});
    // The context's own symlink to a host file is resolved inside the context.
    fs::create_symlink("/etc/hostname", ctx + "/link");
    build_ok(sb, ctx, {"-t", "copied"});
    CHECK(fs::is_empty(victim));
    // What was copied landed inside the image, where the links lead within it.
    CHECK(run_image(sb, "copied", {"cat", victim + "/a.txt", victim + "/b.txt"}) == "payloadpayload");

    std::ofstream(ctx + "/Dockerfile") << "FROM busybox\nCOPY link /stolen\n";
    auto r = build(sb, ctx);
    CHECK(r.status != 0);  // /etc/hostname is not in the context
    CHECK(fs::is_empty(victim));
}

TEST_CASE("A built image is an image like any other: tag by id, -q, stdin, dangling results pruned",
          "[stage6][images]") {
    Sandbox sb;
    import_busybox(sb);
    // A Dockerfile on stdin, no context; -q prints the id alone.
    RunOptions o;
    o.input = "FROM busybox\nLABEL stage=six\nRUN echo piped > /p\n";
    auto r = sb.box({"build", "-q", "-"}, o);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    std::string id = trim(r.out);
    CHECK(std::regex_match(id, std::regex("sha256:[0-9a-f]{64}")));
    CHECK(inspect_image(sb, id)["Config"]["Labels"]["stage"] == "six");

    // Unnamed, it is dangling until tagged by id; image prune removes a dangling one.
    CHECK(sb.box({"tag", id.substr(7, 12), "piped:v1"}).status == 0);
    CHECK(run_image(sb, "piped:v1", {"cat", "/p"}) == "piped\n");
    CHECK(sb.box({"rmi", "piped:v1"}).status == 0);
    o.input = "FROM busybox\nRUN echo dangling > /d\n";
    r = sb.box({"build", "-q", "--label", "extra=1", "-"}, o);
    REQUIRE(r.status == 0);
    std::string dangling = trim(r.out);
    CHECK(inspect_image(sb, dangling)["Config"]["Labels"]["extra"] == "1");
    r = sb.box({"image", "prune", "-f"});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(sb.box({"image", "inspect", dangling}).status != 0);
}

TEST_CASE("An image box built runs in podman after box save and podman load", "[stage6][interop]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                       "WORKDIR /app\n"
                                                       "COPY greeting.txt .\n"
                                                       "RUN tr a-z A-Z < greeting.txt > shout.txt\n"
                                                       "ENTRYPOINT [\"cat\"]\n"
                                                       "CMD [\"shout.txt\"]\n"},
                                        {"greeting.txt", "built by box\n"}});
    std::string id = build_ok(sb, ctx, {"-t", "interop:v1"});
    CHECK(run_image(sb, "interop:v1") == "BUILT BY BOX\n");
    if (run({"sh", "-c", "command -v podman"}).status != 0) {
        WARN("podman is not installed here (make deps installs it): the built image was run by box only");
        return;
    }
    std::string archive = sb.dir() + "/interop.tar";
    auto save = sb.box({"save", "-o", archive, "interop:v1"});
    BOX_SHOW(save);
    REQUIRE(save.status == 0);
    // podman with a store of its own in the sandbox (vfs: no mounts), runc as its
    // runtime and rlimits this sandbox can give (TESTING.md, "Reference engines").
    std::string hard = trim(run({"sh", "-c", "ulimit -Hn"}).out);
    std::string conf = sb.dir() + "/containers.conf";
    std::ofstream(conf) << "[containers]\ndefault_ulimits = [\"nofile=" + hard + ":" + hard +
                               "\", \"nproc=32768:32768\"]\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n";
    RunOptions o;
    o.env = {{"CONTAINERS_CONF", conf}};
    std::vector<std::string> podman = {"podman", "--root", sb.dir() + "/podman", "--runroot", sb.dir() + "/podman-run",
                                       "--storage-driver", "vfs", "--events-backend", "none", "--runtime", "runc"};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.begin(), podman.begin(), podman.end());
        auto r = run(args, o);
        INFO(r.err);
        CHECK(r.status == 0);
        return r;
    };
    with({"load", "-i", archive});
    CHECK(trim(with({"images", "-q", "--no-trunc", "localhost/interop:v1"}).out) == id);
    CHECK(with({"run", "--rm", "--network", "none", "localhost/interop:v1"}).out == "BUILT BY BOX\n");
    CHECK(with({"run", "--rm", "--network", "none", "localhost/interop:v1", "/app/greeting.txt"}).out == "built by box\n");
}

TEST_CASE("Contexts: a tar on stdin, a tar at a URL; RUN steps get chapter 5's protections", "[stage6][context]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                       "COPY . /ctx/\n"
                                                       "RUN grep -E '^(CapBnd|CapEff|Seccomp):' /proc/self/status > /security\n"},
                                        {"from-the-tar.txt", "inside\n"}});
    std::string tar = sb.dir() + "/context.tar";
    REQUIRE(run({"tar", "-C", ctx, "-cf", tar, "."}).status == 0);
    RunOptions o;
    o.input = read_host_file(tar);
    auto r = sb.box({"build", "-q", "-t", "from-stdin", "-"}, o);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(run_image(sb, "from-stdin", {"cat", "/ctx/from-the-tar.txt"}) == "inside\n");
    // The RUN step's container had docker's capabilities and a seccomp filter, as any container.
    CHECK(run_image(sb, "from-stdin", {"cat", "/security"}) ==
          std::string("CapEff:\t") + kDockerCaps + "\nCapBnd:\t" + kDockerCaps + "\nSeccomp:\t2\n");

    std::string body = read_host_file(tar);
    HttpHost server("127.0.0.1", [&](const std::string& head) {
        if (head.rfind("GET /ctx.tar ", 0) == 0) return HttpHost::response("200 OK", "", body);
        return HttpHost::response("404 Not Found", "", "");
    });
    build_ok(sb, "http://" + server.host() + "/ctx.tar", {"-t", "from-url"});
    CHECK(run_image(sb, "from-url", {"cat", "/ctx/from-the-tar.txt"}) == "inside\n");
    r = build(sb, "http://" + server.host() + "/missing.tar");
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(r.err.find("404") != std::string::npos);
    CHECK(state_entries(sb, "tmp") == 0);
}

TEST_CASE("FROM pulls a base it lacks from the registry; --pull takes the registry's newer one", "[stage6][registry]") {
    Sandbox sb;
    TestRegistry registry(sb);
    push_with_skopeo(sb, registry, "lib/base:1");
    std::string base = registry.host() + "/lib/base:1";
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM " + base + "\nRUN ls /marker 2>/dev/null > /seen || true\n"}});
    build_ok(sb, ctx, {"-t", "first"});
    CHECK(run_image(sb, "first", {"cat", "/seen"}).empty());

    // A newer base under the same name, pushed by box itself.
    std::string newer = make_context(sb, {{"Dockerfile", "FROM " + base + "\nRUN touch /marker\n"}});
    build_ok(sb, newer, {"-t", "newer"});
    REQUIRE(sb.box({"tag", "newer", base}).status == 0);
    auto push = sb.box({"push", base});
    BOX_SHOW(push);
    REQUIRE(push.status == 0);
    REQUIRE(sb.box({"rmi", base}).status == 0);
    REQUIRE(sb.box({"tag", "first", base}).status == 0);  // the local name: not the registry's
    build_ok(sb, ctx, {"-t", "cached"});
    CHECK(run_image(sb, "cached", {"cat", "/seen"}).empty());
    build_ok(sb, ctx, {"--pull", "-t", "pulled"});
    CHECK(run_image(sb, "pulled", {"cat", "/seen"}) == "/marker\n");
}

TEST_CASE("An image's HEALTHCHECK applies to its containers unless run overrides it or says --no-healthcheck",
          "[stage6][build][health]") {
    Sandbox sb;
    import_busybox(sb);
    std::string ctx = make_context(sb, {{"Dockerfile", "FROM busybox\n"
                                                       "HEALTHCHECK --interval=200ms --retries=1 CMD [\"cat\", \"/ready\"]\n"}});
    build_ok(sb, ctx, {"-t", "checked"});
    auto image_check = inspect_image(sb, "checked")["Config"]["Healthcheck"];
    CHECK(image_check["Test"] == json{"CMD", "cat", "/ready"});

    // The image's check, as it is: CMD's words run without a shell.
    std::string c = run_detached_image(sb, "checked", {"--name", "a"}, {"sleep", "300"});
    auto health = [&](const std::string& name) {
        auto r = sb.box({"inspect", name});
        BOX_SHOW(r);
        return json::parse(r.out).at(0);
    };
    REQUIRE(eventually([&] { return health("a")["State"]["Health"]["Status"] == "unhealthy"; }));
    CHECK(health("a")["State"]["Health"]["Log"][0]["Output"].get<std::string>().find("/ready") != std::string::npos);
    REQUIRE(sb.box({"exec", "a", "sh", "-c", "echo ready > /ready"}).status == 0);
    REQUIRE(eventually([&] { return health("a")["State"]["Health"]["Status"] == "healthy"; }));
    CHECK(health("a")["State"]["Health"]["Log"].back()["Output"] == "ready\n");

    // One field overridden: the rest is the image's.
    run_detached_image(sb, "checked", {"--name", "b", "--health-interval", "300ms"}, {"sleep", "300"});
    auto b = health("b")["Config"]["Healthcheck"];
    CHECK(b["Test"] == json{"CMD", "cat", "/ready"});
    CHECK(b["Interval"] == 300000000);
    CHECK(b["Retries"] == 1);

    // --no-healthcheck: no monitor, no State.Health, ps says none.
    run_detached_image(sb, "checked", {"--name", "n", "--no-healthcheck"}, {"sleep", "300"});
    CHECK(health("n")["State"]["Health"].is_null());
    CHECK(health("n")["Config"]["Healthcheck"]["Test"] == json{"NONE"});
    CHECK(sb.box({"ps", "--filter", "health=none", "--format", "{{.Names}}"}).out == "n\n");
    CHECK(sb.box({"rm", "-f", "a", "b", "n"}).status == 0);
}
