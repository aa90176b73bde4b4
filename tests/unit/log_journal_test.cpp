// Lines for journald: the stream check against JOURNAL_STREAM and the "<N>" priority prefix.
#include <spdlog/logger.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "log/journal.hpp"

namespace {

std::string dev_ino(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[256];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  return out;
}

}  // namespace

TEST_CASE("JOURNAL_STREAM counts only when it names the very stream", "[log]") {
  std::FILE* file = std::tmpfile();
  std::FILE* other = std::tmpfile();
  REQUIRE(file);
  REQUIRE(other);
  const int fd = fileno(file);
  CHECK(bbmd::log::is_journal_stream(dev_ino(fd).c_str(), fd));
  CHECK_FALSE(bbmd::log::is_journal_stream(dev_ino(fileno(other)).c_str(), fd));  // inherited, not ours
  CHECK_FALSE(bbmd::log::is_journal_stream(nullptr, fd));
  CHECK_FALSE(bbmd::log::is_journal_stream("", fd));
  CHECK_FALSE(bbmd::log::is_journal_stream("garbage", fd));
  CHECK_FALSE(bbmd::log::is_journal_stream((dev_ino(fd) + "x").c_str(), fd));
  std::fclose(other);
  std::fclose(file);
}

TEST_CASE("the journal sink prefixes each line with its level's syslog priority", "[log]") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  spdlog::logger logger("journal-test", bbmd::log::journal_prefix_sink(out));
  logger.set_pattern("%v");
  logger.set_level(spdlog::level::trace);
  logger.debug("{\"level\":\"debug\"}");
  logger.info("{\"level\":\"info\"}");
  logger.warn("{\"level\":\"warn\"}");
  logger.error("{\"level\":\"error\"}");
  logger.critical("{\"level\":\"critical\"}");
  logger.flush();
  CHECK(contents(out) ==
        "<7>{\"level\":\"debug\"}\n<6>{\"level\":\"info\"}\n<4>{\"level\":\"warn\"}\n<3>{\"level\":\"error\"}\n"
        "<2>{\"level\":\"critical\"}\n");
  std::fclose(out);
}
