// The tests' main(): Catch2's, after checking the environment the tests need.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include "harness.hpp"

int main(int argc, char** argv) {
    // No test may reach a registry off this machine (a name without a host,
    // like `busybox`, means Docker Hub): every request box or a test makes
    // goes through a proxy on a closed loopback port, except those to
    // loopback addresses, so one off the machine fails at once, locally.
    setenv("http_proxy", "http://127.0.0.1:9", 1);
    setenv("https_proxy", "http://127.0.0.1:9", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:9", 1);
    setenv("no_proxy", "127.0.0.0/8,localhost", 1);
    setenv("NO_PROXY", "127.0.0.0/8,localhost", 1);
    Catch::Session session;
    if (int rc = session.applyCommandLine(argc, argv)) return rc;
    bool listing = session.configData().listTests || session.configData().listTestNamesOnly ||
                   session.configData().listTags || session.configData().showHelp;
    if (!listing) {
        std::string missing = boxtest::check_environment();
        if (!missing.empty()) {
            fprintf(stderr, "cannot run the tests: %s\n", missing.c_str());
            return 2;
        }
        boxtest::enter_private_network();
    }
    return session.run();
}
