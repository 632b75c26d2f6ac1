// Image references, read with docker's rules (distribution/reference).
#include <regex>

#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/util.hpp"
#include "box/reference.hpp"

namespace box {
namespace {

// Compiled on first use, not when box starts: compiling them took half of
// box's start-up before any command ran.
struct Patterns {
    std::regex component{"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"};
    std::regex tag{"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"};
    std::regex domain{"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"};
};

const Patterns& patterns() {
    static const Patterns p;
    return p;
}

}  // namespace

std::string ImageRef::repository() const {
    if (domain == "docker.io") return starts_with(path, "library/") ? path.substr(8) : path;
    return domain + "/" + path;
}

std::string ImageRef::full() const {
    std::string out = domain + "/" + path;
    if (!tag.empty()) out += ":" + tag;
    if (!digest.empty()) out += "@" + digest;
    return out;
}

std::string ImageRef::familiar() const {
    std::string out = repository();
    if (!tag.empty()) out += ":" + tag;
    if (!digest.empty()) out += "@" + digest;
    return out;
}

ImageRef parse_ref(const std::string& text) {
    auto bad = [&](const std::string& why) { return Error("invalid reference format \"" + text + "\"", why); };
    if (text.empty()) throw bad("empty");
    ImageRef ref;
    std::string rest = text;
    if (auto at = rest.find('@'); at != std::string::npos) {
        ref.digest = rest.substr(at + 1);
        rest = rest.substr(0, at);
        try {
            digest_hex(ref.digest);
        } catch (const Error&) {
            throw bad("the digest must be sha256: and 64 lowercase hex digits");
        }
    }
    // A ':' after the last '/' starts the tag (one before it is a port).
    auto slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        ref.tag = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
        if (!std::regex_match(ref.tag, patterns().tag)) throw bad("a tag is letters, digits, '_', '.' and '-' (at most 128)");
    }
    auto first_slash = rest.find('/');
    std::string first = rest.substr(0, first_slash);
    if (first_slash != std::string::npos &&
        (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost")) {
        ref.domain = first;
        ref.path = rest.substr(first_slash + 1);
        if (!std::regex_match(ref.domain, patterns().domain)) throw bad("bad registry host \"" + ref.domain + "\"");
    } else {
        ref.domain = "docker.io";
        ref.path = rest;
    }
    if (ref.path.empty()) throw bad("no repository name");
    for (const auto& c : split(ref.path, '/')) {
        if (!std::regex_match(c, patterns().component)) {
            bool upper = false;
            for (char ch : c) upper = upper || (ch >= 'A' && ch <= 'Z');
            throw bad(upper ? "repository name must be lowercase" : "bad repository name component \"" + c + "\"");
        }
    }
    if (ref.domain == "docker.io" && ref.path.find('/') == std::string::npos) ref.path = "library/" + ref.path;
    if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
    if (ref.full().size() > 255 + 1 + 128) throw bad("too long");
    return ref;
}

}  // namespace box
