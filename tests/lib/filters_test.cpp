// Unit tests of labels and docker's --filter grammar (lib/include/box/filters.hpp).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "box/error.hpp"
#include "box/filters.hpp"

using box::Filters;
using box::Labels;

TEST_CASE("labels: flags over files, a key alone is \"\", network/volume labels need a value", "[lib][filters]") {
    std::string file = "/tmp/box-labels-" + std::to_string(::getpid());
    std::ofstream(file) << "# a comment\n\n  tier=back\nowner=ops\nflag\n";
    Labels l = box::parse_labels({"owner=dev", "x=a=b"}, {file});
    std::remove(file.c_str());
    CHECK(l == Labels{{"tier", "back"}, {"owner", "dev"}, {"flag", ""}, {"x", "a=b"}});
    CHECK(box::parse_labels({"k"}) == Labels{{"k", ""}});
    CHECK_THROWS_WITH(box::parse_labels({"k"}, {}, true), Catch::Contains("bad attribute format: k"));
    CHECK_THROWS_AS(box::parse_labels({"=v"}), box::Error);
    CHECK_THROWS_AS(box::parse_labels({}, {"/nonexistent/labels"}), box::Error);
    CHECK(box::labels_text({{"b", "2"}, {"a", "1"}}) == "a=1,b=2");
}

TEST_CASE("filters: docker's grammar and errors", "[lib][filters]") {
    CHECK_THROWS_WITH(Filters::parse({"label"}, {"label"}), Catch::Contains("bad format of filter (expected name=value)"));
    CHECK_THROWS_WITH(Filters::parse({"colour=red"}, {"label"}), Catch::Contains("Invalid filter 'colour'"));
    CHECK_THROWS_WITH(Filters::parse({"label!=a"}, {"label"}), Catch::Contains("Invalid filter 'label!'"));
    Filters f = Filters::parse({"status=running", "STATUS=exited", "label=a"}, {"status", "label"});
    CHECK(f.values("status") == std::vector<std::string>{"running", "exited"});
    CHECK_THROWS_WITH(f.check_values("status", {"running"}), Catch::Contains("Unrecognised filter value for status: exited"));
    CHECK(Filters().empty());
}

TEST_CASE("filters combine as docker's: one key any, keys all, labels all, label! excludes when all hold",
          "[lib][filters]") {
    Filters f = Filters::parse({"name=web", "name=db", "id=ab"}, {"name", "id"});
    auto name_is = [](const std::string& n) { return [n](const std::string& v) { return v == n; }; };
    CHECK(f.any("name", name_is("db")));
    CHECK(!f.any("name", name_is("cache")));
    CHECK(f.any("label", name_is("nothing")));  // no filter of that key: everything passes

    Labels labels = {{"tier", "back"}, {"owner", "ops"}};
    CHECK(Filters::parse({"label=tier"}, {"label"}).match_labels(labels));
    CHECK(Filters::parse({"label=tier=back", "label=owner"}, {"label"}).match_labels(labels));
    CHECK(!Filters::parse({"label=tier=front"}, {"label"}).match_labels(labels));
    CHECK(!Filters::parse({"label=tier", "label=missing"}, {"label"}).match_labels(labels));  // all, not any
    CHECK(!Filters::parse({"label=tier"}, {"label"}).match_labels({}));
    CHECK(!Filters::parse({"label!=tier"}, {"label!"}).match_labels(labels));
    CHECK(Filters::parse({"label!=tier=front"}, {"label!"}).match_labels(labels));
    CHECK(Filters::parse({"label!=tier", "label!=missing"}, {"label!"}).match_labels(labels));  // excluded only if all hold
    CHECK(Filters::parse({"label!=tier"}, {"label!"}).match_labels({}));
}
