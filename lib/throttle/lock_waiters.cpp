// Indicator: sessions that waited on locks held by the migration's previous batch.
#include <string>

#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"

namespace bbmd::throttle {
namespace {

// No query: the batch counted its waiters just before committing (Context::waiters_on_last_batch),
// the only moment they can be seen. Waiters mean the batch held rows the application needed, so
// the next batch waits a backoff interval and the application catches up.
class LockWaiters final : public Indicator {
 public:
  explicit LockWaiters(std::int64_t max_waiters) : max_(max_waiters) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kLockWaiters; }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection&, const Context& ctx) override {
    if (ctx.waiters_on_last_batch <= max_) co_return std::nullopt;
    const auto table = ctx.table_name.empty() ? std::string("its table") : ctx.table_name;
    co_return Stop{std::string(name()), std::to_string(ctx.waiters_on_last_batch) +
                                            " sessions waited on locks held by the last batch on " + table +
                                            " (limit " + std::to_string(max_) + ")"};
  }

 private:
  std::int64_t max_;
};

}  // namespace

std::unique_ptr<Indicator> make_lock_waiters(std::int64_t max_waiters) {
  return std::make_unique<LockWaiters>(max_waiters);
}

}  // namespace bbmd::throttle
