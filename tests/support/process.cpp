// Child processes of the real bbmd binary for end-to-end tests.
#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/poll.hpp"

namespace bbmd::test {

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::filesystem::path& out, const std::filesystem::path& err) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    static std::string binary = BBMD_BINARY;
    argv.push_back(binary.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

std::optional<int> reap(pid_t pid, bool block) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, block ? 0 : WNOHANG);
  if (r != pid) return std::nullopt;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "bbmd-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const {
  const auto p = path_ / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << content;
  return p;
}

CommandResult run_bbmd(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                       const std::map<std::string, std::string>& env) {
  TempDir dir;
  const pid_t pid = spawn(args, env, dir.path() / "out", dir.path() / "err");
  std::optional<int> code;
  const bool done = poll_until([&] { return (code = reap(pid, false)).has_value(); }, timeout,
                               std::chrono::milliseconds(10));
  if (!done) {
    kill(pid, SIGKILL);
    reap(pid, true);
  }
  return {done ? *code : -1, read_text(dir.path() / "out"), read_text(dir.path() / "err")};
}

BbmdProcess::BbmdProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  std::string pattern = (std::filesystem::temp_directory_path() / "bbmd-proc-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  pid_ = spawn(args, env, dir_ / "out", dir_ / "err");
}

BbmdProcess::~BbmdProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    reap(pid_, true);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void BbmdProcess::signal(int sig) const { kill(pid_, sig); }

bool BbmdProcess::running() {
  if (exit_code_) return false;
  exit_code_ = reap(pid_, false);
  return !exit_code_;
}

std::optional<int> BbmdProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  poll_until([&] { return !running(); }, timeout, std::chrono::milliseconds(10));
  return exit_code_;
}

std::string BbmdProcess::out() const { return read_text(dir_ / "out"); }
std::string BbmdProcess::err() const { return read_text(dir_ / "err"); }

bool BbmdProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) {
  return poll_until([&] { return err().find(needle) != std::string::npos; }, timeout);
}

}  // namespace bbmd::test
