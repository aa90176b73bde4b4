#pragma once
// The debug listener's http.debug.addr ("host:port", "[v6]:port", ":port"): parsed to an address
// literal and port, or rejected with a reason. What parses prints back to text that parses alike.
#include "fuzz/entry.hpp"
#include "net/listen_address.hpp"

namespace bbmd::fuzz {

inline std::string listen_address(std::string_view input) {
  net::ListenAddress parsed;
  try {
    parsed = net::parse_listen_address(input);
  } catch (const std::invalid_argument& e) {
    return rejected(e.what());
  }
  const bool v6 = parsed.ip.find(':') != std::string::npos;
  const std::string printed = (v6 ? "[" + parsed.ip + "]" : parsed.ip) + ":" + std::to_string(parsed.port);
  const auto again = net::parse_listen_address(printed);
  require(again.ip == parsed.ip && again.port == parsed.port, printed + " does not parse back alike");
  return "ok: " + printed;
}

}  // namespace bbmd::fuzz
