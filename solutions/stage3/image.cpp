// Chapter 3: manifests, whiteouts, and the image store (an OCI image layout).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "box/record_store.hpp"
#include "box/blob_store.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/file_lock.hpp"
#include "box/util.hpp"
#include "stage3.hpp"

namespace fs = std::filesystem;

namespace box::stage3 {
namespace {

constexpr const char* kRefName = "org.opencontainers.image.ref.name";

Descriptor descriptor_of(const json& d) {
    if (!d.is_object() || !d.contains("digest") || !d.contains("size"))
        throw Error("descriptor", "needs a digest and a size");
    return {d.value("mediaType", ""), d.at("digest").get<std::string>(), d.at("size").get<std::int64_t>()};
}

json to_json(const Descriptor& d) { return {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}}; }

std::string media_type_of(const std::string& file) {
    auto head = try_read_file(file).value_or("").substr(0, 4);
    if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
        return media::kLayerGzip;
    if (head == std::string("\x28\xb5\x2f\xfd", 4)) return std::string(media::kLayer) + "+zstd";
    return media::kLayer;
}

}  // namespace

std::vector<Descriptor> manifest_layers(const json& manifest) {
    // BEGIN EXERCISE 3: manifest_layers()
    std::string type = manifest.value("mediaType", "");
    bool oci = type == media::kManifest || (type.empty() && manifest.contains("config"));
    if (!oci && type != media::kDockerManifest)
        throw Error("manifest", "not an image manifest (mediaType \"" + type + "\")");
    if (manifest.value("schemaVersion", 0) != 2) throw Error("manifest", "schemaVersion must be 2");
    if (!manifest.contains("layers") || !manifest["layers"].is_array() || manifest["layers"].empty())
        throw Error("manifest", "has no layers");
    std::vector<Descriptor> layers;
    for (const auto& l : manifest["layers"]) layers.push_back(descriptor_of(l));
    return layers;
    // END EXERCISE
}

Descriptor select_platform(const json& index, const std::string& os, const std::string& architecture) {
    // BEGIN EXERCISE 4: select_platform()
    std::string type = index.value("mediaType", "");
    if (type != media::kIndex && type != media::kDockerList && !(type.empty() && index.contains("manifests")))
        throw Error("index", "not an image index (mediaType \"" + type + "\")");
    std::string offered;
    for (const auto& m : index.value("manifests", json::array())) {
        json p = m.value("platform", json::object());
        std::string o = p.value("os", ""), a = p.value("architecture", "");
        if (o == os && a == architecture) return descriptor_of(m);
        offered += (offered.empty() ? "" : ", ") + o + "/" + a;
    }
    throw Error("no image for " + os + "/" + architecture, "the index offers " + (offered.empty() ? "nothing" : offered));
    // END EXERCISE
}

bool apply_whiteout(const TarEntry& entry, int parent_fd, const std::string& name) {
    // BEGIN EXERCISE 2: apply_whiteout()
    (void)entry;
    if (name == ".wh..wh..opq") {
        Fd dir(::openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir || ::fsetxattr(dir.get(), "trusted.overlay.opaque", "y", 1, 0) != 0)
            throw_errno("layer entry \"" + entry.path + "\": make the directory opaque", errno);
        return true;
    }
    if (starts_with(name, ".wh.")) {
        std::string hidden = name.substr(4);
        ::unlinkat(parent_fd, hidden.c_str(), 0);  // if this very layer had it
        if (::mknodat(parent_fd, hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
            throw_errno("layer entry \"" + entry.path + "\": whiteout", errno);
        return true;
    }
    return false;
    // END EXERCISE
}

// ---- the store --------------------------------------------------------------

ImageStore::ImageStore(std::string root) : root_(std::move(root)) {
    // A box killed half-way leaves its scratch files, named after its pid:
    // remove those whose process is gone (a live one may be using its own).
    for (const char* dir : {"/tmp", "/layers"}) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(root_ + dir, ec)) {
            std::string name = e.path().filename();
            if (std::string(dir) == "/layers") {
                if (!starts_with(name, "tmp-")) continue;
                name = name.substr(4);
            }
            pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
            if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
        }
    }
}

json ImageStore::read_index() const {
    auto text = try_read_file(root_ + "/images/index.json");
    if (!text) return {{"schemaVersion", 2}, {"mediaType", media::kIndex}, {"manifests", json::array()}};
    try {
        return json::parse(*text);
    } catch (const json::exception& e) {
        throw Error(root_ + "/images/index.json", std::string("corrupt: ") + e.what());
    }
}

