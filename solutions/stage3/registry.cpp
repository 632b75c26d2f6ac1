// Chapter 3: talking to a registry — the distribution API (/v2/...), the
// token dance, mirrors, credentials (login/logout) and search. The daemon's
// configuration and `box info` are in daemon.cpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <regex>

#include "box/blob_store.hpp"
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


// Docker keeps Docker Hub's credentials under this key; box does the same, so
// a user's habits (and `logout` with no server) carry over.
const char* const kHubServer = "https://index.docker.io/v1/";

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
    /// `basic`: base64 user:password to use in place of the stored ones.
    Registry(std::string base, std::string repository, std::optional<std::string> basic = std::nullopt)
        : base_(std::move(base)), repo_(std::move(repository)) {
        if (basic) {
            basic_ = *basic;
            return;
        }
        std::string host = url_host(base_);
        if (host == "registry-1.docker.io") host = kHubServer;
        auto auths = read_auths()["auths"];
        if (auths.contains(host)) basic_ = auths[host].value("auth", "");
    }

    const std::string& base() const { return base_; }

    HttpResponse send(HttpRequest req) {
        // BEGIN ADVANCED EXERCISE 8: Registry::send()
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
        // END EXERCISE
    }

    std::string path(const std::string& kind, const std::string& what) const {
        return "/v2/" + repo_ + "/" + kind + "/" + what;
    }

private:
    void trace_request(const HttpRequest& r) const { log::debug(r.method + " " + r.url); }

    // The registry said 401; returns true if we now have something to retry with.
    bool authenticate(const std::string& challenge) {
        // BEGIN ADVANCED EXERCISE 9: Registry::authenticate()
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
        if (t.status == 401 && !basic_.empty())
            throw Error("token from " + params["realm"], "unauthorized: incorrect username or password");
        if (t.status != 200) throw Error("token from " + params["realm"], "HTTP " + std::to_string(t.status));
        json body = json::parse(t.body);
        std::string token = body.value("token", body.value("access_token", ""));
        if (token.empty()) throw Error("token from " + params["realm"], "no token in the answer");
        authorization_ = "Bearer " + token;
        return true;
        // END EXERCISE
    }

    std::string base_, repo_, basic_, authorization_, token_scope_;
};

std::string registry_error(const HttpResponse& r) {
    try {
        json body = json::parse(r.body);
        if (body.contains("errors") && !body["errors"].empty()) {
            std::string code = body["errors"][0].value("code", ""), msg = body["errors"][0].value("message", "");
            for (auto& c : code) c = c == '_' ? ' ' : static_cast<char>(tolower(static_cast<unsigned char>(c)));
            return code + ": " + msg;  // as docker prints an error code: "manifest unknown: ..."
        }
    } catch (...) {
    }
    return "HTTP " + std::to_string(r.status);
}

