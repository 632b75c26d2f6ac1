// Chapter 3: the image commands — import, load, images, tag, rmi.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

#include "box/cli.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/spec.hpp"
#include "box/unpack.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "stage3.hpp"

namespace fs = std::filesystem;

namespace box::stage3 {
namespace {

std::string trim_copy(const std::string& s) {
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string now_rfc3339() {
    char buf[64];
    time_t t = time(nullptr);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    return buf;
}

// "5 seconds ago", "3 hours ago", as docker prints CREATED.
std::string ago(const std::string& rfc3339) {
    struct tm tm {};
    if (!strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return "N/A";
    double s = difftime(time(nullptr), timegm(&tm));
    auto unit = [](long n, const char* one) {
        return (n == 1 ? std::string(one == std::string("hour") ? "An" : "1") + " " + one
                       : std::to_string(n) + " " + one + "s") + " ago";
    };
    if (s < 1) return "Less than a second ago";
    if (s < 60) return unit(static_cast<long>(s), "second");
    if (s < 3600) return unit(static_cast<long>(s / 60), "minute");
    if (s < 86400 * 2) return unit(static_cast<long>(s / 3600), "hour");
    if (s < 86400 * 14) return unit(static_cast<long>(s / 86400), "day");
    if (s < 86400 * 60) return unit(static_cast<long>(s / 86400 / 7), "week");
    if (s < 86400 * 730) return unit(static_cast<long>(s / 86400 / 30), "month");
    return unit(static_cast<long>(s / 86400 / 365), "year");
}

// A scratch directory under the state root, removed when it goes away.
class ScratchDir {
public:
    ScratchDir() : path_(state_root() + "/tmp/" + random_hex(12)) { make_dirs(path_); }
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

// docker import's --change: CMD, ENTRYPOINT, ENV, WORKDIR, USER.
void apply_change(json& config, const std::string& change) {
    auto space = change.find(' ');
    std::string word = change.substr(0, space), arg = space == std::string::npos ? "" : trim_copy(change.substr(space + 1));
    for (auto& ch : word) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    auto command = [&] {  // exec form ["a","b"] or shell form
        if (!arg.empty() && arg[0] == '[') {
            try {
                return json::parse(arg);
            } catch (const json::exception&) {
                throw Error("--change " + change, "not a JSON array of strings");
            }
        }
        return json::array({"/bin/sh", "-c", arg});
    };
    json& c = config["config"];
    if (word == "CMD") c["Cmd"] = command();
    else if (word == "ENTRYPOINT") c["Entrypoint"] = command();
    else if (word == "ENV") {
        if (arg.find('=') == std::string::npos) {
            auto sp = arg.find(' ');
            if (sp == std::string::npos) throw Error("--change " + change, "ENV needs KEY=VALUE");
            arg = arg.substr(0, sp) + "=" + trim_copy(arg.substr(sp + 1));
        }
        c["Env"].push_back(arg);
    } else if (word == "WORKDIR") c["WorkingDir"] = arg;
    else if (word == "USER") c["User"] = arg;
    else throw Error("--change " + change, "box supports CMD, ENTRYPOINT, ENV, WORKDIR and USER");
}

json new_config(const std::string& created_by, const std::string& comment) {
    json config = {{"architecture", "amd64"},
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
    for (const auto& c : changes) apply_change(config, c);
    ScratchDir scratch;
    std::string input = copy_input(file, scratch.path());
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
        std::string id = store.add_image(layers, config, tags.empty() ? "" : tags.front());
        for (size_t i = 1; i < tags.size(); ++i) store.tag(id, tags[i]);
        if (quiet) continue;
        if (tags.empty()) printf("Loaded image ID: %s\n", id.c_str());
        for (const auto& t : tags) printf("Loaded image: %s\n", parse_ref(t).familiar().c_str());
    }
    return 0;
}

int cmd_images(bool quiet, bool digests, const std::string& filter) {
    ImageStore store(state_root());
    std::string want;
    if (!filter.empty()) want = filter.find(':') == std::string::npos ? parse_ref(filter).repository() : parse_ref(filter).familiar();
    struct Row { std::string repo, tag, digest, id, created, size; };
    std::vector<Row> rows;
    for (const auto& img : store.list()) {
        std::string id = img.id.substr(7, 12);
        std::string created = ago(img.config.value("created", ""));
        std::vector<std::string> refs = img.refs;
        if (refs.empty()) refs.push_back("");
        for (const auto& r : refs) {
            Row row{"<none>", "<none>", "<none>", id, created, format_bytes(img.size)};
            if (!r.empty()) {
                ImageRef ref = parse_ref(r);
                row.repo = ref.repository();
                row.tag = ref.tag;
            }
            row.digest = img.manifest_digest;
            if (!want.empty() && row.repo != want && row.repo + ":" + row.tag != want) continue;
            rows.push_back(row);
        }
    }
    if (quiet) {
        std::string last;
        for (const auto& r : rows)
            if (r.id != last) printf("%s\n", (last = r.id).c_str());
        return 0;
    }
    size_t w_repo = 10, w_tag = 3, w_digest = 6, w_created = 7;
    for (const auto& r : rows) {
        w_repo = std::max(w_repo, r.repo.size());
        w_tag = std::max(w_tag, r.tag.size());
        w_digest = std::max(w_digest, r.digest.size());
        w_created = std::max(w_created, r.created.size());
    }
    auto line = [&](const Row& r) {
        printf("%-*s   %-*s   ", static_cast<int>(w_repo), r.repo.c_str(), static_cast<int>(w_tag), r.tag.c_str());
        if (digests) printf("%-*s   ", static_cast<int>(w_digest), r.digest.c_str());
        printf("%-12s   %-*s   %s\n", r.id.c_str(), static_cast<int>(w_created), r.created.c_str(), r.size.c_str());
    };
    line({"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"});
    for (const auto& r : rows) line(r);
    return 0;
}

}  // namespace

void add_commands(CLI::App& app) {
    add_run_image(app);
    add_registry_commands(app);

    struct Import { std::string file, ref, message; std::vector<std::string> changes; };
    auto imp = std::make_shared<Import>();
    CLI::App* c = cli::add_command(app, "import", "Import the contents from a tarball to create a filesystem image",
                                   [imp] { return cmd_import(imp->file, imp->ref, imp->changes, imp->message); });
    c->add_option("FILE", imp->file, "A tar archive of a root filesystem, or - for stdin")->required();
    c->add_option("REPOSITORY", imp->ref, "Name[:TAG] of the new image");
    c->add_option("-c,--change", imp->changes, "Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER)")
        ->allow_extra_args(false);
    c->add_option("-m,--message", imp->message, "Set the commit message of the image's history");

    struct Load { std::string input = "-"; bool quiet = false; };
    auto load = std::make_shared<Load>();
    c = cli::add_command(app, "load", "Load an image from a tar archive (docker save's format) or STDIN",
                         [load] { return cmd_load(load->input, load->quiet); });
    c->add_option("-i,--input", load->input, "Read from a tar archive file, instead of STDIN");
    c->add_flag("-q,--quiet", load->quiet, "Suppress the load output");

    struct Images { bool quiet = false, digests = false, all = false; std::string filter; };
    auto images = std::make_shared<Images>();
    c = cli::add_command(app, "images", "List images",
                         [images] { return cmd_images(images->quiet, images->digests, images->filter); });
    c->add_flag("-q,--quiet", images->quiet, "Only show image IDs");
    c->add_flag("--digests", images->digests, "Show digests");
    c->add_flag("-a,--all", images->all, "Show all images (box keeps no intermediate images yet)");
    c->add_option("REPOSITORY", images->filter, "Only images of this repository[:tag]");

    auto tag = std::make_shared<std::pair<std::string, std::string>>();
    c = cli::add_command(app, "tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", [tag] {
        ImageStore(state_root()).tag(tag->first, tag->second);
        return 0;
    });
    c->add_option("SOURCE_IMAGE", tag->first, "Image name, id or id prefix")->required();
    c->add_option("TARGET_IMAGE", tag->second, "New name[:tag]")->required();

    struct Rmi { std::vector<std::string> images; bool force = false; };
    auto rmi = std::make_shared<Rmi>();
    c = cli::add_command(app, "rmi", "Remove one or more images", [rmi] {
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
    });
    c->add_option("IMAGE", rmi->images, "Image names or ids")->required();
    c->add_flag("-f,--force", rmi->force, "Force removal of the image");
}

}  // namespace box::stage3
