#pragma once
// Loading a config from YAML text in unit tests: the config, or the ConfigError message it gives.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "config/loader.hpp"
#include "support/fake_env.hpp"

namespace bbmd::test {

inline config::Config load_config(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  return config::load_string(yaml, "/etc/bbmd", fake_env(std::move(env)));
}

// The ConfigError message load_config() throws; fails the test if it loads.
inline std::string config_error_of(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  try {
    (void)load_config(yaml, std::move(env));
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  FAIL("config loaded without error:\n" << yaml);
  return {};
}

}  // namespace bbmd::test
