// The demo target's publish/subscribe channels: sequences, retention, delivery, replay filtering.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

// The unit-test binary does not link the demo target, so the logic under test is compiled here.
// No other unit test may include this file.
#include "demo/channel_store.cpp"  // NOLINT(bugprone-suspicious-include)

namespace {

using chaperon::demo::channel_cursor;
using chaperon::demo::channel_error;
using chaperon::demo::channel_message_ptr;
using chaperon::demo::channel_store;
using chaperon::demo::channel_subscriber;
using chaperon::demo::channel_subscription;

class recorder : public channel_subscriber {
 public:
  void deliver(channel_message_ptr message) override {
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(message));
  }
  std::vector<std::uint64_t> sequences() const {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> out;
    for (const auto& message : received_) out.push_back(message->sequence);
    return out;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& message : received_) out.push_back(message->body);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<channel_message_ptr> received_;
};

std::uint64_t publish(channel_store& store, const std::string& channel, std::string body) {
  auto error = channel_error::none;
  const auto sequence = store.publish(channel, std::move(body), error);
  EXPECT_EQ(error, channel_error::none);
  return sequence;
}

std::vector<std::uint64_t> sequences_of(const std::vector<channel_message_ptr>& messages) {
  std::vector<std::uint64_t> out;
  for (const auto& message : messages) out.push_back(message->sequence);
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (auto n = first; n <= last; ++n) out.push_back(n);
  return out;
}

channel_message_ptr message_with(std::uint64_t sequence) {
  auto message = std::make_shared<chaperon::demo::channel_message>();
  message->sequence = sequence;
  return message;
}

std::vector<channel_message_ptr> messages(std::uint64_t first, std::uint64_t last) {
  std::vector<channel_message_ptr> out;
  for (auto n = first; n <= last; ++n) out.push_back(message_with(n));
  return out;
}

TEST(DemoChannels, SequencesCountPerChannelFromOne) {
  channel_store store;
  EXPECT_EQ(publish(store, "a", "x"), 1u);
  EXPECT_EQ(publish(store, "a", "y"), 2u);
  EXPECT_EQ(publish(store, "b", "z"), 1u);
  EXPECT_EQ(publish(store, "a", "w"), 3u);
  EXPECT_EQ(store.channel_count(), 2u);
}

TEST(DemoChannels, LatestIsTheNewestMessageAsAJsonDocument) {
  channel_store store;
  EXPECT_EQ(store.latest("news"), nullptr);
  publish(store, "news", "first");
  publish(store, "news", "say \"hi\"\n");
  const auto latest = store.latest("news");
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->sequence, 2u);
  EXPECT_EQ(latest->body, "say \"hi\"\n");
  EXPECT_EQ(latest->document, R"({"sequence":2,"message":"say \"hi\"\n"})");
  const auto parsed = nlohmann::json::parse(latest->document);
  EXPECT_EQ(parsed["message"], "say \"hi\"\n");
}

TEST(DemoChannels, InvalidUtf8BodiesStillMakeValidJson) {
  const auto document = chaperon::demo::channel_document(7, std::string("a\xff\xfe b", 5));
  const auto parsed = nlohmann::json::parse(document);
  EXPECT_EQ(parsed["sequence"], 7);
  EXPECT_TRUE(parsed["message"].is_string());
}

TEST(DemoChannels, RetainsTheLastHundredMessages) {
  channel_store store;
  for (int i = 1; i <= 150; ++i) publish(store, "c", std::to_string(i));
  EXPECT_EQ(sequences_of(store.since("c", 0)), range(51, 150));
  EXPECT_EQ(sequences_of(store.since("c", 60)), range(61, 150));
  EXPECT_EQ(sequences_of(store.since("c", 149)), range(150, 150));
  EXPECT_TRUE(store.since("c", 150).empty());
  EXPECT_TRUE(store.since("c", 1000).empty());
  EXPECT_TRUE(store.since("missing", 0).empty());
  EXPECT_EQ(store.since("c", 149).front()->body, "150");
}

