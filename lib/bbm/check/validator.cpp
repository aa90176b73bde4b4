// Bbm validation: catalog target, work function, its job arguments; with a short cache.
#include "bbm/check/validator.hpp"

#include "bbm/check/target.hpp"
#include "bbm/check/privileges.hpp"

namespace bbmd::bbm {

namespace {

std::string fingerprint(const Bbm& m) {
  return m.table_name + '\x1f' + m.column_name + '\x1f' + m.batching_strategy.value_or("") + '\x1f' +
         m.job_signature_name + '\x1f' + m.job_arguments_text + '\x1f' + std::to_string(m.min_value) + '\x1f' +
         std::to_string(m.max_value) + '\x1f' + std::to_string(m.batch_size) + '\x1f' +
         std::to_string(m.sub_batch_size);
}

}  // namespace

boost::asio::awaitable<Verdict> Validator::validate(db::Connection& conn, const Bbm& m, Target& target) {
  const auto now = std::chrono::steady_clock::now();
  const auto print = fingerprint(m);
  if (auto it = cache_.find(m.id); it != cache_.end()) {
    if (it->second.fingerprint == print && now - it->second.checked < kCacheTtl) {
      target = it->second.target;
      co_return Verdict::ok();
    }
    cache_.erase(it);
  }
  auto verdict = co_await check(conn, m, target);
  if (verdict.runnable()) cache_[m.id] = Entry{print, target, now};
  co_return verdict;
}

boost::asio::awaitable<Verdict> Validator::check(db::Connection& conn, const Bbm& m, Target& target) const {
  target = Target{};
  auto verdict = co_await resolve_target(conn, m, target);
  if (!verdict.runnable()) co_return verdict;
  verdict = co_await check_table_privileges(conn, m, target);
  if (!verdict.runnable()) co_return verdict;
  if (const auto problem = registry_.problem(m.job_signature_name)) {
    co_return Verdict::held(kHoldInvalidWorkFunction, "work function '" + m.job_signature_name +
                                                          "' cannot be used: " + *problem +
                                                          "; fix the file and restart bbmd");
  }
  const WorkFunction* fn = registry_.find(m.job_signature_name);
  if (!fn) {
    co_return Verdict::held(kHoldUnknownWorkFunction, "work function '" + m.job_signature_name +
                                                          "' is unknown to this build; waiting for one that knows it");
  }
  if (auto required = fn->required_strategy(); required && *required != strategy_family(target.strategy)) {
    co_return Verdict::failure(FailureCode::invalid_batching_strategy,
                               "work function '" + fn->name() + "' needs " +
                                   (*required == BatchingStrategy::null_keyset ? "null_keyset" : "id keyset (NULL)") +
                                   " batching");
  }
  target.job_arguments = nlohmann::json::parse(m.job_arguments_text, nullptr, false);
  if (!target.job_arguments.is_object()) {
    co_return Verdict::failure(FailureCode::invalid_job_arguments, "job_arguments must be a JSON object");
  }
  co_return co_await fn->prepare(conn, m, target);
}

}  // namespace bbmd::bbm
