// libFuzzer target (make fuzz): lib's Dockerfile parser and shell lexer on
// arbitrary bytes. Either may refuse the input with box::Error; neither may
// crash, leak, read out of bounds or hit undefined behaviour (ASan, UBSan).
// The input is parsed as a Dockerfile; every argument of what parsed is
// expanded as a build would; the whole input is expanded as one word too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "box/dockerfile.hpp"
#include "box/error.hpp"
#include "box/shell_lexer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    const box::shell::Env env = {{"A", "a b"}, {"EMPTY", ""}, {"PATH", "/usr/bin:/bin"}};
    try {
        box::dockerfile::Dockerfile df = box::dockerfile::parse(text, "fuzz");
        (void)box::dockerfile::dump(df.root);
        box::shell::LexOptions options;
        options.escape = df.escape;
        for (const auto& node : df.root.children)
            for (const auto& arg : node.args) {
                try {
                    (void)box::shell::process_words(arg, env, options);
                } catch (const box::Error&) {
                }
            }
    } catch (const box::Error&) {
    }
    for (bool raw : {false, true}) {
        box::shell::LexOptions options;
        options.raw_quotes = options.raw_escapes = options.skip_unset = raw;
        try {
            (void)box::shell::process_word(text, env, options);
        } catch (const box::Error&) {
        }
    }
    return 0;
}
