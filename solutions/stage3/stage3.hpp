/// @file stage3.hpp
/// @brief Stage 3 (chapter 3, images): image references, the image store, the
/// functions you write, and the commands that use them.
///
/// An image is a stack of layers (tar archives of file changes) plus a config
/// (the command, environment, ...) and a manifest that names both by digest.
/// box keeps images as an OCI image layout under STATE/images, unpacks each
/// layer once into STATE/layers/DIFFID, and runs a container on an overlay
/// of its image's layers with a writable layer of its own on top.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "box/filters.hpp"
#include "box/blob_store.hpp"
#include "box/reference.hpp"
#include "unpack.hpp"

namespace box::stage3 {

/// JSON documents (manifests, configs, indexes).
using json = nlohmann::json;

/// OCI media types box writes (and the docker ones it also reads).
namespace media {
inline constexpr const char* kManifest = "application/vnd.oci.image.manifest.v1+json";  ///< OCI image manifest
inline constexpr const char* kIndex = "application/vnd.oci.image.index.v1+json";        ///< OCI image index
inline constexpr const char* kConfig = "application/vnd.oci.image.config.v1+json";      ///< OCI image config
inline constexpr const char* kLayer = "application/vnd.oci.image.layer.v1.tar";         ///< OCI layer, plain tar
inline constexpr const char* kLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";  ///< OCI layer, gzip
/// docker's image manifest (v2 schema 2)
inline constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
/// docker's manifest list (an index)
inline constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
/// docker's layer, gzip
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media

/// A content descriptor: what a manifest or index says about a blob.
struct Descriptor {
    std::string media_type;  ///< what the blob is
    std::string digest;      ///< sha256:...
    std::int64_t size = 0;   ///< bytes
};

/// Exercise 1. Mounts an overlay at `merged`: the layer directories (given
/// bottom first) as read-only lower layers — overlayfs wants them top first
/// in `lowerdir`, separated by ':' — and `upper` (with its `work` directory)
/// as the container's writable layer.
void mount_overlay(const std::vector<std::string>& layers, const std::string& upper,
                   const std::string& work, const std::string& merged);

/// Exercise 2. The unpacking hook that turns the OCI/AUFS whiteout entries of
/// a layer into overlayfs's: `.wh..wh..opq` in a directory makes that
/// directory opaque (xattr `trusted.overlay.opaque` = `y` on the parent);
/// `.wh.NAME` deletes NAME (a character device 0/0 named NAME). Returns true
/// for a whiteout entry (handled), false for any other entry.
bool apply_whiteout(const TarEntry& entry, int parent_fd, const std::string& name);

/// Exercise 3. The layers of an image manifest (OCI, or docker's v2 schema 2),
/// bottom first. Throws box::Error for any other document, or a manifest
/// without layers.
std::vector<Descriptor> manifest_layers(const json& manifest);

/// Exercise 4. From an image index (OCI, or docker's manifest list), the
/// manifest for platform `os`/`architecture`. Throws box::Error naming the
/// platforms offered if none matches.
Descriptor select_platform(const json& index, const std::string& os, const std::string& architecture);

/// Layer directories (bottom first) with each repeated one kept only where it
/// is topmost: overlayfs refuses a directory twice, and a layer again above
/// the others decides alone what its paths hold (two RUN steps that changed
/// nothing make the same empty layer).
std::vector<std::string> keep_topmost(const std::vector<std::string>& dirs);

/// A layer in the store: its blob, and the digest of its uncompressed tar.
struct StoredLayer {
    Descriptor blob;      ///< the blob, as a manifest lists it
    std::string diff_id;  ///< sha256 of the uncompressed tar (the config's rootfs.diff_ids)
};

/// One image of the store, as listed.
struct StoredImage {
    std::vector<std::string> refs;  ///< full references that name it
    std::string manifest_digest;    ///< the manifest's digest
    std::string id;                 ///< the config's digest, docker's IMAGE ID
    json config;                    ///< the image config
    std::int64_t size = 0;          ///< uncompressed bytes of its layers
};

/// The image store under STATE: images/ (an OCI image layout: oci-layout,
/// index.json, blobs/sha256) and layers/DIFFID-HEX/ (unpacked layers).
class ImageStore {
public:
    /// The store of state root `root`.
    explicit ImageStore(std::string root);

