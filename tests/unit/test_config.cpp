// Config values: key paths, lookup and edits, deep merge, command-line assignments, durations.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "chaperon/config.hpp"
#include "chaperon/load_test.hpp"

namespace {

using chaperon::config_error;
using chaperon::config_path;
using chaperon::json;
using namespace std::chrono_literals;

// ---- config_path ---------------------------------------------------------------------------------

TEST(ConfigPath, DottedStringSplitsIntoParts) {
  config_path p("a.b.c");
  EXPECT_EQ(p.parts(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(p.str(), "a.b.c");
}

TEST(ConfigPath, SingleNameIsOnePart) {
  config_path p("base_url");
  EXPECT_EQ(p.parts(), (std::vector<std::string>{"base_url"}));
  EXPECT_EQ(p.str(), "base_url");
}

TEST(ConfigPath, ListOfNamesKeepsDotsInsideNames) {
  config_path p{"hosts", "api.example.com", "port"};
  ASSERT_EQ(p.parts().size(), 3u);
  EXPECT_EQ(p.parts()[1], "api.example.com");
  EXPECT_EQ(p.str(), "hosts.api.example.com.port");
}

TEST(ConfigPath, ConstructsFromStdStringAndStringView) {
  const std::string s = "x.y";
  EXPECT_EQ(config_path(s).parts(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(config_path(std::string_view("x.y")).parts(), (std::vector<std::string>{"x", "y"}));
}

// ---- find / set / erase --------------------------------------------------------------------------

TEST(FindPath, FindsNestedValues) {
  const json root = {{"a", {{"b", {{"c", 42}}}}}, {"top", "t"}};
  ASSERT_NE(chaperon::find_path(root, "a.b.c"), nullptr);
  EXPECT_EQ(*chaperon::find_path(root, "a.b.c"), 42);
  EXPECT_EQ(*chaperon::find_path(root, "top"), "t");
  EXPECT_EQ(*chaperon::find_path(root, "a.b"), json({{"c", 42}}));
}

TEST(FindPath, MissingKeysAndNonObjectIntermediatesGiveNull) {
  const json root = {{"a", {{"b", 1}}}, {"s", "text"}, {"arr", {1, 2}}};
  EXPECT_EQ(chaperon::find_path(root, "x"), nullptr);
  EXPECT_EQ(chaperon::find_path(root, "a.x"), nullptr);
  EXPECT_EQ(chaperon::find_path(root, "a.b.c"), nullptr);  // through a number
  EXPECT_EQ(chaperon::find_path(root, "s.length"), nullptr);
  EXPECT_EQ(chaperon::find_path(root, "arr.0"), nullptr);
}

TEST(FindPath, ExplicitNullIsFound) {
  const json root = {{"a", nullptr}};
  const json* v = chaperon::find_path(root, "a");
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->is_null());
}

TEST(SetPath, CreatesIntermediateObjects) {
  json root = json::object();
  chaperon::set_path(root, "a.b.c", 1);
  EXPECT_EQ(root, json::parse(R"({"a":{"b":{"c":1}}})"));
}

TEST(SetPath, KeepsSiblingsAndOverwritesTheTarget) {
  json root = json::parse(R"({"a":{"b":1,"keep":true}})");
  chaperon::set_path(root, "a.b", "two");
  EXPECT_EQ(root, json::parse(R"({"a":{"b":"two","keep":true}})"));
}

TEST(SetPath, ReplacesNonObjectIntermediates) {
  json root = json::parse(R"({"a":5,"b":[1,2]})");
  chaperon::set_path(root, "a.x", 1);
  chaperon::set_path(root, {"b", "y"}, 2);
  EXPECT_EQ(root, json::parse(R"({"a":{"x":1},"b":{"y":2}})"));
}

TEST(SetPath, TurnsANullRootIntoAnObject) {
  json root;
  chaperon::set_path(root, "k", "v");
  EXPECT_EQ(root, json({{"k", "v"}}));
}

TEST(ErasePath, RemovesNestedKeyAndKeepsItsParent) {
  json root = json::parse(R"({"a":{"b":1,"c":2}})");
  EXPECT_TRUE(chaperon::erase_path(root, "a.b"));
  EXPECT_EQ(root, json::parse(R"({"a":{"c":2}})"));
}

TEST(ErasePath, ReportsWhenNothingWasRemoved) {
  json root = json::parse(R"({"a":{"b":1},"n":3})");
  const json before = root;
  EXPECT_FALSE(chaperon::erase_path(root, "a.x"));
  EXPECT_FALSE(chaperon::erase_path(root, "x.y"));
  EXPECT_FALSE(chaperon::erase_path(root, "n.y"));
  EXPECT_EQ(root, before);
}

TEST(ErasePath, RemovesAWholeSubtree) {
  json root = json::parse(R"({"a":{"b":{"c":1}},"z":0})");
  EXPECT_TRUE(chaperon::erase_path(root, "a"));
  EXPECT_EQ(root, json::parse(R"({"z":0})"));
}

// ---- deep merge ----------------------------------------------------------------------------------

TEST(DeepMerge, ObjectsMergeKeyByKeyRecursively) {
  json base = json::parse(R"({"a":{"x":1,"y":{"p":1,"q":2}},"keep":"me"})");
  chaperon::deep_merge(base, json::parse(R"({"a":{"y":{"q":20,"r":30},"z":3},"new":true})"));
  EXPECT_EQ(base, json::parse(
                      R"({"a":{"x":1,"y":{"p":1,"q":20,"r":30},"z":3},"keep":"me","new":true})"));
}

TEST(DeepMerge, ScalarsAndArraysReplace) {
  json base = json::parse(R"({"n":1,"list":[1,2,3],"s":"old"})");
  chaperon::deep_merge(base, json::parse(R"({"n":2,"list":[9],"s":"new"})"));
  EXPECT_EQ(base, json::parse(R"({"n":2,"list":[9],"s":"new"})"));
}

TEST(DeepMerge, ObjectAndScalarReplaceEachOther) {
  json base = json::parse(R"({"a":{"x":1},"b":7})");
  chaperon::deep_merge(base, json::parse(R"({"a":"flat","b":{"y":2}})"));
  EXPECT_EQ(base, json::parse(R"({"a":"flat","b":{"y":2}})"));
}

TEST(DeepMerge, NullOverlayLeavesAnObjectAlone) {
  json base = json::parse(R"({"a":1})");
  chaperon::deep_merge(base, json());
  EXPECT_EQ(base, json::parse(R"({"a":1})"));
}

TEST(DeepMerge, NestedNullReplacesTheValue) {
  json base = json::parse(R"({"a":{"b":1},"c":2})");
  chaperon::deep_merge(base, json::parse(R"({"c":null})"));
  EXPECT_EQ(base, json::parse(R"({"a":{"b":1},"c":null})"));
}

TEST(DeepMerge, EmptyOverlayChangesNothing) {
  const json original = json::parse(R"({"a":{"b":[1,{"c":2}]}})");
  json base = original;
  chaperon::deep_merge(base, json::object());
  EXPECT_EQ(base, original);
}

TEST(DeepMerged, ReturnsACopyAndLeavesTheInputs) {
  const json base = json::parse(R"({"a":{"x":1}})");
  const json overlay = json::parse(R"({"a":{"y":2}})");
  const json merged = chaperon::deep_merged(base, overlay);
  EXPECT_EQ(merged, json::parse(R"({"a":{"x":1,"y":2}})"));
  EXPECT_EQ(base, json::parse(R"({"a":{"x":1}})"));
  EXPECT_EQ(overlay, json::parse(R"({"a":{"y":2}})"));
}

TEST(DeepMerged, LayersApplyInOrderLikeLoadTestConfig) {
  const json defaults = json::parse(R"({"base_url":"http://a","rounds":5,"auth":{"user":"u"}})");
  const json entry = json::parse(R"({"rounds":2,"auth":{"pass":"p"}})");
  const json runtime = json::parse(R"({"base_url":"http://b"})");
  EXPECT_EQ(chaperon::deep_merged(chaperon::deep_merged(defaults, entry), runtime),
            json::parse(R"({"base_url":"http://b","rounds":2,"auth":{"user":"u","pass":"p"}})"));
}

// ---- apply_assignment ----------------------------------------------------------------------------

TEST(ApplyAssignment, ValidJsonValuesAreParsed) {
  json root = json::object();
  chaperon::apply_assignment(root, "n=1");
  chaperon::apply_assignment(root, "f=1.5");
  chaperon::apply_assignment(root, "b=true");
  chaperon::apply_assignment(root, "nothing=null");
  chaperon::apply_assignment(root, R"(q="quoted")");
  chaperon::apply_assignment(root, "list=[1,2]");
  chaperon::apply_assignment(root, R"(obj={"k":"v"})");
  EXPECT_EQ(root["n"], 1);
  EXPECT_TRUE(root["n"].is_number_integer());
  EXPECT_DOUBLE_EQ(root["f"].get<double>(), 1.5);
  EXPECT_EQ(root["b"], true);
  EXPECT_TRUE(root.contains("nothing"));
  EXPECT_TRUE(root["nothing"].is_null());
  EXPECT_EQ(root["q"], "quoted");
  EXPECT_EQ(root["list"], json::parse("[1,2]"));
  EXPECT_EQ(root["obj"], json::parse(R"({"k":"v"})"));
}

TEST(ApplyAssignment, OtherTextIsAString) {
  json root = json::object();
  chaperon::apply_assignment(root, "name=hello world");
  chaperon::apply_assignment(root, "zip=01234");  // not valid JSON: leading zero
  chaperon::apply_assignment(root, "empty=");
  chaperon::apply_assignment(root, "broken={\"a\":");
  EXPECT_EQ(root["name"], "hello world");
  EXPECT_EQ(root["zip"], "01234");
  EXPECT_EQ(root["empty"], "");
  EXPECT_EQ(root["broken"], "{\"a\":");
}

TEST(ApplyAssignment, OnlyTheFirstEqualsSignSeparates) {
  json root = json::object();
  chaperon::apply_assignment(root, "base_url=http://127.0.0.1:8080/api?x=1&y=2");
  EXPECT_EQ(root["base_url"], "http://127.0.0.1:8080/api?x=1&y=2");
}

TEST(ApplyAssignment, DottedKeysSetNestedValuesAndKeepSiblings) {
  json root = json::parse(R"({"auth":{"user":"u"}})");
  chaperon::apply_assignment(root, "auth.pass=secret");
  chaperon::apply_assignment(root, "a.b.c=3");
  EXPECT_EQ(root, json::parse(R"({"auth":{"user":"u","pass":"secret"},"a":{"b":{"c":3}}})"));
}

TEST(ApplyAssignment, LaterAssignmentsWin) {
  json root = json::object();
  chaperon::apply_assignment(root, "rounds=1");
  chaperon::apply_assignment(root, "rounds=2");
  EXPECT_EQ(root["rounds"], 2);
}

TEST(ApplyAssignment, MissingEqualsSignOrKeyIsAnErrorQuotingTheInput) {
  json root = json::object();
  try {
    chaperon::apply_assignment(root, "rounds");
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("rounds"), std::string::npos) << e.what();
  }
  EXPECT_THROW(chaperon::apply_assignment(root, "=5"), config_error);
  EXPECT_THROW(chaperon::apply_assignment(root, ""), config_error);
  EXPECT_EQ(root, json::object());
}

// ---- durations -----------------------------------------------------------------------------------

TEST(ParseDuration, NumbersAreMilliseconds) {
  EXPECT_EQ(chaperon::parse_duration(json(250), "k"), 250ms);
  EXPECT_EQ(chaperon::parse_duration(json(0), "k"), 0ms);
  EXPECT_EQ(chaperon::parse_duration(json(1.5), "k"), 1500us);
  EXPECT_EQ(chaperon::parse_duration(json(0.25), "k"), 250us);
}

TEST(ParseDuration, StringsCarryUnits) {
  EXPECT_EQ(chaperon::parse_duration(json("250us"), "k"), 250us);
  EXPECT_EQ(chaperon::parse_duration(json("10ms"), "k"), 10ms);
  EXPECT_EQ(chaperon::parse_duration(json("1.5s"), "k"), 1500ms);
  EXPECT_EQ(chaperon::parse_duration(json("2s"), "k"), 2s);
  EXPECT_EQ(chaperon::parse_duration(json("2m"), "k"), 120s);
  EXPECT_EQ(chaperon::parse_duration(json("3min"), "k"), 180s);
  EXPECT_EQ(chaperon::parse_duration(json("1h"), "k"), 3600s);
  EXPECT_EQ(chaperon::parse_duration(json("100"), "k"), 100ms);  // no unit: milliseconds
  EXPECT_EQ(chaperon::parse_duration(json(" 2s "), "k"), 2s);
}

TEST(ParseDuration, ErrorsNameTheKeyAndTheValue) {
  try {
    chaperon::parse_duration(json("ten seconds"), "scenario_timeout");
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("scenario_timeout"), std::string::npos) << what;
    EXPECT_NE(what.find("ten seconds"), std::string::npos) << what;
  }
}

TEST(ParseDuration, RejectsWhatIsNotADuration) {
  for (const json& bad : {json("10x"), json("abc"), json(""), json("s"), json("-5"),
                          json("1.2.3s"), json("5 s"), json(-5), json(true), json(nullptr),
                          json::array({1}), json::object({{"ms", 5}})}) {
    EXPECT_THROW(chaperon::parse_duration(bad, "delay"), config_error) << bad.dump();
  }
}

TEST(ParseDurationText, ParsesOrGivesNothing) {
  EXPECT_EQ(chaperon::parse_duration_text("500ms"), std::optional(500ms));
  EXPECT_EQ(chaperon::parse_duration_text("0.5s"), std::optional(500ms));
  EXPECT_EQ(chaperon::parse_duration_text("7"), std::optional(7ms));
  EXPECT_EQ(chaperon::parse_duration_text(""), std::nullopt);
  EXPECT_EQ(chaperon::parse_duration_text("ms"), std::nullopt);
  EXPECT_EQ(chaperon::parse_duration_text("10 parsecs"), std::nullopt);
  EXPECT_EQ(chaperon::parse_duration_text("."), std::nullopt);
}

// ---- errors --------------------------------------------------------------------------------------

TEST(RequiredConfigMissing, NamesKeyAndSession) {
  chaperon::required_config_missing e("api.token", "RestScenario 1234");
  EXPECT_EQ(e.key(), "api.token");
  EXPECT_EQ(e.session_name(), "RestScenario 1234");
  const std::string what = e.what();
  EXPECT_NE(what.find("api.token"), std::string::npos) << what;
  EXPECT_NE(what.find("RestScenario 1234"), std::string::npos) << what;
}

// A missing config key, assigned value or load test is one family of setup errors.
TEST(MissingKey, OneFamilyOfSetupErrors) {
  const chaperon::required_config_missing config("api.token", "S 1");
  const chaperon::assigned_value_missing assigned("user.id", "S 2");
  const chaperon::unknown_load_test test("Nope", {"Demo.A", "Demo.B"});
  const chaperon::missing_key* all[] = {&config, &assigned, &test};
  for (const auto* e : all) {
    EXPECT_NE(dynamic_cast<const chaperon::error*>(e), nullptr);
    const std::string what = e->what();
    EXPECT_NE(what.find("'" + e->key() + "'"), std::string::npos) << what;
  }
  EXPECT_EQ(assigned.key(), "user.id");
  EXPECT_EQ(assigned.session_name(), "S 2");
  EXPECT_EQ(test.key(), "Nope");
  EXPECT_EQ(std::string(test.what()), "no load test named 'Nope' (known: Demo.A, Demo.B)");
  EXPECT_THROW(chaperon::find_load_test("Not.Registered.Anywhere"), chaperon::unknown_load_test);
}

TEST(ConfigError, IsASetupError) {
  json root;
  EXPECT_THROW(chaperon::apply_assignment(root, "no-equals-sign"), chaperon::error);
}

}  // namespace
