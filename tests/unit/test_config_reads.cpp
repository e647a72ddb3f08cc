// Which config keys a run left unread, and the run-time changes to a test's entries
// (run_options::sessions / scale, config `name`).
#include <gtest/gtest.h>

#include <string>

#include "chaperon/load_test.hpp"
#include "chaperon/run.hpp"
#include "engine/config_reads.hpp"

namespace {

using chaperon::json;
using chaperon::load_test;
using chaperon::run_options;
using chaperon::detail::config_reads;
using chaperon::detail::find_unread_config;

chaperon::scenario_ref noop(std::string name) {
  return chaperon::make_scenario(std::move(name), [](chaperon::session&) -> chaperon::task<void> {
    co_return;
  });
}

config_reads reads_of(std::initializer_list<std::vector<std::string>> paths) {
  config_reads r;
  for (auto p : paths) r.add(std::move(p));
  return r;
}

std::vector<std::string> keys(const std::vector<chaperon::detail::unread_config_key>& unread) {
  std::vector<std::string> out;
  for (const auto& k : unread) out.push_back(k.key);
  return out;
}

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  using chaperon::detail::edit_distance;
  EXPECT_EQ(edit_distance("timeout", "timeout"), 0u);
  EXPECT_EQ(edit_distance("timout", "timeout"), 1u);
  EXPECT_EQ(edit_distance("base_ulr", "base_url"), 2u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(UnreadConfig, EngineKeysAndReadKeysAreNotReported) {
  load_test t{"T"};
  t.default_config({{"base_url", "http://127.0.0.1"}, {"rounds", 3}, {"timout", 5}})
      .scenario(2, noop("A"), json{{"delay", 10}});
  auto unread = find_unread_config(t, json::object(), reads_of({{"rounds"}}));
  ASSERT_EQ(unread.size(), 1u);
  EXPECT_EQ(unread[0].key, "timout");
  EXPECT_EQ(unread[0].entries, std::vector<std::string>{"A"});
  EXPECT_EQ(unread[0].suggestion, "timeout");
  EXPECT_EQ(describe(unread[0]),
            "config key 'timout' (entry A) was read by no session and is not an engine key; did "
            "you mean 'timeout'?");
}

TEST(UnreadConfig, AKeyIsReportedOnceNamingEveryEntryThatHoldsIt) {
  load_test t{"T"};
  t.scenario(1, noop("A"), json::object())
      .scenario(1, noop("B"), "bee", json::object())
      .scenario(1, noop("C"), json{{"only_c", 1}});
  auto unread = find_unread_config(t, json{{"zzz_unknown", 1}}, {});
  ASSERT_EQ(keys(unread), (std::vector<std::string>{"zzz_unknown", "only_c"}));
  EXPECT_EQ(unread[0].entries, (std::vector<std::string>{"A", "B \"bee\"", "C"}));
  EXPECT_EQ(unread[0].suggestion, "");
  const std::string text = describe(unread[0]);
  EXPECT_TRUE(text.starts_with("config key 'zzz_unknown' (entries A, B \"bee\", C) was")) << text;
}

TEST(UnreadConfig, NestedKeysFollowWhatWasReadBelowThem) {
  load_test t{"T"};
  t.default_config({{"db", {{"host", "h"}, {"prot", 1}}},
                    {"whole", {{"a", 1}, {"b", 2}}},
                    {"untouched", {{"x", 1}, {"y", 2}}},
                    {"ws", {{"connect_timeout", 100}, {"conect_timeout", 1}}}})
      .scenario(1, noop("A"), json::object());
  // db.host read: db.prot is not; whole read entirely; nothing went into untouched: one report.
  auto unread = find_unread_config(t, json::object(), reads_of({{"db", "host"}, {"whole"}}));
  ASSERT_EQ(keys(unread), (std::vector<std::string>{"db.prot", "untouched", "ws.conect_timeout"}));
  EXPECT_EQ(unread[2].suggestion, "ws.connect_timeout");
}

TEST(UnreadConfig, SuggestsAKeyASessionReadToo) {
  load_test t{"T"};
  t.default_config({{"user_cont", 10}}).scenario(1, noop("A"), json::object());
  auto unread = find_unread_config(t, json::object(), reads_of({{"user_count"}}));
  ASSERT_EQ(unread.size(), 1u);
  EXPECT_EQ(unread[0].suggestion, "user_count");
}

TEST(UnreadConfig, TheWholeConfigReadCoversEveryKey) {
  load_test t{"T"};
  t.default_config({{"anything", 1}, {"else", {{"x", 1}}}}).scenario(1, noop("A"), json::object());
  EXPECT_TRUE(find_unread_config(t, json::object(), reads_of({{}})).empty());
}

// ---- run-time counts and names ------------------------------------------------------------

TEST(PreparedLoadTest, SessionsSetTheCountOfTheSingleEntry) {
  load_test t{"T"};
  t.scenario(5, noop("A"), json::object());
  run_options o;
  o.sessions = 3;
  EXPECT_EQ(prepared_load_test(t, o).entries().at(0).count, 3u);
}

TEST(PreparedLoadTest, SessionsOnSeveralEntriesNamesThem) {
  load_test t{"Shop"};
  t.scenario(5, noop("A"), json::object()).scenario(1, noop("B"), "bee", json::object());
  run_options o;
  o.sessions = 3;
  try {
    prepared_load_test(t, o);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Shop has 2: A, B \"bee\""), std::string::npos)
        << e.what();
  }
}

TEST(PreparedLoadTest, ScaleRoundsAndKeepsAtLeastOne) {
  load_test t{"T"};
  t.scenario(40, noop("A"), json::object())
      .scenario(2, noop("B"), json::object())
      .scenario(5, noop("C"), json::object());
  run_options o;
  o.scale = 0.25;
  const auto p = prepared_load_test(t, o);
  EXPECT_EQ(p.entries()[0].count, 10u);
  EXPECT_EQ(p.entries()[1].count, 1u);  // 0.5 rounds to 1 (and would be kept at 1 anyway)
  EXPECT_EQ(p.entries()[2].count, 1u);  // 1.25
  o.scale = 0.01;
  EXPECT_EQ(prepared_load_test(t, o).entries()[1].count, 1u);
}

TEST(PreparedLoadTest, BadCountsAreSetupErrors) {
  load_test t{"T"};
  t.scenario(5, noop("A"), json::object());
  run_options zero;
  zero.sessions = 0;
  EXPECT_THROW(prepared_load_test(t, zero), std::invalid_argument);
  run_options negative;
  negative.scale = -1;
  EXPECT_THROW(prepared_load_test(t, negative), std::invalid_argument);
  run_options with_model;
  with_model.sessions = 2;
  with_model.model = chaperon::load_model::constant_rate(10, std::chrono::seconds(1));
  EXPECT_THROW(prepared_load_test(t, with_model), std::invalid_argument);
}

TEST(PreparedLoadTest, ConfigNameNamesSessionsOfEntriesWithoutOne) {
  load_test t{"T"};
  t.default_config({{"name", "probe"}})
      .scenario(1, noop("A"), json::object())
      .scenario(1, noop("B"), "bee", json::object());
  const auto p = prepared_load_test(t, {});
  EXPECT_EQ(p.entries()[0].session_name, "probe");
  EXPECT_EQ(p.entries()[1].session_name, "bee");

  run_options o;
  o.config = {{"name", 5}};
  EXPECT_THROW(prepared_load_test(t, o), chaperon::config_error);
}

}  // namespace
