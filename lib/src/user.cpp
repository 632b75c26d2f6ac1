#include "box/user.hpp"

#include <optional>

#include "box/error.hpp"
#include "box/util.hpp"

namespace box {
namespace {

std::optional<std::uint32_t> number(std::string_view s) { return parse_number<std::uint32_t>(s); }

// Lines of a passwd/group file split at ':'; comments and short lines skipped.
std::vector<std::vector<std::string>> records(const std::string& text, size_t min_fields) {
    std::vector<std::vector<std::string>> out;
    for (const auto& line : split(text, '\n')) {
        if (line.empty() || line[0] == '#') continue;
        auto f = split(line, ':');
        if (f.size() >= min_fields && number(f[2])) out.push_back(std::move(f));
    }
    return out;
}

}  // namespace

void check_user_spec(std::string_view spec) {
    auto parts = split(spec, ':');
    if (parts.size() > 2 || (!spec.empty() && parts[0].empty()) ||
        (parts.size() == 2 && parts[1].empty()))
        throw Error("invalid user " + std::string(spec), "expected USER[:GROUP] or UID[:GID]");
}

Identity resolve_user(std::string_view spec, const std::string& passwd, const std::string& group) {
    check_user_spec(spec);
    Identity id;
    if (spec.empty()) spec = "0";
    auto parts = split(spec, ':');
    const std::string& user = parts[0];
    auto users = records(passwd, 7);  // name:x:uid:gid:gecos:home:shell
    const std::vector<std::string>* entry = nullptr;
    if (auto uid = number(user)) {
        id.uid = *uid;
        for (const auto& u : users)
            if (*number(u[2]) == *uid) { entry = &u; break; }
    } else {
        for (const auto& u : users)
            if (u[0] == user) { entry = &u; break; }
        if (!entry)
            throw Error("unable to find user " + user, "no matching entries in passwd file");
        id.uid = *number((*entry)[2]);
    }
    if (entry) {
        id.gid = number((*entry)[3]).value_or(0);
        id.home = (*entry)[5].empty() ? "/" : (*entry)[5];
    }

    auto groups = records(group, 3);  // name:x:gid[:members]
    if (parts.size() == 2) {
        if (auto gid = number(parts[1])) {
            id.gid = *gid;
        } else {
            bool found = false;
            for (const auto& g : groups)
                if (g[0] == parts[1]) { id.gid = *number(g[2]); found = true; break; }
            if (!found)
                throw Error("unable to find group " + parts[1], "no matching entries in group file");
        }
    }
    id.groups.push_back(id.gid);
    if (entry) {  // supplementary groups list the user by name
        for (const auto& g : groups) {
            if (g.size() < 4) continue;
            for (const auto& member : split(g[3], ','))
                if (member == (*entry)[0] && *number(g[2]) != id.gid) id.groups.push_back(*number(g[2]));
        }
    }
    return id;
}

}  // namespace box
