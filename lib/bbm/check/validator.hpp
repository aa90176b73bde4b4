#pragma once
// Turns an untrusted migration row into a runnable Target, or a failure code, or a hold.
// Verdicts that allow running are cached briefly per row content, so a busy worker does not
// repeat catalog lookups for every batch; any edit to the row's fields invalidates its entry.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "bbm/model/bbm.hpp"
#include "bbm/model/verdict.hpp"
#include "bbm/work/registry.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

class Validator {
 public:
  // 30 s: short enough that a dropped index or column is noticed quickly even without a failing
  // batch, long enough to keep catalog queries off the per-batch path.
  static constexpr std::chrono::seconds kCacheTtl{30};

  explicit Validator(const WorkRegistry& registry) : registry_(registry) {}
  boost::asio::awaitable<Verdict> validate(db::Connection& conn, const Bbm& m, Target& target);
  void forget(std::int64_t migration_id) { cache_.erase(migration_id); }

 private:
  struct Entry {
    std::string fingerprint;
    Target target;
    std::chrono::steady_clock::time_point checked;
  };
  boost::asio::awaitable<Verdict> check(db::Connection& conn, const Bbm& m, Target& target) const;
  const WorkRegistry& registry_;
  std::map<std::int64_t, Entry> cache_;
};

}  // namespace bbmd::bbm
