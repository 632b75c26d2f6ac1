/// @file
/// A transfer's progress bar, as docker draws them for pull, push and load.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace box {

/// One line "ID: VERB [=====>    ] 1.2MiB/3.4MiB  2.0MiB/s", redrawn in place at
/// most ten times a second, on `out` only if it is a terminal; elsewhere it
/// draws nothing and the caller prints plain lines of its own.
class Progress {
public:
    /// A transfer of `total` bytes of the thing `id`, drawn on `out`.
    Progress(std::string id, std::int64_t total, std::string verb, FILE* out = stdout);
    /// `done` bytes of the total are through.
    void update(std::int64_t done);
    /// Erases the line, if one was drawn (the caller prints the outcome).
    void finish();

private:
    std::string id_, verb_;
    std::int64_t total_;
    FILE* out_;
    bool tty_, drawn_ = false;
    std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace box
