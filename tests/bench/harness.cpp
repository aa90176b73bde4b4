// Bench tables, migration rows and serve processes (see harness.hpp).
#include "bench/harness.hpp"

#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "e2e/e2e_helpers.hpp"
#include "support/poll.hpp"

namespace bbmd::bench {

namespace {

constexpr const char* kTouchSql =
    "UPDATE {{table}} SET changes = changes + 1, b = a WHERE {{column}} BETWEEN $1 AND $2";

std::string id_list(const std::vector<std::int64_t>& ids) {
  std::string out;
  for (auto id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

}  // namespace

void make_source(test::TestDatabase& db, const std::string& name, long long rows) {
  db.exec("CREATE TABLE " + name +
          " (id bigint PRIMARY KEY, a int NOT NULL, b bigint, changes int NOT NULL DEFAULT 0) "
          "WITH (autovacuum_enabled = false)");
  db.exec("INSERT INTO " + name + " (id, a) SELECT g, g FROM generate_series(1, " + std::to_string(rows) + ") g");
}

void fresh_copy(test::TestDatabase& db, const std::string& source, const std::string& name) {
  db.exec("CREATE TABLE " + name + " (LIKE " + source + " INCLUDING ALL) WITH (autovacuum_enabled = false)");
  db.exec("INSERT INTO " + name + " SELECT * FROM " + source);
  db.exec("VACUUM (ANALYZE) " + name);
  db.exec("CHECKPOINT");
}

std::int64_t queue(test::TestDatabase& db, const std::string& table, const std::string& function, long long rows,
                   int batch_size) {
  test::MigrationRow row;
  row.name = "20260101000000_bench_" + table;
  row.table_name = "public." + table;
  row.job_signature_name = function;
  if (function != "copy_column") row.job_arguments = "{}";
  row.max_value = rows;
  row.batch_size = batch_size;
  return test::queue_migration(db, row);
}

void wait_finished(test::TestDatabase& db, const std::vector<std::int64_t>& ids, std::chrono::seconds timeout) {
  const std::string filter = " FROM batched_background_migrations WHERE id IN (" + id_list(ids) + ")";
  std::string failed;
  const bool done = test::poll_until(
      [&] {
        failed = db.scalar("SELECT coalesce(string_agg(name || ': ' || coalesce(last_error, 'failed'), '; '), '')" +
                           filter + " AND status = 3");
        return !failed.empty() || db.count("SELECT count(*)" + filter + " AND status <> 2") == 0;
      },
      timeout, std::chrono::milliseconds(100));
  if (!failed.empty()) throw BenchError("migration failed: " + failed);
  if (!done) throw BenchError("migrations " + id_list(ids) + " did not finish within " +
                              std::to_string(timeout.count()) + " s");
}

double migration_seconds(test::TestDatabase& db, const std::vector<std::int64_t>& ids) {
  return std::stod(db.scalar("SELECT extract(epoch FROM max(finished_at) - min(started_at)) "
                             "FROM batched_background_migrations WHERE id IN (" + id_list(ids) + ")"));
}

void expect_each_row_once(test::TestDatabase& db, const std::string& table, long long rows) {
  const auto twice = db.count("SELECT count(*) FROM " + table + " WHERE changes > 1");
  const auto missed = db.count("SELECT count(*) FROM " + table + " WHERE changes = 0");
  const auto total = db.count("SELECT count(*) FROM " + table);
  if (twice != 0 || missed != 0 || total != rows) {
    throw BenchError(table + ": " + std::to_string(twice) + " rows changed twice, " + std::to_string(missed) +
                     " not changed, " + std::to_string(total) + " rows (expected " + std::to_string(rows) + ")");
  }
}

double process_cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (stat.empty()) return 0;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void LoopSession::Finish::operator()(pg_conn* c) const noexcept { PQfinish(c); }

LoopSession::LoopSession(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw BenchError(std::string("loop session: ") + PQerrorMessage(conn_.get()));
  }
  backend_pid_ = PQbackendPID(conn_.get());
}

void LoopSession::exec(const std::string& sql) {
  PGresult* result = PQexec(conn_.get(), sql.c_str());
  const auto status = PQresultStatus(result);
  const std::string message = PQresultErrorMessage(result);
  PQclear(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw BenchError("loop session: " + message);
}

double bbmd_backends_cpu_seconds(test::TestDatabase& db) {
  double seconds = 0;
  for (const auto& row : db.rows("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND application_name IN ('bbmd', 'bbmd-listen')")) {
    seconds += process_cpu_seconds(std::stol(row[0]));
  }
  return seconds;
}

test::ConfigOverrides bench_config(const test::ConfigOverrides& extra) {
  test::ConfigOverrides values = {
      {"database.backgroundmigrations.backoff.initial", "250ms"},
      {"database.backgroundmigrations.backoff.max", "10s"},
      {"database.backgroundmigrations.leaseduration", "5m"},
      {"database.backgroundmigrations.batchsize.adaptive", "false"},
      // Direct connections, bbmd's own sessions: the setting a DBA uses without a pooler.
      // Scenario 11 measures the pooler's setting, false.
      {"database.preparedstatements", "true"},
  };
  for (const auto& [k, v] : extra) values[k] = v;
  return values;
}

Serve::Serve(const test::TestDatabase& db, const test::ConfigOverrides& overrides) : config_(db, overrides) {
  config_.dir().write("functions/touch.sql", kTouchSql);
  process_ = std::make_unique<test::BbmdProcess>(std::vector<std::string>{"serve", config_.path()});
  const bool up = test::poll_until([&] { return test::debug_port(process_->err()).has_value() || !process_->running(); },
                                   std::chrono::seconds(30));
  const auto port = test::debug_port(process_->err());
  if (!up || !port) throw BenchError("bbmd serve did not start; stderr:\n" + process_->err());
  port_ = *port;
}

Serve::~Serve() = default;  // BbmdProcess kills a process still running

std::string Serve::scrape() const {
  const auto r = e2e::http_get(port_, "/metrics");
  if (r.status != 200) throw BenchError("GET /metrics answered " + std::to_string(r.status));
  return r.body;
}

long Serve::rss_kb() const {
  std::ifstream in("/proc/" + std::to_string(process_->pid()) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  throw BenchError("no VmRSS for bbmd serve");
}

double Serve::cpu_seconds() const { return process_cpu_seconds(process_->pid()); }

long Serve::pid() const { return process_->pid(); }

void Serve::stop() {
  process_->signal(SIGTERM);
  const auto code = process_->wait_for_exit(std::chrono::seconds(30));
  if (code != 0) throw BenchError("bbmd serve did not exit 0 on SIGTERM; stderr:\n" + process_->err());
}

}  // namespace bbmd::bench
