#pragma once
// Config loading: YAML text, then optionally a NUL byte and REGISTRY_* overrides, one NAME=value
// per line. Loaded, or rejected with a ConfigError (no other exception may escape); secrets from
// the environment never show up in the outcome, whatever the load did.
#include <map>

#include "config/keys.hpp"
#include "config/loader.hpp"
#include "fuzz/entry.hpp"

namespace bbmd::fuzz {

namespace config_detail {

using Env = std::map<std::string, std::string>;

inline Env parse_env(std::string_view text) {
  Env env;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    // A real environment holds C strings: a value ends at its first NUL byte.
    const auto value = line.substr(eq + 1);
    env.insert_or_assign(std::string(line.substr(0, eq)), std::string(value.substr(0, value.find('\0'))));
  }
  return env;
}

// The loaded config, or the ConfigError's message in `error`.
inline std::optional<config::Config> try_load(std::string_view yaml, const Env& env, std::string& error) {
  const config::EnvLookup lookup = [&env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  try {
    return config::load_string(std::string(yaml), "/fuzz", lookup);
  } catch (const config::ConfigError& e) {
    error = e.what();
    return std::nullopt;
  }
}

// "ok: key=value ..." for every key that differs from its default (secrets as display() shows them).
inline std::string load(std::string_view yaml, const Env& env) {
  std::string error;
  const auto loaded = try_load(yaml, env, error);
  if (!loaded) return rejected(error);
  const config::Config defaults;
  std::string out = "ok:";
  for (const auto& key : config::keys()) {
    const auto value = config::display(key, *loaded);
    if (value != config::display(key, defaults)) out += " " + std::string(key.path) + "=" + value;
  }
  return out;
}

// Every byte of `value` changed, same length: a stand-in that no rule could tell apart by length.
inline std::string altered(const std::string& value) {
  std::string out = value;
  for (auto& c : out) c = static_cast<char>(c ^ 1);
  return out;
}

}  // namespace config_detail

inline std::string config(std::string_view input) {
  const auto [yaml, env_text] = split_at_nul(input);
  const auto env = config_detail::parse_env(env_text);
  const std::string outcome = config_detail::load(yaml, env);
  // A secret leaks when the outcome holds it and loading with an altered secret does not
  // (so text that merely happens to equal the secret, e.g. a word of a message, is no leak).
  for (const auto& key : config::keys()) {
    if (!key.secret) continue;
    const auto it = env.find(config::env_name(key.path));
    if (it == env.end() || it->second.size() < 4 || outcome.find(it->second) == std::string::npos) continue;
    auto other_env = env;
    other_env[it->first] = config_detail::altered(it->second);
    const std::string other = config_detail::load(yaml, other_env);
    require(other.find(it->second) != std::string::npos, std::string(key.path) + " leaked: " + outcome);
  }
  return outcome;
}

}  // namespace bbmd::fuzz
