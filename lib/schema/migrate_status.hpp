#pragma once
// `migrate status` and `migrate version`: every migration with its kind and state, migrations the
// database records but this build does not know, and the pending counts behind the serve gauge.
#include <optional>
#include <string>
#include <vector>

#include "schema/migration_set.hpp"
#include "schema/records.hpp"

namespace bbmd::schema {

struct StatusRow {
  std::string version;
  std::string kind;   // bbmd, pre, post
  std::string state;  // applied, pending, failed, unknown
  const Record* record = nullptr;
};

struct PendingCounts {
  int pre = 0;   // bbmd's own included
  int post = 0;  // failed ones included: they are not applied either
  [[nodiscard]] int total() const noexcept { return pre + post; }
};

[[nodiscard]] std::vector<StatusRow> status_rows(const MigrationSet& migrations, const Records& records);
[[nodiscard]] PendingCounts pending_counts(const MigrationSet& migrations, const Records& records);
[[nodiscard]] std::string render_status_table(const std::vector<StatusRow>& rows);
[[nodiscard]] std::string render_status_json(const std::vector<StatusRow>& rows);
// "pre-deployment: <newest applied or none>" and the same for post-deployment.
[[nodiscard]] std::string render_version(const Records& records);

}  // namespace bbmd::schema
