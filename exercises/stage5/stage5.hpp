/// @file stage5.hpp
/// @brief Chapter 5: a container's root is not the host's root — the
/// capabilities it keeps, the system calls it may make (seccomp), what of
/// /proc and /sys it sees, and which devices it may use.
///
/// Every process box puts into a container goes through these, in this order
/// (lib/'s confinement.hpp calls them; the devices and the masks are set up
/// by the container's "security" extension):
///
///     box, before clone:   resolve_capabilities(), seccomp_filter(), the
///                          devices cgroup: write_v1_rules() or device_program()
///     child, first:        joins that devices cgroup (or is born in it)
///     child, before pivot: mask_paths(), --tmpfs, --read-only
///     child, still root:   setrlimit (--ulimit), limit_bounding_set(),
///                          load_filter() unless no_new_privs
///     child:               chapter 1's set_identity()
///     child, before exec:  set_capabilities(), no_new_privs, load_filter()
///
/// The two child steps are SecurityConfinement::before_identity() and
/// before_exec() in security.cpp (advanced exercises 13 and 14; their
/// contracts are in chapter 5, section 5.7).
#pragma once

#include <linux/bpf.h>
#include <linux/filter.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "box/spec.hpp"

namespace box::stage5 {

// ---- capabilities (capabilities.cpp) -------------------------------------

/// A set of capabilities: bit N is capability number N (CAP_CHOWN is 0,
/// CAP_SYS_ADMIN 21; capabilities(7) and <linux/capability.h> number them).
using CapSet = std::uint64_t;

/// The bit of capability `number`.
constexpr CapSet bit(int number) { return CapSet{1} << number; }

/// docker's default set for a container's root: CHOWN, DAC_OVERRIDE, FSETID,
/// FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP,
/// NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE.
CapSet default_capabilities();

/// The highest capability number this kernel has (/proc/sys/kernel/cap_last_cap).
int last_capability();

/// Exercise 1: the number of capability `name` as docker takes it: with or
/// without `CAP_`, any case ("net_admin", "CAP_NET_ADMIN" → 12). Throws
/// box::Error `invalid capability "NAME"` for a name this kernel does not
/// have (and for ALL, which is not one capability).
int capability_number(const std::string& name);

/// "CAP_NET_ADMIN" for 12.
std::string capability_name(int number);

/// The names of the capabilities in `set`, lowest number first, separated by blanks.
std::string capability_names(CapSet set);

/// The capabilities in this process's bounding set: the most box can give.
CapSet bounding_capabilities();

/// Exercise 2: what a container's processes get, by docker's rules:
/// `--privileged` gives `available`; else if --cap-add names ALL, every
/// capability of `available` but those in --cap-drop; else if --cap-drop
/// names ALL, only those in --cap-add; else the default set, less --cap-drop,
/// plus --cap-add. Never more than `available`. Throws box::Error for an
/// unknown name (capability_number()).
CapSet resolve_capabilities(const SecuritySpec& security, CapSet available);

/// Exercise 3: in the child, before set_identity(): drops every capability
/// not in `keep` from the bounding set (prctl PR_CAPBSET_DROP: no execve can
/// bring them back), then sets PR_SET_KEEPCAPS so that a switch to another
/// user keeps the permitted set, then writes one trace::line() naming
/// PR_CAPBSET_DROP and PR_SET_KEEPCAPS (the --explain test looks for both).
/// Throws box::Error.
void limit_bounding_set(CapSet keep);

/// Exercise 4: in the child, after set_identity(): permitted and effective
/// become `keep` if the process is `root` (uid 0) and empty otherwise (docker's
/// rule for --user); inheritable and ambient become empty; PR_SET_KEEPCAPS
/// is cleared; then one trace::line() starting "capset(". Throws box::Error.
void set_capabilities(CapSet keep, bool root);

// ---- seccomp (seccomp.cpp) ------------------------------------------------

/// One condition on a system call's argument (a profile's "args" entry).
struct SeccompArg {
    unsigned index = 0;           ///< which argument, 0..5
    std::uint64_t value = 0;      ///< "value" (MASKED_EQ: the mask)
    std::uint64_t value_two = 0;  ///< "valueTwo" (MASKED_EQ: what the masked argument must equal)
    std::string op;               ///< "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", ...
};

/// One entry of a profile's "syscalls".
struct SeccompRule {
    std::vector<std::string> names;        ///< the system calls ("names", or the older "name")
    std::string action;                    ///< "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", ...
    std::optional<unsigned> errno_ret;     ///< "errnoRet" (ERRNO and TRACE; default EPERM)
    std::vector<SeccompArg> args;          ///< "args": all must hold (several on one argument: any)
    std::vector<std::string> include_caps;   ///< "includes.caps": only if every one is held
    std::vector<std::string> exclude_caps;   ///< "excludes.caps": only if none is held
    std::vector<std::string> include_arches; ///< "includes.arches" (Go's names: amd64, arm64, ...)
    std::vector<std::string> exclude_arches; ///< "excludes.arches"
    std::string include_min_kernel;        ///< "includes.minKernel": only on this kernel or later ("4.8")
    std::string exclude_min_kernel;        ///< "excludes.minKernel": only on an older kernel
};

/// A seccomp profile in docker's JSON format.
struct SeccompProfile {
    std::string default_action;          ///< "defaultAction"
    std::optional<unsigned> default_errno;  ///< "defaultErrnoRet"
    std::vector<std::string> architectures; ///< "architectures" (the older form)
    /// "archMap": an architecture and the ones that come with it (x86-64 brings x86 and x32).
    std::vector<std::pair<std::string, std::vector<std::string>>> arch_map;
    std::vector<SeccompRule> rules;      ///< "syscalls", in order
};

/// box's default profile (default-seccomp.json, compiled in).
const std::string& default_profile();
/// Its digest, `sha256:...`, worked out when box was built.
const char* default_profile_digest();

/// Advanced exercise 9: reads a profile. Unknown keys are ignored (docker's
/// and podman's profiles carry comments and keys box has no use for).
/// Throws box::Error `seccomp profile: WHAT` naming the field that is wrong.
SeccompProfile parse_profile(const std::string& text);


/// Exercise 5: whether `rule` is part of the filter of a container with
/// capabilities `caps` on architecture `arch` (Go's name: amd64) and kernel
/// `kernel` (uname -r): docker's includes/excludes rules. A capability this
/// kernel does not know counts as not held.
bool rule_applies(const SeccompRule& rule, CapSet caps, const std::string& arch, const std::string& kernel);

/// Advanced exercise 10: the BPF program of `profile` for a container with
/// `caps`, made with libseccomp (loaded with dlopen: only here). Names
/// libseccomp does not know are skipped, as docker does. Throws box::Error.
std::vector<sock_filter> compile_profile(const SeccompProfile& profile, CapSet caps);

/// Advanced exercise 11: the program of profile `text` (whose digest is
/// `digest`, or "" to work it out) for `caps`: from the cache in
/// STATE_ROOT/seccomp if it is there, else compiled and put there (written
/// whole or not at all). Throws box::Error.
std::vector<sock_filter> seccomp_filter(const std::string& text, const std::string& digest, CapSet caps);

/// Exercise 6: installs `program` as this process's seccomp filter
/// (prctl PR_SET_SECCOMP): without no_new_privs it needs CAP_SYS_ADMIN.
/// Then one trace::line() naming PR_SET_SECCOMP. Throws box::Error.
void load_filter(const std::vector<sock_filter>& program);

// ---- /proc, /sys and the root (paths.cpp) ---------------------------------

/// docker's masked paths: hidden behind an empty mount.
const std::vector<std::string>& masked_paths();
/// docker's read-only paths (and /proc/sysrq-trigger, which docker 20.10 misses).
const std::vector<std::string>& readonly_paths();

/// Exercise 8: under `rootfs` (a host path, before pivot_root): each of
/// `masked` that exists gets an empty read-only tmpfs over it (a directory)
/// or /dev/null bound over it (a file); each of `readonly` that exists is
/// bound onto itself and remounted read-only. Throws box::Error.
void mask_paths(const std::string& rootfs, const std::vector<std::string>& masked,
                const std::vector<std::string>& readonly);

/// --privileged: a read-write sysfs in place of chapter 1's read-only one.
void make_sys_writable(const std::string& rootfs);
/// --tmpfs: a tmpfs at each path (noexec, nosuid, nodev unless the options say otherwise).
void mount_tmpfs(const std::string& rootfs, const std::map<std::string, std::string>& tmpfs);
/// --read-only: the root's own mount becomes read-only.
void make_root_read_only(const std::string& rootfs);
/// --device (and --privileged's host devices): their nodes under rootfs/dev
/// (bound from the host's in a user namespace, which may not mknod).
void make_device_nodes(const std::string& rootfs, const std::vector<DeviceMapping>& devices, bool in_userns);
/// --privileged: the device nodes of the host's /dev.
std::vector<DeviceMapping> host_devices();

// ---- devices (devices.cpp) ------------------------------------------------

/// One rule of the devices cgroup, as cgroup v1 writes it: "c 1:3 rwm".
struct DeviceRule {
    char type = 'a';          ///< 'c' character, 'b' block, 'a' all
    std::int64_t major = -1;  ///< -1: any
    std::int64_t minor = -1;  ///< -1: any
    std::string access = "rwm";  ///< r read, w write, m mknod
    /// "c 1:3 rwm", "b *:* m".
    std::string text() const;
};

/// docker's allow list: mknod of any node; null, zero, full, random,
/// urandom, tty, console, ptmx, and the pseudo-terminals (136:*).
std::vector<DeviceRule> default_device_rules();

/// The rule for a --device: its type and numbers from the host's node.
/// Throws box::Error if it is not a device.
DeviceRule device_rule(const DeviceMapping& device);

/// Exercise 7: cgroup v1's devices controller: denies everything in cgroup
/// directory `dir`, then allows each of `rules`. Throws box::Error.
void write_v1_rules(const std::string& dir, const std::vector<DeviceRule>& rules);

/// Advanced exercise 12: cgroup v2's way: a BPF_PROG_TYPE_CGROUP_DEVICE
/// program that returns 1 for an access one of `rules` allows, else 0.
std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);

/// Loads `program` and attaches it to the cgroup v2 directory `cgroup_dir`.
/// Throws box::Error (with the verifier's words if it refused the program).
void attach_device_program(const std::string& cgroup_dir, const std::vector<bpf_insn>& program);

// ---- the flags, and what every container gets (security.cpp) --------------

/// --ulimit NAME=SOFT[:HARD] (HARD defaults to SOFT; -1 or unlimited). Throws box::Error.
Ulimit parse_ulimit(const std::string& text);

/// --device HOST[:CONTAINER][:PERMISSIONS]. Throws box::Error.
DeviceMapping parse_device(const std::string& text);

/// Adds chapter 5's flags to `run` and `create`, its fields to the request and
/// `inspect`, and its protections to every container and every `exec`.
void register_commands();

}  // namespace box::stage5
