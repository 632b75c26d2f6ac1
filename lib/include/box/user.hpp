/// @file user.hpp
/// @brief `-u USER[:GROUP]` parsed and resolved against the container's own /etc files.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace box {

/// The ids a container's command runs with.
struct Identity {
    uid_t uid = 0;  ///< user id
    gid_t gid = 0;  ///< primary group id
    std::vector<gid_t> groups;  ///< supplementary groups, from /etc/group
    std::string home = "/";     ///< from /etc/passwd, "/" if the user has no entry
};

/// Resolves a docker-style user spec (`name`, `uid`, `name:group`, `uid:gid`,
/// or empty for root) against the *contents* of the container's /etc/passwd
/// and /etc/group. A numeric uid need not be listed (docker allows it); a name
/// must be. Throws box::Error: `unable to find user NAME: no matching entries
/// in passwd file`, and likewise for groups; or for a malformed spec.
Identity resolve_user(std::string_view spec, const std::string& passwd, const std::string& group);

/// Checks the form of a user spec without resolving it (for early errors).
void check_user_spec(std::string_view spec);

}  // namespace box
