/// @file blob_store.hpp
/// @brief Content-addressed storage: `DIR/sha256/<hex>`, as in an OCI image layout.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace box {

/// Blobs kept by digest under `root/sha256/`. A blob is verified (digest and,
/// when known, size) while it is written, and only then renamed into place:
/// a blob in the store is always whole and always what its name says.
class BlobStore {
public:
    /// The store under `root` (created on first write).
    explicit BlobStore(std::string root);

    /// The path of blob `digest` (whether or not it is there).
    std::string path(const std::string& digest) const;
    /// True if blob `digest` is stored.
    bool has(const std::string& digest) const;
    /// The blob's content; throws box::Error if it is missing.
    std::string read(const std::string& digest) const;

    /// Stores `data` and returns its digest.
    std::string put(const std::string& data);

    /// A source of bytes: fills `buf` with up to `size` bytes, returns how many
    /// (0 at the end); throws on failure.
    using Source = std::function<size_t(char* buf, size_t size)>;

    /// Stores the bytes `source` yields, which must hash to `expected` (and
    /// count `expected_size` bytes, if given). On a mismatch or a failure
    /// nothing is stored and box::Error says what was expected and got.
    /// Returns the number of bytes.
    std::int64_t put_verified(const Source& source, const std::string& expected,
                              std::optional<std::int64_t> expected_size = std::nullopt);

    /// Stores a copy of the file at `path` (whatever its digest); returns the
    /// digest.
    std::string put_file(const std::string& path);

    /// Deletes blob `digest` (absent is fine).
    void remove(const std::string& digest);

private:
    std::string root_;
};

}  // namespace box
