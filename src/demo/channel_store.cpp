#include "demo/channel_store.hpp"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

namespace chaperon::demo {

namespace {

using json = nlohmann::ordered_json;

// A JSON string literal; invalid UTF-8 is replaced because bodies are arbitrary bytes.
std::string json_string(std::string_view text) {
  return json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string document_of(std::uint64_t sequence, std::string_view quoted_body) {
  std::string out = R"({"sequence":)";
  out += std::to_string(sequence);
  out += R"(,"message":)";
  out += quoted_body;
  out += '}';
  return out;
}

}  // namespace

// ---- channel_subscription ----------------------------------------------------------------------

channel_subscription::channel_subscription(channel_store* store, std::string channel,
                                           std::uint64_t id)
    : store_(store), channel_(std::move(channel)), id_(id) {}

channel_subscription::~channel_subscription() { reset(); }

channel_subscription::channel_subscription(channel_subscription&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)),
      channel_(std::move(other.channel_)),
      id_(other.id_) {}

channel_subscription& channel_subscription::operator=(channel_subscription&& other) noexcept {
  if (this != &other) {
    reset();
    store_ = std::exchange(other.store_, nullptr);
    channel_ = std::move(other.channel_);
    id_ = other.id_;
  }
  return *this;
}

void channel_subscription::reset() {
  if (auto* store = std::exchange(store_, nullptr)) store->unsubscribe(channel_, id_);
}

// ---- channel_store -----------------------------------------------------------------------------

bool channel_store::valid_name(std::string_view name) {
  return !name.empty() && name.size() <= max_name_length &&
         name.find('/') == std::string_view::npos;
}

channel_store::channel* channel_store::find_or_create(std::string_view name, channel_error& error) {
  if (!valid_name(name)) {
    error = channel_error::bad_name;
    return nullptr;
  }
  if (const auto it = channels_.find(name); it != channels_.end()) return &it->second;
  if (channels_.size() >= max_channels) {
    error = channel_error::too_many_channels;
    return nullptr;
  }
  return &channels_.emplace(std::string(name), channel{}).first->second;
}

std::uint64_t channel_store::publish(std::string_view name, std::string body,
                                     channel_error& error) {
  error = channel_error::none;
  // Escaping a large body is the expensive part, so it happens before taking the lock.
  const auto escaped = json_string(body);
  auto message = std::make_shared<channel_message>();
  message->body = std::move(body);
  // Declared before the lock so that these references are dropped after unlocking: a
  // subscriber whose last owner goes away here unsubscribes, which takes the lock again.
  std::vector<std::shared_ptr<channel_subscriber>> reached;
  std::lock_guard lock(mutex_);
  auto* target = find_or_create(name, error);
  if (target == nullptr) return 0;
  message->sequence = target->next_sequence++;
  message->document = document_of(message->sequence, escaped);
  channel_message_ptr shared = std::move(message);
  if (target->messages.size() == retained) target->messages.pop_front();
  target->messages.push_back(shared);
  reached.reserve(target->subscribers.size());
  for (auto it = target->subscribers.begin(); it != target->subscribers.end();) {
    if (auto subscriber = it->second.lock()) {
      subscriber->deliver(shared);
      reached.push_back(std::move(subscriber));
      ++it;
    } else {
      it = target->subscribers.erase(it);
    }
  }
  return shared->sequence;
}

channel_message_ptr channel_store::latest(std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto it = channels_.find(name);
  if (it == channels_.end() || it->second.messages.empty()) return nullptr;
  return it->second.messages.back();
}

std::vector<channel_message_ptr> channel_store::since(std::string_view name,
                                                      std::uint64_t after) const {
  std::vector<channel_message_ptr> out;
  std::lock_guard lock(mutex_);
  const auto it = channels_.find(name);
  if (it == channels_.end()) return out;
  const auto& messages = it->second.messages;
  // Sequences in the window are consecutive, so the first one wanted is found by arithmetic.
  if (messages.empty() || messages.back()->sequence <= after) return out;
  const auto first = messages.front()->sequence;
  const auto skip = after < first ? 0 : after - first + 1;
  out.assign(messages.begin() + static_cast<std::ptrdiff_t>(skip), messages.end());
  return out;
}

channel_subscription channel_store::subscribe(std::string_view name,
                                              std::weak_ptr<channel_subscriber> subscriber,
                                              channel_error& error) {
  error = channel_error::none;
  std::lock_guard lock(mutex_);
  auto* target = find_or_create(name, error);
  if (target == nullptr) return {};
  const auto id = next_subscriber_id_++;
  target->subscribers.emplace(id, std::move(subscriber));
  return channel_subscription(this, std::string(name), id);
}

void channel_store::unsubscribe(const std::string& name, std::uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto it = channels_.find(name);
  if (it == channels_.end()) return;
  it->second.subscribers.erase(id);
  // A channel nobody published to and nobody listens on would only count against the limit.
  if (it->second.subscribers.empty() && it->second.messages.empty()) channels_.erase(it);
}

std::size_t channel_store::channel_count() const {
  std::lock_guard lock(mutex_);
  return channels_.size();
}

std::size_t channel_store::subscriber_count(std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto it = channels_.find(name);
  return it == channels_.end() ? 0 : it->second.subscribers.size();
}

// ---- channel_cursor ----------------------------------------------------------------------------

bool channel_cursor::admit_live(std::uint64_t sequence) {
  // Live messages arrive in publication order, so anything at or below high_ was replayed.
  if (sequence <= high_) return false;
  if (high_ == 0) low_ = sequence;
  high_ = sequence;
  return true;
}

std::vector<channel_message_ptr> channel_cursor::admit_replay(
    std::vector<channel_message_ptr> retained) {
  std::erase_if(retained, [this](const channel_message_ptr& message) {
    return high_ != 0 && message->sequence >= low_ && message->sequence <= high_;
  });
  if (!retained.empty()) {
    const auto first = retained.front()->sequence;
    const auto last = retained.back()->sequence;
    low_ = high_ == 0 ? first : std::min(low_, first);
    high_ = std::max(high_, last);
  }
  return retained;
}

// ---- documents ---------------------------------------------------------------------------------

std::optional<std::uint64_t> parse_replay_request(std::string_view text) {
  const auto parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  const auto field = parsed.find("last_message_sequence");
  if (field == parsed.end() || !field->is_number_unsigned()) {
    // nlohmann types non-negative literals as unsigned, so this also refuses -1 and 1.5.
    return std::nullopt;
  }
  return field->get<std::uint64_t>();
}

std::string channel_document(std::uint64_t sequence, std::string_view body) {
  return document_of(sequence, json_string(body));
}

}  // namespace chaperon::demo
