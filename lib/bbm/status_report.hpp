#pragma once
// Renders migration progress for people (an aligned table) and for machines (JSON).
#include <string>
#include <vector>

#include "bbm/progress.hpp"

namespace bbmd::bbm {

[[nodiscard]] std::string render_status_table(const std::vector<Progress>& migrations);
[[nodiscard]] std::string render_status_json(const std::vector<Progress>& migrations);
// "1h02m", "45s", "-" for unknown.
[[nodiscard]] std::string format_eta(const std::optional<double>& seconds);

}  // namespace bbmd::bbm
