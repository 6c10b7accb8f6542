// Sending a finished video (design.md §4 "Sending"): the file is read once, off the loop; a
// previous run that sent it and died before recording it is detected from the content rows (one
// row is written before each send), so a video is sent at most twice (the one accepted duplicate
// after an answer lost in transit) and a third attempt says "uncertain" instead.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "pipelines/video_job_machine.hpp"
#include "storage/generated_content.hpp"
#include "storage/video_jobs.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace companion::pipelines {

enum class debug_info { off, admins, all };

struct video_delivery_config {
    int width = 720;
    int height = 1280;
    debug_info debug = debug_info::admins; ///< the seed's debug message (first 300 characters of each prompt)
    std::vector<std::int64_t> admins{};
};

class video_delivery {
public:
    /// `svc` and `out` must outlive it.
    video_delivery(bot_services& svc, sender& out, video_delivery_config cfg);

    /// Sends `file`, the job's clip of `seconds` (the length Telegram shows and the gallery lists).
    engine::awaitable<delivery>
    deliver(const storage::video_job& job, std::string lang, video_file file, int seconds);

private:
    bool show_debug(std::int64_t user_id) const;

    bot_services& svc_;
    sender& out_;
    video_delivery_config cfg_;
    storage::generated_content_repository content_;
};

} // namespace companion::pipelines
