// Simulator speeds for tests: video jobs queued and rendered in milliseconds, at 4 frames per
// second so the files stay small. One place, so the provider tests, the end-to-end world and the
// bot-process tests do not each spell the same settings.
#pragma once

#include "engine/clock.hpp"
#include "sim/suite.hpp"

namespace companion::test {

/// A suite whose OpenAI, Gemini, fal and OpenRouter video jobs wait `queue`, then render for `render`.
inline sim::suite_config quick_videos(engine::duration queue, engine::duration render) {
    sim::suite_config c;
    for (auto* service :
         {&c.openai.queue_time, &c.gemini.queue_time, &c.fal.queue_time, &c.openrouter.queue_time}) {
        *service = queue;
    }
    for (auto* service :
         {&c.openai.render_time, &c.gemini.render_time, &c.fal.render_time, &c.openrouter.render_time}) {
        *service = render;
    }
    c.openai.video_fps = 4;
    c.gemini.video_fps = 4;
    c.fal.video_fps = 4;
    c.openrouter.video_fps = 4;
    return c;
}

} // namespace companion::test
