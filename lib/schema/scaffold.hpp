#pragma once
// `migrate new`: writes a timestamped up/down pair whose header lists the directives, commented
// out, so authors see what they can declare without reading the docs.
#include <chrono>
#include <filesystem>
#include <string>

namespace bbmd::schema {

struct Scaffolded {
  std::filesystem::path up, down;
  std::string version;
};

// Creates `dir` if needed. The timestamp is `now` in UTC, moved one second on while any migration
// in `dir` or `other_dir` already uses it (two `new` in one second stay unique and ordered).
// Throws std::invalid_argument for a name that is not lowercase snake_case.
Scaffolded scaffold_migration(const std::filesystem::path& dir, const std::filesystem::path& other_dir,
                              const std::string& name, bool post_deployment,
                              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace bbmd::schema
