#include "api/routes.hpp"

#include "api/auth.hpp"
#include "chaperon/export.hpp"
#include "chaperon/prometheus.hpp"

#ifndef CHAPERON_VERSION
#define CHAPERON_VERSION "unknown"
#endif

namespace chaperon::api {

namespace {

constexpr std::string_view tests_path = "/load_tests";

api_response json_response(int status, const json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

api_response error_response(int status, std::string_view code, std::string_view message = {}) {
  return {status, "application/json", error_body(code, message), {}};
}

api_response text_response(std::string text) {
  return {200, "text/plain; charset=utf-8", std::move(text), {}};
}

api_response method_not_allowed(std::string_view allow) {
  auto r = error_response(405, "method_not_allowed", "allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", allow);
  return r;
}

json test_json(const cluster::test_status& s) {
  json j{{"name", s.load_test}, {"id", s.id}, {"state", cluster::to_string(s.state)}};
  if (!s.error.empty()) j["error"] = s.error;
  if (!s.tag.empty()) j["tag"] = s.tag;
  return j;
}

json live_json(const cluster::live_figures& live) {
  const auto& p = live.progress;
  auto nodes = json::array();
  for (const auto& n : live.nodes) {
    nodes.push_back({{"name", n.name},
                     {"requests", n.requests},
                     {"errors", n.errors},
                     {"sessions_active", n.sessions_active},
                     {"sessions_done", n.sessions_done},
                     {"sessions_total", n.sessions_total}});
  }
  return {{"elapsed_s", std::chrono::duration<double>(p.elapsed).count()},
          {"requests", p.requests},
          {"errors", p.errors},
          {"requests_per_second", p.requests_per_second},
          {"sessions_active", p.sessions_active},
          {"sessions_done", p.sessions_done},
          {"sessions_total", p.sessions_total},
          {"nodes", std::move(nodes)}};
}

// The value of `name` in a query string ("a=1&format=csv"); empty when absent. Values are
// taken as sent: the formats' names need no decoding.
std::string_view query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string content_type_of(std::string_view format) {
  if (format == "csv") return "text/csv; charset=utf-8";
  if (format == "html") return "text/html; charset=utf-8";
  if (format == "json" || format == "raw") return "application/json";
  return "application/octet-stream";
}

json tests_json(const std::vector<cluster::test_status>& tests) {
  auto out = json::array();
  for (const auto& t : tests) out.push_back(test_json(t));
  return out;
}

[[noreturn]] void bad_field(const std::string& field, const std::string& what) {
  throw invalid_load_test("invalid_field", field + ": " + what);
}

schedule_item parse_item(const json& item, const std::string& field) {
  if (!item.is_object()) bad_field(field, "must be an object");
  schedule_item out;
  const auto test = item.find("test");
  if (test == item.end()) bad_field(field + ".test", "is missing");
  if (!test->is_string() || test->get_ref<const std::string&>().empty())
    bad_field(field + ".test", "must be a load test's name");
  out.test = test->get<std::string>();
  if (const auto options = item.find("options"); options != item.end() && !options->is_null()) {
    if (!options->is_object()) bad_field(field + ".options", "must be an object");
    out.options = *options;
  }
  return out;
}

}  // namespace

std::string error_body(std::string_view code, std::string_view message) {
  json j{{"error", code}};
  if (!message.empty()) j["message"] = message;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<schedule_item> parse_schedule_body(std::string_view body) {
  const auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) throw invalid_load_test("invalid_json", "the body is not valid JSON");
  if (!j.is_object()) bad_field("body", "must be a JSON object");
  const auto list = j.find("load_tests");
  if (list == j.end()) bad_field("load_tests", "is missing");
  if (!list->is_array()) bad_field("load_tests", "must be an array");
  std::vector<schedule_item> out;
  for (std::size_t i = 0; i < list->size(); ++i)
    out.push_back(parse_item((*list)[i], "load_tests[" + std::to_string(i) + "]"));
  return out;
}

bool cross_origin(std::string_view origin, std::string_view host) {
  if (origin.empty()) return false;
  const auto scheme = origin.find("://");
  if (scheme == std::string_view::npos) return true;  // "null" (sandboxed pages, files) too
  return origin.substr(scheme + 3) != host;
}

bool host_is_address(std::string_view host) {
  if (host.empty() || host.front() == '[') return true;  // none, or an IPv6 literal
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  return !host.empty() &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

router::router(cluster::test_queue& queue, std::string token,
               std::shared_ptr<const option_parser> parser, const cluster::figure_source* figures,
               result_text text)
    : queue_(queue),
      token_(std::move(token)),
      parser_(parser ? std::move(parser) : std::make_shared<default_option_parser>()),
      figures_(figures),
      text_(text) {}

api_response router::handle(const api_request& request) const {
  const auto question = request.target.find('?');
  auto path = request.target.substr(0, question);
  const auto query =
      question == std::string_view::npos ? std::string_view{} : request.target.substr(question + 1);
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const bool open = path == "/" || path == "/healthcheck";
  const bool tests = path == tests_path || path.starts_with("/load_tests/");
  if (!open && !tests && path != "/version" && path != "/metrics" && path != "/dashboard")
    return error_response(404, "not_found");
  if (!open && cross_origin(request.origin, request.host))
    return error_response(403, "cross_origin", "requests from other sites' pages are refused");
  if (!open && token_.empty() && !host_is_address(request.host))
    return error_response(403, "host_not_allowed",
                          "without a token, the Host must be an IP address or localhost");
  if (!open && !authorized(request.authorization, token_)) {
    auto r = error_response(401, "unauthorized", "a token is required (basic auth or Bearer)");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"chaperon\", charset=\"UTF-8\"");
    return r;
  }
  if (path == "/metrics") return metrics(request.method);
  if (path == "/dashboard") return dashboard(request.method);
  if (!tests) {
    if (request.method != "GET") return method_not_allowed("GET");
    return text_response(open ? "Chaperon @ " CHAPERON_VERSION : CHAPERON_VERSION);
  }
  if (path == tests_path) return load_tests(request);
  const auto rest = path.substr(tests_path.size() + 1);
  if (rest == "registered" || rest == "ended") return listing(request.method, rest);
  if (rest == "scheduled") {
    if (request.method != "DELETE") return method_not_allowed("DELETE");
    return json_response(202, {{"cancelled", queue_.clear_scheduled()}});
  }
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos && rest.substr(slash) == "/results")
    return results(request.method, std::string(rest.substr(0, slash)), query);
  if (slash != std::string_view::npos && rest.substr(slash) == "/events")
    return events(request.method, std::string(rest.substr(0, slash)));
  if (slash != std::string_view::npos && rest.substr(slash) == "/report")
    return report(request.method, std::string(rest.substr(0, slash)));
  if (slash != std::string_view::npos) return error_response(404, "not_found");
  return one_test(request.method, std::string(rest));
}

api_response router::load_tests(const api_request& request) const {
  if (request.method == "GET")
    return json_response(200, {{"running", tests_json(queue_.running())},
                               {"scheduled", tests_json(queue_.scheduled())}});
  if (request.method == "POST") return schedule(request.body);
  if (request.method == "DELETE") return json_response(202, {{"cancelled", queue_.cancel_all()}});
  return method_not_allowed("GET, POST, DELETE");
}

api_response router::schedule(std::string_view body) const {
  // Every test is checked before any is queued: a request with one bad test queues none.
  std::vector<cluster::run_spec> specs;
  try {
    const auto items = parse_schedule_body(body);
    if (items.empty()) return error_response(400, "no_load_tests_given");
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto field = "load_tests[" + std::to_string(i) + "].options";
      specs.push_back(parser_->parse(items[i].test, items[i].options, field));
      auto& format = specs.back().format;
      if (format.empty() || !text_.parse_format) continue;
      const auto known = text_.parse_format(format);
      if (!known)
        throw invalid_load_test("invalid_option",
                                field + ".format: '" + format + "' is not an export format");
      format = *known;
    }
  } catch (const invalid_load_test& e) {
    return error_response(400, e.code(), e.what());
  }
  auto ids = json::array();
  for (auto& spec : specs) ids.push_back(queue_.schedule(std::move(spec)));
  return json_response(200, {{"scheduled", ids}});
}

