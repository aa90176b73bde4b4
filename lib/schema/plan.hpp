#pragma once
// Which migrations `migrate up` and `migrate down` would touch, worked out from the catalog and
// the records alone (no database), so dry runs, status and the real run agree by construction.
#include <optional>
#include <string>
#include <vector>

#include "schema/migration_set.hpp"
#include "schema/records.hpp"

namespace bbmd::schema {

struct UpOptions {
  bool skip_post = false;          // SKIP_POST_DEPLOYMENT_MIGRATIONS / --skip-post-deployment
  std::optional<int> limit_pre;    // counts bbmd's own migrations too: they are pre-deployment ones
  std::optional<int> limit_post;
};

struct UpPlan {
  std::vector<const Known*> steps;         // pending, in apply order (failed post ones included)
  std::vector<const Known*> skipped_post;  // pending post-deployment migrations left for later
  std::vector<const Known*> over_limit;    // pending, beyond --limit-pre / --limit-post
  std::vector<const Record*> unknown;      // recorded in the database, unknown to this build
};

[[nodiscard]] UpPlan plan_up(const MigrationSet& migrations, const Records& records, const UpOptions& options);

// The newest `limit` applied migrations (every one without a limit): post-deployment first,
// then pre-deployment, then bbmd's own; each newest first.
[[nodiscard]] std::vector<const Known*> plan_down(const MigrationSet& migrations, const Records& records,
                                                  std::optional<int> limit);

// Records the catalog does not know (the database was migrated by a newer build).
[[nodiscard]] std::vector<const Record*> unknown_records(const MigrationSet& migrations, const Records& records);

// One line per migration: "  pre   20260301000000_add_x  [no-transaction, required stop, requires BBM y]".
[[nodiscard]] std::string describe_step(const Known& k, const Records& records);
[[nodiscard]] std::string render_up_plan(const UpPlan& plan, const Records& records);

}  // namespace bbmd::schema
