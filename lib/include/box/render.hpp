/// @file render.hpp
/// @brief docker's ways of printing: tables, `--format` templates, inspect JSON.
///
/// Every list command (ps, images, history, stats, volume ls...) prints through
/// these, so box's columns and templates follow docker's rules in one place.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace box::render {

/// Rows laid out as docker's tables (Go's tabwriter as docker sets it up:
/// minimum width 10, padding 3): each column max(widest cell + 3, 10) wide,
/// the last column unpadded, trailing blanks dropped. Widths count
/// characters, not bytes ("…" is one). Each row ends in "\n".
std::string table(const std::vector<std::vector<std::string>>& rows);

/// `text` cut to `width` characters as docker cuts a long cell: if longer,
/// its first width-1 characters and "…" (characters, not bytes, counted).
std::string ellipsis(const std::string& text, size_t width);

/// Writes table(rows) to stdout.
void print_table(const std::vector<std::vector<std::string>>& rows);

/// Fills a template of docker's `--format` subset with `value`:
/// `{{.Field}}`, `{{.A.B}}`, `{{.}}`, `{{json .Field}}`, `{{json .}}`,
/// Go's `{{index .A.B "key"}}` (a missing key is ""), and a row's method
/// `{{.Method "key"}}`, read from the object `value["_Method"]` (ps's
/// `{{.Label "k"}}`; keys starting with `_` are not shown by `{{.}}` or
/// `{{json .}}`, as a Go method is not a field); text
/// around actions is kept, and `\t`, `\n` written as two characters become a
/// tab and a newline (docker does the same). Strings print bare, other values
/// as JSON, null as `<no value>`. Throws box::Error for a key the value lacks
/// (`map has no entry for key "X"`) or an action outside the subset.
std::string format(const std::string& tmpl, const nlohmann::json& value);

/// Prints `items` as a list command's `--format` asks: with docker's `table `
/// prefix, a header row (each field's header from `headers`, e.g. "ID" ->
/// "CONTAINER ID"; the field name in upper case otherwise) and the items,
/// aligned as table() does, cells split at tabs; without it, one line each.
void print_list(const std::string& tmpl, const std::vector<nlohmann::json>& items,
                const std::map<std::string, std::string>& headers);

/// Writes `values` as docker's inspect does: a JSON array indented by 4, or,
/// with `tmpl`, one format() line per value.
void print_inspect(const std::vector<nlohmann::json>& values, const std::string& tmpl);

}  // namespace box::render
