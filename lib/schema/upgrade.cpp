// Applying migrations behind required BBMs and required stops (see upgrade.hpp).
#include "schema/upgrade.hpp"

#include <set>

#include "db/connection.hpp"
#include "log/log.hpp"
#include "schema/bbm_state.hpp"
#include "schema/migrator.hpp"
#include "schema/records.hpp"

namespace bbmd::schema {

namespace {

using boost::asio::awaitable;

inline constexpr const char* kComponent = "bbmd.migrate";
inline constexpr const char* kVersionField = "migration_version";
inline constexpr const char* kTypeField = "migration_type";
inline constexpr const char* kBbmsField = "bbm_names";

std::vector<std::string> names_of(const std::vector<BbmState>& states) {
  std::vector<std::string> out;
  for (const auto& s : states) out.push_back(s.name);
  return out;
}

class Upgrade {
 public:
  Upgrade(db::Connection& conn, const MigrationSet& migrations, const UpHooks& hooks)
      : conn_(conn), migrations_(migrations), hooks_(hooks), log_(kComponent) {}

  awaitable<void> load() {
    records_ = co_await read_records(conn_);
    fresh_ = records_.empty();
  }

  [[nodiscard]] const Records& records() const noexcept { return records_; }
  UpResult& result() noexcept { return result_; }

  // Applies one migration after its checks; false when the run has to stop here.
  awaitable<bool> step(const Known& m, bool retrying) {
    const bool past_stops = co_await pass_stops(m);
    if (!past_stops) co_return false;
    if (const auto* rec = records_.find(m.version()); rec && rec->failed && !retrying) {
      fail(m, refusal(m, *rec));
      co_return false;
    }
    const bool required_finished =
        co_await bbms_finished(m.file.directives.requires_bbms, "migration " + m.version(),
                               "migration " + m.version() + " requires batched background migrations that have not "
                               "finished; stopped before it:");
    if (!required_finished) co_return false;
    if (hooks_.on_start) hooks_.on_start(m);
    log_.info("applying migration", fields(m, {{"no_transaction", m.file.directives.no_transaction}}));
    std::string error;
    ApplyResult applied;
    try {
      applied = co_await apply_one(conn_, m);
    } catch (const MigrationFailed& e) {
      error = e.what();
    }
    if (!error.empty()) {
      fail(m, error);
      co_return false;
    }
    log_.info("migration applied", fields(m, {{log::kDurationS, applied.seconds}, {kBbmsField, applied.queued_bbms}}));
    result_.applied.push_back(&m);
    if (hooks_.on_applied) hooks_.on_applied(m, applied.seconds);
    records_ = co_await read_records(conn_);  // its queued BBMs count for later required stops
    co_return true;
  }

  void fail(const Known& m, std::string message) {
    log_.error("migration stopped with an error", fields(m, {{log::kError, message}}));
    result_.outcome = UpOutcome::failed;
    result_.message = std::move(message);
  }

 private:
  log::Fields fields(const Known& m, log::Fields extra) const {
    extra[kVersionField] = m.version();
    extra[kTypeField] = std::string(metric_type(m.kind));
    return extra;
  }

  std::string commands_hint() const {
    return "Finish them with `bbmd background-migrate run " + hooks_.config_path +
           "` (or let `bbmd serve` run them), then run `bbmd database migrate up " + hooks_.config_path + "` again.";
  }

  std::string refusal(const Known& m, const Record& rec) const {
    return "post-deployment migration " + m.version() + " failed at " + rec.failed_at.value_or("?") + " on " +
           rec.host + " (" + std::to_string(rec.attempts) + " attempt(s)): " + rec.error.value_or("") +
           "\nIt is not retried automatically: a failed data migration may have left data half-changed. "
           "Check the data, then either rerun it with\n  bbmd database migrate retry " +
           m.version() + " " + hooks_.config_path +
           "\nor, if it has been made unnecessary, record it as applied with\n  bbmd database migrate mark-applied " +
           m.version() + " --reason \"...\" " + hooks_.config_path;
  }

  // The newest applied required stop ordered before `m` that has not been checked in this run.
  const Known* stop_before(const Known& m) const {
    const Known* stop = nullptr;
    for (const auto& k : migrations_.all) {
      if (!k.file.directives.required_stop || !records_.applied(k.version()) || k.version() >= m.version()) continue;
      if (passed_.count(k.version())) continue;
      if (!stop || k.version() > stop->version()) stop = &k;
    }
    return stop;
  }

