// The small interfaces the pipelines use in front of the outside world (as video_provider is for
// video backends): the Telegram calls the bot makes, the chat model and the image model. The net
// clients are adapted to them in pipelines/ports.cpp; tests put in-memory fakes behind them
// (tests/common), so a pipeline's decisions run without sockets and on virtual time.
//
// Results and errors are the net clients' own typed results: a port adds no policy.
#pragma once

#include "engine/asio.hpp"
#include "engine/time_source.hpp"
#include "net/gemini/image.hpp"
#include "net/openai/audio.hpp"
#include "net/openai/chat.hpp"
#include "net/telegram/client.hpp"
#include "pipelines/service_health.hpp"
#include "pipelines/video_provider.hpp"

#include <memory>
#include <string>
#include <vector>

namespace companion::pipelines {

namespace tg = net::telegram;

/// The Bot API methods the bot uses.
class telegram_api {
public:
    virtual ~telegram_api() = default;
    virtual engine::awaitable<tg::result<tg::user>> get_me() = 0;
    /// A long poll; its own deadline is the poll timeout plus a margin (the client's config).
    virtual engine::awaitable<tg::result<tg::update_batch>> get_updates(tg::get_updates_params params) = 0;
    virtual engine::awaitable<tg::result<void>> delete_webhook(tg::drop_pending drop) = 0;
    virtual engine::awaitable<tg::result<void>> set_webhook(tg::set_webhook_params params) = 0;
    virtual engine::awaitable<tg::result<void>> set_my_commands(std::vector<tg::command_description> commands,
                                                                std::string language_code) = 0;
    virtual engine::awaitable<tg::result<tg::message>> send_message(tg::send_message_params params) = 0;
    virtual engine::awaitable<tg::result<tg::edit_outcome>>
    edit_message_text(tg::edit_message_text_params params) = 0;
    virtual engine::awaitable<tg::result<tg::message>> send_photo(tg::send_photo_params params) = 0;
    virtual engine::awaitable<tg::result<tg::message>> send_video(tg::send_video_params params) = 0;
    virtual engine::awaitable<tg::result<void>> send_chat_action(std::int64_t chat_id,
                                                                 tg::chat_action action) = 0;
    virtual engine::awaitable<tg::result<void>> answer_callback_query(tg::answer_callback_params params) = 0;
    /// A streamed reply's draft (private chats only); `true` on Telegram's side is no result.
    virtual engine::awaitable<tg::result<void>> send_message_draft(tg::send_message_draft_params params) = 0;
    virtual engine::awaitable<tg::result<tg::message>> send_voice(tg::send_voice_params params) = 0;
    /// A Stars invoice (a pack of video credits).
    virtual engine::awaitable<tg::result<tg::message>> send_invoice(tg::send_invoice_params params) = 0;
    /// An invoice link (the monthly subscription).
    virtual engine::awaitable<tg::result<std::string>>
    create_invoice_link(tg::create_invoice_link_params params) = 0;
    /// The answer to a pre-checkout query (within Telegram's 10 s).
    virtual engine::awaitable<tg::result<void>>
    answer_pre_checkout_query(std::string query_id, bool ok, std::string error_message) = 0;
    virtual engine::awaitable<tg::result<void>> refund_star_payment(std::int64_t user_id,
                                                                    std::string charge_id) = 0;
    /// A user's file (a voice note): its path for download_file, or 400 over Telegram's 20 MB.
    virtual engine::awaitable<tg::result<tg::file_info>> get_file(std::string file_id) = 0;
    /// Downloads get_file's `file_path` to `destination` (written whole or not at all).
    virtual engine::awaitable<tg::result<net::download_result>>
    download_file(std::string file_path, std::filesystem::path destination, std::size_t max_bytes) = 0;
};

/// An OpenAI-compatible chat model: the persona's voice, the photo and video prompts, memory.
class chat_model {
public:
    virtual ~chat_model() = default;
    virtual engine::awaitable<net::openai::result<net::openai::chat_completion>>
    complete(net::openai::chat_request request) = 0;
    /// The same completion streamed: `on_delta` sees each piece of content as it arrives, and the
    /// result is the whole completion (`interrupted` set when the stream broke after some
    /// content). A model that cannot stream may answer whole: one delta, then the result.
    virtual engine::awaitable<net::openai::result<net::openai::chat_completion>>
    stream(net::openai::chat_request request, net::openai::delta_handler on_delta) = 0;
};

/// The selfie image model.
class image_model {
public:
    virtual ~image_model() = default;
    virtual engine::awaitable<net::gemini::result<net::gemini::image_result>>
    generate(net::gemini::image_request request) = 0;
};

/// Speech in and out (OpenAI-compatible /v1/audio): a voice note heard, a reply spoken.
class voice_model {
public:
    virtual ~voice_model() = default;
    virtual engine::awaitable<net::openai::result<net::openai::transcription>>
    transcribe(net::openai::transcription_request request) = 0;
    virtual engine::awaitable<net::openai::result<net::openai::speech>>
    speak(net::openai::speech_request request) = 0;
};

/// The net clients behind the ports. Each adapter refers to its client, which must outlive it.
std::unique_ptr<telegram_api> adapt(tg::client& client);
std::unique_ptr<chat_model> adapt(net::openai::chat_client& client);
std::unique_ptr<image_model> adapt(net::gemini::image_client& client);
std::unique_ptr<voice_model> adapt(net::openai::audio_client& client);

/// The same ports, each recording in `health` (on `time`'s wall clock) how its service answered:
/// Telegram by getMe and getUpdates (a send refused for one user says nothing about the bot),
/// the models and the video provider by every call. `health` and `time` must outlive the ports.
std::unique_ptr<telegram_api> adapt(tg::client& client, service_health& health, engine::time_source& time);
std::unique_ptr<chat_model>
adapt(net::openai::chat_client& client, service_health& health, engine::time_source& time);
std::unique_ptr<image_model>
adapt(net::gemini::image_client& client, service_health& health, engine::time_source& time);
std::unique_ptr<video_provider>
adapt(std::unique_ptr<video_provider> provider, service_health& health, engine::time_source& time);

} // namespace companion::pipelines
