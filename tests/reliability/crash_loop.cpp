// Scenario crash_loop (issue 7, item 1): three `bbmd serve` processes share one migration; one of
// them is killed with SIGKILL at seeded points inside a lease, the work statement, the commit and
// the bookkeeping between jobs, and restarted each time. At the end every row must have been
// changed exactly once and every job must have ended finished.
//
// Each process runs one worker, so a kill stops exactly one job in one known phase. The phases
// are stretched on the server so that a kill can land inside them: triggers on bbmd's job table
// sleep while a job is leased (in the INSERT of a new range or the UPDATE that re-lets a job, and
// again in the lease's commit through a deferred trigger), while the batch records the job
// finished and again in its COMMIT, the work function sleeps before it updates, and a throttle
// query sleeps between jobs. The sleeping function writes the phase, the point (statement or
// commit) and the time the sleep began into the session's application_name (reset when the
// transaction ends), so pg_stat_activity tells where a backend is and for how long, and its
// client_port tells whose backend it is. (A pipelined lease commits implicitly at its sync, so
// the query text alone could not tell.)
#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <random>

#include "reliability/suite.hpp"
#include "reliability/workload.hpp"
#include "support/poll.hpp"

namespace bbmd::reliability {

namespace {

using namespace std::chrono_literals;

constexpr int kProcesses = 3;
constexpr std::int64_t kBatchSize = 10;
constexpr int kQuickKills = 12;  // three per phase
constexpr int kFullKills = 50;
// Jobs queued per planned kill: a kill, its restart and the wait for the next phase take about
// two jobs (50 kills used 110), so the migration is still running when the last kill comes.
constexpr int kJobsPerKill = 10;
// How long a victim may take to reach the phase its kill waits for.
constexpr auto kPhaseDeadline = 20s;
constexpr auto kFinishDeadline = 120s;
const std::string kTable = "crash_t";
const std::string kFunction = "crash_touch";

// A phase and the points inside it where the server sleeps: in a statement, or in the COMMIT
// (for the lease, the implicit commit of its pipeline; for the batch, its explicit COMMIT).
struct Phase {
  const char* name;
  int sleep_ms;
  std::array<const char*, 2> points;  // nullptr: no second point
};
constexpr std::array<Phase, 4> kPhases = {{{"lease", 40, {"statement", "commit"}},
                                           {"work", 60, {"statement", nullptr}},
                                           {"commit", 40, {"statement", "commit"}},
                                           {"bookkeeping", 40, {"statement", nullptr}}}};

struct Kill {
  std::uint64_t seed;
  int victim;
  std::size_t phase;
  const char* point;
  int delay_ms;  // how long the victim has been seen sleeping at the point when it is killed
};

// Phases take turns in an order shuffled by the base seed, so any run of four kills covers all
// four, and a phase's points take turns among its kills; the victim and the delay into the
// point come from each kill's own seed.
std::vector<Kill> plan_kills(int count, std::uint64_t base_seed) {
  std::array<std::size_t, kPhases.size()> order = {0, 1, 2, 3};
  std::shuffle(order.begin(), order.end(), std::mt19937_64(base_seed));
  std::vector<Kill> plan;
  for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
    Kill k;
    k.seed = base_seed * 1000003 + i + 1;
    std::mt19937_64 rng(k.seed);
    k.victim = static_cast<int>(rng() % kProcesses);
    k.phase = order[i % order.size()];
    const auto& p = kPhases[k.phase];
    const std::size_t points = p.points[1] ? 2 : 1;
    k.point = p.points[(i / order.size()) % points];
    // Up to half way in, leaving the kill time to land before the sleep ends.
    k.delay_ms = static_cast<int>(rng() % static_cast<std::uint64_t>(p.sleep_ms / 2 + 1));
    plan.push_back(k);
  }
  return plan;
}

// The server-side sleeps that stretch each phase (see the file comment); crash_dwell_seconds
// holds their lengths, set to zero once the kills are done.
void install_dwell(test::TestDatabase& db) {
  db.exec("CREATE TABLE crash_dwell_seconds (phase text PRIMARY KEY, seconds float8 NOT NULL)");
  for (const auto& p : kPhases) {
    db.exec("INSERT INTO crash_dwell_seconds VALUES ('" + std::string(p.name) + "', " +
            std::to_string(p.sleep_ms / 1000.0) + ")");
  }
  db.exec(R"sql(
    CREATE FUNCTION crash_dwell(p text, point text) RETURNS float8 LANGUAGE plpgsql AS $$
    DECLARE s float8 := coalesce((SELECT seconds FROM crash_dwell_seconds WHERE phase = p), 0);
    BEGIN
      IF s > 0 THEN
        PERFORM set_config('application_name',
                           'bbmd/' || p || '/' || point || '/' || extract(epoch FROM clock_timestamp()), true);
      END IF;
      RETURN s;
    END $$;
    CREATE FUNCTION crash_dwell_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(crash_dwell(TG_ARGV[0], TG_ARGV[1])); RETURN NEW; END $$;
    CREATE TRIGGER crash_dwell_lease_new BEFORE INSERT ON background_migration_jobs
      FOR EACH ROW EXECUTE FUNCTION crash_dwell_trigger('lease', 'statement');
    CREATE TRIGGER crash_dwell_finish BEFORE UPDATE ON background_migration_jobs
      FOR EACH ROW WHEN (OLD.status = 1 AND NEW.status = 2) EXECUTE FUNCTION crash_dwell_trigger('commit', 'statement');
    CREATE TRIGGER crash_dwell_lease_relet BEFORE UPDATE ON background_migration_jobs
      FOR EACH ROW WHEN (NEW.lease_token IS DISTINCT FROM OLD.lease_token) EXECUTE FUNCTION crash_dwell_trigger('lease', 'statement');
    CREATE CONSTRAINT TRIGGER crash_dwell_lease_new_commit AFTER INSERT ON background_migration_jobs
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crash_dwell_trigger('lease', 'commit');
    CREATE CONSTRAINT TRIGGER crash_dwell_lease_relet_commit AFTER UPDATE ON background_migration_jobs
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.lease_token IS DISTINCT FROM OLD.lease_token) EXECUTE FUNCTION crash_dwell_trigger('lease', 'commit');
    CREATE CONSTRAINT TRIGGER crash_dwell_commit AFTER UPDATE ON background_migration_jobs
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (OLD.status = 1 AND NEW.status = 2) EXECUTE FUNCTION crash_dwell_trigger('commit', 'commit');
  )sql");
}

