// The user's gallery (issue 22): /videos and /selfies list what the bot delivered to them, newest
// first, one button each; a press sends that file again by the file_id Telegram gave it at the
// first upload: no upload, no generation, no quota. What a press may do is decided from the
// stored row alone (plan_resend), so a forged, stale or another user's button is refused.
#pragma once

#include "engine/asio.hpp"
#include "pipelines/locale.hpp"
#include "pipelines/persona.hpp"
#include "pipelines/sender.hpp"
#include "pipelines/services.hpp"
#include "storage/generated_content.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace companion::pipelines {

/// What a gallery button press does.
struct resend_plan {
    enum class kind { photo, video, refuse };
    kind what = kind::refuse;
    std::string file_id{};
};

/// A row that is gone (erased by /forget, pruned by retention), belongs to another user, or was
/// never delivered (no file_id) is refused.
resend_plan plan_resend(const std::optional<storage::content>& row, std::int64_t user_id);

/// A gallery button's label in `lang`: the persona's name, the UTC date, and a video's length.
std::string gallery_label(const storage::content& row,
                          std::string_view lang,
                          const locale_catalog& locales,
                          const persona_catalog& personas);

/// The callback data of the button for content row `id` ("h:<id>").
std::string gallery_data(std::int64_t id);

class media_history {
public:
    /// How many of each kind the gallery lists.
    static constexpr int shown = 10;

    /// `svc` and `out` must outlive it.
    media_history(bot_services& svc, sender& out);

    /// /videos or /selfies: the buttons, or a localized "nothing yet".
    engine::awaitable<void> list(const user_context& c, storage::content_kind kind);

    /// A gallery button: the file again by its file_id, or the expired-button toast.
    engine::awaitable<void> resend(const user_context& c, const std::string& callback_id, std::int64_t id);

private:
    bot_services& svc_;
    sender& out_;
    storage::generated_content_repository content_;
};

} // namespace companion::pipelines
