// Chapter 5: seccomp — a filter, in the kernel, on every system call the
// container's processes make. Profiles are docker's JSON; libseccomp turns
// one into the BPF program the kernel runs; box keeps that program in a
// cache, so a container's start only loads it.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "box/digest.hpp"
#include "box/dynamic_library.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"
#include "stage5.hpp"

namespace box::stage5 {
namespace {

using json = nlohmann::json;

const std::set<std::string> kActions = {"SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                        "SCMP_ACT_KILL_THREAD",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
                                        "SCMP_ACT_TRACE",        "SCMP_ACT_LOG"};
const std::map<std::string, scmp_compare> kOps = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};

// A JSON field that may be missing or null.
const json* field(const json& j, const char* name) {
    auto it = j.find(name);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::vector<std::string> strings(const json* j, const std::string& what) {
    std::vector<std::string> out;
    if (!j) return out;
    if (!j->is_array()) throw Error("seccomp profile", what + ": not a list");
    for (const auto& s : *j) {
        if (!s.is_string()) throw Error("seccomp profile", what + ": not a list of strings");
        out.push_back(s.get<std::string>());
    }
    return out;
}

// libseccomp, loaded only when a filter is compiled (a cache miss).
struct Libseccomp {
    decltype(&seccomp_init) init;
    decltype(&seccomp_release) release;
    decltype(&seccomp_arch_add) arch_add;
    decltype(&seccomp_arch_native) arch_native;
    decltype(&seccomp_arch_resolve_name) arch_resolve_name;
    decltype(&seccomp_syscall_resolve_name) syscall_resolve_name;
    decltype(&seccomp_rule_add_array) rule_add_array;
    decltype(&seccomp_export_bpf) export_bpf;
    decltype(&seccomp_attr_set) attr_set;
};

const Libseccomp& libseccomp() {
    static const Libseccomp api = [] {
        static const DynamicLibrary lib("libseccomp.so.2", "libseccomp2");
        Libseccomp a{};
        lib.get(a.init, "seccomp_init");
        lib.get(a.release, "seccomp_release");
        lib.get(a.arch_add, "seccomp_arch_add");
        lib.get(a.arch_native, "seccomp_arch_native");
        lib.get(a.arch_resolve_name, "seccomp_arch_resolve_name");
        lib.get(a.syscall_resolve_name, "seccomp_syscall_resolve_name");
        lib.get(a.rule_add_array, "seccomp_rule_add_array");
        lib.get(a.export_bpf, "seccomp_export_bpf");
        lib.get(a.attr_set, "seccomp_attr_set");
        return a;
    }();
    return api;
}

// "SCMP_ARCH_X86_64" → libseccomp's token for it; throws for a name it does not know.
std::uint32_t arch_token(const std::string& name) {
    std::string lower = to_lower(name.rfind("SCMP_ARCH_", 0) == 0 ? name.substr(10) : name);
    std::uint32_t token = libseccomp().arch_resolve_name(lower.c_str());
    if (token == 0) throw Error("seccomp profile", "unknown architecture \"" + name + "\"");
    return token;
}

// The action a rule's (or the default's) name and errno mean.
std::uint32_t action_value(const std::string& action, std::optional<unsigned> errno_ret) {
    unsigned err = errno_ret.value_or(EPERM);
    if (action == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (action == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(err);
    if (action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (action == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (action == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (action == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(err);
    if (action == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    throw Error("seccomp profile", "unknown action \"" + action + "\"");
}

}  // namespace

SeccompProfile parse_profile(const std::string& text) {
    // BEGIN ADVANCED EXERCISE 9: parse_profile()
    try {
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw Error("seccomp profile", "not a JSON object");
        SeccompProfile p;
        const json* def = field(j, "defaultAction");
        if (!def || !def->is_string()) throw Error("seccomp profile", "defaultAction: missing (e.g. \"SCMP_ACT_ERRNO\")");
        p.default_action = def->get<std::string>();
        if (!kActions.count(p.default_action))
            throw Error("seccomp profile", "defaultAction: unknown action \"" + p.default_action + "\"");
        auto errno_of = [](const json* e, const std::string& what) -> std::optional<unsigned> {
            if (!e) return std::nullopt;
            if (!e->is_number_unsigned()) throw Error("seccomp profile", what + ": not an errno number");
            return e->get<unsigned>();
        };
        p.default_errno = errno_of(field(j, "defaultErrnoRet"), "defaultErrnoRet");
        p.architectures = strings(field(j, "architectures"), "architectures");
        if (const json* map = field(j, "archMap")) {
            if (!map->is_array()) throw Error("seccomp profile", "archMap: not a list");
            for (const auto& a : *map) {
                const json* arch = a.is_object() ? field(a, "architecture") : nullptr;
                if (!arch || !arch->is_string()) throw Error("seccomp profile", "archMap: an entry without architecture");
                p.arch_map.emplace_back(arch->get<std::string>(), strings(field(a, "subArchitectures"), "archMap"));
            }
        }
        const json* calls = field(j, "syscalls");
        if (calls && !calls->is_array()) throw Error("seccomp profile", "syscalls: not a list");
        for (size_t i = 0; calls && i < calls->size(); ++i) {
            const json& c = (*calls)[i];
            std::string where = "syscalls[" + std::to_string(i) + "]";
            if (!c.is_object()) throw Error("seccomp profile", where + ": not an object");
            SeccompRule r;
            r.names = strings(field(c, "names"), where + ".names");
            if (const json* name = field(c, "name"); name && name->is_string()) r.names.push_back(name->get<std::string>());
            if (r.names.empty()) throw Error("seccomp profile", where + ": no names");
            const json* action = field(c, "action");
            if (!action || !action->is_string() || !kActions.count(action->get<std::string>()))
                throw Error("seccomp profile", where + ": action missing or unknown" +
                                                   (action && action->is_string() ? " (\"" + action->get<std::string>() + "\")" : ""));
            r.action = action->get<std::string>();
            r.errno_ret = errno_of(field(c, "errnoRet"), where + ".errnoRet");
            if (const json* args = field(c, "args")) {
                if (!args->is_array()) throw Error("seccomp profile", where + ".args: not a list");
                for (const auto& a : *args) {
                    SeccompArg arg;
                    const json* index = field(a, "index");
                    const json* op = field(a, "op");
                    if (!index || !index->is_number_unsigned() || index->get<unsigned>() > 5)
                        throw Error("seccomp profile", where + ".args: index must be 0 to 5");
                    if (!op || !op->is_string() || !kOps.count(op->get<std::string>()))
                        throw Error("seccomp profile", where + ".args: op missing or unknown");
                    arg.index = index->get<unsigned>();
                    arg.op = op->get<std::string>();
                    if (const json* v = field(a, "value")) arg.value = v->get<std::uint64_t>();
                    if (const json* v = field(a, "valueTwo")) arg.value_two = v->get<std::uint64_t>();
                    r.args.push_back(arg);
                }
            }
            for (auto [key, caps, arches, kernel] :
                 {std::tuple{"includes", &r.include_caps, &r.include_arches, &r.include_min_kernel},
                  std::tuple{"excludes", &r.exclude_caps, &r.exclude_arches, &r.exclude_min_kernel}}) {
                const json* part = field(c, key);
                if (!part) continue;
                if (!part->is_object()) throw Error("seccomp profile", where + "." + key + ": not an object");
                *caps = strings(field(*part, "caps"), where + "." + key + ".caps");
                *arches = strings(field(*part, "arches"), where + "." + key + ".arches");
                if (const json* k = field(*part, "minKernel"); k && k->is_string()) *kernel = k->get<std::string>();
            }
            p.rules.push_back(std::move(r));
        }
        return p;
    } catch (const json::exception& e) {
        throw Error("seccomp profile", e.what());  // a value of the wrong type
    }
    // END EXERCISE
}

bool rule_applies(const SeccompRule& rule, CapSet caps, const std::string& arch, const std::string& kernel) {
    // BEGIN EXERCISE 5: rule_applies()
    // docker's rules: every capability in includes.caps must be in the set,
    // none of excludes.caps; the architecture in includes.arches (if any)
    // and not in excludes.arches; the kernel at least includes.minKernel and
    // below excludes.minKernel.
    auto in = [](const std::vector<std::string>& list, const std::string& s) {
        return std::find(list.begin(), list.end(), s) != list.end();
    };
    auto has = [&](const std::string& cap) {
        try {
            return (caps & bit(capability_number(cap))) != 0;
        } catch (const Error&) {
            return false;  // a capability this kernel does not have (CAP_BPF before 5.8) is not held
        }
    };
    auto at_least = [&](const std::string& min) { return kernel_version(kernel) >= kernel_version(min); };
    if (in(rule.exclude_arches, arch)) return false;
    if (std::any_of(rule.exclude_caps.begin(), rule.exclude_caps.end(), has)) return false;
    if (!rule.exclude_min_kernel.empty() && at_least(rule.exclude_min_kernel)) return false;
    if (!rule.include_arches.empty() && !in(rule.include_arches, arch)) return false;
    if (!std::all_of(rule.include_caps.begin(), rule.include_caps.end(), has)) return false;
    if (!rule.include_min_kernel.empty() && !at_least(rule.include_min_kernel)) return false;
    return true;
    // END EXERCISE
}

namespace {

// Whether this kernel runs x32 programs (x86-64's ILP32 ABI: system call
// numbers with bit 30 set). Debian's kernels have it off unless booted with
// syscall.x32=y, and many are built without it; they answer every x32 call
// with ENOSYS, whatever a filter says. Asked in a child: a filter box itself
// runs under (systemd's SystemCallArchitectures=native) may kill the caller.
bool kernel_runs_x32() {
#ifdef __x86_64__
    pid_t pid = fork();
    if (pid == 0) _exit(::syscall(0x40000000L | __NR_getpid) >= 0 ? 0 : 1);  // __X32_SYSCALL_BIT
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return true;  // cannot tell: keep the rules
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#else
    return false;
#endif
}

}  // namespace

std::vector<sock_filter> compile_profile(const SeccompProfile& profile, CapSet caps) {
    // BEGIN ADVANCED EXERCISE 10: compile_profile()
    const Libseccomp& s = libseccomp();
    std::uint32_t default_action = action_value(profile.default_action, profile.default_errno);
    scmp_filter_ctx ctx = s.init(default_action);
    if (!ctx) throw Error("seccomp", "seccomp_init failed");
    std::unique_ptr<void, void (*)(void*)> guard(ctx, [](void* c) { libseccomp().release(c); });
    auto check = [](int rc, const std::string& what) {
        if (rc < 0 && rc != -EEXIST) throw Error("seccomp profile", what + ": " + strerror(-rc));
    };
    // A binary tree of the call numbers rather than a list: every call of
    // the container runs the program, and a list of 350 calls is long.
    // (libseccomp 2.5 and later; an older one keeps the list.)
    s.attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    // The native architecture is in the filter already; its companions (a
    // 32-bit x86 program on x86-64) come from archMap or architectures. x32
    // only where the kernel runs it: its rules are a third of the program,
    // which the kernel compiles at every start. Without them an x32 call is
    // of an architecture the filter does not know, answered as the kernel
    // answers it anyway: ENOSYS.
    std::uint32_t native = s.arch_native();
    bool x32 = kernel_runs_x32();
    auto add_arch = [&](const std::string& arch) {
        std::uint32_t token = arch_token(arch);
        if (token == SCMP_ARCH_X32 && !x32) {
            check(s.attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS)), "x32 calls");
            return;
        }
        if (token != native) check(s.arch_add(ctx, token), "architecture " + arch);
    };
    for (const auto& [arch, subs] : profile.arch_map)
        if (arch_token(arch) == native)
            for (const auto& sub : subs) add_arch(sub);
    for (const auto& arch : profile.architectures) add_arch(arch);

    struct utsname u {};
    uname(&u);
    for (const auto& rule : profile.rules) {
        if (!rule_applies(rule, caps, native_arch(), u.release)) continue;
        std::uint32_t action = action_value(rule.action, rule.errno_ret);
        if (action == default_action) continue;  // libseccomp refuses a rule that changes nothing
        std::vector<scmp_arg_cmp> conds;
        for (const auto& a : rule.args) conds.push_back({a.index, kOps.at(a.op), a.value, a.value_two});
        // Conditions on different arguments must all hold (one rule); several
        // on one argument are alternatives (one rule each), as runc does.
        std::set<unsigned> indexes;
        for (const auto& a : rule.args) indexes.insert(a.index);
        bool alternatives = indexes.size() < rule.args.size();
        for (const auto& name : rule.names) {
            int nr = s.syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) continue;  // a call this architecture (or libseccomp) does not know
            if (alternatives) {
                for (const auto& c : conds) check(s.rule_add_array(ctx, action, nr, 1, &c), "rule for " + name);
            } else {
                check(s.rule_add_array(ctx, action, nr, static_cast<unsigned>(conds.size()), conds.data()),
                      "rule for " + name);
            }
        }
    }
    // The BPF program, through a memory file: libseccomp writes it to an fd.
    Fd mem(memfd_create("seccomp-bpf", MFD_CLOEXEC));
    if (!mem) throw_errno("memfd_create", errno);
    check(s.export_bpf(ctx, mem.get()), "seccomp_export_bpf");
    off_t size = lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        throw Error("seccomp", "libseccomp exported no program");
    std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
    if (pread(mem.get(), program.data(), static_cast<size_t>(size), 0) != size) throw_errno("read seccomp program", errno);
    return program;
    // END EXERCISE
}

std::vector<sock_filter> seccomp_filter(const std::string& text, const std::string& digest, CapSet caps) {
    // BEGIN ADVANCED EXERCISE 11: seccomp_filter()
    // The program depends on the profile, the capabilities (includes.caps),
    // the kernel (minKernel), the architecture and box (its libseccomp):
    // all of them in the key. (Not whether the kernel runs x32, which a boot
    // option changes: a program made with x32's rules or without them is
    // right either way, the one without only refuses x32 calls itself.)
    struct utsname u {};
    uname(&u);
    char key[256];
    snprintf(key, sizeof key, "%s-%016llx-%s-%s-" BOX_VERSION, digest_hex(digest.empty() ? sha256_digest(text) : digest).c_str(),
             static_cast<unsigned long long>(caps), u.machine, u.release);
    std::string path = state_root() + "/seccomp/" + key + ".bpf";
    if (auto cached = try_read_file(path); cached && !cached->empty() && cached->size() % sizeof(sock_filter) == 0) {
        std::vector<sock_filter> program(cached->size() / sizeof(sock_filter));
        memcpy(program.data(), cached->data(), cached->size());
        return program;
    }
    std::vector<sock_filter> program = compile_profile(parse_profile(text), caps);
    make_dirs(state_root() + "/seccomp");
    // Written whole or not at all: another box may read it at the same time.
    write_file_atomic(path, std::string(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter)),
                      0600, false);
    return program;
    // END EXERCISE
}

void load_filter(const std::vector<sock_filter>& program) {
    // BEGIN EXERCISE 6: load_filter()
    // Without no_new_privs this needs CAP_SYS_ADMIN (we have it until
    // set_capabilities()); from here on every call of this process and its
    // children passes through the program, execve included.
    sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) throw_errno("prctl(PR_SET_SECCOMP)", errno);
    trace::line("prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=" + std::to_string(program.size()) + "}) = 0");
    // END EXERCISE
}

}  // namespace box::stage5
