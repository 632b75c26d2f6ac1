#include "box/http.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <type_traits>

#include "box/dynamic_library.hpp"
#include "box/error.hpp"
#include "box/util.hpp"

namespace box {
namespace {

// libcurl, loaded on first use (dynamic_library.hpp says why).
struct Curl {
    decltype(&curl_global_init) global_init;
    decltype(&curl_easy_init) easy_init;
    decltype(&curl_easy_setopt) easy_setopt;
    decltype(&curl_easy_perform) easy_perform;
    decltype(&curl_easy_getinfo) easy_getinfo;
    decltype(&curl_easy_cleanup) easy_cleanup;
    decltype(&curl_easy_strerror) easy_strerror;
    decltype(&curl_slist_append) slist_append;
    decltype(&curl_slist_free_all) slist_free_all;

    Curl() {
        DynamicLibrary lib("libcurl.so.4", "libcurl4");
        lib.get(global_init, "curl_global_init");
        lib.get(easy_init, "curl_easy_init");
        lib.get(easy_setopt, "curl_easy_setopt");
        lib.get(easy_perform, "curl_easy_perform");
        lib.get(easy_getinfo, "curl_easy_getinfo");
        lib.get(easy_cleanup, "curl_easy_cleanup");
        lib.get(easy_strerror, "curl_easy_strerror");
        lib.get(slist_append, "curl_slist_append");
        lib.get(slist_free_all, "curl_slist_free_all");
        global_init(CURL_GLOBAL_DEFAULT);
    }
};

const Curl& curl_api() {
    static const Curl api;
    return api;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* ctx = static_cast<std::pair<const HttpRequest*, HttpResponse*>*>(user);
    // Only a success streams: an error's or a redirect's body (a registry's
    // JSON errors, a storage server's HTML) is kept for the caller to read,
    // and never reaches what a sink hashes or writes.
    bool success = ctx->second->status >= 200 && ctx->second->status < 300;
    if (ctx->first->sink && success) ctx->first->sink(data, size * n);
    else ctx->second->body.append(data, size * n);
    return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* response = static_cast<HttpResponse*>(user);
    std::string line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {  // a status line (after a 100 Continue, the next one)
        auto space = line.find(' ');
        response->status = space == std::string::npos ? 0 : std::atol(line.c_str() + space + 1);
        return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = to_lower(line.substr(0, colon));
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
    const Curl& api = curl_api();
    std::unique_ptr<CURL, void (*)(CURL*)> curl(api.easy_init(), api.easy_cleanup);
    if (!curl) throw Error(request.method + " " + request.url, "libcurl could not start");
    HttpResponse response;
    std::pair<const HttpRequest*, HttpResponse*> ctx{&request, &response};
    struct curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = api.slist_append(headers, h.c_str());
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, api.slist_free_all);
    std::unique_ptr<FILE, int (*)(FILE*)> upload(nullptr, fclose);

    CURL* c = curl.get();
    api.easy_setopt(c, CURLOPT_URL, request.url.c_str());
    api.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
    api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(c, CURLOPT_HEADERDATA, &response);
    api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled transfer fails after a minute
    api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(c, CURLOPT_USERAGENT, "box/" BOX_VERSION);
    if (request.method == "HEAD") {
        api.easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!request.upload_file.empty()) {
        upload.reset(fopen(request.upload_file.c_str(), "rb"));
        if (!upload) throw_errno("open " + request.upload_file, errno);
        fseek(upload.get(), 0, SEEK_END);
        long size = ftell(upload.get());
        rewind(upload.get());
        api.easy_setopt(c, CURLOPT_UPLOAD, 1L);
        api.easy_setopt(c, CURLOPT_READDATA, upload.get());
        api.easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
        if (request.upload_progress) {
            api.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
            api.easy_setopt(c, CURLOPT_XFERINFODATA, &request);
            api.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        }
        if (request.method != "PUT") api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method != "GET") {
        api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        api.easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
        api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    CURLcode rc = api.easy_perform(c);
    if (rc != CURLE_OK) throw Error(request.method + " " + request.url, api.easy_strerror(rc));
    api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
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


}  // namespace box