void ImageStore::write_index(const json& index) {
    make_dirs(root_ + "/images");
    if (!exists(root_ + "/images/oci-layout"))
        write_file_atomic(root_ + "/images/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    write_file_atomic(root_ + "/images/index.json", index.dump());
}

// Unpacks a layer blob once: into a temporary directory, renamed to its
// diffID when complete (another image may have brought it already).
std::string ImageStore::unpack_layer(const std::string& blob_path, bool* created) {
    std::string layers = root_ + "/layers";
    make_dirs(layers);
    std::string tmp = layers + "/tmp-" + std::to_string(getpid()) + "-" + random_hex(8);
    make_dirs(tmp);
    try {
        Fd fd(::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno("open " + blob_path, errno);
        UnpackResult r = unpack_tar(fd.get(), tmp, apply_whiteout);
        std::string final_dir = layers + "/" + digest_hex(r.diff_id);
        bool is_new = !exists(final_dir);
        if (!is_new) {
            fs::remove_all(tmp);
        } else {
            write_file_atomic(final_dir + ".json", json{{"size", r.bytes}}.dump());
            fs::rename(tmp, final_dir);
        }
        if (created) *created = is_new;
        return r.diff_id;
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);  // nothing of a rejected layer stays
        throw;
    }
}

StoredLayer ImageStore::store_layer(BlobStore& blobs, const std::string& file, std::vector<std::string>& new_blobs) {
    std::string digest = sha256_digest(read_file(file));
    if (!blobs.has(digest)) new_blobs.push_back(blobs.put_file(file));
    std::string diff_id = unpack_layer(blobs.path(digest));
    return {{media_type_of(file), digest, static_cast<std::int64_t>(fs::file_size(file))}, diff_id};
}

std::string ImageStore::add_manifest(BlobStore& blobs, const std::vector<StoredLayer>& stored, json config,
                                     const std::vector<std::string>& refs) {
    json layers = json::array(), diff_ids = json::array();
    for (const auto& l : stored) {
        layers.push_back(to_json(l.blob));
        diff_ids.push_back(l.diff_id);
    }
    config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
    std::string config_text = config.dump();
    std::string config_digest = blobs.put(config_text);
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", media::kManifest},
                     {"config", to_json({media::kConfig, config_digest, static_cast<std::int64_t>(config_text.size())})},
                     {"layers", layers}};
    std::string manifest_text = manifest.dump();
    std::string manifest_digest = blobs.put(manifest_text);

    json index = read_index();
    json& entries = index["manifests"];
    std::set<std::string> names;
    for (const auto& ref : refs)
        if (!ref.empty()) names.insert(parse_ref(ref).full());
    for (auto& e : entries)  // a name points at one image: take it from any other
        if (names.count(e.value("annotations", json::object()).value(kRefName, ""))) e.erase("annotations");
    json entry = to_json({media::kManifest, manifest_digest, static_cast<std::int64_t>(manifest_text.size())});
    if (names.empty()) entries.push_back(entry);
    for (const auto& name : names) {
        entry["annotations"] = {{kRefName, name}};
        entries.push_back(entry);
    }
    // Entries without a name for an image that has a name elsewhere are redundant.
    std::set<std::string> named;
    for (const auto& e : entries)
        if (e.contains("annotations")) named.insert(e["digest"]);
    json kept = json::array();
    std::set<std::string> unnamed_seen;
    for (const auto& e : entries) {
        if (e.contains("annotations")) kept.push_back(e);
        else if (!named.count(e["digest"]) && unnamed_seen.insert(e["digest"]).second) kept.push_back(e);
    }
    entries = kept;
    write_index(index);
    return config_digest;
}

std::string ImageStore::add_image(const std::vector<std::string>& layer_files, json config, const std::string& ref,
                                  const std::function<void(std::int64_t)>& progress) {
    FileLock lock(root_ + "/images");
    BlobStore blobs(root_ + "/images/blobs");
    std::vector<StoredLayer> layers;
    std::vector<std::string> new_blobs;  // taken back if a layer is rejected
    std::int64_t done = 0;
    try {
        for (const auto& file : layer_files) {
            layers.push_back(store_layer(blobs, file, new_blobs));
            if (progress) progress(done += layers.back().blob.size);
        }
    } catch (...) {
        for (const auto& d : new_blobs) blobs.remove(d);
        throw;
    }
    return add_manifest(blobs, layers, std::move(config), {ref});
}

StoredLayer ImageStore::add_layer(const std::string& file) {
    FileLock lock(root_ + "/images");
    BlobStore blobs(blobs_dir());
    std::vector<std::string> new_blobs;
    try {
        return store_layer(blobs, file, new_blobs);
    } catch (...) {
        for (const auto& d : new_blobs) blobs.remove(d);
        throw;
    }
}

std::string ImageStore::add_built(const std::vector<StoredLayer>& layers, json config,
                                  const std::vector<std::string>& refs) {
    FileLock lock(root_ + "/images");
    BlobStore blobs(blobs_dir());
    for (const auto& l : layers)
        if (!blobs.has(l.blob.digest) || !is_directory(root_ + "/layers/" + digest_hex(l.diff_id)))
            throw Error("image", "layer " + l.diff_id + " is no longer in the store");
    return add_manifest(blobs, layers, std::move(config), refs);
}

