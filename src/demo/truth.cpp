// The endpoints and their promises are documented in truth.hpp.
#include "demo/truth.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "demo/text_util.hpp"

namespace chaperon::demo {

namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr std::string_view prefix = "/truth/";
constexpr std::string_view fixed_prefix = "/truth/fixed/";

response plain(unsigned status, std::string body, std::string_view type) {
  response res;
  res.status = status;
  res.content_type = std::string(type);
  res.body = std::move(body);
  return res;
}

// Error texts here never need escaping, so the JSON is written by hand.
response bad_request(std::string_view text) {
  return plain(400, fmt::format(R"({{"error":"{}"}})", text), "application/json");
}

response method_not_allowed(std::string_view allow) {
  auto res = plain(405, R"({"error":"method not allowed"})", "application/json");
  res.headers.push_back({"Allow", std::string(allow)});
  return res;
}

std::optional<std::uint64_t> number_param(const key_value_list& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return parse_uint(value);
  }
  return std::nullopt;
}

std::optional<microseconds> delay_param(const key_value_list& params, std::string_view name) {
  const auto value = number_param(params, name);
  if (!value || *value > static_cast<std::uint64_t>(truth_target::max_delay.count())) {
    return std::nullopt;
  }
  return microseconds(*value);
}

std::string delay_error(std::string_view names) {
  return fmt::format("{} must be integers in 0..{} (microseconds)", names,
                     truth_target::max_delay.count());
}

}  // namespace

microseconds pattern_delay(std::uint64_t n, microseconds base, microseconds slow,
                           std::uint64_t every) {
  return n % every == 0 ? slow : base;
}

microseconds uniform_delay(std::uint64_t n, microseconds min, microseconds max,
                           std::uint64_t steps) {
  if (steps <= 1) return min;
  const auto step = (n - 1) % steps;
  // Multiplying first keeps the spread exact; both factors are bounded (60 s in us, and steps
  // is reduced modulo), so the product fits easily.
  const auto span = static_cast<std::uint64_t>((max - min).count());
  return min + microseconds(static_cast<microseconds::rep>(step * span / (steps - 1)));
}

truth_clock::time_point apply_stalls(truth_clock::time_point due, std::vector<truth_stall> stalls) {
  std::sort(stalls.begin(), stalls.end(),
            [](const truth_stall& a, const truth_stall& b) { return a.start < b.start; });
  // In start order, one pass suffices: being pushed only ever moves `due` later.
  for (const auto& stall : stalls) {
    if (due >= stall.start && due < stall.end) due = stall.end;
  }
  return due;
}

std::optional<response> truth_target::handle(const request& req) {
  const std::string_view path = req.path;
  if (!path.starts_with(prefix)) return std::nullopt;
  const auto arrival = req.arrival == truth_clock::time_point{} ? truth_clock::now() : req.arrival;
  const bool post = req.method == "POST";
  if (path == "/truth/stall") return post ? stall_route(req, arrival) : method_not_allowed("POST");
  if (path == "/truth/reset") {
    if (!post) return method_not_allowed("POST");
    reset();
    return plain(200, R"({"reset":true})", "application/json");
  }
  if (!req.is_get()) return method_not_allowed("GET, HEAD");
  const auto params = parse_query(req.query);
  if (path.starts_with(fixed_prefix)) {
    const auto text = path.substr(fixed_prefix.size());
    const auto delay = parse_uint(text);
    if (!delay || *delay > static_cast<std::uint64_t>(max_delay.count())) {
      return bad_request(delay_error("the delay"));
    }
    return answer_after(arrival, microseconds(*delay));
  }
  if (path == "/truth/pattern") {
    const auto base = delay_param(params, "base");
    const auto slow = delay_param(params, "slow");
    const auto every = number_param(params, "every");
    if (!base || !slow) return bad_request(delay_error("base and slow"));
    if (!every || *every == 0) return bad_request("every must be a positive integer");
    const auto n = pattern_count_.fetch_add(1, std::memory_order_relaxed) + 1;
    return answer_after(arrival, pattern_delay(n, *base, *slow, *every));
  }
  if (path == "/truth/uniform") {
    const auto min = delay_param(params, "min");
    const auto max = delay_param(params, "max");
    const auto steps = number_param(params, "steps");
    if (!min || !max || *min > *max) return bad_request(delay_error("min <= max"));
    if (!steps || *steps == 0) return bad_request("steps must be a positive integer");
    const auto n = uniform_count_.fetch_add(1, std::memory_order_relaxed) + 1;
    return answer_after(arrival, uniform_delay(n, *min, *max, *steps));
  }
  return plain(404, R"({"error":"not found"})", "application/json");
}

response truth_target::answer_after(truth_clock::time_point arrival, microseconds delay) const {
  std::vector<truth_stall> stalls;
  {
    std::lock_guard lock(stall_mutex_);
    stalls = stalls_;
  }
  const auto due = stalls.empty() ? arrival + delay : apply_stalls(arrival + delay, stalls);
  auto res = plain(200, "ok", "text/plain");
  res.delay = std::chrono::ceil<microseconds>(due - arrival);
  return res;
}

response truth_target::stall_route(const request& req, truth_clock::time_point arrival) {
  const auto params = parse_query(req.query);
  const auto after = number_param(params, "after_ms");
  const auto length = number_param(params, "for_ms");
  if (!after || !length || *after > max_stall_ms || *length > max_stall_ms) {
    return bad_request(fmt::format("after_ms and for_ms must be integers in 0..{}", max_stall_ms));
  }
  arm_stall(arrival + milliseconds(*after), milliseconds(*length));
  return plain(200,
               fmt::format(R"({{"stall_start_ms_from_now":{},"stall_ms":{}}})", *after, *length),
               "application/json");
}

void truth_target::arm_stall(truth_clock::time_point start, truth_clock::duration length) {
  if (length <= truth_clock::duration::zero()) return;
  const auto now = truth_clock::now();
  std::lock_guard lock(stall_mutex_);
  std::erase_if(stalls_, [now](const truth_stall& stall) { return stall.end <= now; });
  if (stalls_.size() >= max_stalls) stalls_.erase(stalls_.begin());
  stalls_.push_back({start, start + length});
}

void truth_target::reset() {
  pattern_count_.store(0, std::memory_order_relaxed);
  uniform_count_.store(0, std::memory_order_relaxed);
  std::lock_guard lock(stall_mutex_);
  stalls_.clear();
}

}  // namespace chaperon::demo
