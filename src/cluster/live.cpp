#include "cluster/live.hpp"

#include <time.h>

#include "metrics/difference.hpp"
#include "metrics/threshold_verdicts.hpp"

namespace chaperon::cluster {

namespace {

std::chrono::nanoseconds thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

live_view::live_view(std::vector<threshold> thresholds,
                     std::chrono::system_clock::time_point start_at,
                     std::chrono::microseconds interval)
    : thresholds_(std::move(thresholds)), start_at_(start_at), series_(interval) {}

std::optional<interval> live_view::cut(const run_results& merged, std::int64_t at_us,
                                       std::uint64_t active) {
  // Looks come after the start; one that does not move time on (a clock step) adds nothing.
  if (at_us <= looked_at_us_) return std::nullopt;
  auto next = detail::interval_since(merged, looked_);
  next.start_us = looked_at_us_;
  next.length_us = at_us - looked_at_us_;
  next.sessions_active = active;
  series_.append(next);
  looked_ = merged;
  looked_at_us_ = at_us;
  return next;
}

void live_view::report(const std::string& node, const std::string& results_json) {
  const auto before = thread_cpu();
  const auto parsed = json::parse(results_json, nullptr, false);
  if (auto results = parsed.is_discarded() ? std::nullopt : run_results::try_from_json(parsed)) {
    latest_[node] = std::move(*results);
    ++reports_;
  }
  cpu_ += thread_cpu() - before;
}

live_view::outcome live_view::evaluate(run_results ended, const std::vector<std::string>& running,
                                       const node_figures& figures) {
  const auto before = thread_cpu();
  for (const auto& node : running) {
    if (auto it = latest_.find(node); it != latest_.end()) ended.merge(it->second);
  }
  cpu_ += thread_cpu() - before;

  outcome out;
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now() - start_at_);
  ended.duration_us = std::max<std::int64_t>(1, elapsed.count());
  auto& p = out.progress;
  p.elapsed = std::max(std::chrono::steady_clock::duration::zero(),
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(elapsed));
  p.requests = ended.total_requests();
  p.errors = ended.error_count();
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - last_tick_).count();
  if (seconds > 0 && p.requests >= last_requests_)
    p.requests_per_second = static_cast<double>(p.requests - last_requests_) / seconds;
  last_requests_ = p.requests;
  last_tick_ = now;
  p.sessions_active = figures.active;
  p.sessions_done = figures.done;
  p.sessions_total = figures.total;

  out.next = cut(ended, ended.duration_us, figures.active);
  out.merged = std::move(ended);
  for (std::size_t i = 0; !aborted_by_ && i < thresholds_.size(); ++i) {
    const auto& t = thresholds_[i];
    if (!t.aborts_at(elapsed) || !chaperon::evaluate(t, out.merged).breached()) continue;
    aborted_by_ = i;
    out.abort = "threshold " + t.text;
  }
  out.verdicts = detail::threshold_verdicts(thresholds_, out.merged, aborted_by_);
  return out;
}

interval_series live_view::finish(const run_results& final_results) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now() - start_at_);
  cut(final_results, std::max(elapsed.count(), looked_at_us_ + 1), 0);
  return std::move(series_);
}

std::pair<std::uint64_t, std::uint64_t> live_view::node_counts(const std::string& node) const {
  const auto it = latest_.find(node);
  if (it == latest_.end()) return {0, 0};
  return {it->second.total_requests(), it->second.error_count()};
}

std::vector<threshold_verdict> live_view::verdicts(const run_results& results) const {
  return detail::threshold_verdicts(thresholds_, results, aborted_by_);
}

}  // namespace chaperon::cluster
