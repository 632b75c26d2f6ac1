// Unit tests of lib/: the record store, by id and keyed by name, as a box
// killed half-way leaves it.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "box/error.hpp"
#include "box/record_store.hpp"
#include "box/util.hpp"
#include "harness.hpp"

using namespace box;
namespace fs = std::filesystem;

namespace {
size_t entries(const std::string& dir) {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename() != ".lock") ++n;
    return n;
}
}  // namespace

TEST_CASE("records by id: found by id, name and unique prefix; a cut-short create is not seen and repair removes it",
          "[lib][records]") {
    boxtest::Sandbox sb;
    RecordStore r("thing", sb.dir() + "/things", sb.dir() + "/thing-names");
    std::string a = std::string(63, 'a') + "1", b = std::string(63, 'a') + "2";
    r.create(a, "first", {{"n", 1}}, false);
    r.create(b, "second", {{"n", 2}}, false);
    CHECK(r.find("first", "") == a);
    CHECK(r.find("/second", "") == b);
    CHECK(r.find(b.substr(0, 64), "") == b);
    CHECK_THROWS_WITH(r.find("aaaa", ""), Catch::Contains("multiple things found with provided prefix"));
    CHECK_THROWS_WITH(r.create(std::string(64, 'c'), "first", nlohmann::json(), false), Catch::Contains("already in use"));
    CHECK(r.read(a)["n"] == 1);

    // A create cut short: a directory, no record.
    fs::create_directories(r.path(std::string(64, 'd')) + "/upper");
    CHECK(r.ids().size() == 2);
    r.repair();
    CHECK_FALSE(fs::exists(r.path(std::string(64, 'd'))));
    r.remove(a, "first");
    CHECK(r.id_of_name("first").empty());
    CHECK(r.ids() == std::vector<std::string>{b});
}

TEST_CASE("records keyed by name: exact names only, no way out of the store, a remove cut short finished and a "
          "record-less volume's files adopted, never deleted",
          "[lib][records]") {
    boxtest::Sandbox sb;
    std::string dir = sb.dir() + "/vols";
    RecordStore r = RecordStore::by_name("volume", dir, "volume.json");
    fs::create_directories(dir + "/data1/_data");
    r.create("data1", "data1", {{"Labels", {{"k", "v"}}}}, true);
    std::ofstream(dir + "/data1/_data/kept") << "precious";
    r.create("data2", "", nlohmann::json::object(), false);
    CHECK(r.find("data1", "") == "data1");
    CHECK_THROWS_WITH(r.find("data", "see ls"), Catch::Contains("No such volume: data"));  // no prefixes
    CHECK_THROWS_WITH(r.create("data1", "", nlohmann::json::object(), false), Catch::Contains("already in use"));
    for (std::string bad : {"..", "../vols/data1", ".lock", "a/b", ""}) {
        INFO(bad);
        CHECK_THROWS_AS(r.find(bad, ""), Error);
        CHECK_THROWS_AS(r.create(bad, "", nlohmann::json::object(), false), Error);
    }
    auto ids = r.ids();
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::string>{"data1", "data2"});

    // What a killed box leaves: a create's empty directories, a remove's
    // directory moved aside, a volume whose record is lost but whose files are there.
    fs::create_directories(dir + "/cut-short/_data");
    fs::create_directories(dir + "/.removing-gone-12345678/_data");
    std::ofstream(dir + "/.removing-gone-12345678/_data/f") << "x";
    fs::remove(dir + "/data1/volume.json");
    CHECK(r.id_of_name("data1").empty());
    r.repair([](const std::string& name) { return nlohmann::json{{"Adopted", name}}; });
    CHECK_FALSE(fs::exists(dir + "/cut-short"));
    CHECK_FALSE(fs::exists(dir + "/.removing-gone-12345678"));
    CHECK(r.read("data1")["Adopted"] == "data1");
    CHECK(read_file(dir + "/data1/_data/kept") == "precious");

    // A remove takes the whole directory out of sight at once.
    r.remove("data1", "data1");
    CHECK_FALSE(fs::exists(dir + "/data1"));
    CHECK(entries(dir) == 1);
    CHECK_THROWS_AS(r.rename("data2", "data2", "other"), Error);
}
