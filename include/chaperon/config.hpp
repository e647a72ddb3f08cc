#pragma once
// Config values: nested JSON-like values with dotted-path lookup and deep merge.
//
// A load test's config is its default_config deep-merged with the entry's config, deep-merged with
// the run-time config (`--config key=value`, `--config-file file.json`). Sessions read it with
// `s.config("a.b")`; a missing required key is a setup error that names the key and the session.

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaperon/error.hpp"

namespace chaperon {

using json = nlohmann::json;

// A key path: "a.b.c" (dotted) or a list of names {"a", "b", "c"}; a name in a list may contain
// dots ({"hosts", "api.example.com"}). Mind the braces: config_path{"a.b"} is a one-name list,
// config_path("a.b") (or plain "a.b" where a config_path is expected) is the dotted path.
class config_path {
 public:
  config_path(const char* dotted) : config_path(std::string_view{dotted}) {}
  config_path(std::string_view dotted);
  config_path(const std::string& dotted) : config_path(std::string_view{dotted}) {}
  config_path(std::initializer_list<std::string_view> parts);

  const std::vector<std::string>& parts() const noexcept { return parts_; }
  std::string str() const;  // dotted form, for messages

 private:
  std::vector<std::string> parts_;
};

// Thrown when a scenario asks for a config key that is not set; the message names the key and
// the session.
class required_config_missing : public missing_key {
 public:
  required_config_missing(std::string key, std::string session_name);
  const std::string& session_name() const noexcept { return session_; }

 private:
  std::string session_;
};

// Thrown when a scenario asks for an assigned value that is not set; the message names the key
// and the session.
class assigned_value_missing : public missing_key {
 public:
  assigned_value_missing(std::string key, std::string session_name);
  const std::string& session_name() const noexcept { return session_; }

 private:
  std::string session_;
};

// Thrown for malformed config values (e.g. a duration that cannot be parsed), naming key and value.
class config_error : public error {
 public:
  using error::error;
};

// nullptr when the path does not exist (a JSON null value is returned as a pointer to it).
const json* find_path(const json& root, const config_path& path);
// Creates intermediate objects as needed; replaces non-object intermediates.
void set_path(json& root, const config_path& path, json value);
// Removes the value at path; returns whether something was removed.
bool erase_path(json& root, const config_path& path);

// Objects merge key by key (recursively); anything else in `overlay` replaces what is in `base`.
void deep_merge(json& base, const json& overlay);
json deep_merged(json base, const json& overlay);

// "key=value" from the command line: value is parsed as JSON when it is valid JSON, else taken as a
// string. `a.b=1` sets a nested key.
void apply_assignment(json& root, std::string_view assignment);

// Durations in config: a number is milliseconds; a string may carry a unit: "250us", "10ms", "1.5s",
// "2m", "1h". Throws config_error naming `key` for anything else.
std::chrono::microseconds parse_duration(const json& value, std::string_view key);
std::optional<std::chrono::microseconds> parse_duration_text(std::string_view text);

}  // namespace chaperon
