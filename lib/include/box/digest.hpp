/// @file digest.hpp
/// @brief SHA-256 content digests, as the OCI image spec names content: `sha256:<64 hex>`.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace box {

/// A running SHA-256 (OpenSSL): feed it bytes, then read the digest.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    /// Adds `size` bytes.
    void update(const void* data, size_t size);
    /// Adds a string's bytes.
    void update(std::string_view data) { update(data.data(), data.size()); }
    /// The 64 hex digits of everything added so far (the hash is not reset).
    std::string hex() const;
    /// `sha256:` + hex().
    std::string digest() const { return "sha256:" + hex(); }

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// `sha256:<hex>` of `data`.
std::string sha256_digest(std::string_view data);

/// The hex part of a digest `sha256:<64 lowercase hex>`; throws box::Error for
/// any other form (other algorithms, wrong length, upper case, ...), so a
/// digest from outside can be used safely as a file name.
std::string digest_hex(const std::string& digest);

/// The first 12 hex digits of a digest, as docker shows ids (`921be98b3097`).
std::string short_id(const std::string& digest);

}  // namespace box
