#pragma once
// Inside the store: the chained lease's statements, which batch.cpp runs in a batch's commit
// (PgStore::lease itself is declared in pg_store.hpp). Leases for one migration are serialised by
// a short row lock on the migration; there is no global lock, so workers on other migrations
// never wait.
#include <optional>
#include <vector>

#include "bbm/store/store.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

// Statements to run after a batch's bookkeeping and before its COMMIT: the locks, then the cut
// (kChainCut indexes it), which also finishes the migration when nothing is left. `hint`, if
// given, is taken as the range's end when it starts at the cursor and ends within the
// migration's bounds, sparing the range scan; otherwise the lease scans.
[[nodiscard]] std::vector<db::Statement> chained_lease(const Bbm& m, const Target& target,
                                                       const ChainRequest& request,
                                                       const std::optional<KeyRange>& hint);
inline constexpr std::size_t kChainCut = 1;
// From the result of the chained cut: the job it cut (nullopt if none), and whether it found the
// migration done and finished it.
[[nodiscard]] std::optional<Job> chained_job(const db::Result& cut);
[[nodiscard]] bool chain_finished_migration(const db::Result& cut);

}  // namespace bbmd::bbm
