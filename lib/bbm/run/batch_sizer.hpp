#pragma once
// Adaptive batch size: aims each batch at a target duration from the smoothed time per row of
// recent jobs, grows by at most 20% a step, shrinks as far as needed, stays within bounds.
#include <cstdint>
#include <map>
#include <optional>

#include "bbm/model/bbm.hpp"

namespace bbmd::bbm {

class BatchSizer {
 public:
  // Growth cap per step, from GitLab Rails' batch optimizer (it also grows by at most 20%):
  // a fast streak cannot jump straight into a batch that blows the target.
  static constexpr double kMaxGrowth = 1.2;
  // Weight of the newest job in the smoothed time per row: recent enough to follow load
  // changes, smooth enough that one slow batch (a checkpoint, a cold cache) does not halve it.
  static constexpr double kSmoothing = 0.3;

  BatchSizer(std::int64_t initial, std::int64_t min, std::int64_t max, double target_seconds);
  [[nodiscard]] std::int64_t current() const noexcept { return current_; }
  // A job of `rows` rows (its batch size) took `seconds`.
  void observe(std::int64_t rows, double seconds);
  void set_bounds(std::int64_t min, std::int64_t max, double target_seconds);

 private:
  std::int64_t current_;
  std::int64_t min_;
  std::int64_t max_;
  double target_;
  std::optional<double> seconds_per_row_;
};

// One sizer per migration, shared by the workers of a process.
class BatchSizes {
 public:
  BatchSizes(bool adaptive, double target_seconds) : adaptive_(adaptive), target_(target_seconds) {}
  // The size for the migration's next job: its batch_size when adaptive sizing is off.
  [[nodiscard]] std::int64_t next(const Bbm& m);
  void observe(const Bbm& m, std::int64_t rows, double seconds);
  void configure(bool adaptive, double target_seconds);

 private:
  BatchSizer& sizer(const Bbm& m);
  bool adaptive_;
  double target_;
  std::map<std::int64_t, BatchSizer> sizers_;
};

}  // namespace bbmd::bbm
