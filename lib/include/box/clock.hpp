/// @file clock.hpp
/// @brief Times as docker writes and shows them: RFC 3339 in UTC, and
/// "3 minutes" for people.
#pragma once

#include <optional>
#include <string>

namespace box {

/// Now, as RFC 3339 with nanoseconds in UTC: `2026-11-30T09:41:07.123456789Z`.
std::string now_rfc3339();

/// Seconds since the epoch of an RFC 3339 time (fraction and `Z` or an offset
/// allowed), or nothing if `text` is not one.
std::optional<double> parse_rfc3339(const std::string& text);

/// Seconds from `text` (RFC 3339) until now; nothing if it is not a time.
std::optional<double> seconds_since(const std::string& text);

/// A duration as docker says it: "Less than a second", "5 seconds",
/// "About a minute", "3 minutes", "About an hour", "5 hours", "3 days",
/// "2 weeks", "4 months", "2 years".
std::string human_duration(double seconds);

/// `human_duration(since text) + " ago"`, or "N/A" if `text` is not a time.
std::string ago(const std::string& text);

}  // namespace box
