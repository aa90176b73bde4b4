// The caching decorator: reuses an indicator's last answer for a short interval (throttle.checkinterval).
#include <boost/system/system_error.hpp>
#include <exception>
#include <map>
#include <utility>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"

namespace bbmd::throttle {
namespace {

// Workers may start batches many times a second; cluster-wide signals (WAL, replicas, old
// transactions) do not change that fast, so one answer per interval bounds the round trips per
// batch. Errors are cached too, so a broken check (say a slow operator query hitting its
// timeout) costs once per interval, not once per batch. Not cached: cancellation and errors
// that broke the connection; those belong to this attempt only.
class Cached final : public Indicator {
 public:
  Cached(std::unique_ptr<Indicator> inner, milliseconds ttl, CacheScope scope, Now now)
      : inner_(std::move(inner)), ttl_(ttl), scope_(scope), now_(std::move(now)) {}

  [[nodiscard]] std::string_view name() const override { return inner_->name(); }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context& ctx) override {
    const std::uint32_t key = scope_ == CacheScope::table ? ctx.table_oid : 0;
    const auto now = now_();
    if (auto it = entries_.find(key); it != entries_.end() && now - it->second.at < ttl_) {
      if (it->second.error) std::rethrow_exception(it->second.error);
      co_return it->second.verdict;
    }
    Entry fresh{now, std::nullopt, nullptr};
    bool cacheable = true;
    try {
      fresh.verdict = co_await inner_->check(conn, ctx);
    } catch (const boost::system::system_error&) {
      cacheable = false;  // cancellation or a socket error: says nothing about the signal
      fresh.error = std::current_exception();
    } catch (...) {
      fresh.error = std::current_exception();
    }
    if (cacheable && !conn.broken()) store(key, fresh);
    if (fresh.error) std::rethrow_exception(fresh.error);
    co_return fresh.verdict;
  }

 private:
  struct Entry {
    Clock::time_point at;
    std::optional<Stop> verdict;
    std::exception_ptr error;
  };

  // Per-table entries of tables no longer migrated expire here rather than piling up.
  void store(std::uint32_t key, Entry entry) {
    std::erase_if(entries_, [&](const auto& kv) { return entry.at - kv.second.at >= ttl_; });
    entries_.insert_or_assign(key, std::move(entry));
  }

  std::unique_ptr<Indicator> inner_;
  milliseconds ttl_;
  CacheScope scope_;
  Now now_;
  std::map<std::uint32_t, Entry> entries_;
};

}  // namespace

std::unique_ptr<Indicator> cached(std::unique_ptr<Indicator> inner, milliseconds ttl, CacheScope scope, Now now) {
  return std::make_unique<Cached>(std::move(inner), ttl, scope, std::move(now));
}

}  // namespace bbmd::throttle
