/// @file reference.hpp
/// @brief Image references (`busybox`, `host:5000/team/app:v2`, `name@sha256:...`)
/// read with docker's rules.
#pragma once

#include <string>

namespace box {

/// An image reference as docker reads it: `busybox` is
/// docker.io/library/busybox:latest.
struct ImageRef {
    std::string domain;  ///< registry host[:port], e.g. docker.io or 127.0.0.1:5000
    std::string path;    ///< repository path, e.g. library/busybox
    std::string tag;     ///< e.g. latest; empty if only a digest was given
    std::string digest;  ///< e.g. sha256:...; empty if none

    /// domain/path:tag (or domain/path\@DIGEST): the name box stores.
    std::string full() const;
    /// As docker prints it: without docker.io/ and library/ (`busybox:latest`).
    std::string familiar() const;
    /// The repository without the tag, as `box images` prints it (`busybox`).
    std::string repository() const;
};

/// Parses a reference with docker's rules; throws box::Error (`invalid
/// reference format ...`) for anything else.
ImageRef parse_ref(const std::string& text);

}  // namespace box
