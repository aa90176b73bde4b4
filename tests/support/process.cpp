// Child processes of the real bbmd binary for end-to-end tests, started with Boost.Process.
#include "support/process.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/handles.hpp>
#include <boost/process/io.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/poll.hpp"

namespace bp = boost::process;

namespace bbmd::test {

namespace {

// `bbmd <args>` with stdin from /dev/null and stdout and stderr written to the two files; its
// environment is the test's plus `env`. It inherits no other descriptor of the test (sockets of
// its database connections, listeners): limit_handles closes them in the child.
bp::child spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                const std::filesystem::path& out, const std::filesystem::path& err) {
  bp::environment environment = boost::this_process::environment();  // a copy: the test's own stays as is
  for (const auto& [name, value] : env) environment[name] = value;
  return bp::child(bp::exe = BBMD_BINARY, bp::args = args, bp::std_in < bp::null, bp::std_out > out,
                   bp::std_err > err, environment, bp::limit_handles);
}

// The exit code once `child` has ended (-1 if a signal ended it), else nullopt; never blocks.
std::optional<int> exit_code_of(bp::child& child) {
  if (child.running()) return std::nullopt;
  const int status = child.native_exit_code();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::filesystem::path make_temp_dir(const char* prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace

struct BbmdProcess::Child {
  bp::child process;
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TempDir::TempDir() : path_(make_temp_dir("bbmd-test")) {}

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
  auto child = spawn(args, env, dir.path() / "out", dir.path() / "err");
  std::optional<int> code;
  const bool done = poll_until([&] { return (code = exit_code_of(child)).has_value(); }, timeout,
                               std::chrono::milliseconds(10));
  if (!done) child.terminate();  // SIGKILL, then reaps it
  return {done ? *code : -1, read_text(dir.path() / "out"), read_text(dir.path() / "err")};
}

BbmdProcess::BbmdProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
    : dir_(make_temp_dir("bbmd-proc")),
      child_(std::make_unique<Child>(Child{spawn(args, env, dir_ / "out", dir_ / "err")})) {}

BbmdProcess::~BbmdProcess() {
  if (running()) child_->process.terminate();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

pid_t BbmdProcess::pid() const noexcept { return child_->process.id(); }

void BbmdProcess::signal(int sig) const { ::kill(pid(), sig); }

bool BbmdProcess::running() {
  if (!exit_code_) exit_code_ = exit_code_of(child_->process);
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
