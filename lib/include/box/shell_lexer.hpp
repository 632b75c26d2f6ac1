/// @file shell_lexer.hpp
/// @brief The shell-word lexer of Dockerfiles (buildkit's frontend/dockerfile/shell):
/// quotes, escapes and `$VAR` expansion, without running a shell.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace box::shell {

/// Variables a word is expanded with: name → value (set but empty is "").
using Env = std::map<std::string, std::string>;

/// How the lexer treats its text. The defaults are a Dockerfile's ENV, WORKDIR, ...
struct LexOptions {
    char escape = '\\';        ///< the escape character: `\` or the `# escape=` directive's `` ` ``
    bool raw_quotes = false;   ///< keep the quote characters in the result
    bool raw_escapes = false;  ///< keep the escape characters in the result
    bool skip_unset = false;   ///< leave `$X` / `${X...}` of an unset X as written
};

/// Expands one word as buildkit's ProcessWord: 'single' quotes literal,
/// "double" quotes expand `$`, the escape character keeps the next character
/// (at the end it is dropped); `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR?err}`, `${VAR:?err}`,
/// `${VAR#glob}` `${VAR##glob}` `${VAR%glob}` `${VAR%%glob}`, `${VAR/glob/r}`
/// and `${VAR//glob/r}` (globs of `*` and `?`). Blanks are kept. Throws
/// box::Error naming the word: an open quote, a missing `}`, a bad
/// substitution, `${X?}` of an unset X.
std::string process_word(std::string_view word, const Env& env, const LexOptions& options = {});

/// As process_word(), then split into words at blanks that are neither
/// quoted nor escaped; blanks from an unquoted expansion split too.
std::vector<std::string> process_words(std::string_view line, const Env& env, const LexOptions& options = {});

/// Go's unicode.IsSpace: what Dockerfile parsing counts as a blank.
bool is_space(char32_t ch);

/// The code point of UTF-8 `text` at byte `at`, and `at` moved past it; a byte
/// that starts no UTF-8 sequence is U+FFFD, one byte long (as Go decodes).
char32_t utf8_next(std::string_view text, size_t& at);
/// The code points of UTF-8 text, as utf8_next() reads them.
std::u32string utf8_decode(std::string_view text);
/// UTF-8 of code points.
std::string utf8_encode(std::u32string_view text);

}  // namespace box::shell
