/// @file util.hpp
/// @brief Small helpers: strings, files, random ids.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace box {

/// Splits `s` at every `sep`; empty fields are kept.
std::vector<std::string> split(std::string_view s, char sep);
/// The words with `sep` between each two (split()'s inverse).
std::string join(const std::vector<std::string>& words, const char* sep = " ");
/// `s` with ASCII letters in lower case.
std::string to_lower(std::string_view s);
/// `s` with ASCII letters in upper case.
std::string to_upper(std::string_view s);
/// True if `s` starts with `prefix`.
inline bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}
/// `s` as a decimal number of type T if all of it is one (no sign for an
/// unsigned T, no blanks, no trailing text) and it fits; else nothing.
template <class T>
std::optional<T> parse_number(std::string_view s) {
    T value{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return value;
}
/// The major and minor of a kernel release ("6.1.0-18-amd64" → {6, 1};
/// {0, 0} for text that does not start with a number).
std::pair<int, int> kernel_version(const std::string& release);
/// This machine's architecture as OCI images and Go name it: "amd64",
/// "arm64", ... (the platform box pulls, and seccomp profiles' "arches").
const char* native_arch();
/// `n` random lowercase hex digits from the kernel's random pool.
std::string random_hex(size_t n);

/// The whole content of a file; throws box::Error naming the path on failure.
std::string read_file(const std::string& path);
/// The content of a file, or nothing if it cannot be read.
std::optional<std::string> try_read_file(const std::string& path);
/// Writes a file so that readers see the old or the new content, never a mix:
/// write to a temporary file beside it, fsync, rename over the old one.
/// Without `sync` no fsync: still atomic for readers and for a killed process,
/// but not durable across a power cut (for records that are thrown away soon).
void write_file_atomic(const std::string& path, const std::string& content, unsigned mode = 0644, bool sync = true);
/// Writes all of `len` bytes of `buf` to `fd` (again after EINTR and short
/// writes); false if that fails (the reader is gone).
bool write_all(int fd, const char* buf, size_t len);
/// mkdir -p. Throws box::Error naming the path on failure.
void make_dirs(const std::string& path);
/// True if `path` exists (following symlinks).
bool exists(const std::string& path);
/// True if `path` is a directory (following symlinks).
bool is_directory(const std::string& path);
/// The bytes of the files under `dir` (a file with several names counted
/// once; symlinks not followed, other filesystems not entered), as docker
/// sizes a layer or a volume; 0 if `dir` does not exist.
std::int64_t tree_size(const std::string& dir);

/// The state root: `--root`, else $BOX_ROOT, else /var/lib/box.
const std::string& state_root();
/// Sets the state root (done once by the CLI).
void set_state_root(std::string root);

}  // namespace box
