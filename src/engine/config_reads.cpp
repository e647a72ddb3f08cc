#include "engine/config_reads.hpp"

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "chaperon/load_test.hpp"

namespace chaperon::detail {

namespace {

using path = std::vector<std::string>;

struct path_hash {
  std::size_t operator()(const path& p) const noexcept {
    std::size_t h = p.size();
    for (const auto& part : p) h = h * 31 + std::hash<std::string_view>{}(part);
    return h;
  }
};

// The reads of sessions on this thread. An engine thread runs the sessions of one shard of one
// run, and the run takes the set when the shard is done. A scenario reads a handful of keys, so
// the first ones are kept in a vector, which is scanned faster than a hash set is probed; past
// that, a hash set keeps a scenario that reads thousands of keys from slowing down.
struct thread_reads {
  static constexpr std::size_t scanned = 16;
  std::vector<path> few;
  std::unordered_set<path, path_hash> more;
  bool whole = false;

  bool contains(const path& p) const {
    return std::find(few.begin(), few.end(), p) != few.end() || more.contains(p);
  }
  void insert(const path& p) {
    if (few.size() < scanned) few.push_back(p);
    else more.insert(p);
  }
};

thread_reads& this_thread_reads() {
  thread_local thread_reads reads;
  return reads;
}

path split(std::string_view text) { return config_path(text).parts(); }

// Whether `prefix` is `p` or something above it.
bool starts_with(const path& p, const path& prefix) {
  return prefix.size() <= p.size() && std::equal(prefix.begin(), prefix.end(), p.begin());
}

std::string dotted(const path& p) {
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (i > 0) out += '.';
    out += p[i];
  }
  return out;
}

// Walks the merged config of one entry and reports the keys nothing covers.
class unread_walk {
 public:
  explicit unread_walk(std::vector<path> covered) : covered_(std::move(covered)) {}

  void walk(const json& node, path& at, const std::function<void(const path&)>& report) const {
    bool below = false;
    for (const auto& c : covered_) {
      if (starts_with(at, c)) return;  // read whole, or something above it was
      below = below || starts_with(c, at);
    }
    // Nothing went into this key at all: one report for it, not one for each key below it.
    if (!below) return report(at);
    if (!node.is_object()) return;  // a read asked below a value that is not an object
    for (auto it = node.begin(); it != node.end(); ++it) {
      at.push_back(it.key());
      walk(*it, at, report);
      at.pop_back();
    }
  }

 private:
  std::vector<path> covered_;
};

// The closest of the engine's keys and the keys sessions read, when it is close enough to be a
// likely typo.
std::string suggestion_for(const std::string& key, const config_reads& reads) {
  std::vector<std::string> candidates;
  for (auto k : engine_config_keys()) {
    candidates.emplace_back(k);
    // "ws.connect_timeout" also offers "ws", for a misspelt top-level key.
    if (auto dot = k.find('.'); dot != std::string_view::npos)
      candidates.emplace_back(k.substr(0, dot));
  }
  for (const auto& p : reads.paths()) {
    if (!p.empty()) candidates.push_back(dotted(p));
  }
  const std::size_t limit = key.size() <= 3 ? 1 : 2;
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(key, c);
    if (d > 0 && d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace

void note_config_read(session_state&, const config_path& key) {
  auto& reads = this_thread_reads();
  // A key read before costs one lookup; only a first read copies the path.
  if (!reads.contains(key.parts())) reads.insert(key.parts());
}

void note_whole_config_read(session_state&) noexcept { this_thread_reads().whole = true; }

config_reads take_thread_config_reads() {
  auto& reads = this_thread_reads();
  config_reads out;
  for (const auto& p : reads.few) out.add(p);
  for (const auto& p : reads.more) out.add(p);
  if (reads.whole) out.add({});
  reads.few.clear();
  reads.more.clear();
  reads.whole = false;
  return out;
}

const std::vector<std::string_view>& engine_config_keys() {
  // Every key the engine or the runner reads on its own (find_path on the config, not through a
  // session). A key added to the engine must be added here, or it is reported as unread.
  static const std::vector<std::string_view> keys = {
      "base_url",          "basic_auth",       "ca_file",
      "check_open_files",  "connect_timeout",  "delay",
      "http.recv_timeout", "http.timeout",     "insecure",
      "interval",          "load_test_timeout", "merge_scenario_sessions",
      "name",              "random_delay",     "request_timeout",
      "saturation_lag",    "scenario_timeout", "skip_query_params_in_metrics",
      "source_addresses",  "store_results",    "timeout",
      "ws.connect_timeout", "ws.max_connecting", "ws_timeout",
  };
  return keys;
}

std::vector<unread_config_key> find_unread_config(const load_test& test, const json& runtime,
                                                  const config_reads& reads) {
  std::vector<path> covered(reads.paths().begin(), reads.paths().end());
  for (auto k : engine_config_keys()) covered.push_back(split(k));
  const unread_walk walker(std::move(covered));

  std::vector<unread_config_key> out;
  for (const auto& entry : test.entries()) {
    const json merged = test.entry_config(entry, runtime);
    if (!merged.is_object()) continue;
    const std::string label = entry.label();
    path at;
    walker.walk(merged, at, [&](const path& p) {
      const std::string key = dotted(p);
      auto same = std::find_if(out.begin(), out.end(), [&](const auto& k) { return k.key == key; });
      if (same == out.end()) {
        out.push_back({key, {label}, suggestion_for(key, reads)});
      } else if (std::find(same->entries.begin(), same->entries.end(), label) ==
                 same->entries.end()) {
        same->entries.push_back(label);
      }
    });
  }
  return out;
}

std::string describe(const unread_config_key& k) {
  std::string out = "config key '" + k.key + "' (entr" + (k.entries.size() == 1 ? "y " : "ies ");
  for (std::size_t i = 0; i < k.entries.size(); ++i) out += (i ? ", " : "") + k.entries[i];
  out += ") was read by no session and is not an engine key";
  if (!k.suggestion.empty()) out += "; did you mean '" + k.suggestion + "'?";
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace chaperon::detail
