// TcpProxy: a poll() loop on its own thread, listening inside a private network namespace whose
// veth link can be silenced (see tcp_proxy.hpp).
#include "reliability/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <condition_variable>
#include <cstring>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bp = boost::process;

namespace bbmd::reliability {
namespace {

constexpr const char* kIp = "/usr/sbin/ip";
// A locally administered MAC no interface has: frames sent to it are dropped by the receiver.
constexpr const char* kNowhereMac = "02:00:00:00:00:01";
// A forwarding write that cannot finish in this time (peer gone silent) closes the pair
// instead of stalling the loop.
constexpr int kSendTimeoutSeconds = 2;

// Runs `ip <args>`; throws with its stderr when it fails.
void ip(const std::vector<std::string>& args) {
  bp::ipstream err_stream;
  bp::child child(bp::exe = kIp, bp::args = args, bp::std_err > err_stream);
  const std::string err((std::istreambuf_iterator<char>(err_stream)), std::istreambuf_iterator<char>());
  child.wait();
  if (child.exit_code() != 0) {
    std::string cmd = "ip";
    for (const auto& a : args) cmd += " " + a;
    throw std::runtime_error("tcp proxy: `" + cmd + "` failed (needs root and iproute2): " + err);
  }
}

// A network namespace joined to ours by a veth pair on a /30 of 100.64.0.0/10 (shared address
// space, unlikely to clash with real routes), unique per process and proxy.
class Link {
 public:
  Link() {
    static std::atomic<int> counter{0};
    const int n = counter++;
    const long pid = getpid();
    const std::string id = std::to_string(pid) + "c" + std::to_string(n);
    ns_ = "bbmd-faults-" + id;
    host_if_ = "bbf" + id + "h";
    ns_if_ = "bbf" + id + "n";
    const long subnet = (pid * 16 + n) % (1L << 20);
    const std::string prefix =
        "100." + std::to_string(64 + (subnet >> 14)) + "." + std::to_string((subnet >> 6) & 255) + ".";
    host_addr_ = prefix + std::to_string((subnet & 63) * 4 + 1);
    ns_addr_ = prefix + std::to_string((subnet & 63) * 4 + 2);
    ip({"netns", "add", ns_});
    try {
      ip({"link", "add", host_if_, "type", "veth", "peer", "name", ns_if_, "netns", ns_});
      ip({"addr", "add", host_addr_ + "/30", "dev", host_if_});
      ip({"link", "set", host_if_, "up"});
      ip({"-n", ns_, "addr", "add", ns_addr_ + "/30", "dev", ns_if_});
      ip({"-n", ns_, "link", "set", ns_if_, "up"});
    } catch (...) {
      remove();
      throw;
    }
  }
  ~Link() { remove(); }
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  [[nodiscard]] const std::string& ns_addr() const noexcept { return ns_addr_; }
  [[nodiscard]] std::string ns_path() const { return "/run/netns/" + ns_; }

  // Both ends send to a MAC nobody has (silent), or resolve each other again (heard).
  void set_silent(bool silent) {
    if (silent) {
      ip({"neigh", "replace", ns_addr_, "lladdr", kNowhereMac, "dev", host_if_, "nud", "permanent"});
      ip({"-n", ns_, "neigh", "replace", host_addr_, "lladdr", kNowhereMac, "dev", ns_if_, "nud", "permanent"});
    } else {
      ip({"neigh", "del", ns_addr_, "dev", host_if_});
      ip({"-n", ns_, "neigh", "del", host_addr_, "dev", ns_if_});
    }
  }

 private:
  void remove() noexcept {
    try {
      ip({"netns", "del", ns_});  // takes its veth end, and with it ours
    } catch (...) {
      // Best effort in teardown; a leftover namespace is named for this process.
    }
  }
  std::string ns_, host_if_, ns_if_, host_addr_, ns_addr_;
};

sockaddr_in ipv4(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    throw std::runtime_error("tcp proxy: not an IPv4 address: " + host);
  }
  return a;
}

// A listening socket created inside the namespace (a socket keeps the namespace it was made in,
// so only this short-lived thread ever joins it).
int listen_in(const std::string& ns_path, const std::string& addr, int& port) {
  int fd = -1;
  std::string error;
  std::thread([&] {
    const int ns = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
      error = "cannot join " + ns_path + ": " + std::strerror(errno);
      if (ns >= 0) close(ns);
      return;
    }
    close(ns);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = ipv4(addr, 0);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      error = std::string("cannot listen: ") + std::strerror(errno);
      close(fd);
      fd = -1;
      return;
    }
    port = ntohs(a.sin_port);
  }).join();
  if (fd < 0) throw std::runtime_error("tcp proxy: " + error);
  return fd;
}

