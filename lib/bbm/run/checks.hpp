#pragma once
// What a step asks before it runs a job, besides the store: is the migration valid against the
// catalog, and may it run now (the health indicators). PgChecks asks PostgreSQL; tests drive the
// runner's decisions with a fake.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>

#include "bbm/model/bbm.hpp"
#include "bbm/model/verdict.hpp"
#include "throttle/indicator.hpp"

namespace bbmd::throttle {
class Throttle;
}

namespace bbmd::bbm {

class Validator;

class Checks {
 public:
  virtual ~Checks() = default;
  // Run, fail with a code, or hold; on run, `target` is where the batches go.
  virtual boost::asio::awaitable<Verdict> validate(const Bbm& m, Target& target) = 0;
  // The next validation asks the catalog afresh (a dropped object, a revoked grant).
  virtual void forget(std::int64_t migration_id) = 0;
  // The first indicator that says stop, or nullopt to go ahead.
  virtual boost::asio::awaitable<std::optional<throttle::Stop>> throttle(const throttle::Context& ctx) = 0;
};

class PgChecks final : public Checks {
 public:
  // `throttle` may be null: nothing throttles.
  PgChecks(db::Connection& conn, Validator& validator, throttle::Throttle* throttle)
      : conn_(conn), validator_(validator), throttle_(throttle) {}
  boost::asio::awaitable<Verdict> validate(const Bbm& m, Target& target) override;
  void forget(std::int64_t migration_id) override;
  boost::asio::awaitable<std::optional<throttle::Stop>> throttle(const throttle::Context& ctx) override;

 private:
  db::Connection& conn_;
  Validator& validator_;
  throttle::Throttle* throttle_;
};

}  // namespace bbmd::bbm
