// Chapter 4, inside the stage: a container's log.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "stage4.hpp"

namespace box::stage4 {

/// One line of a container's output, as the shim logged it.
struct LogLine {
    bool from_stderr = false;  ///< written to its stderr (else its stdout)
    std::string time;     ///< RFC 3339, when the shim read it
    std::string text;     ///< the line, with its newline (a last line may have none)
};

/// Which lines `box logs` reads.
struct LogQuery {
    bool follow = false;       ///< -f: then new lines, until the container stops
    std::string tail = "all";  ///< -n: that many last lines, or "all"
    std::string since;         ///< --since: an RFC 3339 time or a duration ago ("10m")
};

/// The time `since` (RFC 3339, or "42m" ago) means, in seconds; none for "".
/// Throws box::Error on anything else.
std::optional<double> since_time(const std::string& since);

/// Hands `sink` the lines of container `c`'s log that `query` asks for, in
/// order (and, following, each new one as it comes); prints nothing (compose
/// prefixes each with its service). Throws box::Error on a bad query.
void read_logs(const Container& c, const LogQuery& query, const std::function<void(const LogLine&)>& sink);

/// Registers `box logs [-f] [-t] [--tail N] [--since T]`.
void register_logs_command();

}  // namespace box::stage4
