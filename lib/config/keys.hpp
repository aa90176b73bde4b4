#pragma once
// The table of every config key: what the loader parses, what REGISTRY_* can override, what
// SIGHUP may change, and what help and errors say. Defaults live in config.hpp's initialisers.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.hpp"

namespace bbmd::config {

// port_list: an integer, or integers separated by commas (database.port, one per host); stored
// as the first in the int field, the whole list in Database::ports.
enum class KeyType { string, integer, boolean, duration, number, path, string_map, port_list };

// Where a key's value lives inside a Config (path keys may be stored as std::string).
using FieldRef = std::variant<std::string*, int*, bool*, Duration*, double*, std::filesystem::path*, StringMap*>;
using ConstFieldRef = std::variant<const std::string*, const int*, const bool*, const Duration*, const double*,
                                   const std::filesystem::path*, const StringMap*>;

// Inclusive bounds unless max_exclusive; durations are compared in milliseconds.
struct Range {
  std::optional<double> min = std::nullopt;
  std::optional<double> max = std::nullopt;
  bool max_exclusive = false;
};

struct KeyInfo {
  std::string_view path;  // dotted, as written in YAML: "database.backgroundmigrations.jobinterval"
  KeyType type;
  bool secret = false;      // value never shown: not in errors, not in display()
  bool reloadable = false;  // SIGHUP may change it without a restart
  std::string_view help;
  std::vector<std::string_view> choices;  // allowed values of a string key; empty: any
  Range range;                            // allowed values of a numeric or duration key
  FieldRef (*field)(Config&);
  ConstFieldRef (*read)(const Config&);
};

// Every key bbmd reads, in documentation order.
[[nodiscard]] const std::vector<KeyInfo>& keys();
[[nodiscard]] const KeyInfo* find_key(std::string_view path);

[[nodiscard]] std::string_view type_name(KeyType type);  // "a duration", "an integer", ...
[[nodiscard]] std::string env_name(std::string_view path);  // "REGISTRY_DATABASE_PORT"

// Parses `text` with the key's type rules (the same for YAML scalars and environment values) and
// stores it; a string_map key's text is a YAML flow mapping ("{service: registry}"). Throws
// std::invalid_argument whose message never contains a secret key's value.
void set_from_text(const KeyInfo& key, Config& config, std::string_view text);

// The value as text for listings; secrets print as "<redacted>" (or "" when unset).
[[nodiscard]] std::string display(const KeyInfo& key, const Config& config);

// Key paths whose values differ and need a restart; SIGHUP refuses (or warns about) these.
[[nodiscard]] std::vector<std::string> changed_non_reloadable(const Config& old, const Config& now);
// Copies every reloadable key's value from `from` into `to`, leaving the rest untouched.
void copy_reloadable(const Config& from, Config& to);

}  // namespace bbmd::config
