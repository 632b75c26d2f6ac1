// Stage 3, black-box: pull and push against a real registry server, with the
// real tools skopeo and umoci on the other side.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "box/digest.hpp"
#include "http_host.hpp"
#include "support.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

namespace {
size_t blob_count(const Sandbox& sb) {
    size_t n = 0;
    std::string dir = sb.dir() + "/state/images/blobs/sha256";
    if (fs::exists(dir))
        for (const auto& b : fs::directory_iterator(dir)) n += b.is_regular_file();
    return n;
}
}  // namespace

TEST_CASE("an image made by umoci and pushed by skopeo is pulled and run by box", "[stage3][registry]") {
    Sandbox sb;
    TestRegistry registry(sb);
    std::string name = registry.host() + "/team/" + random_name("app-", 6) + ":v1";
    push_with_skopeo(sb, registry, name.substr(registry.host().size() + 1));
    auto pull = sb.box({"pull", name});
    BOX_SHOW(pull);
    REQUIRE(pull.status == 0);
    auto inspect = run({"skopeo", "inspect", "--tls-verify=false", "--raw", "docker://" + name});
    CHECK(pull.out.find("Digest: " + box::sha256_digest(inspect.out)) != std::string::npos);
    std::string word = random_name("hi-");
    auto r = sb.box({"run", name, "echo", word});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(trim(r.out) == word);
}

TEST_CASE("an image pushed by box is read by skopeo with the digest unchanged", "[stage3][registry]") {
    Sandbox sb;
    TestRegistry registry(sb);
    import_busybox(sb);
    std::string name = registry.host() + "/mine/" + random_name("box-", 6) + ":v2";
    REQUIRE(sb.box({"tag", "busybox", name}).status == 0);
    auto push = sb.box({"push", name});
    BOX_SHOW(push);
    REQUIRE(push.status == 0);
    // What skopeo reads back hashes to what box pushed, and copies unchanged.
    auto raw = run({"skopeo", "inspect", "--tls-verify=false", "--raw", "docker://" + name});
    REQUIRE(raw.status == 0);
    std::string digest = box::sha256_digest(raw.out);
    CHECK(push.out.find("digest: " + digest) != std::string::npos);
    std::string copy = sb.dir() + "/copy";
    auto cp = run({"skopeo", "copy", "--preserve-digests", "--src-tls-verify=false", "docker://" + name,
                   "oci:" + copy + ":x"});
    INFO(cp.err);
    REQUIRE(cp.status == 0);
    CHECK(read_host_file(copy + "/index.json").find(digest) != std::string::npos);
    // A second push sends no blob again.
    auto again = sb.box({"push", name});
    CHECK(again.out.find("Pushed") == std::string::npos);
    CHECK(again.out.find("Layer already exists") != std::string::npos);
    // And box pulls its own push into a fresh store.
    Sandbox other;
    auto pull = other.box({"pull", name});
    BOX_SHOW(pull);
    CHECK(pull.status == 0);
    CHECK(other.box({"run", name, "true"}).status == 0);
}

TEST_CASE("a blob whose content does not match its digest is refused, nothing stored", "[stage3][registry][errors]") {
    Sandbox sb;
    TestRegistry registry(sb);
    std::string name = registry.host() + "/team/tampered:v1";
    push_with_skopeo(sb, registry, "team/tampered:v1");
    auto manifest = nlohmann::json::parse(
        run({"skopeo", "inspect", "--tls-verify=false", "--raw", "docker://" + name}).out);
    std::string layer = manifest["layers"][0]["digest"];
    {  // the registry serves what is on its disk: change one byte of it
        std::fstream f(registry.blob_data(layer), std::ios::in | std::ios::out | std::ios::binary);
        REQUIRE(f);
        f.seekp(100);
        f.put('X');
    }
    auto pull = sb.box({"pull", name});
    BOX_SHOW(pull);
    CHECK(pull.status == 1);
    CHECK(pull.err.find(layer) != std::string::npos);
    CHECK(blob_count(sb) == 0);
    CHECK(sb.box({"images", "-q"}).out.empty());
}

