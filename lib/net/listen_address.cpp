// Parsing of a listener's "host:port" setting (http.debug.addr); see listen_address.hpp.
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <stdexcept>
#include <string>

#include "net/listen_address.hpp"

namespace bbmd::net {
namespace {

[[noreturn]] void bad(std::string_view addr, std::string_view why) {
  throw std::invalid_argument("invalid listen address \"" + std::string(addr) + "\": " + std::string(why));
}

unsigned short parse_port(std::string_view addr, std::string_view text) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value > 65535) bad(addr, "port must be 0-65535");
  return static_cast<unsigned short>(value);
}

}  // namespace

ListenAddress parse_listen_address(std::string_view addr) {
  std::string_view host;
  std::string_view port;
  if (addr.starts_with('[')) {
    const auto close = addr.find(']');
    if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
      bad(addr, "expected [v6-address]:port");
    }
    host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec) bad(addr, "not an IPv6 address");
    return {ip.to_string(), parse_port(addr, port)};
  }
  const auto colon = addr.rfind(':');
  if (colon == std::string_view::npos) bad(addr, "expected host:port");
  host = addr.substr(0, colon);
  port = addr.substr(colon + 1);
  if (host.find(':') != std::string_view::npos) bad(addr, "write IPv6 addresses in brackets, e.g. [::1]:5001");
  // Empty host is the Go convention for "every interface"; it must be written out, never a default.
  if (host.empty()) return {"0.0.0.0", parse_port(addr, port)};
  if (host == "localhost") return {"127.0.0.1", parse_port(addr, port)};
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address_v4(std::string(host), ec);
  // No name resolution: a debug listener bound to whatever DNS says today is a surprise.
  if (ec) bad(addr, "host must be an IP address or localhost");
  return {ip.to_string(), parse_port(addr, port)};
}

}  // namespace bbmd::net
