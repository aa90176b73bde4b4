// Job leases: takeover of expired leases, new ranges, retries of failed jobs, and settling.
#include "bbm/lease.hpp"

#include "bbm/batching.hpp"
#include "db/connection.hpp"
#include "db/transaction.hpp"

#include <vector>

namespace bbmd::bbm {

namespace {

// Locks the migration row for the lease (NO KEY UPDATE does not block job inserts' FK checks)
// and re-reads its status, so an operator's pause is honoured at the very next lease.
// The lease commits without waiting for its WAL flush (a second fsync per job): the batch that
// follows commits synchronously, which flushes the WAL up to its own commit record and so the
// lease's before it. A crash in between loses only the lease, and a batch that was never
// applied; the range is cut again. What the batch commits never depends on an unflushed lease.
constexpr const char* kLockMigration =
    "SELECT status, set_config('synchronous_commit', 'off', true) FROM batched_background_migrations "
    "WHERE id = $1 AND status IN (1, 4) FOR NO KEY UPDATE";

constexpr const char* kExpiredJob =
    "SELECT id, attempts, lease_owner IS NOT NULL AS vanished FROM background_migration_jobs WHERE batched_background_migration_id = $1 "
    "AND status = 1 AND (lease_expires_at IS NULL OR lease_expires_at < now()) "
    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";

constexpr const char* kRetryableJob =
    "SELECT id, attempts FROM background_migration_jobs WHERE batched_background_migration_id = $1 "
    "AND status = 3 AND attempts < $2 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";

constexpr const char* kJobReturning =
    " RETURNING id, min_value, max_value, attempts, lease_token, batch_size, coalesce(sub_batch_size, 0) AS sub_batch_size";

constexpr const char* kReleaseJob =
    "UPDATE background_migration_jobs SET status = 1, attempts = attempts + 1, lease_owner = $2, "
    "lease_token = nextval('bbm_lease_token_seq'), lease_expires_at = now() + $3::bigint * interval '1 millisecond', "
    "started_at = now(), updated_at = now(), table_oid = $4 WHERE id = $1";

// Advisory lock namespaces ("bbmt", "bbmf" in ASCII): serialise the running-job counts of one
// table, and of the fleet, between concurrent leases. Held only by the short lease transaction.
constexpr std::int64_t kTableLockSpace = 0x62626d74;
constexpr std::int64_t kFleetLockKey = 0x62626d66;

constexpr const char* kLockKey = "SELECT pg_advisory_xact_lock($1)";
constexpr const char* kRunningOnTable =
    "SELECT count(*) FROM background_migration_jobs WHERE table_oid = $1 AND status = 1 AND lease_expires_at > now()";
constexpr const char* kRunningInFleet =
    "SELECT count(*) FROM background_migration_jobs WHERE status = 1 AND lease_expires_at > now()";

constexpr const char* kExhaustExpired =
    "UPDATE background_migration_jobs SET status = 3, failure_error_code = 10, lease_expires_at = NULL, "
    "updated_at = now(), last_error = 'lease expired: the worker running it vanished on its last attempt' "
    "WHERE id = $1";

constexpr const char* kInsertJob =
    "INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, status, attempts, "
    "lease_owner, lease_token, lease_expires_at, started_at, batch_size, table_oid) VALUES ($1, $2, $3, 1, 1, $4, "
    "nextval('bbm_lease_token_seq'), now() + $5::bigint * interval '1 millisecond', now(), $6, $7)";

constexpr const char* kMarkRunning =
    "UPDATE batched_background_migrations SET status = 4, started_at = coalesce(started_at, now()), "
    "updated_at = now() WHERE id = $1 AND status = 1";

constexpr const char* kJobCounts =
    "SELECT count(*) FILTER (WHERE status = 1) AS active, count(*) FILTER (WHERE status = 3) AS failed, "
    "min(id) FILTER (WHERE status = 3) AS failed_job FROM background_migration_jobs "
    "WHERE batched_background_migration_id = $1";

constexpr const char* kMarkFinished =
    "UPDATE batched_background_migrations SET status = 2, finished_at = now(), updated_at = now(), "
    "failure_error_code = NULL, hold_until = NULL, hold_code = NULL, hold_reason = NULL WHERE id = $1";

constexpr const char* kMarkFailed =
    "UPDATE batched_background_migrations SET status = 3, failure_error_code = 4, updated_at = now(), "
    "last_error = $2 WHERE id = $1";

// The common lease as one statement, run right after the migration row lock and the advisory
// locks of the same transaction (so its snapshot sees every job committed before them): cuts
// the next range after the highest key issued and inserts its job, unless the migration
// stopped, the table or fleet is at its cap, `condition` is false, or an expired job waits for
// takeover. Marks the migration running on its first job. No row: no job was cut.
// `next` is MATERIALIZED: inlined, the planner ran the range scan twice (filter and insert).
// Times are statement_timestamp(), not now(): a chained lease runs at the end of a batch's
// transaction, whose now() is when the batch began.
// $1 migration, $2 min_value, $3 max_value, $4 batch size, $5 owner, $6 lease ms, $7 table oid,
// $8 max jobs per table, $9 max running jobs (0: no cap).
// `range_end` finds the range's end from cursor.lo.
std::string cut_and_insert_sql(std::string_view range_end, std::string_view condition) {
  return "WITH cursor AS (SELECT greatest(coalesce(max(max_value) + 1, $2::bigint), $2::bigint) AS lo "
         "FROM background_migration_jobs WHERE batched_background_migration_id = $1), "
         "next AS MATERIALIZED (SELECT lo, (" + std::string(range_end) + ") AS hi FROM cursor), "
         "job AS (INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, status, "
         "attempts, lease_owner, lease_token, lease_expires_at, started_at, batch_size, table_oid) "
         "SELECT $1, lo, hi, 1, 1, $5, nextval('bbm_lease_token_seq'), "
         "statement_timestamp() + $6::bigint * interval '1 millisecond', "
         "statement_timestamp(), $4::int, $7::bigint FROM next WHERE hi IS NOT NULL AND " + std::string(condition) +
         " AND EXISTS (SELECT 1 FROM batched_background_migrations WHERE id = $1 AND status IN (1, 4)) "
         "AND (SELECT count(*) FROM background_migration_jobs WHERE table_oid = $7::bigint AND status = 1 "
         "AND lease_expires_at > statement_timestamp()) < $8::int "
         "AND ($9::int <= 0 OR (SELECT count(*) FROM background_migration_jobs WHERE status = 1 "
         "AND lease_expires_at > statement_timestamp()) < $9::int) "
         "AND NOT EXISTS (SELECT 1 FROM background_migration_jobs WHERE batched_background_migration_id = $1 "
         "AND status = 1 AND (lease_expires_at IS NULL OR lease_expires_at < statement_timestamp()))" +
         std::string(kJobReturning) + "), "
         "running AS (UPDATE batched_background_migrations SET status = 4, "
         "started_at = coalesce(started_at, statement_timestamp()), updated_at = statement_timestamp() "
         "WHERE id = $1 AND status = 1 AND EXISTS (SELECT 1 FROM job) RETURNING 1) "
         "SELECT job.*, EXISTS (SELECT 1 FROM running) AS first_job FROM job";
}

// The range's end as the lease finds it: the first batch_size keys from the cursor, in key order.
std::string scanned_range_end(const Target& target) {
  return range_end_sql(target, "cursor.lo", "$3::bigint", "$4::int");
}

db::Params cut_params(const Migration& m, const Target& target, std::int64_t batch_size,
                      const LeaseOptions& options) {
  return db::Params{m.id, m.min_value, m.max_value, batch_size, options.owner,
                    static_cast<std::int64_t>(options.duration.count()), static_cast<std::int64_t>(target.table_oid),
                    options.max_jobs_per_table, options.max_running_jobs};
}

std::int64_t table_lock_key(const Target& target) {
  return (kTableLockSpace << 32) | static_cast<std::int64_t>(target.table_oid);
}

// The chained lease's locks, taken only if free at once (it runs inside a batch's transaction,
// which must never wait on a lease): the migration row (SKIP LOCKED: no row, no chain), then
// the table's and the fleet's lease locks. Its verdict goes to the cut in a transaction-local
// setting, read by the next statement, whose snapshot is taken after the locks. The batch's
// statement timeout is lifted for the rest of its transaction: a slow range scan must not undo
// a batch that already succeeded. $1 migration, $2 table lock key, $3 max running jobs,
// $4 fleet lock key.
constexpr const char* kChainLocks =
    "SELECT set_config('statement_timeout', '0', true), set_config('bbmd.chained_lease', "
    "(CASE WHEN NOT pg_try_advisory_xact_lock($2) THEN false WHEN $3::int <= 0 THEN true "
    "ELSE pg_try_advisory_xact_lock($4) END)::text, true) "
    "FROM (SELECT 1 FROM batched_background_migrations WHERE id = $1 AND status IN (1, 4) "
    "FOR NO KEY UPDATE SKIP LOCKED) AS locked";
constexpr const char* kChainGranted = "current_setting('bbmd.chained_lease', true) = 'true'";

// The chained lease takes the lookahead's range end ($11) if the lookahead started where the
// cursor stands ($10) and its end lies within the range; otherwise (NULLs: no lookahead) it
// scans as any lease does. CASE runs the scan only when it is reached.
std::string hinted_range_end(const Target& target) {
  return "CASE WHEN cursor.lo = $10::bigint AND $11::bigint BETWEEN cursor.lo AND $3::bigint THEN $11::bigint "
         "ELSE (" + scanned_range_end(target) + ") END";
}

constexpr const char* kRelease =
    "UPDATE background_migration_jobs SET attempts = greatest(attempts - 1, 0), lease_owner = NULL, "
    "lease_expires_at = now() - interval '1 millisecond', updated_at = now() "
    "WHERE id = $1 AND lease_token = $2 AND status = 1";

Job job_from(const db::Result& r) {
  Job job;
  job.id = r.get_int(0, "id");
  job.min_value = r.get_int(0, "min_value");
  job.max_value = r.get_int(0, "max_value");
  job.attempts = r.get_int(0, "attempts");
  job.lease_token = r.get_int(0, "lease_token");
  job.batch_size = r.opt_int(0, "batch_size").value_or(0);
  job.sub_batch_size = r.get_int(0, "sub_batch_size");
  return job;
}

boost::asio::awaitable<std::optional<Job>> relet(db::Connection& conn, std::int64_t job_id, const Target& target,
                                                 const LeaseOptions& options) {
  auto r = co_await conn.query("bbm_lease_relet", std::string(kReleaseJob) + kJobReturning, job_id, options.owner,
                               static_cast<std::int64_t>(options.duration.count()),
                               static_cast<std::int64_t>(target.table_oid));
  co_return job_from(r);
}

// True when the table, or the fleet, already runs as many jobs as allowed. The advisory locks
// make concurrent leases on other migrations of the same table count one after the other.
boost::asio::awaitable<bool> at_capacity(db::Connection& conn, const Target& target, const LeaseOptions& options) {
  const auto table_oid = static_cast<std::int64_t>(target.table_oid);
  co_await conn.query("bbm_lease_lock_table", kLockKey, table_lock_key(target));
  auto on_table = co_await conn.query("bbm_lease_running_on_table", kRunningOnTable, table_oid);
  if (on_table.get_int(0, 0) >= options.max_jobs_per_table) co_return true;
  if (options.max_running_jobs <= 0) co_return false;
  co_await conn.query("bbm_lease_lock_fleet", kLockKey, kFleetLockKey);
  auto in_fleet = co_await conn.query("bbm_lease_running_in_fleet", kRunningInFleet);
  co_return in_fleet.get_int(0, 0) >= options.max_running_jobs;
}

// Expired leases first: a vanished worker's job must not wait behind new ranges.
boost::asio::awaitable<std::optional<Job>> take_over_expired(db::Connection& conn, const Migration& m,
                                                             const Target& target, const LeaseOptions& options) {
  for (;;) {
    auto r = co_await conn.query("bbm_lease_expired", kExpiredJob, m.id);
    if (r.empty()) co_return std::nullopt;
    const auto id = r.get_int(0, "id");
    if (r.get_int(0, "attempts") >= options.max_attempts) {
      co_await conn.query("bbm_lease_exhaust", kExhaustExpired, id);
      continue;
    }
    auto job = co_await relet(conn, id, target, options);
    job->takeover = r.get_bool(0, "vanished");  // a released lease has no owner
    co_return job;
  }
}

boost::asio::awaitable<std::optional<Job>> cut_new_range(db::Connection& conn, const Migration& m,
                                                         const Target& target, std::int64_t batch_size,
                                                         const LeaseOptions& options, LeaseOutcome& out) {
  const auto start = std::chrono::steady_clock::now();
  const auto range = co_await next_range(conn, m, target, batch_size);
  out.range_query_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!range) co_return std::nullopt;
  auto r = co_await conn.query("bbm_lease_insert", std::string(kInsertJob) + kJobReturning, m.id, range->min,
                               range->max, options.owner, static_cast<std::int64_t>(options.duration.count()),
                               batch_size, static_cast<std::int64_t>(target.table_oid));
  co_return job_from(r);
}

boost::asio::awaitable<std::optional<Job>> retry_failed(db::Connection& conn, const Migration& m,
                                                        const Target& target, const LeaseOptions& options) {
  auto r = co_await conn.query("bbm_lease_retryable", kRetryableJob, m.id, options.max_attempts);
  if (r.empty()) co_return std::nullopt;
  co_return co_await relet(conn, r.get_int(0, "id"), target, options);
}

boost::asio::awaitable<LeaseOutcome> settle(db::Connection& conn, const Migration& m) {
  auto r = co_await conn.query("bbm_lease_job_counts", kJobCounts, m.id);
  LeaseOutcome out;
  if (r.get_int(0, "active") > 0) {
    out.kind = LeaseOutcome::Kind::busy;
  } else if (r.get_int(0, "failed") > 0) {
    out.kind = LeaseOutcome::Kind::failed;
    out.exhausted_job_id = r.get_int(0, "failed_job");
    co_await conn.query("bbm_mark_failed", kMarkFailed,
                        m.id, "job " + std::to_string(out.exhausted_job_id) + " failed after its last attempt");
  } else {
    out.kind = LeaseOutcome::Kind::finished;
    co_await conn.query("bbm_mark_finished", kMarkFinished, m.id);
  }
  co_return out;
}

// The common case in one round trip: the locks and the cut pipelined in one implicit
// transaction (the statements run in order, as the step-by-step lease runs them). nullopt when
// no job was cut: busy, a takeover, a retry or the end need the step-by-step lease.
boost::asio::awaitable<std::optional<LeaseOutcome>> lease_in_one_trip(db::Connection& conn, const Migration& m,
                                                                      const Target& target, std::int64_t batch_size,
                                                                      const LeaseOptions& options) {
  std::vector<db::Statement> statements;
  statements.push_back(db::Statement{kLockMigration, db::Params{m.id}});
  statements.push_back(db::Statement{kLockKey, db::Params{table_lock_key(target)}});
  if (options.max_running_jobs > 0) statements.push_back(db::Statement{kLockKey, db::Params{kFleetLockKey}});
  statements.push_back(
      db::Statement{cut_and_insert_sql(scanned_range_end(target), "true"), cut_params(m, target, batch_size, options)});
  const auto start = std::chrono::steady_clock::now();
  const auto results = co_await conn.pipeline("bbm_lease", statements);
  if (results.front().empty()) co_return LeaseOutcome{};  // paused, finished or failed meanwhile
  const auto& cut = results.back();
  if (cut.empty()) co_return std::nullopt;
  LeaseOutcome out;
  out.kind = LeaseOutcome::Kind::leased;
  out.job = job_from(cut);
  out.first_job = cut.get_bool(0, "first_job");
  // The range scan is most of this statement; its time stands for the batching query's.
  out.range_query_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  co_return out;
}

boost::asio::awaitable<LeaseOutcome> lease_step_by_step(db::Connection& conn, const Migration& m,
                                                        const Target& target, std::int64_t batch_size,
                                                        const LeaseOptions& options) {
  // Not a coroutine: the lambda outlives this frame, so by-value parameters are copied into it.
  return db::in_transaction(conn, [&, batch_size]() -> boost::asio::awaitable<LeaseOutcome> {
    auto locked = co_await conn.query("bbm_lease_lock_migration", kLockMigration, m.id);
    if (locked.empty()) co_return LeaseOutcome{};
    const bool full = co_await at_capacity(conn, target, options);
    if (full) {
      LeaseOutcome busy;
      busy.kind = LeaseOutcome::Kind::busy;
      co_return busy;
    }
    LeaseOutcome out;
    auto job = co_await take_over_expired(conn, m, target, options);
    if (!job) job = co_await cut_new_range(conn, m, target, batch_size, options, out);
    if (!job) job = co_await retry_failed(conn, m, target, options);
    if (!job) co_return co_await settle(conn, m);
    out.kind = LeaseOutcome::Kind::leased;
    out.job = *job;
    if (locked.get_int(0, "status") == static_cast<int>(MigrationStatus::active)) {
      out.first_job = (co_await conn.query("bbm_mark_running", kMarkRunning, m.id)).affected_rows() > 0;
    }
    co_return out;
  });
}

}  // namespace

