#pragma once
// The API's routes, apart from HTTP transport: a parsed request in, the response to send out.
// Kept free of Beast and Asio so that tests and the fuzz harness can call it directly.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/option_parser.hpp"
#include "chaperon/config.hpp"
#include "chaperon/export.hpp"
#include "cluster/master.hpp"
#include "cluster/queue.hpp"

namespace chaperon::api {

struct api_request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path with optional query string
  std::string_view authorization;
  std::string_view body;
  std::string_view host;    // the Host header
  std::string_view origin;  // the Origin header, sent by browsers
};

struct api_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  // Set: instead of this response, the server streams the events of this test (router::step).
  std::string stream{};
};

// A step of a test's event stream: what to send now ("" when nothing is new), and whether the
// stream ends with it.
struct stream_step {
  std::string text;
  bool end = false;
};

// A load test to schedule, as a POST /load_tests body lists it.
struct schedule_item {
  std::string test;
  json options = json::object();
};

// Reads {"load_tests":[{"test":"Name","options":{...}}]}. Throws invalid_load_test with code
// "invalid_json" or "invalid_field" and a message naming the field; an empty list gives an
// empty vector (the route answers no_load_tests_given).
std::vector<schedule_item> parse_schedule_body(std::string_view body);

// An error body: {"error":code,"message":message} ({"error":code} without a message).
std::string error_body(std::string_view code, std::string_view message = {});

// Whether a request comes from a page of another site: an Origin header whose host:port is not
// the Host header. A browser attaches cached basic-auth credentials to such requests, and a
// page may POST to a master without a token on 127.0.0.1, so they are refused (403).
bool cross_origin(std::string_view origin, std::string_view host);

// Whether a Host header names this machine by address: an IPv4 or [IPv6] literal or
// "localhost", with or without a port, or no Host at all. Without a token, other names are
// refused: a site whose name is made to resolve to 127.0.0.1 (DNS rebinding) would otherwise
// reach the API as a page of its own origin.
bool host_is_address(std::string_view host);

// How results become text for GET /load_tests/<id>/results, /report and /metrics, the
// dashboard's page, and the load tests the program has: the project's exporters and registry
// (exporter_text(), in export_text.cpp). A table of functions, so that the routes build and
// link without them (the fuzz harness does); a router without them answers those routes 404,
// as one without figures does.
struct result_text {
  std::optional<std::string> (*parse_format)(std::string_view name) = nullptr;
  std::vector<std::string> (*format_names)() = nullptr;
  std::string (*render)(const run_results& results, const export_options& options) = nullptr;
  std::string (*prometheus)(const run_results& so_far, const progress_snapshot& live) = nullptr;
  // The HTML report's data (its JSON object) for results and options.series.
  json (*report_data)(const run_results& results, const export_options& options) = nullptr;
  std::string_view (*dashboard_page)() = nullptr;
  std::vector<std::string> (*load_test_names)() = nullptr;
  bool usable() const { return parse_format && format_names && render && prometheus; }
};
result_text exporter_text();

class router {
 public:
  // An empty token: every route is open (the server allows that on loopback addresses only).
  // `figures` (not owned; may be null) serves results, live figures and /metrics: without
  // it, those answer 404.
  router(cluster::test_queue& queue, std::string token,
         std::shared_ptr<const option_parser> parser,
         const cluster::figure_source* figures = nullptr, result_text text = {});
  api_response handle(const api_request& request) const;
  // Beyond the original's routes: GET /dashboard (the page), GET /load_tests/registered (the
  // load tests that may be scheduled), GET /load_tests/ended (the last ended tests, latest
  // first), GET /load_tests/<id>/report (the HTML report's data: live while the test runs, with
  // "live" figures and the running "nodes"; its results once it has ended).
  //
  // The next step of GET /load_tests/<id>/events, a Server-Sent Events stream: an "event: live"
  // with the live figures (as GET /load_tests/<id> gives them) each time the master has merged
  // new ones, then an "event: end" with the test's status when it has ended. `sent` is the
  // elapsed time of the last live event sent (zero at first), updated when one is.
  stream_step step(const std::string& id, std::chrono::steady_clock::duration& sent) const;

 private:
  api_response load_tests(const api_request& request) const;
  api_response schedule(std::string_view body) const;
  api_response one_test(std::string_view method, const std::string& id) const;
  api_response results(std::string_view method, const std::string& id,
                       std::string_view query) const;
  api_response metrics(std::string_view method) const;
  api_response events(std::string_view method, const std::string& id) const;
  api_response report(std::string_view method, const std::string& id) const;
  api_response dashboard(std::string_view method) const;
  api_response listing(std::string_view method, std::string_view which) const;
  // The report's data as JSON text; from the cache when `key` is the cached one, else made
  // (nullopt when `make` finds nothing).
  std::optional<std::string> report_text(const std::string& key,
                                         const std::function<std::optional<json>()>& make) const;

  cluster::test_queue& queue_;
  std::string token_;
  std::shared_ptr<const option_parser> parser_;
  const cluster::figure_source* figures_;
  result_text text_;
  // The last report data served: every open dashboard asks for the same one each interval.
  struct report_cache {
    std::mutex mutex;
    std::string key;
    std::string text;
  };
  std::unique_ptr<report_cache> cache_ = std::make_unique<report_cache>();
};

}  // namespace chaperon::api
