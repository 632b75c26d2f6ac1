/// @file record_store.hpp
/// @brief A store of records on disk, each with an id and a unique name, that a
/// box killed at any moment leaves readable: containers and volumes (chapter
/// 4), networks (chapter 7), compose projects.
///
/// Layout: DIR/ID/ holds a record's files, DIR/ID/RECORD (config.json) its
/// document, NAMES/NAME a symlink to ID. The record file is written last (write,
/// fsync, rename) and removed first: a directory without one is a create or a
/// remove cut short, which no lookup sees and repair() removes. Changes hold
/// the store's lock (DIR/.lock); symlink(2) makes taking a name atomic.
///
/// A store *keyed by name* (by_name(): volumes, whose name is all docker
/// knows them by) has no ids and no name index: DIR/NAME/ is the record,
/// found by its exact name only. Its records hold what users keep (a volume's
/// files), so a remove moves the directory aside first (DIR/.removing-NAME-X,
/// one rename) and repair() deletes a record-less directory only if it holds
/// no file: anything else is handed to the caller to adopt.
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
    /// Records of `kind` under `dir` keyed by name (see above), each's document in `record_file`.
    static RecordStore by_name(std::string kind, std::string dir, std::string record_file);
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
    /// Keyed by name, `id` is the name and `name` is not used.
    void create(const std::string& id, const std::string& name, const nlohmann::json& document, bool sync) const;
    /// The document of record `id`; throws box::Error if it has none or it is not JSON.
    nlohmann::json read(const std::string& id) const;
    /// Replaces a file of record `id` atomically (`file` defaults to the record file).
    void write(const std::string& id, const nlohmann::json& document, bool sync, const std::string& file = "") const;
    /// The id that `name` stands for, or "" (a name whose record is gone is free).
    std::string id_of_name(const std::string& name) const;
    /// A record by full id, name (with or without docker's leading "/"), or
    /// unique id prefix; throws box::Error "No such KIND: REF" (with `hint`)
    /// or an ambiguous-prefix error. Keyed by name: the exact name only.
    std::string find(const std::string& ref, const std::string& hint) const;
    /// The ids of every complete record (keyed by name: their names), unsorted.
    std::vector<std::string> ids() const;
    /// Gives record `id` the name `to` instead of `from`; throws box::Error if
    /// `to` is taken. The caller holds lock() and rewrites the document.
    void rename(const std::string& id, const std::string& from, const std::string& to) const;
    /// Removes record `id` and its name: the record file first (keyed by name:
    /// the directory moved aside), so that it is gone for everyone even if
    /// removing the rest is cut short.
    void remove(const std::string& id, const std::string& name) const;
    /// Removes what creates and removes cut short left: directories without a
    /// record file and names whose record is gone. Takes lock(). Keyed by
    /// name, a record-less directory that holds a file is not removed: it is
    /// given the record `adopt(name)` returns (if `adopt` is given), else left.
    void repair(const std::function<nlohmann::json(const std::string& id)>& adopt = {}) const;

private:
    bool key_ok(const std::string& id) const;  // a directory name that can be a record's id

    std::string kind_, dir_, names_, record_file_;
    bool by_name_ = false;
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
