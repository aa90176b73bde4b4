#pragma once
// systemd notifications (READY, STOPPING, RELOADING, WATCHDOG); no-ops outside systemd.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace bbmd::cli {

void notify_ready();
void notify_stopping();
void notify_reloading();
void notify_reloaded();
// Pings the watchdog at half the interval systemd asked for, until the timer is cancelled.
boost::asio::awaitable<void> watchdog_loop(boost::asio::steady_timer& timer);

}  // namespace bbmd::cli
