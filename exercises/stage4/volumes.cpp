// Chapter 4: volumes (数据卷) — host directories mounted into a container:
// `-v /host/dir:/path[:ro]` (a bind mount), `-v name:/path` (a named volume,
// STATE/volumes/NAME/_data, kept until `box volume rm`), `-v /path` and the
// image's VOLUMEs (anonymous volumes, named by 64 hex digits). Volumes are
// records of lib's RecordStore keyed by name (STATE/volumes/NAME/volume.json).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <memory>

#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/fd.hpp"
#include "box/file_lock.hpp"
#include "box/filters.hpp"
#include "box/render.hpp"
#include "box/sys.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "volumes.hpp"

namespace fs = std::filesystem;

namespace box::stage4 {
namespace {

RecordStore volume_records() { return RecordStore::by_name("volume", state_root() + "/volumes", "volume.json"); }

json new_record(const Labels& labels) { return {{"CreatedAt", now_rfc3339()}, {"Labels", labels}}; }

// What a killed box left: a create's empty directory goes, a remove's is
// finished; a volume's files whose record is lost are a volume again.
void repair_volumes() {
    volume_records().repair([](const std::string&) { return new_record({}); });
}

}  // namespace

Fd make_dirs_in_root(const std::string& root, const std::string& path) {
    Fd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) throw_errno("open " + root, errno);
    Fd dir(::fcntl(root_fd.get(), F_DUPFD_CLOEXEC, 0));
    std::string done;
    for (const auto& part : split(path, '/')) {
        if (part.empty() || part == ".") continue;
        done += "/" + part;
        ::mkdirat(dir.get(), part.c_str(), 0755);  // EEXIST is fine; the open below judges
        Fd next = open_in_root(root_fd.get(), done, O_PATH | O_DIRECTORY);
        if (!next) throw_errno("volume target " + path + " in the container", errno);
        dir = std::move(next);
    }
    return dir;
}

namespace {

// The file `path` of the container's root as an O_PATH descriptor, made
// (empty) if missing: a bind mount of a host file needs a file to cover
// (docker's -v ./nginx.conf:/etc/nginx/nginx.conf). Symlinks are followed
// inside the root, as for a directory (an image's /etc/localtime is one).
// Opened read-only, so that an image's file is not copied up to be covered.
Fd make_file_in_root(const std::string& root, const std::string& path) {
    make_dirs_in_root(root, path.substr(0, path.find_last_of('/')));
    Fd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) throw_errno("open " + root, errno);
    if (!open_in_root(root_fd.get(), path, O_CREAT | O_RDONLY, 0644))
        throw_errno("volume target " + path + " in the container (a file, as its source)", errno);
    Fd file = open_in_root(root_fd.get(), path, O_PATH);
    if (!file) throw_errno("volume target " + path + " in the container", errno);
    return file;
}

// The container's volumes, mounted in its mount namespace after its root
// (chapter 3's overlay) and before the pivot; they vanish with it.
class VolumeExtension : public ContainerExtension {
public:
    explicit VolumeExtension(const ContainerSpec& spec) : rootfs_(spec.rootfs), mounts_(spec.mounts) {}
    void in_child_before_rootfs() override {
        for (const auto& m : mounts_) {
            if (m.type == "tmpfs") {  // --mount type=tmpfs: a new one, as --tmpfs (chapter 5) makes
                Fd target = make_dirs_in_root(rootfs_, m.destination);
                unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (m.readonly ? MS_RDONLY : 0);
                sys::mount("tmpfs", "/proc/self/fd/" + std::to_string(target.get()), "tmpfs", flags,
                           m.options.empty() ? nullptr : m.options.c_str());
                continue;
            }
            bool file = !is_directory(m.source);  // a host file onto a file
            auto target_of = [&] { return file ? make_file_in_root(rootfs_, m.destination) : make_dirs_in_root(rootfs_, m.destination); };
            Fd target = target_of();
            std::string at = "/proc/self/fd/" + std::to_string(target.get());
            sys::mount(m.source.c_str(), at, nullptr, MS_BIND | MS_REC);
            if (m.readonly) {
                // A bind mount is made read-only by remounting it: at the new
                // mount itself, opened anew (`target` is what is below it).
                Fd mounted = target_of();
                sys::mount(m.source.c_str(), "/proc/self/fd/" + std::to_string(mounted.get()), nullptr,
                           MS_BIND | MS_REMOUNT | MS_RDONLY);
            }
        }
    }

private:
    std::string rootfs_;
    std::vector<VolumeMount> mounts_;
};

}  // namespace

