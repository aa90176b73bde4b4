// The Prometheus registry behind bbmd's metric verbs: families, buckets and label plumbing.
#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

#include "metrics/names.hpp"
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
  Family<Counter>& indicator_errors = counter(r, names::kIndicatorErrors);
  OneHot hold{gauge(r, names::kHold), names::kReason};
  OneHot status{gauge(r, names::kMigrationStatus), names::kState};

  Family<Counter>& queries_total = counter(r, names::kQueriesTotal);
  Family<Histogram>& db_query_duration = histogram(r, names::kDbQueryDuration);
  Family<Counter>& query_errors = counter(r, names::kQueryErrors);
  Family<Gauge>& pool = gauge(r, names::kPoolConnections);
  Counter& reconnects = counter(r, names::kReconnects).Add({});
  Counter& connect_failures = counter(r, names::kConnectFailures).Add({});
  Family<Counter>& migrations_total = counter(r, names::kMigrationsTotal);
  Family<Gauge>& migrations_pending = gauge(r, names::kMigrationsPending);

  Impl() { gauge(r, names::kBuildInfo).Add({{names::kVersion, kVersion}}).Set(1); }
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
  impl_->bbm_query_duration.Add(migration_labels(m), kQueryBuckets).Observe(seconds);
}

void Metrics::sub_batch(const MigrationLabels& m, double seconds) {
  impl_->sub_batch_duration.Add(migration_labels(m), kQueryBuckets).Observe(seconds);
}

void Metrics::slept(std::string_view reason, double seconds) {
  impl_->sleep_duration.Add(one_label(names::kReason, reason), kSleepBuckets).Observe(seconds);
}

void Metrics::progress(const MigrationLabels& m, double percent) {
  impl_->progress.Add(migration_labels(m)).Set(percent);
}

void Metrics::migration_state(const MigrationLabels& m, std::string_view state) {
  impl_->status.set(m, state, true, known_states());
}

void Metrics::held(const MigrationLabels& m, std::string_view reason, bool on) { impl_->hold.set(m, reason, on); }

void Metrics::lease_takeover(const MigrationLabels& m) { impl_->lease_takeovers.Add(migration_labels(m)).Increment(); }

void Metrics::oldest_pending_age(double seconds) { impl_->oldest_pending_age.Set(seconds); }

void Metrics::throttled(std::string_view reason, double seconds) {
  if (seconds > 0) impl_->throttle_seconds.Add(one_label(names::kReason, reason)).Increment(seconds);
}

void Metrics::indicator_error(std::string_view indicator) {
  impl_->indicator_errors.Add(one_label(names::kIndicator, indicator)).Increment();
}

void Metrics::query(std::string_view name, double seconds, bool ok) {
  const auto labels = one_label(names::kName, name);
  impl_->queries_total.Add(labels).Increment();
  impl_->db_query_duration.Add(labels, kQueryBuckets).Observe(seconds);
  if (!ok) impl_->query_errors.Add(labels).Increment();
}

void Metrics::pool(const PoolFigures& figures) {
  impl_->pool.Add(one_label(names::kState, "open")).Set(static_cast<double>(figures.open));
  impl_->pool.Add(one_label(names::kState, "in_use")).Set(static_cast<double>(figures.in_use));
  impl_->pool.Add(one_label(names::kState, "max")).Set(static_cast<double>(figures.max_open));
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
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, impl_->registry->Collect());
  return out.str();
}

std::shared_ptr<prometheus::Registry> Metrics::registry() const { return impl_->registry; }

}  // namespace bbmd::metrics
