#include "box/spec.hpp"

#include <charconv>

#include "box/error.hpp"
#include "box/util.hpp"

namespace box {

IdMapping parse_id_range(const std::string& text) {
    auto parts = split(text, ':');
    auto bad = [&] { return Error("invalid id range " + text, "expected HOSTID[:COUNT], e.g. 100000:65536"); };
    if (parts.size() > 2) throw bad();
    IdMapping m{0, 0, 65536};
    auto num = [&](const std::string& s, std::uint32_t& out) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (s.empty() || ec != std::errc() || p != s.data() + s.size()) throw bad();
    };
    num(parts[0], m.outside);
    if (parts.size() == 2) num(parts[1], m.count);
    if (m.count == 0) throw bad();
    if (m.outside == 0) throw Error("invalid id range " + text, "host id 0 would map the host's root into the container");
    if (static_cast<std::uint64_t>(m.outside) + m.count > 0xffffffffULL) throw bad();
    return m;
}

}  // namespace box
