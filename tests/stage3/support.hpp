// Stage 3 tests' helpers: images made offline, as tars and docker-archives.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.hpp"

namespace boxtest {

/// A file (or directory, or symlink) to put in a test tar.
struct TarItem {
    TarItem(std::string p, std::string d = "", mode_t t = S_IFREG) : path(std::move(p)), data(std::move(d)), type(t) {}
    std::string path;
    std::string data;  ///< content, or a symlink's target
    mode_t type;
};

/// Writes a tar of `items` to `path` with libarchive.
inline void write_tar(const std::string& path, const std::vector<TarItem>& items) {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
    for (const auto& it : items) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, it.path.c_str());
        archive_entry_set_filetype(e, it.type);
        archive_entry_set_perm(e, it.type == S_IFDIR ? 0755 : 0644);
        if (it.type == S_IFLNK) archive_entry_set_symlink(e, it.data.c_str());
        archive_entry_set_size(e, it.type == S_IFREG ? static_cast<la_int64_t>(it.data.size()) : 0);
        archive_write_header(a, e);
        if (it.type == S_IFREG) archive_write_data(a, it.data.data(), it.data.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/// How many directories `dir` holds (0 if it does not exist).
inline size_t count_entries(const std::string& dir) {
    namespace fs = std::filesystem;
    if (!fs::exists(dir)) return 0;
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.is_directory();
    return n;
}

/// A tar of the kit's base rootfs (busybox), made once per sandbox.
inline std::string base_tar(const Sandbox& sb) {
    std::string tar = sb.dir() + "/base.tar";
    auto r = run({"tar", "-C", base_rootfs(), "-cf", tar, "."});
    REQUIRE(r.status == 0);
    return tar;
}

/// Imports the base rootfs as `name` (with CMD ["sh"]); returns the image id.
inline std::string import_busybox(const Sandbox& sb, const std::string& name = "busybox") {
    auto r = sb.box({"import", "-c", "CMD [\"sh\"]", base_tar(sb), name});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return trim(r.out);
}

/// A docker-archive (docker save's format) holding one image `tag` made of
/// the layer tars `layers` (bottom first), written to `path`.
inline void write_docker_archive(const std::string& path, const std::string& tag,
                                 const std::vector<std::string>& layers, const nlohmann::json& config_extra = {}) {
    nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"}, {"config", {{"Cmd", {"sh"}}}}};
    if (!config_extra.is_null()) config["config"].update(config_extra);
    std::vector<TarItem> items;
    nlohmann::json manifest_layers = nlohmann::json::array();
    for (size_t i = 0; i < layers.size(); ++i) {
        std::string name = "layer" + std::to_string(i) + "/layer.tar";
        items.push_back({"layer" + std::to_string(i) + "/", "", S_IFDIR});
        items.push_back({name, read_host_file(layers[i])});
        manifest_layers.push_back(name);
    }
    items.push_back({"config.json", config.dump()});
    nlohmann::json manifest = nlohmann::json::array(
        {{{"Config", "config.json"}, {"RepoTags", {tag}}, {"Layers", manifest_layers}}});
    items.push_back({"manifest.json", manifest.dump()});
    write_tar(path, items);
}

}  // namespace boxtest

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "box/http.hpp"

namespace boxtest {

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
inline int free_port() {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

/// Debian's docker-registry (the reference registry server) on 127.0.0.1 and a
/// random port, storing under the sandbox; stopped by PID when this goes away.
class TestRegistry {
public:
    /// With `user` set, htpasswd (basic) authentication with that user and password.
    /// With `token_realm` set instead, token authentication: tokens from that
    /// realm, signed by the key of certificate `token_cert`.
    explicit TestRegistry(const Sandbox& sb, const std::string& user = "", const std::string& password = "",
                          const std::string& token_realm = "", const std::string& token_cert = "")
        : port_(free_port()), dir_(sb.dir() + "/registry-" + std::to_string(port_)) {
        std::string config = dir_ + "/config.yml";
        run({"mkdir", "-p", dir_ + "/data"});
        std::ofstream f(config);
        f << "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " << dir_
          << "/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" << port_ << "\n";
        if (!user.empty()) {
            auto h = run({"htpasswd", "-Bbn", user, password});
            REQUIRE(h.status == 0);
            std::ofstream(dir_ + "/htpasswd") << h.out;
            f << "auth:\n  htpasswd:\n    realm: box-test\n    path: " << dir_ << "/htpasswd\n";
        } else if (!token_realm.empty()) {
            f << "auth:\n  token:\n    realm: " << token_realm << "\n    service: box-test-registry\n"
              << "    issuer: box-test-issuer\n    rootcertbundle: " << token_cert << "\n";
        }
        f.close();
        server_ = std::make_unique<Background>(std::vector<std::string>{"docker-registry", "serve", config});
        for (int i = 0; i < 100; ++i) {  // up to 5 s for it to listen
            try {
                box::HttpRequest req;
                req.url = "http://" + host() + "/v2/";
                auto r = box::http_request(req);
                if (r.status == 200 || r.status == 401) return;
            } catch (...) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("docker-registry did not start: " << server_->err());
    }
    /// Its port on 127.0.0.1.
    int port() const { return port_; }
    /// host:port, e.g. 127.0.0.1:40123.
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    /// Where it keeps blobs (the filesystem driver's layout).
    std::string blob_data(const std::string& digest) const {
        std::string hex = digest.substr(7);
        return dir_ + "/data/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
    }

private:
    int port_;
    std::string dir_;
    std::unique_ptr<Background> server_;
};

/// From stage 4 on a container outlives its run, as docker's do (until
/// `box rm`, or `container prune`): this removes the ended ones, so that a
/// stage-3 test sees what stage 3 leaves.
inline void forget_containers(const Sandbox& sb) {
    if (box_stage() >= 4) REQUIRE(sb.box({"container", "prune", "-f"}).status == 0);
}

/// Puts a busybox image into `registry` as REPO:TAG with the real tools:
/// umoci builds an OCI layout from the base rootfs, skopeo copies it.
inline void push_with_skopeo(const Sandbox& sb, const TestRegistry& registry, const std::string& repo_tag) {
    std::string layout = sb.dir() + "/oci-" + random_name("", 6), bundle = layout + "-bundle";
    REQUIRE(run({"umoci", "init", "--layout", layout}).status == 0);
    REQUIRE(run({"umoci", "new", "--image", layout + ":t"}).status == 0);
    REQUIRE(run({"umoci", "unpack", "--image", layout + ":t", bundle}).status == 0);
    REQUIRE(run({"cp", "-a", base_rootfs() + "/.", bundle + "/rootfs/"}).status == 0);
    REQUIRE(run({"umoci", "repack", "--image", layout + ":t", bundle}).status == 0);
    REQUIRE(run({"umoci", "config", "--image", layout + ":t", "--config.cmd", "sh"}).status == 0);
    auto r = run({"skopeo", "copy", "--dest-tls-verify=false", "oci:" + layout + ":t",
                  "docker://" + registry.host() + "/" + repo_tag});
    INFO(r.err);
    REQUIRE(r.status == 0);
}

}  // namespace boxtest