api_response router::one_test(std::string_view method, const std::string& id) const {
  if (method != "GET" && method != "DELETE") return method_not_allowed("GET, DELETE");
  const auto status = queue_.status(id);
  if (!status) return error_response(404, "unknown_load_test_id", "no load test with id " + id);
  if (method == "GET") {
    auto body = test_json(*status);
    if (const auto live = figures_ ? figures_->live() : std::nullopt;
        live && live->test_id == id && status->state == cluster::test_state::running)
      body["live"] = live_json(*live);
    return json_response(200, body);
  }
  if (!queue_.cancel(id))
    return error_response(409, "load_test_ended",
                          "load test " + id + " has " + std::string(cluster::to_string(status->state)));
  return json_response(202, {{"cancelled", id}});
}

api_response router::results(std::string_view method, const std::string& id,
                             std::string_view query) const {
  if (method != "GET") return method_not_allowed("GET");
  const auto status = queue_.status(id);
  if (!status) return error_response(404, "unknown_load_test_id", "no load test with id " + id);
  using cluster::test_state;
  if (status->state == test_state::scheduled || status->state == test_state::running)
    return error_response(409, "load_test_" + std::string(cluster::to_string(status->state)),
                          "load test " + id + " has not ended: its results come when it has");
  auto requested = query_value(query, "format");
  if (requested.empty()) requested = "json";
  if (!figures_ || !text_.usable()) return error_response(404, "not_found");
  const auto format = text_.parse_format(requested);
  if (!format) {
    std::string known;
    for (const auto& name : text_.format_names()) known += (known.empty() ? "" : ", ") + name;
    return error_response(400, "unknown_format",
                          "format '" + std::string(requested) + "' is not one of: " + known);
  }
  const auto kept = figures_ ? figures_->results(id) : nullptr;
  if (!kept)
    return error_response(404, "no_results",
                          "load test " + id + " has no results (it never ran, or they are no "
                          "longer kept: the last " +
                              std::to_string(cluster::figure_source::ended_results_kept) + " are)");
  export_options options;
  options.format = *format;
  options.series = kept->series.get();
  return {200, content_type_of(*format), text_.render(kept->results, options), {}};
}

