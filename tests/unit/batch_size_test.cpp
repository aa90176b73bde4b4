// Adaptive batch sizing: convergence to the target, the 20% growth cap, bounds.
#include <catch2/catch.hpp>

#include "bbm/run/batch_sizer.hpp"

using bbmd::bbm::BatchSizer;
using bbmd::bbm::BatchSizes;
using bbmd::bbm::Bbm;

TEST_CASE("batch size grows by at most 20% a step and settles at the target", "[batch_size]") {
  // 1 ms a row, target 1 s: the ideal size is 1000.
  BatchSizer sizer(100, 1, 5000, 1.0);
  std::vector<std::int64_t> sizes{sizer.current()};
  for (int i = 0; i < 30; ++i) {
    sizer.observe(sizer.current(), sizer.current() * 0.001);
    sizes.push_back(sizer.current());
  }
  for (std::size_t i = 1; i < sizes.size(); ++i) {
    CHECK(sizes[i] <= static_cast<std::int64_t>(sizes[i - 1] * 1.2));
  }
  CHECK(sizes[1] == 120);
  CHECK(sizes.back() == 1000);
}

TEST_CASE("batch size shrinks at once when batches get slow", "[batch_size]") {
  BatchSizer sizer(1000, 1, 5000, 1.0);
  sizer.observe(1000, 10.0);  // 10 ms a row now: ideal 100, smoothed first sample is exact
  CHECK(sizer.current() == 100);
}

TEST_CASE("batch size stays within the migration's bounds", "[batch_size]") {
  BatchSizer sizer(100, 50, 150, 1.0);
  for (int i = 0; i < 20; ++i) sizer.observe(sizer.current(), 0.0001);
  CHECK(sizer.current() == 150);
  for (int i = 0; i < 20; ++i) sizer.observe(sizer.current(), 100.0);
  CHECK(sizer.current() == 50);
}

TEST_CASE("without adaptive sizing every job uses batch_size: bounds default to 1..batch_size", "[batch_size]") {
  Bbm m;
  m.id = 1;
  m.batch_size = 500;
  BatchSizes fixed(false, 1.0);
  fixed.observe(m, 500, 50.0);
  CHECK(fixed.next(m) == 500);

  BatchSizes adaptive(true, 1.0);
  CHECK(adaptive.next(m) == 500);
  for (int i = 0; i < 10; ++i) adaptive.observe(m, adaptive.next(m), 0.001);
  CHECK(adaptive.next(m) == 500);  // never past batch_size without max_batch_size
  m.max_batch_size = 800;
  for (int i = 0; i < 10; ++i) adaptive.observe(m, adaptive.next(m), 0.001);
  CHECK(adaptive.next(m) == 800);
}
