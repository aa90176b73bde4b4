#pragma once
// Renders migration progress for people (an aligned table) and for machines (JSON).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bbm/report/progress.hpp"

namespace bbmd::bbm {

// `colour` adds ANSI colours to the status column: for terminals only, never for pipes or files.
[[nodiscard]] std::string render_status_table(const std::vector<Progress>& migrations, bool colour = false);
// True when stdout is a terminal and NO_COLOR (no-color.org) is unset.
[[nodiscard]] bool stdout_wants_colour();
// One progress report of `background-migrate run`: on a terminal a bar redrawn in place
// ("\r...", ending the line once finished); otherwise a plain line for logs and pipes.
[[nodiscard]] std::string render_progress_line(const Progress& p, bool terminal);
[[nodiscard]] std::string render_status_json(const std::vector<Progress>& migrations);
// One migration as render_status_json shows it (also the admin API's representation).
[[nodiscard]] nlohmann::json progress_json(const Progress& p);
// "active", "paused", ... or "unknown(N)".
[[nodiscard]] std::string status_name(int status);
// "1h02m", "45s", "-" for unknown.
[[nodiscard]] std::string format_eta(const std::optional<double>& seconds);

}  // namespace bbmd::bbm
