// Config -> worker options.
#include "cli/options.hpp"

#include <unistd.h>

namespace bbmd::cli {

namespace {

std::string lease_owner(const std::string& worker_name) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + worker_name;
}

}  // namespace

bbm::RunnerOptions runner_options(const config::Config& cfg, const std::string& worker_name) {
  const auto& b = cfg.backgroundmigrations;
  bbm::RunnerOptions o;
  o.lease.owner = lease_owner(worker_name);
  o.lease.duration = b.leaseduration;
  o.lease.max_attempts = b.maxjobretries;
  o.lease.max_jobs_per_table = b.maxjobspertable;
  o.lease.max_running_jobs = b.maxrunningjobs;
  o.throttle_initial = b.backoff.initial;
  o.throttle_max = b.backoff.max;
  o.batch.statement_timeout = b.statementtimeout;
  o.batch.lock_timeout = b.locktimeout;
  o.batch.count_lock_waiters = b.throttle.lockwaiters.enabled;
  o.hold_interval = b.holdinterval;
  o.job_interval = b.jobinterval;
  return o;
}

bbm::WorkerOptions worker_options(const config::Config& cfg, const std::string& worker_name) {
  const auto& b = cfg.backgroundmigrations;
  bbm::WorkerOptions o;
  o.runner = runner_options(cfg, worker_name);
  o.backoff = {b.jobinterval, b.backoff.initial, b.backoff.max, b.backoff.multiplier, b.backoff.jitter};
  o.startup_jitter = b.startupjitter;
  return o;
}

}  // namespace bbmd::cli
