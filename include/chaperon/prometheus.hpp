#pragma once
// A run's measurements for Prometheus: the text exposition format (version 0.0.4) for a /metrics
// endpoint that Prometheus scrapes while the run lasts, and remote write (protocol 1.0: protobuf,
// snappy) for pushing them to a receiver, since a load test may end before the next scrape.
//
// What is exported (latencies in seconds; every series of a metric carries the labels
// metric="get(http://h/x)", action="get" and target="http://h/x", plus session="..." for
// per-session results):
//   chaperon_requests_total            counter  measurements of each non-error metric (for an
//                                               HTTP method: responses received)
//   chaperon_errors_total              counter  error measurements, label error="HTTP 404", ...
//   chaperon_latency_seconds           summary  quantiles 0.5 0.9 0.95 0.99 0.999, _sum, _count
//   chaperon_value                     summary  the same for value metrics (session::add_value:
//                                               sizes, counts) as recorded, with no unit; such a
//                                               metric is never in chaperon_latency_seconds
//   chaperon_corrected_latency_seconds summary  the same from the intended start (open models)
//   chaperon_sessions_active           gauge
//   chaperon_sessions_started_total    counter
//   chaperon_arrivals_started_total    counter
//   chaperon_arrivals_dropped_total    counter
//   chaperon_schedule_lag_seconds      summary  actual minus intended start of rate-driven work
//   chaperon_loop_delay_seconds        summary  event-loop delay of the engine threads
//   chaperon_generator_saturated       gauge    1 when the generator could not keep up
//   chaperon_run_info                  gauge    1, label load_test="..."
// The values are those of the run so far (cumulative), so rate() and increase() work as usual.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chaperon/metrics.hpp"
#include "chaperon/run.hpp"

namespace chaperon {

// The content type of prometheus_text().
inline constexpr const char* prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

// The run so far in the text exposition format 0.0.4: a "# HELP" and a "# TYPE" line per family,
// label values escaped (\\, \", \n). `live` gives the figures results do not hold (active
// sessions).
std::string prometheus_text(const run_results& so_far, const progress_snapshot& live = {});

// Serves GET /metrics (and HEAD) over HTTP/1.1 on a thread of its own while it exists; any other
// path is 404. `body` is called on that thread once per scrape, so it must be thread-safe
// (load_test_run::snapshot() and progress() are).
class prometheus_server {
 public:
  // `listen` is "ADDR:PORT" (ADDR an IP address or localhost), "[IPv6]:PORT" or ":PORT" (all
  // IPv4 interfaces); port 0 picks a free one (see port()). Throws std::invalid_argument naming `listen` when it is malformed and
  // std::runtime_error when it cannot listen there.
  prometheus_server(const std::string& listen, std::function<std::string()> body);
  // Stops serving and joins the thread.
  ~prometheus_server();
  prometheus_server(const prometheus_server&) = delete;
  prometheus_server& operator=(const prometheus_server&) = delete;

  // The port it listens on.
  std::uint16_t port() const;
  // Scrapes answered so far.
  std::uint64_t scrapes() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

struct prometheus_remote_write_options {
  // The receiver, e.g. "http://127.0.0.1:9090/api/v1/write" (http only).
  std::string url;
  // Added to every series (sorted in with the others); a label of the results with the same name
  // is replaced.
  std::vector<std::pair<std::string, std::string>> labels{{"job", "chaperon"}};
  // Per request: connecting, sending and reading the response together.
  std::chrono::milliseconds timeout{5000};
  // Pushes waiting to be sent; when the receiver is slower than the pushes come, the oldest
  // waiting one is dropped (counted in dropped): each carries cumulative values, so the newest
  // one is worth more.
  std::size_t max_pending = 4;
};

// What a remote writer has done.
struct prometheus_remote_write_stats {
  std::uint64_t sent = 0;     // pushes answered with 2xx
  std::uint64_t failed = 0;   // pushes that failed (connection, timeout, non-2xx answer)
  std::uint64_t dropped = 0;  // pushes dropped unsent (see max_pending)
  std::uint64_t samples = 0;  // samples in the requests sent
  std::string last_error;     // of the last failure, "" when none failed
};

// Sends pushes to a remote-write receiver from a thread of its own: push() only queues, so the
// caller never waits for the network. A push that gets no response, 5xx or 429 is tried twice
// more (unless a newer push is waiting). Failures are counted, never thrown.
class prometheus_remote_writer {
 public:
  // Throws std::invalid_argument naming options.url when it is not an http URL, and naming a
  // label when its name is not a valid Prometheus label name.
  explicit prometheus_remote_writer(prometheus_remote_write_options options);
  // finish() with the configured timeout.
  ~prometheus_remote_writer();
  prometheus_remote_writer(const prometheus_remote_writer&) = delete;
  prometheus_remote_writer& operator=(const prometheus_remote_writer&) = delete;

  // Queues one sample of every series of prometheus_text(so_far, live), all stamped
  // `timestamp_ms` (milliseconds since the Unix epoch). Timestamps should increase from push to
  // push: a receiver rejects samples older than the last one of a series.
  void push(run_results so_far, const progress_snapshot& live, std::int64_t timestamp_ms);
  // push() stamped with the current time.
  void push(run_results so_far, const progress_snapshot& live = {});
  // Sends what is queued (waiting at most `timeout`, then for the request in flight, which ends
  // within options.timeout) and stops the thread; later pushes are dropped. Returns the final
  // stats.
  prometheus_remote_write_stats finish(std::chrono::milliseconds timeout);
  prometheus_remote_write_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chaperon