  awaitable<bool> pass_stops(const Known& m) {
    const auto* stop = stop_before(m);
    if (!stop) co_return true;
    std::vector<std::string> queued;
    for (const auto& [version, rec] : records_.by_version) {
      if (version <= stop->version()) queued.insert(queued.end(), rec.queued_bbms.begin(), rec.queued_bbms.end());
    }
    const bool queued_finished =
        co_await bbms_finished(queued, "required stop " + stop->version(),
                               "stopped at required stop " + stop->version() +
                                   ": every batched background migration queued up to it must finish before "
                                   "migrations after it are applied. Not finished yet:");
    if (!queued_finished) {
      co_return false;
    }
    for (const auto& k : migrations_.all) {
      if (k.version() <= stop->version()) passed_.insert(k.version());
    }
    co_return true;
  }

  // True when every named BBM has finished, after running them inline on a fresh database.
  // Otherwise sets the result: failed for an unknown name, blocked for an unfinished BBM.
  awaitable<bool> bbms_finished(const std::vector<std::string>& names, const std::string& wanted_by,
                                const std::string& blocked_header) {
    if (names.empty()) co_return true;
    std::vector<BbmState> unfinished;
    std::string error;
    try {
      unfinished = co_await unfinished_bbms(conn_, names, wanted_by);
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    if (!error.empty()) {
      log_.error("unknown batched background migration", {{log::kError, error}});
      result_.outcome = UpOutcome::failed;
      result_.message = error;
      co_return false;
    }
    if (unfinished.empty()) co_return true;
    if (fresh_) co_return co_await run_inline(names_of(unfinished), wanted_by);
    std::string message = blocked_header;
    for (const auto& s : unfinished) message += "\n  " + s.describe();
    message += "\n" + commands_hint();
    log_.warn("waiting for batched background migrations",
              {{kBbmsField, names_of(unfinished)}, {log::kReason, wanted_by}});
    result_.outcome = UpOutcome::blocked;
    result_.message = std::move(message);
    co_return false;
  }

  awaitable<bool> run_inline(const std::vector<std::string>& names, const std::string& wanted_by) {
    log_.info("fresh database: running required batched background migrations inline",
              {{kBbmsField, names}, {log::kReason, wanted_by}});
    const auto problems = co_await hooks_.run_bbms(conn_, names);
    result_.bbms_run.insert(result_.bbms_run.end(), names.begin(), names.end());
    if (problems.empty()) co_return true;
    std::string message = wanted_by + ": batched background migrations run inline could not finish:";
    for (const auto& p : problems) message += "\n  " + p;
    log_.error("inline batched background migrations could not finish", {{log::kError, message}});
    result_.outcome = UpOutcome::failed;
    result_.message = std::move(message);
    co_return false;
  }

  db::Connection& conn_;
  const MigrationSet& migrations_;
  const UpHooks& hooks_;
  log::Logger log_;
  Records records_;
  bool fresh_ = false;
  std::set<std::string> passed_;  // versions at or before a required stop already checked
  UpResult result_;
};

}  // namespace

awaitable<UpResult> run_up(db::Connection& conn, const MigrationSet& migrations, const UpPlan& plan, const UpHooks& hooks) {
  Upgrade up(conn, migrations, hooks);
  co_await up.load();
  for (const auto* m : plan.steps) {
    const bool went_on = co_await up.step(*m, false);
    if (!went_on) break;
  }
  co_return std::move(up.result());
}

awaitable<UpResult> run_retry(db::Connection& conn, const MigrationSet& migrations, const Known& m, const UpHooks& hooks) {
  Upgrade up(conn, migrations, hooks);
  co_await up.load();
  const auto* rec = up.records().find(m.version());
  if (!rec || !rec->failed) {
    up.fail(m, "migration " + m.version() + " has no failed attempt recorded; `retry` is only for failed "
               "post-deployment migrations (use `bbmd database migrate up` for pending ones)");
  } else {
    co_await up.step(m, true);
  }
  co_return std::move(up.result());
}

}  // namespace bbmd::schema
