// Reads the YAML file, walks it against the key table, then applies env, paths and validation.
#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "config/detail.hpp"
#include "config/keys.hpp"
#include "config/registry_keys.hpp"

namespace bbmd::config {
namespace {

std::string line_of(const YAML::Node& node) {
  const auto mark = node.Mark();
  return mark.line < 0 ? std::string() : "line " + std::to_string(mark.line + 1);
}

std::string kind_of(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a sequence";
  if (node.IsNull()) return "an empty value";
  return "a scalar";
}

bool is_section(std::string_view path) {
  const auto& table = keys();
  return std::any_of(table.begin(), table.end(), [&](const KeyInfo& k) {
    return k.path.size() > path.size() && k.path.starts_with(path) && k.path[path.size()] == '.';
  });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string unknown_key_text(const std::string& path) {
  std::string text = "unknown key " + path;
  for (const auto& k : keys()) {
    // Lengths further apart than the distance allowed cannot match: skipping them keeps a huge
    // mistyped key from costing its length times every key's length.
    const auto longer = std::max(path.size(), k.path.size());
    if (longer - std::min(path.size(), k.path.size()) > 2) continue;
    if (edit_distance(path, k.path) <= 2) return text + " (did you mean " + std::string(k.path) + "?)";
  }
  return text;
}

// Turns a YAML tree into Config fields, remembering the line each key came from.
class Walker {
 public:
  Walker(Config& config, detail::Origins& origins, std::string label)
      : config_(config), origins_(origins), label_(std::move(label)) {}

  void walk(const YAML::Node& map, const std::string& prefix) {
    for (const auto& entry : map) {
      const YAML::Node& k = entry.first;
      if (!k.IsScalar()) fail(k, "keys must be plain names, found " + kind_of(k));
      const std::string path = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
      remember(k, path);
      if (const KeyInfo* key = find_key(path)) {
        set_leaf(*key, entry.second);
      } else if (registry_owned(path)) {
        config_.registry_keys.push_back(path);  // its value is not even looked at
      } else if (is_section(path)) {
        walk_section(entry.second, path);
      } else {
        fail(k, unknown_key_text(path));
      }
    }
  }

 private:
  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
    const std::string line = line_of(at);
    throw ConfigError(label_ + ": " + (line.empty() ? "" : line + ": ") + what);
  }

  void remember(const YAML::Node& k, const std::string& path) {
    if (!seen_.insert(path).second) fail(k, "duplicate key " + path);
  }

  void walk_section(const YAML::Node& node, const std::string& path) {
    if (node.IsNull()) return;  // "database:" with nothing under it keeps the defaults
    if (!node.IsMap()) fail(node, path + ": expected a mapping of settings, found " + kind_of(node));
    walk(node, path);
  }

  void set_leaf(const KeyInfo& key, const YAML::Node& value) {
    const std::string path(key.path);
    const bool is_map = key.type == KeyType::string_map;
    const bool textual = key.type == KeyType::string || key.type == KeyType::path;
    if (!is_map && (value.IsMap() || value.IsSequence() || (value.IsNull() && !textual))) {
      fail(value, path + ": expected " + std::string(type_name(key.type)) + ", found " + kind_of(value));
    }
    try {
      if (is_map) {
        *std::get<StringMap*>(key.field(config_)) = detail::string_map_from_yaml(value);
      } else {
        set_from_text(key, config_, value.IsNull() ? std::string() : value.Scalar());
      }
    } catch (const std::invalid_argument& e) {
      fail(value, path + ": " + e.what());
    }
    origins_.insert_or_assign(path, line_of(value));
  }

  Config& config_;
  detail::Origins& origins_;
  std::string label_;
  std::set<std::string> seen_;
};

YAML::Node parse_single_document(const std::string& yaml, const std::string& label) {
  std::size_t documents = 0;
  YAML::Node root;
  try {
    documents = detail::count_documents(yaml);
    if (documents == 1) root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's messages are fixed phrases, never the document's text, so no secret can leak.
    const std::string at = e.mark.is_null() ? std::string()
                                            : "line " + std::to_string(e.mark.line + 1) + ", column " +
                                                  std::to_string(e.mark.column + 1) + ": ";
    throw ConfigError(label + ": " + at + "invalid YAML: " + e.msg);
  }
  if (documents > 1) {
    throw ConfigError(label + ": holds " + std::to_string(documents) + " YAML documents; expected one");
  }
  if (documents == 0 || root.IsNull()) {
    throw ConfigError(label + ": is empty; expected a YAML mapping of settings (write {} to keep every default)");
  }
  if (!root.IsMap()) {
    throw ConfigError(label + ": the top level must be a mapping of settings, found " + kind_of(root));
  }
  return root;
}

void resolve_paths(Config& config, const std::filesystem::path& base_dir) {
  if (base_dir.empty()) return;
  for (const auto& key : keys()) {
    if (key.type != KeyType::path) continue;
    std::visit(
        [&](auto* field) {
          using F = std::remove_cvref_t<decltype(*field)>;
          if constexpr (std::is_same_v<F, std::string> || std::is_same_v<F, std::filesystem::path>) {
            const std::filesystem::path p(*field);
            // Empty means "off" (throttle.flagfile), so it stays empty.
            if (!p.empty() && p.is_relative()) *field = F((base_dir / p).lexically_normal());
          }
        },
        key.field(config));
  }
}

Config load_text(const std::string& yaml, const std::filesystem::path& base_dir, const EnvLookup& env,
                 const std::string& label) {
  Config config;
  detail::Origins origins;
  Walker(config, origins, label).walk(parse_single_document(yaml, label), "");
  detail::apply_env(config, env, origins);
  resolve_paths(config, base_dir);
  detail::validate(config, origins, label);
  return config;
}

std::string read_file(const std::filesystem::path& path, const std::string& label) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw ConfigError(label + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buf[8192];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, file.get())) > 0) text.append(buf, n);
  if (std::ferror(file.get())) throw ConfigError(label + ": cannot read: " + std::strerror(errno));
  return text;
}

}  // namespace

Config load_string(const std::string& yaml, const std::filesystem::path& base_dir, const EnvLookup& env) {
  return load_text(yaml, base_dir, env, "config");
}

Config load_file(const std::filesystem::path& path, const EnvLookup& env) {
  const std::string label = "config file " + path.string();
  const std::string text = read_file(path, label);
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  Config config = load_text(text, (ec ? path : absolute).parent_path(), env, label);
  config.source = path;
  return config;
}

}  // namespace bbmd::config
