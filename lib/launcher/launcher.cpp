// box's launcher: the last program a container's process runs before its
// command. box's child execs it from a sealed memory file (sys::execve), and
// it execs the command. Why: while the kernel execs a command, /proc/self/exe
// is the binary of the process calling execve. Were that box's own file of
// the host, a command whose script starts with "#!/proc/self/exe" would run
// box inside the container, where the container's own libraries load into it
// and can open its /proc/PID/exe: box's binary, to overwrite once box has
// exited (runc's CVE-2019-5736). This program's /proc/self/exe is a sealed
// memory file: it can neither be written nor lead anywhere.
//
// Built with no C library (-nostdlib -static): a few kilobytes, copied into
// the memory file at each exec. Its command line:
//   box-launch REPORT_FD WHAT PATH ARGV0 ARGS...
// execve(PATH, [ARGV0, ARGS...], environ); on failure it writes
// "E<status>\t<WHAT>\t<reason>" to REPORT_FD (box's start-up channel, the
// message error_from_message() reads) and exits with that status.

namespace {

#if defined(__x86_64__)
enum : long { kWrite = 1, kFcntl = 72, kExecve = 59, kExit = 231 };
long sys(long n, long a = 0, long b = 0, long c = 0) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
#elif defined(__aarch64__)
enum : long { kWrite = 64, kFcntl = 25, kExecve = 221, kExit = 94 };
long sys(long n, long a = 0, long b = 0, long c = 0) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}
#else
#error "box's launcher knows the system calls of x86-64 and arm64 only"
#endif

constexpr long kSetFd = 2, kCloexec = 1;  // fcntl(F_SETFD, FD_CLOEXEC)

bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

// The texts of strerror(3) for what execve can fail with.
const char* reason(long err) {
    switch (err) {
        case 1: return "Operation not permitted";
        case 2: return "No such file or directory";
        case 7: return "Argument list too long";
        case 8: return "Exec format error";
        case 12: return "Cannot allocate memory";
        case 13: return "Permission denied";
        case 20: return "Not a directory";
        case 21: return "Is a directory";
        case 26: return "Text file busy";
        case 40: return "Too many levels of symbolic links";
        default: return "execve failed";
    }
}

struct Text {
    char buf[4096];
    unsigned long n = 0;
    void add(const char* s) {
        for (; *s && n < sizeof buf; ++s) buf[n++] = *s;
    }
};

}  // namespace

extern "C" [[noreturn]] void launch(long* stack) {
    long argc = stack[0];
    char** argv = reinterpret_cast<char**>(stack + 1);
    char** envp = argv + argc + 1;
    if (argc < 5 || !same(argv[0], "box-launch")) {
        // Run again by a command of the container (#!/proc/self/exe, or its
        // /proc/PID/exe): there is nothing for it to do.
        const char msg[] = "box: /proc/self/exe is box's launcher, not a program to run (CVE-2019-5736)\n";
        sys(kWrite, 2, reinterpret_cast<long>(msg), sizeof msg - 1);
        sys(kExit, 126);
    }
    long fd = 0;
    for (const char* p = argv[1]; *p >= '0' && *p <= '9'; ++p) fd = fd * 10 + (*p - '0');
    sys(kFcntl, fd, kSetFd, kCloexec);  // the channel closes when the command starts: box's sign
    long err = -sys(kExecve, reinterpret_cast<long>(argv[3]), reinterpret_cast<long>(argv + 4),
                    reinterpret_cast<long>(envp));
    long status = err == 2 ? 127 : 126;  // as a shell: not found, or found but not runnable
    Text t;
    t.add(status == 127 ? "E127\t" : "E126\t");
    t.add(argv[2]);
    t.add("\t");
    t.add(reason(err));
    sys(kWrite, fd, reinterpret_cast<long>(t.buf), static_cast<long>(t.n));
    sys(kExit, status);
    __builtin_unreachable();
}

// The entry point: the kernel leaves argc, argv and the environment on the stack.
#if defined(__x86_64__)
__asm__(".globl _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call launch\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".globl _start\n_start:\n  mov x0, sp\n  bl launch\n");
#endif
