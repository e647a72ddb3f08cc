#include "demo/session_store.hpp"

#include <utility>

#include <fmt/format.h>

namespace chaperon::demo {

namespace {

std::uint64_t seed_from_device() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

session_store::session_store() : random_(seed_from_device()) {}

std::string session_store::create(std::string user) {
  std::lock_guard lock(mutex_);
  std::string token;
  do {
    token = fmt::format("{:016x}{:016x}", random_(), random_());
  } while (sessions_.contains(token));
  while (sessions_.size() >= capacity && !by_age_.empty()) {
    sessions_.erase(by_age_.begin()->second);
    by_age_.erase(by_age_.begin());
  }
  const auto serial = next_serial_++;
  sessions_.emplace(token, entry{std::move(user), serial});
  by_age_.emplace(serial, token);
  return token;
}

std::optional<std::string> session_store::user_of(std::string_view token) const {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(std::string(token));
  if (it == sessions_.end()) return std::nullopt;
  return it->second.user;
}

void session_store::remove(std::string_view token) {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(std::string(token));
  if (it == sessions_.end()) return;
  by_age_.erase(it->second.serial);
  sessions_.erase(it);
}

}  // namespace chaperon::demo