bool ImageStore::has_layer(const StoredLayer& layer) const {
    return BlobStore(blobs_dir()).has(layer.blob.digest) && is_directory(root_ + "/layers/" + digest_hex(layer.diff_id));
}

std::string ImageStore::add_pulled(const std::string& manifest_text, const std::string& config_text,
                                   const std::string& ref) {
    FileLock lock(root_ + "/images");
    BlobStore blobs(blobs_dir());
    json manifest = json::parse(manifest_text), config = json::parse(config_text);
    std::vector<std::string> diff_ids, made;  // `made`: layers this call unpacked first
    try {
        for (const auto& layer : manifest_layers(manifest)) {
            bool created = false;
            diff_ids.push_back(unpack_layer(blobs.path(layer.digest), &created));
            if (created) made.push_back(diff_ids.back());
        }
        json listed = config.value("rootfs", json::object()).value("diff_ids", json::array());
        if (listed != json(diff_ids))
            throw Error("image " + ref, "its layers' content does not match the diff_ids its config lists");
    } catch (...) {
        for (const auto& d : made) {
            std::error_code ec;
            fs::remove_all(root_ + "/layers/" + digest_hex(d), ec);
            fs::remove(root_ + "/layers/" + digest_hex(d) + ".json", ec);
        }
        throw;
    }
    std::string manifest_digest = blobs.put(manifest_text);
    std::string config_digest = blobs.put(config_text);
    json index = read_index();
    std::string name = parse_ref(ref).full();
    json kept = json::array();
    for (const auto& e : index["manifests"])
        if (e.value("annotations", json::object()).value(kRefName, "") != name) kept.push_back(e);
    json entry = to_json({manifest.value("mediaType", media::kManifest), manifest_digest,
                          static_cast<std::int64_t>(manifest_text.size())});
    entry["annotations"] = {{kRefName, name}};
    kept.push_back(entry);
    index["manifests"] = kept;
    write_index(index);
    return config_digest;
}

std::vector<StoredImage> ImageStore::list() const {
    BlobStore blobs(root_ + "/images/blobs");
    std::map<std::string, StoredImage> by_manifest;
    std::vector<std::string> order;
    const json index = read_index();  // kept alive: the loop walks into it
    for (const auto& e : index["manifests"]) {
        std::string digest = e.at("digest");
        if (!by_manifest.count(digest)) {
            StoredImage img;
            img.manifest_digest = digest;
            json manifest = json::parse(blobs.read(digest));
            img.id = manifest["config"]["digest"];
            img.config = json::parse(blobs.read(img.id));
            for (const auto& d : img.config["rootfs"]["diff_ids"]) {
                auto meta = try_read_file(root_ + "/layers/" + digest_hex(d) + ".json");
                if (meta) img.size += json::parse(*meta).value("size", std::int64_t{0});
            }
            by_manifest[digest] = img;
            order.push_back(digest);
        }
        std::string name = e.value("annotations", json::object()).value(kRefName, "");
        if (!name.empty()) by_manifest[digest].refs.push_back(name);
    }
    std::vector<StoredImage> out;
    for (const auto& d : order) out.push_back(by_manifest[d]);
    std::stable_sort(out.begin(), out.end(), [](const StoredImage& a, const StoredImage& b) {
        return a.config.value("created", "") > b.config.value("created", "");
    });
    return out;
}

StoredImage ImageStore::find(const std::string& image) const {
    auto images = list();
    std::string full;
    try {
        full = parse_ref(image).full();
    } catch (const Error&) {
    }
    for (const auto& img : images)
        if (std::find(img.refs.begin(), img.refs.end(), full) != img.refs.end()) return img;
    std::string id = starts_with(image, "sha256:") ? image.substr(7) : image;
    const StoredImage* found = nullptr;
    if (id.size() >= 4 && id.find_first_not_of("0123456789abcdef") == std::string::npos) {
        for (const auto& img : images) {
            if (img.id.compare(7, id.size(), id) == 0) {
                if (found && found->id != img.id) throw Error("image " + image, "prefix names more than one image");
                found = &img;
            }
        }
    }
    if (!found) throw Error("No such image", image);
    return *found;
}

std::vector<std::string> ImageStore::layer_dirs(const StoredImage& image) const {
    std::vector<std::string> dirs;
    for (const auto& d : image.config["rootfs"]["diff_ids"]) {
        std::string dir = root_ + "/layers/" + digest_hex(d);
        if (!is_directory(dir)) throw Error("image " + short_id(image.id), "layer " + std::string(d) + " is missing");
        dirs.push_back(dir);
    }
    return keep_topmost(dirs);
}

