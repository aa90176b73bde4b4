#pragma once
// Turns the config into the worker's option structs (used by serve, run and SIGHUP reload).
#include <string>

#include "bbm/run/worker.hpp"
#include "config/config.hpp"

namespace bbmd::cli {

[[nodiscard]] bbm::RunnerOptions runner_options(const config::Config& cfg, const std::string& worker_name);
[[nodiscard]] bbm::WorkerOptions worker_options(const config::Config& cfg, const std::string& worker_name);

}  // namespace bbmd::cli
