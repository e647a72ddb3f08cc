#include "engine/run_control.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "metrics/threshold_verdicts.hpp"

namespace chaperon::detail {

namespace {

using steady = std::chrono::steady_clock;

void add_part(run_results& total, const interval& part) {
  for (const auto& [key, h] : part.metrics) total.metrics[key].merge(h);
  for (const auto& [key, h] : part.corrected) total.corrected[key].merge(h);
  for (const auto& [reason, n] : part.session_errors) total.session_errors[reason] += n;
  total.sessions.merge(part.sessions);
  total.arrivals.merge(part.arrivals);
}

}  // namespace

run_control::run_control(load_test test, run_options options, run_setup setup)
    : test_(std::move(test)),
      options_(std::move(options)),
      setup_(setup),
      series_(setup.interval, options_.max_series_points) {
  thresholds_ = test_.thresholds();
  thresholds_.insert(thresholds_.end(), options_.thresholds.begin(), options_.thresholds.end());
}

run_control::~run_control() {
  stop("stopped");
  wait();
}

void run_control::start(std::vector<std::unique_ptr<shard>> shards, std::vector<shard_plan> plans,
                        steady::time_point start) {
  shards_ = std::move(shards);
  start_ = start;
  start_wall_ = std::chrono::system_clock::now();
  next_index_.assign(shards_.size(), 0);
  shard_finished_.assign(shards_.size(), false);
  for (auto& s : shards_) {
    s->deliver_intervals(
        [this](std::size_t shard, std::size_t index, interval&& part) {
          deliver({shard, index, std::move(part), false});
        },
        start_, setup_.interval);
  }
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    threads_.emplace_back([this, i, plan = std::move(plans[i])]() mutable {
      run_shard(i, std::move(plan));
    });
  }
  supervisor_ = std::thread([this] { supervise(); });
}

void run_control::run_shard(std::size_t i, shard_plan plan) {
  auto& s = *shards_[i];
  s.run(std::move(plan.sessions), std::move(plan.models));
  delivery last{i, s.final_interval_index(), s.take_final_interval(), true};
  auto generator = s.take_generator();
  // The sessions of this shard ran on this thread, which noted their config reads.
  auto reads = take_thread_config_reads();
  {
    std::lock_guard lock(mutex_);
    inbox_.push_back(std::move(last));
    generator_.merge(generator);
    config_reads_.merge(reads);
    if (++shards_done_ == shards_.size()) end_us_ = elapsed_us();
  }
  cv_.notify_all();
}

void run_control::deliver(delivery d) {
  {
    std::lock_guard lock(mutex_);
    inbox_.push_back(std::move(d));
  }
  cv_.notify_all();
}

std::int64_t run_control::elapsed_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start_).count();
}

void run_control::supervise() {
  std::unique_lock lock(mutex_);
  const auto n = shards_.size();
  auto next_progress = start_ + options_.progress_interval;
  constexpr auto stop_poll = std::chrono::milliseconds(100);
  while (true) {
    absorb_locked();
    if (shards_done_ == n && inbox_.empty()) break;
    const auto now = steady::now();
    if (!stop_sent_) {
      if (setup_.timeout && now >= start_ + *setup_.timeout) {
        send_stop_locked("load_test_timeout");
      } else if (stop_request_) {
        send_stop_locked(*stop_request_);
      } else if (options_.stop.stop_requested()) {
        send_stop_locked("interrupted");
      }
    }
    if (options_.on_progress && now >= next_progress) {
      next_progress += options_.progress_interval;
      auto p = progress_locked();
      lock.unlock();
      options_.on_progress(p);
      lock.lock();
      continue;
    }
    auto wake = now + std::chrono::hours(1);
    if (options_.on_progress) wake = std::min(wake, next_progress);
    if (!stop_sent_) {
      if (setup_.timeout) wake = std::min(wake, start_ + *setup_.timeout);
      if (options_.stop.stop_possible()) wake = std::min(wake, now + stop_poll);
    }
    cv_.wait_until(lock, wake, [&] {
      return !inbox_.empty() || shards_done_ == n || (stop_request_ && !stop_sent_);
    });
  }
  finish_locked();
  lock.unlock();
  cv_.notify_all();
}

void run_control::absorb_locked() {
  if (inbox_.empty()) return;
  auto inbox = std::move(inbox_);
  inbox_.clear();
  const auto length = setup_.interval.count();
  for (auto& d : inbox) {
    add_part(total_, d.part);
    auto [it, fresh] = pending_.try_emplace(d.index);
    if (fresh) {
      it->second.start_us = static_cast<std::int64_t>(d.index) * length;
      it->second.length_us = length;
    }
    it->second.merge(d.part);
    next_index_[d.shard] = std::max(next_index_[d.shard], d.index + 1);
    if (d.last) shard_finished_[d.shard] = true;
  }
  append_complete_locked();
}

