/// @file dotenv.hpp
/// @brief `.env` files as docker compose reads them (compose-go's dotenv
/// package, from joho/godotenv): the project's `.env`, `--env-file`, and a
/// service's `env_file:`.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace box {

/// Looks a variable up: its value, or nothing if it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// Variables as (name, value) pairs in the order their names first appeared;
/// each name at most once.
using DotenvVars = std::vector<std::pair<std::string, std::string>>;

/// The variables of a `.env` file's text, in file order. A name set twice
/// keeps its first place and takes the later value (compose keeps a map, so
/// only the value is observable there). `source` names the file in errors.
///
/// The rules, as compose-go's parser applies them:
/// - A UTF-8 byte order mark at the start is skipped. Blank lines and lines
///   whose first non-blank character is `#` are ignored; CRLF ends work.
/// - A statement is `KEY=VALUE` or `KEY: VALUE`, optionally after `export `;
///   blanks around `=` or `:` are dropped. A name holds letters, digits and
///   `_ . - [ ]`; any other character is an error, and so is a space inside it.
/// - A line `KEY` without `=` takes KEY's value from `lookup` only, and is left
///   out if `lookup` does not know it. (As in compose, a last line `KEY` with
///   no newline after it is read as the value of an empty name instead.)
/// - An unquoted value runs to the end of the line; from a space followed by
///   `#` on it is a comment (`a#b` keeps its `#`), and trailing blanks are
///   dropped.
/// - A 'single-quoted' value is literal, but for a backslash before a single
///   quote, which is dropped.
/// - A "double-quoted" value reads a backslash before a, b, f, n, r, t, v, a
///   backslash or a double quote as the C escape, a backslash, 0 and three
///   octal digits (at most 377) as that character, and a backslash before `$`
///   as a literal `$`; other backslashes stay as written.
/// - Quoted values may span lines. What follows the closing quote on its line
///   is read as a new statement (a `# comment` is ignored).
/// - Unquoted and double-quoted values expand `$$` (a literal `$`), `$VAR`,
///   `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`,
///   `${VAR+alt}`, `${VAR:?message}` and `${VAR?message}` (an error when the
///   variable is unset, or for `:?` empty); defaults nest. A variable is looked
///   up in `lookup` first, then among the file's variables set so far; an unknown
///   one expands to "".
///
/// Throws box::Error{source, "line N: why"} with compose-go's reason: an
/// unexpected character in a name, a space in a name, an unterminated quoted
/// value, an invalid `${` reference, a missing required variable. N is the line
/// compose-go reports (for an unterminated quote it counts on to the end of the
/// file); for a reference, which compose-go reports without a line, N is the
/// line the statement starts on.
DotenvVars parse_dotenv(const std::string& text, const std::string& source, const EnvLookup& lookup = {});

/// As parse_dotenv(), but adds to `vars` (a name already there takes the new
/// value in place), and expands with `vars`' earlier values after `lookup`:
/// how compose reads several env files in turn, each seeing those before it.
/// (Compose's `lookup` is the process environment for `.env` and
/// `--env-file`; for a service's `env_file:` it is the project's variables,
/// then the service's `environment:`, which also starts `vars`.)
/// On error `vars` holds what was read before the failing statement.
void parse_dotenv_into(DotenvVars& vars, const std::string& text, const std::string& source,
                       const EnvLookup& lookup = {});

}  // namespace box
