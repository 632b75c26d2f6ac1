// Chapter 8: the start order — depends_on makes a graph of the services;
// up starts them dependencies first, down removes them dependants first.
#include <set>

#include "box/error.hpp"
#include "stage8.hpp"

namespace box::stage8 {

std::vector<std::string> start_order(const json& services) {
    // BEGIN EXERCISE 1: start_order()
    // A depth-first walk from each service in name order: a service is
    // placed once everything it depends on is; meeting a service that is
    // still being walked is a cycle.
    std::vector<std::string> order;
    std::set<std::string> placed;
    std::vector<std::string> path;  // the services being walked, outermost first
    std::function<void(const std::string&)> visit = [&](const std::string& name) {
        if (placed.count(name)) return;
        for (size_t i = 0; i < path.size(); ++i)
            if (path[i] == name) {
                std::string cycle;
                for (size_t k = i; k < path.size(); ++k) cycle += path[k] + " -> ";
                throw Error("dependency cycle detected: " + cycle + name, "a service cannot wait for itself");
            }
        path.push_back(name);
        const json& deps = services.at(name).value("depends_on", json::object());
        for (const auto& [dep, how] : deps.items()) {
            if (!services.contains(dep)) {
                if (!how.value("required", true)) continue;
                throw Error("service \"" + name + "\" depends on undefined service \"" + dep + "\"",
                            "define it, or remove it from depends_on");
            }
            visit(dep);
        }
        path.pop_back();
        placed.insert(name);
        order.push_back(name);
    };
    for (const auto& [name, unused] : services.items()) visit(name);
    return order;
    // END EXERCISE
}

}  // namespace box::stage8
