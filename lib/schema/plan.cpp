// Planning `migrate up` and `migrate down` (see plan.hpp).
#include "schema/plan.hpp"

#include <algorithm>

namespace bbmd::schema {

UpPlan plan_up(const MigrationSet& migrations, const Records& records, const UpOptions& options) {
  UpPlan plan;
  int pre_taken = 0, post_taken = 0;
  for (const auto& k : migrations.all) {
    if (records.applied(k.version())) continue;
    const bool post = is_post(k.kind);
    if (post && options.skip_post) {
      plan.skipped_post.push_back(&k);
      continue;
    }
    auto& taken = post ? post_taken : pre_taken;
    const auto& limit = post ? options.limit_post : options.limit_pre;
    if (limit && taken >= *limit) {
      plan.over_limit.push_back(&k);
      continue;
    }
    ++taken;
    plan.steps.push_back(&k);
  }
  plan.unknown = unknown_records(migrations, records);
  return plan;
}

std::vector<const Known*> plan_down(const MigrationSet& migrations, const Records& records, std::optional<int> limit) {
  std::vector<const Known*> out;
  for (const Kind kind : {Kind::post, Kind::pre, Kind::own}) {
    auto of_kind = migrations.of(kind);
    std::reverse(of_kind.begin(), of_kind.end());
    for (const auto* k : of_kind) {
      if (limit && static_cast<int>(out.size()) >= *limit) return out;
      if (records.applied(k->version())) out.push_back(k);
    }
  }
  return out;
}

std::vector<const Record*> unknown_records(const MigrationSet& migrations, const Records& records) {
  std::vector<const Record*> out;
  for (const auto& [version, rec] : records.by_version) {
    if (!migrations.find(version)) out.push_back(&rec);
  }
  return out;
}

std::string describe_step(const Known& k, const Records& records) {
  std::vector<std::string> notes;
  if (k.file.directives.no_transaction) notes.push_back("no-transaction");
  if (k.file.directives.required_stop) notes.push_back("required stop");
  for (const auto& bbm : k.file.directives.requires_bbms) notes.push_back("requires BBM " + bbm);
  if (const auto* r = records.find(k.version()); r && r->failed) {
    notes.push_back("FAILED at " + r->failed_at.value_or("?") + " on " + r->host + "; not retried automatically");
  }
  std::string line = "  " + std::string(kind_name(k.kind));
  line.resize(8, ' ');
  line += k.version();
  if (notes.empty()) return line;
  line += "  [";
  for (std::size_t i = 0; i < notes.size(); ++i) line += (i ? ", " : "") + notes[i];
  return line + "]";
}

std::string render_up_plan(const UpPlan& plan, const Records& records) {
  std::string out;
  if (plan.steps.empty()) {
    out += "nothing to apply\n";
  } else {
    out += "plan: " + std::to_string(plan.steps.size()) + " migration" + (plan.steps.size() == 1 ? "" : "s") +
           " to apply, in order:\n";
    for (const auto* k : plan.steps) out += describe_step(*k, records) + "\n";
  }
  if (!plan.skipped_post.empty()) {
    out += "skipping " + std::to_string(plan.skipped_post.size()) +
           " pending post-deployment migration(s) (SKIP_POST_DEPLOYMENT_MIGRATIONS / --skip-post-deployment):\n";
    for (const auto* k : plan.skipped_post) out += describe_step(*k, records) + "\n";
  }
  if (!plan.over_limit.empty()) {
    out += "left for a later run by --limit-pre / --limit-post: " + std::to_string(plan.over_limit.size()) + "\n";
  }
  for (const auto* r : plan.unknown) {
    out += "warning: the database records " + r->version + ", which this build does not know (applied by a newer build?)\n";
  }
  return out;
}

}  // namespace bbmd::schema
