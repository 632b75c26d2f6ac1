#include "box/archive_api.hpp"

#include "box/dynamic_library.hpp"

namespace box {
namespace {

ArchiveApi load() {
    DynamicLibrary lib("libarchive.so.13", "libarchive13");
    ArchiveApi a{};
#define BOX_SYM(member) lib.get(a.member, "archive_" #member)
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
    BOX_SYM(entry_set_mtime); BOX_SYM(entry_xattr_clear); BOX_SYM(entry_xattr_add_entry); BOX_SYM(read_disk_new);
    BOX_SYM(read_disk_entry_from_file);
#undef BOX_SYM
    return a;
}

}  // namespace

const ArchiveApi& archive_api() {
    static const ArchiveApi api = load();
    return api;
}

}  // namespace box
