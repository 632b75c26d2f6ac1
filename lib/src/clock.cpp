#include "box/clock.hpp"

#include <cstdio>
#include <ctime>

namespace box {

std::string now_rfc3339() {
    struct timespec ts {};
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm {};
    gmtime_r(&ts.tv_sec, &tm);
    char date[32], out[48];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sizeof out, "%s.%09ldZ", date, ts.tv_nsec);
    return out;
}

std::optional<double> parse_rfc3339(const std::string& text) {
    struct tm tm {};
    const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) return std::nullopt;
    double seconds = static_cast<double>(timegm(&tm));
    if (*rest == '.') {
        double scale = 0.1;
        for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10) seconds += (*rest - '0') * scale;
    }
    if (*rest == '+' || *rest == '-') {  // an offset: local time = UTC + offset
        int h = 0, m = 0;
        if (sscanf(rest + 1, "%2d:%2d", &h, &m) != 2) return std::nullopt;
        seconds -= (*rest == '+' ? 1 : -1) * (h * 3600 + m * 60);
    } else if (*rest != 'Z') {
        return std::nullopt;
    }
    return seconds;
}

std::optional<double> seconds_since(const std::string& text) {
    auto t = parse_rfc3339(text);
    if (!t) return std::nullopt;
    struct timespec ts {};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9 - *t;
}

std::string human_duration(double seconds) {
    auto n = [](double v) { return std::to_string(static_cast<long>(v)); };
    double minutes = seconds / 60, hours = minutes / 60;
    if (seconds < 1) return "Less than a second";
    if (static_cast<long>(seconds) == 1) return "1 second";
    if (seconds < 60) return n(seconds) + " seconds";
    if (static_cast<long>(minutes) == 1) return "About a minute";
    if (minutes < 60) return n(minutes) + " minutes";
    if (static_cast<long>(hours) == 1) return "About an hour";
    if (hours < 48) return n(hours) + " hours";
    if (hours < 24 * 7 * 2) return n(hours / 24) + " days";
    if (hours < 24 * 30 * 2) return n(hours / 24 / 7) + " weeks";
    if (hours < 24 * 365 * 2) return n(hours / 24 / 30) + " months";
    return n(hours / 24 / 365) + " years";
}

std::string ago(const std::string& text) {
    auto s = seconds_since(text);
    return s ? human_duration(*s < 0 ? 0 : *s) + " ago" : "N/A";
}

}  // namespace box
