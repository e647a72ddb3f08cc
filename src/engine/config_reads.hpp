#pragma once
// Which config keys a run read: the engine's own keys are known by name; the scenarios' keys are
// noted as sessions read them, so that a key nothing read (a typo) can be reported once per run.
//
// Sessions note their reads into a set of the engine thread they run on (no lock, and a key read
// before costs one hash lookup and no allocation); the run takes each thread's set when the
// thread's work is done and merges them.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chaperon/config.hpp"

namespace chaperon {
class load_test;
}

namespace chaperon::detail {

class session_state;

// Notes that a session read `key` (called for every read through session::find_config).
void note_config_read(session_state& st, const config_path& key);
// Notes that a session took the whole config (session::config_root): every key counts as read.
void note_whole_config_read(session_state& st) noexcept;

// Key paths read, as lists of names. The empty path stands for the whole config.
class config_reads {
 public:
  void add(std::vector<std::string> path) { paths_.insert(std::move(path)); }
  void merge(const config_reads& other) { paths_.insert(other.paths_.begin(), other.paths_.end()); }
  const std::set<std::vector<std::string>>& paths() const noexcept { return paths_; }

 private:
  std::set<std::vector<std::string>> paths_;
};

// What sessions on the calling thread have read since the last call (the thread's set is emptied).
config_reads take_thread_config_reads();

// The keys the engine reads by itself, dotted ("ws.connect_timeout"): a key listed here is never
// reported, nor anything below it.
const std::vector<std::string_view>& engine_config_keys();

// A config key that neither the engine nor any session read.
struct unread_config_key {
  std::string key;                   // dotted path
  std::vector<std::string> entries;  // the entries whose merged config holds it
  std::string suggestion;            // a close engine key or read key, or ""
};

// The keys of each entry's merged config (default, entry, run-time) that the engine does not
// know and `reads` does not cover; a key that no session went into at all is reported once,
// not each key below it.
std::vector<unread_config_key> find_unread_config(const load_test& test, const json& runtime,
                                                  const config_reads& reads);
// "config key 'timout' (entry Rest) was read by no session and is not an engine key; did you
// mean 'timeout'?"
std::string describe(const unread_config_key& k);

// Levenshtein distance, for suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace chaperon::detail
