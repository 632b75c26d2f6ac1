#include "box/archive_api.hpp"

#include <dlfcn.h>

#include <string>
#include <type_traits>

#include "box/error.hpp"

namespace box {
namespace {

ArchiveApi load() {
    void* lib = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!lib) throw Error("load libarchive", std::string(dlerror()) + " (install it: apt-get install libarchive13)");
    ArchiveApi a{};
    auto sym = [&](auto& fn, const char* name) {
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
        if (!fn) throw Error("load libarchive", std::string("no symbol ") + name);
    };
#define BOX_SYM(member) sym(a.member, "archive_" #member)
    BOX_SYM(read_new); BOX_SYM(read_free); BOX_SYM(read_support_filter_all); BOX_SYM(read_support_format_raw);
    BOX_SYM(read_support_format_tar); BOX_SYM(read_support_format_gnutar); BOX_SYM(read_open);
    BOX_SYM(read_open_fd); BOX_SYM(read_open_filename); BOX_SYM(read_next_header); BOX_SYM(read_data);
    BOX_SYM(read_data_block); BOX_SYM(error_string); BOX_SYM(write_new); BOX_SYM(write_free);
    BOX_SYM(write_set_format_pax_restricted); BOX_SYM(write_open_fd); BOX_SYM(write_open_filename);
    BOX_SYM(write_header); BOX_SYM(write_data); BOX_SYM(write_close); BOX_SYM(entry_new); BOX_SYM(entry_free);
    BOX_SYM(entry_pathname); BOX_SYM(entry_filetype); BOX_SYM(entry_perm); BOX_SYM(entry_uid); BOX_SYM(entry_gid);
    BOX_SYM(entry_symlink); BOX_SYM(entry_hardlink); BOX_SYM(entry_rdevmajor); BOX_SYM(entry_rdevminor);
    BOX_SYM(entry_size); BOX_SYM(entry_mtime); BOX_SYM(entry_xattr_reset); BOX_SYM(entry_xattr_next);
    BOX_SYM(entry_set_pathname); BOX_SYM(entry_set_filetype); BOX_SYM(entry_set_perm); BOX_SYM(entry_set_size);
    BOX_SYM(entry_set_mtime);
#undef BOX_SYM
    return a;
}

}  // namespace

const ArchiveApi& archive_api() {
    static const ArchiveApi api = load();
    return api;
}

}  // namespace box