// Checks every process is still up (counting crashes); true if all are.
bool fleet_alive(std::vector<std::unique_ptr<Serve>>& fleet, Tally& tally) {
  bool all = true;
  for (auto& s : fleet) all = s->alive(tally) && all;
  return all;
}

// The sleeps at the kill's point as {client_port, application_name}, the latter naming when the
// sleep began, so the time into it is measured on the server whatever the probe's own lag.
std::string point_probe(const Kill& k, int at_least_ms) {
  return "SELECT client_port, application_name FROM pg_stat_activity WHERE datname = current_database() "
         "AND application_name LIKE 'bbmd/" + std::string(kPhases[k.phase].name) + "/" + k.point +
         "/%' AND wait_event = 'PgSleep' AND extract(epoch FROM clock_timestamp()) - "
         "split_part(application_name, '/', 4)::float8 >= " + std::to_string(at_least_ms / 1000.0);
}

// Waits until the victim's backend has slept `delay_ms` at the kill's point. Returns that sleep,
// or nullopt if it never comes: a process died, or the migration ended first. The victim's
// ports are read again only when the probe finds sleeps of no port known to be its own.
std::optional<std::vector<std::string>> wait_for_point(test::TestDatabase& db,
                                                       std::vector<std::unique_ptr<Serve>>& fleet, const Kill& k,
                                                       Tally& tally) {
  const auto probe = point_probe(k, k.delay_ms);
  const pid_t victim = fleet[static_cast<std::size_t>(k.victim)]->pid();
  auto ports = tcp_ports_of(victim);
  std::optional<std::vector<std::string>> found;
  auto find_victims = [&](const std::vector<std::vector<std::string>>& sleeps) {
    for (const auto& r : sleeps) {
      if (ports.count(std::stoi(r[0]))) found = r;
    }
  };
  test::poll_until(
      [&] {
        if (!fleet_alive(fleet, tally)) return true;
        const auto sleeps = db.rows(probe);
        find_victims(sleeps);
        if (!found && !sleeps.empty()) {
          ports = tcp_ports_of(victim);
          find_victims(sleeps);
        }
        return found.has_value();
      },
      kPhaseDeadline, 1ms);
  if (!fleet_alive(fleet, tally)) return std::nullopt;
  return found;
}

