#include "box/error.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace box {

Error::Error(std::string what, std::string why, int status)
    : std::runtime_error(what + ": " + why), what_(std::move(what)), why_(std::move(why)),
      status_(status) {}

void throw_errno(const std::string& call, int err) {
    throw Error(call, std::strerror(err));
}

std::string error_message(const Error& error) {
    return "E" + std::to_string(error.status()) + "\t" + error.tried() + "\t" + error.reason();
}

Error error_from_message(const std::string& message, const std::string& fallback_what) {
    std::vector<std::string> parts;
    size_t start = 1;
    for (size_t tab; (tab = message.find('\t', start)) != std::string::npos && parts.size() < 2; start = tab + 1)
        parts.push_back(message.substr(start, tab - start));
    parts.push_back(message.substr(start));
    int status = std::atoi(parts[0].c_str());
    return Error(parts.size() > 1 ? parts[1] : fallback_what, parts.size() > 2 ? parts[2] : message.substr(1),
                 status ? status : kExitBoxError);
}

void not_implemented(const char* function, const char* chapter, int exercise) {
    throw Error("not implemented yet",
                std::string(function) + " — " + chapter + ", exercise " + std::to_string(exercise));
}

}  // namespace box
