// buildkit's own cases for its Dockerfile parser and shell lexer, read from
// ../shared/conformance/buildkit (never copied here; see its SOURCE.txt for
// the harness rules restated below). Without that folder each suite warns
// that it is skipped, and why, and passes.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "box/dockerfile.hpp"
#include "box/error.hpp"
#include "box/shell_lexer.hpp"
#include "box/util.hpp"
#include "harness.hpp"

namespace fs = std::filesystem;
using box::dockerfile::dump;
using box::dockerfile::parse;

namespace {

// $BOX_CONFORMANCE_DIR, else the kit's ../shared/conformance/buildkit.
fs::path conformance_dir() {
    const char* dir = getenv("BOX_CONFORMANCE_DIR");
    return (dir && *dir) ? fs::path(dir) : fs::path(boxtest::kit_root()) / ".." / "shared" / "conformance" / "buildkit";
}

// The folder of one suite, or nothing (and a warning saying why) if it is not here.
std::optional<fs::path> suite(const std::string& relative) {
    fs::path dir = conformance_dir() / "frontend" / "dockerfile" / relative;
    if (fs::exists(dir)) return dir;
    WARN("skipped: no " << dir.string() << " (set BOX_CONFORMANCE_DIR to buildkit's conformance folder)");
    return std::nullopt;
}

std::vector<fs::path> case_dirs(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += "\n  " + l;
    return out;
}

// Passes if nothing failed and all `expected` cases ran; names each failure.
void report(const std::string& name, size_t ran, size_t expected, const std::vector<std::string>& failed) {
    INFO(name << ": " << ran - failed.size() << "/" << ran << " passed; failed:" << joined(failed));
    CHECK(failed.empty());
    CHECK(ran == expected);
    SUCCEED(name << ": " << ran - failed.size() << "/" << ran << " passed");
}

std::string first_difference(const std::string& got, const std::string& want) {
    auto g = boxtest::lines(got), w = boxtest::lines(want);
    for (size_t i = 0; i < std::max(g.size(), w.size()); ++i) {
        std::string a = i < g.size() ? g[i] : "(none)", b = i < w.size() ? w[i] : "(none)";
        if (a != b) return "line " + std::to_string(i + 1) + ": got " + a + " want " + b;
    }
    return "differs in line ends";
}

std::string trim_space(const std::string& s) { return boxtest::trim(s); }

}  // namespace

TEST_CASE("buildkit testfiles: the dump of each Dockerfile is its result", "[lib][conformance]") {
    auto dir = suite("parser/testfiles");
    if (!dir) return;
    std::vector<std::string> failed;
    auto cases = case_dirs(*dir);
    for (const auto& c : cases) {
        std::string name = c.filename().string();
        try {
            std::string got = dump(parse(box::read_file(c / "Dockerfile")).root) + "\n";
            std::string want = box::read_file(c / "result");
            if (got != want) failed.push_back(name + ": " + first_difference(got, want));
        } catch (const std::exception& e) {
            failed.push_back(name + ": threw " + e.what());
        }
    }
    report("testfiles", cases.size(), 33, failed);
}

TEST_CASE("buildkit testfiles-negative: each Dockerfile is refused", "[lib][conformance]") {
    auto dir = suite("parser/testfiles-negative");
    if (!dir) return;
    std::vector<std::string> failed;
    auto cases = case_dirs(*dir);
    for (const auto& c : cases) {
        try {
            parse(box::read_file(c / "Dockerfile"));
            failed.push_back(c.filename().string() + ": parsed");
        } catch (const box::Error&) {
        }
    }
    report("testfiles-negative", cases.size(), 4, failed);
}

TEST_CASE("buildkit testfile-line: instructions know their first and last lines", "[lib][conformance]") {
    auto dir = suite("parser/testfile-line");
    if (!dir) return;
    auto root = parse(box::read_file(*dir / "Dockerfile")).root;
    CHECK(root.start_line == 5);
    CHECK(root.end_line == 31);
    std::vector<std::pair<int, int>> lines;
    for (const auto& n : root.children) lines.emplace_back(n.start_line, n.end_line);
    CHECK(lines == std::vector<std::pair<int, int>>{{5, 5}, {11, 12}, {17, 31}});
}

TEST_CASE("buildkit envVarTest: single-word expansion", "[lib][conformance]") {
    auto dir = suite("shell");
    if (!dir) return;
    const box::shell::Env env = {{"PWD", "/home"}, {"SHELL", "bash"}, {"KOREAN", "한국어"}, {"NULL", ""}};
    std::vector<std::string> failed;
    size_t ran = 0;
    std::istringstream in(box::read_file(*dir / "envVarTest"));
    for (std::string line; std::getline(in, line);) {
        if (trim_space(line).empty() || line[0] == '#') continue;
        auto fields = box::split(line, '|');
        std::string platform = trim_space(fields[0]);
        if (fields.size() != 3 || platform == "W") continue;  // Windows compares names case-insensitively
        ++ran;
        std::string input = trim_space(fields[1]), want = trim_space(fields[2]);
        try {
            std::string got = box::shell::process_word(input, env);
            if (want == "error" || got != want) failed.push_back(input + ": got \"" + got + "\", want \"" + want + "\"");
        } catch (const box::Error& e) {
            if (want != "error") failed.push_back(input + ": threw " + e.what());
        }
    }
    report("envVarTest", ran, 228, failed);  // 230 cases, 2 of them Windows-only
}

TEST_CASE("buildkit wordsTest: word splitting", "[lib][conformance]") {
    auto dir = suite("shell");
    if (!dir) return;
    box::shell::Env env;
    std::vector<std::string> failed;
    size_t ran = 0;
    std::istringstream in(box::read_file(*dir / "wordsTest"));
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        if (box::starts_with(line, "ENV ")) {
            std::string assignment = line.substr(line.find_first_not_of(' ', 3));
            size_t eq = assignment.find('=');
            env[assignment.substr(0, eq)] = assignment.substr(eq + 1);
            continue;
        }
        auto fields = box::split(line, '|');
        if (fields.size() != 2) continue;
        ++ran;
        std::string input = trim_space(fields[0]);
        std::vector<std::string> want = box::split(fields[1].substr(fields[1].find_first_not_of(' ')), ',');
        std::vector<std::string> got;
        try {
            got = box::shell::process_words(input, env);
        } catch (const box::Error&) {
            got = {"error"};
        }
        if (got != want) failed.push_back(input + ": got [" + joined(got) + " ]");
    }
    report("wordsTest", ran, 24, failed);
}
