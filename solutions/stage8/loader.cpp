// Chapter 8: loading a project — which files, which variables, which name —
// in compose-go's passes: read, interpolate, check and normalise, merge.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <iterator>
#include <regex>
#include <set>

#include "box/dotenv.hpp"
#include "box/error.hpp"
#include "box/util.hpp"
#include "box/yaml.hpp"
#include "stage8.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace box::stage8 {
namespace {

const char* const kFileNames[] = {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"};

std::string absolute_from(const std::string& base, const std::string& path) {
    return fs::path(path).is_absolute() ? fs::path(path).lexically_normal().string()
                                        : (fs::path(base) / path).lexically_normal().string();
}

// The Compose files of the first directory from `cwd` upwards that has one:
// the first of kFileNames there, and its override file.
std::vector<std::string> discover(const std::string& cwd) {
    for (fs::path dir = cwd;; dir = dir.parent_path()) {
        std::vector<std::string> found;
        for (const char* name : kFileNames)
            if (fs::is_regular_file(dir / name)) found.push_back(name);
        if (!found.empty()) {
            if (found.size() > 1)
                std::cerr << "WARN[0000] Found multiple config files with supported names: " << join(found, ", ")
                          << "\nWARN[0000] Using " << found[0] << "\n";
            std::vector<std::string> files = {(dir / found[0]).string()};
            std::string stem = starts_with(found[0], "docker-") ? "docker-compose.override" : "compose.override";
            for (const char* ext : {".yaml", ".yml"})
                if (fs::is_regular_file(dir / (stem + ext))) {
                    files.push_back((dir / (stem + ext)).string());
                    break;
                }
            return files;
        }
        if (dir == dir.root_path() || dir.empty()) break;
    }
    throw Error("no configuration file provided: not found",
                "write a compose.yaml here or in a parent directory, or name one with -f");
}

void check_project_name(const std::string& name) {
    static const std::regex valid("[a-z0-9][a-z0-9_-]*");
    if (!std::regex_match(name, valid))
        throw Error("invalid project name \"" + name + "\"",
                    "must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start "
                    "with a letter or number");
}

// Service `s`'s environment as compose-go's WithServicesEnvironmentResolved
// makes it once the files are merged: a `- KEY` without a value takes the
// project's value if it has one; then each env_file in turn (a missing one is
// an error unless `required: false`), its bare `KEY` lines and `${VAR}`
// looked up in the project's variables, then the service's environment, then
// what the files before it set; `environment:` wins over the files.
// Without `read_files` (config --no-interpolate, compose-go's model), only the
// first step.
void resolve_environment(json& s, const std::map<std::string, std::string>& project_env, bool read_files) {
    json given = s.value("environment", json::object());
    for (auto& [k, v] : given.items())
        if (auto it = project_env.find(k); v.is_null() && it != project_env.end()) v = it->second;
    if (!read_files || !s.contains("env_file")) {
        if (!given.empty()) s["environment"] = given;
        return;
    }
    DotenvVars vars;
    for (const auto& [k, v] : given.items())
        if (v.is_string()) vars.emplace_back(k, v.get<std::string>());
    EnvLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
        if (auto it = project_env.find(name); it != project_env.end()) return it->second;
        if (auto it = given.find(name); it != given.end() && it->is_string()) return it->get<std::string>();
        return std::nullopt;
    };
    for (const auto& f : s["env_file"]) {
        std::string path = f["path"];
        auto text = try_read_file(path);
        if (!text) {
            if (f["required"] == false) continue;
            throw Error("env file " + path + " not found", "stat " + path + ": no such file or directory");
        }
        try {
            parse_dotenv_into(vars, *text, path, lookup);
        } catch (const Error& e) {
            throw Error("failed to read " + path, e.reason());
        }
    }
    json env = json::object();
    for (const auto& [k, v] : vars) env[k] = v;
    for (const auto& [k, v] : given.items()) env[k] = v;
    if (!env.empty()) s["environment"] = env;
}

}  // namespace

