#pragma once
// Reads a YAML config file, applies REGISTRY_* environment overrides, validates every key.
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "config/config.hpp"

namespace bbmd::config {

// Every config problem: the message names the key (or the file) and never contains a secret.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Looks up an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Relative paths in the file (sqlfunctions, migrations.*) are resolved against the file's folder.
[[nodiscard]] Config load_file(const std::filesystem::path& path, const EnvLookup& env = process_env());
[[nodiscard]] Config load_string(const std::string& yaml, const std::filesystem::path& base_dir,
                                 const EnvLookup& env = process_env());

}  // namespace bbmd::config
