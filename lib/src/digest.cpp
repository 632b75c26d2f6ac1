#include "box/digest.hpp"

#include <openssl/evp.h>

#include "box/dynamic_library.hpp"
#include "box/error.hpp"

namespace box {

// libcrypto, loaded on first use (see CMakeLists.txt: box's start-up).
struct Crypto {
    decltype(&EVP_MD_CTX_new) ctx_new;
    decltype(&EVP_MD_CTX_free) ctx_free;
    decltype(&EVP_MD_CTX_copy_ex) ctx_copy;
    decltype(&EVP_sha256) sha256;
    decltype(&EVP_DigestInit_ex) init;
    decltype(&EVP_DigestUpdate) update;
    decltype(&EVP_DigestFinal_ex) final;
    decltype(&EVP_EncodeBlock) encode_block;

    Crypto() {
        DynamicLibrary lib("libcrypto.so.3", "libssl3");
        lib.get(ctx_new, "EVP_MD_CTX_new");
        lib.get(ctx_free, "EVP_MD_CTX_free");
        lib.get(ctx_copy, "EVP_MD_CTX_copy_ex");
        lib.get(sha256, "EVP_sha256");
        lib.get(init, "EVP_DigestInit_ex");
        lib.get(update, "EVP_DigestUpdate");
        lib.get(final, "EVP_DigestFinal_ex");
        lib.get(encode_block, "EVP_EncodeBlock");
    }
};

const Crypto& crypto() {
    static const Crypto api;
    return api;
}

struct Sha256::State {
    EVP_MD_CTX* ctx = crypto().ctx_new();
    ~State() { crypto().ctx_free(ctx); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
    if (!state_->ctx || crypto().init(state_->ctx, crypto().sha256(), nullptr) != 1)
        throw Error("sha256", "OpenSSL could not start a digest");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t size) {
    if (size && crypto().update(state_->ctx, data, size) != 1) throw Error("sha256", "OpenSSL digest update failed");
}

std::string Sha256::hex() const {
    // Finish a copy, so more bytes may still be added to this one.
    const Crypto& c = crypto();
    EVP_MD_CTX* copy = c.ctx_new();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    bool ok = copy && c.ctx_copy(copy, state_->ctx) == 1 && c.final(copy, out, &len) == 1;
    c.ctx_free(copy);
    if (!ok) throw Error("sha256", "OpenSSL digest failed");
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += digits[out[i] >> 4];
        hex += digits[out[i] & 15];
    }
    return hex;
}

std::string sha256_digest(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.digest();
}

std::string base64(const std::string& data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = crypto().encode_block(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string digest_hex(const std::string& digest) {
    const std::string prefix = "sha256:";
    bool ok = digest.size() == prefix.size() + 64 && digest.compare(0, prefix.size(), prefix) == 0;
    for (size_t i = prefix.size(); ok && i < digest.size(); ++i)
        ok = (digest[i] >= '0' && digest[i] <= '9') || (digest[i] >= 'a' && digest[i] <= 'f');
    if (!ok) throw Error("invalid digest \"" + digest + "\"", "expected sha256: and 64 lowercase hex digits");
    return digest.substr(prefix.size());
}

std::string short_id(const std::string& digest) { return digest_hex(digest).substr(0, 12); }

}  // namespace box
