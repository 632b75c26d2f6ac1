// Chapter 3: talking to a registry — the distribution API (/v2/...), the
// token dance, mirrors, and credentials.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>

#include "box/blob_store.hpp"
#include "box/cgroup_layout.hpp"
#include "box/cli.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/http.hpp"
#include "box/log.hpp"
#include "box/progress.hpp"
#include "box/render.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "stage3.hpp"

namespace fs = std::filesystem;

namespace box::stage3 {
namespace {

const char* const kAccept =
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

// /etc/box/config.json (or $BOX_CONFIG): registry-mirrors, insecure-registries.
json daemon_config() {
    const char* env = getenv("BOX_CONFIG");
    std::string path = env && *env ? env : "/etc/box/config.json";
    auto text = try_read_file(path);
    if (!text) return json::object();
    try {
        return json::parse(*text);
    } catch (const json::exception& e) {
        throw Error(path, std::string("not valid JSON: ") + e.what());
    }
}

std::string auth_file() { return state_root() + "/auth.json"; }

json read_auths() {
    auto text = try_read_file(auth_file());
    return text ? json::parse(*text) : json{{"auths", json::object()}};
}

// Plain HTTP only where nothing can listen in: this machine, or registries
// the administrator listed as insecure.
std::string scheme_for(const std::string& host) {
    std::string name = host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
    if (name == "localhost" || starts_with(name, "127.") || name == "[::1]") return "http";
    for (const auto& h : daemon_config().value("insecure-registries", json::array()))
        if (h == host) return "http";
    return "https";
}

// One registry, one repository; handles the 401 challenge (Bearer tokens as
// Docker Hub uses them, or Basic) and redirects.
class Registry {
public:
    Registry(std::string base, std::string repository) : base_(std::move(base)), repo_(std::move(repository)) {
        std::string host = url_host(base_);
        auto auths = read_auths()["auths"];
        if (auths.contains(host)) basic_ = auths[host].value("auth", "");
    }

    const std::string& base() const { return base_; }

    HttpResponse send(HttpRequest req) {
        req.url = resolve_url(base_, req.url);
        for (int hop = 0; hop < 5; ++hop) {
            HttpRequest attempt = req;
            bool same_host = url_host(attempt.url) == url_host(base_);
            if (same_host && !authorization_.empty()) attempt.headers.push_back("Authorization: " + authorization_);
            trace_request(attempt);
            HttpResponse r = http_request(attempt);
            if (r.status == 401 && same_host && authenticate(r.header("www-authenticate"))) continue;
            if ((r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 || r.status == 308) &&
                !r.header("location").empty()) {
                // Blob storage elsewhere: follow, without our credentials
                // unless it is the registry itself.
                req.url = resolve_url(req.url, r.header("location"));
                if (r.status == 303) req.method = "GET";
                continue;
            }
            return r;
        }
        throw Error(req.method + " " + req.url, "too many redirects or authentication rounds");
    }

    std::string path(const std::string& kind, const std::string& what) const {
        return "/v2/" + repo_ + "/" + kind + "/" + what;
    }

private:
    void trace_request(const HttpRequest& r) const { log::debug(r.method + " " + r.url); }

    // The registry said 401; returns true if we now have something to retry with.
    bool authenticate(const std::string& challenge) {
        if (starts_with(challenge, "Basic")) {
            if (basic_.empty() || !authorization_.empty()) return false;  // none, or already refused
            authorization_ = "Basic " + basic_;
            return true;
        }
        if (!starts_with(challenge, "Bearer")) return false;
        std::map<std::string, std::string> params;
        std::regex kv("(\\w+)=\"([^\"]*)\"");
        for (std::sregex_iterator it(challenge.begin(), challenge.end(), kv), end; it != end; ++it)
            params[(*it)[1]] = (*it)[2];
        // A token is for a scope: a push first asks for pull, then needs
        // pull,push. Ask again only for a scope we do not hold yet.
        if (params["realm"].empty() || (!authorization_.empty() && params["scope"] == token_scope_)) return false;
        token_scope_ = params["scope"];
        std::string url = params["realm"] + "?service=" + params["service"];
        if (!params["scope"].empty()) url += "&scope=" + params["scope"];
        HttpRequest token_req;
        token_req.url = url;
        if (!basic_.empty()) token_req.headers.push_back("Authorization: Basic " + basic_);
        HttpResponse t = http_request(token_req);
        if (t.status != 200) throw Error("token from " + params["realm"], "HTTP " + std::to_string(t.status));
        json body = json::parse(t.body);
        std::string token = body.value("token", body.value("access_token", ""));
        if (token.empty()) throw Error("token from " + params["realm"], "no token in the answer");
        authorization_ = "Bearer " + token;
        return true;
    }

