#pragma once
// Log lines for journald: when systemd connects stderr to the journal (JOURNAL_STREAM names that
// stream's device and inode), each line starts with "<N>", the syslog priority of its level,
// which journald reads and strips (SyslogLevelPrefix, on by default); `journalctl -p warning`
// then filters bbmd's lines. Anywhere else, lines go to stderr as they are.
#include <spdlog/sinks/sink.h>

#include <cstdio>
#include <memory>
#include <string_view>

namespace bbmd::log {

// True when `journal_stream` ("<dev>:<ino>", from JOURNAL_STREAM; null when unset) names the
// file open at `fd`: systemd sets it for its service, and a child that inherits the variable but
// not the stream must not prefix.
[[nodiscard]] bool is_journal_stream(const char* journal_stream, int fd) noexcept;

// The syslog priority journald files a line of this level under: debug 7, info 6, warning 4,
// error 3, critical 2.
[[nodiscard]] int syslog_priority(spdlog::level::level_enum level) noexcept;

// A sink that writes each formatted line to `out`, prefixed with "<N>".
[[nodiscard]] std::shared_ptr<spdlog::sinks::sink> journal_prefix_sink(std::FILE* out);

// The process's stderr sink: journal_prefix_sink when stderr is the journal, plain otherwise.
[[nodiscard]] std::shared_ptr<spdlog::sinks::sink> stderr_sink();

}  // namespace bbmd::log
