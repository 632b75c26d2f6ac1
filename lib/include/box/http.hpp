/// @file http.hpp
/// @brief One HTTP request at a time (libcurl), with the body kept or streamed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace box {

/// What to send.
struct HttpRequest {
    std::string method = "GET";        ///< GET, HEAD, POST, PUT, ...
    std::string url;                   ///< absolute http:// or https:// URL
    std::vector<std::string> headers;  ///< "Name: value" lines
    std::string body;                  ///< sent as the body (unless upload_file is set)
    std::string upload_file;           ///< send this file's content as the body
    /// If set, a successful (2xx) response's body is passed here as it
    /// arrives (and not kept); any other response's body is kept in `body`.
    std::function<void(const char* data, size_t size)> sink;
    /// If set, called as the body is uploaded with the bytes sent so far.
    std::function<void(std::int64_t sent)> upload_progress;
};

/// What came back.
struct HttpResponse {
    long status = 0;                             ///< HTTP status code
    std::map<std::string, std::string> headers;  ///< names in lower case
    std::string body;                            ///< unless streamed to a sink
    /// A header's value, "" if absent (`name` in lower case).
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

/// Makes the request; redirects are not followed (the caller decides, so that
/// credentials are never sent on to another host). Throws box::Error for a
/// transport failure (refused, timed out, TLS), naming the URL.
HttpResponse http_request(const HttpRequest& request);

/// The host[:port] of an absolute URL.
std::string url_host(const std::string& url);

/// `location` (absolute, or relative to `base`) as an absolute URL.
std::string resolve_url(const std::string& base, const std::string& location);

/// Standard base64 of `data` (for HTTP basic credentials).
std::string base64(const std::string& data);

}  // namespace box
