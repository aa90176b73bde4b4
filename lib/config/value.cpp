// Text -> typed value for one key: the parsing rules shared by YAML scalars and REGISTRY_* values.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/detail.hpp"
#include "config/duration.hpp"
#include "config/keys.hpp"

namespace bbmd::config {
namespace {

// The offending text is quoted in errors so the operator sees what was read, except for secrets.
std::string got(const KeyInfo& key, std::string_view text) {
  if (key.secret) return "";
  return ", got \"" + std::string(text) + "\"";
}

[[noreturn]] void expected(const KeyInfo& key, std::string_view text) {
  throw std::invalid_argument("expected " + std::string(type_name(key.type)) + got(key, text));
}

int parse_int(const KeyInfo& key, std::string_view text) {
  long long v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc{} && ptr == end &&
       (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()))) {
    throw std::invalid_argument("integer out of range" + got(key, text));
  }
  if (ec != std::errc{} || ptr != end || text.empty()) expected(key, text);
  return static_cast<int>(v);
}

double parse_number(const KeyInfo& key, std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || ptr != end || text.empty() || !std::isfinite(v)) expected(key, text);
  return v;
}

// YAML 1.1 spellings the registry's Go config accepted, plus 1/0 for environment variables.
bool parse_bool(const KeyInfo& key, std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "yes" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "0") return false;
  expected(key, text);
}

Duration parse_duration_value(const KeyInfo& key, std::string_view text) {
  try {
    return parse_duration(text);
  } catch (const DurationError& e) {
    throw std::invalid_argument("invalid duration" + (key.secret ? "" : " \"" + std::string(text) + "\"") + ": " +
                                e.what());
  }
}

// libpq, file paths and the SQL check take C strings: a NUL byte (YAML "\0") would silently
// cut the value, e.g. connect with a different password than configured.
void refuse_nul(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) throw std::invalid_argument("must not contain a NUL byte");
}

// An environment value of a string_map key: a YAML flow mapping, as the registry reads it.
StringMap parse_string_map(std::string_view text) {
  const std::string yaml(text);
  try {
    // count_documents first: yaml-cpp can loop forever on some invalid streams (detail.hpp).
    if (detail::count_documents(yaml) > 1) throw std::invalid_argument("expected one YAML mapping");
    return detail::string_map_from_yaml(YAML::Load(yaml));
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument("expected a YAML mapping such as {service: registry}: " + e.msg);
  }
}

// Comma-separated parts with surrounding blanks trimmed ("a, b" -> {"a", "b"}); empty parts kept.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    std::string_view part = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    parts.emplace_back(part);
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

// database.port: one port (range-checked later with every numeric key, so its error names the
// line), or a list with one port per host, each checked here since the int field holds only
// the first.
void set_ports(const KeyInfo& key, Database& db, std::string_view text) {
  db.ports.clear();
  if (text.find(',') == std::string_view::npos) {
    db.port = parse_int(key, text);
    return;
  }
  std::vector<int> ports;
  for (const auto& part : split_list(text)) {
    int port = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), port);
    if (ec != std::errc{} || ptr != part.data() + part.size() || part.empty()) {
      throw std::invalid_argument("expected an integer or integers separated by commas" + got(key, text));
    }
    if (port < 1 || port > 65535) {
      throw std::invalid_argument("every port must be between 1 and 65535, got " + part + " in \"" +
                                  std::string(text) + "\"");
    }
    ports.push_back(port);
  }
  db.port = ports.front();
  db.ports = std::move(ports);
}

}  // namespace

std::string port_text(const Database& db) {
  if (db.ports.empty()) return std::to_string(db.port);
  std::string text;
  for (const int p : db.ports) text += (text.empty() ? "" : ",") + std::to_string(p);
  return text;
}

std::vector<std::string> host_list(const Database& db) { return split_list(db.host); }

namespace detail {

StringMap string_map_from_yaml(const YAML::Node& node) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) throw std::invalid_argument("expected a mapping of names to values");
  StringMap out;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) throw std::invalid_argument("names must be plain text");
    const std::string& name = entry.first.Scalar();
    if (entry.second.IsMap() || entry.second.IsSequence()) {
      throw std::invalid_argument(name + ": expected a plain value, found a " +
                                  (entry.second.IsMap() ? "mapping" : "sequence"));
    }
    const std::string value = entry.second.IsNull() ? std::string() : entry.second.Scalar();
    refuse_nul(name);
    refuse_nul(value);
    if (!out.emplace(name, value).second) throw std::invalid_argument("duplicate name " + name);
  }
  return out;
}

}  // namespace detail

void set_from_text(const KeyInfo& key, Config& config, std::string_view text) {
  if (key.type == KeyType::port_list) {
    set_ports(key, config.database, text);
    return;
  }
  std::visit(
      [&](auto* field) {
        using F = std::remove_cvref_t<decltype(*field)>;
        if constexpr (std::is_same_v<F, int>) {
          *field = parse_int(key, text);
        } else if constexpr (std::is_same_v<F, double>) {
          *field = parse_number(key, text);
        } else if constexpr (std::is_same_v<F, bool>) {
          *field = parse_bool(key, text);
        } else if constexpr (std::is_same_v<F, Duration>) {
          *field = parse_duration_value(key, text);
        } else if constexpr (std::is_same_v<F, StringMap>) {
          *field = parse_string_map(text);
        } else {
          refuse_nul(text);
          *field = std::string(text);
        }
      },
      key.field(config));
}

}  // namespace bbmd::config
