// Chapter 5: which devices a container may use. mknod is allowed (CAP_MKNOD
// is in docker's set), so the file of a device is no protection: the devices
// cgroup is. cgroup v1 has a controller for it; cgroup v2 runs a small BPF
// program, attached to the container's cgroup, at every open and mknod.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/sys.hpp"
#include "box/trace.hpp"
#include "stage5.hpp"

namespace box::stage5 {

std::string DeviceRule::text() const {
    auto number = [](std::int64_t n) { return n < 0 ? std::string("*") : std::to_string(n); };
    return std::string(1, type) + " " + number(major) + ":" + number(minor) + " " + access;
}

std::vector<DeviceRule> default_device_rules() {
    // docker's allow list: mknod of any node (what it is for is what counts),
    // and the use of the few devices every container gets in /dev.
    return {
        {'c', -1, -1, "m"},    {'b', -1, -1, "m"},     // mknod of anything
        {'c', 1, 3, "rwm"},    {'c', 1, 5, "rwm"},     // null, zero
        {'c', 1, 7, "rwm"},    {'c', 1, 8, "rwm"},     // full, random
        {'c', 1, 9, "rwm"},    {'c', 5, 0, "rwm"},     // urandom, tty
        {'c', 5, 1, "rwm"},    {'c', 5, 2, "rwm"},     // console, ptmx
        {'c', 136, -1, "rwm"},                         // the pseudo-terminals of /dev/pts
    };
}

DeviceRule device_rule(const DeviceMapping& device) {
    struct stat st {};
    if (::stat(device.host.c_str(), &st) != 0) throw_errno("--device " + device.host, errno);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        throw Error("--device " + device.host, "not a character or block device");
    return {S_ISCHR(st.st_mode) ? 'c' : 'b', static_cast<std::int64_t>(major(st.st_rdev)),
            static_cast<std::int64_t>(minor(st.st_rdev)), device.permissions};
}

void write_v1_rules(const std::string& dir, const std::vector<DeviceRule>& rules) {
    // EXERCISE 7: write write_v1_rules() — see chapters/05-security/README.md, exercise 7.
    // Replace the line below with your code.
    box::not_implemented("write_v1_rules()", "chapters/05-security", 7);
}

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
    // The program gets a struct bpf_cgroup_dev_ctx { u32 access_type; u32
    // major; u32 minor; } in r1 (access_type: the access in the upper 16 bits,
    // the type in the lower) and returns 1 to allow, 0 to refuse. It is what
    // crun assembles: load the fields once, then one block per rule that
    // jumps to the next block on a mismatch or returns 1.
    auto insn = [](std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
        bpf_insn i{};
        i.code = code;
        i.dst_reg = dst & 0xf;
        i.src_reg = src & 0xf;
        i.off = off;
        i.imm = imm;
        return i;
    };
    std::vector<bpf_insn> p = {
        insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0),  // r2 = access_type
        insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff),    // r2 &= 0xffff: the type
        insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0),  // r3 = access_type
        insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16),        // r3 >>= 16: the access
        insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0),  // r4 = major
        insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0),  // r5 = minor
    };
    for (const auto& rule : rules) {
        int access = 0;
        for (char c : rule.access)
            access |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : c == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
        // The tests of this block, each "if it does not match, skip the rest of the block".
        std::vector<std::vector<bpf_insn>> tests;
        if (rule.type != 'a')
            tests.push_back({insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                                  rule.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK)});
        const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
        if (access != all)  // every access asked for must be one the rule allows
            tests.push_back({insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_3, 0, 0),
                             insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_6, 0, 0, ~access & all),
                             insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_6, 0, 0, 0)});
        if (rule.major >= 0)
            tests.push_back({insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, static_cast<std::int32_t>(rule.major))});
        if (rule.minor >= 0)
            tests.push_back({insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, static_cast<std::int32_t>(rule.minor))});
        size_t length = 2;  // r0 = 1; exit
        for (const auto& t : tests) length += t.size();
        size_t at = 0;
        for (auto& t : tests)
            for (auto& i : t) {
                ++at;
                if (BPF_CLASS(i.code) == BPF_JMP) i.off = static_cast<std::int16_t>(length - at);  // to the next block
                p.push_back(i);
            }
        p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
        p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }
    p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));  // no rule matched: refuse
    p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    return p;
}

void attach_device_program(const std::string& cgroup_dir, const std::vector<bpf_insn>& program) {
    char log[65536] = "";
    auto load = [&](bool with_log) {
        union bpf_attr attr {};
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = reinterpret_cast<std::uint64_t>(program.data());
        attr.insn_cnt = static_cast<std::uint32_t>(program.size());
        attr.license = reinterpret_cast<std::uint64_t>("GPL");
        if (with_log) {  // the verifier's reasons: asked for only after a refusal
            attr.log_buf = reinterpret_cast<std::uint64_t>(log);
            attr.log_size = sizeof log;
            attr.log_level = 1;
        }
        return static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
    };
    Fd prog(load(false));
    if (!prog) {
        int err = errno;
        Fd again(load(true));
        std::string why = strerror(err);
        if (log[0]) why += " (verifier: " + std::string(log).substr(0, 300) + ")";
        throw Error("bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE)", why);
    }
    Fd dir(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw_errno("open " + cgroup_dir, errno);
    union bpf_attr attach {};
    attach.target_fd = static_cast<std::uint32_t>(dir.get());
    attach.attach_bpf_fd = static_cast<std::uint32_t>(prog.get());
    attach.attach_type = BPF_CGROUP_DEVICE;
    int rc = static_cast<int>(syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach));
    trace::line("bpf(BPF_PROG_ATTACH, {target=" + trace::quote(cgroup_dir) + ", type=BPF_CGROUP_DEVICE, insns=" +
                std::to_string(program.size()) + "}) " + trace::result(rc, errno));
    if (rc != 0) throw_errno("bpf(BPF_PROG_ATTACH, " + cgroup_dir + ")", errno);
    // The cgroup holds the program now; our descriptors may go.
}

}  // namespace box::stage5
