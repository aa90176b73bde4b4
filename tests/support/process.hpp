#pragma once
// Runs the real `bbmd` binary from tests (with Boost.Process): one-shot commands with captured
// output, and long-running `serve` processes that tests signal, kill and wait for.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bbmd::test {

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs `bbmd <args...>` to completion (killed after `timeout`).
CommandResult run_bbmd(const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(120),
                       const std::map<std::string, std::string>& env = {});

class BbmdProcess {
 public:
  explicit BbmdProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});
  ~BbmdProcess();  // SIGKILL if still running
  BbmdProcess(const BbmdProcess&) = delete;
  BbmdProcess& operator=(const BbmdProcess&) = delete;

  [[nodiscard]] pid_t pid() const noexcept;
  void signal(int sig) const;
  // The exit code once it exits within `timeout` (-1 if killed by a signal), else nullopt.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  [[nodiscard]] bool running();
  [[nodiscard]] std::string out() const;
  [[nodiscard]] std::string err() const;
  // Waits until stderr contains `needle`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout);

 private:
  struct Child;  // the Boost.Process child, kept out of this header
  std::filesystem::path dir_;
  std::unique_ptr<Child> child_;
  std::optional<int> exit_code_;
};

// A fresh temporary folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path& path);

}  // namespace bbmd::test
