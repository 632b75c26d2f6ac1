// The tests' main(): Catch2's, after checking the environment the tests need.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include "harness.hpp"

int main(int argc, char** argv) {
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
    }
    return session.run();
}