    /// Adds an image from layer tars (bottom first; any compression) and a
    /// config, and names it `ref`. Each layer is stored as a blob, unpacked
    /// once, and recorded in the config's rootfs.diff_ids. Returns the image id.
    /// `progress`, if given, is told the bytes of layer files done after each one.
    std::string add_image(const std::vector<std::string>& layer_files, json config, const std::string& ref,
                          const std::function<void(std::int64_t)>& progress = {});
    /// Stores one layer tar (any compression) as a blob and unpacks it once
    /// (chapter 6: a build step's layer, before any image has it).
    StoredLayer add_layer(const std::string& file);
    /// Adds an image of layers already in the store (add_layer()) and a
    /// config, named by each of `refs` (none: an unnamed image). Returns the
    /// image id; throws box::Error if a layer is gone from the store.
    std::string add_built(const std::vector<StoredLayer>& layers, json config, const std::vector<std::string>& refs);
    /// Whether `layer`'s blob and unpacked directory are both still in the store.
    bool has_layer(const StoredLayer& layer) const;
    /// The unpacked directory of the layer of diffID `diff_id`.
    std::string layer_dir(const std::string& diff_id) const;
    /// Adds an image whose manifest, config and layer blobs are already in the
    /// blob store (a pull): unpacks each layer once, checks that the layers'
    /// diffIDs are those the config lists, and names it `ref`. Returns the id.
    std::string add_pulled(const std::string& manifest_text, const std::string& config_text, const std::string& ref);
    /// The blob store of this image store.
    std::string blobs_dir() const { return root_ + "/images/blobs"; }
    /// Names an existing image (by id, digest, or reference) `ref` too.
    void tag(const std::string& image, const std::string& ref);
    /// Removes name `ref`; deletes the image (blobs and unused layers) once no
    /// name is left, or at once with `force`. Returns docker-style lines
    /// (`Untagged: ...`, `Deleted: ...`).
    std::vector<std::string> remove(const std::string& image, bool force);
    /// Every image, newest first.
    std::vector<StoredImage> list() const;
    /// The image named by a reference, an id or an id prefix; throws box::Error
    /// (`No such image: ...`) if there is none.
    StoredImage find(const std::string& image) const;
    /// The unpacked layer directories of `image`, bottom first.
    std::vector<std::string> layer_dirs(const StoredImage& image) const;
    /// Where containers' writable layers go: STATE/containers.
    std::string containers_dir() const { return root_ + "/containers"; }

private:
    json read_index() const;
    void write_index(const json& index);
    std::string unpack_layer(const std::string& blob_path, bool* created = nullptr);
    StoredLayer store_layer(BlobStore& blobs, const std::string& file, std::vector<std::string>& new_blobs);
    std::string add_manifest(BlobStore& blobs, const std::vector<StoredLayer>& layers, json config,
                             const std::vector<std::string>& refs);
    std::string root_;
};

/// What a prune removed: docker's lines ("untagged: NAME", "deleted: sha256:...")
/// and the bytes of the images deleted.
struct PruneResult {
    std::vector<std::string> lines;  ///< in the order done
    std::int64_t reclaimed = 0;      ///< bytes (uncompressed layer sizes)
};

/// The image's labels (its config's Labels; values that are not strings are skipped).
Labels image_labels(const StoredImage& image);

/// docker image prune: removes dangling images (no name), or with `all` every
/// image no container uses (chapter 4's in-use check), and what only they
/// used; only those whose labels `filters` (label, label!) keep.
PruneResult prune_images(bool all, const Filters& filters = {});

/// Prints what a prune removed as docker does ("Deleted Images:", the lines,
/// "Total reclaimed space: 1.2MB").
void print_pruned(const PruneResult& result);

/// One row of `box system df`: a kind of thing box keeps on disk.
struct DiskUsage {
    std::string type;              ///< docker's name: Images, Containers, Local Volumes, Build Cache
    int total = 0;                 ///< how many there are
    int active = 0;                ///< how many are in use
    std::int64_t size = 0;         ///< bytes on disk
    std::int64_t reclaimable = 0;  ///< bytes a prune would free
    bool percent = true;           ///< show the reclaimable share (docker does, except for the build cache)
};

/// Lets a later stage add its rows to `box system df` or complete the others
/// (chapter 4: Containers and Local Volumes, and which images are in use).
void add_disk_usage_filler(std::function<void(std::vector<DiskUsage>& rows)> fill);

/// docker image inspect's document for `image` (Id, RepoTags, Config, RootFS...).
json inspect_json(const StoredImage& image);

/// Pulls `name` as the daemon part of docker's pull does: from the image's
/// registry (for docker.io images, the mirrors first), progress and the
/// outcome ("Status: Downloaded newer image for busybox:latest") on `out`.
/// `run` and `create` pull a missing image this way, onto stderr. Throws
/// box::Error with docker's words ("pull access denied for X, ...",
/// "manifest for X not found") when no source has it.
void pull_image(const std::string& name, FILE* out);

/// Pushes image `name` to its registry as `box push` does (layers the
/// registry has are skipped or mounted), the progress and the digest line
/// on `out`. Throws box::Error with the registry's words.
void push_image(const std::string& name, FILE* out);

/// The daemon config, docker's daemon.json: /etc/box/config.json (or
/// $BOX_CONFIG) as an object, {} if there is none; throws box::Error if it is
/// not JSON. Chapter 3 reads registry-mirrors and insecure-registries from
/// it, chapter 7 bip and dns.
json daemon_config();

/// Lets a later stage fill its fields of `box info`'s document (chapter 4:
/// Containers, ContainersRunning, ContainersPaused, ContainersStopped).
void add_info_filler(std::function<void(json& info)> fill);

/// Makes `box run` take an IMAGE (with `--rootfs` now optional) and run it on
/// an overlay of the image's layers.
void register_run_image();

/// Registers `box pull`, `box push`, `box login`, `box logout` and `box
/// search` (the registry client, registry.cpp).
void register_registry_commands();
/// Registers `box info` and `box system info` (daemon.cpp).
void register_info_command();

/// Registers `box import`, `box load`, `box images`, `box tag`, `box rmi`,
/// `box save`, `box history`, `box image inspect`, `box run IMAGE`, and the
/// registry commands (see cli::define).
void register_commands();

}  // namespace box::stage3
