/// @file filters.hpp
/// @brief Labels and docker's `--filter KEY=VALUE` grammar, parsed once.
///
/// Every command that lists or prunes (ps, images, network ls, volume ls and
/// the prunes) reads its `--filter`s through Filters, so that the grammar,
/// the errors and the rule for combining filters are docker's everywhere:
/// filters of one key match if any of them does, filters of different keys
/// must all match — except `label`, where (as in docker) every `label=`
/// filter must hold, and `label!`, which excludes an object only when all of
/// its filters hold.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace box {

/// An object's labels: key → value (a key given alone has the value "").
using Labels = std::map<std::string, std::string>;

/// Labels from `--label-file`s (read first, in order: lines `K=V` or `K`;
/// blank lines and lines starting with `#` skipped) and then `--label`s
/// (`K=V` or `K`), later ones winning. With `require_value` (docker's rule
/// for `network create` and `volume create`) a `--label` without `=` is
/// refused ("bad attribute format: K"). Throws box::Error for an empty key
/// or a file that cannot be read.
Labels parse_labels(const std::vector<std::string>& labels, const std::vector<std::string>& files = {},
                    bool require_value = false);

/// `k=v,k2=v2`, in key order: docker's `{{.Labels}}` in a list's row.
std::string labels_text(const Labels& labels);

/// docker's `--filter` arguments of one command, grouped by key.
class Filters {
public:
    /// Parses `args` (each `KEY=VALUE`); `accepted` lists the keys the command
    /// knows. Throws box::Error with docker's words: "bad format of filter
    /// (expected name=value)" without `=`, "Invalid filter 'KEY'" for a key
    /// not accepted. `label!=K` parses as key `label!`.
    static Filters parse(const std::vector<std::string>& args, std::initializer_list<std::string_view> accepted);

    /// True if no filter was given.
    bool empty() const { return by_key_.empty(); }
    /// True if at least one filter of `key` was given.
    bool has(const std::string& key) const { return by_key_.count(key) != 0; }
    /// The values given for `key`, in order (none: empty).
    const std::vector<std::string>& values(const std::string& key) const;
    /// docker's rule for most keys: true if no filter of `key` was given, or
    /// `match` holds for at least one of its values.
    bool any(const std::string& key, const std::function<bool(const std::string& value)>& match) const;
    /// docker's rule for labels: every `label=K` / `label=K=V` holds for
    /// `labels` (K present; with V, with that value), and, if `label!`
    /// filters were given, not all of them hold.
    bool match_labels(const Labels& labels) const;
    /// Throws box::Error "Unrecognised filter value for KEY: V" unless every
    /// value of `key` is one of `allowed`.
    void check_values(const std::string& key, std::initializer_list<std::string_view> allowed) const;

private:
    std::map<std::string, std::vector<std::string>> by_key_;
};

}  // namespace box
