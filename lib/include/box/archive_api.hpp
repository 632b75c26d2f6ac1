/// @file archive_api.hpp
/// @brief libarchive, loaded on first use.
///
/// Linked normally, libarchive and the sixteen libraries it needs would load at
/// every start of box, though only the image commands use it; loaded with
/// dlopen they cost nothing until then. Each member has the type of the
/// libarchive function of the same name without its `archive_` prefix
/// (`api.read_new()` is `archive_read_new()`).
#pragma once

#include <archive.h>
#include <archive_entry.h>

namespace box {

/// The libarchive functions box uses.
struct ArchiveApi {
    decltype(&archive_read_new) read_new;                                  ///< archive_read_new
    decltype(&archive_read_free) read_free;                                ///< archive_read_free
    decltype(&archive_read_support_filter_all) read_support_filter_all;    ///< archive_read_support_filter_all
    decltype(&archive_read_support_format_raw) read_support_format_raw;    ///< archive_read_support_format_raw
    decltype(&archive_read_support_format_tar) read_support_format_tar;    ///< archive_read_support_format_tar
    decltype(&archive_read_support_format_gnutar) read_support_format_gnutar;  ///< archive_read_support_format_gnutar
    decltype(&archive_read_open) read_open;                                ///< archive_read_open
    decltype(&archive_read_open_fd) read_open_fd;                          ///< archive_read_open_fd
    decltype(&archive_read_open_filename) read_open_filename;              ///< archive_read_open_filename
    decltype(&archive_read_next_header) read_next_header;                  ///< archive_read_next_header
    decltype(&archive_read_data) read_data;                                ///< archive_read_data
    decltype(&archive_read_data_block) read_data_block;                    ///< archive_read_data_block
    decltype(&archive_error_string) error_string;                          ///< archive_error_string
    decltype(&archive_write_new) write_new;                                ///< archive_write_new
    decltype(&archive_write_free) write_free;                              ///< archive_write_free
    decltype(&archive_write_set_format_pax_restricted) write_set_format_pax_restricted;  ///< ...pax_restricted
    decltype(&archive_write_open_fd) write_open_fd;                        ///< archive_write_open_fd
    decltype(&archive_write_open_filename) write_open_filename;            ///< archive_write_open_filename
    decltype(&archive_write_header) write_header;                          ///< archive_write_header
    decltype(&archive_write_data) write_data;                              ///< archive_write_data
    decltype(&archive_write_close) write_close;                            ///< archive_write_close
    decltype(&archive_entry_new) entry_new;                                ///< archive_entry_new
    decltype(&archive_entry_free) entry_free;                              ///< archive_entry_free
    decltype(&archive_entry_pathname) entry_pathname;                      ///< archive_entry_pathname
    decltype(&archive_entry_filetype) entry_filetype;                      ///< archive_entry_filetype
    decltype(&archive_entry_perm) entry_perm;                              ///< archive_entry_perm
    decltype(&archive_entry_uid) entry_uid;                                ///< archive_entry_uid
    decltype(&archive_entry_gid) entry_gid;                                ///< archive_entry_gid
    decltype(&archive_entry_symlink) entry_symlink;                        ///< archive_entry_symlink
    decltype(&archive_entry_hardlink) entry_hardlink;                      ///< archive_entry_hardlink
    decltype(&archive_entry_rdevmajor) entry_rdevmajor;                    ///< archive_entry_rdevmajor
    decltype(&archive_entry_rdevminor) entry_rdevminor;                    ///< archive_entry_rdevminor
    decltype(&archive_entry_size) entry_size;                              ///< archive_entry_size
    decltype(&archive_entry_mtime) entry_mtime;                            ///< archive_entry_mtime
    decltype(&archive_entry_xattr_reset) entry_xattr_reset;                ///< archive_entry_xattr_reset
    decltype(&archive_entry_xattr_next) entry_xattr_next;                  ///< archive_entry_xattr_next
    decltype(&archive_entry_set_pathname) entry_set_pathname;              ///< archive_entry_set_pathname
    decltype(&archive_entry_set_filetype) entry_set_filetype;              ///< archive_entry_set_filetype
    decltype(&archive_entry_set_perm) entry_set_perm;                      ///< archive_entry_set_perm
    decltype(&archive_entry_set_size) entry_set_size;                      ///< archive_entry_set_size
    decltype(&archive_entry_set_mtime) entry_set_mtime;                    ///< archive_entry_set_mtime
    decltype(&archive_entry_xattr_clear) entry_xattr_clear;                ///< archive_entry_xattr_clear
    decltype(&archive_entry_xattr_add_entry) entry_xattr_add_entry;        ///< archive_entry_xattr_add_entry
    decltype(&archive_read_disk_new) read_disk_new;                        ///< archive_read_disk_new
    decltype(&archive_read_disk_entry_from_file) read_disk_entry_from_file;  ///< ..._entry_from_file
};

/// libarchive, loaded on the first call; throws box::Error if it cannot be.
const ArchiveApi& archive_api();

}  // namespace box
