#pragma once
// Structured logging: one JSON object per line (or logfmt-like text), each line carrying
// time, level, msg, component and the caller's fields. Built on spdlog.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bbmd::log {

// Field keys shared by every component; constants so a typo cannot split a field in two.
inline constexpr const char* kBbmId = "bbm_id";
inline constexpr const char* kBbmName = "bbm_name";
inline constexpr const char* kBbmStatus = "bbm_status";
inline constexpr const char* kJobId = "job_id";
inline constexpr const char* kJobStartId = "job_start_id";
inline constexpr const char* kJobEndId = "job_end_id";
inline constexpr const char* kJobBatchSize = "job_batch_size";
inline constexpr const char* kJobAttempts = "job_attempts";
inline constexpr const char* kJobStatus = "job_status";
inline constexpr const char* kDurationS = "duration_s";
inline constexpr const char* kError = "error";
inline constexpr const char* kErrorCode = "error_code";
inline constexpr const char* kReason = "reason";
inline constexpr const char* kRows = "rows_affected";

inline constexpr const char* kWorkerComponent = "registry.bbm.Worker";
inline constexpr const char* kSyncWorkerComponent = "registry.bbm.SyncWorker";

using Fields = nlohmann::json;  // an object

enum class Level { trace, debug, info, warn, error };

// Configures the process-wide sink (stderr). Throws std::invalid_argument on unknown names.
void setup(std::string_view level, std::string_view formatter);
void set_level(std::string_view level);
// Names and values added to every line (the config's log.fields, as the registry adds its own):
// a caller's field of the same name wins, and the keys every line owns (time, level, msg,
// component) are never replaced. An empty object removes them.
void set_fields(const Fields& fields);

class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}
  void log(Level level, std::string_view msg, const Fields& fields = Fields::object()) const;
  void debug(std::string_view msg, const Fields& f = Fields::object()) const { log(Level::debug, msg, f); }
  void info(std::string_view msg, const Fields& f = Fields::object()) const { log(Level::info, msg, f); }
  void warn(std::string_view msg, const Fields& f = Fields::object()) const { log(Level::warn, msg, f); }
  void error(std::string_view msg, const Fields& f = Fields::object()) const { log(Level::error, msg, f); }
  [[nodiscard]] const std::string& component() const noexcept { return component_; }

 private:
  std::string component_;
};

// Renders one line without emitting it (used by tests and by the sink).
[[nodiscard]] std::string format_line(std::string_view formatter, Level level, std::string_view component,
                                      std::string_view msg, const Fields& fields);

}  // namespace bbmd::log