// Complete when every shard has handed in its part of it, or has finished (and so has nothing
// more for it).
bool run_control::interval_complete_locked(std::size_t index) const {
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    if (!shard_finished_[s] && next_index_[s] <= index) return false;
  }
  return true;
}

void run_control::append_complete_locked() {
  while (!pending_.empty() && interval_complete_locked(next_append_)) {
    interval part;
    if (auto it = pending_.find(next_append_); it != pending_.end()) {
      part = std::move(it->second);
      pending_.erase(it);
    } else {
      part.start_us = static_cast<std::int64_t>(next_append_) * setup_.interval.count();
      part.length_us = setup_.interval.count();
    }
    // The run's last interval ends with the run.
    if (end_us_ >= 0 && pending_.empty())
      part.length_us = std::clamp<std::int64_t>(end_us_ - part.start_us, 0, part.length_us);
    series_.append(part);
    ++next_append_;
    check_thresholds_locked(part);
  }
}

// abort_on_fail thresholds judge everything measured so far, once per complete interval.
void run_control::check_thresholds_locked(const interval& latest) {
  so_far_.merge(latest);
  so_far_.sessions_active = latest.sessions_active;
  if (stop_sent_) return;
  const std::chrono::microseconds elapsed{latest.start_us + latest.length_us};
  for (std::size_t i = 0; i < thresholds_.size(); ++i) {
    const auto& t = thresholds_[i];
    if (!t.aborts_at(elapsed)) continue;
    if (!evaluate(t, so_far_, static_cast<double>(elapsed.count()) / 1e6).breached()) continue;
    aborted_by_ = i;
    send_stop_locked("threshold " + t.text);
    return;
  }
}

std::vector<threshold_verdict> run_control::verdicts(const run_results& results) const {
  return detail::threshold_verdicts(thresholds_, results, aborted_by_);
}

void run_control::send_stop_locked(const std::string& reason) {
  for (auto& s : shards_) s->request_stop(reason);
  stop_sent_ = true;
}

void run_control::finish_locked() {
  final_ = total_;
  final_.generator = generator_;
  final_.load_test = test_.name();
  final_.start_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(start_wall_.time_since_epoch()).count();
  final_.duration_us = end_us_ >= 0 ? end_us_ : elapsed_us();
  final_.partial = stop_sent_;
  assess_saturation(final_.generator, setup_.limits);
  final_.thresholds = verdicts(final_);
  finished_ = true;
  if (options_.warn_unread_config) warn_unread_config_locked();
}

void run_control::warn_unread_config_locked() const {
  std::string text;
  for (const auto& k : find_unread_config(test_, options_.config, config_reads_))
    text += "chaperon: warning: " + describe(k) + "\n";
  if (text.empty()) return;
  // On a terminal a progress line may be waiting for its next update: start below it.
  if (isatty(STDERR_FILENO)) text.insert(0, "\n");
  std::fputs(text.c_str(), stderr);
}

run_results run_control::snapshot() const {
  std::lock_guard lock(mutex_);
  if (finished_) return final_;
  run_results r = total_;
  r.load_test = test_.name();
  r.start_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(start_wall_.time_since_epoch()).count();
  r.duration_us = elapsed_us();
  r.partial = true;
  return r;
}

progress_snapshot run_control::progress_locked() const {
  progress_snapshot p;
  p.elapsed = steady::now() - start_;
  p.sessions_total = setup_.sessions_total;
  p.requests = total_.total_requests();
  p.errors = total_.error_count();
  if (series_.size() > 0) {
    auto last = series_.point(series_.size() - 1);
    if (last.length_us > 0)
      p.requests_per_second = static_cast<double>(last.requests()) * 1e6 / last.length_us;
  }
  for (const auto& s : shards_) {
    auto& c = s->counters();
    p.sessions_active += c.sessions_active.load(std::memory_order_relaxed);
    p.sessions_done += c.sessions_done.load(std::memory_order_relaxed);
  }
  return p;
}

progress_snapshot run_control::progress() const {
  std::lock_guard lock(mutex_);
  return progress_locked();
}

interval_series run_control::series() const {
  std::lock_guard lock(mutex_);
  return series_;
}

std::vector<interval> run_control::intervals(std::size_t from) const {
  std::lock_guard lock(mutex_);
  return series_.points(from);
}

void run_control::stop(std::string reason) {
  {
    std::lock_guard lock(mutex_);
    if (finished_ || stop_sent_ || stop_request_) return;
    stop_request_ = std::move(reason);
  }
  cv_.notify_all();
}

bool run_control::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

bool run_control::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return finished_; });
}

run_results run_control::wait() {
  std::lock_guard join(join_mutex_);
  if (!joined_) {
    if (supervisor_.joinable()) supervisor_.join();
    for (auto& t : threads_) t.join();
    joined_ = true;
  }
  std::lock_guard lock(mutex_);
  return final_;
}

}  // namespace chaperon::detail
