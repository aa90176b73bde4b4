// Scenario adoption_crash: `bbmd database migrate up` adopting a database the GitLab container
// registry created (its BBM tables, rows and jobs) is killed with SIGKILL at successive points,
// one fresh copy of the database per point; a rerun must then complete, leave the catalog and
// bbmd's records as an uninterrupted adoption does, keep every registry row and job as it was
// (a job the registry left half-done stays unfinished, its attempts as they were), and
// `background-migrate run` must then finish the registry's migration with every row it had not
// finished changed exactly once.
//
// The points: triggers count every DDL command bbmd runs, every statement that writes the
// registry's tables or bbmd's records, and every commit of a record (in a sequence, so
// rolled-back ones count too), and sleep at the one whose number is the database's target,
// naming it in application_name; the kill lands while pg_stat_activity shows that sleep.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "reliability/suite.hpp"
#include "reliability/workload.hpp"
#include "support/pg_cluster.hpp"
#include "support/poll.hpp"
#include "support/registry_fixture.hpp"

namespace bbmd::reliability {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTemplate = "adopt_template";
constexpr int kPoints = 20;
constexpr const char* kWork = "touchRowsInRange";  // a registry-style (CamelCase) work function
constexpr auto kPointDeadline = 30s;

// The registry's state: migration 1 finished; migration 2 running over t (ids 1..100, batches
// of 20) with 1-20 finished (its rows carry b already), 21-40 failed once, 41-60 half-done
// (active, two attempts, its worker gone) and 61-80 created but never started.
const char* kRegistryRows = R"sql(
  CREATE TABLE t (id bigint PRIMARY KEY, a int NOT NULL, b bigint, changes int NOT NULL DEFAULT 0);
  INSERT INTO t (id, a, b) SELECT g, g * 10, CASE WHEN g <= 20 THEN g * 10 END FROM generate_series(1, 100) g;
  INSERT INTO batched_background_migrations (name, min_value, max_value, batch_size, status, job_signature_name,
      table_name, column_name, finished_at) VALUES
    ('20240101000000_finished_one', 1, 9223372036854775807, 20, 2, 'touchRowsInRange', 'public.t', 'id', now()),
    ('20240604074823_touch_t', 1, 9223372036854775807, 20, 4, 'touchRowsInRange', 'public.t', 'id', NULL);
  INSERT INTO batched_background_migration_jobs (batched_background_migration_id, min_value, max_value, status,
      attempts, started_at, finished_at) VALUES
    (1, 1, 100, 2, 1, now(), now()),
    (2, 1, 20, 2, 1, now(), now()),
    (2, 21, 40, 3, 1, now(), NULL),
    (2, 41, 60, 1, 2, now(), NULL),
    (2, 61, 80, 1, 0, NULL, NULL);
)sql";

// Every point calls crashpoint.reached(what): DDL commands (an event trigger), statements that
// write the registry's tables or bbmd's records (statement triggers; bbmd's record tables get
// theirs when created), and the commits of transactions that wrote a record (deferred triggers).
const char* kCrashPoints = R"sql(
  CREATE SCHEMA crashpoint;
  CREATE SEQUENCE crashpoint.seen;
  CREATE TABLE crashpoint.target (k bigint NOT NULL);
  INSERT INTO crashpoint.target VALUES (0);
  CREATE FUNCTION crashpoint.reached(what text) RETURNS void LANGUAGE plpgsql AS $$
  DECLARE n bigint := nextval('crashpoint.seen');
  BEGIN
    IF n = (SELECT k FROM crashpoint.target) THEN
      PERFORM set_config('application_name', 'crashpoint/' || n || '/' || what, true);
      PERFORM pg_sleep(60);
    END IF;
  END $$;
  CREATE FUNCTION crashpoint.on_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN PERFORM crashpoint.reached(TG_OP || ' ' || TG_TABLE_NAME); RETURN NULL; END $$;
  CREATE FUNCTION crashpoint.on_commit() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN PERFORM crashpoint.reached('COMMIT of ' || TG_TABLE_NAME); RETURN NULL; END $$;
  CREATE FUNCTION crashpoint.watch(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    EXECUTE format('CREATE TRIGGER crashpoint_write AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION crashpoint.on_write()', tbl);
    EXECUTE format('CREATE CONSTRAINT TRIGGER crashpoint_commit AFTER INSERT OR UPDATE ON %s '
                   'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crashpoint.on_commit()', tbl);
  END $$;
  CREATE FUNCTION crashpoint.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
  DECLARE created regclass;
  BEGIN
    -- bbmd creates no triggers: CREATE TRIGGER is watch() below, not a point of bbmd's.
    IF tg_tag <> 'CREATE TRIGGER' THEN PERFORM crashpoint.reached(tg_tag); END IF;
    FOR created IN SELECT objid::regclass FROM pg_event_trigger_ddl_commands()
        WHERE command_tag = 'CREATE TABLE' AND object_identity IN
          ('public.bbmd_schema_migrations', 'public.bbmd_post_deploy_schema_migrations') LOOP
      PERFORM crashpoint.watch(created);
    END LOOP;
  END $$;
  CREATE TRIGGER crashpoint_write AFTER INSERT OR UPDATE OR DELETE ON batched_background_migrations
    FOR EACH STATEMENT EXECUTE FUNCTION crashpoint.on_write();
  CREATE TRIGGER crashpoint_write AFTER INSERT OR UPDATE OR DELETE ON batched_background_migration_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION crashpoint.on_write();
  CREATE EVENT TRIGGER crashpoint_ddl ON ddl_command_end EXECUTE FUNCTION crashpoint.on_ddl();
)sql";

