// The registry of work functions and the loader for SQL work function files (see registry.hpp).
#include "bbm/work/registry.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bbm/work/shipped.hpp"

namespace bbmd::bbm {

namespace {

constexpr std::string_view kSqlExtension = ".sql";

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

WorkRegistry::WorkRegistry() {
  add(make_copy_column());
  add(make_fill_from_sequence());
  for (const auto& file : embedded_work_functions()) {
    const std::string name(file.name.substr(0, file.name.size() - kSqlExtension.size()));
    add_file(name, "bbmd:sql/background/" + std::string(file.name), std::string(file.content));
  }
}

WorkRegistry WorkRegistry::with_sql_folder(const std::filesystem::path& dir) {
  WorkRegistry registry;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return registry;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != kSqlExtension) continue;
    const auto name = entry.path().stem().string();
    const auto origin = entry.path().string();
    if (name == "copy_column" || name == "fill_from_sequence") {
      registry.notices_.push_back({true, name, origin, origin + ": '" + name + "' is a compiled built-in; the file is ignored"});
      continue;
    }
    if (registry.find(name)) registry.notices_.push_back({false, name, origin, ""});
    const auto sql = read_file(entry.path());
    if (!sql) {
      registry.functions_.erase(name);
      registry.problems_[name] = origin + ": cannot be read";
      registry.notices_.push_back({true, name, origin, registry.problems_[name]});
      continue;
    }
    registry.add_file(name, origin, *sql);
  }
  return registry;
}

void WorkRegistry::add_file(const std::string& name, const std::string& origin, const std::string& sql) {
  try {
    add(make_sql_function(name, sql));
    problems_.erase(name);
  } catch (const std::invalid_argument& e) {
    functions_.erase(name);
    problems_[name] = origin + ": " + e.what();
    notices_.push_back({true, name, origin, problems_[name]});
  }
}

void WorkRegistry::log_notices(const log::Logger& logger) const {
  for (const auto& n : notices_) {
    if (n.problem) {
      logger.error("work function file cannot be used", {{"work_function", n.name}, {log::kError, n.text}});
    } else {
      logger.info("work function file overrides a shipped one", {{"work_function", n.name}, {"file", n.file}});
    }
  }
}

void WorkRegistry::add(std::unique_ptr<WorkFunction> fn) {
  auto name = fn->name();
  functions_[name] = std::move(fn);
}

const WorkFunction* WorkRegistry::find(const std::string& name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : it->second.get();
}

std::optional<std::string> WorkRegistry::problem(const std::string& name) const {
  auto it = problems_.find(name);
  if (it == problems_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> WorkRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, fn] : functions_) out.push_back(name);
  return out;
}

}  // namespace bbmd::bbm