void tune(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const timeval timeout{kSendTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

enum class Command { none, drop, stop_forwarding, heal, retarget, quit };

struct Pair {
  int client;
  int server;
};

}  // namespace

struct TcpProxy::Impl {
  sockaddr_in upstream{};
  sockaddr_in next_upstream{};  // set by retarget() before it hands over the command
  Link link;
  std::string host;
  int port = 0;
  int listen_fd = -1;
  int wake[2] = {-1, -1};
  std::atomic<long> accepted{0};

  std::mutex mu;
  std::condition_variable done;
  Command pending = Command::none;
  std::thread loop_thread;

  // Loop-thread state.
  std::vector<Pair> pairs;
  bool forwarding = true;

  // Hands a command to the loop and waits until it has been carried out.
  void command(Command c) {
    std::unique_lock lock(mu);
    pending = c;
    const char byte = 1;
    (void)!write(wake[1], &byte, 1);
    done.wait(lock, [&] { return pending == Command::none; });
  }

  void close_all() {
    for (const auto& p : pairs) {
      close(p.client);
      close(p.server);
    }
    pairs.clear();
  }

  // Runs the pending command; false once told to quit.
  bool carry_out() {
    char drain[64];
    (void)!read(wake[0], drain, sizeof drain);
    std::lock_guard lock(mu);
    const Command c = pending;
    if (c == Command::drop || c == Command::heal || c == Command::retarget || c == Command::quit) close_all();
    if (c == Command::retarget) upstream = next_upstream;
    if (c == Command::stop_forwarding) forwarding = false;
    if (c == Command::heal) forwarding = true;
    pending = Command::none;
    done.notify_all();
    return c != Command::quit;
  }

  void accept_one() {
    const int client = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(server, reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream) != 0) {
      close(server);
      close(client);  // the server is down: the client sees the connection refused, as without us
      return;
    }
    tune(client);
    tune(server);
    pairs.push_back(Pair{client, server});
    ++accepted;
  }

  // Copies what one side sent to the other; false when the pair is finished.
  static bool pass(int from, int to) {
    char buf[16384];
    const ssize_t n = recv(from, buf, sizeof buf, 0);
    return n > 0 && send_all(to, buf, static_cast<std::size_t>(n));
  }

  void run() {
    for (;;) {
      std::vector<pollfd> fds{{wake[0], POLLIN, 0}};
      if (forwarding) {
        fds.push_back({listen_fd, POLLIN, 0});
        for (const auto& p : pairs) {
          fds.push_back({p.client, POLLIN, 0});
          fds.push_back({p.server, POLLIN, 0});
        }
      }
      if (poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
      if (fds[0].revents && !carry_out()) return;
      if (!forwarding || fds.size() < 2) continue;
      std::vector<Pair> kept;
      for (std::size_t i = 0; i < pairs.size(); ++i) {
        const Pair p = pairs[i];
        const bool ok = (!fds[2 + 2 * i].revents || pass(p.client, p.server)) &&
                        (!fds[3 + 2 * i].revents || pass(p.server, p.client));
        if (ok) {
          kept.push_back(p);
        } else {
          close(p.client);
          close(p.server);
        }
      }
      pairs = std::move(kept);
      if (fds[1].revents) accept_one();
    }
  }
};

TcpProxy::TcpProxy(std::string upstream_host, int upstream_port) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.upstream = ipv4(upstream_host, upstream_port);
  d.host = d.link.ns_addr();
  d.listen_fd = listen_in(d.link.ns_path(), d.host, d.port);
  if (pipe2(d.wake, O_CLOEXEC) != 0) throw std::runtime_error("tcp proxy: pipe failed");
  d.loop_thread = std::thread([&d] { d.run(); });
}

TcpProxy::~TcpProxy() {
  Impl& d = *impl_;
  d.command(Command::quit);
  d.loop_thread.join();
  close(d.listen_fd);
  close(d.wake[0]);
  close(d.wake[1]);
}

const std::string& TcpProxy::host() const noexcept { return impl_->host; }
int TcpProxy::port() const noexcept { return impl_->port; }
long TcpProxy::accepted() const noexcept { return impl_->accepted; }

void TcpProxy::drop() { impl_->command(Command::drop); }

void TcpProxy::retarget(const std::string& upstream_host, int upstream_port) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->next_upstream = ipv4(upstream_host, upstream_port);
  }
  impl_->command(Command::retarget);
}

void TcpProxy::blackhole() {
  impl_->link.set_silent(true);  // first, so nothing the loop still forwards gets through
  impl_->command(Command::stop_forwarding);
}

void TcpProxy::heal() {
  // The caught connections are dead to bbmd by now; closing their server side ends the
  // sessions (and their open transactions) as the server's own keepalives eventually would.
  impl_->command(Command::heal);
  impl_->link.set_silent(false);
}

}  // namespace bbmd::reliability
