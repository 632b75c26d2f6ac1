#include "box/extension.hpp"

#include "box/util.hpp"

namespace box {
namespace {
std::vector<ExtensionFactory>& factories() {
    static std::vector<ExtensionFactory> all;
    return all;
}
std::vector<SpecFiller>& fillers() {
    static std::vector<SpecFiller> all;
    return all;
}
std::vector<std::pair<SpecPhase, SpecPreparer>>& preparers() {
    static std::vector<std::pair<SpecPhase, SpecPreparer>> all;
    return all;
}
ContainerRunner& runner() {
    static ContainerRunner r;
    return r;
}
}  // namespace

void set_container_runner(ContainerRunner r) { runner() = std::move(r); }
const ContainerRunner& container_runner() { return runner(); }

void add_spec_filler(SpecFiller filler) { fillers().push_back(std::move(filler)); }

void fill_spec(ContainerSpec& spec) {
    for (const auto& f : fillers()) f(spec);
}

void add_spec_preparer(SpecPhase phase, SpecPreparer preparer) {
    preparers().emplace_back(phase, std::move(preparer));
}

void prepare_spec(ContainerSpec& spec) {
    if (spec.id.empty()) spec.id = random_hex(64);
    for (SpecPhase phase : {SpecPhase::Resolve, SpecPhase::Check})
        for (const auto& [p, prepare] : preparers())
            if (p == phase) prepare(spec);
}

void add_extension(ExtensionFactory factory) { factories().push_back(std::move(factory)); }

std::vector<std::unique_ptr<ContainerExtension>> make_extensions(const ContainerSpec& spec) {
    std::vector<std::unique_ptr<ContainerExtension>> out;
    for (const auto& f : factories())
        if (auto e = f(spec)) out.push_back(std::move(e));
    return out;
}

}  // namespace box
