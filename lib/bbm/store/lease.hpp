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

// The end of a batch's transaction that leases the next job of `job`'s migration, to run before
// its COMMIT: the chain's lock (which reads `job`'s lease before the bookkeeping ends it), then
// `bookkeeping` (the statement finishing `job`; kChainBookkeeping indexes it), then the cut
// (kChainCut), which also finishes the migration when nothing is left. `hint`, if given, is
// taken as the range's end when it starts at the cursor and ends within the migration's bounds,
// sparing the range scan; otherwise the lease scans.
[[nodiscard]] std::vector<db::Statement> chained_lease(const Bbm& m, const Target& target, const Job& job,
                                                       const ChainRequest& request,
                                                       const std::optional<KeyRange>& hint,
                                                       db::Statement bookkeeping);
inline constexpr std::size_t kChainBookkeeping = 1;
inline constexpr std::size_t kChainCut = 2;
// From the result of the chained cut: the job it cut (nullopt if none), and whether it found the
// migration done and finished it.
[[nodiscard]] std::optional<Job> chained_job(const db::Result& cut);
[[nodiscard]] bool chain_finished_migration(const db::Result& cut);

}  // namespace bbmd::bbm
