#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "chaperon/prometheus.hpp"
#include "export/prometheus/http.hpp"
#include "export/prometheus/model.hpp"

namespace chaperon {

namespace {

struct pending_push {
  run_results so_far;
  progress_snapshot live;
  std::int64_t timestamp_ms = 0;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

net::url receiver_url(const std::string& text) {
  std::string error;
  auto parsed = net::parse_url(text, &error);
  if (!parsed) {
    throw std::invalid_argument(fmt::format("bad Prometheus remote-write URL: {}", error));
  }
  if (parsed->scheme != "http") {
    throw std::invalid_argument(fmt::format(
        "bad Prometheus remote-write URL \"{}\": only http:// is supported", text));
  }
  return *parsed;
}

}  // namespace

struct prometheus_remote_writer::impl {
  prometheus_remote_write_options options;
  net::url url;
  std::vector<std::pair<std::string, std::string>> headers{
      {"Content-Encoding", "snappy"},
      {"Content-Type", "application/x-protobuf"},
      {"X-Prometheus-Remote-Write-Version", "0.1.0"},
      {"User-Agent", "chaperon-prometheus-remote-write"}};

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::deque<pending_push> queue;
  bool sending = false;   // a push is being sent (taken off the queue)
  bool stopping = false;  // finish() was called: send what is queued, then end
  bool abandon = false;   // finish() timed out: no more retries
  prometheus_remote_write_stats stats;
  std::thread thread;

  void run() {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) return;
      auto next = std::move(queue.front());
      queue.pop_front();
      sending = true;
      lock.unlock();
      send(next);
      lock.lock();
      sending = false;
      changed.notify_all();
    }
  }

  void send(const pending_push& push) {
    std::size_t samples = 0;
    const auto body = prometheus_detail::encode_write_request(
        prometheus_detail::collect(push.so_far, push.live), options.labels, push.timestamp_ms,
        samples);
    const auto result = post_with_retries(body);
    std::lock_guard lock(mutex);
    if (result.error.empty()) {
      ++stats.sent;
      stats.samples += samples;
    } else {
      ++stats.failed;
      stats.last_error = fmt::format("{}: {}", options.url, result.error);
    }
  }

  // As the protocol asks: no response, 5xx and 429 are tried again (twice, after 250 ms and
  // 1 s), other answers are final. A newer push waiting makes a retry pointless: it carries the
  // same cumulative counters and more.
  prometheus_detail::post_result post_with_retries(const std::string& body) {
    constexpr std::array<std::chrono::milliseconds, 2> backoff{std::chrono::milliseconds(250),
                                                               std::chrono::milliseconds(1000)};
    for (std::size_t attempt = 0;; ++attempt) {
      auto result = prometheus_detail::http_post(url, headers, body, options.timeout);
      const bool retryable = result.status == 0 || result.status >= 500 || result.status == 429;
      if (result.error.empty() || !retryable || attempt == backoff.size()) return result;
      std::unique_lock lock(mutex);
      if (changed.wait_for(lock, backoff[attempt], [this] { return !queue.empty() || abandon; })) {
        return result;
      }
    }
  }
};

prometheus_remote_writer::prometheus_remote_writer(prometheus_remote_write_options options)
    : impl_(std::make_unique<impl>()) {
  impl_->url = receiver_url(options.url);
  for (const auto& [name, value] : options.labels) {
    if (!prometheus_detail::valid_label_name(name) || name.starts_with("__")) {
      throw std::invalid_argument(
          fmt::format("bad Prometheus label name \"{}\" for remote write", name));
    }
  }
  if (options.max_pending == 0) options.max_pending = 1;
  impl_->options = std::move(options);
  impl_->thread = std::thread([this] { impl_->run(); });
}

prometheus_remote_writer::~prometheus_remote_writer() { finish(impl_->options.timeout); }

void prometheus_remote_writer::push(run_results so_far, const progress_snapshot& live,
                                    std::int64_t timestamp_ms) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->stopping) {
    ++impl_->stats.dropped;
    return;
  }
  if (impl_->queue.size() >= impl_->options.max_pending) {
    impl_->queue.pop_front();
    ++impl_->stats.dropped;
  }
  impl_->queue.push_back({std::move(so_far), live, timestamp_ms});
  impl_->changed.notify_all();
}

void prometheus_remote_writer::push(run_results so_far, const progress_snapshot& live) {
  push(std::move(so_far), live, now_ms());
}

prometheus_remote_write_stats prometheus_remote_writer::finish(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  if (!impl_->thread.joinable()) return impl_->stats;
  impl_->stopping = true;
  impl_->changed.notify_all();
  const bool drained = impl_->changed.wait_for(
      lock, timeout, [this] { return impl_->queue.empty() && !impl_->sending; });
  if (!drained) {
    impl_->stats.dropped += impl_->queue.size();
    impl_->queue.clear();
    impl_->abandon = true;
    impl_->changed.notify_all();
  }
  lock.unlock();
  // A request in flight ends within its own timeout.
  impl_->thread.join();
  return stats();
}

prometheus_remote_write_stats prometheus_remote_writer::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

}  // namespace chaperon
