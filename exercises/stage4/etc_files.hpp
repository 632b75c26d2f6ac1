// Chapter 4, inside the stage: /etc/hostname, /etc/hosts, /etc/resolv.conf.
#pragma once

#include <string>

#include "stage4.hpp"

namespace box::stage4 {

/// The container's /etc/resolv.conf from the host's text `host`: as it is
/// with the host's network; otherwise without loopback nameservers (the
/// host's own resolver cannot be reached from another network namespace), and
/// docker's fallback servers 8.8.8.8 and 8.8.4.4 if none is left.
std::string container_resolv_conf(const std::string& host, bool host_network);

/// The container's /etc/hosts: the host's (`host`) with the host's network;
/// otherwise docker's localhost lines and one for `hostname`.
std::string container_hosts(const std::string& hostname, const std::string& host, bool host_network);

/// Writes one of a container's files (STATE/containers/ID/hosts...) in place:
/// truncated, not replaced, so the file bind-mounted inside shows the new text
/// (chapter 7 rewrites /etc/hosts of running containers); a symlink is refused.
void write_etc_file(const std::string& path, const std::string& content);

/// Registers the extension that gives every recorded container the three files.
void add_etc_files_extension();

}  // namespace box::stage4
