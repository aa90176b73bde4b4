// SQLSTATE classification and error kind names.
#include <catch2/catch.hpp>

#include "db/error.hpp"

using bbmd::db::classify_sqlstate;
using bbmd::db::ErrorKind;

TEST_CASE("classify_sqlstate maps SQLSTATEs to what the caller should do", "[db][error]") {
  struct Case {
    const char* sqlstate;
    ErrorKind kind;
  };
  const Case cases[] = {
      {"08000", ErrorKind::connection_lost},  {"08006", ErrorKind::connection_lost},
      {"08P01", ErrorKind::connection_lost},  {"57P01", ErrorKind::connection_lost},
      {"57P02", ErrorKind::connection_lost},  {"57P03", ErrorKind::connection_lost},
      {"57014", ErrorKind::query_canceled},   {"55P03", ErrorKind::lock_timeout},
      {"40001", ErrorKind::retryable_conflict}, {"40P01", ErrorKind::retryable_conflict},
      {"42P01", ErrorKind::undefined_object}, {"42703", ErrorKind::undefined_object},
      {"42883", ErrorKind::undefined_object}, {"3F000", ErrorKind::undefined_object},
      {"42501", ErrorKind::insufficient_privilege}, {"22003", ErrorKind::data_error},
      {"22P02", ErrorKind::data_error},       {"23505", ErrorKind::data_error},
      {"23503", ErrorKind::data_error},       {"42601", ErrorKind::other},
      {"57000", ErrorKind::other},            {"55000", ErrorKind::other},
      {"40000", ErrorKind::other},            {"", ErrorKind::other},
      {"08", ErrorKind::other},               {"XX000", ErrorKind::other},
      // A missing prepared statement is only db::Connection's to judge (its own names or not).
      {"26000", ErrorKind::other},
  };
  for (const auto& c : cases) {
    INFO("sqlstate " << c.sqlstate);
    CHECK(classify_sqlstate(c.sqlstate) == c.kind);
  }
}

TEST_CASE("every error kind has a distinct name", "[db][error]") {
  CHECK(std::string(to_string(ErrorKind::connection_lost)) == "connection_lost");
  CHECK(std::string(to_string(ErrorKind::query_canceled)) == "query_canceled");
  CHECK(std::string(to_string(ErrorKind::lock_timeout)) == "lock_timeout");
  CHECK(std::string(to_string(ErrorKind::retryable_conflict)) == "retryable_conflict");
  CHECK(std::string(to_string(ErrorKind::undefined_object)) == "undefined_object");
  CHECK(std::string(to_string(ErrorKind::insufficient_privilege)) == "insufficient_privilege");
  CHECK(std::string(to_string(ErrorKind::data_error)) == "data_error");
  CHECK(std::string(to_string(ErrorKind::timeout)) == "timeout");
  CHECK(std::string(to_string(ErrorKind::prepared_statement_missing)) == "prepared_statement_missing");
  CHECK(std::string(to_string(ErrorKind::other)) == "other");
}

TEST_CASE("only lost connections and client timeouts break the connection", "[db][error]") {
  using bbmd::db::Error;
  CHECK(Error(ErrorKind::connection_lost, "57P01", "x").breaks_connection());
  CHECK(Error(ErrorKind::timeout, "", "x").breaks_connection());
  CHECK_FALSE(Error(ErrorKind::query_canceled, "57014", "x").breaks_connection());
  CHECK_FALSE(Error(ErrorKind::data_error, "23505", "x").breaks_connection());
  CHECK_FALSE(Error(ErrorKind::prepared_statement_missing, "26000", "x").breaks_connection());
}
