// The scripted store and checks (see fake_store.hpp).
#include "support/fake_store.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bbmd::test {

namespace {

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

template <typename T>
T take(std::deque<T>& queue, T fallback) {
  if (queue.empty()) return fallback;
  T front = std::move(queue.front());
  queue.pop_front();
  return front;
}

}  // namespace

boost::asio::awaitable<std::vector<bbm::Bbm>> FakeStore::runnable(const std::vector<std::string>&,
                                                                  const bbm::LeaseOptions&) {
  calls.push_back("runnable");
  co_return std::vector<bbm::Bbm>{};
}

boost::asio::awaitable<std::optional<bbm::Bbm>> FakeStore::find(std::int64_t) {
  calls.push_back("find");
  co_return std::nullopt;
}

boost::asio::awaitable<bool> FakeStore::hold(const bbm::Bbm& m, const bbm::Verdict& verdict,
                                             std::chrono::milliseconds interval) {
  calls.push_back("hold " + verdict.hold_code + " " + ms(interval));
  co_return m.hold_code != verdict.hold_code;
}

boost::asio::awaitable<void> FakeStore::clear_hold(const bbm::Bbm&) {
  calls.push_back("clear hold");
  co_return;
}

boost::asio::awaitable<bool> FakeStore::fail(const bbm::Bbm&, const bbm::Verdict& verdict) {
  calls.push_back("fail code " + std::to_string(static_cast<int>(verdict.code)));
  co_return true;
}

boost::asio::awaitable<std::int64_t> FakeStore::estimate_tuples(const bbm::Bbm&, const bbm::Target&) {
  calls.push_back("estimate");
  co_return 1000;
}

boost::asio::awaitable<bbm::LeaseOutcome> FakeStore::lease(const bbm::Bbm&, const bbm::Target&,
                                                           std::int64_t batch_size, const bbm::LeaseOptions&) {
  calls.push_back("lease " + std::to_string(batch_size));
  if (lease_takes.count() > 0) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, lease_takes);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_return take(leases, bbm::LeaseOutcome{});
}

boost::asio::awaitable<bbm::BatchOutcome> FakeStore::run_batch(const bbm::Bbm&, const bbm::Target&,
                                                               const bbm::Job& job, const bbm::BatchOptions&,
                                                               const bbm::ChainRequest* chain) {
  calls.push_back("batch " + std::to_string(job.id) + (chain ? " chaining" : ""));
  auto script = take(batches, BatchScript{committed(0)});
  if (auto* error = std::get_if<db::Error>(&script)) throw *error;
  co_return std::get<bbm::BatchOutcome>(std::move(script));
}

boost::asio::awaitable<void> FakeStore::record_failure(const bbm::Job& job, bbm::FailureCode code,
                                                       const std::string&) {
  calls.push_back("record failure " + std::to_string(job.id) + " code " + std::to_string(static_cast<int>(code)));
  co_return;
}

boost::asio::awaitable<std::string> FakeStore::shrink_or_split(const bbm::Bbm&, const bbm::Target&,
                                                               const bbm::Job& job, int) {
  calls.push_back("shrink or split " + std::to_string(job.id));
  co_return "split";
}

boost::asio::awaitable<void> FakeStore::release(const bbm::Job& job) {
  calls.push_back("release " + std::to_string(job.id));
  co_return;
}

boost::asio::awaitable<bbm::Verdict> FakeChecks::validate(const bbm::Bbm&, bbm::Target& target) {
  target.table_oid = 16384;
  co_return take(verdicts, bbm::Verdict::ok());
}

boost::asio::awaitable<std::optional<throttle::Stop>> FakeChecks::throttle(const throttle::Context&) {
  co_return take(stops, std::optional<throttle::Stop>{});
}

bbm::Job job_of(std::int64_t id, std::int64_t min, std::int64_t max, std::int64_t attempts) {
  bbm::Job job;
  job.id = id;
  job.min_value = min;
  job.max_value = max;
  job.attempts = attempts;
  job.lease_token = id * 10;
  job.batch_size = max - min + 1;
  return job;
}

bbm::LeaseOutcome leased(const bbm::Job& job) {
  bbm::LeaseOutcome out;
  out.kind = bbm::LeaseOutcome::Kind::leased;
  out.job = job;
  return out;
}

bbm::LeaseOutcome lease_of(bbm::LeaseOutcome::Kind kind) {
  bbm::LeaseOutcome out;
  out.kind = kind;
  return out;
}

bbm::BatchOutcome committed(std::int64_t rows, std::optional<bbm::Job> chained) {
  bbm::BatchOutcome out;
  out.rows = rows;
  out.seconds = 0.01;
  out.chained = std::move(chained);
  return out;
}

}  // namespace bbmd::test
