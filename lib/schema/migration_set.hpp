#pragma once
// Every migration this build knows: bbmd's own (embedded), then the application's pre- and
// post-deployment directories. The order here is the order `migrate up` applies them in.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "schema/migration_file.hpp"

namespace bbmd::schema {

// bbmd's own migrations are pre-deployment ones, recorded in the same table, applied first.
enum class Kind { own, pre, post };

[[nodiscard]] std::string_view kind_name(Kind kind) noexcept;    // "bbmd", "pre", "post"
[[nodiscard]] std::string_view metric_type(Kind kind) noexcept;  // "pre_deployment" / "post_deployment"
[[nodiscard]] bool is_post(Kind kind) noexcept;

struct Known {
  Kind kind = Kind::pre;
  MigrationFile file;
  [[nodiscard]] const std::string& version() const noexcept { return file.version; }
};

struct MigrationSet {
  std::vector<Known> all;  // own, then pre, then post; each by version

  [[nodiscard]] const Known* find(const std::string& version) const;
  [[nodiscard]] std::vector<const Known*> of(Kind kind) const;
};

// Loads the embedded schema and both directories. Throws std::runtime_error when a directory
// has problems (naming every file) or a version appears twice.
[[nodiscard]] MigrationSet load_migration_set(const std::filesystem::path& pre_dir, const std::filesystem::path& post_dir);
// The same from migrations already read (tests, lint).
[[nodiscard]] MigrationSet make_migration_set(std::vector<MigrationFile> own, std::vector<MigrationFile> pre,
                                   std::vector<MigrationFile> post);

}  // namespace bbmd::schema
