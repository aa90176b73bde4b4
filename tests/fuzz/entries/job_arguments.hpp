#pragma once
// A migration row's untrusted text: job_arguments read the way the validator reads them (JSON,
// must be an object) and every string member split as a "schema.name" identifier the way
// table_name and fill_from_sequence's sequence are. An accepted object dumps (the $3 parameter
// of SQL work functions) to JSON that reads back equal; a split name has no dot in either part.
#include <nlohmann/json.hpp>

#include "bbm/check/qualified_name.hpp"
#include "fuzz/entry.hpp"

namespace bbmd::fuzz {

inline std::string job_arguments(std::string_view input) {
  const auto args = nlohmann::json::parse(input, nullptr, false);
  if (!args.is_object()) return rejected("job_arguments must be a JSON object");
  const std::string dumped = args.dump();
  require(nlohmann::json::parse(dumped, nullptr, false) == args, "dump does not read back: " + dumped);
  std::string out = "ok:";
  for (const auto& [member, value] : args.items()) {
    if (!value.is_string()) continue;
    const auto text = value.get<std::string>();
    const auto name = bbm::split_qualified(text);
    out += " " + member + "=";
    if (!name) {
      out += "(not a name)";
      continue;
    }
    require(!name->schema.empty() && !name->name.empty(), "empty part accepted in " + text);
    require(name->schema.find('.') == std::string::npos && name->name.find('.') == std::string::npos,
            "dot left in a part of " + text);
    out += name->schema + "|" + name->name;
  }
  return out;
}

}  // namespace bbmd::fuzz
