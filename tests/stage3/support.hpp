// Stage 3 tests' helpers: images made offline, as tars and docker-archives.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
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
