#pragma once
// The typed configuration bbmd runs with. Filled by config/loader.cpp from YAML + REGISTRY_* env.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace bbmd::config {

using Duration = std::chrono::milliseconds;

struct Database {
  std::string host = "localhost";
  int port = 5432;
  std::string user = "postgres";
  std::string password;  // secret: never logged, never printed
  std::string dbname = "registry";
  std::string sslmode = "prefer";
  std::string sslcert;
  std::string sslkey;
  std::string sslrootcert;
  Duration connecttimeout{std::chrono::seconds(5)};
};

struct Pool {
  int maxopen = 4;  // connections per process, workers included
};

struct Backoff {
  Duration initial{std::chrono::milliseconds(250)};
  Duration max{std::chrono::seconds(10)};  // also the idle poll interval: DBA edits show within it
  double multiplier = 2.0;
  double jitter = 0.2;  // +/- fraction applied to every sleep
};

struct Throttle {
  std::string flagfile;  // throttle while this file exists (empty: off)
  std::string query;     // throttle while this SQL returns true (empty: off)
};

struct BackgroundMigrations {
  bool enabled = true;
  Duration jobinterval{0};  // minimum gap between two job starts of one worker
  int maxjobretries = 3;    // total attempts a job gets before its migration fails with code 4
  int workers = 1;
  Duration leaseduration{std::chrono::minutes(5)};
  Duration statementtimeout{std::chrono::minutes(1)};
  Duration locktimeout{std::chrono::seconds(5)};
  Duration shutdowntimeout{std::chrono::seconds(30)};
  Duration startupjitter{std::chrono::seconds(5)};
  Duration holdinterval{std::chrono::minutes(1)};  // how long a held migration waits before a recheck
  std::filesystem::path sqlfunctions = "sql/background";
  Backoff backoff;
  Throttle throttle;
};

struct Migrations {
  std::filesystem::path pre = "migrations/pre";
  std::filesystem::path post = "migrations/post";
};

struct Log {
  std::string level = "info";       // trace, debug, info, warn, error
  std::string formatter = "json";   // json or text
};

struct HttpDebug {
  std::string addr = "127.0.0.1:5001";  // empty disables the listener
  bool prometheus_enabled = true;
  std::string prometheus_path = "/metrics";
};

struct Config {
  std::filesystem::path source;  // the file it was read from
  Database database;
  Pool pool;
  BackgroundMigrations backgroundmigrations;
  Migrations migrations;
  Log log;
  HttpDebug http_debug;
};

}  // namespace bbmd::config
