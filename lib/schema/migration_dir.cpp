// Reading migration pairs from a directory (see migration_dir.hpp).
#include "schema/migration_dir.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace bbmd::schema {

namespace {

constexpr std::string_view kUp = ".up.sql";
constexpr std::string_view kDown = ".down.sql";

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Pair {
  std::filesystem::path up, down;
};

}  // namespace

DirScan scan_directory(const std::filesystem::path& dir) {
  DirScan scan;
  if (!std::filesystem::is_directory(dir)) return scan;
  std::map<std::string, Pair> pairs;  // sorted by version
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    const bool up = ends_with(name, kUp), down = ends_with(name, kDown);
    const auto version = up ? name.substr(0, name.size() - kUp.size())
                            : down ? name.substr(0, name.size() - kDown.size()) : name;
    if ((!up && !down) || !valid_version(version)) {
      scan.problems.push_back({"bad_name", entry.path().string(),
                               "not named <YYYYMMDDHHMMSS>_<lowercase_name>.up.sql or .down.sql"});
      continue;
    }
    (up ? pairs[version].up : pairs[version].down) = entry.path();
  }
  for (const auto& [version, pair] : pairs) {
    if (pair.up.empty()) {
      scan.problems.push_back({"missing_up", pair.down.string(), "down file without " + version + ".up.sql"});
      continue;
    }
    if (pair.down.empty()) {
      scan.problems.push_back({"missing_down", pair.up.string(),
                               "no " + version + ".down.sql: every migration must be reversible by `migrate down`"});
      continue;
    }
    MigrationFile m{version, read_all(pair.up), read_all(pair.down), {}, pair.up.string()};
    try {
      m.directives = parse_directives(m.up_sql);
    } catch (const std::invalid_argument& e) {
      scan.problems.push_back({"bad_directive", m.source, e.what()});
      continue;
    }
    scan.migrations.push_back(std::move(m));
  }
  return scan;
}

std::vector<MigrationFile> load_directory(const std::filesystem::path& dir) {
  auto scan = scan_directory(dir);
  if (scan.problems.empty()) return std::move(scan.migrations);
  std::string msg = "migrations directory " + dir.string() + " has problems (see `bbmd database migrate lint`):";
  for (const auto& p : scan.problems) msg += "\n  " + p.file + ": " + p.message;
  throw std::runtime_error(msg);
}

}  // namespace bbmd::schema
