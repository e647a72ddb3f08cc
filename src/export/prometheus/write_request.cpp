// The body of a remote-write request: protobuf WriteRequest, snappy block format.
#include <algorithm>
#include <stdexcept>

#include <snappy.h>

#include "export/prometheus/model.hpp"
#include "prometheus/remote_write.pb.h"

namespace chaperon::prometheus_detail {
namespace {

// The series' labels: `extra` first so that they win over the sample's own, then __name__;
// sorted by name, one per name, as the protocol requires.
label_list series_labels(const std::string& name, const label_list& own, const label_list& extra) {
  label_list labels = extra;
  labels.emplace_back("__name__", name);
  labels.insert(labels.end(), own.begin(), own.end());
  std::stable_sort(labels.begin(), labels.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  labels.erase(std::unique(labels.begin(), labels.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               labels.end());
  // Prometheus treats an empty value as an absent label and rejects it on the wire.
  std::erase_if(labels, [](const auto& l) { return l.second.empty(); });
  return labels;
}

}  // namespace

std::string encode_write_request(const std::vector<family>& families, const label_list& extra,
                                 std::int64_t timestamp_ms, std::size_t& samples) {
  prometheus::WriteRequest request;
  samples = 0;
  for (const auto& f : families) {
    for (const auto& s : f.samples) {
      auto* series = request.add_timeseries();
      for (auto& [name, value] : series_labels(f.name + s.suffix, s.labels, extra)) {
        auto* label = series->add_labels();
        label->set_name(std::move(name));
        label->set_value(std::move(value));
      }
      auto* point = series->add_samples();
      point->set_value(s.value);
      point->set_timestamp(timestamp_ms);
      ++samples;
    }
  }
  std::string compressed;
  const auto plain = request.SerializeAsString();
  snappy::Compress(plain.data(), plain.size(), &compressed);
  return compressed;
}

std::vector<written_series> decode_write_request(const std::string& body) {
  std::string plain;
  if (!snappy::Uncompress(body.data(), body.size(), &plain)) {
    throw std::invalid_argument("remote-write body: not snappy block format");
  }
  prometheus::WriteRequest request;
  if (!request.ParseFromString(plain)) {
    throw std::invalid_argument("remote-write body: not a WriteRequest");
  }
  std::vector<written_series> out;
  for (const auto& series : request.timeseries()) {
    auto& back = out.emplace_back();
    for (const auto& label : series.labels()) back.labels.emplace_back(label.name(), label.value());
    for (const auto& s : series.samples()) back.samples.emplace_back(s.value(), s.timestamp());
  }
  return out;
}

}  // namespace chaperon::prometheus_detail
