// REGISTRY_* environment overrides, one variable per key of the table.
#include <cstdlib>
#include <stdexcept>

#include "config/detail.hpp"
#include "config/keys.hpp"

namespace bbmd::config {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace detail {

void apply_env(Config& config, const EnvLookup& env, Origins& origins) {
  for (const auto& key : keys()) {
    const std::string name = env_name(key.path);
    const auto value = env(name);
    if (!value) continue;
    const std::string origin = "environment variable " + name;
    try {
      set_from_text(key, config, *value);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(origin + " (" + std::string(key.path) + "): " + e.what());
    }
    origins.insert_or_assign(std::string(key.path), origin);
  }
}

}  // namespace detail
}  // namespace bbmd::config
