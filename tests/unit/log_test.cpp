// Structured log lines: exact JSON keys, text shape, level filtering, rejected names.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>
#include <regex>
#include <sstream>
#include <string>

#include "log/log.hpp"

namespace lg = bbmd::log;
using nlohmann::json;

namespace {

const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");

// Runs `fn` with file descriptor 2 pointed at a temporary file and returns what was written.
std::string capture_stderr(const std::function<void()>& fn) {
  std::fflush(stderr);
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  const int saved = ::dup(2);
  ::dup2(::fileno(tmp), 2);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::rewind(tmp);
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Restores the process-wide defaults so test order does not matter.
struct ResetLogging {
  ~ResetLogging() { lg::setup("info", "json"); }
};

}  // namespace

TEST_CASE("JSON lines carry exactly the standard keys plus the fields", "[log]") {
  const std::string line = lg::format_line(
      "json", lg::Level::warn, lg::kWorkerComponent, "job failed",
      {{lg::kBbmId, 7}, {lg::kJobBatchSize, 1000}, {lg::kError, "boom \"quoted\""}, {"ok", true}});
  CHECK(line.find('\n') == std::string::npos);
  CHECK_THAT(line, Catch::StartsWith("{\"time\":\""));
  const json j = json::parse(line);
  CHECK(j.size() == 8);
  CHECK(std::regex_match(j.at("time").get<std::string>(), kTime));
  CHECK(j.at("level") == "warn");
  CHECK(j.at("msg") == "job failed");
  CHECK(j.at("component") == "registry.bbm.Worker");
  CHECK(j.at("bbm_id") == 7);
  CHECK(j.at("job_batch_size") == 1000);
  CHECK(j.at("error") == "boom \"quoted\"");
  CHECK(j.at("ok") == true);
  // time, level, msg, component come first, in that order, for people reading raw lines.
  CHECK(line.find("\"level\"") < line.find("\"msg\""));
  CHECK(line.find("\"msg\"") < line.find("\"component\""));
  CHECK(line.find("\"component\"") < line.find("\"bbm_id\""));
}

TEST_CASE("fields cannot override the standard keys", "[log]") {
  const json j = json::parse(lg::format_line("json", lg::Level::info, "c", "real",
                                             {{"msg", "fake"}, {"level", "error"}, {"time", "t"},
                                              {"component", "x"}, {"n", 1}}));
  CHECK(j.size() == 5);
  CHECK(j.at("msg") == "real");
  CHECK(j.at("level") == "info");
  CHECK(j.at("component") == "c");
  CHECK(j.at("time") != "t");
}

TEST_CASE("every level has its name", "[log]") {
  const std::pair<lg::Level, const char*> levels[] = {{lg::Level::trace, "trace"}, {lg::Level::debug, "debug"},
                                                       {lg::Level::info, "info"},   {lg::Level::warn, "warn"},
                                                       {lg::Level::error, "error"}};
  for (const auto& [level, name] : levels) {
    CHECK(json::parse(lg::format_line("json", level, "c", "m", json::object())).at("level") == name);
  }
}

TEST_CASE("odd input still renders one valid line", "[log]") {
  const std::string bad_utf8 = "bad \xff byte";
  const json j = json::parse(lg::format_line("json", lg::Level::error, "c", bad_utf8, {{"detail", bad_utf8}}));
  CHECK(j.at("level") == "error");
  CHECK(lg::format_line("json", lg::Level::info, "c", "m", json()).back() == '}');
  CHECK(json::parse(lg::format_line("json", lg::Level::info, "c", "m", json::array({1, 2}))).at("fields") ==
        json::array({1, 2}));
  CHECK(lg::format_line("text", lg::Level::info, "c", "two\nlines", json::object()).find('\n') == std::string::npos);
}

TEST_CASE("text lines are key=value with quoting where needed", "[log]") {
  const std::string line = lg::format_line("text", lg::Level::info, lg::kWorkerComponent, "batch done",
                                           {{lg::kBbmName, "copy ids"}, {lg::kRows, 42}, {"flag", false},
                                            {"path", "/a=b"}, {"empty", ""}, {"q", "say \"hi\""}});
  const std::regex shape(
      R"(time=\S+Z level=info component=registry\.bbm\.Worker msg="batch done" )"
      R"(bbm_name="copy ids" empty="" flag=false path="/a=b" q="say \\"hi\\"" rows_affected=42)");
  INFO(line);
  CHECK(std::regex_match(line, shape));
  std::smatch m;
  REQUIRE(std::regex_search(line, m, std::regex(R"(^time=(\S+) )")));
  CHECK(std::regex_match(m[1].str(), kTime));
}

TEST_CASE("the level is checked before a line is written", "[log]") {
  ResetLogging reset;
  const lg::Logger logger(lg::kSyncWorkerComponent);
  const std::string out = capture_stderr([&] {
    lg::setup("warn", "json");
    logger.debug("hidden debug");
    logger.info("hidden info");
    logger.warn("shown warn", {{lg::kJobId, 3}});
    logger.error("shown error");
    lg::set_level("debug");
    logger.log(lg::Level::trace, "hidden trace");
    logger.debug("shown debug");
  });
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 3);
  const json first = json::parse(lines[0]);
  CHECK(first.at("msg") == "shown warn");
  CHECK(first.at("component") == "registry.bbm.SyncWorker");
  CHECK(first.at("job_id") == 3);
  CHECK(json::parse(lines[1]).at("level") == "error");
  CHECK(json::parse(lines[2]).at("msg") == "shown debug");
}

