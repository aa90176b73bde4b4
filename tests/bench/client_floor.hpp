#pragma once
// The least a client program can spend per batch: the baseline's UPDATEs sent by one libpq
// session in pipeline mode, several in flight so the server never waits for the client.
// Two floors bound what scenario 2 can reach:
// - bare: each UPDATE in its own implicit transaction (a Sync commits it), nothing else;
// - with a job row: each UPDATE in a transaction that also locks the migration's row and inserts
//   one finished job row, the least bookkeeping SPEC §1 and §2.1 allow (one job row per batch,
//   committed with the batch), and still no lease, range cut, fence or error handling.
#include <cstdint>
#include <optional>
#include <string>

namespace bbmd::bench {

// Seconds to run `UPDATE <table> SET b = a WHERE id BETWEEN lo AND hi AND b IS DISTINCT FROM a`
// over ids 1..rows in ranges of `batch_size`; with `job_rows_for`, each range's job row is
// recorded for that migration. Throws BenchError on any failed statement.
double pipelined_client_seconds(const std::string& conninfo, const std::string& table, long long rows,
                                int batch_size, std::optional<std::int64_t> job_rows_for = std::nullopt);

}  // namespace bbmd::bench
