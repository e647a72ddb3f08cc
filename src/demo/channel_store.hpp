// Publish/subscribe channels of the demo target, modelled on the Firehose server: HTTP PUTs
// publish numbered messages, WebSocket subscribers receive them live and can ask for a replay
// of the retained ones. Transport-neutral: subscribers are reached through an interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chaperon::demo {

struct channel_message {
  std::uint64_t sequence = 0;
  std::string body;
  // {"sequence":n,"message":"<body>"}: built once, then shared by every subscriber and GET.
  std::string document;
};

using channel_message_ptr = std::shared_ptr<const channel_message>;

class channel_subscriber {
 public:
  virtual ~channel_subscriber() = default;
  // Called with the store's lock held, in publication order, from any thread: it must only
  // queue the message (e.g. post it to the subscriber's strand), never block or call the store.
  virtual void deliver(channel_message_ptr message) = 0;
};

class channel_store;

// Keeps a subscriber registered; destroying (or resetting) it unsubscribes.
class channel_subscription {
 public:
  channel_subscription() = default;
  ~channel_subscription();
  channel_subscription(channel_subscription&& other) noexcept;
  channel_subscription& operator=(channel_subscription&& other) noexcept;
  channel_subscription(const channel_subscription&) = delete;
  channel_subscription& operator=(const channel_subscription&) = delete;

  [[nodiscard]] bool active() const { return store_ != nullptr; }
  void reset();

 private:
  friend class channel_store;
  channel_subscription(channel_store* store, std::string channel, std::uint64_t id);

  channel_store* store_ = nullptr;
  std::string channel_;
  std::uint64_t id_ = 0;
};

enum class channel_error { none, bad_name, too_many_channels };

// Thread-safe. One mutex for everything: the demo target is a test peer, not the generator, and
// the critical sections only copy pointers.
class channel_store {
 public:
  static constexpr std::size_t retained = 100;
  // Bounds memory when a load test invents channel names per session.
  static constexpr std::size_t max_channels = 100'000;
  static constexpr std::size_t max_name_length = 256;

  // Non-empty, at most `max_name_length` bytes, no '/'.
  [[nodiscard]] static bool valid_name(std::string_view name);

  // Assigns the channel's next sequence number (1, 2, ...), retains the message and hands it to
  // every current subscriber. Returns the sequence, or 0 with `error` set.
  std::uint64_t publish(std::string_view channel, std::string body, channel_error& error);
  // nullptr when the channel has no message yet.
  [[nodiscard]] channel_message_ptr latest(std::string_view channel) const;
  // Retained messages with a sequence above `after`, oldest first.
  [[nodiscard]] std::vector<channel_message_ptr> since(std::string_view channel,
                                                       std::uint64_t after) const;
  // Messages published from now on go to `subscriber` while the result is alive and the
  // subscriber still exists. An inactive result comes with `error` set.
  [[nodiscard]] channel_subscription subscribe(std::string_view channel,
                                               std::weak_ptr<channel_subscriber> subscriber,
                                               channel_error& error);

  [[nodiscard]] std::size_t channel_count() const;
  [[nodiscard]] std::size_t subscriber_count(std::string_view channel) const;

 private:
  friend class channel_subscription;

  struct channel {
    std::uint64_t next_sequence = 1;
    std::deque<channel_message_ptr> messages;
    std::unordered_map<std::uint64_t, std::weak_ptr<channel_subscriber>> subscribers;
  };

  // Locked: the named channel, created when absent and the limits allow it.
  channel* find_or_create(std::string_view name, channel_error& error);
  void unsubscribe(const std::string& channel, std::uint64_t id);

  mutable std::mutex mutex_;
  std::map<std::string, channel, std::less<>> channels_;
  std::uint64_t next_subscriber_id_ = 1;
};

// What a subscriber has already been sent. Live messages and a requested replay can overlap
// (a live message may be queued while the replay is read from the store), so both pass through
// here and nothing is sent twice.
class channel_cursor {
 public:
  // True when the live message `sequence` still has to be sent.
  bool admit_live(std::uint64_t sequence);
  // Keeps, in order, the retained messages (oldest first) not sent yet.
  std::vector<channel_message_ptr> admit_replay(std::vector<channel_message_ptr> retained);

 private:
  // Everything in [low_, high_] that the store still had has been sent; empty while high_ == 0.
  std::uint64_t low_ = 0;
  std::uint64_t high_ = 0;
};

// The `k` of a subscriber's `{"last_message_sequence": k}`; nullopt for any other message.
[[nodiscard]] std::optional<std::uint64_t> parse_replay_request(std::string_view text);

// {"sequence":n,"message":"<body>"}; invalid UTF-8 in the body is replaced, not rejected.
[[nodiscard]] std::string channel_document(std::uint64_t sequence, std::string_view body);

}  // namespace chaperon::demo