std::vector<std::string> keep_topmost(const std::vector<std::string>& dirs) {
    std::vector<std::string> kept;
    for (size_t i = 0; i < dirs.size(); ++i)
        if (std::find(dirs.begin() + static_cast<std::ptrdiff_t>(i) + 1, dirs.end(), dirs[i]) == dirs.end())
            kept.push_back(dirs[i]);
    return kept;
}

std::string ImageStore::layer_dir(const std::string& diff_id) const { return root_ + "/layers/" + digest_hex(diff_id); }

void ImageStore::tag(const std::string& image, const std::string& ref) {
    StoredImage img = find(image);
    std::string name = parse_ref(ref).full();
    FileLock lock(root_ + "/images");
    json index = read_index();
    json kept = json::array();
    for (const auto& e : index["manifests"])
        if (e.value("annotations", json::object()).value(kRefName, "") != name) kept.push_back(e);
    json entry;
    for (const auto& e : kept)
        if (e["digest"] == img.manifest_digest) entry = e;
    entry["annotations"] = {{kRefName, name}};
    kept.push_back(entry);
    index["manifests"] = kept;
    write_index(index);
}


std::vector<std::string> ImageStore::remove(const std::string& image, bool force) {
    StoredImage img = find(image);
    std::vector<std::string> out;
    std::string full;
    try {
        full = parse_ref(image).full();
    } catch (const Error&) {
    }
    bool by_name = std::find(img.refs.begin(), img.refs.end(), full) != img.refs.end();
    if (!by_name && img.refs.size() > 1 && !force)
        throw Error("conflict: unable to delete " + short_id(img.id) + " (must be forced)",
                    "image is referenced in multiple repositories");
    FileLock lock(root_ + "/images");
    json index = read_index();
    std::vector<std::string> untag = by_name && !force ? std::vector<std::string>{full} : img.refs;
    if (img.refs.empty()) untag = {""};  // a dangling image: its one unnamed entry
    json kept = json::array();
    for (const auto& e : index["manifests"]) {
        std::string name = e.value("annotations", json::object()).value(kRefName, "");
        if (e["digest"] == img.manifest_digest && std::find(untag.begin(), untag.end(), name) != untag.end()) {
            if (!name.empty()) out.push_back("Untagged: " + parse_ref(name).familiar());
            continue;
        }
        kept.push_back(e);
    }
    bool still_named = false;
    for (const auto& e : kept) still_named = still_named || e["digest"] == img.manifest_digest;
    std::string user = still_named ? "" : user_of("image", img.id);  // chapter 4 registers the check
    if (!user.empty()) {  // chapter 4: a container's layers must stay
        if (!force)
            throw Error("conflict: unable to remove repository reference \"" + image + "\" (must force)",
                        "container " + user.substr(0, 12) + " is using its referenced image " + short_id(img.id));
        kept.push_back(to_json({media::kManifest, img.manifest_digest,
                                static_cast<std::int64_t>(fs::file_size(BlobStore(blobs_dir()).path(img.manifest_digest)))}));
        still_named = true;  // untagged, kept without a name
    }
    if (still_named) {
        index["manifests"] = kept;
        write_index(index);
        return out;
    }
    // BEGIN ADVANCED EXERCISE 11: collect_garbage()
    // Nothing names it any more: delete what no other image uses.
    std::set<std::string> used_blobs, used_layers;
    BlobStore blobs(root_ + "/images/blobs");
    for (const auto& e : kept) {
        json m = json::parse(blobs.read(e["digest"]));
        used_blobs.insert(e["digest"].get<std::string>());
        used_blobs.insert(m["config"]["digest"].get<std::string>());
        for (const auto& l : manifest_layers(m)) used_blobs.insert(l.digest);
        json c = json::parse(blobs.read(m["config"]["digest"]));
        for (const auto& d : c["rootfs"]["diff_ids"]) used_layers.insert(d.get<std::string>());
    }
    index["manifests"] = kept;
    write_index(index);  // first the index: a crash now leaves only unreferenced files
    json manifest = json::parse(blobs.read(img.manifest_digest));
    for (const auto& l : manifest_layers(manifest))
        if (!used_blobs.count(l.digest)) blobs.remove(l.digest);
    for (const auto& d : img.config["rootfs"]["diff_ids"]) {
        if (used_layers.count(d)) continue;
        std::string dir = root_ + "/layers/" + digest_hex(d);
        std::error_code ec;
        fs::remove_all(dir, ec);
        fs::remove(dir + ".json", ec);
        out.push_back("Deleted: " + d.get<std::string>());
    }
    if (!used_blobs.count(img.id)) blobs.remove(img.id);
    blobs.remove(img.manifest_digest);
    out.push_back("Deleted: " + img.id);
    return out;
    // END EXERCISE
}

}  // namespace box::stage3
