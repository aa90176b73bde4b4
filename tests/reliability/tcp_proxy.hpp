#pragma once
// A TCP proxy between bbmd and PostgreSQL that forwards, drops or blackholes connections.
//
//   TcpProxy proxy("127.0.0.1", cluster.port());   // bbmd connects to proxy.host():proxy.port()
//   proxy.drop();        // every open connection closed on both sides; new ones are forwarded
//   proxy.blackhole();   // nothing passes any more, no FIN, no RST: peers only see silence
//   proxy.heal();        // forwards again; connections caught in the blackhole are closed
//   proxy.retarget("127.0.0.1", standby.port());  // a failover's moved address: open connections
//                                                  // closed, new ones go to the new server
//
// A proxy alone cannot blackhole: its kernel would still acknowledge every byte and keepalive
// probe, so a peer could never notice. So the proxy listens in a network namespace of its own,
// reached over a veth pair, and a blackhole also points both ends' neighbour entries at a MAC
// address nobody has: packets in either direction vanish silently, as on a dead network path.
// Needs root (CAP_NET_ADMIN) and iproute2's `ip`.
#include <memory>
#include <string>

namespace bbmd::reliability {

class TcpProxy {
 public:
  // Creates the namespace and starts forwarding; throws std::runtime_error naming what failed.
  TcpProxy(std::string upstream_host, int upstream_port);
  ~TcpProxy();  // stops, closes everything, removes the namespace
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  [[nodiscard]] const std::string& host() const noexcept;  // the address bbmd connects to
  [[nodiscard]] int port() const noexcept;

  void drop();       // returns once every connection open at the call is closed on both sides
  void blackhole();  // returns once the path is silent and the proxy forwards nothing
  void heal();       // returns once the path carries packets again
  void retarget(const std::string& upstream_host, int upstream_port);  // returns once done

  // Connections forwarded so far (open or not): a reconnect through the proxy shows here.
  [[nodiscard]] long accepted() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bbmd::reliability
