#include "box/record_store.hpp"

#include <unistd.h>

#include <filesystem>
#include <map>

#include "box/error.hpp"
#include "box/util.hpp"

namespace fs = std::filesystem;

namespace box {

namespace {
constexpr const char* kRemoving = ".removing-";  // a keyed-by-name record on its way out

// Whether the tree `dir` holds nothing but directories (a create cut short).
bool holds_no_file(const fs::path& dir) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (!it->is_directory(ec) || it->is_symlink(ec)) return false;
    return !ec;
}
}  // namespace

RecordStore::RecordStore(std::string kind, std::string dir, std::string names_dir, std::string record_file)
    : kind_(std::move(kind)), dir_(std::move(dir)), names_(std::move(names_dir)), record_file_(std::move(record_file)) {}

RecordStore RecordStore::by_name(std::string kind, std::string dir, std::string record_file) {
    RecordStore r(std::move(kind), std::move(dir), "", std::move(record_file));
    r.by_name_ = true;
    return r;
}

bool RecordStore::key_ok(const std::string& id) const {
    if (!by_name_) return id.size() == 64 && id.find('/') == std::string::npos;
    return !id.empty() && id[0] != '.' && id.find('/') == std::string::npos;
}

void RecordStore::create(const std::string& id, const std::string& name, const nlohmann::json& document,
                         bool sync) const {
    if (!key_ok(id)) throw Error(kind_ + " " + id, "not a name a record can have");
    if (by_name_) {
        if (exists(path(id) + "/" + record_file_))
            throw Error("Conflict. The " + kind_ + " name \"" + id + "\" is already in use", "choose another name");
        make_dirs(path(id));
        write_file_atomic(path(id) + "/" + record_file_, document.dump(), 0644, sync);  // last
        return;
    }
    if (!id_of_name(name).empty())
        throw Error("Conflict. The " + kind_ + " name \"/" + name + "\" is already in use",
                    "remove or rename that " + kind_ + " to be able to reuse the name");
    make_dirs(path(id));
    make_dirs(names_);
    std::string link = names_ + "/" + name;
    ::unlink(link.c_str());  // a stale one: id_of_name said so
    if (::symlink(id.c_str(), link.c_str()) != 0) throw_errno("name " + name, errno);
    write_file_atomic(path(id) + "/" + record_file_, document.dump(), 0644, sync);  // last
}

nlohmann::json RecordStore::read(const std::string& id) const {
    auto text = try_read_file(path(id) + "/" + record_file_);
    if (!text) throw Error("No such " + kind_ + ": " + id, "it has no " + record_file_ + " (a create that was cut short?)");
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) throw Error(kind_ + " " + id, record_file_ + " is not JSON");
    return j;
}

void RecordStore::write(const std::string& id, const nlohmann::json& document, bool sync, const std::string& file) const {
    write_file_atomic(path(id) + "/" + (file.empty() ? record_file_ : file), document.dump(), 0644, sync);
}

std::string RecordStore::id_of_name(const std::string& name) const {
    if (by_name_) return key_ok(name) && exists(path(name) + "/" + record_file_) ? name : "";
    char id[256];
    ssize_t n = ::readlink((names_ + "/" + name).c_str(), id, sizeof id);
    if (n <= 0 || n == static_cast<ssize_t>(sizeof id)) return "";
    std::string out(id, static_cast<size_t>(n));
    return exists(path(out) + "/" + record_file_) ? out : "";  // else stale: its record is gone
}

std::string RecordStore::find(const std::string& ref, const std::string& hint) const {
    if (ref.empty()) throw Error("No such " + kind_ + ": ", "give a " + kind_ + "'s name or id");
    if (by_name_) {
        if (id_of_name(ref).empty()) throw Error("No such " + kind_ + ": " + ref, hint);
        return ref;
    }
    if (ref.size() == 64 && ref.find('/') == std::string::npos && exists(path(ref) + "/" + record_file_)) return ref;
    // A name wins over an id prefix, as in docker.
    std::string by_name = id_of_name(ref[0] == '/' ? ref.substr(1) : ref);
    if (!by_name.empty()) return by_name;
    std::vector<std::string> by_prefix;
    for (const auto& id : ids())
        if (starts_with(id, ref)) by_prefix.push_back(id);
    if (by_prefix.size() == 1) return by_prefix[0];
    if (by_prefix.size() > 1) throw Error("multiple " + kind_ + "s found with provided prefix: " + ref, "give more of the id");
    throw Error("No such " + kind_ + ": " + ref, hint);
}