std::string normalise_project_name(const std::string& name) {
    std::string out;
    for (char c : to_lower(name))
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') out += c;
    size_t start = out.find_first_not_of("_-");
    return start == std::string::npos ? "" : out.substr(start);
}

Project load_project(const LoadOptions& o) {
    std::string cwd = o.cwd.empty() ? fs::current_path().string() : o.cwd;
    Project p;
    // The files: -f, else COMPOSE_FILE, else the ones discovery finds.
    std::vector<std::string> files = o.files;
    if (files.empty())
        if (const char* env = ::getenv("COMPOSE_FILE"); env && *env) {
            const char* sep = ::getenv("COMPOSE_PATH_SEPARATOR");
            files = split(env, sep && *sep ? sep[0] : ':');
        }
    if (files.empty()) files = discover(cwd);
    for (auto& f : files)
        if (f != "-") f = absolute_from(cwd, f);
    p.dir = !o.project_directory.empty() ? absolute_from(cwd, o.project_directory)
            : files[0] == "-"           ? cwd
                                        : fs::path(files[0]).parent_path().string();

    // The variables: .env of the project directory (or --env-file), the shell's over them.
    std::map<std::string, std::string> shell;
    for (char** e = environ; *e; ++e) {
        std::string kv = *e;
        size_t eq = kv.find('=');
        if (eq != std::string::npos) shell[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    EnvLookup from_shell = [&](const std::string& name) -> std::optional<std::string> {
        auto it = shell.find(name);
        if (it == shell.end()) return std::nullopt;
        return it->second;
    };
    // --env-file, else COMPOSE_ENV_FILES (comma-separated), else PROJECT_DIR/.env if there.
    std::vector<std::string> env_files, named = o.env_files;
    if (named.empty())
        if (const char* env = ::getenv("COMPOSE_ENV_FILES"))
            for (const auto& f : split(env, ','))
                if (!f.empty()) named.push_back(f);
    for (const auto& f : named) env_files.push_back(absolute_from(cwd, f));
    if (named.empty() && fs::is_regular_file(p.dir + "/.env")) env_files.push_back(p.dir + "/.env");
    // Each file sees the shell's variables, then those of the files before it
    // (compose-go's GetEnvFromFile).
    DotenvVars from_files;
    for (const auto& f : env_files) {
        auto text = try_read_file(f);
        if (!text) throw Error("couldn't find env file: " + f, "name an existing file with --env-file");
        try {
            parse_dotenv_into(from_files, *text, f, from_shell);
        } catch (const Error& e) {
            throw Error("failed to read " + f, e.reason());
        }
    }
    p.env.insert(from_files.begin(), from_files.end());
    for (const auto& [k, v] : shell) p.env[k] = v;
    EnvLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
        auto it = p.env.find(name);
        if (it == p.env.end()) return std::nullopt;
        return it->second;
    };

    // Each file: read, interpolate, check and normalise; then merged in order.
    std::vector<std::string> warnings, unset;
    for (const auto& f : files) {
        std::string text;
        if (f == "-") {
            text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        } else {
            auto content = try_read_file(f);
            if (!content) throw Error("open " + f, "no such file or directory");
            text = *content;
        }
        std::string source = f == "-" ? "(stdin)" : f;
        YamlLines lines;
        json doc = yaml_to_json(text, source, &lines);
        if (doc.is_null()) throw Error(source, "empty compose file");
        if (!doc.is_object()) throw Error("validating " + source, "(root) must be a mapping");
        if (o.interpolate) doc = interpolate_all(doc, lookup, unset);
        json model = normalise(doc, source, p.dir, lines, warnings, o.interpolate);
        if (p.model.is_null()) p.model = model;
        else merge_models(p.model, model);
        p.files.push_back(f == "-" ? cwd + "/-" : f);
    }
    std::set<std::string> warned;
    for (const auto& name : unset)
        if (warned.insert(name).second)
            std::cerr << "WARN[0000] The \"" << name << "\" variable is not set. Defaulting to a blank string.\n";
    for (const auto& w : warnings) std::cerr << "WARN[0000] " << w << "\n";

    // The name: -p, COMPOSE_PROJECT_NAME, `name:`, the directory's. Those
    // given are checked; the file's and the directory's are normalised (as
    // compose-go does: `name: My_App` is my_app).
    std::string from_file = normalise_project_name(p.model.value("name", ""));
    if (!o.project_name.empty()) {
        check_project_name(o.project_name);
        p.name = o.project_name;
    } else if (auto env = lookup("COMPOSE_PROJECT_NAME"); env && !env->empty()) {
        check_project_name(*env);
        p.name = *env;
    } else if (!from_file.empty()) {
        p.name = from_file;
    } else {
        p.name = normalise_project_name(fs::path(p.dir).filename().string());
        if (p.name.empty())
            throw Error("project name is empty", "the directory's name has no letter or digit: name it with -p or `name:`");
    }
    p.model["name"] = p.name;

    // Profiles: a service with profiles runs only if one of them is enabled.
    std::set<std::string> enabled(o.profiles.begin(), o.profiles.end());
    if (auto env = lookup("COMPOSE_PROFILES"); env && enabled.empty())
        for (const auto& name : split(*env, ','))
            if (!name.empty()) enabled.insert(name);
    json& services = p.model["services"];
    for (auto it = services.begin(); it != services.end();) {
        const json& profiles = it.value().value("profiles", json::array());
        bool on = profiles.empty() || enabled.count("*") ||
                  std::any_of(profiles.begin(), profiles.end(), [&](const json& x) { return enabled.count(x.get<std::string>()) > 0; });
        it = on ? std::next(it) : services.erase(it);
    }
    for (auto& [name, s] : services.items()) resolve_environment(s, p.env, o.interpolate);
    // What only the merged files can say: each service has an image or a
    // build, and names only volumes and networks the project defines.
    for (const auto& [name, s] : services.items()) {
        auto invalid = [&](const std::string& why) {
            return Error("service \"" + name + "\" " + why + ": invalid compose project", "see 'box compose config'");
        };
        if (!s.contains("image") && !s.contains("build")) throw invalid("has neither an image nor a build context specified");
        for (const auto& v : s.value("volumes", json::array()))
            if (v.is_object() && v["type"] == "volume" && v.contains("source") &&
                !p.model["volumes"].contains(v["source"].get<std::string>()) &&
                (o.interpolate || v["source"].get<std::string>().find('$') == std::string::npos))
                throw invalid("refers to undefined volume " + v["source"].get<std::string>());
        for (const auto& [net, unused] : member(s, "networks").items())
            if (net != "default" && !p.model["networks"].contains(net)) throw invalid("refers to undefined network " + net);
    }
    // Each service is on the project's default network unless it names its own.
    for (auto& [name, s] : services.items())
        if (!s.contains("networks")) {
            s["networks"] = {{"default", nullptr}};
            if (!p.model["networks"].contains("default")) p.model["networks"]["default"] = json::object();
        } else if (s["networks"].contains("default") && !p.model["networks"].contains("default")) {
            p.model["networks"]["default"] = json::object();
        }
    // volumes_from a service, or a link to one, needs that service's container
    // first: a dependency (as compose-go's normalisation adds).
    for (auto& [name, s] : services.items()) {
        auto depend = [&](const std::string& ref) {
            if (!s.contains("depends_on")) s["depends_on"] = json::object();
            if (!s["depends_on"].contains(ref)) s["depends_on"][ref] = {{"condition", "service_started"}, {"required", true}};
        };
        for (const auto& from : s.value("volumes_from", json::array())) {
            std::string ref = from;
            if (starts_with(ref, "container:")) continue;
            if (starts_with(ref, "service:")) ref = ref.substr(8);
            depend(ref.substr(0, ref.find(':')));
        }
        for (const auto& link : s.value("links", json::array())) {  // SERVICE[:ALIAS]
            std::string ref = link;
            depend(ref.substr(0, ref.find(':')));
        }
    }
    // An undefined dependency or a cycle is the file's error, before anything
    // is made (uninterpolated, `required: ${X}` has no value to decide with).
    if (o.interpolate) start_order(services);
    return p;
}

}  // namespace box::stage8
