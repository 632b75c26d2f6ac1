// Unit tests of lib/: -u resolution against a container's /etc files, and
// --userns-range parsing.
#include <catch2/catch.hpp>

#include "box/error.hpp"
#include "box/spec.hpp"
#include "box/user.hpp"

using namespace box;

namespace {
const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "alice:x:1001:1002:Alice:/home/alice:/bin/sh\n"
    "broken line\n"
    "bob:x:1003:1003::/home/bob:/bin/sh\n";
const std::string kGroup =
    "root:x:0:\n"
    "staff:x:50:alice,bob\n"
    "alice:x:1002:\n"
    "video:x:44:alice\n";

std::string error_of(std::string_view spec) {
    try {
        resolve_user(spec, kPasswd, kGroup);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST_CASE("an empty user spec is root with root's home", "[lib][user]") {
    Identity id = resolve_user("", kPasswd, kGroup);
    CHECK(id.uid == 0);
    CHECK(id.gid == 0);
    CHECK(id.home == "/root");
    CHECK(id.groups == std::vector<gid_t>{0});
}

TEST_CASE("a user name gives its uid, primary gid, home and supplementary groups", "[lib][user]") {
    Identity id = resolve_user("alice", kPasswd, kGroup);
    CHECK(id.uid == 1001);
    CHECK(id.gid == 1002);
    CHECK(id.home == "/home/alice");
    CHECK(id.groups == std::vector<gid_t>{1002, 50, 44});
}

TEST_CASE("numeric ids need no passwd entry, as in docker", "[lib][user]") {
    Identity id = resolve_user("4242:4343", kPasswd, kGroup);
    CHECK(id.uid == 4242);
    CHECK(id.gid == 4343);
    CHECK(id.home == "/");
    CHECK(id.groups == std::vector<gid_t>{4343});
    CHECK(resolve_user("1003", kPasswd, kGroup).gid == 1003);  // listed uid: its group
    CHECK(resolve_user("bob:staff", kPasswd, kGroup).gid == 50);
}

TEST_CASE("unknown names and malformed specs are refused with docker's words", "[lib][user]") {
    CHECK(error_of("carol") == "unable to find user carol: no matching entries in passwd file");
    CHECK(error_of("alice:wheel") == "unable to find group wheel: no matching entries in group file");
    CHECK(error_of("a:b:c").rfind("invalid user a:b:c", 0) == 0);
    CHECK(error_of(":5").rfind("invalid user", 0) == 0);
    CHECK(error_of("5:").rfind("invalid user", 0) == 0);
}

TEST_CASE("--userns-range takes HOSTID[:COUNT] and refuses host root", "[lib][userns]") {
    IdMapping m = parse_id_range("200000:1000");
    CHECK(m.inside == 0);
    CHECK(m.outside == 200000);
    CHECK(m.count == 1000);
    CHECK(parse_id_range("300000").count == 65536);
    CHECK_THROWS_AS(parse_id_range("0:65536"), Error);
    CHECK_THROWS_AS(parse_id_range("abc"), Error);
    CHECK_THROWS_AS(parse_id_range("1:0"), Error);
    CHECK_THROWS_AS(parse_id_range("4294967295:2"), Error);
    CHECK_THROWS_AS(parse_id_range("1:2:3"), Error);
}