// Downloads a blob into the store, verifying digest and size as it arrives.
void fetch_blob(Registry& reg, BlobStore& blobs, const Descriptor& d, FILE* out) {
    // BEGIN ADVANCED EXERCISE 10: fetch_blob()
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
    Progress progress(short_id(d.digest), d.size, "Downloading", out);
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
    // END EXERCISE
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

// Why the registry would not give `ref`'s manifest, in docker's words: a
// repository the registry will not show (Docker Hub answers so for one that
// does not exist), one it does not have, or a tag it does not have.
Error manifest_error(const ImageRef& ref, const HttpResponse& r) {
    std::string why = registry_error(r);
    if (r.status == 401 || r.status == 403 || starts_with(why, "denied:") || starts_with(why, "unauthorized:"))
        return Error("pull access denied for " + ref.repository() +
                         ", repository does not exist or may require 'box login'",
                     why);
    if (starts_with(why, "name unknown:")) return Error("repository " + ref.repository() + " not found", why);
    if (r.status == 404) return Error("manifest for " + ref.familiar() + " not found", why);
    return Error("manifest of " + ref.familiar(), why);
}

// What a tag (or digest) names in the registry, checked.
struct ResolvedManifest {
    std::string text;          ///< the image manifest, as the registry sent it
    json doc;                  ///< the same, parsed
    std::string named_digest;  ///< the digest of what the name named (an index, maybe): docker prints it
};

// The image manifest `ref` names: fetched with every manifest type box reads
// accepted, checked against the digest a digest reference names; if it is an
// index, the manifest it lists for this machine (linux/amd64 here), fetched by digest and checked.
ResolvedManifest resolve_manifest(Registry& reg, const ImageRef& ref) {
    // BEGIN ADVANCED EXERCISE 12: resolve_manifest()
    HttpRequest req;
    req.url = reg.path("manifests", ref.digest.empty() ? ref.tag : ref.digest);
    req.headers = {kAccept};
    HttpResponse r = reg.send(req);
    if (r.status != 200) throw manifest_error(ref, r);
    ResolvedManifest m{r.body, json::parse(r.body), sha256_digest(r.body)};
    if (!ref.digest.empty() && m.named_digest != ref.digest)
        throw Error("manifest of " + ref.familiar(), "content has digest " + m.named_digest);
    std::string type = m.doc.value("mediaType", "");
    if (type == media::kIndex || type == media::kDockerList || (m.doc.contains("manifests") && !m.doc.contains("layers"))) {
        Descriptor d = select_platform(m.doc, "linux", native_arch());
        req.url = reg.path("manifests", d.digest);
        r = reg.send(req);
        if (r.status != 200) throw Error("manifest " + d.digest, registry_error(r));
        if (sha256_digest(r.body) != d.digest) throw Error("manifest " + d.digest, "content has digest " + sha256_digest(r.body));
        m.text = r.body;
        m.doc = json::parse(m.text);
    }
    return m;
    // END EXERCISE
}

// One pull from one source; throws on any failure.
std::string pull_from(const std::string& base, const ImageRef& ref, ImageStore& store, FILE* out) {
    Registry reg(base, ref.path);
    BlobStore blobs(store.blobs_dir());
    ResolvedManifest resolved = resolve_manifest(reg, ref);
    const std::string& manifest_text = resolved.text;
    const json& doc = resolved.doc;
    const std::string& named_digest = resolved.named_digest;
    fprintf(out, "%s: Pulling from %s\n", ref.tag.empty() ? ref.digest.c_str() : ref.tag.c_str(), ref.path.c_str());
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
            fprintf(out, "%s: Already exists\n", short_id(layer.digest).c_str());
            continue;
        }
        fprintf(out, "%s: Pulling fs layer\n", short_id(layer.digest).c_str());
        fetch_blob(reg, blobs, layer, out);
        fetched.push_back(layer.digest);
        remember_source(layer.digest, url_host(base), ref.path);
        fprintf(out, "%s: Download complete (%s)\n", short_id(layer.digest).c_str(), human_size(layer.size).c_str());
    }
    fflush(out);
    if (!blobs.has(config.digest)) {
        fetch_blob(reg, blobs, config, out);
        fetched.push_back(config.digest);
    }
    store.add_pulled(manifest_text, blobs.read(config.digest), ref.full());
    take_back.done = true;
    return named_digest;
}

int cmd_pull(const std::string& name, bool all_tags);

// Whether `name` says its tag or digest (parse_ref fills in "latest" when it
// does not): a ':' or '@' after the last '/' — a registry's port comes before it.
bool names_tag_or_digest(const std::string& name) {
    size_t slash = name.rfind('/');
    return name.find_first_of(":@", slash == std::string::npos ? 0 : slash) != std::string::npos;
}

// `pull --all-tags`: every tag the registry lists for the repository.
int pull_all_tags(const std::string& name) {
    ImageRef ref = parse_ref(name);
    if (names_tag_or_digest(name))
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
    if (!names_tag_or_digest(name)) printf("Using default tag: latest\n");
    pull_image(name, stdout);
    printf("%s\n", ref.full().c_str());
    return 0;
}

}  // namespace