TEST_CASE("basic auth: refused without login, works after it, credentials kept private", "[stage3][registry][auth]") {
    Sandbox sb;
    std::string password = random_name("pw-");
    TestRegistry registry(sb, "student", password);
    import_busybox(sb);
    std::string name = registry.host() + "/private/busybox:v1";
    REQUIRE(sb.box({"tag", "busybox", name}).status == 0);
    auto denied = sb.box({"push", name});
    REQUIRE_ONE_ERROR_LINE(denied, 1);
    CHECK(denied.err.find("unauthorized") != std::string::npos);

    RunOptions wrong;
    wrong.input = "not-" + password + "\n";
    auto bad = sb.box({"login", "-u", "student", "--password-stdin", registry.host()}, wrong);
    REQUIRE_ONE_ERROR_LINE(bad, 1);
    CHECK_FALSE(fs::exists(sb.dir() + "/state/auth.json"));

    RunOptions right;
    right.input = password + "\n";
    auto login = sb.box({"login", "-u", "student", "--password-stdin", registry.host()}, right);
    BOX_SHOW(login);
    REQUIRE(login.status == 0);
    struct stat st {};
    REQUIRE(stat((sb.dir() + "/state/auth.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_host_file(sb.dir() + "/state/auth.json").find(password) == std::string::npos);  // not in clear

    auto push = sb.box({"push", name});
    BOX_SHOW(push);
    REQUIRE(push.status == 0);
    REQUIRE(sb.box({"rmi", name}).status == 0);
    auto pull = sb.box({"pull", name});
    BOX_SHOW(pull);
    CHECK(pull.status == 0);
    CHECK(sb.box({"run", name, "true"}).status == 0);

    CHECK(sb.box({"logout", registry.host()}).status == 0);
    CHECK(read_host_file(sb.dir() + "/state/auth.json").find(registry.host()) == std::string::npos);
}

TEST_CASE("registry mirrors are tried in order for docker.io images", "[stage3][registry][mirrors]") {
    Sandbox sb;
    TestRegistry mirror(sb);
    push_with_skopeo(sb, mirror, "library/busybox:latest");
    int dead = free_port();  // nothing listens there
    std::string config = sb.dir() + "/box-config.json";
    std::ofstream(config) << nlohmann::json{{"registry-mirrors", {"http://127.0.0.1:" + std::to_string(dead),
                                                                  "http://" + mirror.host()}}}
                                 .dump();
    RunOptions env;
    env.env["BOX_CONFIG"] = config;
    auto info = sb.box({"info"}, env);
    CHECK(info.out.find("http://" + mirror.host()) != std::string::npos);
    auto pull = sb.box({"pull", "busybox"}, env);
    BOX_SHOW(pull);
    REQUIRE(pull.status == 0);
    // docker's lines for a Docker Hub name: the default tag, the library/ path, the full name last.
    CHECK(lines(pull.out)[0] == "Using default tag: latest");
    CHECK(lines(pull.out)[1] == "latest: Pulling from library/busybox");
    CHECK(pull.out.find("Status: Downloaded newer image for busybox:latest") != std::string::npos);
    CHECK(lines(pull.out).back() == "docker.io/library/busybox:latest");
    auto r = sb.box({"run", "busybox", "echo", "via-mirror"});
    CHECK(trim(r.out) == "via-mirror");
}

#include "token_issuer.hpp"

TEST_CASE("token auth: box fetches a bearer token from the realm the registry names", "[stage3][registry][auth]") {
    Sandbox sb;
    std::string password = random_name("pw-");
    TokenIssuer issuer(sb.dir(), "student", password);
    TestRegistry registry(sb, "", "", issuer.realm(), issuer.certificate());
    import_busybox(sb);
    std::string repo = "team/" + random_name("tok-", 6);
    std::string name = registry.host() + "/" + repo + ":v1";
    REQUIRE(sb.box({"tag", "busybox", name}).status == 0);

    // Without credentials the issuer refuses, and box says so.
    auto denied = sb.box({"push", name});
    REQUIRE_ONE_ERROR_LINE(denied, 1);
    CHECK_FALSE(issuer.requests().empty());

    RunOptions pw;
    pw.input = password + "\n";
    auto login = sb.box({"login", "-u", "student", "--password-stdin", registry.host()}, pw);
    BOX_SHOW(login);
    REQUIRE(login.status == 0);
    auto push = sb.box({"push", name});
    BOX_SHOW(push);
    REQUIRE(push.status == 0);
    // The issuer was asked for this repository, with the user's credentials.
    bool scoped = false;
    for (const auto& [line, authed] : issuer.requests())
        scoped = scoped || (authed && line.find("scope=repository%3A" + repo + "%3A") != std::string::npos) ||
                 (authed && line.find("scope=repository:" + repo + ":") != std::string::npos);
    CHECK(scoped);
    REQUIRE(sb.box({"rmi", name}).status == 0);
    auto pull = sb.box({"pull", name});
    BOX_SHOW(pull);
    CHECK(pull.status == 0);
}

TEST_CASE("pull --all-tags fetches every tag the registry lists", "[stage3][registry]") {
    Sandbox sb;
    TestRegistry registry(sb);
    import_busybox(sb);
    std::string repo = registry.host() + "/multi/" + random_name("r-", 6);
    for (const char* tag : {"one", "two", "three"}) {
        REQUIRE(sb.box({"tag", "busybox", repo + ":" + tag}).status == 0);
        REQUIRE(sb.box({"push", repo + ":" + tag}).status == 0);
    }
    Sandbox other;
    auto pull = other.box({"pull", "--all-tags", repo});
    BOX_SHOW(pull);
    REQUIRE(pull.status == 0);
    auto images = other.box({"images"});
    for (const char* tag : {"one", "two", "three"}) CHECK(images.out.find(std::string("   ") + tag + "   ") != std::string::npos);
    auto tagged = other.box({"pull", "--all-tags", repo + ":one"});
    REQUIRE_ONE_ERROR_LINE(tagged, 1);
}

TEST_CASE("a push to another repository mounts the blobs the registry already has", "[stage3][registry]") {
    Sandbox sb;
    TestRegistry registry(sb);
    import_busybox(sb);
    std::string a = registry.host() + "/first/app:v1", b = registry.host() + "/second/app:v1";
    REQUIRE(sb.box({"tag", "busybox", a}).status == 0);
    REQUIRE(sb.box({"tag", "busybox", b}).status == 0);
    REQUIRE(sb.box({"push", a}).status == 0);
    auto second = sb.box({"push", b});
    BOX_SHOW(second);
    REQUIRE(second.status == 0);
    CHECK(second.out.find("Mounted from first/app") != std::string::npos);
    CHECK(second.out.find("Pushed") == std::string::npos);
    // The registry serves the image under the second name.
    auto copy = run({"skopeo", "inspect", "--tls-verify=false", "docker://" + b});
    INFO(copy.err);
    CHECK(copy.status == 0);
}

TEST_CASE("a tag that names an image index is pulled for linux/amd64", "[stage3][registry][index]") {
    Sandbox sb;
    TestRegistry registry(sb);
    import_busybox(sb);
    std::string repo = registry.host() + "/multi/arch";
    REQUIRE(sb.box({"tag", "busybox", repo + ":amd64"}).status == 0);
    auto push = sb.box({"push", repo + ":amd64"});
    REQUIRE(push.status == 0);
    std::string manifest = run({"skopeo", "inspect", "--tls-verify=false", "--raw", "docker://" + repo + ":amd64"}).out;
    std::string digest = box::sha256_digest(manifest);
    // Another image, with a marker file, stands for the arm64 variant.
    std::string marker_layer = sb.dir() + "/marker.tar";
    write_tar(marker_layer, {{"arm64-variant", "yes"}});
    write_docker_archive(sb.dir() + "/arm.tar", "armish:v1", {base_tar(sb), marker_layer});
    REQUIRE(sb.box({"load", "-q", "-i", sb.dir() + "/arm.tar"}).status == 0);
    REQUIRE(sb.box({"tag", "armish:v1", repo + ":arm64"}).status == 0);
    REQUIRE(sb.box({"push", repo + ":arm64"}).status == 0);
    std::string arm = run({"skopeo", "inspect", "--tls-verify=false", "--raw", "docker://" + repo + ":arm64"}).out;
    // An index listing the other platform first, then ours.
    nlohmann::json index = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.index.v1+json"},
        {"manifests",
         {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", box::sha256_digest(arm)},
           {"size", arm.size()}, {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}},
          {{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", digest},
           {"size", manifest.size()}, {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
    box::HttpRequest put;
    put.method = "PUT";
    put.url = "http://" + registry.host() + "/v2/multi/arch/manifests/latest";
    put.body = index.dump();
    put.headers = {"Content-Type: application/vnd.oci.image.index.v1+json"};
    auto r = box::http_request(put);
    INFO(r.body);
    REQUIRE(r.status == 201);
    Sandbox other;
    auto pull = other.box({"pull", repo + ":latest"});
    BOX_SHOW(pull);
    REQUIRE(pull.status == 0);
    auto run_it = other.box({"run", repo, "sh", "-c", "ls /arm64-variant 2>/dev/null || echo amd64-ok"});
    CHECK(trim(run_it.out) == "amd64-ok");
}

TEST_CASE("an image whose config lists other diffIDs than its layers have is refused, nothing kept", "[stage3][registry][errors]") {
    Sandbox sb;
    TestRegistry registry(sb);
    import_busybox(sb);
    std::string base = "http://" + registry.host() + "/v2/lying/image";
    REQUIRE(sb.box({"tag", "busybox", registry.host() + "/lying/image:good"}).status == 0);
    REQUIRE(sb.box({"push", registry.host() + "/lying/image:good"}).status == 0);
    auto get = [&](const std::string& url) {
        box::HttpRequest req;
        req.url = url;
        req.headers = {"Accept: application/vnd.oci.image.manifest.v1+json"};
        auto r = box::http_request(req);
        REQUIRE(r.status == 200);
        return r.body;
    };
    auto manifest = nlohmann::json::parse(get(base + "/manifests/good"));
    auto config = nlohmann::json::parse(get(base + "/blobs/" + manifest["config"]["digest"].get<std::string>()));
    config["rootfs"]["diff_ids"][0] = box::sha256_digest("not this layer");  // a config that lies
    std::string config_text = config.dump();
    box::HttpRequest start;
    start.method = "POST";
    start.url = base + "/blobs/uploads/";
    auto s = box::http_request(start);
    REQUIRE(s.status == 202);
    box::HttpRequest put;
    put.method = "PUT";
    put.url = box::resolve_url(base, s.header("location")) + "&digest=" + box::sha256_digest(config_text);
    std::ofstream(sb.dir() + "/lying-config.json") << config_text;
    put.upload_file = sb.dir() + "/lying-config.json";
    put.headers = {"Content-Type: application/octet-stream"};
    REQUIRE(box::http_request(put).status == 201);
    manifest["config"]["digest"] = box::sha256_digest(config_text);
    manifest["config"]["size"] = config_text.size();
    box::HttpRequest put_manifest;
    put_manifest.method = "PUT";
    put_manifest.url = base + "/manifests/bad";
    put_manifest.body = manifest.dump();
    put_manifest.headers = {"Content-Type: application/vnd.oci.image.manifest.v1+json"};
    REQUIRE(box::http_request(put_manifest).status == 201);

    Sandbox other;
    auto pull = other.box({"pull", registry.host() + "/lying/image:bad"});
    REQUIRE_ONE_ERROR_LINE(pull, 1);
    CHECK(pull.err.find("diff_ids") != std::string::npos);
    CHECK(blob_count(other) == 0);
    size_t layers = 0;
    if (fs::exists(other.dir() + "/state/layers"))
        for (const auto& l : fs::directory_iterator(other.dir() + "/state/layers")) layers += l.is_directory();
    CHECK(layers == 0);
    CHECK(other.box({"images", "-q"}).out.empty());
}

TEST_CASE("blobs redirected to another host are fetched without the registry's credentials",
          "[stage3][registry][auth]") {
    Sandbox sb;
    std::string password = random_name("pw-");
    TestRegistry registry(sb, "student", password);
    import_busybox(sb);
    std::string repo = "/private/" + random_name("app-", 6) + ":v1";
    REQUIRE(sb.box({"tag", "busybox", registry.host() + repo}).status == 0);
    RunOptions creds;
    creds.input = password + "\n";
    REQUIRE(sb.box({"login", "-u", "student", "--password-stdin", registry.host()}, creds).status == 0);
    REQUIRE(sb.box({"push", registry.host() + repo}).status == 0);
    REQUIRE(sb.box({"rmi", registry.host() + repo, "busybox"}).status == 0);  // nothing left to reuse

    // Blob storage on another host (127.0.0.2), as registries backed by a cloud
    // store have: it serves blobs straight from the registry's storage directory.
    HttpHost storage("127.0.0.2", [&](const std::string& head) {
        std::string line = head.substr(0, head.find("\r\n"));
        std::string digest = line.substr(line.rfind("/blobs/") + 7);
        digest = digest.substr(0, digest.find(' '));
        if (!fs::exists(registry.blob_data(digest))) return HttpHost::response("404 Not Found", "", "");
        return HttpHost::response("200 OK", "Content-Type: application/octet-stream\r\n",
                                  read_host_file(registry.blob_data(digest)), line.rfind("HEAD ", 0) == 0);
    });
    // In front, the registry's own API, except that blob downloads are redirected.
    HttpHost front("127.0.0.1", [&](const std::string& head) {
        static const std::regex blob(R"(^GET /v2/.+/blobs/(sha256:[0-9a-f]{64}) )");
        std::smatch m;
        std::string line = head.substr(0, head.find("\r\n"));
        if (std::regex_search(line, m, blob))
            // With a body, as real registries and storage send one: it is
            // not part of the blob, whatever the client streams the blob to.
            return HttpHost::response("307 Temporary Redirect",
                                      "Location: http://" + storage.host() + "/blobs/" + m[1].str() + "\r\n",
                                      "<a href=\"/blobs/" + m[1].str() + "\">Temporary Redirect</a>.\n");
        return HttpHost::forward(head, registry.port());
    });
    REQUIRE(sb.box({"login", "-u", "student", "--password-stdin", front.host()}, creds).status == 0);
    auto pull = sb.box({"pull", front.host() + repo});
    BOX_SHOW(pull);
    REQUIRE(pull.status == 0);
    std::string word = random_name("hi-");
    auto r = sb.box({"run", front.host() + repo, "echo", word});
    CHECK(trim(r.out) == word);

    auto has_authorization = [](const std::string& head) {
        std::string lower = head;
        for (auto& c : lower) c = static_cast<char>(tolower(c));
        return lower.find("\r\nauthorization:") != std::string::npos;
    };
    size_t blob_gets_with_credentials = 0;
    for (const auto& head : front.heads())
        blob_gets_with_credentials += head.find("/blobs/") != std::string::npos && has_authorization(head);
    CHECK(blob_gets_with_credentials >= 2);  // the registry itself was sent them: config and layer
    auto fetched = storage.heads();
    CHECK(fetched.size() >= 2);
    for (const auto& head : fetched) {
        INFO(head);
        CHECK_FALSE(has_authorization(head));
    }
}

TEST_CASE("on a terminal pull, push, save and load draw progress bars; elsewhere plain lines",
          "[stage3][registry][progress]") {
    Sandbox sb;
    TestRegistry registry(sb);
    import_busybox(sb);
    std::string name = registry.host() + "/team/" + random_name("bar-", 6) + ":v1";
    std::string archive = sb.dir() + "/saved.tar";
    REQUIRE(sb.box({"tag", "busybox", name}).status == 0);
    // `script` gives box a pseudo-terminal as stdin, stdout and stderr.
    auto on_terminal = [&](const std::string& args) {
        std::string cmd = box_binary() + " --root " + sb.dir() + "/state " + args;
        auto r = run({"script", "-qefc", cmd, "/dev/null"});
        INFO(cmd << "\n" << r.out << r.err);
        CHECK(r.status == 0);
        return r.out;
    };
    auto has_bar = [](const std::string& out, const std::string& verb) {
        static const std::regex bar(R"(\[=*> *\] [0-9.]+[kMG]?B/[0-9.]+[kMG]?B +[0-9.]+[kMG]?B/s)");
        return out.find(verb + " [") != std::string::npos && std::regex_search(out, bar);
    };
    CHECK(has_bar(on_terminal("push " + name), "Pushing"));
    CHECK(has_bar(on_terminal("save -o " + archive + " " + name), "Saving layers"));
    REQUIRE(sb.box({"rmi", name, "busybox"}).status == 0);
    CHECK(has_bar(on_terminal("pull " + name), "Downloading"));
    REQUIRE(sb.box({"rmi", name}).status == 0);
    CHECK(has_bar(on_terminal("load -i " + archive), "Loading layers"));

    // Not a terminal: no bars, no control characters, the outcome in plain lines.
    REQUIRE(sb.box({"rmi", name}).status == 0);
    auto pull = sb.box({"pull", name});
    REQUIRE(pull.status == 0);
    CHECK(pull.out.find('\r') == std::string::npos);
    CHECK(pull.out.find("Download complete") != std::string::npos);
    auto load = sb.box({"load", "-i", archive});
    CHECK(load.out.find('\r') == std::string::npos);
    CHECK(trim(load.out) == "Loaded image: " + name);
}