std::vector<std::string> RecordStore::ids() const {
    std::vector<std::string> out;
    if (!is_directory(dir_)) return out;
    for (const auto& e : fs::directory_iterator(dir_)) {
        std::string id = e.path().filename();
        if (key_ok(id) && exists(e.path().string() + "/" + record_file_)) out.push_back(id);
    }
    return out;
}

void RecordStore::rename(const std::string& id, const std::string& from, const std::string& to) const {
    if (by_name_) throw Error("rename " + kind_ + " " + id, "a " + kind_ + " is known by its name alone");
    std::string other = id_of_name(to);
    if (!other.empty())
        throw Error("Error when allocating new name: Conflict. The " + kind_ + " name \"/" + to + "\" is already in use",
                    "by " + kind_ + " " + other);
    std::string link = names_ + "/" + to;
    ::unlink(link.c_str());  // stale
    if (::symlink(id.c_str(), link.c_str()) != 0) throw_errno("name " + to, errno);
    ::unlink((names_ + "/" + from).c_str());
}

void RecordStore::remove(const std::string& id, const std::string& name) const {
    if (by_name_) {
        if (!key_ok(id)) throw Error("remove " + kind_ + " " + id, "not a name a record can have");
        // One rename takes it out of sight; repair() finishes a removal cut short.
        std::string aside = dir_ + "/" + kRemoving + id + "-" + random_hex(8);
        if (::rename(path(id).c_str(), aside.c_str()) != 0) throw_errno("remove " + kind_ + " " + id, errno);
        std::error_code ec;
        fs::remove_all(aside, ec);
        if (ec) throw Error("remove " + aside, ec.message());
        return;
    }
    ::unlink((path(id) + "/" + record_file_).c_str());  // first: from now on no one sees it
    if (!name.empty() && id_of_name(name).empty()) ::unlink((names_ + "/" + name).c_str());
    std::error_code ec;
    fs::remove_all(path(id), ec);
    if (ec) throw Error("remove " + path(id), ec.message());
}

void RecordStore::repair(const std::function<nlohmann::json(const std::string& id)>& adopt) const {
    FileLock held = lock();
    if (by_name_) {
        if (!is_directory(dir_)) return;
        for (const auto& e : fs::directory_iterator(dir_)) {
            std::string name = e.path().filename();
            std::error_code ec;
            if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
            if (starts_with(name, kRemoving)) {
                fs::remove_all(e.path(), ec);
            } else if (key_ok(name) && !exists(e.path().string() + "/" + record_file_)) {
                if (holds_no_file(e.path())) fs::remove_all(e.path(), ec);  // a create cut short
                else if (adopt) write_file_atomic(e.path().string() + "/" + record_file_, adopt(name).dump(), 0644, true);
            }
        }
        return;
    }
    if (is_directory(names_))
        for (const auto& e : fs::directory_iterator(names_))
            if (id_of_name(e.path().filename()).empty()) ::unlink(e.path().c_str());
    if (!is_directory(dir_)) return;
    for (const auto& e : fs::directory_iterator(dir_)) {
        std::string name = e.path().filename();
        if (e.is_directory() && key_ok(name) && !exists(e.path().string() + "/" + record_file_)) {
            std::error_code ec;
            fs::remove_all(e.path(), ec);
        }
    }
}

namespace {
std::multimap<std::string, std::function<std::string(const std::string&)>>& use_checks() {
    static std::multimap<std::string, std::function<std::string(const std::string&)>> all;
    return all;
}
}  // namespace

void add_use_check(const std::string& kind, std::function<std::string(const std::string& id)> user) {
    use_checks().emplace(kind, std::move(user));
}

std::string user_of(const std::string& kind, const std::string& id) {
    auto [first, last] = use_checks().equal_range(kind);
    for (auto it = first; it != last; ++it)
        if (std::string u = it->second(id); !u.empty()) return u;
    return "";
}

}  // namespace box
