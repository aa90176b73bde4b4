// Validation and throttling on a PostgreSQL connection (see checks.hpp).
#include "bbm/run/checks.hpp"

#include "bbm/check/validator.hpp"
#include "throttle/throttle.hpp"

namespace bbmd::bbm {

boost::asio::awaitable<Verdict> PgChecks::validate(const Bbm& m, Target& target) {
  co_return co_await validator_.validate(conn_, m, target);
}

void PgChecks::forget(std::int64_t migration_id) { validator_.forget(migration_id); }

boost::asio::awaitable<std::optional<throttle::Stop>> PgChecks::throttle(const throttle::Context& ctx) {
  if (!throttle_) co_return std::nullopt;
  co_return co_await throttle_->check(conn_, ctx);
}

}  // namespace bbmd::bbm
