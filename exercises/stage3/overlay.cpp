// Chapter 3: running a container on its image — an overlay of the image's
// layers with a writable layer of the container's own on top.
#include <sys/mount.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/log.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "stage3.hpp"

namespace fs = std::filesystem;

namespace box::stage3 {

void mount_overlay(const std::vector<std::string>& layers, const std::string& upper, const std::string& work,
                   const std::string& merged) {
    // EXERCISE 1: write mount_overlay() — see chapters/03-images/README.md, exercise 1.
    // Replace the line below with your code.
    box::not_implemented("mount_overlay()", "chapters/03-images", 1);
}

namespace {

// The container's own directories: upper (its writes), work (overlayfs's
// scratch space) and merged (the mount point). Made before the clone,
// removed after the container ended (unless the container is kept, as
// chapter 4's are until `box rm`). The overlay itself is mounted by the
// child, in its own mount namespace, so it vanishes with the container.
class OverlayExtension : public ContainerExtension {
public:
    OverlayExtension(const ContainerSpec& spec, std::string dir)
        : layers_(spec.layers), dir_(std::move(dir)), keep_(spec.keep_rootfs) {
        try {
            for (const char* d : {"upper", "work", "merged"}) make_dirs(dir_ + "/" + d);
        } catch (...) {  // the destructor does not run for a constructor that throws
            std::error_code ec;
            fs::remove_all(dir_, ec);
            throw;
        }
    }
    ~OverlayExtension() override {
        if (keep_) return;
        std::error_code ec;
        fs::remove_all(dir_, ec);
        if (ec) log::warn("could not remove " + dir_ + ": " + ec.message());
    }
    void in_child_before_rootfs() override {
        mount_overlay(layers_, dir_ + "/upper", dir_ + "/work", dir_ + "/merged");
    }

private:
    std::vector<std::string> layers_;
    std::string dir_;
    bool keep_;
};

// `box run IMAGE [CMD...]`: without --rootfs, the first word is the image (a RequestFiller).
void take_image_name(ContainerRequest& r) {
    if (!r.HostConfig.BoxRootfs.empty() || r.Config.Cmd.empty()) return;  // --rootfs DIR, as in chapter 1
    r.Config.Image = r.Config.Cmd.front();
    r.Config.Cmd.erase(r.Config.Cmd.begin());
}

// As docker's client does before it asks for a container: pulls `name` if
// the store lacks it (policy "missing"), every time ("always"), or never.
void pull_if_wanted(const std::string& name, const std::string& policy) {
    if (policy != "missing" && policy != "always" && policy != "never")
        throw Error("invalid pull option: '" + policy + "'", "must be one of \"always\", \"missing\" or \"never\"");
    if (name.empty() || policy == "never") return;
    if (policy == "missing") {
        try {
            ImageStore(state_root()).find(name);
            return;
        } catch (const Error&) {
        }
        fprintf(stderr, "Unable to find image '%s' locally\n", parse_ref(name).familiar().c_str());
    }
    pull_image(name, stderr);
}

// The image's layers and config go into the spec (SpecPhase::Resolve).
void resolve_image(ContainerSpec& spec) {
    if (spec.rootfs_made_later || !spec.rootfs.empty()) return;  // resolved already, or --rootfs DIR
    if (spec.image.empty() && !spec.layers.empty()) {  // a build step's: its request says all the rest
        spec.rootfs = ImageStore(state_root()).containers_dir() + "/" + spec.id + "/merged";
        spec.rootfs_made_later = true;
        return;
    }
    if (spec.image.empty()) throw Error("run", "no image given (usage: box run [OPTIONS] IMAGE [CMD...])");
    std::string name = spec.image;
    ImageStore store(state_root());
    StoredImage image;
    try {
        image = store.find(name);
    } catch (const Error&) {
        std::string shown = name;
        try {
            shown = parse_ref(name).familiar();
        } catch (const Error&) {
            throw;  // a malformed reference says so
        }
        throw Error("Unable to find image '" + shown + "' locally", "no such image in " + state_root());
    }
    spec.image = name;
    spec.layers = store.layer_dirs(image);
    spec.rootfs = store.containers_dir() + "/" + spec.id + "/merged";
    spec.rootfs_made_later = true;

    // The image's config, as docker applies it: the user's CMD replaces Cmd,
    // Entrypoint stays in front; image Env comes before -e; -w and -u win.
    const json& c = image.config.value("config", json::object());
    auto strings = [&](const char* key) {
        std::vector<std::string> out;
        if (c.contains(key) && c[key].is_array())
            for (const auto& s : c[key]) out.push_back(s.get<std::string>());
        return out;
    };
    // --entrypoint replaces the image's Entrypoint and drops its Cmd, as docker's.
    std::vector<std::string> args = spec.entrypoint ? *spec.entrypoint : strings("Entrypoint");
    std::vector<std::string> cmd = spec.args.empty() && !spec.entrypoint ? strings("Cmd") : spec.args;
    args.insert(args.end(), cmd.begin(), cmd.end());
    if (args.empty()) throw Error("run " + name, "No command specified (the image has no Cmd or Entrypoint)");
    spec.args = args;
    std::vector<std::string> env = strings("Env");
    env.insert(env.end(), spec.env.begin(), spec.env.end());
    spec.env = env;
    if (spec.workdir.empty()) spec.workdir = c.value("WorkingDir", "");
    if (spec.user.empty()) spec.user = c.value("User", "");
}

}  // namespace

void register_run_image() {
    cli::extend("run", [](CLI::App& run) {
        run.get_option("--rootfs")->required(false)->description("Root filesystem directory, instead of an IMAGE");
        run.footer("Usage: box " + run.get_name() + " [OPTIONS] IMAGE [CMD [ARG...]]\n"
                   "       box " + run.get_name() + " --rootfs DIR [OPTIONS] CMD [ARG...]\n"
                   "Options end at IMAGE (or CMD): whatever follows belongs to the command.");
        auto policy = std::make_shared<std::string>("missing");
        run.add_option("--pull", *policy, "Pull image before running (\"always\", \"missing\", \"never\")")
            ->default_str("missing");
        auto entrypoint = std::make_shared<std::optional<std::string>>();
        run.add_option_function<std::string>("--entrypoint", [entrypoint](const std::string& e) { *entrypoint = e; },
                                             "Overwrite the default ENTRYPOINT of the image ('' for none)");
        add_request_filler([policy, entrypoint](ContainerRequest& r) {
            take_image_name(r);
            pull_if_wanted(r.Config.Image, *policy);
            if (*entrypoint) r.Config.Entrypoint = (*entrypoint)->empty() ? std::vector<std::string>{}
                                                                           : std::vector<std::string>{**entrypoint};
        });
    });
    add_request_reader([](const ContainerRequest& r, ContainerSpec& spec) {
        spec.image = r.Config.Image;
        spec.layers = r.HostConfig.BoxLayers;
        spec.entrypoint = r.Config.Entrypoint;
    });
    add_spec_preparer(SpecPhase::Resolve, resolve_image);
    add_extension("overlay", ExtensionPhase::RootFs, [](const ExtensionContext& ctx) -> std::unique_ptr<ContainerExtension> {
        if (ctx.spec.layers.empty()) return nullptr;
        return std::make_unique<OverlayExtension>(ctx.spec, ImageStore(state_root()).containers_dir() + "/" + ctx.spec.id);
    });
}

}  // namespace box::stage3
