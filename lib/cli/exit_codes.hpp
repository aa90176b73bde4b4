#pragma once
// Process exit codes (SPEC.md §3).
namespace bbmd::cli {
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;  // bad arguments or configuration
}  // namespace bbmd::cli
