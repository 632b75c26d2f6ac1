#include "box/nftables.hpp"

#include <nftables/libnftables.h>

#include <fcntl.h>
#include <linux/netlink.h>

#include <memory>

#include "box/dynamic_library.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/trace.hpp"

namespace box {
namespace {

// libnftables, loaded once; one context at a time (it keeps a cache of the
// ruleset between commands, so a second command pays no parse of the first).
struct Nft {
    decltype(&nft_ctx_new) ctx_new;
    decltype(&nft_ctx_free) ctx_free;
    decltype(&nft_ctx_buffer_output) buffer_output;
    decltype(&nft_ctx_buffer_error) buffer_error;
    decltype(&nft_ctx_get_error_buffer) error;
    decltype(&nft_run_cmd_from_buffer) run;
    nft_ctx* ctx = nullptr;

    Nft() {
        static DynamicLibrary lib("libnftables.so.1", "libnftables1");
        lib.get(ctx_new, "nft_ctx_new");
        lib.get(ctx_free, "nft_ctx_free");
        lib.get(buffer_output, "nft_ctx_buffer_output");
        lib.get(buffer_error, "nft_ctx_buffer_error");
        lib.get(error, "nft_ctx_get_error_buffer");
        lib.get(run, "nft_run_cmd_from_buffer");
    }

    nft_ctx* context() {
        if (ctx) return ctx;
        ctx = ctx_new(NFT_CTX_DEFAULT);
        if (!ctx) throw Error("nft_ctx_new", "libnftables could not make a context");
        buffer_output(ctx);  // nothing of nft's own on box's stdout
        buffer_error(ctx);
        return ctx;
    }

    // Frees the context; the last reference to its socket goes to
    // close_later's helper, which waits for the socket's release instead
    // of this free (or box's exit) and ends. The next command makes a new one.
    void let_go() {
        int found[4], dups[4], n = 0;
        int count = netlink_sockets(NETLINK_NETFILTER, found, 4);
        for (int i = 0; i < count; ++i)
            if ((dups[n] = ::fcntl(found[i], F_DUPFD_CLOEXEC, 0)) >= 0) ++n;
        ctx_free(ctx);  // its socket's copy is not the last one now: no wait
        ctx = nullptr;
        close_later(dups, n);
    }
};

Nft& nft_lib() {
    static Nft n;
    return n;
}

std::string first_line(std::string s) {
    size_t nl = s.find('\n');
    if (nl != std::string::npos) s.resize(nl);
    return s;
}

// True if a line of `commands` deletes set or map elements: what a
// container's end does (a table's set-up, which flushes chains, comes once
// a boot and pays its wait at that box's exit).
bool deletes_elements(const std::string& commands) {
    const std::string verb = "delete element ";
    for (size_t at = commands.find(verb); at != std::string::npos; at = commands.find(verb, at + 1))
        if (at == 0 || commands[at - 1] == '\n') return true;
    return false;
}

}  // namespace

bool nft(const std::string& commands, bool tolerate_missing) {
    Nft& n = nft_lib();
    int rc = n.run(n.context(), commands.c_str());
    std::string err = n.error(n.ctx);
    std::string shown = commands;
    while (!shown.empty() && shown.back() == '\n') shown.pop_back();
    bool missing = err.find("No such file or directory") != std::string::npos;
    trace::line("nft(" + trace::quote(shown) + ") = " + (rc == 0 ? "0" : missing ? "-1 ENOENT" : "-1"));
    if (deletes_elements(commands)) n.let_go();
    if (rc == 0) return true;
    if (tolerate_missing && missing) return false;
    throw Error("nft " + first_line(shown), err.empty() ? "refused" : first_line(err));
}

}  // namespace box
