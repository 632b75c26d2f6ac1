// Chapter 4, inside the stage: a container's changes as a list, a layer, a tar.
#pragma once

#include <string>
#include <vector>

#include "stage4.hpp"

namespace box::stage4 {

/// `box commit`'s flags.
struct CommitOptions {
    std::string reference;             ///< REPOSITORY[:TAG], or "" for an unnamed image
    std::string message;               ///< -m: the history entry's comment
    std::string author;                ///< -a
    std::vector<std::string> changes;  ///< -c 'CMD ...' and the like
};

/// Mounts image-based container `c`'s filesystem at its merged dir in a new
/// mount namespace of this process (so it vanishes when the process ends):
/// writable (its upper dir takes the writes; only while it does not run) or
/// read-only. Returns the merged dir.
std::string mount_privately(const Container& c, bool writable);
/// Prints `docker diff`'s lines: "A /path", "C /path", "D /path".
int diff(const Container& c);
/// Writes the container's filesystem as a tar to `output` (or stdout).
int export_container(const Container& c, const std::string& output);
/// Makes an image of the container's image plus a layer of its changes;
/// prints the new image's id.
int commit(const Container& c, const CommitOptions& options);

/// Writes the writable layer `upper` of a container as an OCI layer tar to
/// `file`: overlayfs's whiteouts become `.wh.NAME`, its opaque directories get
/// `.wh..wh..opq` (what `commit` stores; chapter 6's RUN steps too).
void write_layer(const std::string& upper, const std::string& file);

/// Registers `box diff`, `box commit` and `box export`.
void register_commit_commands();

}  // namespace box::stage4
