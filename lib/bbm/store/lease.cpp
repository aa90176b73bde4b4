// Job leases: takeover of expired leases, new ranges, retries of failed jobs, settling, and the
// chained lease a batch's commit takes (see lease.hpp and store.hpp).
#include "bbm/store/lease.hpp"

#include <chrono>

#include "bbm/store/keyset.hpp"
#include "bbm/store/pg_store.hpp"
#include "bbm/store/rows.hpp"
#include "bbm/store/sql.hpp"
#include "db/transaction.hpp"

namespace bbmd::bbm {

namespace {

// Fragments every lease is built from, so each rule is stated once.

// A migration that may still be worked on.
constexpr const char* kLive = "status IN ({m.active}, {m.running})";

// The running jobs on one table, and in the whole fleet.
std::string running_on_table(std::string_view table_oid) {
  return sql::running_jobs("table_oid = " + std::string(table_oid));
}
const std::string kRunningInFleet = sql::running_jobs("");

// Where the next range starts: after the highest key issued, never below min_value; NULL once
// every key up to max_value was issued (so max_value + 1 is never computed: no bigint overflow).
// $1 migration, $2 min_value, $3 max_value.
constexpr const char* kCursor =
    "cursor AS (SELECT CASE WHEN max(max_value) IS NULL THEN $2::bigint WHEN max(max_value) >= $3::bigint THEN NULL "
    "ELSE greatest(max(max_value) + 1, $2::bigint) END AS lo FROM {jobs} WHERE batched_background_migration_id = $1)";
// Batching by limit has no cursor: every job is [min_value, min_value] (the registry's 0/0), and
// the range end says whether one is due. $3 is selected only so that its type is known.
constexpr const char* kNoCursor = "cursor AS (SELECT $2::bigint AS lo, $3::bigint AS unused_max)";

// Locks the migration row for the lease (NO KEY UPDATE does not block job inserts' FK checks)
// and re-reads its status, so an operator's pause is honoured at the very next lease.
// The lease commits without waiting for its WAL flush (a second fsync per job): the batch that
// follows commits synchronously, which flushes the WAL up to its own commit record and so the
// lease's before it. A crash in between loses only the lease, and a batch that was never
// applied; the range is cut again. What the batch commits never depends on an unflushed lease.
const std::string kLockMigration = sql::render(
    std::string("SELECT status, set_config('synchronous_commit', 'off', true) FROM {migrations} WHERE id = $1 AND ") +
    kLive + " FOR NO KEY UPDATE");

const std::string kExpiredJob = sql::render(
    "SELECT id, attempts, lease_owner IS NOT NULL AS vanished FROM {jobs} WHERE batched_background_migration_id = $1 "
    "AND status = {j.active} AND (lease_expires_at IS NULL OR lease_expires_at < now()) "
    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED");

const std::string kRetryableJob = sql::render(
    "SELECT id, attempts FROM {jobs} WHERE batched_background_migration_id = $1 "
    "AND status = {j.failed} AND attempts < $2 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED");

// A job leased again (takeover or retry): a fresh token, one more attempt.
const std::string kRelet = sql::render(
    std::string("UPDATE {jobs} SET status = {j.active}, attempts = attempts + 1, lease_owner = $2, "
                "lease_token = nextval('bbm_lease_token_seq'), "
                "lease_expires_at = now() + $3::bigint * interval '1 millisecond', "
                "started_at = now(), updated_at = now(), table_oid = $4 WHERE id = $1") +
    kJobReturning);

// Advisory lock namespaces ("bbmt", "bbmf" in ASCII): serialise the running-job counts of one
// table, and of the fleet, between concurrent leases. Held only by the short lease transaction.
// Every lease takes them before the migration row: a lease waiting its turn for a count then
// holds no migration row, so it never turns away a running batch's chained lease (which skips a
// locked row) on a migration it could only find busy; and one order means no deadlock.
constexpr std::int64_t kTableLockSpace = 0x62626d74;
constexpr std::int64_t kFleetLockKey = 0x62626d66;

constexpr const char* kLockKey = "SELECT pg_advisory_xact_lock($1)";
const std::string kCountOnTable = sql::render("SELECT " + running_on_table("$1"));
const std::string kCountInFleet = sql::render("SELECT " + kRunningInFleet);

const std::string kExhaustExpired = sql::render(
    "UPDATE {jobs} SET status = {j.failed}, failure_error_code = {code.lease_expired}, lease_expires_at = NULL, "
    "updated_at = now(), last_error = 'lease expired: the worker running it vanished on its last attempt' "
    "WHERE id = $1");

const std::string kNextRangeStart = sql::render(std::string("WITH ") + kCursor + " SELECT lo FROM cursor");

const std::string kInsertJob = sql::render(
    std::string("INSERT INTO {jobs} (batched_background_migration_id, min_value, max_value, status, attempts, "
                "lease_owner, lease_token, lease_expires_at, started_at, batch_size, table_oid) VALUES ($1, $2, $3, "
                "{j.active}, 1, $4, nextval('bbm_lease_token_seq'), now() + $5::bigint * interval '1 millisecond', "
                "now(), $6, $7)") +
    kJobReturning);

const std::string kMarkRunning = sql::render(
    "UPDATE {migrations} SET status = {m.running}, started_at = coalesce(started_at, now()), "
    "updated_at = now() WHERE id = $1 AND status = {m.active}");

const std::string kJobCounts = sql::render(
    "SELECT count(*) FILTER (WHERE status = {j.active}) AS active, count(*) FILTER (WHERE status = {j.failed}) AS failed, "
    "min(id) FILTER (WHERE status = {j.failed}) AS failed_job FROM {jobs} WHERE batched_background_migration_id = $1");

const std::string kMarkFinished = sql::render(
    "UPDATE {migrations} SET status = {m.finished}, finished_at = now(), updated_at = now(), "
    "failure_error_code = NULL, hold_until = NULL, hold_code = NULL, hold_reason = NULL WHERE id = $1");

const std::string kMarkFailed = sql::render(
    "UPDATE {migrations} SET status = {m.failed}, failure_error_code = {code.max_job_retry}, updated_at = now(), "
    "last_error = $2 WHERE id = $1");

// The common lease as one statement, run right after the advisory locks and the migration row
// lock of the same transaction (so its snapshot sees every job committed before them): cuts the
// next range after the highest key issued and inserts its job, unless the migration stopped, the
// table or fleet is at its cap, `condition` is false, or an expired job waits for takeover.
// Marks the migration running on its first job. No row: no job was cut.
// `next` is MATERIALIZED: inlined, the planner ran the range scan twice (filter and insert).
// Times are statement_timestamp(), not now(): a chained lease runs at the end of a batch's
// transaction, whose now() is when the batch began.
// $1 migration, $2 min_value, $3 max_value, $4 batch size, $5 owner, $6 lease ms, $7 table oid,
// $8 max jobs per table, $9 max running jobs (0: no cap).
// `range_end` finds the range's end from cursor.lo.
// Rendered once, around the parts that vary: the range end holds quoted identifiers from the
// catalog, which must never pass through the placeholder expansion.
const std::string kCutHead = sql::render(std::string("WITH ") + kCursor + ", next AS MATERIALIZED (SELECT lo, (");
const std::string kCutHeadByLimit = sql::render(std::string("WITH ") + kNoCursor + ", next AS MATERIALIZED (SELECT lo, (");
const std::string kCutInsert = sql::render(
    ") AS hi FROM cursor), job AS (INSERT INTO {jobs} (batched_background_migration_id, min_value, max_value, "
    "status, attempts, lease_owner, lease_token, lease_expires_at, started_at, batch_size, table_oid) "
    "SELECT $1, lo, hi, {j.active}, 1, $5, nextval('bbm_lease_token_seq'), "
    "statement_timestamp() + $6::bigint * interval '1 millisecond', statement_timestamp(), $4::int, $7::bigint "
    "FROM next WHERE hi IS NOT NULL AND ");
const std::string kCutTail = sql::render(
    std::string(" AND EXISTS (SELECT 1 FROM {migrations} WHERE id = $1 AND ") + kLive + ") AND " +
    running_on_table("$7::bigint") + " < $8::int AND ($9::int <= 0 OR " + kRunningInFleet + " < $9::int) "
    "AND NOT EXISTS (SELECT 1 FROM {jobs} WHERE batched_background_migration_id = $1 AND status = {j.active} "
    "AND (lease_expires_at IS NULL OR lease_expires_at < statement_timestamp()))" + kJobReturning + "), "
    "running AS (UPDATE {migrations} SET status = {m.running}, "
    "started_at = coalesce(started_at, statement_timestamp()), updated_at = statement_timestamp() "
    "WHERE id = $1 AND status = {m.active} AND EXISTS (SELECT 1 FROM job) RETURNING 1) ");
const std::string kCutResult = "SELECT job.*, EXISTS (SELECT 1 FROM running) AS first_job FROM job";

std::string cut_and_insert_sql(const Target& target, std::string_view range_end, std::string_view condition,
                               std::string_view result = kCutResult) {
  const auto& head = target.strategy == BatchingStrategy::null_keyset_limit ? kCutHeadByLimit : kCutHead;
  return head + std::string(range_end) + kCutInsert + std::string(condition) + kCutTail + std::string(result);
}

// The range's end as the lease finds it: the first batch_size keys from the cursor, in key order.
std::string scanned_range_end(const Target& target) {
  return range_end_sql(target, "cursor.lo", "$3::bigint", "$4::int");
}

db::Params cut_params(const Bbm& m, const Target& target, std::int64_t batch_size, const LeaseOptions& options) {
  return db::Params{m.id, m.min_value, m.max_value, batch_size, options.owner,
                    static_cast<std::int64_t>(options.duration.count()),
                    static_cast<std::int64_t>(target.lease_table_oid), options.max_jobs_per_table,
                    options.max_running_jobs};
}

std::int64_t table_lock_key(const Target& target) {
  return (kTableLockSpace << 32) | static_cast<std::int64_t>(target.lease_table_oid);
}

// The chained lease's lock, taken only if free at once (it runs inside a batch's transaction,
// which must never wait on a lease): the migration row (SKIP LOCKED: no row, no chain). It takes
// neither the table's nor the fleet's lease lock: the same transaction finishes the job the chain
// replaces, so a chain never raises a running-job count, and one that failed to try-lock them
// because an idle worker's lease held them for a moment only handed its place to a race. That
// holds while the replaced job's lease is live (other leases count it): a batch that outlived
// its lease gets no chain, so the cap is never passed. Its cut still counts, so a cap lowered
// below the running jobs ends the chain. Its verdict goes to the cut in a transaction-local
// setting, read by a later statement. The batch's statement timeout is lifted for the rest of its
// transaction: a slow range scan must not undo a batch that already succeeded.
// $1 migration, $2 the batch's job (still unfinished: this runs before the bookkeeping).
const std::string kChainLock = sql::render(
    std::string("SELECT set_config('statement_timeout', '0', true), set_config('bbmd.chained_lease', 'true', true) "
                "FROM (SELECT 1 FROM {migrations} WHERE id = $1 AND ") +
    kLive + " FOR NO KEY UPDATE SKIP LOCKED) AS locked "
    "WHERE EXISTS (SELECT 1 FROM {jobs} WHERE id = $2 AND lease_expires_at > statement_timestamp())");
constexpr const char* kChainGranted = "current_setting('bbmd.chained_lease', true) = 'true'";

// The chained lease takes the lookahead's range end ($11) if the lookahead started where the
// cursor stands ($10) and its end lies within the range; otherwise (NULLs: no lookahead) it
// scans as any lease does. CASE runs the scan only when it is reached.
std::string hinted_range_end(const Target& target) {
  return "CASE WHEN cursor.lo = $10::bigint AND $11::bigint BETWEEN cursor.lo AND $3::bigint THEN $11::bigint "
         "ELSE (" + scanned_range_end(target) + ") END";
}

// A migration's end, found by the batch that ran its last range, in that batch's commit and in
// its cut's own statement: no job was cut (the chain's locks were granted), no job is left
// unfinished, and the cut found no key between the cursor and max_value (by limit: no NULL
// left). The same verdict the step-by-step lease's settle() reaches, without the list, the lease
// that finds nothing, and its six round trips a short migration paid for its end. The cut's row
// comes back whether or not a job was cut (its columns NULL if none), with whether this finished
// the migration.
const std::string kChainedCutResult = sql::render(
    std::string(", settled AS (UPDATE {migrations} SET status = {m.finished}, finished_at = statement_timestamp(), "
                "updated_at = statement_timestamp(), failure_error_code = NULL, hold_until = NULL, hold_code = NULL, "
                "hold_reason = NULL WHERE id = $1 AND ") + kChainGranted + " AND " + kLive +
    " AND NOT EXISTS (SELECT 1 FROM job) AND (SELECT hi IS NULL FROM next) "
    "AND NOT EXISTS (SELECT 1 FROM {jobs} WHERE batched_background_migration_id = $1 AND status <> {j.finished}) "
    "RETURNING 1) "
    "SELECT job.*, EXISTS (SELECT 1 FROM running) AS first_job, EXISTS (SELECT 1 FROM settled) AS finished_migration "
    "FROM (VALUES (1)) AS one LEFT JOIN job ON true");

class Lease {
 public:
  Lease(db::Connection& conn, const Bbm& m, const Target& target, std::int64_t batch_size,
        const LeaseOptions& options)
      : conn_(conn), m_(m), target_(target), batch_size_(batch_size), options_(options) {}

  // The common case in one round trip: the locks and the cut pipelined in one implicit
  // transaction (the statements run in order, as the step-by-step lease runs them). nullopt when
  // no job was cut: busy, a takeover, a retry or the end need the step-by-step lease.
  boost::asio::awaitable<std::optional<LeaseOutcome>> in_one_trip() {
    std::vector<db::Statement> statements;
    statements.push_back(db::Statement{kLockKey, db::Params{table_lock_key(target_)}});
    if (capped()) statements.push_back(db::Statement{kLockKey, db::Params{kFleetLockKey}});
    const auto migration_lock = statements.size();
    statements.push_back(db::Statement{kLockMigration, db::Params{m_.id}});
    statements.push_back(db::Statement{cut_and_insert_sql(target_, scanned_range_end(target_), "true"),
                                       cut_params(m_, target_, batch_size_, options_)});
    const auto start = std::chrono::steady_clock::now();
    const auto results = co_await conn_.pipeline("bbm_lease", statements);
    if (results[migration_lock].empty()) co_return LeaseOutcome{};  // paused, finished or failed meanwhile
    const auto& cut = results.back();
    if (cut.empty()) co_return std::nullopt;
    LeaseOutcome out;
    out.kind = LeaseOutcome::Kind::leased;
    out.job = job_from_row(cut, 0);
    out.first_job = cut.get_bool(0, "first_job");
    // The range scan is most of this statement; its time stands for the batching query's.
    out.range_query_seconds = seconds_since(start);
    co_return out;
  }

  boost::asio::awaitable<LeaseOutcome> step_by_step() {
    return db::in_transaction(conn_, [this]() -> boost::asio::awaitable<LeaseOutcome> {
      co_await conn_.query("bbm_lease_lock_table", kLockKey, table_lock_key(target_));
      if (capped()) co_await conn_.query("bbm_lease_lock_fleet", kLockKey, kFleetLockKey);
      auto locked = co_await conn_.query("bbm_lease_lock_migration", kLockMigration, m_.id);
      if (locked.empty()) co_return LeaseOutcome{};
      const auto full = co_await at_capacity();
      if (full != Capacity::free) {
        LeaseOutcome busy;
        busy.kind = LeaseOutcome::Kind::busy;
        busy.fleet_full = full == Capacity::fleet_full;
        co_return busy;
      }
      LeaseOutcome out;
      auto job = co_await take_over_expired();
      if (!job) job = co_await cut_new_range(out);
      if (!job) job = co_await retry_failed();
      if (!job) co_return co_await settle();
      out.kind = LeaseOutcome::Kind::leased;
      out.job = *job;
      if (locked.get_int(0, "status") == static_cast<int>(MigrationStatus::active)) {
        out.first_job = (co_await conn_.query("bbm_mark_running", kMarkRunning, m_.id)).affected_rows() > 0;
      }
      co_return out;
    });
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  boost::asio::awaitable<Job> relet(std::int64_t job_id) {
    auto r = co_await conn_.query("bbm_lease_relet", kRelet, job_id, options_.owner,
                                  static_cast<std::int64_t>(options_.duration.count()),
                                  static_cast<std::int64_t>(target_.lease_table_oid));
    co_return job_from_row(r, 0);
  }

  enum class Capacity { free, table_full, fleet_full };

  bool capped() const noexcept { return options_.max_running_jobs > 0; }

  // Whether the table, or the fleet, already runs as many jobs as allowed (counted under the
  // lease locks: see kLockKey).
  boost::asio::awaitable<Capacity> at_capacity() {
    auto on_table = co_await conn_.query("bbm_lease_running_on_table", kCountOnTable,
                                         static_cast<std::int64_t>(target_.lease_table_oid));
    if (on_table.get_int(0, 0) >= options_.max_jobs_per_table) co_return Capacity::table_full;
    if (!capped()) co_return Capacity::free;
    auto in_fleet = co_await conn_.query("bbm_lease_running_in_fleet", kCountInFleet);
    co_return in_fleet.get_int(0, 0) >= options_.max_running_jobs ? Capacity::fleet_full : Capacity::free;
  }

  // Expired leases first: a vanished worker's job must not wait behind new ranges.
  boost::asio::awaitable<std::optional<Job>> take_over_expired() {
    for (;;) {
      auto r = co_await conn_.query("bbm_lease_expired", kExpiredJob, m_.id);
      if (r.empty()) co_return std::nullopt;
      const auto id = r.get_int(0, "id");
      if (r.get_int(0, "attempts") >= options_.max_attempts) {
        co_await conn_.query("bbm_lease_exhaust", kExhaustExpired, id);
        continue;
      }
      auto job = co_await relet(id);
      job.takeover = r.get_bool(0, "vanished");  // a released lease has no owner
      co_return job;
    }
  }

  boost::asio::awaitable<std::optional<Job>> cut_new_range(LeaseOutcome& out) {
    const auto start = std::chrono::steady_clock::now();
    if (target_.strategy == BatchingStrategy::null_keyset_limit) {
      // No range to find: the one statement decides whether a job is due, as in_one_trip's does.
      auto cut = co_await conn_.query("bbm_lease_insert", cut_and_insert_sql(target_, scanned_range_end(target_), "true"),
                                      cut_params(m_, target_, batch_size_, options_));
      out.range_query_seconds = seconds_since(start);
      if (cut.empty()) co_return std::nullopt;
      co_return job_from_row(cut, 0);
    }
    auto cursor = co_await conn_.query("bbm_batch_cursor", kNextRangeStart, m_.id, m_.min_value, m_.max_value);
    const auto from = cursor.opt_int(0, 0);
    std::optional<std::int64_t> to;
    if (from) {
      auto end = co_await conn_.query("bbm_batch_range", range_end_sql(target_), *from, m_.max_value, batch_size_);
      to = end.opt_int(0, 0);
    }
    out.range_query_seconds = seconds_since(start);
    if (!to) co_return std::nullopt;
    auto r = co_await conn_.query("bbm_lease_insert", kInsertJob, m_.id, *from, *to, options_.owner,
                                  static_cast<std::int64_t>(options_.duration.count()), batch_size_,
                                  static_cast<std::int64_t>(target_.lease_table_oid));
    co_return job_from_row(r, 0);
  }

  boost::asio::awaitable<std::optional<Job>> retry_failed() {
    auto r = co_await conn_.query("bbm_lease_retryable", kRetryableJob, m_.id, options_.max_attempts);
    if (r.empty()) co_return std::nullopt;
    co_return co_await relet(r.get_int(0, "id"));
  }

  boost::asio::awaitable<LeaseOutcome> settle() {
    auto r = co_await conn_.query("bbm_lease_job_counts", kJobCounts, m_.id);
    LeaseOutcome out;
    if (r.get_int(0, "active") > 0) {
      out.kind = LeaseOutcome::Kind::busy;
    } else if (r.get_int(0, "failed") > 0) {
      out.kind = LeaseOutcome::Kind::failed;
      out.exhausted_job_id = r.get_int(0, "failed_job");
      co_await conn_.query("bbm_mark_failed", kMarkFailed, m_.id,
                           "job " + std::to_string(out.exhausted_job_id) + " failed after its last attempt");
    } else {
      out.kind = LeaseOutcome::Kind::finished;
      co_await conn_.query("bbm_mark_finished", kMarkFinished, m_.id);
    }
    co_return out;
  }

  db::Connection& conn_;
  const Bbm& m_;
  const Target& target_;
  std::int64_t batch_size_;
  const LeaseOptions& options_;
};

}  // namespace

boost::asio::awaitable<LeaseOutcome> PgStore::lease(const Bbm& m, const Target& target, std::int64_t batch_size,
                                                    const LeaseOptions& options) {
  Lease lease(conn_, m, target, batch_size, options);
  auto quick = co_await lease.in_one_trip();
  if (quick) co_return std::move(*quick);
  co_return co_await lease.step_by_step();
}

std::vector<db::Statement> chained_lease(const Bbm& m, const Target& target, const Job& job,
                                        const ChainRequest& request, const std::optional<KeyRange>& hint,
                                        db::Statement bookkeeping) {
  std::vector<db::Statement> statements;
  statements.push_back(db::Statement{kChainLock, db::Params{m.id, job.id}});
  statements.push_back(std::move(bookkeeping));
  auto params = cut_params(m, target, request.batch_size, request.lease);
  params.emplace_back(hint ? db::Param(hint->min) : db::Param(std::nullopt));
  params.emplace_back(hint ? db::Param(hint->max) : db::Param(std::nullopt));
  statements.push_back(
      db::Statement{cut_and_insert_sql(target, hinted_range_end(target), kChainGranted, kChainedCutResult), params});
  return statements;
}

std::optional<Job> chained_job(const db::Result& cut) {
  if (cut.empty() || cut.is_null(0, cut.column("id"))) return std::nullopt;
  return job_from_row(cut, 0);
}

bool chain_finished_migration(const db::Result& cut) { return !cut.empty() && cut.get_bool(0, "finished_migration"); }

}  // namespace bbmd::bbm