// Whether the backend is still in the same sleep: then the kill landed inside it.
bool still_sleeping(test::TestDatabase& db, const Kill& k, const std::vector<std::string>& sleep) {
  const auto rows = db.rows(point_probe(k, 0));
  return std::find(rows.begin(), rows.end(), sleep) != rows.end();
}

test::ConfigOverrides crash_config() {
  return {
      {"database.backgroundmigrations.workers", "1"},
      {"database.backgroundmigrations.maxjobspertable", std::to_string(kProcesses)},
      // Short, so the jobs of killed processes are taken over while the loop still runs.
      {"database.backgroundmigrations.leaseduration", "2s"},
      // A job may be hit by several kills; running out of attempts is not what this measures.
      {"database.backgroundmigrations.maxjobretries", "100"},
      {"database.backgroundmigrations.batchsize.adaptive", "false"},
      {"database.backgroundmigrations.throttle.checkinterval", "0s"},
      {"database.backgroundmigrations.throttle.query", "\"SELECT false FROM pg_sleep(crash_dwell('bookkeeping', 'statement'))\""},
  };
}

// A kill that landed: where, and the job its victim held (leased, not yet finished), if any.
struct Landed {
  std::size_t phase;
  const char* point;
  pid_t pid;
  std::optional<std::string> job_id;
  bool confirmed;  // the backend was still at the point once the signal was sent
};

std::optional<std::string> job_held_by(test::TestDatabase& db, pid_t pid) {
  const auto r = db.rows("SELECT id FROM background_migration_jobs WHERE status = 1 AND split_part(lease_owner, ':', 2) = '" +
                         std::to_string(pid) + "'");
  if (r.empty()) return std::nullopt;
  return r[0][0];
}

