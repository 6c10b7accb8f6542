// The admin report: the bot's figures go into the metrics registry once (publish_metrics), and
// both /metrics (Prometheus text) and the admins' /status message read them from there, so no
// counter is copied into a third place.
#pragma once

#include "engine/time_source.hpp"
#include "storage/database.hpp"

#include <string>

namespace companion::pipelines {

class bot;

/// Sets the bot's gauges (updates, queues, users, chat turns, selfies, videos, spend today).
void publish_metrics(bot& b, storage::database& db, engine::wall_time now);

/// The /status text for admins, from the registry after publish_metrics.
std::string status_report(bot& b, storage::database& db, engine::wall_time now);

} // namespace companion::pipelines
