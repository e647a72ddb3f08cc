#include "engine/config_reads.hpp"

namespace chaperon::detail {

void note_config_read(session_state&, const config_path&) {}

}  // namespace chaperon::detail