// The registry's columns of its rows and jobs: what adoption must never change.
const char* kRegistryState =
    "SELECT (SELECT string_agg(concat_ws(' ', id, name, min_value, max_value, batch_size, status, job_signature_name, "
    "table_name, column_name, failure_error_code, finished_at IS NULL), E'\\n' ORDER BY id) FROM "
    "batched_background_migrations) || E'\\n' || (SELECT string_agg(concat_ws(' ', id, batched_background_migration_id, "
    "min_value, max_value, status, attempts, failure_error_code, finished_at IS NULL), E'\\n' ORDER BY id) FROM "
    "batched_background_migration_jobs)";

// Tables, views, sequences, columns and indexes of the public schema, and bbmd's records.
const char* kAdoptedState =
    "SELECT (SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
    " SELECT 'rel ' || relname || ' ' || relkind::text AS x FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "   WHERE n.nspname = 'public'"
    " UNION ALL SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||"
    "   coalesce(column_default, '') FROM information_schema.columns WHERE table_schema = 'public'"
    " UNION ALL SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname = 'public') s) || E'\\n' || "
    "(SELECT string_agg(id || ' ' || state, E'\\n' ORDER BY id) FROM bbmd_schema_migrations)";

std::string on(const test::PgCluster& server, const std::string& db, const std::string& query) {
  return server.scalar(query, db);
}

// A fresh copy of the registry database; no session may stay connected to the template.
void copy_template(const test::PgCluster& server, const std::string& db, long target) {
  server.exec("CREATE DATABASE " + db + " TEMPLATE " + kTemplate);
  server.exec("UPDATE crashpoint.target SET k = " + std::to_string(target), db);
}

test::CommandResult migrate_up(const test::ConfigFile& cfg) {
  return test::run_bbmd({"database", "migrate", "up", cfg.path()}, 60s);
}

struct Reference {
  std::string registry;  // kRegistryState before adoption
  std::string adopted;   // kAdoptedState after an uninterrupted one
  long points;           // points an adoption passes
};

// One uninterrupted adoption of a copy, to count its points and record what it leaves.
Reference reference_adoption(const test::PgCluster& server, Tally& tally) {
  const std::string db = "adopt_reference";
  copy_template(server, db, 0);
  Reference ref{on(server, db, kRegistryState), "", 0};
  test::ConfigFile cfg(server.config(db));
  const auto r = migrate_up(cfg);
  if (!tally.expect(r.exit_code == 0, "adoption_crash: uninterrupted migrate up failed: " + r.err)) return ref;
  ref.adopted = on(server, db, kAdoptedState);
  ref.points = std::stol(on(server, db, "SELECT last_value FROM crashpoint.seen"));
  return ref;
}

// The points to kill at: kPoints of them spread evenly over those an adoption passes (more in
// the full form with --scale, up to all), each distinct.
std::vector<long> choose_points(long commands, const Options& opt) {
  const long wanted = opt.quick ? kPoints : std::max<long>(kPoints, static_cast<long>(commands * opt.scale));
  const long count = std::min(wanted, commands);
  std::vector<long> points;
  for (long i = 0; i < count; ++i) points.push_back(1 + i * commands / count);
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

// Runs migrate up until it sleeps at `point`, then SIGKILLs it; returns what the point is
// ("ALTER TABLE", "INSERT bbmd_schema_migrations", "COMMIT of ..."), or "" if it never got there.
std::string kill_at(const test::PgCluster& server, const std::string& db, const test::ConfigFile& cfg, long point) {
  test::BbmdProcess migrate({"database", "migrate", "up", cfg.path()});
  const std::string probe = "SELECT coalesce(max(split_part(application_name, '/', 3)), '') FROM pg_stat_activity "
                            "WHERE datname = current_database() AND wait_event = 'PgSleep' AND application_name "
                            "LIKE 'crashpoint/" + std::to_string(point) + "/%'";
  std::string tag;
  test::poll_until([&] { return !(tag = on(server, db, probe)).empty() || !migrate.running(); }, kPointDeadline, 5ms);
  migrate.signal(SIGKILL);
  migrate.wait_for_exit(10s);
  // The dead client's sessions: the idle one ends at once, the sleeping one when the server
  // next checks its client; ended here so the rerun does not wait for that.
  server.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
  test::poll_until([&] { return server.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db + "'") == "0"; },
                   kPointDeadline);
  return tag;
}

