#include "box/progress.hpp"

#include <unistd.h>

#include <algorithm>

#include "box/units.hpp"

namespace box {

Progress::Progress(std::string id, std::int64_t total, std::string verb, FILE* out)
    : id_(std::move(id)), verb_(std::move(verb)), total_(total), out_(out), tty_(isatty(fileno(out))),
      start_(std::chrono::steady_clock::now()) {}

void Progress::update(std::int64_t done) {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100) && done < total_) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    int width = 30, filled = total_ > 0 ? static_cast<int>(width * done / total_) : 0;
    std::string bar = std::string(static_cast<size_t>(std::min(filled, width)), '=') + ">";
    bar.resize(static_cast<size_t>(width) + 1, ' ');
    fprintf(out_, "\r%s: %s [%s] %s/%s  %s/s   ", id_.c_str(), verb_.c_str(), bar.c_str(), human_size(done, 4).c_str(),
            human_size(total_, 4).c_str(), human_size(static_cast<std::int64_t>(done / std::max(secs, 0.001)), 4).c_str());
    fflush(out_);
    drawn_ = true;
}

void Progress::finish() {
    if (drawn_) fprintf(out_, "\r\033[K");
    fflush(out_);
}

}  // namespace box
