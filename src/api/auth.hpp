#pragma once
// The API's token check, on the value of a request's Authorization header.

#include <optional>
#include <string>
#include <string_view>

namespace chaperon::api {

// The user name HTTP basic auth must give (as the original's API).
inline constexpr std::string_view basic_auth_user = "chaperon";

// Whether `authorization` carries `token`: "Basic base64(chaperon:<token>)" or
// "Bearer <token>" (scheme names in any case). Compared in constant time. An empty token
// accepts every request.
bool authorized(std::string_view authorization, std::string_view token);

// RFC 4648 base64 with padding; nullopt for anything else.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace chaperon::api
