#pragma once
// Loader internals shared by loader.cpp, env.cpp and validate.cpp; other folders use loader.hpp.
#include <filesystem>
#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "config/config.hpp"
#include "config/loader.hpp"

namespace YAML {
class Node;
}

namespace bbmd::config::detail {

// Where each key's value came from, so validation errors can point at it: "line 12" or
// "environment variable REGISTRY_DATABASE_PORT". Keys left at their default have no entry.
using Origins = std::map<std::string, std::string, std::less<>>;

// Applies every REGISTRY_* variable that is set; errors name the variable.
void apply_env(Config& config, const EnvLookup& env, Origins& origins);

// Documents in a YAML stream, up to the first empty one (a null root). yaml-cpp 0.7's LoadAll
// never returns on some invalid streams (",a": every call yields another empty document without
// reading on, jbeder/yaml-cpp#1040); stopping at the first empty document, as later yaml-cpp
// releases do, always ends. Throws YAML::Exception for invalid YAML.
[[nodiscard]] std::size_t count_documents(const std::string& yaml);

// A YAML mapping of plain names to plain values (a string_map key, e.g. log.fields); a null node is
// an empty map. Throws std::invalid_argument naming the entry at fault.
[[nodiscard]] StringMap string_map_from_yaml(const YAML::Node& node);

// Range, choice and cross-key checks; `label` ("config file x.yml") opens every message.
void validate(const Config& config, const Origins& origins, const std::string& label);

}  // namespace bbmd::config::detail
