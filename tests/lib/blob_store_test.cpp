// Unit tests of lib/: digests, and a blob store that never keeps a wrong blob.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>

#include "box/blob_store.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "harness.hpp"

using namespace box;
namespace fs = std::filesystem;

TEST_CASE("sha256 digests match the known vectors", "[lib][digest]") {
    CHECK(sha256_digest("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_digest("abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    Sha256 h;
    h.update("a");
    CHECK(h.hex().size() == 64);
    h.update("bc");  // hex() did not end the hash
    CHECK(h.digest() == sha256_digest("abc"));
}

TEST_CASE("only well-formed sha256 digests are accepted as names", "[lib][digest]") {
    std::string good = sha256_digest("x");
    CHECK(digest_hex(good) == good.substr(7));
    for (std::string bad : {std::string("sha256:abc"), "sha512:" + good.substr(7), "sha256:" + std::string(64, 'G'),
                            "sha256:../../../../etc/passwd" + std::string(36, 'a'), good.substr(7)}) {
        INFO(bad);
        CHECK_THROWS_AS(digest_hex(bad), Error);
    }
}

TEST_CASE("the blob store keeps content under its digest and refuses a mismatch", "[lib][blobs]") {
    boxtest::Sandbox sb;
    BlobStore store(sb.dir() + "/blobs");
    std::string data = boxtest::random_name("content-", 40);
    std::string digest = store.put(data);
    CHECK(digest == sha256_digest(data));
    CHECK(store.has(digest));
    CHECK(store.read(digest) == data);
    CHECK(fs::exists(sb.dir() + "/blobs/sha256/" + digest.substr(7)));

    // Bytes that do not hash to the name they came with are not kept.
    std::string other = boxtest::random_name("other-", 40);
    std::string claimed = sha256_digest(other + "!");
    size_t off = 0;
    auto source = [&](char* buf, size_t size) {
        size_t n = std::min(size, other.size() - off);
        std::copy_n(other.data() + off, n, buf);
        off += n;
        return n;
    };
    try {
        store.put_verified(source, claimed);
        FAIL("a mismatching blob was accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find(sha256_digest(other)) != std::string::npos);
    }
    CHECK_FALSE(store.has(claimed));
    off = 0;
    CHECK_THROWS_AS(store.put_verified(source, sha256_digest(other), 3), Error);  // wrong size
    CHECK_FALSE(store.has(sha256_digest(other)));
    size_t files = 0;
    for (const auto& f : fs::directory_iterator(sb.dir() + "/blobs/sha256")) files += f.is_regular_file();
    CHECK(files == 1);  // only the good blob: no partial file left
}
