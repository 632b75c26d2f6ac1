/// @file yaml.hpp
/// @brief YAML as Compose files use it: read into JSON, written back from JSON.
///
/// docker compose v2 reads its files with Go's gopkg.in/yaml.v3 (YAML 1.2's
/// core schema): `yes` and `no` are strings, `0o17` is 15, and `<<` merges
/// mappings. box reads them the same way, so a Compose file means the same
/// thing to both, and compose's passes then work on plain JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace box {

/// Line numbers of a document's values: "services.web.ports.0" -> 1-based line.
using YamlLines = std::map<std::string, int>;

/// Parses YAML text `text` (named `source` in errors) into JSON, resolving
/// scalars as yaml.v3 does into Go's interface{}:
/// - plain (unquoted) scalars: `~`, `null`, `Null`, `NULL` and the empty value
///   are null; `true`/`True`/`TRUE`/`false`/`False`/`FALSE` are booleans
///   (`yes`, `no`, `on`, `off` stay strings); integers as Go writes them
///   (optional sign, `0x` hex, `0o` octal, `0b` binary, `0777` octal, `_`
///   between digits ignored; beyond int64 a uint64, beyond that a float);
///   decimal floats (`1.5`, `.5`, `1e3`) are numbers, but non-finite ones
///   (`.inf`, `-.Inf`, `.nan`, `1e999`) stay the string as written since JSON
///   cannot hold them; anything else is a string;
/// - quoted and block (`|`, `>`) scalars are always strings;
/// - the tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map` and
///   `!!seq` are honoured (`!!str 123` is "123"); any other tag, such as
///   compose's `!reset`, throws `line N: tag !reset is not supported`;
/// - an alias is the anchored value; a `<<` key whose value is a mapping or a
///   sequence of mappings merges their entries into the mapping that holds
///   it: that mapping's own keys win, then earlier mappings over later ones;
/// - mapping keys must be scalars and become their text (`8080:` is "8080");
///   a key written twice in one mapping throws
///   `line N: mapping key "k" already defined at line M`.
///
/// An empty document (nothing or only comments) is null. Throws box::Error
/// with what = `source`: why = `yaml: line N: MESSAGE` for text that is not
/// YAML, `multiple YAML documents are not supported` for more than one
/// document, and the messages above (N is 1-based).
///
/// If `lines` is given it is cleared, then holds the 1-based line of every
/// mapping value and sequence item, keyed by its dotted path (items by index):
/// "services", "services.web", "services.web.ports.0". A block mapping or
/// sequence has the line of its first entry (or of its anchor or tag), a
/// merged entry the line where its value was written, an alias the line of
/// the anchored value, an empty mapping value the line of its key.
nlohmann::json yaml_to_json(const std::string& text, const std::string& source, YamlLines* lines = nullptr);

/// The YAML text of `value` (block style, keys in the JSON's order), as
/// `docker compose config` prints it: strings that would read back as
/// something else (`"8080"`, `"true"`, `"null"`, `""`, `"yes"`, `": x"`...) or
/// that hold line breaks or control characters are double-quoted, others
/// plain; null is `null`; the text ends with a newline. yaml_to_json() of the
/// result equals `value`, floats staying floats (`1.0`), for any value
/// without non-finite numbers (which JSON cannot hold either).
std::string json_to_yaml(const nlohmann::json& value);

}  // namespace box