void push_image(const std::string& name, FILE* out) {
    ImageRef ref = parse_ref(name);
    ImageStore store(state_root());
    StoredImage image = store.find(name);
    BlobStore blobs(store.blobs_dir());
    std::string manifest_text = blobs.read(image.manifest_digest);
    json manifest = json::parse(manifest_text);
    Registry reg(scheme_for(ref.domain == "docker.io" ? "registry-1.docker.io" : ref.domain) + "://" +
                     (ref.domain == "docker.io" ? "registry-1.docker.io" : ref.domain),
                 ref.path);
    fprintf(out, "The push refers to repository [%s]\n", ref.repository().c_str());
    std::vector<Descriptor> all = manifest_layers(manifest);
    all.push_back({"", manifest["config"]["digest"], manifest["config"]["size"]});
    for (const auto& d : all) {
        HttpRequest head;
        head.method = "HEAD";
        head.url = reg.path("blobs", d.digest);
        if (reg.send(head).status == 200) {  // shared layers are sent once
            fprintf(out, "%s: Layer already exists\n", short_id(d.digest).c_str());
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
            fprintf(out, "%s: Mounted from %s\n", short_id(d.digest).c_str(), from.c_str());
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
        Progress progress(short_id(d.digest), d.size, "Pushing", out);
        put.upload_progress = [&](std::int64_t sent) { progress.update(sent); };
        HttpResponse p = reg.send(put);
        progress.finish();
        if (p.status != 201) throw Error("push blob " + d.digest, registry_error(p));
        remember_source(d.digest, host, ref.path);
        fprintf(out, "%s: Pushed\n", short_id(d.digest).c_str());
    }
    HttpRequest put;
    put.method = "PUT";
    put.url = reg.path("manifests", ref.tag.empty() ? ref.digest : ref.tag);
    put.body = manifest_text;
    put.headers = {"Content-Type: " + manifest.value("mediaType", std::string(media::kManifest))};
    HttpResponse p = reg.send(put);
    if (p.status != 201) throw Error("push manifest of " + ref.familiar(), registry_error(p));
    fprintf(out, "%s: digest: %s size: %zu\n", ref.tag.c_str(), sha256_digest(manifest_text).c_str(), manifest_text.size());
}

namespace {

int cmd_push(const std::string& name) {
    push_image(name, stdout);
    return 0;
}

// The key `login`/`logout` keep SERVER's credentials under: host[:port], as
// docker does (a scheme or a path typed with it is dropped), or Hub's key.
std::string credentials_key(std::string server) {
    for (const char* scheme : {"https://", "http://"})
        if (starts_with(server, scheme)) server = server.substr(strlen(scheme));
    server = server.substr(0, server.find('/'));
    if (server.empty() || server == "docker.io" || server == "index.docker.io" || server == "registry-1.docker.io")
        return kHubServer;
    return server;
}

// Prints `prompt` and reads a line from the terminal on stdin with echo off
// (for a password): echo goes off before the prompt shows, so nothing typed
// after it is echoed. The newline typed is not echoed either; one is printed.
std::string read_secret_line(const char* prompt) {
    struct termios saved {};
    bool quiet = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (quiet) {
        struct termios noecho = saved;
        noecho.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &noecho);
    }
    printf("%s", prompt);
    fflush(stdout);
    std::string line;
    std::getline(std::cin, line);
    if (quiet) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    printf("\n");
    return line;
}

// Asks the registry's /v2/ with `auth` (base64 user:password) in place of
// what is stored; throws docker's words when it is refused.
void check_credentials(const std::string& key, const std::string& auth) {
    std::string host = key == kHubServer ? "registry-1.docker.io" : key;
    Registry reg(scheme_for(host) + "://" + host, "", auth);
    HttpRequest req;
    req.url = "/v2/";
    HttpResponse r = reg.send(req);
    if (r.status == 401) throw Error("login to " + host, "unauthorized: incorrect username or password");
    if (r.status != 200) throw Error("login to " + host, registry_error(r));
}

struct LoginRequest {
    std::string server, user, password;
    bool password_stdin = false;
};

// `box login`, with docker's ways of getting the credentials: -u and
// --password-stdin, -u and -p (warned against), or prompts on a terminal.
int cmd_login(LoginRequest in) {
    std::string key = credentials_key(in.server);
    if (!in.password.empty() && in.password_stdin)
        throw Error("login", "--password and --password-stdin are mutually exclusive");
    if (!in.password.empty()) fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    if (in.password_stdin) {
        if (in.user.empty()) throw Error("login", "Must provide --username with --password-stdin");
        std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
        in.password = all;
    }
    json auths = read_auths();
    if (in.user.empty() && in.password.empty() && auths["auths"].contains(key)) {
        // docker tries what it has before asking
        try {
            check_credentials(key, auths["auths"][key].value("auth", ""));
            printf("Authenticating with existing credentials...\nLogin Succeeded\n");
            return 0;
        } catch (const Error&) {
        }
    }
    if (in.user.empty() || in.password.empty()) {
        if (!isatty(STDIN_FILENO)) throw Error("login", "Cannot perform an interactive login from a non TTY device");
        if (in.user.empty()) {
            printf("Username: ");
            fflush(stdout);
            std::getline(std::cin, in.user);
            if (in.user.empty()) throw Error("login", "Username is required");
        }
        in.password = read_secret_line("Password: ");
        if (in.password.empty()) throw Error("login", "Password is required");
    }
    std::string auth = base64(in.user + ":" + in.password);
    check_credentials(key, auth);
    auths["auths"][key] = {{"auth", auth}};
    make_dirs(state_root());
    write_file_atomic(auth_file(), auths.dump(), 0600);
    fprintf(stderr, "WARNING! Your credentials are stored unencrypted in '%s'.\n", auth_file().c_str());
    printf("Login Succeeded\n");
    return 0;
}

int cmd_logout(const std::string& server) {
    std::string key = credentials_key(server);
    json auths = read_auths();
    if (!auths["auths"].contains(key)) {
        printf("Not logged in to %s\n", key.c_str());
        return 0;
    }
    auths["auths"].erase(key);
    write_file_atomic(auth_file(), auths.dump(), 0600);
    printf("Removing login credentials for %s\n", key.c_str());
    return 0;
}

struct SearchRequest {
    std::string term, format;
    int limit = 25;
    std::vector<std::string> filters;
    bool no_trunc = false;
};

// --filter stars=N, is-official=BOOL, is-automated=BOOL, checked as docker
// checks them; returns whether `result` passes all of them.
std::function<bool(const json&)> search_filter(const std::vector<std::string>& filters) {
    int min_stars = 0;
    std::optional<bool> official, automated;
    auto boolean = [](const std::string& f, const std::string& v) {
        if (v == "true" || v == "1") return true;
        if (v == "false" || v == "0") return false;
        throw Error("search", "invalid filter '" + f + "'");
    };
    for (const auto& f : filters) {
        auto eq = f.find('=');
        if (eq == std::string::npos) throw Error("search", "bad format of filter (expected name=value)");
        std::string key = f.substr(0, eq), value = f.substr(eq + 1);
        if (key == "stars") {
            try {
                size_t used = 0;
                min_stars = std::stoi(value, &used);
                if (used != value.size()) throw std::invalid_argument(value);
            } catch (const std::exception&) {
                throw Error("search", "invalid filter 'stars=" + value + "'");
            }
        } else if (key == "is-official") {
            official = boolean(f, value);
        } else if (key == "is-automated") {
            automated = boolean(f, value);
        } else {
            throw Error("search", "invalid filter '" + key + "'");
        }
    }
    return [=](const json& r) {
        return r.value("star_count", 0) >= min_stars && (!official || r.value("is_official", false) == *official) &&
               (!automated || r.value("is_automated", false) == *automated);
    };
}

std::string percent_encode(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (isalnum(c) || strchr("-._~", c)) {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

// What the index found for `what`: its search API (/v1/search, as Docker
// Hub's index answers it), or, where the server has none, the repositories
// of its catalog whose names contain `what`, in the same shape.
json search_index(const std::string& host, const std::string& what, int limit) {
    std::string base = scheme_for(host) + "://" + host;
    Registry reg(base, "");
    HttpRequest req;
    req.url = "/v1/search?q=" + percent_encode(what) + "&n=" + std::to_string(limit);
    HttpResponse r = reg.send(req);
    if (r.status == 200) {
        try {
            return json::parse(r.body).at("results");
        } catch (const json::exception& e) {
            throw Error("search " + host, std::string("the index's answer is not a search result: ") + e.what());
        }
    }
    if (r.status != 404) throw Error("search " + host, registry_error(r));
    fprintf(stderr, "%s has no search API (/v1/search); listing the repositories of its catalog that match\n",
            host.c_str());
    req.url = "/v2/_catalog";
    r = reg.send(req);
    if (r.status != 200) throw Error("search " + host, registry_error(r));
    json results = json::array();
    for (const auto& repo : json::parse(r.body).value("repositories", json::array())) {
        std::string name = repo.get<std::string>();
        if (name.find(what) == std::string::npos) continue;
        results.push_back({{"name", host + "/" + name}, {"description", ""}, {"star_count", 0},
                           {"is_official", false}, {"is_automated", false}});
        if (static_cast<int>(results.size()) == limit) break;
    }
    return results;
}

// `box search [HOST/]TERM`: HOST picks the index, as docker's rule for a
// registry in a name (a dot, a colon, or localhost before the first slash).
int cmd_search(const SearchRequest& in) {
    if (in.limit < 1 || in.limit > 100)
        throw Error("search", "limit " + std::to_string(in.limit) + " is outside the range of [1, 100]");
    auto keep = search_filter(in.filters);
    std::string host = "index.docker.io", what = in.term;
    if (auto slash = in.term.find('/'); slash != std::string::npos) {
        std::string first = in.term.substr(0, slash);
        if (first.find_first_of(".:") != std::string::npos || first == "localhost") {
            host = first;
            what = in.term.substr(slash + 1);
        }
    }
    std::vector<json> rows;
    for (const auto& r : search_index(host, what, in.limit)) {
        if (!keep(r)) continue;
        std::string description = r.value("description", "");
        std::replace(description.begin(), description.end(), '\n', ' ');
        std::replace(description.begin(), description.end(), '\r', ' ');
        if (!in.no_trunc) description = render::ellipsis(description, 45);
        rows.push_back({{"Name", r.value("name", "")},
                        {"Description", description},
                        {"StarCount", std::to_string(r.value("star_count", 0))},
                        {"IsOfficial", r.value("is_official", false) ? "[OK]" : ""},
                        {"IsAutomated", r.value("is_automated", false) ? "[OK]" : ""}});
    }
    std::string format = in.format.empty()
                             ? "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}\t{{.IsAutomated}}"
                             : in.format;
    render::print_list(format, rows, {{"StarCount", "STARS"}, {"IsOfficial", "OFFICIAL"}, {"IsAutomated", "AUTOMATED"}});
    return 0;
}

}  // namespace

void pull_image(const std::string& name, FILE* out) {
    ImageRef ref = parse_ref(name);
    ImageStore store(state_root());
    auto stored = [&]() -> std::string {
        try {
            return store.find(ref.full()).manifest_digest;
        } catch (const Error&) {
            return "";
        }
    };
    std::string before = stored();
    std::optional<Error> last;
    for (const auto& base : sources_for(ref)) {
        try {
            std::string digest = pull_from(base, ref, store, out);
            fprintf(out, "Digest: %s\nStatus: %s for %s\n", digest.c_str(),
                    before == stored() ? "Image is up to date" : "Downloaded newer image", ref.familiar().c_str());
            fflush(out);
            return;
        } catch (const Error& e) {
            last = e;
            log::info("pull from " + base + " failed: " + e.what() + "; trying the next source");
        }
    }
    throw *last;  // the last source's reason, as docker reports it
}

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
        auto login = std::make_shared<LoginRequest>();
        c.add_option("SERVER", login->server, "Registry host[:port] (default: Docker Hub)");
        c.add_option("-u,--username", login->user, "Username");
        c.add_option("-p,--password", login->password, "Password (prefer --password-stdin)");
        c.add_flag("--password-stdin", login->password_stdin, "Take the password from stdin");
        return [login] { return cmd_login(*login); };
    });
    cli::define("logout", "Log out from a registry", [](CLI::App& c) -> cli::Action {
        auto logout = std::make_shared<std::string>();
        c.add_option("SERVER", *logout, "Registry host[:port] (default: Docker Hub)");
        return [logout] { return cmd_logout(*logout); };
    });
    cli::define("search", "Search an index for images", [](CLI::App& c) -> cli::Action {
        auto search = std::make_shared<SearchRequest>();
        c.add_option("TERM", search->term, "What to look for, e.g. httpd, or 127.0.0.1:5000/httpd for another index")
            ->required();
        c.add_option("-f,--filter", search->filters, "Filter output: stars=N, is-official=true, is-automated=true");
        c.add_option("--format", search->format, "Format the output using a template ({{.Name}} {{.StarCount}})");
        c.add_option("--limit", search->limit, "Max number of search results")->default_val(25);
        c.add_flag("--no-trunc", search->no_trunc, "Don't truncate output");
        return [search] { return cmd_search(*search); };
    });
}

}  // namespace box::stage3
