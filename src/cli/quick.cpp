#include "cli/quick.hpp"

#include <CLI/Error.hpp>

#include "chaperon/scenario.hpp"
#include "net/url.hpp"

namespace chaperon::cli {

namespace {

std::optional<http_method> parse_method(std::string m) {
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (m == "get") return http_method::get;
  if (m == "post") return http_method::post;
  if (m == "put") return http_method::put;
  if (m == "patch") return http_method::patch;
  if (m == "delete") return http_method::delete_;
  if (m == "head") return http_method::head;
  return std::nullopt;
}

class quick_scenario final : public scenario {
 public:
  task<void> run(session& s) override {
    const auto url = s.config_as<std::string>("quick.url");
    const auto method = static_cast<http_method>(s.config_as<int>("quick.method"));
    const auto duration = s.config_duration("quick.duration");
    header_list headers;
    for (const auto& h : s.config("quick.headers", json::array())) {
      headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
    // Built once for all requests: each request's copy shares these fields, so a request
    // allocates nothing for its options.
    const auto options = http_options{}.headers(std::move(headers));
    if (s.config_as<bool>("quick.single", false)) {
      co_await s.request(method, url, options);
      co_return;
    }
    const auto end = session::clock::now() + duration;
    while (session::clock::now() < end) co_await s.request(method, url, options);
  }
};

}  // namespace

load_test make_quick_load_test(const quick_options& q) {
  auto method = parse_method(q.method);
  if (!method) throw CLI::ValidationError("--method", "unknown HTTP method " + q.method);
  std::string why;
  if (!net::is_absolute_url(q.url) || !net::parse_url(q.url, &why)) {
    throw CLI::ValidationError("url", "'" + q.url + "' is not an absolute http(s) URL" +
                                          (why.empty() ? "" : ": " + why));
  }
  if (!parse_duration_text(q.duration)) {
    throw CLI::ValidationError("--duration", "'" + q.duration + "' is not a duration (e.g. 10s)");
  }
  json headers = json::array();
  for (const auto& h : q.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      throw CLI::ValidationError("--header", "'" + h + "' is not of the form 'Name: value'");
    }
    auto value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    headers.push_back({h.substr(0, colon), value});
  }
  json config = {{"quick",
                  {{"url", q.url},
                   {"method", static_cast<int>(*method)},
                   {"duration", q.duration},
                   {"headers", headers},
                   {"single", q.single}}},
                 {"insecure", q.insecure}};
  load_test test("Quick");
  test.default_config(std::move(config))
      .scenario(q.sessions, scenario_of<quick_scenario>("Quick"));
  return test;
}

}  // namespace chaperon::cli
