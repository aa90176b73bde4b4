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

// Statements to run after a batch's bookkeeping and before its COMMIT: the locks, the cut and,
// by key range, the settle (kChainCut, kChainSettle index them). `hint`, if given, is taken as the
// range's end when it starts at the cursor and ends within the migration's bounds, sparing the
// range scan; otherwise the lease scans.
[[nodiscard]] std::vector<db::Statement> chained_lease(const Bbm& m, const Target& target,
                                                       const ChainRequest& request,
                                                       const std::optional<KeyRange>& hint);
inline constexpr std::size_t kChainCut = 1;
inline constexpr std::size_t kChainSettle = 2;
// The job the chained lease cut, from the result of its cut statement; nullopt if none.
[[nodiscard]] std::optional<Job> chained_job(const db::Result& cut);

}  // namespace bbmd::bbm
