#include "box/digest.hpp"

#include <openssl/evp.h>

#include "box/error.hpp"

namespace box {

struct Sha256::State {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~State() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
    if (!state_->ctx || EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) != 1)
        throw Error("sha256", "OpenSSL could not start a digest");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t size) {
    if (size && EVP_DigestUpdate(state_->ctx, data, size) != 1) throw Error("sha256", "OpenSSL digest update failed");
}

std::string Sha256::hex() const {
    // Finish a copy, so more bytes may still be added to this one.
    EVP_MD_CTX* copy = EVP_MD_CTX_new();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    bool ok = copy && EVP_MD_CTX_copy_ex(copy, state_->ctx) == 1 && EVP_DigestFinal_ex(copy, out, &len) == 1;
    EVP_MD_CTX_free(copy);
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

std::string digest_hex(const std::string& digest) {
    const std::string prefix = "sha256:";
    bool ok = digest.size() == prefix.size() + 64 && digest.compare(0, prefix.size(), prefix) == 0;
    for (size_t i = prefix.size(); ok && i < digest.size(); ++i)
        ok = (digest[i] >= '0' && digest[i] <= '9') || (digest[i] >= 'a' && digest[i] <= 'f');
    if (!ok) throw Error("invalid digest \"" + digest + "\"", "expected sha256: and 64 lowercase hex digits");
    return digest.substr(prefix.size());
}

}  // namespace box