// Runs the registry's migration to its end on the adopted database: every row it had not
// finished changed exactly once, its finished range untouched.
bool finish_registry_work(const test::PgCluster& server, const std::string& db, const test::ConfigFile& cfg,
                          const std::string& what, Tally& tally) {
  // Three attempts: the half-done job had used two (the registry's run default allows two).
  const auto run = test::run_bbmd({"background-migrate", "run", "--max-job-retry", "3", cfg.path()}, 60s);
  const bool ran = tally.expect(run.exit_code == 0 && on(server, db, "SELECT string_agg(status::text, ',' ORDER BY id) "
                                                                   "FROM batched_background_migrations") == "2,2",
                                what + ": background-migrate run did not finish the registry's migration: " + run.err);
  // Rows 1-20 the registry finished stay untouched; every other row is changed exactly once.
  const long lost = std::stol(on(server, db, "SELECT count(*) FROM t WHERE id > 20 AND changes = 0"));
  const long twice = std::stol(on(server, db, "SELECT count(*) FROM t WHERE changes > 1 OR (id <= 20 AND changes > 0)"));
  tally.rows_lost += lost;
  tally.rows_changed_twice += twice;
  const bool rows = tally.expect(lost == 0 && twice == 0, what + ": " + std::to_string(lost) + " rows never changed, " +
                                                              std::to_string(twice) + " changed again");
  return ran && rows;
}

// After the kill: rerun, compare with the reference, and (when `finish`) let bbmd finish the
// registry's work.
bool rerun_and_check(const test::PgCluster& server, const std::string& db, const test::ConfigFile& cfg,
                     const Reference& ref, bool finish, const std::string& what, Tally& tally) {
  server.exec("UPDATE crashpoint.target SET k = 0", db);
  const auto r = migrate_up(cfg);
  if (!tally.expect(r.exit_code == 0, what + ": the rerun of migrate up failed: " + r.err)) return false;
  const bool registry = tally.expect(on(server, db, kRegistryState) == ref.registry,
                                     what + ": registry rows or jobs changed:\n" + on(server, db, kRegistryState));
  const bool adopted = tally.expect(on(server, db, kAdoptedState) == ref.adopted,
                                    what + ": the catalog or bbmd's records differ from an uninterrupted adoption");
  return registry && adopted && (!finish || finish_registry_work(server, db, cfg, what, tally));
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(adoption_crash, 40)(const Options& opt, Tally& tally) {
  test::PgCluster server;
  server.exec(std::string("CREATE DATABASE ") + kTemplate);
  server.exec(test::registry_schema_sql() + kRegistryRows + kCrashPoints, kTemplate);
  const Reference ref = reference_adoption(server, tally);
  if (ref.points == 0) return;
  const auto points = choose_points(ref.points, opt);
  std::printf("   an adoption passes %ld points (DDL, writes, commits); killing at %zu of them\n", ref.points, points.size());
  tally.expect(static_cast<long>(points.size()) >= std::min<long>(kPoints, ref.points),
               "adoption_crash: fewer distinct points than planned");
  for (std::size_t i = 0; i < points.size(); ++i) {
    const long point = points[i];
    const std::string db = "adopt_" + std::to_string(point);
    const std::string what = "adoption_crash: kill at point " + std::to_string(point);
    copy_template(server, db, point);
    test::ConfigFile cfg(server.config(db));
    write_touch_function(cfg, kWork, "0");
    const std::string tag = kill_at(server, db, cfg, point);
    if (!tally.expect(!tag.empty(), what + ": migrate up never reached it")) continue;
    ++tally.faults_injected;
    // The quick form runs the registry's work to its end after every fourth kill and the last
    // (each run is a bbmd process: the slowest step under the sanitizers); the full form after all.
    const bool finish = !opt.quick || i % 4 == 0 || i + 1 == points.size();
    const bool ok = rerun_and_check(server, db, cfg, ref, finish, what + " (" + tag + ")", tally);
    if (ok) ++tally.faults_survived;
    std::printf("   kill at point %3ld (%s): %s%s\n", point, tag.c_str(), ok ? "survived" : "NOT survived",
                finish ? ", registry work finished after it" : "");
    std::fflush(stdout);
    server.exec("DROP DATABASE " + db);
  }
}

}  // namespace bbmd::reliability
