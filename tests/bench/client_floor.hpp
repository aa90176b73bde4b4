#pragma once
// The least a client program can spend per batch: the baseline's UPDATEs sent by one libpq
// session in pipeline mode, each in its own implicit transaction (a Sync commits it), several in
// flight so the server never waits for the client, and no lease, fence or bookkeeping at all.
// No daemon that records each batch can beat it, so it bounds what scenario 2 can reach.
#include <string>

namespace bbmd::bench {

// Seconds to run `UPDATE <table> SET b = a WHERE id BETWEEN lo AND hi AND b IS DISTINCT FROM a`
// over ids 1..rows in ranges of `batch_size`. Throws BenchError on any failed statement.
double pipelined_client_seconds(const std::string& conninfo, const std::string& table, long long rows,
                                int batch_size);

}  // namespace bbmd::bench
