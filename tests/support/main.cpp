// The tests' main(): Catch2's, after checking the environment the tests need.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    return Catch::Session().run(argc, argv);
}
