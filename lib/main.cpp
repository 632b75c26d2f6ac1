// box's entry point: lib/'s commands plus those of stages 1..BOX_STAGE.
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

int main(int argc, char** argv) {
    return box::cli::main(argc, argv, BOX_STAGE, [](CLI::App& app) {
        box::add_lib_commands(app);
        box::stage1::add_commands(app);
#if BOX_STAGE >= 2
        box::stage2::add_commands(app);
#endif
#if BOX_STAGE >= 3
        box::stage3::add_commands(app);
#endif
#if BOX_STAGE >= 4
        box::stage4::add_commands(app);
#endif
    });
}
