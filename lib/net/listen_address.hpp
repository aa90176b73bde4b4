#pragma once
// A listener's "host:port" setting, parsed: shared by the config's validation and the HTTP
// listener, so that neither layer has to include the other.
#include <string>
#include <string_view>

namespace bbmd::net {

// "host:port" as the listener reads it: host is an IPv4 literal, "[v6]" or "localhost"
// (127.0.0.1); an empty host (":5001") means every interface. Throws std::invalid_argument.
struct ListenAddress {
  std::string ip;  // an address literal, e.g. "127.0.0.1", "::1", "0.0.0.0"
  unsigned short port = 0;
};
[[nodiscard]] ListenAddress parse_listen_address(std::string_view addr);

}  // namespace bbmd::net
