// The pipelined client floors (see client_floor.hpp), on plain blocking libpq.
#include "bench/client_floor.hpp"

#include <libpq-fe.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "bench/harness.hpp"

namespace bbmd::bench {

namespace {

// Batches sent ahead of the one whose results are read: enough to keep the server busy, few
// enough that neither side's socket buffer fills while the other is not reading.
constexpr std::size_t kInFlight = 8;

constexpr const char* kLockMigration =
    "SELECT 1 FROM batched_background_migrations WHERE id = $1 FOR NO KEY UPDATE";
constexpr const char* kInsertJob =
    "INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, status, "
    "attempts, started_at, finished_at, batch_size) VALUES ($1, $2, $3, 2, 1, now(), clock_timestamp(), $4)";

using Session = std::unique_ptr<PGconn, decltype(&PQfinish)>;

[[noreturn]] void fail(PGconn* conn, const std::string& what) {
  throw BenchError("pipelined client: " + what + ": " + PQerrorMessage(conn));
}

void expect_ok(PGresult* r, const std::string& what) {
  const auto status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  const std::string message = r != nullptr ? PQresultErrorMessage(r) : "no result";
  PQclear(r);
  if (!ok) throw BenchError("pipelined client: " + what + ": " + message);
}

// One statement's prepared name and its parameters.
struct Step {
  const char* name;
  std::vector<std::string> values;
};

class Floor {
 public:
  Floor(PGconn* conn, std::optional<std::int64_t> job_rows_for) : conn_(conn), migration_(job_rows_for) {}

  void prepare(const std::string& table) {
    prepare_one("work", "UPDATE " + table + " SET b = a WHERE id BETWEEN $1 AND $2 AND b IS DISTINCT FROM a", 2);
    if (!migration_) return;
    prepare_one("lock", kLockMigration, 1);
    prepare_one("job", kInsertJob, 4);
    prepare_one("begin", "BEGIN", 0);
    prepare_one("commit", "COMMIT", 0);
  }

  // Queues one batch's statements and the Sync that ends them.
  void send(long long lo, long long hi) {
    const std::string from = std::to_string(lo), to = std::to_string(hi);
    std::vector<Step> steps;
    if (migration_) {
      const std::string id = std::to_string(*migration_);
      steps = {{"begin", {}}, {"lock", {id}}, {"work", {from, to}},
               {"job", {id, from, to, std::to_string(hi - lo + 1)}}, {"commit", {}}};
    } else {
      steps = {{"work", {from, to}}};
    }
    for (const auto& step : steps) {
      std::vector<const char*> values;
      for (const auto& v : step.values) values.push_back(v.c_str());
      if (PQsendQueryPrepared(conn_, step.name, static_cast<int>(values.size()), values.data(), nullptr, nullptr,
                              0) != 1) {
        fail(conn_, "send");
      }
    }
    if (PQpipelineSync(conn_) != 1) fail(conn_, "sync");
    statements_per_batch_ = steps.size();
    ++in_flight_;
  }

  // Reads the oldest batch's answers: each statement's result and the end of its results, then
  // the Sync.
  void read() {
    --in_flight_;
    for (std::size_t i = 0; i < statements_per_batch_; ++i) {
      expect_ok(PQgetResult(conn_), "statement");
      if (PGresult* end = PQgetResult(conn_)) {
        PQclear(end);
        fail(conn_, "more than one result for a statement");
      }
    }
    PGresult* sync = PQgetResult(conn_);
    const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!synced) fail(conn_, "no Sync after the batch");
  }

  std::size_t in_flight() const { return in_flight_; }

 private:
  void prepare_one(const char* name, const std::string& sql, int params) {
    expect_ok(PQprepare(conn_, name, sql.c_str(), params, nullptr), std::string("prepare ") + name);
  }

  PGconn* conn_;
  std::optional<std::int64_t> migration_;
  std::size_t statements_per_batch_ = 0;  // the same for every batch
  std::size_t in_flight_ = 0;           // batches sent and not yet read
};

}  // namespace

double pipelined_client_seconds(const std::string& conninfo, const std::string& table, long long rows,
                                int batch_size, std::optional<std::int64_t> job_rows_for) {
  Session session(PQconnectdb(conninfo.c_str()), &PQfinish);
  PGconn* conn = session.get();
  if (PQstatus(conn) != CONNECTION_OK) fail(conn, "connect");
  Floor floor(conn, job_rows_for);
  floor.prepare(table);
  if (PQenterPipelineMode(conn) != 1) fail(conn, "pipeline mode");

  return timed([&] {
    for (long long lo = 1; lo <= rows || floor.in_flight() > 0;) {
      if (lo <= rows && floor.in_flight() < kInFlight) {
        floor.send(lo, lo + batch_size - 1);
        lo += batch_size;
        continue;
      }
      floor.read();
    }
  });
}

}  // namespace bbmd::bench
