/// @file record_store.hpp
/// @brief A store of records on disk, each with an id and a unique name, that a
/// box killed at any moment leaves readable: containers (chapter 4), later
/// networks, the build cache and compose projects.
///
/// Layout: DIR/ID/ holds a record's files, DIR/ID/RECORD (config.json) its
/// document, NAMES/NAME a symlink to ID. The record file is written last (write,
/// fsync, rename) and removed first: a directory without one is a create or a
/// remove cut short, which no lookup sees and repair() removes. Changes hold
/// the store's lock (DIR/.lock); symlink(2) makes taking a name atomic.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "box/file_lock.hpp"

namespace box {

/// One kind of record ("container", "network"...) in one directory.
class RecordStore {
public:
    /// Records of `kind` (for messages: "No such container: X") under `dir`,
    /// names under `names_dir`, each record's document in `record_file`.
    RecordStore(std::string kind, std::string dir, std::string names_dir, std::string record_file = "config.json");
    /// DIR
    const std::string& dir() const { return dir_; }
    /// NAMES
    const std::string& names_dir() const { return names_; }
    /// DIR/ID
    std::string path(const std::string& id) const { return dir_ + "/" + id; }
    /// Waits for and holds the store's lock (every change takes it).
    FileLock lock() const { return FileLock(dir_); }

    /// Makes DIR/ID, takes `name` (throws box::Error, docker's "Conflict. The
    /// KIND name "/NAME" is already in use", if another record has it), and
    /// writes `document` last (fsync'd if `sync`). The caller holds lock().
    void create(const std::string& id, const std::string& name, const nlohmann::json& document, bool sync) const;
    /// The document of record `id`; throws box::Error if it has none or it is not JSON.
    nlohmann::json read(const std::string& id) const;
    /// Replaces a file of record `id` atomically (`file` defaults to the record file).
    void write(const std::string& id, const nlohmann::json& document, bool sync, const std::string& file = "") const;
    /// The id that `name` stands for, or "" (a name whose record is gone is free).
    std::string id_of_name(const std::string& name) const;
    /// A record by full id, name (with or without docker's leading "/"), or
    /// unique id prefix; throws box::Error "No such KIND: REF" (with `hint`)
    /// or an ambiguous-prefix error.
    std::string find(const std::string& ref, const std::string& hint) const;
    /// The ids of every complete record.
    std::vector<std::string> ids() const;
    /// Gives record `id` the name `to` instead of `from`; throws box::Error if
    /// `to` is taken. The caller holds lock() and rewrites the document.
    void rename(const std::string& id, const std::string& from, const std::string& to) const;
    /// Removes record `id` and its name: the record file first, so that it is
    /// gone for everyone even if removing the rest is cut short.
    void remove(const std::string& id, const std::string& name) const;
    /// Removes what creates and removes cut short left: directories without a
    /// record file and names whose record is gone. Takes lock().
    void repair() const;

private:
    std::string kind_, dir_, names_, record_file_;
};

/// In-use checks: the stage that makes one kind of object depend on another
/// (chapter 4's containers on images and volumes) registers a check, and the
/// owner of the other asks before removing one (chapter 3's rmi).
/// `user(id)` returns what uses object `id` (a container's id), or "".
void add_use_check(const std::string& kind, std::function<std::string(const std::string& id)> user);
/// The first user of object `id` of `kind` ("image", "volume"...) that a
/// registered check names, or "" if none does.
std::string user_of(const std::string& kind, const std::string& id);

}  // namespace box