boost::asio::awaitable<LeaseOutcome> lease_next_job(db::Connection& conn, const Migration& m, const Target& target,
                                                    std::int64_t batch_size, const LeaseOptions& options) {
  auto quick = co_await lease_in_one_trip(conn, m, target, batch_size, options);
  if (quick) co_return std::move(*quick);
  co_return co_await lease_step_by_step(conn, m, target, batch_size, options);
}

std::vector<db::Statement> chained_lease(const Migration& m, const Target& target, std::int64_t batch_size,
                                        const LeaseOptions& options, const std::optional<KeyRange>& lookahead) {
  std::vector<db::Statement> statements;
  statements.push_back(db::Statement{
      kChainLocks, db::Params{m.id, table_lock_key(target), options.max_running_jobs, kFleetLockKey}});
  auto params = cut_params(m, target, batch_size, options);
  params.emplace_back(lookahead ? db::Param(lookahead->min) : db::Param(std::nullopt));
  params.emplace_back(lookahead ? db::Param(lookahead->max) : db::Param(std::nullopt));
  statements.push_back(db::Statement{cut_and_insert_sql(hinted_range_end(target), kChainGranted), params});
  return statements;
}

std::optional<Job> chained_job(const db::Result& cut) {
  if (cut.empty()) return std::nullopt;
  return job_from(cut);
}

boost::asio::awaitable<void> release_lease(db::Connection& conn, const Job& job) {
  co_await conn.query("bbm_lease_release", kRelease, job.id, job.lease_token);
}

}  // namespace bbmd::bbm
