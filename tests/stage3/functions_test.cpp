// Stage 3, unit tests of the exercise functions that need no container.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "box/error.hpp"
#include "stage3.hpp"
#include "support.hpp"

using namespace box;
using namespace box::stage3;
namespace fs = std::filesystem;

namespace {
std::string digest(char c) { return "sha256:" + std::string(64, c); }
}  // namespace

TEST_CASE("manifest_layers reads OCI and docker manifests, bottom first", "[stage3][unit]") {
    json oci = {{"schemaVersion", 2}, {"mediaType", media::kManifest},
                {"config", {{"mediaType", media::kConfig}, {"digest", digest('c')}, {"size", 10}}},
                {"layers", {{{"mediaType", media::kLayerGzip}, {"digest", digest('1')}, {"size", 100}},
                            {{"mediaType", media::kLayer}, {"digest", digest('2')}, {"size", 200}}}}};
    auto layers = manifest_layers(oci);
    REQUIRE(layers.size() == 2);
    CHECK(layers[0].digest == digest('1'));
    CHECK(layers[0].size == 100);
    CHECK(layers[1].media_type == media::kLayer);
    json docker = oci;
    docker["mediaType"] = media::kDockerManifest;
    docker["layers"][0]["mediaType"] = media::kDockerLayerGzip;
    CHECK(manifest_layers(docker).size() == 2);
    json index = {{"schemaVersion", 2}, {"mediaType", media::kIndex}, {"manifests", json::array()}};
    CHECK_THROWS_AS(manifest_layers(index), Error);
    json empty = oci;
    empty["layers"] = json::array();
    CHECK_THROWS_AS(manifest_layers(empty), Error);
}

TEST_CASE("select_platform picks the manifest for linux/amd64 from an index", "[stage3][unit]") {
    json index = {{"schemaVersion", 2}, {"mediaType", media::kDockerList},
                  {"manifests", {{{"digest", digest('a')}, {"size", 1}, {"mediaType", media::kDockerManifest},
                                  {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}},
                                 {{"digest", digest('b')}, {"size", 2}, {"mediaType", media::kDockerManifest},
                                  {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
    CHECK(select_platform(index, "linux", "amd64").digest == digest('b'));
    CHECK(select_platform(index, "linux", "arm64").digest == digest('a'));
    try {
        select_platform(index, "linux", "riscv64");
        FAIL("no error for a missing platform");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("linux/arm64, linux/amd64") != std::string::npos);
    }
}

TEST_CASE("apply_whiteout makes overlayfs whiteouts and opaque directories", "[stage3][unit]") {
    boxtest::Sandbox sb;
    std::string layer = sb.dir() + "/layer";
    fs::create_directories(layer);
    std::string tar = sb.dir() + "/wh.tar";
    boxtest::write_tar(tar, {{"a/.wh.old", ""}, {"b/.wh..wh..opq", ""}, {"b/kept", "k"}});
    int fd = open(tar.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    unpack_tar(fd, layer, apply_whiteout);
    close(fd);
    struct stat st {};
    REQUIRE(lstat((layer + "/a/old").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == makedev(0, 0));
    CHECK_FALSE(fs::exists(layer + "/a/.wh.old"));
    char v[4] = {};
    CHECK(getxattr((layer + "/b").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
    CHECK(v[0] == 'y');
    CHECK_FALSE(fs::exists(layer + "/b/.wh..wh..opq"));
    CHECK(fs::exists(layer + "/b/kept"));
}
