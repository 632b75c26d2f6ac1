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
    // EXERCISE 1: write capability_number() — see chapters/05-security/README.md, exercise 1.
    // Replace the line below with your code.
    box::not_implemented("capability_number()", "chapters/05-security", 1);
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
    // EXERCISE 2: write resolve_capabilities() — see chapters/05-security/README.md, exercise 2.
    // Replace the line below with your code.
    box::not_implemented("resolve_capabilities()", "chapters/05-security", 2);
}

void limit_bounding_set(CapSet keep) {
    // EXERCISE 3: write limit_bounding_set() — see chapters/05-security/README.md, exercise 3.
    // Replace the line below with your code.
    box::not_implemented("limit_bounding_set()", "chapters/05-security", 3);
}

void set_capabilities(CapSet keep, bool root) {
    // EXERCISE 4: write set_capabilities() — see chapters/05-security/README.md, exercise 4.
    // Replace the line below with your code.
    box::not_implemented("set_capabilities()", "chapters/05-security", 4);
}

}  // namespace box::stage5
