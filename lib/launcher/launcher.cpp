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
//
//   box-init REPORT_FD WHAT PATH ARGV0 ARGS...       (run --init)
// The same, but it stays as the container's PID 1, as docker's tini does:
// the command runs as its child; it reaps every process that ends (orphans
// of the container come to PID 1), passes every signal it gets on to the
// command, and exits as the command did (128+N if a signal N ended it).

namespace {

#if defined(__x86_64__)
enum : long {
    kWrite = 1, kClose = 3, kSigprocmask = 14, kClone = 56, kExecve = 59, kWait4 = 61, kKill = 62, kFcntl = 72,
    kSigtimedwait = 128, kExit = 231
};
long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
#elif defined(__aarch64__)
enum : long {
    kWrite = 64, kClose = 57, kSigprocmask = 135, kClone = 220, kExecve = 221, kWait4 = 260, kKill = 129,
    kFcntl = 25, kSigtimedwait = 137, kExit = 94
};
long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
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

// The signal set of the kernel: 64 signals, one bit each.
constexpr long kSigsetSize = 8;
constexpr long kSigBlock = 0, kSigSetmask = 2, kSigchld = 17, kSigkill = 9, kSigstop = 19, kWnohang = 1;
constexpr long kEintr = 4, kEagain = 11, kEchild = 10;

[[noreturn]] void exec_command(char** argv, char** envp);

// REPORT_FD, the first argument.
long report_fd(char** argv) {
    long fd = 0;
    for (const char* p = argv[1]; *p >= '0' && *p <= '9'; ++p) fd = fd * 10 + (*p - '0');
    return fd;
}

// run --init: PID 1 that starts the command as its child and stays.
[[noreturn]] void init(char** argv, char** envp, long report_fd) {
    unsigned long all = ~0UL, none = 0;
    sys(kSigprocmask, kSigBlock, reinterpret_cast<long>(&all), 0, kSigsetSize);  // every signal waits for sigtimedwait
    long child = sys(kClone, kSigchld, 0, 0, 0);
    if (child == 0) {
        sys(kSigprocmask, kSigSetmask, reinterpret_cast<long>(&none), 0, kSigsetSize);
        exec_command(argv, envp);
    }
    sys(kClose, report_fd);  // the command's copy tells box how its exec went
    if (child < 0) sys(kExit, 126);
    for (;;) {
        struct {
            int signo, errno_, code, pad[29];
        } info;
        long sig = sys(kSigtimedwait, reinterpret_cast<long>(&all), reinterpret_cast<long>(&info), 0, kSigsetSize);
        if (sig < 0 && sig != -kEintr && sig != -kEagain) sys(kExit, 125);
        if (sig > 0 && sig != kSigchld && sig != kSigkill && sig != kSigstop) sys(kKill, child, sig);
        // Reap whatever has ended: the command, and the orphans given to PID 1.
        for (;;) {
            int status = 0;
            long pid = sys(kWait4, -1, reinterpret_cast<long>(&status), kWnohang, 0);
            if (pid == -kEchild) sys(kExit, 0);  // (the command was reaped before: cannot happen)
            if (pid <= 0) break;
            if (pid != child) continue;
            // The command ended: as a shell would report it.
            sys(kExit, (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f));
        }
    }
}

// execve(PATH, [ARGV0, ARGS...], environ), or the reason it failed on the report fd.
[[noreturn]] void exec_command(char** argv, char** envp) {
    long fd = report_fd(argv);
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

}  // namespace

extern "C" [[noreturn]] void launch(long* stack) {
    long argc = stack[0];
    char** argv = reinterpret_cast<char**>(stack + 1);
    char** envp = argv + argc + 1;
    bool as_init = argc >= 5 && same(argv[0], "box-init");
    if (argc < 5 || (!as_init && !same(argv[0], "box-launch"))) {
        // Run again by a command of the container (#!/proc/self/exe, or its
        // /proc/PID/exe): there is nothing for it to do.
        const char msg[] = "box: /proc/self/exe is box's launcher, not a program to run (CVE-2019-5736)\n";
        sys(kWrite, 2, reinterpret_cast<long>(msg), sizeof msg - 1);
        sys(kExit, 126);
    }
    if (as_init) init(argv, envp, report_fd(argv));
    exec_command(argv, envp);
}

// The entry point: the kernel leaves argc, argv and the environment on the stack.
#if defined(__x86_64__)
__asm__(".globl _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call launch\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".globl _start\n_start:\n  mov x0, sp\n  bl launch\n");
#endif