// Per phase: kills in a statement and in a commit, how many were seen to land inside the sleep,
// and what became of the jobs the victims held: finished by the victim itself (the COMMIT went
// through although it never heard back; a pipelined COMMIT is already on the wire while the
// finish statement runs) or taken over by another worker. A lease killed in its commit holds a
// job the probe could not see yet (not committed), so it is counted under neither.
// Records a failure for a phase no kill was seen to land in.
void report_kills(test::TestDatabase& db, const std::vector<Landed>& kills, Tally& tally) {
  for (std::size_t p = 0; p < kPhases.size(); ++p) {
    int in_statement = 0, in_commit = 0, inside = 0, held = 0, by_victim = 0;
    for (const auto& k : kills) {
      if (k.phase != p) continue;
      ++(std::string(k.point) == "commit" ? in_commit : in_statement);
      inside += k.confirmed ? 1 : 0;
      if (!k.job_id) continue;
      ++held;
      const auto owner = db.scalar("SELECT split_part(lease_owner, ':', 2) FROM background_migration_jobs WHERE id = " +
                                   *k.job_id);
      if (owner == std::to_string(k.pid)) ++by_victim;
    }
    std::printf("  %-11s kills %2d (%d in a statement, %d in the commit, %d seen inside); jobs held %d: finished by "
                "the victim %d, taken over %d\n",
                kPhases[p].name, in_statement + in_commit, in_statement, in_commit, inside, held, by_victim,
                held - by_victim);
    tally.expect(inside > 0, std::string("crash_loop: no kill was seen to land inside phase ") + kPhases[p].name);
  }
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(crash_loop, 10)(const Options& opt, Tally& tally) {
  const int kills = opt.quick ? kQuickKills : std::max(kQuickKills, static_cast<int>(kFullKills * opt.scale));
  const auto plan = plan_kills(kills, opt.seed);
  const std::int64_t rows = (static_cast<std::int64_t>(kills) * kJobsPerKill + 60) * kBatchSize;
  std::printf("%d serve processes x 1 worker, one migration of %lld rows in jobs of %lld, %d kills (seed %llu)\n",
              kProcesses, static_cast<long long>(rows), static_cast<long long>(kBatchSize), kills,
              static_cast<unsigned long long>(opt.seed));

  test::TestDatabase db;
  if (db.config().host.rfind('/', 0) == 0) {
    tally.fail("crash_loop: needs PostgreSQL over TCP (PGHOST=localhost) to tell backends apart by client port");
    return;
  }
  test::apply_bbmd_schema(db);
  make_counted_table(db, kTable, rows);
  install_dwell(db);
  test::ConfigFile cfg(db, crash_config());
  write_touch_function(cfg, kFunction, "crash_dwell('work', 'statement')");
  const auto id = queue_range_migration(db, "20260101000001_crash_loop", kTable, kFunction, 1, rows, kBatchSize);

  std::vector<std::unique_ptr<Serve>> fleet;
  for (int i = 0; i < kProcesses; ++i) fleet.push_back(std::make_unique<Serve>(cfg, "serve-" + std::to_string(i)));

  std::vector<Landed> landed;
  for (const auto& k : plan) {
    const char* phase = kPhases[k.phase].name;
    auto& victim = fleet[static_cast<std::size_t>(k.victim)];
    const auto sleep = wait_for_point(db, fleet, k, tally);
    if (!sleep) {
      tally.fail("crash_loop: kill " + std::to_string(landed.size() + 1) + " (seed " + std::to_string(k.seed) +
                 "): " + victim->label() + " never reached " + phase + "/" + k.point + " (migration status " +
                 db.scalar("SELECT status FROM batched_background_migrations WHERE id = " + std::to_string(id)) + ")");
      break;
    }
    // Read before the kill: the victim's own uncommitted changes are not visible, its lease is.
    landed.push_back({k.phase, k.point, victim->pid(), job_held_by(db, victim->pid()), false});
    victim->kill9(tally, [&] { landed.back().confirmed = still_sleeping(db, k, *sleep); });
    ++tally.faults_injected;
    const std::string where = std::string(phase) + "/" + k.point;
    const std::string job = landed.back().job_id ? "holding job " + *landed.back().job_id : "holding no job";
    std::printf("  kill %2zu/%d  seed %-12llu %s (pid %d) in %-21s %2d ms in%s, %s\n", landed.size(), kills,
                static_cast<unsigned long long>(k.seed), victim->label().c_str(), victim->pid(), where.c_str(),
                k.delay_ms, landed.back().confirmed ? "" : " (landed after it)", job.c_str());
    std::fflush(stdout);
    victim = std::make_unique<Serve>(cfg, victim->label());
  }
  db.exec("UPDATE crash_dwell_seconds SET seconds = 0");
  const bool finished = wait_for_finished_migrations(db, 1, kFinishDeadline, tally, "crash_loop");
  fleet_alive(fleet, tally);
  for (auto& s : fleet) s->stop(tally);

  const auto damage = count_row_damage(db, kTable, tally);
  const long unfinished = unfinished_jobs(db, tally, "crash_loop");
  const auto jobs = db.rows("SELECT count(*), count(*) FILTER (WHERE attempts > 1), max(attempts) "
                            "FROM background_migration_jobs");
  report_kills(db, landed, tally);
  std::printf("jobs %s, on a second or later attempt %s (most attempts %s), not finished %ld\n", jobs[0][0].c_str(),
              jobs[0][1].c_str(), jobs[0][2].c_str(), unfinished);
  std::printf("rows %lld: lost %ld, changed twice %ld\n", static_cast<long long>(rows), damage.lost, damage.twice);
  if (finished && damage.lost == 0 && damage.twice == 0 && unfinished == 0) tally.faults_survived += static_cast<long>(landed.size());
}

}  // namespace bbmd::reliability
