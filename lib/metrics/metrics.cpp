// The Prometheus registry behind bbmd's metric verbs: families, buckets and label plumbing.
#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

#include "metrics/names.hpp"
#include "metrics/query_names.hpp"
#include "throttle/reasons.hpp"
#include "version.hpp"

namespace bbmd::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

// Buckets, in seconds. Each range covers what that operation can take under bbmd's limits.
// Single statements: 1ms (an index-only lookup) up to 60s (longer than any statement_timeout bbmd sets).
const Histogram::BucketBoundaries kQueryBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                 0.5,   1,      2.5,   5,    10,    30,   60};
// A job is one batch: 10ms for a small batch up to 10min, past the longest job timeout.
const Histogram::BucketBoundaries kJobBuckets{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                              5,    10,    30,   60,  120,  300, 600};
// A run is a lease attempt plus at most one job, so the job range plus the registry's long tail (1h).
const Histogram::BucketBoundaries kRunBuckets{0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,
                                              10,   30,   60,  120,  300, 600, 1800, 3600};
// Sleeps: bbmd's short waits between batches up to the registry's 24h upper bucket.
const Histogram::BucketBoundaries kSleepBuckets{0.01, 0.1, 0.5, 1,    5,    15,   30,    60,
                                                300,  600, 1800, 3600, 7200, 21600, 86400};

Family<Counter>& counter(prometheus::Registry& r, const names::Def& d) {
  return prometheus::BuildCounter().Name(d.name).Help(d.help).Register(r);
}
Family<Gauge>& gauge(prometheus::Registry& r, const names::Def& d) {
  return prometheus::BuildGauge().Name(d.name).Help(d.help).Register(r);
}
Family<Histogram>& histogram(prometheus::Registry& r, const names::Def& d) {
  return prometheus::BuildHistogram().Name(d.name).Help(d.help).Register(r);
}

Labels migration_labels(const MigrationLabels& m) {
  return {{names::kMigrationId, std::to_string(m.id)}, {names::kMigrationName, m.name}};
}
Labels migration_labels(const MigrationLabels& m, const char* key, std::string_view value) {
  auto labels = migration_labels(m);
  labels.emplace(key, std::string(value));
  return labels;
}
Labels one_label(const char* key, std::string_view value) { return {{key, std::string(value)}}; }

// A per-migration gauge where at most one value of a label is 1 (hold reason, state). Prometheus
// families cannot be listed by label, so the values seen per migration are remembered here.
class OneHot {
 public:
  using Values = std::set<std::string, std::less<>>;

  OneHot(Family<Gauge>& family, const char* key) : family_(family), key_(key) {}

  void set(const MigrationLabels& m, std::string_view value, bool on, Values seed = {}) {
    std::lock_guard lock(mu_);
    auto& seen = seen_.try_emplace({m.id, m.name}, std::move(seed)).first->second;
    seen.emplace(value);
    for (const auto& v : seen) {
      if (v == value) {
        family_.Add(migration_labels(m, key_, v)).Set(on ? 1 : 0);
      } else if (on) {
        family_.Add(migration_labels(m, key_, v)).Set(0);
      }
    }
  }

 private:
  Family<Gauge>& family_;
  const char* key_;
  std::mutex mu_;
  std::map<std::pair<std::int64_t, std::string>, Values> seen_;
};

OneHot::Values known_states() { return {names::kMigrationStates.begin(), names::kMigrationStates.end()}; }

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// registry_bbm_throttled{reason}: the throttle's latest verdict per migration, each valid until
// the next one or until it expires; a reason is 1 while any live verdict names it.
class ThrottleVerdicts {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ThrottleVerdicts(Family<Gauge>& family)
      : family_(family), published_(throttle::reasons::kAll.begin(), throttle::reasons::kAll.end()) {
    publish(Clock::now());
  }

  void record(std::int64_t migration_id, std::string_view reason, std::chrono::milliseconds valid_for) {
    std::lock_guard lock(mu_);
    if (reason.empty()) {
      live_.erase(migration_id);
    } else {
      live_[migration_id] = {std::string(reason), Clock::now() + valid_for};
    }
    publish(Clock::now());
  }

  // Called before each scrape, so that an expired verdict stops counting without a new one.
  void refresh() {
    std::lock_guard lock(mu_);
    publish(Clock::now());
  }

 private:
  struct Verdict {
    std::string reason;
    Clock::time_point until;
  };

