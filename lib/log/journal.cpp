// The stderr sink, with syslog priority prefixes when stderr is the journal (see journal.hpp).
#include "log/journal.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdlib>
#include <mutex>

namespace bbmd::log {
namespace {

class JournalPrefixSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournalPrefixSink(std::FILE* out) : out_(out) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    fmt::format_to(std::back_inserter(line), "<{}>", syslog_priority(msg.level));
    formatter_->format(msg, line);  // the line and its end-of-line
    std::fwrite(line.data(), 1, line.size(), out_);
  }
  void flush_() override { std::fflush(out_); }

 private:
  std::FILE* out_;
};

}  // namespace

bool is_journal_stream(const char* journal_stream, int fd) noexcept {
  if (journal_stream == nullptr) return false;
  std::uintmax_t dev = 0, ino = 0;
  char tail = 0;
  if (std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX "%c", &dev, &ino, &tail) != 2) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<std::uintmax_t>(st.st_dev) == dev && static_cast<std::uintmax_t>(st.st_ino) == ino;
}

int syslog_priority(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    case spdlog::level::err: return 3;
    case spdlog::level::critical: return 2;
    default: return 6;
  }
}

std::shared_ptr<spdlog::sinks::sink> journal_prefix_sink(std::FILE* out) {
  return std::make_shared<JournalPrefixSink>(out);
}

std::shared_ptr<spdlog::sinks::sink> stderr_sink() {
  if (is_journal_stream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) return journal_prefix_sink(stderr);
  return std::make_shared<spdlog::sinks::stderr_sink_mt>();
}

}  // namespace bbmd::log
