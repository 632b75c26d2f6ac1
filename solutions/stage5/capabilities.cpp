// Chapter 5: capabilities — root's powers, cut into pieces, and the few a
// container's root keeps.
#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "box/error.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"
#include "stage5.hpp"

namespace box::stage5 {

CapSet default_capabilities() {
    // docker's list (moby's DefaultCapabilities), in the kernel's numbering.
    const cap_value_t docker[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,     CAP_FOWNER,           CAP_MKNOD,
                                  CAP_NET_RAW, CAP_SETGID,      CAP_SETUID,     CAP_SETFCAP,          CAP_SETPCAP,
                                  CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE};
    CapSet set = 0;
    for (cap_value_t c : docker) set |= bit(c);
    return set;
}

int last_capability() {
    // The kernel's highest number (/proc/sys/kernel/cap_last_cap), as libcap reads it.
    return static_cast<int>(cap_max_bits()) - 1;
}

int capability_number(const std::string& name) {
    // BEGIN EXERCISE 1: capability_number()
    std::string lower = to_lower(name);
    if (lower.rfind("cap_", 0) != 0) lower = "cap_" + lower;  // docker takes NET_ADMIN and CAP_NET_ADMIN
    cap_value_t value = 0;
    if (lower == "cap_" || cap_from_name(lower.c_str(), &value) != 0 || value < 0 || value > last_capability() ||
        std::isdigit(static_cast<unsigned char>(lower[4])))  // libcap reads "cap_12" as a number: not a name
        throw Error("invalid capability \"" + name + "\"", "not a capability of this kernel (see capabilities(7))");
    return value;
    // END EXERCISE
}

std::string capability_name(int number) {
    char* text = cap_to_name(static_cast<cap_value_t>(number));
    std::string name = to_upper(text ? text : std::to_string(number));
    cap_free(text);
    return name;
}

std::string capability_names(CapSet set) {
    std::string out;
    for (int c = 0; c <= 63; ++c)
        if (set & bit(c)) out += (out.empty() ? "" : " ") + capability_name(c);
    return out;
}

CapSet bounding_capabilities() {
    CapSet set = 0;
    for (int c = 0; c <= last_capability(); ++c)
        if (cap_get_bound(static_cast<cap_value_t>(c)) == 1) set |= bit(c);
    return set;
}

CapSet resolve_capabilities(const SecuritySpec& security, CapSet available) {
    // BEGIN EXERCISE 2: resolve_capabilities()
    if (security.privileged) return available;
    auto is_all = [](const std::string& name) { return to_upper(name) == "ALL" || to_upper(name) == "CAP_ALL"; };
    auto has_all = [&](const std::vector<std::string>& names) { return std::any_of(names.begin(), names.end(), is_all); };
    auto bits = [&](const std::vector<std::string>& names) {
        CapSet set = 0;
        for (const auto& name : names)
            if (!is_all(name)) set |= bit(capability_number(name));  // an unknown name throws
        return set;
    };
    CapSet add = bits(security.cap_add), drop = bits(security.cap_drop);
    // docker's rules: ALL added gives every capability but those dropped;
    // else ALL dropped leaves only those added; else the default set, less
    // those dropped, plus those added.
    CapSet set;
    if (has_all(security.cap_add)) set = available & ~drop;
    else if (has_all(security.cap_drop)) set = add;
    else set = (default_capabilities() & ~drop) | add;
    return set & available;  // what box itself does not have, it cannot give
    // END EXERCISE
}

void limit_bounding_set(CapSet keep) {
    // BEGIN EXERCISE 3: limit_bounding_set()
    // Dropping from the bounding set needs CAP_SETPCAP, which we still have:
    // do it before set_identity() takes it away.
    for (int c = 0; c <= last_capability(); ++c)
        if (!(keep & bit(c)) && cap_drop_bound(static_cast<cap_value_t>(c)) != 0)
            throw_errno("prctl(PR_CAPBSET_DROP, " + capability_name(c) + ")", errno);
    // A setuid to another user would empty the permitted set: keep it, so
    // that set_capabilities() can still choose after the switch.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_KEEPCAPS)", errno);
    if (trace::enabled())
        trace::line("prctl(PR_CAPBSET_DROP, ...) kept " + capability_names(keep) + "; prctl(PR_SET_KEEPCAPS, 1) = 0");
    // END EXERCISE
}

void set_capabilities(CapSet keep, bool root) {
    // BEGIN EXERCISE 4: set_capabilities()
    // docker's rule: root gets `keep` permitted and effective; another user
    // gets none of them (as after an execve of a plain program), only the
    // bounding set. Inheritable and ambient stay empty.
    cap_t caps = cap_init();  // every set empty
    if (!caps) throw_errno("cap_init", errno);
    std::vector<cap_value_t> list;
    for (int c = 0; c <= last_capability(); ++c)
        if (keep & bit(c)) list.push_back(static_cast<cap_value_t>(c));
    if (root && !list.empty()) {
        cap_set_flag(caps, CAP_PERMITTED, static_cast<int>(list.size()), list.data(), CAP_SET);
        cap_set_flag(caps, CAP_EFFECTIVE, static_cast<int>(list.size()), list.data(), CAP_SET);
    }
    int rc = cap_set_proc(caps);
    int err = errno;
    cap_free(caps);
    if (rc != 0) throw_errno("capset", err);
    // One call (libcap's cap_reset_ambient() asks for each capability first).
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        throw_errno("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", errno);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_KEEPCAPS)", errno);
    if (trace::enabled())
        trace::line("capset(permitted=effective=" + (root ? capability_names(keep) : std::string("none")) +
                    ", inheritable=none) = 0");
    // END EXERCISE
}

}  // namespace box::stage5
