#pragma once
// Everything a scenario file needs.
#include "chaperon/config.hpp"
#include "chaperon/export.hpp"
#include "chaperon/http.hpp"
#include "chaperon/load_test.hpp"
#include "chaperon/metrics.hpp"
#include "chaperon/run.hpp"
#include "chaperon/scenario.hpp"
#include "chaperon/session.hpp"
#include "chaperon/task.hpp"
#include "chaperon/timing.hpp"
#include "chaperon/websocket.hpp"
