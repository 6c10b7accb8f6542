// What the bot's units talk to, passed down from the composition root (app/wiring): the ports in
// front of Telegram and the models, storage, the catalogs, the offload pool, and the time and
// randomness every decision reads. All references must outlive the units built from them.
#pragma once

#include "engine/offload.hpp"
#include "engine/random.hpp"
#include "engine/time_source.hpp"
#include "pipelines/locale.hpp"
#include "pipelines/persona.hpp"
#include "pipelines/ports.hpp"
#include "pipelines/video_provider.hpp"
#include "storage/database.hpp"
#include "storage/media_store.hpp"
#include "storage/users.hpp"

#include <cstdint>
#include <string>

namespace companion::pipelines {

struct bot_services {
    telegram_api& telegram;
    chat_model& llm;
    image_model& images;
    storage::database& db;
    storage::media_store& media;
    const persona_catalog& personas;
    const locale_catalog& locales;
    engine::offload_pool& offload;
    engine::time_source& time;
    engine::random_source& random;
    video_provider* videos = nullptr; ///< nullptr: videos are not configured
    voice_model* voice = nullptr;     ///< nullptr: voice notes are not heard nor spoken
};

/// Who an update is from, as the bot knows them: the stored user, their persona and language.
struct user_context {
    std::int64_t chat_id = 0;
    std::int64_t user_id = 0;
    std::string first_name{};
    storage::user user{};
    const persona* p = nullptr; ///< nullptr until the user picked one
    std::string lang = "en";
};

/// A stored selfie: its content row, the prompt it was made from and its file.
struct selfie_ref {
    std::int64_t content_id = 0;
    std::string prompt;
    std::string path;

    bool operator==(const selfie_ref&) const = default;
};

} // namespace companion::pipelines
