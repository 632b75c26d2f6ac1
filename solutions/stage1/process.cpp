// Chapter 1: the container's command — who it runs as, what it is, and its
// environment.
#include <sys/stat.h>
#include <unistd.h>

#include "box/error.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "stage1.hpp"

namespace box::stage1 {

void set_identity(const Identity& id) {
    // BEGIN EXERCISE 8: set_identity()
    sys::setgroups(id.groups);
    sys::setresgid(id.gid);
    sys::setresuid(id.uid);
    // END EXERCISE
}

std::string find_executable(const std::string& name, const std::string& path) {
    // BEGIN EXERCISE 9: find_executable()
    auto quoted = "exec \"" + name + "\"";
    auto check = [&](const std::string& file) {  // 0 ok, else the exit status
        struct stat st {};
        if (stat(file.c_str(), &st) != 0) return kExitNotFound;
        if (S_ISDIR(st.st_mode) || access(file.c_str(), X_OK) != 0) return kExitCannotInvoke;
        return 0;
    };
    if (name.find('/') != std::string::npos) {
        int rc = check(name);
        if (rc == kExitNotFound) throw Error(quoted, "no such file or directory", rc);
        if (rc == kExitCannotInvoke)
            throw Error(quoted, is_directory(name) ? "is a directory" : "permission denied", rc);
        return name;
    }
    bool denied = false;
    for (const auto& dir : split(path, ':')) {
        std::string file = (dir.empty() ? "." : dir) + "/" + name;
        int rc = check(file);
        if (rc == 0) return file;
        if (rc == kExitCannotInvoke && !is_directory(file)) denied = true;
    }
    if (denied) throw Error(quoted, "permission denied", kExitCannotInvoke);
    throw Error(quoted, "executable file not found in $PATH", kExitNotFound);
    // END EXERCISE
}

std::vector<std::string> container_environment(const ContainerSpec& spec, const Identity& id) {
    std::vector<std::string> env = {std::string("PATH=") + kDefaultPath, "HOSTNAME=" + spec.hostname};
    if (spec.tty) env.push_back("TERM=xterm");
    env.push_back("HOME=" + id.home);
    for (const auto& kv : spec.env) {
        std::string key = kv.substr(0, kv.find('='));
        std::erase_if(env, [&](const std::string& e) { return e.substr(0, e.find('=')) == key; });
        env.push_back(kv);
    }
    return env;
}

}  // namespace box::stage1