TEST_CASE("setup switches the formatter", "[log]") {
  ResetLogging reset;
  const std::string out = capture_stderr([] {
    lg::setup("info", "text");
    lg::Logger("test").info("hello there", {{"k", "v"}});
  });
  CHECK_THAT(out, Catch::Contains(" level=info component=test msg=\"hello there\" k=v\n"));
  CHECK_THAT(out, Catch::StartsWith("time="));
}

TEST_CASE("unknown level and formatter names are rejected", "[log]") {
  ResetLogging reset;
  CHECK_THROWS_AS(lg::setup("verbose", "json"), std::invalid_argument);
  CHECK_THROWS_WITH(lg::setup("info", "xml"), Catch::Contains("xml"));
  CHECK_THROWS_AS(lg::set_level("INFO"), std::invalid_argument);
  CHECK_THROWS_AS(lg::format_line("logfmt", lg::Level::info, "c", "m", json::object()), std::invalid_argument);
  // A rejected setup changes nothing: info is still the threshold and JSON the format.
  const std::string out = capture_stderr([] {
    CHECK_THROWS(lg::setup("debug", "xml"));
    lg::Logger("c").debug("hidden");
    lg::Logger("c").info("shown");
  });
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 1);
  CHECK(json::parse(lines[0]).at("msg") == "shown");
}

TEST_CASE("configured fields (log.fields) join every line, and the caller's and the standard keys win", "[log]") {
  struct ClearFields {
    ~ClearFields() { lg::set_fields(json::object()); }
  } clear;
  lg::set_fields({{"service", "registry"}, {"environment", "production"}, {"msg", "not mine"}, {"bbm_id", 0}});
  const json j = json::parse(lg::format_line("json", lg::Level::info, lg::kWorkerComponent, "job done",
                                             {{lg::kBbmId, 7}, {lg::kRows, 10}}));
  CHECK(j == json{{"time", j.at("time")}, {"level", "info"}, {"msg", "job done"}, {"component", lg::kWorkerComponent},
                  {"bbm_id", 7}, {"rows_affected", 10}, {"service", "registry"}, {"environment", "production"}});
  CHECK_THAT(lg::format_line("text", lg::Level::info, "c", "m", json::object()),
             Catch::EndsWith(" msg=\"m\" bbm_id=0 environment=production service=registry"));
  lg::set_fields(json::object());
  CHECK(json::parse(lg::format_line("json", lg::Level::info, "c", "m", json::object())).size() == 4);
}
