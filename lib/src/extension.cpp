#include "box/extension.hpp"

#include "box/util.hpp"

namespace box {
namespace {
struct Registered {
    std::string name;
    ExtensionPhase phase;
    ExtensionFactory factory;
};
std::vector<Registered>& factories() {
    static std::vector<Registered> all;
    return all;
}
std::vector<RequestFiller>& fillers() {
    static std::vector<RequestFiller> all;
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

void add_request_filler(RequestFiller filler) { fillers().push_back(std::move(filler)); }

void fill_request(ContainerRequest& request) {
    for (const auto& f : fillers()) f(request);
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

void add_extension(const std::string& name, ExtensionPhase phase, ExtensionFactory factory) {
    factories().push_back({name, phase, std::move(factory)});
}

Extensions& Extensions::operator=(Extensions&& other) noexcept {
    if (this != &other) {
        clear();
        list_ = std::move(other.list_);
    }
    return *this;
}

Extensions Extensions::make(const ContainerSpec& spec, ExtensionMode mode, const nlohmann::json& records) {
    static const nlohmann::json none;
    Extensions out;
    for (ExtensionPhase phase : {ExtensionPhase::Namespaces, ExtensionPhase::Resources, ExtensionPhase::Network, ExtensionPhase::RootFs,
                                 ExtensionPhase::Mounts, ExtensionPhase::Security})
        for (const auto& r : factories()) {
            if (r.phase != phase) continue;
            const nlohmann::json& record = records.is_object() && records.contains(r.name) ? records[r.name] : none;
            // A factory that throws leaves `out` to undo what the earlier ones made.
            if (auto e = r.factory({spec, mode, record})) out.list_.emplace_back(r.name, std::move(e));
        }
    return out;
}

void Extensions::each(const std::function<void(ContainerExtension&)>& hook) const {
    for (const auto& [name, e] : list_) hook(*e);
}

nlohmann::json Extensions::records() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, e] : list_)
        if (auto r = e->record(); !r.is_null()) out[name] = r;
    return out;
}

void Extensions::clear() noexcept {
    while (!list_.empty()) list_.pop_back();  // last phase first
}

}  // namespace box
