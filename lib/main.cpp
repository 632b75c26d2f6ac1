// box's entry point: lib/'s commands plus those of stages 1..BOX_STAGE.
// Registering is cheap (no option is declared yet); cli::main builds only the
// command named on the command line.
#include "box/cli.hpp"
#include "box/commands.hpp"
#include "stage1.hpp"
#if BOX_STAGE >= 2
#include "stage2.hpp"
#endif
#if BOX_STAGE >= 3
#include "stage3.hpp"
#endif
#if BOX_STAGE >= 4
#include "stage4.hpp"
#endif
#if BOX_STAGE >= 5
#include "stage5.hpp"
#endif
#if BOX_STAGE >= 6
#include "stage6.hpp"
#endif
#if BOX_STAGE >= 7
#include "stage7.hpp"
#endif
#if BOX_STAGE >= 8
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "stage8.hpp"
#endif

int main(int argc, char** argv) {
    box::register_lib_commands();
    box::stage1::register_commands();
#if BOX_STAGE >= 2
    box::stage2::register_commands();
#endif
#if BOX_STAGE >= 3
    box::stage3::register_commands();
#endif
#if BOX_STAGE >= 4
    box::stage4::register_commands();
#endif
#if BOX_STAGE >= 5
    box::stage5::register_commands();
#endif
#if BOX_STAGE >= 6
    box::stage6::register_commands();
#endif
#if BOX_STAGE >= 7
    box::stage7::register_commands();
#endif
#if BOX_STAGE >= 8
    box::stage8::register_commands();
    // `box-compose ARGS` is `box compose ARGS`, as docker-compose is docker compose.
    const char* slash = std::strrchr(argv[0], '/');
    if (std::strcmp(slash ? slash + 1 : argv[0], "box-compose") == 0) {
        static std::vector<char*> args(argv, argv + argc);
        static char compose[] = "compose";
        int at = 1;  // after box's own global flags
        while (at < argc) {
            std::string a = argv[at];
            if (a == "--root" || a == "--log-level") at += 2;
            else if (a == "--explain" || a.rfind("--root=", 0) == 0 || a.rfind("--log-level=", 0) == 0) at += 1;
            else break;
        }
        args.insert(args.begin() + std::min(at, argc), compose);
        args.push_back(nullptr);
        return box::cli::main(argc + 1, args.data(), BOX_STAGE);
    }
#endif
    return box::cli::main(argc, argv, BOX_STAGE);
}
