// Groups the embedded sql/schema files into migrations.
#include "schema/own_schema.hpp"

#include <map>
#include <stdexcept>

#include "schema/embedded_schema.hpp"

namespace bbmd::schema {

std::vector<MigrationFile> own_migrations() {
  std::map<std::string, MigrationFile> by_version;
  for (const auto& file : embedded_schema_files()) {
    const std::string name(file.name);
    for (const std::string suffix : {".up.sql", ".down.sql"}) {
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      const auto version = name.substr(0, name.size() - suffix.size());
      auto& m = by_version[version];
      m.version = version;
      m.source = "bbmd:sql/schema/" + version + ".up.sql";
      (suffix == ".up.sql" ? m.up_sql : m.down_sql) = std::string(file.content);
    }
  }
  std::vector<MigrationFile> out;
  for (auto& [version, m] : by_version) {
    if (!valid_version(version) || m.up_sql.empty() || m.down_sql.empty()) {
      throw std::logic_error("embedded schema migration " + version + " is incomplete or badly named");
    }
    m.directives = parse_directives(m.up_sql);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace bbmd::schema
