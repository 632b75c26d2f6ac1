// Chapter 6: the build context — the files a build may read — and the
// .dockerignore patterns that hide some of them.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/http.hpp"
#include "box/util.hpp"
#include "stage6.hpp"
#include "unpack.hpp"

namespace fs = std::filesystem;

namespace box::stage6 {

std::string clean_path(const std::string& path) {
    bool absolute = starts_with(path, "/");
    std::vector<std::string> parts;
    for (const auto& p : split(path, '/')) {
        if (p.empty() || p == ".") continue;
        if (p == ".." && !parts.empty() && parts.back() != "..") parts.pop_back();
        else if (p != ".." || !absolute) parts.push_back(p);
    }
    std::string out = absolute ? "/" : "";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
    return out.empty() ? "." : out;
}

std::string pattern_regex(const std::string& pattern) {
    std::string re = "^";
    for (size_t i = 0; i < pattern.size(); ++i) {
        char ch = pattern[i];
        if (ch == '*') {
            if (i + 1 < pattern.size() && pattern[i + 1] == '*') {  // `**`, and `**/` alike
                ++i;
                if (i + 1 < pattern.size() && pattern[i + 1] == '/') ++i;
                re += i + 1 == pattern.size() ? ".*" : "(.*/)?";
            } else {
                re += "[^/]*";
            }
        } else if (ch == '?') {
            re += "[^/]";
        } else if (ch == '\\') {  // the next character as itself
            if (i + 1 == pattern.size()) re += "\\\\";
            else re += std::string("\\") + pattern[++i];
        } else if (ch == '[' && i + 1 < pattern.size() && pattern[i + 1] == '!') {
            re += "[^";  // Go's negated class
            ++i;
        } else if (std::string_view(".+()|{}$^").find(ch) != std::string_view::npos) {
            re += std::string("\\") + ch;
        } else {
            re += ch;
        }
    }
    return re + "$";
}

IgnoreMatcher::IgnoreMatcher(const std::string& text) {
    for (std::string line : split(text, '\n')) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (starts_with(line, "#")) continue;
        line.erase(0, line.find_first_not_of(" \t"));
        line.erase(line.find_last_not_of(" \t") + 1);
        if (line.empty()) continue;
        bool exception = line[0] == '!';
        if (exception) {
            line = line.substr(1);
            line.erase(0, line.find_first_not_of(" \t"));
            if (line.empty()) throw Error(".dockerignore", "illegal exclusion pattern: \"!\"");
        }
        line = clean_path(line);
        if (line.size() > 1 && line[0] == '/') line = line.substr(1);
        rules_.push_back({std::regex(pattern_regex(line)), exception});
        exceptions_ = exceptions_ || exception;
    }
}

bool IgnoreMatcher::ignored(const std::string& path) const {
    // BEGIN ADVANCED EXERCISE 4: IgnoreMatcher::ignored()
    std::vector<std::string> parents = split(path, '/');
    bool ignored = false;
    for (const auto& rule : rules_) {
        const std::regex& re = rule.regex;
        bool match = std::regex_match(path, re);
        std::string prefix;
        for (size_t i = 0; !match && i + 1 < parents.size(); ++i) {  // a parent directory matched
            prefix += (i ? "/" : "") + parents[i];
            match = std::regex_match(prefix, re);
        }
        if (match) ignored = !rule.exception;
    }
    return ignored;
    // END EXERCISE
}

std::string scratch_dir(const std::string& what) {
    std::string dir = state_root() + "/tmp/" + std::to_string(::getpid()) + "-" + what + "-" + random_hex(6);
    make_dirs(dir);
    return dir;
}

bool is_archive(std::string_view head) {
    auto has = [&](size_t at, std::string_view magic) { return head.size() >= at + magic.size() && head.substr(at, magic.size()) == magic; };
    return has(0, "\x1f\x8b") || has(0, "BZh") || has(0, "\xfd" "7zXZ") || has(0, "\x28\xb5\x2f\xfd") ||
           has(257, "ustar");
}

namespace {

// Unpacks the tar in file `tar` into a new scratch directory; returns it.
std::string unpack_context(const std::string& tar) {
    std::string dir = scratch_dir("context");
    try {
        Fd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno("open " + tar, errno);
        stage3::unpack_tar(fd.get(), dir);
    } catch (const Error& e) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        throw Error("unable to prepare context", e.what());
    }
    return dir;
}

std::string read_stdin() {
    std::string text;
    char buf[65536];
    for (ssize_t n; (n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    return text;
}

}  // namespace

Context open_context(const std::string& source, const std::string& file) {
    Context ctx;
    std::string stdin_text;
    bool stdin_read = false;
    auto take_stdin = [&] {
        if (stdin_read) throw Error("unable to prepare context", "the context and the Dockerfile cannot both be -");
        stdin_read = true;
        stdin_text = read_stdin();
        return stdin_text;
    };
    auto as_tar = [&](const std::string& bytes) {
        std::string dir = scratch_dir("download");
        std::string tar = dir + "/context.tar";
        write_file_atomic(tar, bytes, 0600, false);
        try {
            ctx.temp = ctx.dir = unpack_context(tar);
        } catch (...) {
            fs::remove_all(dir);
            throw;
        }
        fs::remove_all(dir);
    };
    if (source == "-") {
        std::string bytes = take_stdin();
        if (is_archive(bytes)) as_tar(bytes);
        else ctx.dockerfile = bytes, ctx.file_name = "Dockerfile";  // a Dockerfile alone: no context
    } else if (starts_with(source, "http://") || starts_with(source, "https://")) {
        HttpRequest rq;
        rq.url = source;
        HttpResponse r = http_request(rq);
        if (r.status != 200)
            throw Error("unable to prepare context", "unable to download remote context " + source + ": HTTP " +
                                                         std::to_string(r.status));
        if (!is_archive(r.body)) ctx.dockerfile = r.body, ctx.file_name = "Dockerfile";
        else as_tar(r.body);
    } else {
        if (!is_directory(source)) throw Error("unable to prepare context", "path \"" + source + "\" not found");
        ctx.dir = fs::absolute(source).lexically_normal().string();
    }
    try {
        if (!ctx.dir.empty()) {
            if (auto ignore = try_read_file(ctx.dir + "/.dockerignore")) ctx.ignore = IgnoreMatcher(*ignore);
        }
        if (file == "-") {
            ctx.dockerfile = take_stdin();
            ctx.file_name = "Dockerfile";
        } else if (ctx.file_name.empty()) {
            std::string name = file.empty() ? "Dockerfile" : file;
            std::string path = !file.empty() && (starts_with(file, "/") || exists(file)) ? file : ctx.dir + "/" + name;
            auto text = ctx.dir.empty() && file.empty() ? std::nullopt : try_read_file(path);
            if (!text)
                throw Error("unable to prepare context",
                            "unable to evaluate symlinks in Dockerfile path: lstat " + path + ": no such file or directory");
            ctx.dockerfile = *text;
            ctx.file_name = name;
        }
    } catch (...) {
        if (!ctx.temp.empty()) fs::remove_all(ctx.temp);
        throw;
    }
    if (stdin_read) {  // a RUN step must not read what was the context
        Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (null) ::dup2(null.get(), STDIN_FILENO);
    }
    return ctx;
}

}  // namespace box::stage6
