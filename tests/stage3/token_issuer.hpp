// A token issuer of the tests' own, for the registry's token mode (the way
// Docker Hub authenticates): it answers GET /token?service=...&scope=... with
// a JWT signed by a key whose certificate the registry trusts, granting the
// requested repository access to one user (HTTP basic credentials). It
// records what it was asked, so tests can check what box sent.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <memory>
#include <vector>

#include "box/http.hpp"
#include "box/util.hpp"
#include "http_host.hpp"
#include "support.hpp"

namespace boxtest {

class TokenIssuer {
public:
    static constexpr const char* kService = "box-test-registry";
    static constexpr const char* kIssuer = "box-test-issuer";

    /// Makes a key and a self-signed certificate under `dir` and starts serving.
    TokenIssuer(const std::string& dir, std::string user, std::string password)
        : user_(std::move(user)), password_(std::move(password)), key_(dir + "/token.key"), cert_(dir + "/token.crt") {
        auto r = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                      "/CN=box-test-issuer", "-keyout", key_, "-out", cert_});
        REQUIRE(r.status == 0);
        host_ = std::make_unique<HttpHost>("127.0.0.1", [this](const std::string& head) { return answer(head); });
    }
    /// The realm URL for the registry's config.
    std::string realm() const { return "http://" + host_->host() + "/token"; }
    /// The certificate the registry must trust (rootcertbundle).
    const std::string& certificate() const { return cert_; }
    /// Every request line received, and whether it carried the right credentials.
    std::vector<std::pair<std::string, bool>> requests() {
        std::lock_guard<std::mutex> lock(mutex_);
        return seen_;
    }

private:
    static std::string b64url(const std::string& s) {
        std::string out = box::base64(s);
        for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
        while (!out.empty() && out.back() == '=') out.pop_back();
        return out;
    }

    std::string sign(const std::string& data) const {
        FILE* f = fopen(key_.c_str(), "r");
        EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        fclose(f);
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        size_t len = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size());
        std::string sig(len, '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
        sig.resize(len);
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(key);
        return sig;
    }

    std::string cert_der_b64() const {
        FILE* f = fopen(cert_.c_str(), "r");
        X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
        fclose(f);
        unsigned char* der = nullptr;
        int n = i2d_X509(x, &der);
        std::string out = box::base64(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(n)));
        OPENSSL_free(der);
        X509_free(x);
        return out;
    }

    // A JWT as the distribution spec describes: RS256, the certificate in x5c,
    // and the access the scope asked for.
    std::string token(const std::string& scope) const {
        nlohmann::json access = nlohmann::json::array();
        auto parts = box::split(scope, ':');  // repository:NAME:ACTIONS
        if (parts.size() == 3) access.push_back({{"type", parts[0]}, {"name", parts[1]}, {"actions", box::split(parts[2], ',')}});
        long now = time(nullptr);
        nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {cert_der_b64()}}};
        nlohmann::json claims = {{"iss", kIssuer}, {"sub", user_}, {"aud", kService}, {"exp", now + 300},
                                 {"nbf", now - 10}, {"iat", now}, {"jti", random_name("", 16)}, {"access", access}};
        std::string signing_input = b64url(header.dump()) + "." + b64url(claims.dump());
        return signing_input + "." + b64url(sign(signing_input));
    }

    std::string answer(const std::string& req) {
        std::string line = req.substr(0, req.find("\r\n"));
        bool authed = req.find("Authorization: Basic " + box::base64(user_ + ":" + password_)) != std::string::npos;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            seen_.emplace_back(line, authed);
        }
        std::string scope;
        auto at = line.find("scope=");
        if (at != std::string::npos) scope = line.substr(at + 6, line.find_first_of("& ", at) - at - 6);
        for (size_t p; (p = scope.find("%3A")) != std::string::npos;) scope.replace(p, 3, ":");
        if (!authed) return HttpHost::response("401 Unauthorized", "Content-Type: application/json\r\n", R"({"details":"bad credentials"})");
        return HttpHost::response("200 OK", "Content-Type: application/json\r\n", nlohmann::json{{"token", token(scope)}}.dump());
    }

    std::string user_, password_, key_, cert_;
    std::mutex mutex_;  // these two before host_: its thread uses them until host_ is gone
    std::vector<std::pair<std::string, bool>> seen_;
    std::unique_ptr<HttpHost> host_;
};

}  // namespace boxtest
