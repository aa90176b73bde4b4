#pragma once
// The range lookahead: while a batch runs on the worker's connection, a spare pooled connection
// looks up where the next range ends, so the chained lease that the batch's commit takes need
// not walk the key index itself. At batch 10,000 that range scan is 1.4 ms of a 45 ms job, all
// of it on the batch's backend; here it runs on another backend, meanwhile. What it finds is
// only a hint: the lease takes it only if its cursor still starts where the lookup started.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "bbm/model/bbm.hpp"
#include "db/params.hpp"

namespace bbmd::db {
class Pool;
}

namespace bbmd::bbm {

class RangeLookahead {
 public:
  struct Found {
    KeyRange range;
    double seconds = 0;  // how long the lookup's query took
  };

  // Each lookup runs under the batch's statement and lock timeouts: one stuck behind a lock
  // (DDL on the table, say) gives up and returns its connection rather than wait unbounded.
  RangeLookahead(std::shared_ptr<db::Pool> pool, std::chrono::milliseconds statement_timeout,
                std::chrono::milliseconds lock_timeout);

  // Starts looking up the range of up to `batch_size` rows from key `from` (up to `to`) on the
  // executor, unless a lookup is still running or the pool has no connection to spare at once.
  // Never waits; a failed lookup is forgotten (the lease scans for itself).
  void start(const boost::asio::any_io_executor& ex, const Target& target, std::int64_t from, std::int64_t to,
             std::int64_t batch_size);

  // What the lookup from `from` for `batch_size` rows found, once it has finished.
  [[nodiscard]] std::optional<Found> ready(std::int64_t from, std::int64_t batch_size) const;

  // Cancels a running lookup (shutdown: nobody will take its hint, and a lookup stuck behind a
  // lock or an unresponsive server must not hold the process). Its connection is dropped.
  void stop();

  struct Lookup;  // one lookup's request and result, shared with its coroutine

 private:
  std::shared_ptr<db::Pool> pool_;
  db::Params timeouts_;  // statement_timeout, lock_timeout: the lookup's set_config values
  std::shared_ptr<Lookup> lookup_;
};

}  // namespace bbmd::bbm
