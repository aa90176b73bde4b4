#pragma once
// The CLI's command handlers; each returns a process exit code (cli/exit_codes.hpp).
#include <optional>
#include <string>

#include "config/config.hpp"

namespace bbmd::cli {

int serve(const config::Config& cfg);

int background_status(const config::Config& cfg, bool json);
int background_pause(const config::Config& cfg, const std::string& name);
int background_resume(const config::Config& cfg, const std::string& name);
int background_run(const config::Config& cfg, std::optional<int> max_job_retry);

int database_migrate_up(const config::Config& cfg);

// Parses argv and dispatches; never throws.
int main(int argc, char** argv);

}  // namespace bbmd::cli
