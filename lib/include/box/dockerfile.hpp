/// @file dockerfile.hpp
/// @brief The Dockerfile parser: text → one node per instruction, with
/// buildkit's rules (moby/buildkit frontend/dockerfile/parser). Arguments stay
/// raw; quotes and `$VAR` are the shell lexer's (box/shell_lexer.hpp) later,
/// with the environment of the moment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace box::dockerfile {

/// A here-document of RUN, COPY or ADD: `<<EOF` ... `EOF`.
struct Heredoc {
    std::string name;     ///< the terminator, quotes removed: `<<"EOF"` → EOF
    std::string content;  ///< the lines before the terminator, each with its newline
    bool expand = true;   ///< false if the name was quoted: no `$VAR` in the content
    bool chomp = false;   ///< `<<-`: leading tabs stripped from the lines and the terminator
    unsigned fd = 0;      ///< `3<<EOF` → 3 (0 when not given)
};

/// One instruction, or the root whose children are the instructions.
struct Node {
    std::string keyword;             ///< lower case: "run", "from", ...; "" for the root
    std::vector<std::string> flags;  ///< leading `--name[=value]` words, quotes removed
    /// The arguments: one per element of the JSON (exec) form; for the shell
    /// form of RUN, CMD, ENTRYPOINT, SHELL, USER, WORKDIR, ... the whole rest of
    /// the line; for FROM, EXPOSE, COPY, ADD, VOLUME the blank-separated words;
    /// for ENV and LABEL triples key, value, separator ("=" for `K=V`, "" for
    /// the legacy `K V`); for ARG its words. Values raw: quotes and escapes kept.
    std::vector<std::string> args;
    bool json = false;               ///< the arguments were a JSON array
    std::vector<Node> children;      ///< the root: the instructions; ONBUILD: its trigger
    std::vector<Heredoc> heredocs;   ///< in the order their `<<` appear
    std::string original;            ///< the instruction as written, continuation lines joined
    int start_line = 0;              ///< 1-based line of its first line
    int end_line = 0;                ///< 1-based line of its last line (a heredoc's terminator)
};

/// A parsed Dockerfile: its instructions and its parser directives.
struct Dockerfile {
    Node root;                ///< children: the instructions in order
    char escape = '\\';       ///< `# escape=` (`\` or `` ` ``)
    std::string syntax;       ///< `# syntax=`, "" if not given
};

/// Parses a Dockerfile. Directives count only before any other line;
/// instruction names are case-insensitive; a line ending in the escape
/// character continues on the next (blank and comment lines within are
/// skipped); a JSON array that does not parse is the shell form. Throws
/// box::Error whose what() starts with `FILE:LINE:COLUMN` and says what was
/// expected: an unknown instruction, `ENV` without a value, a JSON array of
/// non-strings, an unterminated heredoc, a file of no instructions, ...
Dockerfile parse(std::string_view text, const std::string& file = "Dockerfile");

/// `node` as buildkit's AST.Dump(): one `(keyword ["--flag"] "arg" ...)` line
/// per instruction for the root, `keyword ["--flag"] "arg" ...` for one
/// instruction, strings quoted as Go's strconv.Quote.
std::string dump(const Node& node);

}  // namespace box::dockerfile
