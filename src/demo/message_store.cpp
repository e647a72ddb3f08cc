#include "demo/message_store.hpp"

#include <algorithm>
#include <utility>

namespace chaperon::demo {

message message_store::add(std::string text, std::string author) {
  std::lock_guard lock(mutex_);
  if (messages_.size() == capacity) messages_.pop_front();
  messages_.push_back(message{next_id_++, std::move(text), std::move(author)});
  return messages_.back();
}

std::vector<message> message_store::latest(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  const auto count = std::min(limit, messages_.size());
  return {messages_.end() - static_cast<std::ptrdiff_t>(count), messages_.end()};
}

std::optional<message> message_store::find(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  // Ids are consecutive, so the position follows from the oldest id still kept.
  if (messages_.empty() || id < messages_.front().id) return std::nullopt;
  const auto index = id - messages_.front().id;
  if (index >= messages_.size()) return std::nullopt;
  return messages_[index];
}

}  // namespace chaperon::demo
