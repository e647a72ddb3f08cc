#pragma once
// Which config keys a run read: the engine's own keys are known by name; the scenarios' keys are
// noted as sessions read them, so that a key nothing read (a typo) can be reported once per run.

#include "chaperon/config.hpp"

namespace chaperon::detail {

class session_state;

// Notes that a session read `key` (called for every read through session::find_config).
void note_config_read(session_state& st, const config_path& key);

}  // namespace chaperon::detail
