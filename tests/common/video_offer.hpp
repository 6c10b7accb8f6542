// Reaching the video offer as a user does: the first /video of a user who has not answered the
// 18+ question asks it first (yes and no); the offer with its mode buttons comes after the answer.
#pragma once

#include "engine/asio.hpp"
#include "sim/telegram/simulator.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace companion::test {

inline bool offers_video(const sim::sent_item& x) {
    return x.what == sim::sent_item::kind::text && x.reply_markup.find("vid:") != std::string::npos;
}

inline bool asks_adult(const sim::sent_item& x) {
    return x.what == sim::sent_item::kind::text && x.reply_markup.find("adult:") != std::string::npos;
}

/// Waits (from `from_index`) for the video offer after a /video, answering the 18+ question with
/// `adult` if it comes first. nullopt when neither arrives within `wait` each.
inline engine::awaitable<std::optional<sim::sent_item>> video_offer_for(sim::telegram_simulator& t,
                                                                        std::int64_t user,
                                                                        engine::duration wait,
                                                                        std::size_t from_index = 0,
                                                                        bool adult = true) {
    auto offer_or_question = [](const sim::sent_item& x) { return offers_video(x) || asks_adult(x); };
    auto first = co_await t.wait_for(user, offer_or_question, wait, from_index);
    if (!first || offers_video(*first)) {
        co_return first;
    }
    t.user_presses_button(user, first->message_id, adult ? "adult:yes" : "adult:no");
    auto offer = co_await t.wait_for(user, offers_video, wait, from_index);
    co_return offer;
}

} // namespace companion::test
