#pragma once
// A fake process environment for code that takes a config::EnvLookup: tests must not depend on
// (or leak into) the real one.
#include <map>
#include <optional>
#include <string>

#include "config/loader.hpp"

namespace bbmd::test {

inline config::EnvLookup fake_env(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace bbmd::test
