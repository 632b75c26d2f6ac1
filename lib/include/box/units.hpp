/// @file units.hpp
/// @brief docker's units on the command line: `64m`, `0.5` CPUs, `0-1,3`, `1m30s`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace box {

/// Parses a size as docker does: a number with an optional unit b, k, m, g
/// (powers of 1024; upper case and a trailing "b" as in "64mb" accepted).
/// Throws box::Error naming `flag` on anything else, or a negative size.
std::int64_t parse_bytes(const std::string& text, const std::string& flag);

/// Formats bytes for people in powers of 1024: `512B`, `12.5KiB`, `64MiB`
/// (docker's form for memory: stats, limits).
std::string format_bytes(std::int64_t bytes);

/// Formats bytes in powers of 1000 with `digits` significant digits, docker's
/// form for image and transfer sizes: `2.14MB`, `126MB`, `1.2kB`, `0B`.
std::string human_size(std::int64_t bytes, int digits = 3);

/// Parses a decimal number of CPUs (`0.5`, `2`); throws box::Error naming
/// `flag` unless it is a positive number.
double parse_cpus(const std::string& text, const std::string& flag);

/// The CPUs in a cpuset list such as `0-2,4`; throws box::Error naming `flag`
/// on a malformed list or a CPU number not below `cpu_count`.
std::vector<unsigned> parse_cpu_list(const std::string& text, unsigned cpu_count,
                                     const std::string& flag);

/// Parses a duration as Go's time.ParseDuration does (docker's flags and
/// HEALTHCHECK's options): `0`, or a signed sequence of decimal numbers each
/// with a unit ns, us (µs), ms, s, m, h — `300ms`, `1m30s`, `1.5h`; returns
/// nanoseconds. Throws box::Error `invalid argument "TEXT" for "FLAG" flag`
/// with Go's reason (`time: invalid duration "TEXT"`, `time: missing unit...`).
std::int64_t parse_duration(const std::string& text, const std::string& flag);

/// Formats nanoseconds as Go's Duration.String does: `0s`, `300ms`, `1.5s`,
/// `1m0s`, `2h0m0s` (the form docker's messages show a duration in).
std::string format_duration(std::int64_t nanoseconds);

}  // namespace box