  void publish(Clock::time_point now) {
    std::set<std::string, std::less<>> holding;
    for (auto it = live_.begin(); it != live_.end();) {
      if (it->second.until <= now) {
        it = live_.erase(it);
      } else {
        holding.insert(it->second.reason);
        ++it;
      }
    }
    published_.insert(holding.begin(), holding.end());  // a reason outside kAll keeps its series too
    for (const auto& reason : published_) {
      family_.Add(one_label(names::kReason, reason)).Set(holding.contains(reason) ? 1 : 0);
    }
  }

  Family<Gauge>& family_;
  std::mutex mu_;
  std::map<std::int64_t, Verdict> live_;
  std::set<std::string, std::less<>> published_;
};

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Registry& r = *registry;

  Counter& runs_total = counter(r, names::kRunsTotal).Add({});
  Histogram& run_duration = histogram(r, names::kRunDuration).Add({}, kRunBuckets);
  Family<Histogram>& job_duration = histogram(r, names::kJobDuration);
  Family<Counter>& jobs_total = counter(r, names::kJobsTotal);
  Family<Histogram>& bbm_query_duration = histogram(r, names::kQueryDuration);
  Family<Histogram>& sub_batch_duration = histogram(r, names::kSubBatchDuration);
  Family<Gauge>& job_batch_size = gauge(r, names::kJobBatchSize);
  Family<Counter>& migrated_tuples = counter(r, names::kMigratedTuples);
  Family<Histogram>& sleep_duration = histogram(r, names::kSleepDuration);
  Family<Gauge>& progress = gauge(r, names::kProgress);
  Family<Counter>& lease_takeovers = counter(r, names::kLeaseTakeovers);
  Gauge& oldest_pending_age = gauge(r, names::kOldestPendingAge).Add({});
  Family<Counter>& throttle_seconds = counter(r, names::kThrottleSeconds);
  ThrottleVerdicts throttled{gauge(r, names::kThrottled)};
  Family<Counter>& indicator_errors = counter(r, names::kIndicatorErrors);
  OneHot hold{gauge(r, names::kHold), names::kReason};
  OneHot status{gauge(r, names::kMigrationStatus), names::kState};

  Family<Counter>& queries_total = counter(r, names::kQueriesTotal);
  Family<Histogram>& db_query_duration = histogram(r, names::kDbQueryDuration);
  Family<Counter>& query_errors = counter(r, names::kQueryErrors);
  Family<Gauge>& pool = gauge(r, names::kPoolConnections);
  Family<Gauge>& pool_max = gauge(r, names::kPoolMaxConnections);
  Counter& reconnects = counter(r, names::kReconnects).Add({});
  Counter& connect_failures = counter(r, names::kConnectFailures).Add({});
  Family<Counter>& migrations_total = counter(r, names::kMigrationsTotal);
  Family<Gauge>& migrations_pending = gauge(r, names::kMigrationsPending);

  std::mutex seen_mu;
  std::set<std::pair<std::int64_t, std::string>> seen;  // migrations whose series exist

  Impl() {
    gauge(r, names::kBuildInfo).Add({{names::kVersion, kVersion}}).Set(1);
    for (const auto reason : names::kSleepReasons) sleep_duration.Add(one_label(names::kReason, reason), kSleepBuckets);
    for (const auto reason : throttle::reasons::kAll) {
      throttle_seconds.Add(one_label(names::kReason, reason));
      indicator_errors.Add(one_label(names::kIndicator, reason));  // each indicator reports its reason
    }
    for (const auto name : names::kQueryNames) query_series(std::string(name));
    for (const auto state : {names::kPoolOpen, names::kPoolInUse}) pool.Add(one_label(names::kState, state));
    for (const auto type : names::kMigrationTypes) migrations_total.Add(one_label(names::kMigrationType, type));
  }

  struct QuerySeries {
    Counter& total;
    Histogram& duration;
    Counter& errors;
  };
  QuerySeries query_series(std::string_view name) {
    const auto labels = one_label(names::kName, name);
    return {queries_total.Add(labels), db_query_duration.Add(labels, kQueryBuckets), query_errors.Add(labels)};
  }

  // A migration's series, at 0, the first time it is seen runnable or worked on.
  void seen_runnable(const MigrationLabels& m) {
    {
      std::lock_guard lock(seen_mu);
      if (!seen.emplace(m.id, m.name).second) return;
    }
    for (const auto outcome : names::kJobOutcomes) {
      const auto labels = migration_labels(m, names::kOutcome, outcome);
      jobs_total.Add(labels);
      job_duration.Add(labels, kJobBuckets);
    }
    const auto labels = migration_labels(m);
    migrated_tuples.Add(labels);
    lease_takeovers.Add(labels);
    sub_batch_duration.Add(labels, kQueryBuckets);
    bbm_query_duration.Add(labels, kQueryBuckets);
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

// did_work is not a label: the registry's runs_total has none, and its dashboards sum it as is.
namespace {
void catch_up(prometheus::Counter& counter, std::uint64_t total) {
  const double delta = static_cast<double>(total) - counter.Value();
  if (delta > 0) counter.Increment(delta);
}
}  // namespace

void Metrics::run_finished(bool /*did_work*/, double seconds) {
  impl_->runs_total.Increment();
  impl_->run_duration.Observe(seconds);
}

void Metrics::job_finished(const MigrationLabels& m, std::string_view outcome, double seconds,
                           std::int64_t batch_size, std::int64_t tuples_changed) {
  impl_->seen_runnable(m);
  const auto with_outcome = migration_labels(m, names::kOutcome, outcome);
  impl_->jobs_total.Add(with_outcome).Increment();
  impl_->job_duration.Add(with_outcome, kJobBuckets).Observe(seconds);
  const auto labels = migration_labels(m);
  impl_->job_batch_size.Add(labels).Set(static_cast<double>(batch_size));
  // Only a committed batch changed rows; a failed or lost one rolled back.
  if (outcome == names::kOutcomeFinished && tuples_changed > 0) {
    impl_->migrated_tuples.Add(labels).Increment(static_cast<double>(tuples_changed));
  }
}

void Metrics::batching_query(const MigrationLabels& m, double seconds) {
  impl_->seen_runnable(m);
  impl_->bbm_query_duration.Add(migration_labels(m), kQueryBuckets).Observe(seconds);
}

void Metrics::sub_batch(const MigrationLabels& m, double seconds) {
  impl_->seen_runnable(m);
  impl_->sub_batch_duration.Add(migration_labels(m), kQueryBuckets).Observe(seconds);
}

void Metrics::slept(std::string_view reason, double seconds) {
  impl_->sleep_duration.Add(one_label(names::kReason, reason), kSleepBuckets).Observe(seconds);
}

void Metrics::progress(const MigrationLabels& m, double percent) {
  impl_->progress.Add(migration_labels(m)).Set(percent);
}

void Metrics::migration_state(const MigrationLabels& m, std::string_view state) {
  if (one_of(names::kRunnableStates, state)) impl_->seen_runnable(m);
  impl_->status.set(m, state, true, known_states());
}

void Metrics::held(const MigrationLabels& m, std::string_view reason, bool on) { impl_->hold.set(m, reason, on); }

void Metrics::lease_takeover(const MigrationLabels& m) {
  impl_->seen_runnable(m);
  impl_->lease_takeovers.Add(migration_labels(m)).Increment();
}

void Metrics::oldest_pending_age(double seconds) { impl_->oldest_pending_age.Set(seconds); }

void Metrics::throttled(std::string_view reason, double seconds) {
  if (seconds > 0) impl_->throttle_seconds.Add(one_label(names::kReason, reason)).Increment(seconds);
}

void Metrics::throttle_verdict(std::int64_t migration_id, std::string_view reason,
                               std::chrono::milliseconds valid_for) {
  impl_->throttled.record(migration_id, reason, valid_for);
}

void Metrics::indicator_error(std::string_view indicator) {
  impl_->indicator_errors.Add(one_label(names::kIndicator, indicator)).Increment();
}

void Metrics::query(std::string_view name, double seconds, bool ok) {
  auto series = impl_->query_series(name);
  series.total.Increment();
  series.duration.Observe(seconds);
  if (!ok) series.errors.Increment();
}

void Metrics::pool(const PoolFigures& figures) {
  impl_->pool.Add(one_label(names::kState, names::kPoolOpen)).Set(static_cast<double>(figures.open));
  impl_->pool.Add(one_label(names::kState, names::kPoolInUse)).Set(static_cast<double>(figures.in_use));
  impl_->pool_max.Add({}).Set(static_cast<double>(figures.max_open));
  // The pool keeps running totals; the counters catch up to them (they only ever grow).
  catch_up(impl_->reconnects, figures.reconnects);
  catch_up(impl_->connect_failures, figures.connect_failures);
}

void Metrics::schema_migration_applied(std::string_view migration_type) {
  impl_->migrations_total.Add(one_label(names::kMigrationType, migration_type)).Increment();
}

void Metrics::schema_migrations_pending(std::string_view migration_type, std::int64_t count) {
  impl_->migrations_pending.Add(one_label(names::kMigrationType, migration_type)).Set(static_cast<double>(count));
}

std::string Metrics::scrape() const {
  impl_->throttled.refresh();
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, impl_->registry->Collect());
  return out.str();
}

std::shared_ptr<prometheus::Registry> Metrics::registry() const { return impl_->registry; }

}  // namespace bbmd::metrics
