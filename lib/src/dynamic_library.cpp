#include "box/dynamic_library.hpp"

#include <dlfcn.h>

#include "box/error.hpp"

namespace box {

DynamicLibrary::DynamicLibrary(const std::string& soname, const std::string& package)
    : handle_(dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL)), soname_(soname) {
    if (!handle_) throw Error("load " + soname, std::string(dlerror()) + " (install it: apt-get install " + package + ")");
}

void* DynamicLibrary::lookup(const char* name) const {
    void* fn = dlsym(handle_, name);
    if (!fn) throw Error("load " + soname_, std::string("no symbol ") + name);
    return fn;
}

}  // namespace box
