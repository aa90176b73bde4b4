// sd_notify wrappers and the watchdog ping loop.
#include "cli/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace bbmd::cli {

void notify_ready() { sd_notify(0, "READY=1\nSTATUS=serving"); }
void notify_stopping() { sd_notify(0, "STOPPING=1\nSTATUS=stopping"); }
void notify_reloading() { sd_notify(0, "RELOADING=1"); }
void notify_reloaded() { sd_notify(0, "READY=1\nSTATUS=serving"); }

boost::asio::awaitable<void> watchdog_loop(boost::asio::steady_timer& timer) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) co_return;
  for (;;) {
    sd_notify(0, "WATCHDOG=1");
    timer.expires_after(std::chrono::microseconds(usec / 2));
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
  }
}

}  // namespace bbmd::cli
