// Adaptive batch sizing (see batch_size.hpp).
#include "bbm/run/batch_sizer.hpp"

#include <algorithm>
#include <cmath>

namespace bbmd::bbm {

namespace {

struct Bounds {
  std::int64_t min;
  std::int64_t max;
};

// NULL bounds: between 1 and what the operator queued; a max below the min is lifted to it.
Bounds bounds_of(const Bbm& m) {
  const std::int64_t configured = std::max<std::int64_t>(1, m.batch_size);
  const std::int64_t min = std::max<std::int64_t>(1, m.min_batch_size.value_or(1));
  const std::int64_t max = std::max(min, m.max_batch_size.value_or(configured));
  return {min, max};
}

}  // namespace

BatchSizer::BatchSizer(std::int64_t initial, std::int64_t min, std::int64_t max, double target_seconds)
    : current_(std::clamp(initial, min, max)), min_(min), max_(max), target_(target_seconds) {}

void BatchSizer::set_bounds(std::int64_t min, std::int64_t max, double target_seconds) {
  min_ = min;
  max_ = max;
  target_ = target_seconds;
  current_ = std::clamp(current_, min_, max_);
}

void BatchSizer::observe(std::int64_t rows, double seconds) {
  if (rows <= 0 || seconds < 0) return;
  const double per_row = seconds / static_cast<double>(rows);
  seconds_per_row_ = seconds_per_row_ ? kSmoothing * per_row + (1 - kSmoothing) * *seconds_per_row_ : per_row;
  const double ideal = *seconds_per_row_ > 0 ? target_ / *seconds_per_row_ : static_cast<double>(max_);
  const double grown = std::min(ideal, static_cast<double>(current_) * kMaxGrowth);
  current_ = std::clamp(static_cast<std::int64_t>(std::floor(grown)), min_, max_);
}

std::int64_t BatchSizes::next(const Bbm& m) {
  if (!adaptive_) return std::max<std::int64_t>(1, m.batch_size);
  return sizer(m).current();
}

void BatchSizes::observe(const Bbm& m, std::int64_t rows, double seconds) {
  if (adaptive_) sizer(m).observe(rows, seconds);
}

void BatchSizes::configure(bool adaptive, double target_seconds) {
  adaptive_ = adaptive;
  target_ = target_seconds;
}

BatchSizer& BatchSizes::sizer(const Bbm& m) {
  const auto b = bounds_of(m);
  auto it = sizers_.find(m.id);
  if (it == sizers_.end()) {
    it = sizers_.emplace(m.id, BatchSizer(m.batch_size, b.min, b.max, target_)).first;
  } else {
    it->second.set_bounds(b.min, b.max, target_);  // an operator may have edited them
  }
  return it->second;
}

}  // namespace bbmd::bbm
