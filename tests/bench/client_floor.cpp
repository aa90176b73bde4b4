// The pipelined client floor (see client_floor.hpp), on plain blocking libpq.
#include "bench/client_floor.hpp"

#include <libpq-fe.h>

#include <cstddef>
#include <memory>

#include "bench/harness.hpp"

namespace bbmd::bench {

namespace {

// Batches sent ahead of the one whose results are read: enough to keep the server busy, few
// enough that neither side's socket buffer fills while the other is not reading.
constexpr std::size_t kInFlight = 8;

using Session = std::unique_ptr<PGconn, decltype(&PQfinish)>;

[[noreturn]] void fail(PGconn* conn, const std::string& what) {
  throw BenchError("pipelined client: " + what + ": " + PQerrorMessage(conn));
}

void expect(PGresult* r, ExecStatusType status, const std::string& what) {
  const bool ok = r != nullptr && PQresultStatus(r) == status;
  const std::string message = r != nullptr ? PQresultErrorMessage(r) : "no result";
  PQclear(r);
  if (!ok) throw BenchError("pipelined client: " + what + ": " + message);
}

// One batch's answers: the UPDATE's result, the end of its results, then the Sync.
void read_batch(PGconn* conn) {
  expect(PQgetResult(conn), PGRES_COMMAND_OK, "UPDATE");
  if (PGresult* end = PQgetResult(conn)) {
    PQclear(end);
    fail(conn, "more than one result for the UPDATE");
  }
  expect(PQgetResult(conn), PGRES_PIPELINE_SYNC, "commit");
}

}  // namespace

double pipelined_client_seconds(const std::string& conninfo, const std::string& table, long long rows,
                                int batch_size) {
  Session session(PQconnectdb(conninfo.c_str()), &PQfinish);
  PGconn* conn = session.get();
  if (PQstatus(conn) != CONNECTION_OK) fail(conn, "connect");
  const std::string sql = "UPDATE " + table + " SET b = a WHERE id BETWEEN $1 AND $2 AND b IS DISTINCT FROM a";
  expect(PQprepare(conn, "work", sql.c_str(), 2, nullptr), PGRES_COMMAND_OK, "prepare");
  if (PQenterPipelineMode(conn) != 1) fail(conn, "pipeline mode");

  return timed([&] {
    std::size_t in_flight = 0;
    for (long long lo = 1; lo <= rows || in_flight > 0;) {
      if (lo <= rows && in_flight < kInFlight) {
        const std::string from = std::to_string(lo);
        const std::string to = std::to_string(lo + batch_size - 1);
        const char* values[] = {from.c_str(), to.c_str()};
        if (PQsendQueryPrepared(conn, "work", 2, values, nullptr, nullptr, 0) != 1) fail(conn, "send");
        if (PQpipelineSync(conn) != 1) fail(conn, "sync");
        ++in_flight;
        lo += batch_size;
        continue;
      }
      read_batch(conn);
      --in_flight;
    }
  });
}

}  // namespace bbmd::bench
