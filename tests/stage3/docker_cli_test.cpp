// Stage 3, black-box: the registry commands as a Docker user types them —
// search against an index, login on a terminal, pull's words for what a
// registry refuses, and run pulling a missing image. What docker does is
// checked against its documented behaviour (the docker CLI reference and the
// daemon's messages); the index and the refusing registry are the test's own,
// on loopback.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <mutex>
#include <regex>

#include "http_host.hpp"
#include "support.hpp"
#include "token_issuer.hpp"

using namespace boxtest;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The value of `key` in the query of the request line of `head`.
std::string query_value(const std::string& head, const std::string& key) {
    std::smatch m;
    std::string line = head.substr(0, head.find("\r\n"));
    if (!std::regex_search(line, m, std::regex("[?&]" + key + "=([^& ]*)"))) return "";
    return m[1];
}

// A search index as Docker Hub's answers /v1/search: the results whose name
// contains q, at most n of them.
struct TestIndex {
    nlohmann::json all = nlohmann::json::array(
        {{{"name", "httpd"},
          {"description", "The Apache HTTP Server Project, the web server\nof the course's tutorial"},
          {"star_count", 4912},
          {"is_official", true},
          {"is_automated", false}},
         {{"name", "student/httpd-proxy"},
          {"description", "A reverse proxy"},
          {"star_count", 12},
          {"is_official", false},
          {"is_automated", true}},
         {{"name", "other/httpd-tiny"},
          {"description", ""},
          {"star_count", 0},
          {"is_official", false},
          {"is_automated", false}},
         {{"name", "nginx"}, {"description", "Not a match"}, {"star_count", 1}, {"is_official", true}}});
    HttpHost host{"127.0.0.1", [this](const std::string& head) {
                      if (head.rfind("GET /v1/search?", 0) != 0) return HttpHost::response("404 Not Found", "", "");
                      std::string q = query_value(head, "q");
                      size_t n = std::stoul(query_value(head, "n"));
                      nlohmann::json results = nlohmann::json::array();
                      for (const auto& r : all)
                          if (r["name"].get<std::string>().find(q) != std::string::npos && results.size() < n)
                              results.push_back(r);
                      nlohmann::json body = {{"num_results", results.size()}, {"query", q}, {"results", results}};
                      return HttpHost::response("200 OK", "Content-Type: application/json\r\n", body.dump());
                  }};
};

// Where `text` starts in `row`, in characters (docker's columns line up in
// characters; "…" is three bytes).
size_t column(const std::string& row, const std::string& text) {
    size_t at = row.find(text), n = 0;
    if (at == std::string::npos) return at;
    for (size_t i = 0; i < at; ++i) n += (static_cast<unsigned char>(row[i]) & 0xc0) != 0x80;
    return n;
}

// A table row split into its cells (docker's tables: three or more spaces
// between columns, none inside a cell of these tests).
std::vector<std::string> cells(const std::string& row) {
    std::vector<std::string> out;
    std::regex gap("   +");
    for (std::sregex_token_iterator it(row.begin(), row.end(), gap, -1), end; it != end; ++it) out.push_back(*it);
    return out;
}

}  // namespace

