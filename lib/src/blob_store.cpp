#include "box/blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/util.hpp"

namespace box {

BlobStore::BlobStore(std::string root) : root_(std::move(root)) {}

std::string BlobStore::path(const std::string& digest) const { return root_ + "/sha256/" + digest_hex(digest); }

bool BlobStore::has(const std::string& digest) const { return exists(path(digest)); }

std::string BlobStore::read(const std::string& digest) const {
    auto data = try_read_file(path(digest));
    if (!data) throw Error("blob " + digest, "not in the store");
    return *data;
}

std::string BlobStore::put(const std::string& data) {
    std::string digest = sha256_digest(data);
    size_t offset = 0;
    put_verified(
        [&](char* buf, size_t size) {
            size_t n = std::min(size, data.size() - offset);
            std::copy_n(data.data() + offset, n, buf);
            offset += n;
            return n;
        },
        digest, static_cast<std::int64_t>(data.size()));
    return digest;
}

std::int64_t BlobStore::put_verified(const Source& source, const std::string& expected,
                                     std::optional<std::int64_t> expected_size) {
    std::string final_path = path(expected);  // also checks the digest's form
    make_dirs(root_ + "/sha256");
    std::string tmp = final_path + ".partial-" + random_hex(8);
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) throw_errno("create " + tmp, errno);
    try {
        Sha256 hash;
        std::int64_t total = 0;
        char buf[1 << 16];
        while (size_t n = source(buf, sizeof buf)) {
            hash.update(buf, n);
            total += static_cast<std::int64_t>(n);
            if (expected_size && total > *expected_size)
                throw Error("blob " + expected, "more than the " + std::to_string(*expected_size) + " bytes expected");
            for (size_t done = 0; done < n;) {
                ssize_t w = ::write(fd.get(), buf + done, n - done);
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) throw_errno("write " + tmp, errno);
                done += static_cast<size_t>(w);
            }
        }
        if (expected_size && total != *expected_size)
            throw Error("blob " + expected, "got " + std::to_string(total) + " bytes, expected " +
                                                std::to_string(*expected_size));
        if (hash.digest() != expected) throw Error("blob " + expected, "content has digest " + hash.digest());
        if (::fsync(fd.get()) != 0) throw_errno("fsync " + tmp, errno);
        if (::rename(tmp.c_str(), final_path.c_str()) != 0) throw_errno("rename " + tmp, errno);
        return total;
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
}

std::string BlobStore::put_file(const std::string& file) {
    auto read_all = [&](const std::function<void(const char*, size_t)>& sink) {
        Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno("open " + file, errno);
        return [fd = std::make_shared<Fd>(std::move(fd)), sink, file](char* buf, size_t size) -> size_t {
            ssize_t n;
            while ((n = ::read(fd->get(), buf, size)) < 0 && errno == EINTR) {
            }
            if (n < 0) throw_errno("read " + file, errno);
            if (sink) sink(buf, static_cast<size_t>(n));
            return static_cast<size_t>(n);
        };
    };
    Sha256 hash;
    auto first = read_all([&](const char* b, size_t n) { hash.update(b, n); });
    char buf[1 << 16];
    while (first(buf, sizeof buf) > 0) {
    }
    std::string digest = hash.digest();
    if (!has(digest)) put_verified(read_all({}), digest);
    return digest;
}

void BlobStore::remove(const std::string& digest) { ::unlink(path(digest).c_str()); }

}  // namespace box
