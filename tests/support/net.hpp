#pragma once
// Loopback ports for servers the tests start themselves (PostgreSQL clusters, PgBouncer).

namespace bbmd::test {

// A loopback TCP port that was free a moment ago. Another process may take it before the
// caller's server binds it: callers retry their start on a new port.
int free_loopback_port();

}  // namespace bbmd::test
