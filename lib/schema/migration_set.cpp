// The known migrations in apply order (see migration_set.hpp).
#include "schema/migration_set.hpp"

#include <set>
#include <stdexcept>

#include "schema/migration_dir.hpp"
#include "schema/own_schema.hpp"

namespace bbmd::schema {

std::string_view kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::own: return "bbmd";
    case Kind::pre: return "pre";
    case Kind::post: return "post";
  }
  return "?";
}

std::string_view metric_type(Kind kind) noexcept { return is_post(kind) ? "post_deployment" : "pre_deployment"; }

bool is_post(Kind kind) noexcept { return kind == Kind::post; }

const Known* MigrationSet::find(const std::string& version) const {
  for (const auto& k : all) {
    if (k.version() == version) return &k;
  }
  return nullptr;
}

std::vector<const Known*> MigrationSet::of(Kind kind) const {
  std::vector<const Known*> out;
  for (const auto& k : all) {
    if (k.kind == kind) out.push_back(&k);
  }
  return out;
}

MigrationSet make_migration_set(std::vector<MigrationFile> own, std::vector<MigrationFile> pre, std::vector<MigrationFile> post) {
  MigrationSet c;
  std::set<std::string> seen;
  const auto add = [&](Kind kind, std::vector<MigrationFile>& files) {
    for (auto& f : files) {
      // Both record tables are keyed by version; one version in two places could never be told apart.
      if (!seen.insert(f.version).second) {
        throw std::runtime_error("migration " + f.version + " appears twice (" + f.source + ")");
      }
      c.all.push_back({kind, std::move(f)});
    }
  };
  add(Kind::own, own);
  add(Kind::pre, pre);
  add(Kind::post, post);
  return c;
}

MigrationSet load_migration_set(const std::filesystem::path& pre_dir, const std::filesystem::path& post_dir) {
  return make_migration_set(own_migrations(), load_directory(pre_dir), load_directory(post_dir));
}

}  // namespace bbmd::schema
