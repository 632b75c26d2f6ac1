#include "box/confinement.hpp"

namespace box {
namespace {
ConfinementFactory& factory() {
    static ConfinementFactory f;
    return f;
}
}  // namespace

void set_confinement_factory(ConfinementFactory f) { factory() = std::move(f); }

std::unique_ptr<Confinement> make_confinement(const ConfinementRequest& request) {
    if (factory())
        if (auto c = factory()(request)) return c;
    return std::make_unique<Confinement>();
}

}  // namespace box