api_response router::metrics(std::string_view method) const {
  if (method != "GET") return method_not_allowed("GET");
  if (!figures_ || !text_.usable()) return error_response(404, "not_found");
  std::string text;
  if (auto live = figures_->live_results()) {
    text = text_.prometheus(live->results, live->figures.progress);
  } else if (const auto last = figures_->last_results(); last.second) {
    text = text_.prometheus(last.second->results, {});
  }
  return {200, prometheus_content_type, std::move(text), {}};
}

api_response router::events(std::string_view method, const std::string& id) const {
  if (method != "GET") return method_not_allowed("GET");
  if (!figures_) return error_response(404, "not_found");
  if (!queue_.status(id))
    return error_response(404, "unknown_load_test_id", "no load test with id " + id);
  api_response out{200, "text/event-stream", {}, {}};
  out.stream = id;
  return out;
}

stream_step router::step(const std::string& id, std::chrono::steady_clock::duration& sent) const {
  const auto status = queue_.status(id);
  if (!status || (status->state != cluster::test_state::scheduled &&
                  status->state != cluster::test_state::running)) {
    // An id no longer known has ended long ago (the queue keeps the last 100).
    const auto body = status ? test_json(*status) : json{{"id", id}, {"state", "unknown"}};
    return {"event: end\ndata: " + body.dump(-1, ' ', false, json::error_handler_t::replace) +
                "\n\n",
            true};
  }
  const auto live = figures_ ? figures_->live() : std::nullopt;
  if (!live || live->test_id != id || live->progress.elapsed == sent) return {};
  sent = live->progress.elapsed;
  return {"event: live\ndata: " + live_json(*live).dump() + "\n\n", false};
}

