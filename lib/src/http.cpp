#include "box/http.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstdio>
#include <memory>

#include "box/error.hpp"

namespace box {
namespace {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* ctx = static_cast<std::pair<const HttpRequest*, HttpResponse*>*>(user);
    if (ctx->first->sink) ctx->first->sink(data, size * n);
    else ctx->second->body.append(data, size * n);
    return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* response = static_cast<HttpResponse*>(user);
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        size_t b = value.find_first_not_of(" \t"), e = value.find_last_not_of(" \t\r\n");
        response->headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    }
    return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t sent) {
    const auto* request = static_cast<const HttpRequest*>(user);
    request->upload_progress(static_cast<std::int64_t>(sent));
    return 0;
}

}  // namespace

HttpResponse http_request(const HttpRequest& request) {
    static CurlGlobal global;
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw Error(request.method + " " + request.url, "libcurl could not start");
    HttpResponse response;
    std::pair<const HttpRequest*, HttpResponse*> ctx{&request, &response};
    struct curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
    std::unique_ptr<FILE, int (*)(FILE*)> upload(nullptr, fclose);

    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled transfer fails after a minute
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "box/" BOX_VERSION);
    if (request.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!request.upload_file.empty()) {
        upload.reset(fopen(request.upload_file.c_str(), "rb"));
        if (!upload) throw_errno("open " + request.upload_file, errno);
        fseek(upload.get(), 0, SEEK_END);
        long size = ftell(upload.get());
        rewind(upload.get());
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, upload.get());
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
        if (request.upload_progress) {
            curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
            curl_easy_setopt(c, CURLOPT_XFERINFODATA, &request);
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        }
        if (request.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) throw Error(request.method + " " + request.url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

std::string url_host(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    return url.substr(start, url.find('/', start) - start);
}

std::string resolve_url(const std::string& base, const std::string& location) {
    if (location.find("://") != std::string::npos) return location;
    std::string origin = base.substr(0, base.find('/', base.find("://") + 3));
    return location.empty() || location[0] != '/' ? origin + "/" + location : origin + location;
}

std::string base64(const std::string& data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

}  // namespace box
