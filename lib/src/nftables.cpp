#include "box/nftables.hpp"

#include <nftables/libnftables.h>

#include <memory>

#include "box/dynamic_library.hpp"
#include "box/error.hpp"
#include "box/trace.hpp"

namespace box {
namespace {

// libnftables, loaded once; one context (it keeps a cache of the ruleset
// between commands, so a second command pays no parse of the first).
struct Nft {
    decltype(&nft_ctx_new) ctx_new;
    decltype(&nft_ctx_buffer_output) buffer_output;
    decltype(&nft_ctx_buffer_error) buffer_error;
    decltype(&nft_ctx_get_error_buffer) error;
    decltype(&nft_run_cmd_from_buffer) run;
    nft_ctx* ctx = nullptr;

    Nft() {
        static DynamicLibrary lib("libnftables.so.1", "libnftables1");
        lib.get(ctx_new, "nft_ctx_new");
        lib.get(buffer_output, "nft_ctx_buffer_output");
        lib.get(buffer_error, "nft_ctx_buffer_error");
        lib.get(error, "nft_ctx_get_error_buffer");
        lib.get(run, "nft_run_cmd_from_buffer");
        ctx = ctx_new(NFT_CTX_DEFAULT);
        if (!ctx) throw Error("nft_ctx_new", "libnftables could not make a context");
        buffer_output(ctx);  // nothing of nft's own on box's stdout
        buffer_error(ctx);
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

}  // namespace

bool nft(const std::string& commands, bool tolerate_missing) {
    Nft& n = nft_lib();
    int rc = n.run(n.ctx, commands.c_str());
    std::string err = n.error(n.ctx);
    std::string shown = commands;
    while (!shown.empty() && shown.back() == '\n') shown.pop_back();
    bool missing = err.find("No such file or directory") != std::string::npos;
    trace::line("nft(" + trace::quote(shown) + ") = " + (rc == 0 ? "0" : missing ? "-1 ENOENT" : "-1"));
    if (rc == 0) return true;
    if (tolerate_missing && missing) return false;
    throw Error("nft " + first_line(shown), err.empty() ? "refused" : first_line(err));
}

}  // namespace box
