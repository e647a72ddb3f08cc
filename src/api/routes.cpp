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
  return j;
}

json live_json(const progress_snapshot& p) {
  return {{"elapsed_s", std::chrono::duration<double>(p.elapsed).count()},
          {"requests", p.requests},
          {"errors", p.errors},
          {"requests_per_second", p.requests_per_second},
          {"sessions_active", p.sessions_active},
          {"sessions_done", p.sessions_done},
          {"sessions_total", p.sessions_total}};
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
  if (!open && !tests && path != "/version" && path != "/metrics")
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
  if (!tests) {
    if (request.method != "GET") return method_not_allowed("GET");
    return text_response(open ? "Chaperon @ " CHAPERON_VERSION : CHAPERON_VERSION);
  }
  if (path == tests_path) return load_tests(request);
  const auto rest = path.substr(tests_path.size() + 1);
  if (rest == "scheduled") {
    if (request.method != "DELETE") return method_not_allowed("DELETE");
    return json_response(202, {{"cancelled", queue_.clear_scheduled()}});
  }
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos && rest.substr(slash) == "/results")
    return results(request.method, std::string(rest.substr(0, slash)), query);
  if (slash != std::string_view::npos && rest.substr(slash) == "/events")
    return events(request.method, std::string(rest.substr(0, slash)));
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
    for (std::size_t i = 0; i < items.size(); ++i)
      specs.push_back(parser_->parse(items[i].test, items[i].options,
                                     "load_tests[" + std::to_string(i) + "].options"));
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
      body["live"] = live_json(live->progress);
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
  return {200, content_type_of(*format), text_.render(kept->results, options), {}};
}

api_response router::metrics(std::string_view method) const {
  if (method != "GET") return method_not_allowed("GET");
  if (!figures_ || !text_.usable()) return error_response(404, "not_found");
  std::string text;
  if (auto live = figures_->live_results()) {
    text = text_.prometheus(live->first, live->second.progress);
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
  return {"event: live\ndata: " + live_json(live->progress).dump() + "\n\n", false};
}

}  // namespace chaperon::api
