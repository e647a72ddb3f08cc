#include "export/s3_sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "net/ascii.hpp"

namespace chaperon::sigv4 {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = net::ascii_lower(c);
  return out;
}

// Leading and trailing blanks dropped, runs of blanks inside the value made one space.
std::string trim_value(std::string_view value) {
  std::string out;
  bool blank = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

std::string canonical_query(const header_list& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

// Lower-case names in byte order; repeated names become one line with the values joined by ','
// in the order they were sent.
header_list canonical_headers(const header_list& headers) {
  header_list lowered;
  lowered.reserve(headers.size());
  for (const auto& [name, value] : headers) lowered.emplace_back(lower(name), trim_value(value));
  std::stable_sort(lowered.begin(), lowered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  header_list merged;
  for (auto& [name, value] : lowered) {
    if (!merged.empty() && merged.back().first == name) {
      merged.back().second += ',';
      merged.back().second += value;
    } else {
      merged.emplace_back(std::move(name), std::move(value));
    }
  }
  return merged;
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex({reinterpret_cast<const char*>(digest), sizeof digest});
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length)) {
    throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
  }
  return {reinterpret_cast<const char*>(digest), length};
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (unreserved(b) || (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += digits[b >> 4];
      out += digits[b & 0x0f];
    }
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto day = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{seconds - day};
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string amz_day(std::chrono::system_clock::time_point time) {
  return amz_date(time).substr(0, 8);
}

std::string canonical_request(const request& req, std::string* signed_headers) {
  std::string out = req.method + '\n';
  out += uri_encode(req.path.empty() ? "/" : req.path, true);
  out += '\n';
  out += canonical_query(req.query);
  out += '\n';
  std::string names;
  for (const auto& [name, value] : canonical_headers(req.headers)) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
    if (!names.empty()) names += ';';
    names += name;
  }
  out += '\n';
  out += names;
  out += '\n';
  out += req.payload_hash;
  if (signed_headers) *signed_headers = std::move(names);
  return out;
}

std::string string_to_sign(const scope& where, std::string_view canonical) {
  return fmt::format("{}\n{}\n{}/{}/{}/aws4_request\n{}", algorithm, amz_date(where.time),
                     amz_day(where.time), where.region, where.service, sha256_hex(canonical));
}

std::string signing_key(std::string_view secret_access_key, const scope& where) {
  auto key = hmac_sha256("AWS4" + std::string(secret_access_key), amz_day(where.time));
  key = hmac_sha256(key, where.region);
  key = hmac_sha256(key, where.service);
  return hmac_sha256(key, "aws4_request");
}

signature sign(request& req, const credentials& creds, const scope& where,
               bool add_content_sha256) {
  req.headers.emplace_back("X-Amz-Date", amz_date(where.time));
  if (!creds.session_token.empty()) {
    req.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  }
  if (add_content_sha256) req.headers.emplace_back("X-Amz-Content-Sha256", req.payload_hash);

  signature out;
  out.canonical_request = canonical_request(req, &out.signed_headers);
  out.string_to_sign = string_to_sign(where, out.canonical_request);
  out.signature =
      to_hex(hmac_sha256(signing_key(creds.secret_access_key, where), out.string_to_sign));
  out.authorization = fmt::format("{} Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, "
                                  "Signature={}",
                                  algorithm, creds.access_key_id, amz_day(where.time),
                                  where.region, where.service, out.signed_headers, out.signature);
  req.headers.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace chaperon::sigv4
