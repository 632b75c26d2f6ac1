// Unit tests of lib/: how the --explain trace spells calls.
#include <catch2/catch.hpp>
#include <sched.h>
#include <sys/mount.h>

#include <csignal>

#include "box/trace.hpp"

using namespace box;

TEST_CASE("trace quotes strings as C source would", "[lib][trace]") {
    CHECK(trace::quote("proc") == "\"proc\"");
    CHECK(trace::quote(static_cast<const char*>(nullptr)) == "NULL");
    CHECK(trace::quote("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
    CHECK(trace::quote(std::string("\x01", 1)) == "\"\\x01\"");
    CHECK(trace::quote_list({"sh", "-c", "echo hi"}) == "[\"sh\", \"-c\", \"echo hi\"]");
}

TEST_CASE("trace names mount flags and prints unknown bits in hex", "[lib][trace]") {
    CHECK(trace::mount_flags(MS_NOSUID | MS_NODEV | MS_NOEXEC) == "MS_NOSUID|MS_NODEV|MS_NOEXEC");
    CHECK(trace::mount_flags(MS_REC | MS_PRIVATE) == "MS_REC|MS_PRIVATE");
    CHECK(trace::mount_flags(0) == "0");
    CHECK(trace::mount_flags(MS_BIND | (1UL << 30)) == "MS_BIND|0x40000000");
}

TEST_CASE("trace names clone flags and the exit signal", "[lib][trace]") {
    CHECK(trace::clone_flags(CLONE_NEWUTS | CLONE_NEWPID | SIGCHLD) == "CLONE_NEWUTS|CLONE_NEWPID|SIGCHLD");
    CHECK(trace::clone_flags(SIGCHLD) == "SIGCHLD");
    CHECK(trace::clone_flags(CLONE_NEWCGROUP) == "CLONE_NEWCGROUP");
}

TEST_CASE("trace prints results as strace does", "[lib][trace]") {
    CHECK(trace::result(0, 0) == "= 0");
    CHECK(trace::result(4242, 0) == "= 4242");
    CHECK(trace::result(-1, EPERM) == "= -1 EPERM (Operation not permitted)");
}
