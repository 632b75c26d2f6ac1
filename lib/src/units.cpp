#include "box/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "box/error.hpp"
#include "box/util.hpp"

namespace box {

std::int64_t parse_bytes(const std::string& text, const std::string& flag) {
    auto bad = [&] {
        return Error("invalid value \"" + text + "\" for " + flag,
                     "expected a size such as 512k, 64m or 1g (units b, k, m, g)");
    };
    size_t digits = 0;
    while (digits < text.size() && (isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
        ++digits;
    if (digits == 0) throw bad();
    double value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + digits, value);
    if (ec != std::errc() || p != text.data() + digits) throw bad();
    std::string unit = to_lower(text.substr(digits));
    if (unit.size() == 2 && unit[1] == 'b' && unit[0] != 'b') unit.pop_back();  // "mb" = "m"
    double scale = unit.empty() || unit == "b" ? 1
                   : unit == "k"               ? 1024.0
                   : unit == "m"               ? 1024.0 * 1024
                   : unit == "g"               ? 1024.0 * 1024 * 1024
                                               : -1;
    if (scale < 0) throw bad();
    double bytes = value * scale;
    if (bytes > 9.2e18) throw bad();
    return static_cast<std::int64_t>(bytes);
}

namespace {
// `bytes` in the largest of `units` (each `base` times the one before) that
// keeps the number at least 1; returns the number and sets `unit`.
double scale(std::int64_t bytes, double base, int units, int& unit) {
    double v = static_cast<double>(bytes);
    for (unit = 0; v >= base && unit < units - 1; ++unit) v /= base;
    return v;
}
}  // namespace

std::string human_size(std::int64_t bytes, int digits) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u;
    double v = scale(bytes, 1000, 6, u);
    char buf[32];
    snprintf(buf, sizeof buf, "%.*g%s", digits, v, units[u]);
    return buf;
}

std::string format_bytes(std::int64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u;
    double v = scale(bytes, 1024, 5, u);
    char buf[32];
    if (u == 0 || v == std::floor(v)) snprintf(buf, sizeof buf, "%.0f%s", v, units[u]);
    else snprintf(buf, sizeof buf, "%.1f%s", v, units[u]);
    return buf;
}

double parse_cpus(const std::string& text, const std::string& flag) {
    double value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !(value > 0) ||
        !std::isfinite(value))
        throw Error("invalid value \"" + text + "\" for " + flag, "expected a positive number of CPUs, e.g. 0.5");
    return value;
}

std::vector<unsigned> parse_cpu_list(const std::string& text, unsigned cpu_count, const std::string& flag) {
    auto bad = [&](const std::string& why) { return Error("invalid value \"" + text + "\" for " + flag, why); };
    auto num = [&](const std::string& s) {
        auto n = parse_number<unsigned>(s);
        if (!n) throw bad("expected CPU numbers such as 0-1 or 0,2");
        unsigned v = *n;
        if (v >= cpu_count)
            throw bad("CPU " + std::to_string(v) + " does not exist (CPUs 0-" + std::to_string(cpu_count - 1) +
                      " are online)");
        return v;
    };
    std::set<unsigned> cpus;
    for (const auto& part : split(text, ',')) {
        auto range = split(part, '-');
        if (range.size() == 1) {
            cpus.insert(num(range[0]));
        } else if (range.size() == 2) {
            unsigned a = num(range[0]), b = num(range[1]);
            if (a > b) throw bad("a range must go upwards");
            for (unsigned c = a; c <= b; ++c) cpus.insert(c);
        } else {
            throw bad("expected CPU numbers such as 0-1 or 0,2");
        }
    }
    return {cpus.begin(), cpus.end()};
}

std::int64_t parse_duration(const std::string& text, const std::string& flag) {
    auto bad = [&](const std::string& why) {
        return Error("invalid argument \"" + text + "\" for \"" + flag + "\" flag", "time: " + why);
    };
    std::string_view s = text;
    bool negative = !s.empty() && s[0] == '-';
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
    if (s == "0") return 0;
    if (s.empty()) throw bad("invalid duration \"" + text + "\"");
    static const std::pair<std::string_view, double> units[] = {
        {"ns", 1},     {"us", 1e3},   {"\u00b5s", 1e3}, {"\u03bcs", 1e3},
        {"ms", 1e6},   {"s", 1e9},    {"m", 60e9},      {"h", 3600e9}};
    double total = 0;
    while (!s.empty()) {
        size_t n = 0;
        while (n < s.size() && (isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
        double value = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + n, value);
        if (n == 0 || ec != std::errc() || end != s.data() + n) throw bad("invalid duration \"" + text + "\"");
        s.remove_prefix(n);
        size_t u = 0;
        while (u < s.size() && s[u] != '.' && !isdigit(static_cast<unsigned char>(s[u]))) ++u;
        if (u == 0) throw bad("missing unit in duration \"" + text + "\"");
        std::string_view unit = s.substr(0, u);
        s.remove_prefix(u);
        double scale = 0;
        for (const auto& [name, ns] : units)
            if (unit == name) scale = ns;
        if (scale == 0) throw bad("unknown unit \"" + std::string(unit) + "\" in duration \"" + text + "\"");
        total += value * scale;
    }
    if (total > 9.2e18) throw bad("invalid duration \"" + text + "\"");
    auto ns = static_cast<std::int64_t>(std::llround(total));
    return negative ? -ns : ns;
}

std::string format_duration(std::int64_t ns) {
    if (ns == 0) return "0s";
    std::string sign = ns < 0 ? "-" : "";
    std::uint64_t u = ns < 0 ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
    // "1.500" → "1.5"; "2.000" → "2"
    auto decimal = [](std::uint64_t whole, std::uint64_t frac, int digits) {
        std::string f = std::to_string(frac);
        f = std::string(static_cast<size_t>(digits) - f.size(), '0') + f;
        while (!f.empty() && f.back() == '0') f.pop_back();
        return std::to_string(whole) + (f.empty() ? "" : "." + f);
    };
    if (u < 1000) return sign + std::to_string(u) + "ns";
    if (u < 1000000) return sign + decimal(u / 1000, u % 1000, 3) + "\u00b5s";
    if (u < 1000000000) return sign + decimal(u / 1000000, u % 1000000, 6) + "ms";
    std::uint64_t seconds = u / 1000000000, hours = seconds / 3600, minutes = seconds / 60 % 60;
    std::string out = decimal(seconds % 60, u % 1000000000, 9) + "s";
    if (hours > 0 || minutes > 0) out = std::to_string(minutes) + "m" + out;
    if (hours > 0) out = std::to_string(hours) + "h" + out;
    return sign + out;
}

}  // namespace box
