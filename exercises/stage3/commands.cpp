// Chapter 3: the image commands — import, load, images, tag, rmi.
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/filters.hpp"
#include "box/fd.hpp"
#include "box/http.hpp"
#include "box/instruction.hpp"
#include "box/progress.hpp"
#include "box/record_store.hpp"
#include "box/render.hpp"
#include "box/spec.hpp"
#include "unpack.hpp"
#include "box/archive_api.hpp"
#include "box/blob_store.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "stage3.hpp"

namespace fs = std::filesystem;

namespace box::stage3 {
namespace {

// A scratch directory under the state root, removed when it goes away.
class ScratchDir {
public:
    ScratchDir() : path_(state_root() + "/tmp/" + std::to_string(getpid()) + "-" + random_hex(8)) { make_dirs(path_); }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// FILE, or stdin for "-", copied into `dir` so it can be read twice.
std::string copy_input(const std::string& file, const std::string& dir) {
    std::string out = dir + "/input";
    if (file != "-") {
        if (!exists(file)) throw_errno("open " + file, ENOENT);
        fs::copy_file(file, out);
        return out;
    }
    Fd dst(::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!dst) throw_errno("create " + out, errno);
    char buf[1 << 16];
    ssize_t n;
    while ((n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0)
        if (::write(dst.get(), buf, static_cast<size_t>(n)) != n) throw_errno("write " + out, errno);
    if (n < 0) throw_errno("read stdin", errno);
    return out;
}

// `box import URL`: the tarball fetched over HTTP(S) into `dir`.
std::string download(const std::string& url, const std::string& dir) {
    std::string out = dir + "/input";
    Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) throw_errno("create " + out, errno);
    HttpRequest req;
    req.url = url;
    req.sink = [&](const char* data, size_t n) {
        if (::write(fd.get(), data, n) != static_cast<ssize_t>(n)) throw_errno("write " + out, errno);
    };
    HttpResponse r = http_request(req);
    if (r.status != 200) throw Error("import " + url, "HTTP " + std::to_string(r.status));
    return out;
}

json new_config(const std::string& created_by, const std::string& comment) {
    json config = {{"architecture", native_arch()},
                   {"os", "linux"},
                   {"created", now_rfc3339()},
                   {"config", {{"Env", json::array({std::string("PATH=") + kDefaultPath})}}},
                   {"history", json::array({{{"created", now_rfc3339()}, {"created_by", created_by}}})}};
    if (!comment.empty()) config["history"][0]["comment"] = comment;
    return config;
}

int cmd_import(const std::string& file, const std::string& ref, const std::vector<std::string>& changes,
               const std::string& message) {
    if (!ref.empty()) parse_ref(ref);  // refuse a bad name before any work
    json config = new_config("box import " + file, message);
    apply_changes(config["config"], changes);  // refused before any work
    ScratchDir scratch;
    std::string input = starts_with(file, "http://") || starts_with(file, "https://") ? download(file, scratch.path())
                                                                                       : copy_input(file, scratch.path());
    std::string id = ImageStore(state_root()).add_image({input}, config, ref);
    printf("%s\n", id.c_str());
    return 0;
}

// docker-archive (`docker save`'s format): manifest.json names each image's
// config file, tags and layer tars, bottom first.
int cmd_load(const std::string& file, bool quiet) {
    ScratchDir scratch;
    std::string input = copy_input(file, scratch.path());
    std::string dir = scratch.path() + "/archive";
    make_dirs(dir);
    {
        Fd fd(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno("open " + input, errno);
        unpack_tar(fd.get(), dir);  // an archive is as untrusted as any layer
    }
    auto text = try_read_file(dir + "/manifest.json");
    if (!text) throw Error("load " + file, "no manifest.json: not a docker-archive (made by docker save or box save)");
    json manifest;
    try {
        manifest = json::parse(*text);
    } catch (const json::exception& e) {
        throw Error("load " + file, std::string("manifest.json: ") + e.what());
    }
    ImageStore store(state_root());
    for (const auto& image : manifest) {
        std::string config_file = image.at("Config");
        auto config_text = try_read_file(dir + "/" + config_file);
        if (!config_text) throw Error("load " + file, "missing config " + config_file);
        json config = json::parse(*config_text);
        std::vector<std::string> layers;
        for (const auto& l : image.at("Layers")) layers.push_back(dir + "/" + l.get<std::string>());
        std::vector<std::string> tags;
        for (const auto& t : image.value("RepoTags", json::array())) tags.push_back(t);
        std::int64_t total = 0;
        for (const auto& l : layers) total += static_cast<std::int64_t>(fs::file_size(l));
        Progress progress(short_id(sha256_digest(*config_text)), total, "Loading layers");
        std::string id = store.add_image(layers, config, tags.empty() ? "" : tags.front(),
                                         [&](std::int64_t done) { progress.update(done); });
        progress.finish();
        for (size_t i = 1; i < tags.size(); ++i) store.tag(id, tags[i]);
        if (quiet) continue;
        if (tags.empty()) printf("Loaded image ID: %s\n", id.c_str());
        for (const auto& t : tags) printf("Loaded image: %s\n", parse_ref(t).familiar().c_str());
    }
    return 0;
}

// docker's image filters: dangling=true|false, label=K[=V] (the image's config's Labels).
bool image_matches(const StoredImage& img, const Filters& f) {
    return f.any("dangling", [&](const std::string& v) { return (v == "true" || v == "1") == img.refs.empty(); }) &&
           f.match_labels(image_labels(img));
}

int cmd_images(bool quiet, bool digests, bool no_trunc, const std::string& filter, const std::vector<std::string>& filter_args) {
    Filters filters = Filters::parse(filter_args, {"dangling", "label", "reference"});
    filters.check_values("dangling", {"true", "false", "1", "0"});
    ImageStore store(state_root());
    std::string want;
    if (!filter.empty()) want = filter.find(':') == std::string::npos ? parse_ref(filter).repository() : parse_ref(filter).familiar();
    struct Row { std::string repo, tag, digest, id, created, size; };
    std::vector<Row> rows;
    for (const auto& img : store.list()) {
        if (!image_matches(img, filters)) continue;
        std::string id = no_trunc ? img.id : short_id(img.id);
        std::string created = ago(img.config.value("created", ""));
        std::vector<std::string> refs = img.refs;
        if (refs.empty()) refs.push_back("");
        for (const auto& r : refs) {
            Row row{"<none>", "<none>", "<none>", id, created, human_size(img.size)};
            if (!r.empty()) {
                ImageRef ref = parse_ref(r);
                row.repo = ref.repository();
                row.tag = ref.tag;
            }
            row.digest = img.manifest_digest;
            if (!want.empty() && row.repo != want && row.repo + ":" + row.tag != want) continue;
            // docker's reference filter: a shell pattern over the name, or the name:tag
            if (!filters.any("reference", [&](const std::string& p) {
                    return !r.empty() && (::fnmatch(p.c_str(), row.repo.c_str(), 0) == 0 ||
                                          ::fnmatch(p.c_str(), (row.repo + ":" + row.tag).c_str(), 0) == 0);
                }))
                continue;
            rows.push_back(row);
        }
    }
    if (quiet) {
        std::string last;
        for (const auto& r : rows)
            if (r.id != last) printf("%s\n", (last = r.id).c_str());
        return 0;
    }
    auto cells = [digests](const Row& r) {
        std::vector<std::string> c = {r.repo, r.tag};
        if (digests) c.push_back(r.digest);
        c.insert(c.end(), {r.id, r.created, r.size});
        return c;
    };
    std::vector<std::vector<std::string>> table = {cells({"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"})};
    for (const Row& r : rows) table.push_back(cells(r));
    render::print_table(table);
    return 0;
}

// A layer blob's tar, uncompressed (docker-archive holds plain tars).
std::string decompressed(const std::string& blob) {
    const ArchiveApi& la = archive_api();
    std::unique_ptr<struct archive, int (*)(struct archive*)> a(la.read_new(), la.read_free);
    la.read_support_filter_all(a.get());
    la.read_support_format_raw(a.get());
    struct archive_entry* e;
    if (la.read_open_filename(a.get(), blob.c_str(), 1 << 16) != ARCHIVE_OK ||
        la.read_next_header(a.get(), &e) != ARCHIVE_OK)
        throw Error("read " + blob, la.error_string(a.get()) ? la.error_string(a.get()) : "unreadable");
    std::string out;
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = la.read_data(a.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    if (n < 0) throw Error("read " + blob, la.error_string(a.get()));
    return out;
}

// docker-archive, as `docker save` writes it and `docker load` / `podman load`
// read it: manifest.json, each config as <hex>.json, each layer as an
// uncompressed tar <diffID hex>/layer.tar.
int cmd_save(const std::vector<std::string>& names, const std::string& output) {
    const ArchiveApi& la = archive_api();
    if (output.empty() && isatty(STDOUT_FILENO))
        throw Error("save", "refusing to write an archive to a terminal: use -o FILE or redirect stdout");
    ImageStore store(state_root());
    struct Item { StoredImage image; std::vector<std::string> tags; };
    std::vector<Item> items;
    for (const auto& n : names) {
        StoredImage img = store.find(n);
        std::vector<std::string> tags;
        try {
            ImageRef ref = parse_ref(n);
            if (std::find(img.refs.begin(), img.refs.end(), ref.full()) != img.refs.end()) tags.push_back(ref.familiar());
        } catch (const Error&) {
        }
        if (tags.empty())
            for (const auto& r : img.refs) tags.push_back(parse_ref(r).familiar());
        items.push_back({img, tags});
    }
    std::unique_ptr<struct archive, int (*)(struct archive*)> out(la.write_new(), la.write_free);
    la.write_set_format_pax_restricted(out.get());
    std::string tmp_out = output.empty() ? "" : output + ".tmp-" + random_hex(6);
    struct RemovePartial {  // a save that fails half-way leaves no partial archive
        std::string path;
        ~RemovePartial() {
            if (!path.empty()) ::unlink(path.c_str());
        }
    } partial{tmp_out};
    if ((output.empty() ? la.write_open_fd(out.get(), STDOUT_FILENO)
                        : la.write_open_filename(out.get(), tmp_out.c_str())) != ARCHIVE_OK)
        throw Error("save", la.error_string(out.get()));
    auto add = [&](const std::string& name, const std::string& data) {
        std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> e(la.entry_new(), la.entry_free);
        la.entry_set_pathname(e.get(), name.c_str());
        la.entry_set_filetype(e.get(), name.back() == '/' ? AE_IFDIR : AE_IFREG);
        la.entry_set_perm(e.get(), name.back() == '/' ? 0755 : 0644);
        la.entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
        la.entry_set_mtime(e.get(), 0, 0);
        if (la.write_header(out.get(), e.get()) != ARCHIVE_OK) throw Error("save", la.error_string(out.get()));
        if (!data.empty() && la.write_data(out.get(), data.data(), data.size()) < 0)
            throw Error("save", la.error_string(out.get()));
    };
    BlobStore blobs(store.blobs_dir());
    json manifest = json::array();
    std::set<std::string> written;
    std::int64_t total = 0, done = 0;
    for (const auto& item : items)
        for (const auto& d : manifest_layers(json::parse(blobs.read(item.image.manifest_digest)))) total += d.size;
    // The archive may be on stdout: the bar goes to stderr (drawn only on a terminal).
    Progress progress(names.size() == 1 ? short_id(items.front().image.id) : "images", total, "Saving layers", stderr);
    for (const auto& item : items) {
        json m = json::parse(blobs.read(item.image.manifest_digest));
        std::string config_name = item.image.id.substr(7) + ".json";
        if (written.insert(config_name).second) add(config_name, blobs.read(item.image.id));
        json layers = json::array();
        auto diff_ids = item.image.config["rootfs"]["diff_ids"];
        auto descs = manifest_layers(m);
        for (size_t i = 0; i < descs.size(); ++i) {
            std::string dir = digest_hex(diff_ids.at(i)) + "/";
            if (written.insert(dir).second) {
                add(dir, "");
                add(dir + "layer.tar", decompressed(blobs.path(descs[i].digest)));
            }
            progress.update(done += descs[i].size);
            layers.push_back(dir + "layer.tar");
        }
        manifest.push_back({{"Config", config_name}, {"RepoTags", item.tags}, {"Layers", layers}});
    }
    add("manifest.json", manifest.dump());
    progress.finish();
    if (la.write_close(out.get()) != ARCHIVE_OK) throw Error("save", la.error_string(out.get()));
    if (!output.empty() && ::rename(tmp_out.c_str(), output.c_str()) != 0) throw_errno("save " + output, errno);
    return 0;
}

int cmd_history(const std::string& name, bool quiet, bool no_trunc) {
    StoredImage img = ImageStore(state_root()).find(name);
    std::vector<std::int64_t> sizes;
    for (const auto& d : img.config["rootfs"]["diff_ids"]) {
        auto meta = try_read_file(state_root() + "/layers/" + digest_hex(d) + ".json");
        sizes.push_back(meta ? json::parse(*meta).value("size", std::int64_t{0}) : 0);
    }
    json history = img.config.value("history", json::array());
    size_t layer = sizes.size();
    std::vector<std::vector<std::string>> rows = {{"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"}};
    for (auto it = history.rbegin(); it != history.rend(); ++it) {  // newest first, as docker
        bool empty = it->value("empty_layer", false);
        std::int64_t size = !empty && layer > 0 ? sizes[--layer] : 0;
        std::string id = it == history.rbegin() ? short_id(img.id) : "<missing>";
        if (quiet) {
            printf("%s\n", id.c_str());
            continue;
        }
        std::string by = it->value("created_by", "");
        if (!no_trunc) by = render::ellipsis(by, 45);
        rows.push_back({id, ago(it->value("created", "")), by, human_size(size), it->value("comment", "")});
    }
    if (!quiet) render::print_table(rows);
    return 0;
}

int cmd_inspect(const std::vector<std::string>& names, const std::string& format) {
    ImageStore store(state_root());
    std::vector<json> found;
    int status = cli::for_each(names, [&](const std::string& n) {
        json j = inspect_json(store.find(n));
        if (!format.empty()) render::format(format, j);  // a bad template fails this one
        found.push_back(j);
    });
    render::print_inspect(found, format);
    return status;
}

std::vector<std::function<void(std::vector<DiskUsage>&)>>& disk_usage_fillers() {
    static std::vector<std::function<void(std::vector<DiskUsage>&)>> all;
    return all;
}

// Images as `system df` counts them: each layer once, however many images
// share it; reclaimable is what no image in use (chapter 4) holds.
DiskUsage image_usage() {
    ImageStore store(state_root());
    DiskUsage u{"Images"};
    std::map<std::string, std::int64_t> layer_size;
    std::set<std::string> held;
    for (const auto& img : store.list()) {
        ++u.total;
        bool used = !user_of("image", img.id).empty();
        u.active += used;
        for (const auto& d : img.config["rootfs"]["diff_ids"]) {
            std::string id = d.get<std::string>();
            if (!layer_size.count(id)) {
                auto meta = try_read_file(state_root() + "/layers/" + digest_hex(id) + ".json");
                layer_size[id] = meta ? json::parse(*meta).value("size", std::int64_t{0}) : 0;
            }
            if (used) held.insert(id);
        }
    }
    for (const auto& [id, size] : layer_size) {
        u.size += size;
        if (!held.count(id)) u.reclaimable += size;
    }
    return u;
}

int cmd_system_df(const std::string& format) {
    std::vector<DiskUsage> rows = {image_usage()};
    for (const auto& fill : disk_usage_fillers()) fill(rows);
    if (std::none_of(rows.begin(), rows.end(), [](const DiskUsage& u) { return u.type == "Build Cache"; }))
        rows.push_back({"Build Cache", 0, 0, 0, 0, false});  // until a build stage keeps one
    std::vector<json> items;
    for (const auto& u : rows) {
        std::string reclaimable = human_size(u.reclaimable, 4);
        if (u.percent && u.size > 0) reclaimable += " (" + std::to_string(u.reclaimable * 100 / u.size) + "%)";
        items.push_back({{"Type", u.type},
                         {"TotalCount", std::to_string(u.total)},
                         {"Active", std::to_string(u.active)},
                         {"Size", human_size(u.size, 4)},
                         {"Reclaimable", reclaimable}});
    }
    render::print_list(format.empty() ? "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
                                      : format,
                       items, {{"TotalCount", "TOTAL"}});
    return 0;
}

}  // namespace

void add_disk_usage_filler(std::function<void(std::vector<DiskUsage>&)> fill) {
    disk_usage_fillers().push_back(std::move(fill));
}

Labels image_labels(const StoredImage& image) {
    json labels = image.config.value("config", json::object()).value("Labels", json::object());
    Labels out;
    if (labels.is_object())
        for (const auto& [k, v] : labels.items())
            if (v.is_string()) out[k] = v.get<std::string>();
    return out;
}

PruneResult prune_images(bool all, const Filters& filters) {
    ImageStore store(state_root());
    PruneResult result;
    for (const auto& img : store.list()) {
        bool dangling = img.refs.empty();
        if ((!dangling && !all) || !image_matches(img, filters)) continue;
        if (!user_of("image", img.id).empty()) continue;  // chapter 4: in use
        std::vector<std::string> lines;
        if (dangling) {
            lines = store.remove(img.id, false);
        } else {
            for (const auto& ref : img.refs)  // the last name takes the image with it
                for (auto& l : store.remove(ref, false)) lines.push_back(l);
        }
        for (auto& l : lines) {
            if (l == "Deleted: " + img.id) result.reclaimed += img.size;
            l[0] = static_cast<char>(tolower(static_cast<unsigned char>(l[0])));  // docker's prune says "deleted:"
            result.lines.push_back(l);
        }
    }
    return result;
}

void print_pruned(const PruneResult& r) {
    if (!r.lines.empty()) {
        printf("Deleted Images:\n");
        for (const auto& l : r.lines) printf("%s\n", l.c_str());
        printf("\n");
    }
    printf("Total reclaimed space: %s\n", human_size(r.reclaimed).c_str());
}

json inspect_json(const StoredImage& img) {
    json tags = json::array(), digests = json::array();
    for (const auto& r : img.refs) {
        ImageRef ref = parse_ref(r);
        tags.push_back(ref.familiar());
        digests.push_back(ref.repository() + "@" + img.manifest_digest);
    }
    return {{"Id", img.id},
            {"RepoTags", tags},
            {"RepoDigests", digests},
            {"Created", img.config.value("created", "")},
            {"Author", img.config.value("author", "")},
            {"Comment", img.config.value("comment", "")},
            {"Architecture", img.config.value("architecture", "")},
            {"Os", img.config.value("os", "")},
            {"Config", img.config.value("config", json::object())},
            {"Size", img.size},
            {"RootFS", {{"Type", "layers"}, {"Layers", img.config.value("rootfs", json::object()).value("diff_ids", json::array())}}},
            {"Metadata", {{"LastTagTime", ""}}}};
}

void register_commands() {
    register_run_image();
    register_registry_commands();
    register_info_command();

    cli::define("import", "Import the contents from a tarball to create a filesystem image", [](CLI::App& c) -> cli::Action {
        struct Import { std::string file, ref, message; std::vector<std::string> changes; };
        auto imp = std::make_shared<Import>();
        c.add_option("FILE", imp->file, "A tar archive of a root filesystem: a file, - for stdin, or a URL")->required();
        c.add_option("REPOSITORY", imp->ref, "Name[:TAG] of the new image");
        c.add_option("-c,--change", imp->changes, "Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)")
            ->allow_extra_args(false);
        c.add_option("-m,--message", imp->message, "Set the commit message of the image's history");
        return [imp] { return cmd_import(imp->file, imp->ref, imp->changes, imp->message); };
    });

    cli::define("load", "Load an image from a tar archive (docker save's format) or STDIN", [](CLI::App& c) -> cli::Action {
        struct Load { std::string input = "-"; bool quiet = false; };
        auto load = std::make_shared<Load>();
        c.add_option("-i,--input", load->input, "Read from a tar archive file, instead of STDIN");
        c.add_flag("-q,--quiet", load->quiet, "Suppress the load output");
        return [load] { return cmd_load(load->input, load->quiet); };
    });

    cli::define("images", "List images", [](CLI::App& c) -> cli::Action {
        struct Images {
            bool quiet = false, digests = false, all = false, no_trunc = false;
            std::string filter;
            std::vector<std::string> filters;
        };
        auto images = std::make_shared<Images>();
        c.add_flag("-q,--quiet", images->quiet, "Only show image IDs");
        c.add_flag("--digests", images->digests, "Show digests");
        c.add_flag("--no-trunc", images->no_trunc, "Don't truncate output (full image IDs)");
        c.add_flag("-a,--all", images->all, "Show all images (box keeps no intermediate images yet)");
        c.add_option("REPOSITORY", images->filter, "Only images of this repository[:tag]");
        c.add_option("-f,--filter", images->filters, "Filter output: dangling=true|false, label=KEY[=VALUE], reference=PATTERN")
            ->allow_extra_args(false);
        return [images] {
            return cmd_images(images->quiet, images->digests, images->no_trunc, images->filter, images->filters);
        };
    });

    cli::define("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", [](CLI::App& c) -> cli::Action {
        auto tag = std::make_shared<std::pair<std::string, std::string>>();
        c.add_option("SOURCE_IMAGE", tag->first, "Image name, id or id prefix")->required();
        c.add_option("TARGET_IMAGE", tag->second, "New name[:tag]")->required();
        return [tag] {
            ImageStore(state_root()).tag(tag->first, tag->second);
            return 0;
        };
    });

    cli::define("rmi", "Remove one or more images", [](CLI::App& c) -> cli::Action {
        struct Rmi { std::vector<std::string> images; bool force = false; };
        auto rmi = std::make_shared<Rmi>();
        c.add_option("IMAGE", rmi->images, "Image names or ids")->required();
        c.add_flag("-f,--force", rmi->force, "Force removal of the image");
        return [rmi] {
            ImageStore store(state_root());
            int status = 0;
            for (const auto& image : rmi->images) {
                try {
                    for (const auto& line : store.remove(image, rmi->force)) printf("%s\n", line.c_str());
                } catch (const Error& e) {  // docker goes on with the others, then fails
                    fprintf(stderr, "box: %s\n", e.what());
                    status = 1;
                }
            }
            return status;
        };
    });

    cli::define("save", "Save one or more images to a tar archive (streamed to STDOUT by default)", [](CLI::App& c) -> cli::Action {
        struct Save { std::vector<std::string> images; std::string output; };
        auto save = std::make_shared<Save>();
        c.add_option("IMAGE", save->images, "Images to save")->required();
        c.add_option("-o,--output", save->output, "Write to a file, instead of STDOUT");
        return [save] { return cmd_save(save->images, save->output); };
    });

    cli::define("history", "Show the history of an image", [](CLI::App& c) -> cli::Action {
        struct History { std::string image; bool quiet = false, no_trunc = false; };
        auto history = std::make_shared<History>();
        c.add_option("IMAGE", history->image, "Image name or id")->required();
        c.add_flag("-q,--quiet", history->quiet, "Only show image IDs");
        c.add_flag("--no-trunc", history->no_trunc, "Don't truncate output");
        return [history] { return cmd_history(history->image, history->quiet, history->no_trunc); };
    });

    cli::define_group("image", "Manage images");
    cli::define("system df", "Show box disk usage", [](CLI::App& c) -> cli::Action {
        auto format = std::make_shared<std::string>();
        c.add_option("--format", *format, "Format output using a template ({{.Type}} {{.Size}} {{.Reclaimable}})");
        return [format] { return cmd_system_df(*format); };
    });
    cli::define("image prune", "Remove unused images", [](CLI::App& c) -> cli::Action {
        struct Prune { bool all = false, force = false; std::vector<std::string> filters; };
        auto f = std::make_shared<Prune>();
        c.add_flag("-a,--all", f->all, "Remove all unused images, not just dangling ones");
        c.add_flag("-f,--force", f->force, "Do not prompt for confirmation");
        c.add_option("--filter", f->filters, "Provide filter values: label=KEY[=VALUE], label!=KEY[=VALUE]")->allow_extra_args(false);
        return [f] {
            Filters filters = Filters::parse(f->filters, {"label", "label!"});
            if (!f->force &&
                !cli::confirm(f->all ? "WARNING! This will remove all images without at least one container associated to them.\n"
                                       "Are you sure you want to continue?"
                                     : "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"))
                return 0;
            print_pruned(prune_images(f->all, filters));
            return 0;
        };
    });
    // docker's management commands: the same commands under `image`.
    for (auto [alias, target] : {std::pair{"image ls", "images"}, {"image rm", "rmi"}, {"image pull", "pull"},
                                 {"image push", "push"}, {"image tag", "tag"}, {"image history", "history"},
                                 {"image save", "save"}, {"image load", "load"}, {"image import", "import"}})
        cli::alias(alias, target);
    cli::define("image inspect", "Display detailed information on one or more images", [](CLI::App& c) -> cli::Action {
        struct Inspect { std::vector<std::string> images; std::string format; };
        auto f = std::make_shared<Inspect>();
        c.add_option("IMAGE", f->images, "Image names or ids")->required();
        c.add_option("-f,--format", f->format, "Format the output using a template ({{.Config.Cmd}})");
        return [f] { return cmd_inspect(f->images, f->format); };
    });
}

}  // namespace box::stage3
