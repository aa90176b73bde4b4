// Writing a new migration pair (see scaffold.hpp).
#include "schema/scaffold.hpp"

#include <fstream>
#include <set>
#include <stdexcept>

#include "schema/migration_file.hpp"

namespace bbmd::schema {

namespace {

std::set<std::string> timestamps_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string().substr(0, 14));
  return out;
}

std::string up_template(const std::string& version, bool post) {
  return "-- " + version + (post ? " (post-deployment" : " (pre-deployment") +
         " migration)\n"
         "-- Header directives: to use one, remove the leading \"-- \" so the line starts with \"-- bbmd:\".\n"
         "-- They are read only from this leading comment block.\n"
         "-- -- bbmd:requires-bbm <name of a BBM queued by an earlier migration>\n"
         "-- -- bbmd:no-transaction  (for CREATE INDEX CONCURRENTLY; one statement at a time, no rollback)\n"
         "-- -- bbmd:required-stop   (installations must pass through here and finish its BBMs)\n"
         "\n";
}

void write_new(const std::filesystem::path& p, const std::string& content) {
  if (std::filesystem::exists(p)) throw std::runtime_error(p.string() + " already exists");
  std::ofstream out(p);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

}  // namespace

Scaffolded scaffold_migration(const std::filesystem::path& dir, const std::filesystem::path& other_dir,
                              const std::string& name, bool post, std::chrono::system_clock::time_point now) {
  if (!valid_version("00000000000000_" + name)) {
    throw std::invalid_argument("migration name '" + name + "' must be lowercase letters, digits and underscores");
  }
  auto taken = timestamps_in(dir);
  taken.merge(timestamps_in(other_dir));
  while (taken.count(utc_timestamp(now))) now += std::chrono::seconds(1);
  std::filesystem::create_directories(dir);
  Scaffolded s;
  s.version = utc_timestamp(now) + "_" + name;
  s.up = dir / (s.version + ".up.sql");
  s.down = dir / (s.version + ".down.sql");
  write_new(s.up, up_template(s.version, post));
  write_new(s.down, "-- Reverts " + s.version + ": undo exactly what the up file does.\n\n");
  return s;
}

}  // namespace bbmd::schema
