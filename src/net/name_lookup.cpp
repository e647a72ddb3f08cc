#include "net/name_lookup.hpp"

#include <netdb.h>
#include <netinet/in.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace chaperon::net {

namespace {

// getaddrinfo's own error numbers (EAI_*), with gai_strerror's messages.
class lookup_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

const std::error_category& lookup_errors() {
  static const lookup_category category;
  return category;
}

lookup_result lookup_now(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // As Asio's resolver does by default: no IPv6 answers on a host without IPv6.
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  lookup_result result;
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc == EAI_SYSTEM) {
    result.error = std::error_code(errno, std::system_category());
    return result;
  }
  if (rc != 0) {
    result.error = std::error_code(rc, lookup_errors());
    return result;
  }
  for (auto* a = found; a; a = a->ai_next) {
    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
        a->ai_addrlen > sizeof(sockaddr_storage)) {
      continue;
    }
    sockaddr_storage address{};
    std::memcpy(&address, a->ai_addr, a->ai_addrlen);
    result.addresses.push_back(address);
  }
  ::freeaddrinfo(found);
  if (result.addresses.empty()) result.error = std::error_code(EAI_NONAME, lookup_errors());
  return result;
}

struct lookup_job {
  std::string host;
  std::uint16_t port = 0;
  std::function<void(lookup_result)> done;
};

// One thread for the process. Never destroyed: at exit it may be blocked inside getaddrinfo,
// which no one can interrupt, and joining it would hold the exit up for as long.
class lookup_thread {
 public:
  static lookup_thread& instance() {
    static auto* const the = new lookup_thread;
    return *the;
  }

  void submit(lookup_job job) {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
    if (!started_) {
      started_ = true;
      std::thread([this] { loop(); }).detach();
    }
    ready_.notify_one();
  }

  void set_observer(std::function<void(const std::string&)> observer) {
    std::lock_guard lock(mutex_);
    observer_ = std::move(observer);
  }

 private:
  void loop() {
    for (;;) {
      lookup_job job;
      std::function<void(const std::string&)> observer;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
        observer = observer_;
      }
      if (observer) observer(job.host);
      job.done(lookup_now(job.host, job.port));
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<lookup_job> jobs_;
  std::function<void(const std::string&)> observer_;
  bool started_ = false;
};

}  // namespace

void lookup_async(std::string host, std::uint16_t port, std::function<void(lookup_result)> done) {
  lookup_thread::instance().submit(lookup_job{std::move(host), port, std::move(done)});
}

void set_lookup_observer(std::function<void(const std::string& host)> observer) {
  lookup_thread::instance().set_observer(std::move(observer));
}

}  // namespace chaperon::net
