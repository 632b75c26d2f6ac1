// Chapter 6: the views of a build — docker classic builder's lines, the
// compact view, -q — each a function of the build's events alone.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "box/error.hpp"
#include "box/reference.hpp"
#include "stage6.hpp"

namespace box::stage6 {
namespace {

using Kind = BuildEvent::Kind;

void put(FILE* out, const std::string& text) {
    fwrite(text.data(), 1, text.size(), out);
    fflush(out);
}

// What the RUN step under way wrote, for the views that show it only if the
// step fails: its last MiB (a step that floods its output keeps its end,
// where the error is).
class StepOutput {
public:
    void add(const std::string& bytes) {
        text_ += bytes;
        if (text_.size() > kKeep) text_.erase(0, text_.size() - kKeep);
    }
    void clear() { text_.clear(); }
    void show() {  // on stderr, where the error line follows
        put(stderr, text_);
        text_.clear();
    }

private:
    static constexpr size_t kKeep = 1 << 20;
    std::string text_;
};

}  // namespace

BuildEvents classic_view(FILE* out) {
    return [out](const BuildEvent& e) {
        switch (e.kind) {
        case Kind::Step:
            put(out, "Step " + std::to_string(e.index) + "/" + std::to_string(e.total) + " : " + e.text + "\n");
            break;
        case Kind::Pull:
        case Kind::Output: put(out, e.text); break;
        case Kind::Running: put(out, " ---> Running in " + e.text.substr(0, 12) + "\n"); break;
        case Kind::Removed: put(out, "Removing intermediate container " + e.text.substr(0, 12) + "\n"); break;
        case Kind::Done:
            if (e.cached) put(out, " ---> Using cache\n");
            if (!e.text.empty()) put(out, " ---> " + e.text + "\n");
            break;
        case Kind::Note:
        case Kind::Warning: put(out, e.text + "\n"); break;
        case Kind::Failed: break;  // the output came as it was written; the command prints the error
        case Kind::Built:
            put(out, "Successfully built " + e.text.substr(7, 12) + "\n");
            for (const auto& t : e.tags) put(out, "Successfully tagged " + parse_ref(t).familiar() + "\n");
            break;
        }
    };
}

BuildEvents compact_view(FILE* out, bool terminal) {
    struct View {
        FILE* out = nullptr;
        bool terminal = false;
        std::string line;   // the step under way: "[2/5] RUN ..."
        bool open = false;  // its line is not finished yet
        std::chrono::steady_clock::time_point started, build_started = std::chrono::steady_clock::now();
        size_t total = 0;
        StepOutput output;
    };
    auto v = std::make_shared<View>();
    v->out = out;
    v->terminal = terminal;
    return [v](const BuildEvent& e) {
        auto seconds = [](std::chrono::steady_clock::time_point since) {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
        };
        char buf[160];
        switch (e.kind) {
        case Kind::Step:
            // A line per step, written when it starts (on a terminal) and
            // completed in place when it ends.
            v->line = "[" + std::to_string(e.index) + "/" + std::to_string(e.total) + "] " + e.text;
            if (v->line.size() > 64) v->line = v->line.substr(0, 61) + "...";
            v->total = e.total;
            v->started = std::chrono::steady_clock::now();
            v->open = true;
            v->output.clear();
            if (v->terminal) put(v->out, " => " + v->line);
            break;
        case Kind::Output: v->output.add(e.text); break;
        case Kind::Done:
            if (!v->open) break;  // an ONBUILD trigger's step, within its FROM's line
            snprintf(buf, sizeof buf, "%s => %-71s %5.1fs\n", v->terminal ? "\r" : "",
                     ((e.cached ? "CACHED " : "") + v->line).c_str(), seconds(v->started));
            put(v->out, buf);
            v->open = false;
            break;
        case Kind::Warning: put(v->out, e.text + "\n"); break;
        case Kind::Failed:
            if (v->open && v->terminal) put(v->out, "\n");
            v->open = false;
            v->output.show();
            break;
        case Kind::Built:
            put(v->out, " => writing image " + e.text + "\n");
            for (const auto& t : e.tags) put(v->out, " => naming to " + t + "\n");
            snprintf(buf, sizeof buf, "[+] Building %.1fs (%zu/%zu) FINISHED\n", seconds(v->build_started), v->total,
                     v->total);
            put(v->out, buf);
            break;
        case Kind::Pull:  // the step's line and its time stand for it
        case Kind::Running:
        case Kind::Removed:
        case Kind::Note: break;
        }
    };
}

BuildEvents quiet_view() {
    auto output = std::make_shared<StepOutput>();
    return [output](const BuildEvent& e) {
        switch (e.kind) {
        case Kind::Pull: put(stderr, e.text); break;
        case Kind::Output: output->add(e.text); break;
        case Kind::Step: output->clear(); break;
        case Kind::Failed: output->show(); break;
        default: break;
        }
    };
}

std::unique_ptr<FILE, int (*)(FILE*)> event_stream(const BuildEvents& events, BuildEvent::Kind kind) {
    struct Target {
        const BuildEvents* events;
        BuildEvent::Kind kind;
    };
    cookie_io_functions_t io{};
    io.write = [](void* cookie, const char* data, size_t n) -> ssize_t {
        auto* t = static_cast<Target*>(cookie);
        try {
            (*t->events)({t->kind, std::string(data, n)});
        } catch (...) {  // a view's trouble is not the writer's: stdio cannot carry an exception
        }
        return static_cast<ssize_t>(n);
    };
    io.close = [](void* cookie) {
        delete static_cast<Target*>(cookie);
        return 0;
    };
    auto* target = new Target{&events, kind};
    FILE* f = fopencookie(target, "w", io);
    if (!f) {
        delete target;
        throw_errno("fopencookie", errno);
    }
    setvbuf(f, nullptr, _IOLBF, 0);  // a line at a time, as a terminal gets them
    return {f, fclose};
}

}  // namespace box::stage6
