#pragma once
// `migrate lint`: checks migration directories before they ship. Pure file reading, no database,
// so it runs in CI next to the compiler.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "schema/migration_dir.hpp"

namespace bbmd::schema {

// Lists the versions that shipped in a release, one a line ('#' comments). Keeping it beside the
// migrations lets lint tell a migration written after a required stop shipped from one that
// shipped with it.
inline constexpr const char* kReleasedManifest = "released.txt";

// Checks, each reported with its `check` word:
//   missing_directory, bad_name, missing_up, missing_down, bad_directive (from the scan);
//   duplicate_timestamp   two migrations (in any of the directories) share a timestamp;
//   out_of_order_timestamp  not a real date and time, or dated in the future (it would sort
//                         after migrations written later);
//   unqueued_required_bbm a requires-bbm names a BBM that no earlier migration queues;
//   before_required_stop  dated before the newest required stop, which has been released
//                         (listed in released.txt), without being released itself: installations
//                         already past the stop would apply it after the stop.
// The directories are checked together (pre and post): a post-deployment migration usually
// requires a BBM a pre-deployment one queued.
[[nodiscard]] std::vector<Problem> lint(const std::vector<std::filesystem::path>& dirs,
                                        std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Names of BBMs an up script queues: string literals of its INSERT INTO the migrations table.
[[nodiscard]] std::vector<std::string> statically_queued_bbms(const std::string& up_sql);

}  // namespace bbmd::schema
