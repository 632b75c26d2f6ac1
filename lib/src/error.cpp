#include "box/error.hpp"

#include <cstring>

namespace box {

Error::Error(std::string what, std::string why, int status)
    : std::runtime_error(what + ": " + why), what_(std::move(what)), why_(std::move(why)),
      status_(status) {}

void throw_errno(const std::string& call, int err) {
    throw Error(call, std::strerror(err));
}

void not_implemented(const char* function, const char* chapter, int exercise) {
    throw Error("not implemented yet",
                std::string(function) + " — " + chapter + ", exercise " + std::to_string(exercise));
}

}  // namespace box
