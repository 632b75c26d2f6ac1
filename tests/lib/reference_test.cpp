// Unit tests of lib/: image references with docker's rules.
#include <catch2/catch.hpp>

#include "box/error.hpp"
#include "box/reference.hpp"

using namespace box;

TEST_CASE("short names live in docker.io's library with the tag latest", "[lib][reference]") {
    ImageRef r = parse_ref("busybox");
    CHECK(r.domain == "docker.io");
    CHECK(r.path == "library/busybox");
    CHECK(r.tag == "latest");
    CHECK(r.full() == "docker.io/library/busybox:latest");
    CHECK(r.familiar() == "busybox:latest");
    CHECK(parse_ref("test/ubuntu:v1").full() == "docker.io/test/ubuntu:v1");
    CHECK(parse_ref("test/ubuntu:v1").repository() == "test/ubuntu");
}

TEST_CASE("a first component with a dot, a colon or localhost is a registry", "[lib][reference]") {
    ImageRef r = parse_ref("127.0.0.1:5000/team/app:2.0");
    CHECK(r.domain == "127.0.0.1:5000");
    CHECK(r.path == "team/app");
    CHECK(r.tag == "2.0");
    CHECK(r.familiar() == "127.0.0.1:5000/team/app:2.0");
    CHECK(parse_ref("localhost/app").domain == "localhost");
    CHECK(parse_ref("registry.example.org/x").domain == "registry.example.org");
    CHECK(parse_ref("localhost:5000/app").tag == "latest");  // the port is not a tag
}

TEST_CASE("a digest pins the image; no tag is added then", "[lib][reference]") {
    std::string d = "sha256:" + std::string(64, 'a');
    ImageRef r = parse_ref("busybox@" + d);
    CHECK(r.digest == d);
    CHECK(r.tag.empty());
    CHECK(r.full() == "docker.io/library/busybox@" + d);
    CHECK(parse_ref("busybox:1.36@" + d).tag == "1.36");
}

TEST_CASE("malformed references are refused", "[lib][reference]") {
    for (const char* bad : {"", "Busybox", "busybox:", ":tag", "a//b", "busybox@sha256:abc", "-x", "a:b:c",
                            "busybox:" /* empty tag */, "bad name", "x/Y"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_ref(bad), Error);
    }
    try {
        parse_ref("Busybox");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("lowercase") != std::string::npos);
    }
}
