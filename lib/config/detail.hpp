#pragma once
// Loader internals shared by loader.cpp, env.cpp and validate.cpp; other folders use loader.hpp.
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "config/config.hpp"
#include "config/loader.hpp"

namespace bbmd::config::detail {

// Where each key's value came from, so validation errors can point at it: "line 12" or
// "environment variable REGISTRY_DATABASE_PORT". Keys left at their default have no entry.
using Origins = std::map<std::string, std::string, std::less<>>;

// Applies every REGISTRY_* variable that is set; errors name the variable.
void apply_env(Config& config, const EnvLookup& env, Origins& origins);

// Range, choice and cross-key checks; `label` ("config file x.yml") opens every message.
void validate(const Config& config, const Origins& origins, const std::string& label);

}  // namespace bbmd::config::detail
