// The Google clients' typed errors (Omni interactions, Veo operations, OAuth tokens) onto the
// video interface's kinds, by the stage of the job that failed.
#pragma once

#include "net/gemini/error.hpp"
#include "pipelines/video_provider.hpp"

namespace companion::pipelines::providers {

enum class call_stage { submit, poll, download };

/// A transport failure after a create was written, an unreadable 2xx to a create, or a 504 on
/// create is unknown_outcome (the job may exist and bill); a 400 mentioning safety or policy is
/// refused; not_found is model_gone on submit, failed on poll and expired on download.
video_error to_video_error(const net::gemini::error& e, call_stage at);

} // namespace companion::pipelines::providers
