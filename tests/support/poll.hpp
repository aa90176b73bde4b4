#pragma once
// poll_until: wait for a condition with a deadline, so tests never sleep blindly to synchronise.
#include <chrono>
#include <thread>

namespace bbmd::test {

// Calls cond() every `step` until it returns true (-> true) or `timeout` passes (-> false).
// Usage: REQUIRE(poll_until([&] { return db.count("SELECT count(*) FROM jobs") == 3; }, 10s));
template <class F>
bool poll_until(F cond, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

}  // namespace bbmd::test