TEST(DemoChannels, SubscribersReceiveLaterMessagesInOrderUntilUnsubscribed) {
  channel_store store;
  publish(store, "c", "before");
  auto sub = std::make_shared<recorder>();
  auto error = channel_error::none;
  auto subscription = store.subscribe("c", sub, error);
  ASSERT_TRUE(subscription.active());
  EXPECT_EQ(store.subscriber_count("c"), 1u);
  publish(store, "c", "one");
  publish(store, "other", "elsewhere");
  publish(store, "c", "two");
  subscription.reset();
  publish(store, "c", "three");
  EXPECT_EQ(sub->bodies(), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(sub->sequences(), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(store.subscriber_count("c"), 0u);
}

TEST(DemoChannels, ASubscriberThatIsGoneIsSkipped) {
  channel_store store;
  auto error = channel_error::none;
  auto sub = std::make_shared<recorder>();
  auto subscription = store.subscribe("c", sub, error);
  sub.reset();
  EXPECT_EQ(publish(store, "c", "nobody listens"), 1u);
  EXPECT_EQ(store.subscriber_count("c"), 0u);
}

TEST(DemoChannels, AnUnusedChannelDisappearsWithItsLastSubscriber) {
  channel_store store;
  auto error = channel_error::none;
  auto sub = std::make_shared<recorder>();
  {
    auto subscription = store.subscribe("quiet", sub, error);
    EXPECT_EQ(store.channel_count(), 1u);
    auto moved = std::move(subscription);
    EXPECT_FALSE(subscription.active());  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(moved.active());
  }
  EXPECT_EQ(store.channel_count(), 0u);
  publish(store, "kept", "x");
  { auto subscription = store.subscribe("kept", sub, error); }
  EXPECT_EQ(store.channel_count(), 1u);
}

TEST(DemoChannels, RefusesBadNames) {
  channel_store store;
  auto error = channel_error::none;
  EXPECT_EQ(store.publish("", "x", error), 0u);
  EXPECT_EQ(error, channel_error::bad_name);
  EXPECT_EQ(store.publish("a/b", "x", error), 0u);
  EXPECT_EQ(error, channel_error::bad_name);
  const std::string too_long(channel_store::max_name_length + 1, 'n');
  EXPECT_FALSE(store.subscribe(too_long, std::make_shared<recorder>(), error).active());
  EXPECT_EQ(error, channel_error::bad_name);
  EXPECT_TRUE(channel_store::valid_name(std::string(channel_store::max_name_length, 'n')));
  EXPECT_EQ(store.channel_count(), 0u);
}

TEST(DemoChannels, ConcurrentPublishersDeliverEachSequenceOnceAndInOrder) {
  constexpr int publishers = 4;
  constexpr int per_publisher = 500;
  channel_store store;
  auto sub = std::make_shared<recorder>();
  auto error = channel_error::none;
  auto subscription = store.subscribe("busy", sub, error);
  std::vector<std::thread> threads;
  for (int t = 0; t < publishers; ++t) {
    threads.emplace_back([&store] {
      auto publish_error = channel_error::none;
      for (int i = 0; i < per_publisher; ++i) store.publish("busy", "m", publish_error);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(sub->sequences(), range(1, publishers * per_publisher));
}

TEST(DemoChannels, ParsesOnlyReplayRequests) {
  using chaperon::demo::parse_replay_request;
  EXPECT_EQ(parse_replay_request(R"({"last_message_sequence": 0})"), 0u);
  EXPECT_EQ(parse_replay_request(R"({"last_message_sequence":42,"x":1})"), 42u);
  EXPECT_EQ(parse_replay_request(R"({"last_message_sequence": -1})"), std::nullopt);
  EXPECT_EQ(parse_replay_request(R"({"last_message_sequence": 1.5})"), std::nullopt);
  EXPECT_EQ(parse_replay_request(R"({"last_message_sequence": "3"})"), std::nullopt);
  EXPECT_EQ(parse_replay_request(R"([{"last_message_sequence": 3}])"), std::nullopt);
  EXPECT_EQ(parse_replay_request("hello"), std::nullopt);
  EXPECT_EQ(parse_replay_request(""), std::nullopt);
}

TEST(DemoChannels, CursorSendsLiveMessagesOnce) {
  channel_cursor cursor;
  EXPECT_TRUE(cursor.admit_live(5));
  EXPECT_TRUE(cursor.admit_live(6));
  EXPECT_FALSE(cursor.admit_live(6));
  EXPECT_FALSE(cursor.admit_live(4));
}

TEST(DemoChannels, CursorReplaySkipsWhatWentOutLive) {
  channel_cursor cursor;
  EXPECT_TRUE(cursor.admit_live(5));
  // The retained window read during the replay already holds 5 and a newer 6 not sent yet.
  EXPECT_EQ(sequences_of(cursor.admit_replay(messages(3, 6))),
            (std::vector<std::uint64_t>{3, 4, 6}));
  // 6 then arrives live: already sent by the replay.
  EXPECT_FALSE(cursor.admit_live(6));
  EXPECT_TRUE(cursor.admit_live(7));
  // A second, older replay adds only what is still missing.
  EXPECT_EQ(sequences_of(cursor.admit_replay(messages(1, 7))), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(cursor.admit_replay(messages(4, 7)).empty());
}

TEST(DemoChannels, CursorReplayBeforeAnyLiveMessage) {
  channel_cursor cursor;
  EXPECT_EQ(sequences_of(cursor.admit_replay(messages(11, 20))), range(11, 20));
  EXPECT_FALSE(cursor.admit_live(20));
  EXPECT_TRUE(cursor.admit_live(21));
  EXPECT_TRUE(cursor.admit_replay({}).empty());
}

}  // namespace