TEST_CASE("search asks the index's search API and prints docker's columns", "[stage3][docker-cli][search][given]") {
    Sandbox sb;
    TestIndex index;
    auto r = sb.box({"search", index.host.host() + "/httpd"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    REQUIRE(index.host.heads().size() == 1);
    std::string request = index.host.heads()[0];
    CHECK(request.rfind("GET /v1/search?", 0) == 0);
    CHECK(query_value(request, "q") == "httpd");
    CHECK(query_value(request, "n") == "25");  // docker's default limit

    auto rows = lines(r.out);
    REQUIRE(rows.size() == 4);
    CHECK(cells(rows[0]) == std::vector<std::string>{"NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED"});
    // A long description is cut to 45 characters, "…" last; newlines become spaces.
    CHECK(cells(rows[1]) == std::vector<std::string>{"httpd", "The Apache HTTP Server Project, the web serv…", "4912",
                                                     "[OK]"});
    CHECK(cells(rows[2]) == std::vector<std::string>{"student/httpd-proxy", "A reverse proxy", "12", "[OK]"});
    // An empty description leaves its column blank: the row's cells line up.
    CHECK(rows[3].rfind("other/httpd-tiny", 0) == 0);
    CHECK(column(rows[3], "0") == column(rows[0], "STARS"));
    CHECK(column(rows[1], "4912") == column(rows[0], "STARS"));
    CHECK(column(rows[1], "[OK]") == column(rows[0], "OFFICIAL"));
    CHECK(column(rows[2], "[OK]") == column(rows[0], "AUTOMATED"));

    auto full = sb.box({"search", "--no-trunc", index.host.host() + "/httpd"});
    CHECK(full.out.find("the web server of the course's tutorial") != std::string::npos);

    auto limited = sb.box({"search", "--limit", "2", index.host.host() + "/httpd"});
    CHECK(query_value(index.host.heads().back(), "n") == "2");
    CHECK(lines(limited.out).size() == 3);

    auto starred = sb.box({"search", "--filter", "stars=10", index.host.host() + "/httpd"});
    CHECK(lines(starred.out).size() == 3);
    CHECK(starred.out.find("other/httpd-tiny") == std::string::npos);
    auto official = sb.box({"search", "-f", "is-official=true", index.host.host() + "/httpd"});
    REQUIRE(lines(official.out).size() == 2);
    CHECK(cells(lines(official.out)[1])[0] == "httpd");
    auto automated = sb.box({"search", "-f", "is-automated=true", "-f", "stars=1", index.host.host() + "/httpd"});
    REQUIRE(lines(automated.out).size() == 2);
    CHECK(cells(lines(automated.out)[1])[0] == "student/httpd-proxy");

    auto formatted = sb.box({"search", "--format", "{{.Name}}: {{.StarCount}} {{.IsOfficial}}",
                             index.host.host() + "/httpd"});
    CHECK(formatted.out == "httpd: 4912 [OK]\nstudent/httpd-proxy: 12 \nother/httpd-tiny: 0 \n");
    auto table = sb.box({"search", "--format", "table {{.Name}}\t{{.StarCount}}", index.host.host() + "/nginx"});
    CHECK(lines(table.out) == std::vector<std::string>{"NAME      STARS", "nginx     1"});
}

TEST_CASE("search refuses bad options with docker's words and asks nothing", "[stage3][docker-cli][search][errors][given]") {
    Sandbox sb;
    TestIndex index;
    auto zero = sb.box({"search", "--limit", "0", index.host.host() + "/httpd"});
    REQUIRE_ONE_ERROR_LINE(zero, 1);
    CHECK(zero.err.find("limit 0 is outside the range of [1, 100]") != std::string::npos);
    auto many = sb.box({"search", "--limit", "101", index.host.host() + "/httpd"});
    REQUIRE_ONE_ERROR_LINE(many, 1);
    auto stars = sb.box({"search", "-f", "stars=many", index.host.host() + "/httpd"});
    REQUIRE_ONE_ERROR_LINE(stars, 1);
    CHECK(stars.err.find("invalid filter 'stars=many'") != std::string::npos);
    auto unknown = sb.box({"search", "-f", "colour=red", index.host.host() + "/httpd"});
    REQUIRE_ONE_ERROR_LINE(unknown, 1);
    CHECK(unknown.err.find("invalid filter 'colour'") != std::string::npos);
    auto shape = sb.box({"search", "-f", "stars", index.host.host() + "/httpd"});
    REQUIRE_ONE_ERROR_LINE(shape, 1);
    CHECK(shape.err.find("expected name=value") != std::string::npos);
    CHECK(index.host.heads().empty());
}

TEST_CASE("search falls back to a registry's catalog where it has no search API, and says so",
          "[stage3][docker-cli][search]") {
    Sandbox sb;
    TestRegistry registry(sb);
    import_busybox(sb);
    for (const char* repo : {"team/httpd-web", "team/other"}) {
        std::string name = registry.host() + "/" + repo + ":v1";
        REQUIRE(sb.box({"tag", "busybox", name}).status == 0);
        REQUIRE(sb.box({"push", name}).status == 0);
    }
    auto r = sb.box({"search", registry.host() + "/httpd"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("no search API") != std::string::npos);
    auto rows = lines(r.out);
    REQUIRE(rows.size() == 2);
    CHECK(cells(rows[1])[0] == registry.host() + "/team/httpd-web");
}

TEST_CASE("pull says, in docker's words, what the registry refused", "[stage3][docker-cli][errors]") {
    Sandbox sb;
    TestRegistry registry(sb);
    push_with_skopeo(sb, registry, "team/web:v1");
    // The tag the registry has comes; the one it lacks is refused.
    REQUIRE(sb.box({"pull", registry.host() + "/team/web:v1"}).status == 0);
    auto tag = sb.box({"pull", registry.host() + "/team/web:v9"});
    REQUIRE_ONE_ERROR_LINE(tag, 1);
    CHECK(tag.err.find("manifest for " + registry.host() + "/team/web:v9 not found: manifest unknown") !=
          std::string::npos);

    // Docker Hub answers so for a repository that does not exist (or is private).
    HttpHost hub_like("127.0.0.1", [](const std::string& head) {
        if (head.rfind("GET /v2/ ", 0) == 0) return HttpHost::response("200 OK", "", "{}");
        return HttpHost::response(
            "401 Unauthorized", "Content-Type: application/json\r\n",
            R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})");
    });
    auto denied = sb.box({"pull", hub_like.host() + "/nosuch"});
    REQUIRE_ONE_ERROR_LINE(denied, 1);
    CHECK(denied.err.find("pull access denied for " + hub_like.host() +
                          "/nosuch, repository does not exist or may require 'box login': denied: requested access "
                          "to the resource is denied") != std::string::npos);
    CHECK(denied.out.find("Using default tag: latest") != std::string::npos);
    // run pulls what it lacks, so run reports the same, after docker's first line.
    auto run = sb.box({"run", hub_like.host() + "/nosuch"});
    BOX_SHOW(run);
    CHECK(run.status == 125);
    auto err = lines(run.err);
    REQUIRE(err.size() == 2);
    CHECK(err[0] == "Unable to find image '" + hub_like.host() + "/nosuch:latest' locally");
    CHECK(err[1].find("box: pull access denied for " + hub_like.host() + "/nosuch,") == 0);
    CHECK(count_entries(sb.dir() + "/state/containers") == 0);
    CHECK(lines(sb.box({"images", "-q"}).out).size() == 1);  // team/web:v1 only
}

TEST_CASE("run pulls a missing image first, as docker's --pull missing", "[stage3][docker-cli]") {
    Sandbox sb;
    TestRegistry registry(sb);
    push_with_skopeo(sb, registry, "team/web:v1");
    std::string name = registry.host() + "/team/web:v1";

    auto never = sb.box({"run", "--pull", "never", name, "true"});
    REQUIRE_ONE_ERROR_LINE(never, 125);
    CHECK(never.err.find("Unable to find image '" + name + "' locally") != std::string::npos);
    CHECK(sb.box({"images", "-q"}).out.empty());
    auto bad = sb.box({"run", "--pull", "sometimes", name, "true"});
    REQUIRE_ONE_ERROR_LINE(bad, 125);
    CHECK(bad.err.find("invalid pull option: 'sometimes'") != std::string::npos);

    std::string word = random_name("pulled-");
    auto r = sb.box({"run", name, "echo", word});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.out == word + "\n");  // the pull's lines went to stderr
    CHECK(r.err.rfind("Unable to find image '" + name + "' locally\n", 0) == 0);
    CHECK(r.err.find("v1: Pulling from team/web") != std::string::npos);
    CHECK(r.err.find("Status: Downloaded newer image for " + name) != std::string::npos);
    auto again = sb.box({"run", name, "true"});
    CHECK(again.err.empty());

    // --pull always asks the registry again; the image is the same.
    auto always = sb.box({"run", "--pull", "always", name, "true"});
    BOX_SHOW(always);
    REQUIRE(always.status == 0);
    CHECK(always.err.find("Status: Image is up to date for " + name) != std::string::npos);
    auto pull = sb.box({"pull", name});
    CHECK(pull.out.find("Status: Image is up to date for " + name) != std::string::npos);
    CHECK(lines(pull.out).back() == name);
}

TEST_CASE("login asks on a terminal as docker does, and never echoes the password", "[stage3][docker-cli][login]") {
    Sandbox sb;
    std::string password = random_name("pw-");
    TokenIssuer issuer(sb.dir(), "student", password);
    TestRegistry registry(sb, "", "", issuer.realm(), issuer.certificate());
    std::string auth = sb.dir() + "/state/auth.json";

    {  // a wrong password: docker's words, nothing kept
        Terminal t(sb.box_argv({"login", registry.host()}), 24, 80);
        REQUIRE(t.wait_for_output("Username: ", 10s));
        t.type("student\r");
        REQUIRE(t.wait_for_output("Password: ", 10s));
        t.type("not-" + password + "\r");
        REQUIRE(t.wait_for_output("unauthorized: incorrect username or password", 10s));
        CHECK(t.wait(10s) == 1);
        CHECK(t.out().find(password) == std::string::npos);
        CHECK_FALSE(fs::exists(auth));
    }
    {
        Terminal t(sb.box_argv({"login", registry.host()}), 24, 80);
        REQUIRE(t.wait_for_output("Username: ", 10s));
        t.type("student\r");
        REQUIRE(t.wait_for_output("Password: ", 10s));
        t.type(password + "\r");
        REQUIRE(t.wait_for_output("Login Succeeded", 10s));
        CHECK(t.wait(10s) == 0);
        INFO(t.out());
        CHECK(t.out().find("student") != std::string::npos);  // the user name is echoed
        CHECK(t.out().find(password) == std::string::npos);   // the password is not
    }
    struct stat st {};
    REQUIRE(stat(auth.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // Logged in already: docker tries the kept credentials before asking.
    auto again = sb.box({"login", registry.host()});
    BOX_SHOW(again);
    CHECK(again.status == 0);
    CHECK(again.out.find("Authenticating with existing credentials...") != std::string::npos);
    CHECK(again.out.find("Login Succeeded") != std::string::npos);

    // What login kept is what push and pull use.
    import_busybox(sb);
    std::string name = registry.host() + "/team/" + random_name("mine-", 6) + ":v1";
    REQUIRE(sb.box({"tag", "busybox", name}).status == 0);
    auto push = sb.box({"push", name});
    BOX_SHOW(push);
    REQUIRE(push.status == 0);
    REQUIRE(sb.box({"rmi", name}).status == 0);
    CHECK(sb.box({"pull", name}).status == 0);

    auto out = sb.box({"logout", registry.host()});
    CHECK(out.status == 0);
    CHECK(trim(out.out) == "Removing login credentials for " + registry.host());
    CHECK(read_host_file(auth).find(registry.host()) == std::string::npos);

    // Not a terminal and no password: docker refuses to ask.
    auto no_tty = sb.box({"login", registry.host()});
    REQUIRE_ONE_ERROR_LINE(no_tty, 1);
    CHECK(no_tty.err.find("Cannot perform an interactive login from a non TTY device") != std::string::npos);
    RunOptions pw;
    pw.input = password + "\n";
    auto no_user = sb.box({"login", "--password-stdin", registry.host()}, pw);
    REQUIRE_ONE_ERROR_LINE(no_user, 1);
    CHECK(no_user.err.find("Must provide --username with --password-stdin") != std::string::npos);
    // -p works, with docker's warning.
    auto flag = sb.box({"login", "-u", "student", "-p", password, registry.host()});
    BOX_SHOW(flag);
    CHECK(flag.status == 0);
    CHECK(flag.err.find("WARNING! Using --password via the CLI is insecure. Use --password-stdin.") !=
          std::string::npos);
    CHECK(flag.out.find("Login Succeeded") != std::string::npos);
}
