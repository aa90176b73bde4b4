#pragma once
// Process exit codes (SPEC.md §3).
namespace bbmd::cli {
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;  // bad arguments or configuration
// `database migrate up` stopped to wait for batched background migrations (a required BBM or a
// required stop): not an error, but the upgrade is not complete until they finish.
inline constexpr int kExitBlocked = 3;
}  // namespace bbmd::cli