api_response router::listing(std::string_view method, std::string_view which) const {
  if (method != "GET") return method_not_allowed("GET");
  if (which == "ended") {
    // "results": whether GET /load_tests/<id>/results and /report have its results.
    auto ended = json::array();
    for (const auto& t : queue_.ended()) {
      auto j = test_json(t);
      j["results"] = figures_ && figures_->results(t.id) != nullptr;
      ended.push_back(std::move(j));
    }
    return json_response(200, {{"ended", std::move(ended)}});
  }
  if (!text_.load_test_names) return error_response(404, "not_found");
  return json_response(200, {{"load_tests", text_.load_test_names()}});
}

api_response router::dashboard(std::string_view method) const {
  if (method != "GET") return method_not_allowed("GET");
  if (!text_.dashboard_page) return error_response(404, "not_found");
  api_response out{200, "text/html; charset=utf-8", std::string(text_.dashboard_page()), {}};
  // The page's scripts and styles are inline; it talks to this origin only, and no other
  // site may frame it (clickjacking the cancel buttons).
  out.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; style-src "
                           "'unsafe-inline'; connect-src 'self'; img-src data:; "
                           "frame-ancestors 'none'");
  out.headers.emplace_back("X-Frame-Options", "DENY");
  out.headers.emplace_back("Cache-Control", "no-store");
  return out;
}

std::optional<std::string> router::report_text(
    const std::string& key, const std::function<std::optional<json>()>& make) const {
  {
    std::lock_guard lock(cache_->mutex);
    if (cache_->key == key) return cache_->text;
  }
  // Made outside the lock: two requests may both make it, neither waits on the other.
  const auto data = make();
  if (!data) return std::nullopt;
  auto text = data->dump(-1, ' ', false, json::error_handler_t::replace);
  std::lock_guard lock(cache_->mutex);
  cache_->key = key;
  cache_->text = text;
  return text;
}

api_response router::report(std::string_view method, const std::string& id) const {
  if (method != "GET") return method_not_allowed("GET");
  if (!figures_ || !text_.report_data) return error_response(404, "not_found");
  const auto status = queue_.status(id);
  if (!status) return error_response(404, "unknown_load_test_id", "no load test with id " + id);
  using cluster::test_state;
  const auto stamp = [&](json data) {
    if (data["load_test"] == "") data["load_test"] = status->load_test;
    data["id"] = id;
    data["state"] = cluster::to_string(status->state);
    if (!status->error.empty()) data["error"] = status->error;
    if (!status->tag.empty()) data["tag"] = status->tag;
    return data;
  };
  if (status->state == test_state::running) {
    const auto no_figures = [&] {
      return error_response(409, "no_figures_yet",
                            "load test " + id + " has not reported its first figures yet");
    };
    // The cheap figures name the look; its histograms are copied only when it is not cached.
    const auto look = figures_->live();
    if (!look || look->test_id != id) return no_figures();
    const auto key = id + "@" + std::to_string(look->progress.elapsed.count());
    auto text = report_text(key, [&]() -> std::optional<json> {
      const auto live = figures_->live_results();
      if (!live || live->figures.test_id != id) return std::nullopt;
      export_options options;
      options.series = live->series.get();
      auto data = stamp(text_.report_data(live->results, options));
      data["live"] = live_json(live->figures);
      return data;
    });
    if (!text) return no_figures();
    return {200, "application/json", std::move(*text), {}};
  }
  if (status->state == test_state::scheduled)
    return error_response(409, "load_test_scheduled", "load test " + id + " has not started");
  const auto kept = figures_->results(id);
  if (!kept)
    return error_response(404, "no_results", "load test " + id + " has no results");
  auto text = report_text(id + "@end", [&]() -> std::optional<json> {
    export_options options;
    options.series = kept->series.get();
    auto data = stamp(text_.report_data(kept->results, options));
    data["cluster"] = {{"nodes", kept->nodes}, {"lost", kept->lost}, {"errors", kept->errors}};
    return data;
  });
  return {200, "application/json", std::move(*text), {}};
}

}  // namespace chaperon::api
