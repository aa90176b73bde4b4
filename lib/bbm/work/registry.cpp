// The registry of work functions and the loader for SQL work function files.
#include "bbm/work/registry.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bbmd::bbm {

namespace {

bool valid_signature_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("work function " + path.string() + ": cannot read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

WorkRegistry::WorkRegistry() {
  add(make_copy_column());
  add(make_fill_from_sequence());
}

WorkRegistry WorkRegistry::with_sql_folder(const std::filesystem::path& dir) {
  WorkRegistry registry;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return registry;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    const auto name = entry.path().stem().string();
    if (!valid_signature_name(name)) {
      throw std::runtime_error("work function " + entry.path().string() +
                               ": name must be 1-63 characters of a-z, 0-9 and _");
    }
    if (registry.find(name)) {
      throw std::runtime_error("work function " + entry.path().string() + ": '" + name +
                               "' is already a built-in work function");
    }
    registry.add(make_sql_function(name, read_file(entry.path())));
  }
  return registry;
}

void WorkRegistry::add(std::unique_ptr<WorkFunction> fn) {
  auto name = fn->name();
  functions_[name] = std::move(fn);
}

const WorkFunction* WorkRegistry::find(const std::string& name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : it->second.get();
}

std::vector<std::string> WorkRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, fn] : functions_) out.push_back(name);
  return out;
}

}  // namespace bbmd::bbm
