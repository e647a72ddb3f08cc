#include "cluster/shares.hpp"

#include <algorithm>
#include <numeric>

#include "engine/load_model.hpp"

namespace chaperon::cluster {

namespace {

constexpr std::uint64_t max_parts_per_node = 16;

std::vector<std::uint64_t> weights_of(const std::vector<std::uint32_t>& capacities) {
  std::uint64_t given = 0;
  std::uint64_t sum = 0;
  for (auto c : capacities) {
    given += c != 0;
    sum += c;
  }
  const std::uint64_t fill = given ? std::max<std::uint64_t>(1, (sum + given / 2) / given) : 1;
  std::vector<std::uint64_t> w;
  for (auto c : capacities) w.push_back(c ? c : fill);
  std::uint64_t g = 0;
  for (auto x : w) g = std::gcd(g, x);
  for (auto& x : w) x /= g;
  return w;
}

// Rounds weights to `parts` parts in all, each at least 1, by largest remainder (ties: the
// earlier node), so the result depends on the weights alone.
std::vector<std::uint64_t> rounded(const std::vector<std::uint64_t>& w, std::uint64_t parts) {
  const auto total = std::accumulate(w.begin(), w.end(), std::uint64_t{0});
  const auto spare = parts - w.size();  // each node has one part already
  std::vector<std::uint64_t> out(w.size(), 1);
  std::vector<std::pair<std::uint64_t, std::size_t>> remainders;
  std::uint64_t given = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto exact = w[i] * spare;  // below 2^32 * 16 * nodes
    out[i] += static_cast<std::uint64_t>(exact / total);
    given += static_cast<std::uint64_t>(exact / total);
    remainders.emplace_back(static_cast<std::uint64_t>(exact % total), i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < spare; ++k, ++given) ++out[remainders[k].second];
  return out;
}

std::uint64_t parts_of(std::uint64_t total, const share& part) {
  std::uint64_t n = 0;
  for (auto p = part.index; p < part.index + part.width; ++p)
    n += detail::share_of(static_cast<std::size_t>(total), p, part.count);
  return n;
}

}  // namespace

std::vector<share> weighted_shares(const std::vector<std::uint32_t>& capacities) {
  if (capacities.empty()) return {};
  auto w = weights_of(capacities);
  const auto total = std::accumulate(w.begin(), w.end(), std::uint64_t{0});
  const auto limit = max_parts_per_node * w.size();
  if (total > limit) w = rounded(w, limit);
  const auto count = std::accumulate(w.begin(), w.end(), std::uint64_t{0});
  std::vector<share> out;
  std::uint64_t index = 0;
  for (auto x : w) {
    out.push_back(share{index, count, x});
    index += x;
  }
  return out;
}

share_size size_of(const load_test& test, const share& part) {
  share_size out;
  std::size_t session_no = 0;
  for (const auto& e : test.entries()) {
    switch (e.model.kind) {
      case load_kind::at_once:
        for (std::size_t i = 0; i < e.count; ++i, ++session_no) {
          const auto p = session_no % part.count;
          out.sessions += p >= part.index && p < part.index + part.width;
        }
        break;
      case load_kind::ramping_sessions:
        out.sessions += parts_of(static_cast<std::uint64_t>(e.model.peak()), part);
        break;
      case load_kind::arrival_rate: {
        // Arrival n belongs to part n % count.
        const auto total = detail::arrival_count(detail::stage_curve(e.model.start, e.model.stages));
        for (auto p = part.index; p < part.index + part.width; ++p)
          out.arrivals += total > p ? (total - p + part.count - 1) / part.count : 0;
        break;
      }
    }
  }
  return out;
}

}  // namespace chaperon::cluster
