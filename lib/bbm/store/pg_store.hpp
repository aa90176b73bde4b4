#pragma once
// The store on a PostgreSQL connection. Its statements live beside it: pg_store.cpp (listing,
// holds, failure, estimates, releases), lease.cpp (leases and the chained lease), batch.cpp (the
// job's transaction), job_split.cpp (shrinking and splitting after timeouts).
#include "bbm/store/store.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

class PgStore final : public Store {
 public:
  explicit PgStore(db::Connection& conn) : conn_(conn) {}

  boost::asio::awaitable<std::vector<Bbm>> runnable(const std::vector<std::string>& known_functions,
                                                    const LeaseOptions& caps) override;
  boost::asio::awaitable<std::optional<Bbm>> find(std::int64_t id) override;
  boost::asio::awaitable<bool> hold(const Bbm& m, const Verdict& verdict, std::chrono::milliseconds interval) override;
  boost::asio::awaitable<void> clear_hold(const Bbm& m) override;
  boost::asio::awaitable<bool> fail(const Bbm& m, const Verdict& verdict) override;
  boost::asio::awaitable<std::int64_t> estimate_tuples(const Bbm& m, const Target& target) override;
  boost::asio::awaitable<LeaseOutcome> lease(const Bbm& m, const Target& target, std::int64_t batch_size,
                                             const LeaseOptions& options) override;
  boost::asio::awaitable<BatchOutcome> run_batch(const Bbm& m, const Target& target, const Job& job,
                                                 const BatchOptions& options, const ChainRequest* chain) override;
  boost::asio::awaitable<void> record_failure(const Job& job, FailureCode code, const std::string& error) override;
  boost::asio::awaitable<std::string> shrink_or_split(const Bbm& m, const Target& target, const Job& job,
                                                      int max_attempts) override;
  boost::asio::awaitable<void> release(const Job& job) override;

 private:
  db::Connection& conn_;
};

}  // namespace bbmd::bbm