    std::string base_, repo_, basic_, authorization_, token_scope_;
};

std::string registry_error(const HttpResponse& r) {
    try {
        json body = json::parse(r.body);
        if (body.contains("errors") && !body["errors"].empty()) {
            std::string code = body["errors"][0].value("code", ""), msg = body["errors"][0].value("message", "");
            for (auto& c : code) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
            return code + ": " + msg;
        }
    } catch (...) {
    }
    return "HTTP " + std::to_string(r.status);
}

// Downloads a blob into the store, verifying digest and size as it arrives.
void fetch_blob(Registry& reg, BlobStore& blobs, const Descriptor& d) {
    std::string tmp = state_root() + "/tmp";
    make_dirs(tmp);
    std::string part = tmp + "/" + std::to_string(getpid()) + "-" + digest_hex(d.digest) + ".download";
    Fd fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) throw_errno("create " + part, errno);
    struct Remove {
        std::string p;
        ~Remove() { ::unlink(p.c_str()); }
    } remove{part};
    Sha256 hash;
    std::int64_t got = 0;
    Progress progress(short_id(d.digest), d.size, "Downloading");
    HttpRequest req;
    req.url = reg.path("blobs", d.digest);
    req.sink = [&](const char* data, size_t n) {
        hash.update(data, n);
        got += static_cast<std::int64_t>(n);
        if (::write(fd.get(), data, n) != static_cast<ssize_t>(n)) throw_errno("write " + part, errno);
        progress.update(got);
    };
    HttpResponse r = reg.send(req);
    progress.finish();
    if (r.status != 200) throw Error("blob " + d.digest, registry_error(r));
    if (d.size && got != d.size)
        throw Error("blob " + d.digest, "got " + std::to_string(got) + " bytes, expected " + std::to_string(d.size));
    if (hash.digest() != d.digest) throw Error("blob " + d.digest, "content has digest " + hash.digest());
    ::fsync(fd.get());
    fd.reset();
    std::string final_path = blobs.path(d.digest);
    make_dirs(fs::path(final_path).parent_path());
    if (::rename(part.c_str(), final_path.c_str()) != 0) throw_errno("rename " + part, errno);
}

// The places to pull `ref` from: for docker.io images the mirrors first.
std::vector<std::string> sources_for(const ImageRef& ref) {
    std::vector<std::string> out;
    if (ref.domain == "docker.io") {
        for (const auto& m : daemon_config().value("registry-mirrors", json::array())) {
            std::string url = m.get<std::string>();
            while (!url.empty() && url.back() == '/') url.pop_back();
            out.push_back(url);
        }
        out.push_back("https://registry-1.docker.io");
    } else {
        out.push_back(scheme_for(ref.domain) + "://" + ref.domain);
    }
    return out;
}

// Which repositories (host/path) each blob is known to be in — where it was
// pulled from or pushed to — so a push to another repository of the same
// registry can ask it to mount the blob instead of receiving it again.
std::string sources_file() { return state_root() + "/images/blob-sources.json"; }

json read_sources() {
    auto text = try_read_file(sources_file());
    return text ? json::parse(*text) : json::object();
}

void remember_source(const std::string& digest, const std::string& host, const std::string& path) {
    json s = read_sources();
    std::string where = host + "/" + path;
    auto& list = s[digest];
    if (std::find(list.begin(), list.end(), where) == list.end()) list.push_back(where);
    make_dirs(state_root() + "/images");
    write_file_atomic(sources_file(), s.dump());
}

// One pull from one source; throws on any failure.
std::string pull_from(const std::string& base, const ImageRef& ref, ImageStore& store) {
    Registry reg(base, ref.path);
    BlobStore blobs(store.blobs_dir());
    HttpRequest req;
    req.url = reg.path("manifests", ref.digest.empty() ? ref.tag : ref.digest);
    req.headers = {kAccept};
    HttpResponse r = reg.send(req);
    if (r.status != 200) throw Error("manifest of " + ref.familiar(), registry_error(r));
    std::string manifest_text = r.body;
    json doc = json::parse(manifest_text);
    std::string digest = sha256_digest(manifest_text);
    if (!ref.digest.empty() && digest != ref.digest)
        throw Error("manifest of " + ref.familiar(), "content has digest " + digest);
    const std::string named_digest = digest;  // what the tag names (an index, maybe): docker prints it
    if (doc.value("mediaType", "") == media::kIndex || doc.value("mediaType", "") == media::kDockerList ||
        (doc.contains("manifests") && !doc.contains("layers"))) {
        Descriptor d = select_platform(doc, "linux", "amd64");
        req.url = reg.path("manifests", d.digest);
        r = reg.send(req);
        if (r.status != 200) throw Error("manifest " + d.digest, registry_error(r));
        manifest_text = r.body;
        digest = sha256_digest(manifest_text);
        if (digest != d.digest) throw Error("manifest " + d.digest, "content has digest " + digest);
        doc = json::parse(manifest_text);
    }
    printf("%s: Pulling from %s\n", ref.tag.empty() ? ref.digest.c_str() : ref.tag.c_str(), ref.path.c_str());
    Descriptor config = {doc["config"].value("mediaType", ""), doc["config"].at("digest"), doc["config"].at("size")};
    // A pull that fails half-way takes back the blobs it brought: no partial image.
    std::vector<std::string> fetched;
    struct TakeBack {
        BlobStore& blobs;
        std::vector<std::string>& fetched;
        bool done = false;
        ~TakeBack() {
            if (!done)
                for (const auto& d : fetched) blobs.remove(d);
        }
    } take_back{blobs, fetched};
    for (const auto& layer : manifest_layers(doc)) {
        if (blobs.has(layer.digest)) {
            printf("%s: Already exists\n", short_id(layer.digest).c_str());
            continue;
        }
        printf("%s: Pulling fs layer\n", short_id(layer.digest).c_str());
        fetch_blob(reg, blobs, layer);
        fetched.push_back(layer.digest);
        remember_source(layer.digest, url_host(base), ref.path);
        printf("%s: Download complete (%s)\n", short_id(layer.digest).c_str(), human_size(layer.size).c_str());
    }
    fflush(stdout);
    if (!blobs.has(config.digest)) {
        fetch_blob(reg, blobs, config);
        fetched.push_back(config.digest);
    }
    store.add_pulled(manifest_text, blobs.read(config.digest), ref.full());
    take_back.done = true;
    return named_digest;
}

int cmd_pull(const std::string& name, bool all_tags);

// `pull --all-tags`: every tag the registry lists for the repository.
int pull_all_tags(const std::string& name) {
    ImageRef ref = parse_ref(name);
    if (name.find(':', name.rfind('/') == std::string::npos ? 0 : name.rfind('/')) != std::string::npos ||
        !ref.digest.empty())
        throw Error("pull --all-tags " + name, "give a repository without a tag or digest");
    std::string last_error;
    for (const auto& base : sources_for(ref)) {
        try {
            Registry reg(base, ref.path);
            HttpRequest req;
            req.url = "/v2/" + ref.path + "/tags/list";
            HttpResponse r = reg.send(req);
            if (r.status != 200) throw Error("tags of " + ref.repository(), registry_error(r));
            auto tags = json::parse(r.body).value("tags", json::array());
            if (tags.empty()) throw Error("tags of " + ref.repository(), "the repository has no tags");
            for (const auto& t : tags) cmd_pull(ref.repository() + ":" + t.get<std::string>(), false);
            return 0;
        } catch (const Error& e) {
            last_error = e.what();
        }
    }
    throw Error("pull --all-tags " + ref.repository(), last_error);
}

int cmd_pull(const std::string& name, bool all_tags) {
    if (all_tags) return pull_all_tags(name);
    ImageRef ref = parse_ref(name);
    if (name.find(':') == std::string::npos && name.find('@') == std::string::npos) printf("Using default tag: latest\n");
    ImageStore store(state_root());
    std::string last_error;
    for (const auto& base : sources_for(ref)) {
        try {
            std::string digest = pull_from(base, ref, store);
            printf("Digest: %s\nStatus: Downloaded newer image for %s\n%s\n", digest.c_str(), ref.familiar().c_str(),
                   ref.full().c_str());
            return 0;
        } catch (const Error& e) {
            last_error = e.what();
            log::info("pull from " + base + " failed: " + last_error + "; trying the next source");
        }
    }
    throw Error("pull " + ref.familiar(), last_error);
}

int cmd_push(const std::string& name) {
    ImageRef ref = parse_ref(name);
    ImageStore store(state_root());
    StoredImage image = store.find(name);
    BlobStore blobs(store.blobs_dir());
    std::string manifest_text = blobs.read(image.manifest_digest);
    json manifest = json::parse(manifest_text);
    Registry reg(scheme_for(ref.domain == "docker.io" ? "registry-1.docker.io" : ref.domain) + "://" +
                     (ref.domain == "docker.io" ? "registry-1.docker.io" : ref.domain),
                 ref.path);
    printf("The push refers to repository [%s]\n", ref.repository().c_str());
    std::vector<Descriptor> all = manifest_layers(manifest);
    all.push_back({"", manifest["config"]["digest"], manifest["config"]["size"]});
    for (const auto& d : all) {
        HttpRequest head;
        head.method = "HEAD";
        head.url = reg.path("blobs", d.digest);
        if (reg.send(head).status == 200) {  // shared layers are sent once
            printf("%s: Layer already exists\n", short_id(d.digest).c_str());
            continue;
        }
        // In another repository of this registry? Ask for a mount: 201 means
        // linked without sending a byte; 202 means "upload it" after all.
        std::string host = url_host(reg.base()), from;
        for (const auto& w : read_sources().value(d.digest, json::array())) {
            std::string where = w.get<std::string>();
            if (starts_with(where, host + "/") && where != host + "/" + ref.path) from = where.substr(host.size() + 1);
        }
        HttpRequest start;
        start.method = "POST";
        start.url = "/v2/" + ref.path + "/blobs/uploads/" + (from.empty() ? "" : "?mount=" + d.digest + "&from=" + from);
        HttpResponse s = reg.send(start);
        if (!from.empty() && s.status == 201) {
            printf("%s: Mounted from %s\n", short_id(d.digest).c_str(), from.c_str());
            remember_source(d.digest, host, ref.path);
            continue;
        }
        if (s.status != 202) throw Error("push " + ref.familiar(), "starting an upload: " + registry_error(s));
        std::string location = resolve_url(reg.base(), s.header("location"));
        HttpRequest put;
        put.method = "PUT";
        put.url = location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + d.digest;
        put.upload_file = blobs.path(d.digest);
        put.headers = {"Content-Type: application/octet-stream"};
        Progress progress(short_id(d.digest), d.size, "Pushing");
        put.upload_progress = [&](std::int64_t sent) { progress.update(sent); };
        HttpResponse p = reg.send(put);
        progress.finish();
        if (p.status != 201) throw Error("push blob " + d.digest, registry_error(p));
        remember_source(d.digest, host, ref.path);
        printf("%s: Pushed\n", short_id(d.digest).c_str());
    }
    HttpRequest put;
    put.method = "PUT";
    put.url = reg.path("manifests", ref.tag.empty() ? ref.digest : ref.tag);
    put.body = manifest_text;
    put.headers = {"Content-Type: " + manifest.value("mediaType", std::string(media::kManifest))};
    HttpResponse p = reg.send(put);
    if (p.status != 201) throw Error("push manifest of " + ref.familiar(), registry_error(p));
    printf("%s: digest: %s size: %zu\n", ref.tag.c_str(), sha256_digest(manifest_text).c_str(), manifest_text.size());
    return 0;
}

int cmd_login(std::string server, std::string user, bool password_stdin, std::string password) {
    if (server.empty()) server = "registry-1.docker.io";
    if (user.empty()) {
        printf("Username: ");
        fflush(stdout);
        std::getline(std::cin, user);
    }
    if (password_stdin) {
        std::getline(std::cin, password);
    } else if (password.empty()) {
        throw Error("login", "give the password on stdin with --password-stdin (or -p)");
    }
    std::string auth = base64(user + ":" + password);
    // Check the credentials: /v2/ answers 200 once we are let in.
    json auths = read_auths();
    json trial = auths;
    trial["auths"][server] = {{"auth", auth}};
    make_dirs(state_root());
    std::string saved = try_read_file(auth_file()).value_or("");
    write_file_atomic(auth_file(), trial.dump(), 0600);
    try {
        Registry reg(scheme_for(server) + "://" + server, "");
        HttpRequest req;
        req.url = "/v2/";
        HttpResponse r = reg.send(req);
        if (r.status != 200) throw Error("login to " + server, registry_error(r) == "HTTP 401" ? "unauthorized: incorrect username or password" : registry_error(r));
    } catch (...) {
        if (saved.empty()) ::unlink(auth_file().c_str());
        else write_file_atomic(auth_file(), saved, 0600);
        throw;
    }
    printf("Login Succeeded\n");
    return 0;
}

int cmd_logout(std::string server) {
    if (server.empty()) server = "registry-1.docker.io";
    json auths = read_auths();
    if (!auths["auths"].contains(server)) {
        printf("Not logged in to %s\n", server.c_str());
        return 0;
    }
    auths["auths"].erase(server);
    write_file_atomic(auth_file(), auths.dump(), 0600);
    printf("Removing login credentials for %s\n", server.c_str());
    return 0;
}

int cmd_search(const std::string& term) {
    std::string host = "registry-1.docker.io", what = term;
    if (auto slash = term.find('/'); slash != std::string::npos &&
        (term.substr(0, slash).find_first_of(".:") != std::string::npos || term.substr(0, slash) == "localhost")) {
        host = term.substr(0, slash);
        what = term.substr(slash + 1);
    }
    Registry reg(scheme_for(host) + "://" + host, "");
    HttpRequest req;
    req.url = "/v2/_catalog";
    HttpResponse r = reg.send(req);
    if (r.status != 200) throw Error("search " + host, registry_error(r));
    printf("%-40s %-40s %-6s %-9s %s\n", "NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED");
    for (const auto& repo : json::parse(r.body).value("repositories", json::array())) {
        std::string name = repo.get<std::string>();
        if (name.find(what) == std::string::npos) continue;
        printf("%-40s %-40s %-6s %-9s %s\n", (host == "registry-1.docker.io" ? name : host + "/" + name).c_str(), "", "0",
               "", "");
    }
    return 0;
}

std::vector<std::function<void(json&)>>& info_fillers() {
    static std::vector<std::function<void(json&)>> all;
    return all;
}

// `box info`: docker's fields, one document for --format ({{.Images}}).
json info_document() {
    json config = daemon_config();
    struct utsname u {};
    uname(&u);
    std::string os = "Linux";
    for (const auto& line : split(try_read_file("/etc/os-release").value_or(""), '\n'))
        if (starts_with(line, "PRETTY_NAME=")) {
            os = line.substr(12);
            if (os.size() >= 2 && os.front() == '"' && os.back() == '"') os = os.substr(1, os.size() - 2);
        }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    CgroupLayout layout = detect_cgroup_layout();
    json insecure = config.value("insecure-registries", json::array());
    insecure.push_back("127.0.0.0/8");
    json info = {{"Containers", 0}, {"ContainersRunning", 0}, {"ContainersPaused", 0}, {"ContainersStopped", 0},
                 {"Images", ImageStore(state_root()).list().size()},
                 {"ServerVersion", BOX_VERSION},
                 {"Driver", "overlay2"},
                 {"CgroupDriver", "cgroupfs"},
                 {"CgroupVersion", layout.v2_has({"cpu", "memory", "pids"}) ? "2" : "1"},
                 {"KernelVersion", u.release},
                 {"OperatingSystem", os},
                 {"OSType", "linux"},
                 {"Architecture", u.machine},
                 {"NCPU", sysconf(_SC_NPROCESSORS_ONLN)},
                 {"MemTotal", static_cast<std::int64_t>(pages) * page},
                 {"DockerRootDir", state_root()},
                 {"RegistryConfig",
                  {{"Mirrors", config.value("registry-mirrors", json::array())}, {"InsecureRegistryCIDRs", insecure}}}};
    for (const auto& fill : info_fillers()) fill(info);  // chapter 4: the containers
    return info;
}

int cmd_info(const std::string& format) {
    json i = info_document();
    if (!format.empty()) {
        printf("%s\n", render::format(format, i).c_str());
        return 0;
    }
    auto str = [](const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
    printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\nServer:\n", BOX_VERSION);
    printf(" Containers: %s\n  Running: %s\n  Paused: %s\n  Stopped: %s\n", str(i["Containers"]).c_str(),
           str(i["ContainersRunning"]).c_str(), str(i["ContainersPaused"]).c_str(), str(i["ContainersStopped"]).c_str());
    printf(" Images: %s\n", str(i["Images"]).c_str());
    printf(" Server Version: %s\n", str(i["ServerVersion"]).c_str());
    printf(" Storage Driver: %s\n", str(i["Driver"]).c_str());
    printf(" Cgroup Driver: %s\n", str(i["CgroupDriver"]).c_str());
    printf(" Cgroup Version: %s\n", str(i["CgroupVersion"]).c_str());
    printf(" Kernel Version: %s\n", str(i["KernelVersion"]).c_str());
    printf(" Operating System: %s\n", str(i["OperatingSystem"]).c_str());
    printf(" OSType: %s\n", str(i["OSType"]).c_str());
    printf(" Architecture: %s\n", str(i["Architecture"]).c_str());
    printf(" CPUs: %s\n", str(i["NCPU"]).c_str());
    printf(" Total Memory: %s\n", format_bytes(i["MemTotal"].get<std::int64_t>()).c_str());
    printf(" Docker Root Dir: %s\n", str(i["DockerRootDir"]).c_str());
    printf(" Registry Mirrors:\n");
    for (const auto& m : i["RegistryConfig"]["Mirrors"]) printf("  %s\n", str(m).c_str());
    printf(" Insecure Registries:\n");
    for (const auto& m : i["RegistryConfig"]["InsecureRegistryCIDRs"]) printf("  %s\n", str(m).c_str());
    return 0;
}

}  // namespace

void add_info_filler(std::function<void(json& info)> fill) { info_fillers().push_back(std::move(fill)); }

void register_registry_commands() {
    cli::define("pull", "Download an image from a registry", [](CLI::App& c) -> cli::Action {
        auto name = std::make_shared<std::pair<std::string, bool>>();
        c.add_option("NAME", name->first, "NAME[:TAG|@DIGEST]")->required();
        c.add_flag("-a,--all-tags", name->second, "Download all tagged images in the repository");
        return [name] { return cmd_pull(name->first, name->second); };
    });
    cli::define("push", "Upload an image to a registry", [](CLI::App& c) -> cli::Action {
        auto push = std::make_shared<std::string>();
        c.add_option("NAME", *push, "NAME[:TAG]")->required();
        return [push] { return cmd_push(*push); };
    });
    cli::define("login", "Log in to a registry", [](CLI::App& c) -> cli::Action {
        struct Login { std::string server, user, password; bool stdin_pw = false; };
        auto login = std::make_shared<Login>();
        c.add_option("SERVER", login->server, "Registry host[:port] (default: Docker Hub)");
        c.add_option("-u,--username", login->user, "Username");
        c.add_option("-p,--password", login->password, "Password (prefer --password-stdin)");
        c.add_flag("--password-stdin", login->stdin_pw, "Take the password from stdin");
        return [login] { return cmd_login(login->server, login->user, login->stdin_pw, login->password); };
    });
    cli::define("logout", "Log out from a registry", [](CLI::App& c) -> cli::Action {
        auto logout = std::make_shared<std::string>();
        c.add_option("SERVER", *logout, "Registry host[:port] (default: Docker Hub)");
        return [logout] { return cmd_logout(*logout); };
    });
    cli::define("search", "Search a registry's catalog for images", [](CLI::App& c) -> cli::Action {
        auto term = std::make_shared<std::string>();
        c.add_option("TERM", *term, "Part of a name, e.g. busy or 127.0.0.1:5000/busy")->required();
        return [term] { return cmd_search(*term); };
    });
    cli::define("info", "Display system-wide information", [](CLI::App& c) -> cli::Action {
        auto format = std::make_shared<std::string>();
        c.add_option("-f,--format", *format, "Format the output using a template ({{.Containers}})");
        return [format] { return cmd_info(*format); };
    });
    cli::define_group("system", "Manage box");
    cli::alias("system info", "info");
}

}  // namespace box::stage3
