// Unit tests of lib/: docker's units for sizes, CPUs and cpusets.
#include <catch2/catch.hpp>

#include "box/error.hpp"
#include "box/units.hpp"

using namespace box;

TEST_CASE("sizes take docker's units b, k, m, g in either case", "[lib][units]") {
    CHECK(parse_bytes("4096", "-m") == 4096);
    CHECK(parse_bytes("512k", "-m") == 512 * 1024);
    CHECK(parse_bytes("64m", "-m") == 64LL << 20);
    CHECK(parse_bytes("64M", "-m") == 64LL << 20);
    CHECK(parse_bytes("64mb", "-m") == 64LL << 20);
    CHECK(parse_bytes("1g", "-m") == 1LL << 30);
    CHECK(parse_bytes("1.5g", "-m") == 3LL << 29);
    CHECK(parse_bytes("100b", "-m") == 100);
    for (const char* bad : {"", "-1", "m", "12x", "1.2.3m", "64 m", "1t"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_bytes(bad, "-m"), Error);
    }
}

TEST_CASE("sizes print in binary units", "[lib][units]") {
    CHECK(format_bytes(512) == "512B");
    CHECK(format_bytes(64LL << 20) == "64MiB");
    CHECK(format_bytes(1536) == "1.5KiB");
    // Image and transfer sizes: docker's decimal units, 3 significant digits.
    CHECK(human_size(0) == "0B");
    CHECK(human_size(999) == "999B");
    CHECK(human_size(1200) == "1.2kB");
    CHECK(human_size(2140000) == "2.14MB");
    CHECK(human_size(125800000) == "126MB");
    CHECK(human_size(1234567, 4) == "1.235MB");
}

TEST_CASE("CPUs are positive decimals", "[lib][units]") {
    CHECK(parse_cpus("0.5", "--cpus") == 0.5);
    CHECK(parse_cpus("2", "--cpus") == 2.0);
    for (const char* bad : {"", "0", "-1", "abc", "1,5", "nan", "inf"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_cpus(bad, "--cpus"), Error);
    }
}

TEST_CASE("cpuset lists are ranges and commas of online CPUs", "[lib][units]") {
    CHECK(parse_cpu_list("0", 2, "--cpuset-cpus") == std::vector<unsigned>{0});
    CHECK(parse_cpu_list("0-3,6", 8, "--cpuset-cpus") == std::vector<unsigned>{0, 1, 2, 3, 6});
    CHECK(parse_cpu_list("1,0,1", 2, "--cpuset-cpus") == std::vector<unsigned>{0, 1});
    for (const char* bad : {"", "2", "0-2", "1-0", "a", "0,,1", "0-1-2"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_cpu_list(bad, 2, "--cpuset-cpus"), Error);
    }
}

TEST_CASE("durations read as Go's time.ParseDuration and print as its Duration.String", "[lib][units]") {
    CHECK(box::parse_duration("0", "--t") == 0);
    CHECK(box::parse_duration("300ms", "--t") == 300000000);
    CHECK(box::parse_duration("1m30s", "--t") == 90000000000LL);
    CHECK(box::parse_duration("1.5h", "--t") == 5400000000000LL);
    CHECK(box::parse_duration("2us", "--t") == 2000);
    CHECK(box::parse_duration("2\u00b5s", "--t") == 2000);
    CHECK(box::parse_duration("-1s", "--t") == -1000000000);
    CHECK(box::parse_duration("+5ns", "--t") == 5);
    auto error = [](const std::string& text) {
        try {
            box::parse_duration(text, "--health-interval");
        } catch (const box::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(error("abc") == "invalid argument \"abc\" for \"--health-interval\" flag: time: invalid duration \"abc\"");
    CHECK(error("3").find("time: missing unit in duration \"3\"") != std::string::npos);
    CHECK(error("3d").find("time: unknown unit \"d\" in duration \"3d\"") != std::string::npos);
    CHECK(error("").find("invalid duration") != std::string::npos);
    CHECK(error("s").find("invalid duration") != std::string::npos);

    CHECK(box::format_duration(0) == "0s");
    CHECK(box::format_duration(300000000) == "300ms");
    CHECK(box::format_duration(1500000000) == "1.5s");
    CHECK(box::format_duration(60000000000LL) == "1m0s");
    CHECK(box::format_duration(7200000000000LL) == "2h0m0s");
    CHECK(box::format_duration(90500000000LL) == "1m30.5s");
    CHECK(box::format_duration(1500) == "1.5\u00b5s");
    CHECK(box::format_duration(-2000000000) == "-2s");
}