void check_volume_name(const std::string& name) {
    static const std::regex valid("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
    if (!std::regex_match(name, valid))
        throw Error("invalid volume name \"" + name + "\"", "use [a-zA-Z0-9][a-zA-Z0-9_.-] (at least two characters)");
}

std::string volume_path(const std::string& name) { return volume_records().path(name) + "/_data"; }

std::string create_volume(const std::string& name, const Labels& labels) {
    check_volume_name(name);
    RecordStore records = volume_records();
    FileLock lock = records.lock();
    if (!records.id_of_name(name).empty()) return name;  // an existing volume is kept as it is, as docker's
    make_dirs(volume_path(name));
    records.create(name, name, new_record(labels), true);  // the record last: now it exists
    return name;
}

std::vector<std::string> list_volumes() {
    std::vector<std::string> out = volume_records().ids();
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<json> list_volumes(const Filters& f) {
    f.check_values("dangling", {"true", "false", "1", "0"});
    repair_volumes();
    bool dangling_wanted = f.has("dangling") && (f.values("dangling").back() == "true" || f.values("dangling").back() == "1");
    std::vector<json> out;
    for (const auto& name : list_volumes()) {
        json v = inspect_volume(name);
        Labels labels = v["Labels"].get<Labels>();
        if (f.has("dangling") && volume_users(name).empty() != dangling_wanted) continue;
        if (!f.any("name", [&](const std::string& n) { return name.find(n) != std::string::npos; }) ||
            !f.any("driver", [](const std::string& d) { return d == "local"; }) || !f.match_labels(labels))
            continue;
        out.push_back(std::move(v));
    }
    return out;
}

std::vector<std::string> prune_volumes(const Filters& f) {
    repair_volumes();
    std::vector<std::string> removed;
    for (const auto& name : list_volumes()) {
        if (!volume_users(name).empty()) continue;
        if (!f.match_labels(inspect_volume(name)["Labels"].get<Labels>())) continue;
        remove_volume(name);
        removed.push_back(name);
    }
    return removed;
}

json inspect_volume(const std::string& name) {
    RecordStore records = volume_records();
    records.find(name, "see 'box volume ls'");
    json meta = json::object();
    try {
        meta = records.read(name);
    } catch (const Error&) {  // not JSON: the volume still is, without its labels
    }
    if (!meta.is_object()) meta = json::object();
    json labels = meta.value("Labels", json::object());
    return {{"CreatedAt", meta.value("CreatedAt", "")},
            {"Driver", "local"},
            {"Labels", labels.is_object() ? labels : json::object()},
            {"Mountpoint", volume_path(name)},
            {"Name", name},
            {"Options", json::object()},
            {"Scope", "local"}};
}

void remove_volume(const std::string& name) {
    RecordStore records = volume_records();
    FileLock lock = records.lock();
    records.find(name, "see 'box volume ls'");
    records.remove(name, name);
}

VolumeMount parse_volume(const std::string& text) {
    auto parts = split(text, ':');
    VolumeMount m;
    if (parts.size() == 1) parts = {"", parts[0]};  // `-v /path`: an anonymous volume
    if (parts.size() == 3) {
        if (parts[2] != "ro" && parts[2] != "rw")
            throw Error("invalid volume specification: '" + text + "'", "the mode is ro or rw");
        m.readonly = parts[2] == "ro";
    } else if (parts.size() != 2) {
        throw Error("invalid volume specification: '" + text + "'", "use SOURCE:/path[:ro], NAME:/path or /path");
    }
    m.destination = parts[1];
    if (m.destination.empty() || m.destination[0] != '/' || m.destination == "/")
        throw Error("invalid volume specification: '" + text + "'", "the container path must be absolute and not /");
    for (const auto& part : split(m.destination, '/'))
        if (part == "..") throw Error("invalid volume specification: '" + text + "'", "\"..\" in the container path");
    const std::string& source = parts[0];
    if (!source.empty() && source[0] == '/') {  // a host directory, made if missing (see create_volumes)
        m.type = "bind";
        m.source = fs::path(source).lexically_normal().string();
    } else {
        m.type = "volume";
        m.name = source.empty() ? random_hex(64) : source;
    }
    return m;
}

RequestMount parse_mount(const std::string& text) {
    auto bad = [&](const std::string& why) { return Error("invalid argument \"" + text + "\" for \"--mount\" flag", why); };
    RequestMount m;
    bool volume_opts = false, bind_opts = false, tmpfs_opts = false;
    auto boolean = [&](const std::string& key, const std::string& value, bool given) {
        if (!given || value == "true" || value == "1") return true;
        if (value == "false" || value == "0") return false;
        throw bad("invalid value for " + key + ": " + value);
    };
    for (const auto& field : split(text, ',')) {
        size_t eq = field.find('=');
        std::string key = to_lower(field.substr(0, eq)), value = eq == std::string::npos ? "" : field.substr(eq + 1);
        bool given = eq != std::string::npos;
        if (!given && key != "readonly" && key != "ro" && key != "volume-nocopy" && key != "bind-nonrecursive")
            throw bad("invalid field '" + field + "' must be a key=value pair");
        if (key == "type") m.Type = to_lower(value);
        else if (key == "source" || key == "src") m.Source = value;
        else if (key == "target" || key == "dst" || key == "destination") m.Target = value;
        else if (key == "readonly" || key == "ro") m.ReadOnly = boolean(key, value, given);
        else if (key == "consistency") {  // a macOS option: nothing to do here, as on docker's Linux
        } else if (key == "bind-propagation" || key == "bind-nonrecursive") bind_opts = true;
        else if (key == "volume-nocopy") m.VolumeOptions.NoCopy = boolean(key, value, given), volume_opts = true;
        else if (key == "volume-label" || key == "volume-driver" || key == "volume-opt") volume_opts = true;
        else if (key == "tmpfs-size") m.TmpfsOptions.SizeBytes = parse_bytes(value, "tmpfs-size"), tmpfs_opts = true;
        else if (key == "tmpfs-mode") {
            if (value.empty() || value.size() > 5 || value.find_first_not_of("01234567") != std::string::npos)
                throw bad("invalid value for tmpfs-mode: " + value);
            unsigned long mode = std::stoul(value, nullptr, 8);
            if (mode > 07777) throw bad("invalid value for tmpfs-mode: " + value);
            m.TmpfsOptions.Mode = static_cast<std::uint32_t>(mode);
            tmpfs_opts = true;
        } else {
            throw bad("unexpected key '" + key + "' in '" + field + "'");
        }
    }
    if (m.Target.empty()) throw bad("target is required");
    if (volume_opts && m.Type != "volume") throw bad("cannot mix 'volume-*' options with mount type '" + m.Type + "'");
    if (bind_opts && m.Type != "bind") throw bad("cannot mix 'bind-*' options with mount type '" + m.Type + "'");
    if (tmpfs_opts && m.Type != "tmpfs") throw bad("cannot mix 'tmpfs-*' options with mount type '" + m.Type + "'");
    return m;
}

namespace {

// One of HostConfig.Mounts as the spec's mount, with docker's daemon's checks.
VolumeMount mount_of(const RequestMount& r) {
    std::string config = "invalid mount config for type \"" + r.Type + "\"";
    if (r.Target.empty() || r.Target[0] != '/')
        throw Error(config, "invalid mount path: '" + r.Target + "' mount path must be absolute");
    if (r.Target == "/") throw Error(config, "invalid specification: destination can't be '/'");
    VolumeMount m;
    m.type = r.Type;
    m.destination = fs::path(r.Target).lexically_normal().string();
    m.readonly = r.ReadOnly;
    if (r.Type == "bind") {
        if (r.Source.empty()) throw Error(config, "field Source must not be empty");
        if (r.Source[0] != '/') throw Error(config, "invalid mount path: '" + r.Source + "' mount path must be absolute");
        if (!exists(r.Source)) throw Error(config, "bind source path does not exist: " + r.Source);  // -v makes it; --mount does not
        m.source = fs::path(r.Source).lexically_normal().string();
    } else if (r.Type == "volume") {
        m.name = r.Source.empty() ? random_hex(64) : r.Source;
    } else if (r.Type == "tmpfs") {
        if (!r.Source.empty()) throw Error(config, "field Source must not be specified");
        std::vector<std::string> options;
        if (r.TmpfsOptions.SizeBytes > 0) options.push_back("size=" + std::to_string(r.TmpfsOptions.SizeBytes));
        if (r.TmpfsOptions.Mode) {
            char mode[32];
            snprintf(mode, sizeof mode, "mode=%o", r.TmpfsOptions.Mode);
            options.push_back(mode);
        }
        m.options = join(options, ",");
    } else {
        throw Error(config, "mount type unknown");
    }
    return m;
}

// --volumes-from NAME[:ro|rw]: every mount of container NAME, read-only with :ro.
std::vector<VolumeMount> mounts_from(const std::string& text) {
    size_t colon = text.rfind(':');
    std::string name = text, mode;
    if (colon != std::string::npos) name = text.substr(0, colon), mode = text.substr(colon + 1);
    if (!mode.empty() && mode != "ro" && mode != "rw") throw Error("invalid mode: " + mode, "--volumes-from takes CONTAINER[:ro|rw]");
    std::vector<VolumeMount> out = ContainerStore(state_root()).find(name).spec.mounts;
    if (!mode.empty())
        for (auto& m : out) m.readonly = mode == "ro";
    return out;
}

}  // namespace

void fill_volumes(ContainerSpec& spec, const RequestHostConfig& host, const json& image_volumes) {
    // Another container's first, as docker's: a -v or --mount at the same path replaces one.
    for (const auto& from : host.VolumesFrom)
        for (const auto& m : mounts_from(from)) {
            std::erase_if(spec.mounts, [&](const VolumeMount& x) { return x.destination == m.destination; });
            spec.mounts.push_back(m);
        }
    std::vector<VolumeMount> own;
    for (const auto& f : host.Binds) own.push_back(parse_volume(f));
    for (const auto& m : host.Mounts) own.push_back(mount_of(m));
    for (size_t i = 0; i < own.size(); ++i)
        for (size_t k = 0; k < i; ++k)
            if (own[i].destination == own[k].destination)
                throw Error("Duplicate mount point: " + own[i].destination, "each path in the container takes one mount");
    for (const auto& m : own) {
        std::erase_if(spec.mounts, [&](const VolumeMount& x) { return x.destination == m.destination; });
        spec.mounts.push_back(m);
    }
    // The image's VOLUMEs that no -v covers get an anonymous volume each.
    if (image_volumes.is_object())
        for (const auto& [path, unused] : image_volumes.items()) {
            bool covered = std::any_of(spec.mounts.begin(), spec.mounts.end(),
                                       [&](const VolumeMount& m) { return m.destination == path; });
            if (!covered) spec.mounts.push_back(parse_volume(path));
        }
    for (auto& m : spec.mounts)
        if (m.type == "volume") {
            check_volume_name(m.name);
            m.source = volume_path(m.name);  // made by create_volumes(), once the container is recorded
        }
}

void create_volumes(const ContainerSpec& spec) {
    for (const auto& m : spec.mounts) {
        if (m.type == "volume") create_volume(m.name);  // (one of --volumes-from's is there: kept as it is)
        if (m.type == "bind" && !exists(m.source)) make_dirs(m.source);  // as docker does for -v /missing:/path
    }
}

std::vector<std::string> volume_users(const std::string& name) {
    std::vector<std::string> ids;
    for (const auto& c : ContainerStore(state_root()).list())
        for (const auto& m : c.spec.mounts)
            if (m.type == "volume" && m.name == name) ids.push_back(c.id);
    return ids;
}

bool is_anonymous_volume(const std::string& name) {
    static const std::regex anonymous("[0-9a-f]{64}");
    return std::regex_match(name, anonymous);
}

void remove_anonymous_volumes(const Container& c) {
    for (const auto& m : c.spec.mounts)
        if (m.type == "volume" && is_anonymous_volume(m.name) && volume_users(m.name).empty() &&
            is_directory(volume_path(m.name)))
            remove_volume(m.name);
}

void add_volume_extension() {
    // In the Mounts phase: on the root filesystem chapter 3's overlay (RootFs) made.
    add_extension("volumes", ExtensionPhase::Mounts, [](const ExtensionContext& ctx) -> std::unique_ptr<ContainerExtension> {
        if (ctx.spec.mounts.empty()) return nullptr;
        return std::make_unique<VolumeExtension>(ctx.spec);
    });
}

void register_volume_commands() {
    cli::define_group("volume", "Manage volumes");
    cli::define("volume create", "Create a volume", [](CLI::App& c) -> cli::Action {
        auto name = std::make_shared<std::string>();
        auto labels = std::make_shared<std::vector<std::string>>();
        c.add_option("VOLUME", *name, "Name (default: a random one)");
        c.add_option("--label", *labels, "Set metadata for a volume: KEY=VALUE")->allow_extra_args(false);
        return [name, labels] {
            Labels parsed = parse_labels(*labels, {}, true);
            printf("%s\n", create_volume(name->empty() ? random_hex(64) : *name, parsed).c_str());
            return 0;
        };
    });
    cli::define("volume ls", "List volumes", [](CLI::App& c) -> cli::Action {
        struct Ls { bool quiet = false; std::vector<std::string> filters; std::string format; };
        auto f = std::make_shared<Ls>();
        c.add_flag("-q,--quiet", f->quiet, "Only display volume names");
        c.add_option("-f,--filter", f->filters, "Filter output: name=, label=KEY[=VALUE], dangling=true|false, driver=local")
            ->allow_extra_args(false);
        c.add_option("--format", f->format, "Format output using a template: '{{.Name}} {{.Labels}}'");
        return [f] {
            std::vector<json> rows;
            for (const auto& v : list_volumes(Filters::parse(f->filters, {"name", "label", "dangling", "driver"})))
                rows.push_back({{"Driver", v["Driver"]}, {"Name", v["Name"]}, {"Mountpoint", v["Mountpoint"]},
                                {"Scope", "local"}, {"Labels", labels_text(v["Labels"].get<Labels>())}, {"_Label", v["Labels"]}});
            std::string format = f->quiet ? "{{.Name}}" : f->format.empty() ? "table {{.Driver}}\t{{.Name}}" : f->format;
            render::print_list(format, rows, {{"Name", "VOLUME NAME"}});
            return 0;
        };
    });
    cli::define("volume inspect", "Display detailed information on one or more volumes", [](CLI::App& c) -> cli::Action {
        auto names = std::make_shared<std::vector<std::string>>();
        c.add_option("VOLUME", *names, "Volumes")->required();
        return [names] {
            json all = json::array();
            int status = cli::for_each(*names, [&](const std::string& n) { all.push_back(inspect_volume(n)); });
            printf("%s\n", all.dump(4).c_str());
            return status;
        };
    });
    cli::define("volume rm", "Remove one or more volumes", [](CLI::App& c) -> cli::Action {
        auto names = std::make_shared<std::vector<std::string>>();
        c.add_option("VOLUME", *names, "Volumes")->required();
        return [names] {
            return cli::for_each(*names, [&](const std::string& n) {
                inspect_volume(n);
                auto users = volume_users(n);
                if (!users.empty()) throw Error("remove " + n + ": volume is in use", "[" + users.front() + "]");
                remove_volume(n);
                printf("%s\n", n.c_str());
            });
        };
    });
    cli::define("volume prune", "Remove all volumes no container uses", [](CLI::App& c) -> cli::Action {
        auto force = std::make_shared<bool>(false);
        auto filters = std::make_shared<std::vector<std::string>>();
        c.add_flag("-f,--force", *force, "Do not prompt for confirmation");
        c.add_option("--filter", *filters, "Provide filter values: label=KEY[=VALUE], label!=KEY[=VALUE]")->allow_extra_args(false);
        return [force, filters] {
            Filters f = Filters::parse(*filters, {"label", "label!"});
            if (!*force && !cli::confirm("WARNING! This will remove all local volumes not used by at least one container.\n"
                                         "Are you sure you want to continue?"))
                return 0;
            std::vector<std::string> removed = prune_volumes(f);
            printf("Deleted Volumes:\n");
            for (const auto& n : removed) printf("%s\n", n.c_str());
            printf("\nTotal reclaimed space: 0B\n");
            return 0;
        };
    });
}
}  // namespace box::stage4
