// A bot's services for unit tests: the fakes behind the ports, a real SQLite database and media
// folder in a temporary directory, the shipped catalogs, and the loop's virtual time.
#pragma once

#include "engine/offload.hpp"
#include "engine/random.hpp"
#include "pipelines/services.hpp"
#include "storage/database.hpp"
#include "storage/media_store.hpp"
#include "tests/common/fakes.hpp"
#include "tests/common/loop.hpp"
#include "tests/common/temp_dir.hpp"

namespace companion::test {

struct services_world : virtual_loop {
    temp_dir dir;
    fake_telegram telegram{time};
    fake_chat_model llm;
    fake_image_model images;
    storage::database db{storage::database_config{.path = dir.path / "bot.db"}};
    storage::media_store media{dir.path / "media"};
    pipelines::persona_catalog personas =
        *pipelines::persona_catalog::load(COMPANION_DATA_DIR "/personas.json");
    pipelines::locale_catalog locales = *pipelines::locale_catalog::load(COMPANION_DATA_DIR "/locales");
    engine::offload_pool offload{1};
    engine::scripted_random random{{0.5}};
    pipelines::bot_services
        svc{telegram, llm, images, db, media, personas, locales, offload, time, random, nullptr};
};

} // namespace companion::test
