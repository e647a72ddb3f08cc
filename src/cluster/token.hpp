#pragma once
// The cluster's shared token.

#include <string_view>

namespace chaperon::cluster {

// Whether `given` equals `expected`, in time that depends on neither (both are hashed to a fixed
// length first, then compared in constant time), so a worker cannot guess the token byte by byte.
bool token_matches(std::string_view given, std::string_view expected);

}  // namespace chaperon::cluster
