// The net clients behind the pipelines' ports: plain forwarding, no policy.
#include "pipelines/ports.hpp"

#include "engine/metrics.hpp"

namespace companion::pipelines {

namespace {

// Where a port writes how its service answered; without a health record, nowhere.
struct health_note {
    service_health* health = nullptr;
    engine::time_source* time = nullptr;
    service which = service::telegram;

    template <class R>
    void operator()(const R& r) const {
        if (health == nullptr) {
            return;
        }
        if (r) {
            health->record_ok(which, time->wall());
        } else {
            health->record_failure(which, state_after(r.error()), text_of(r.error()), time->wall());
            engine::metrics()
                .make_counter("bot_service_errors_total",
                              "Failed calls to Telegram's polling, the models and the video provider.",
                              {{"service", std::string(to_string(which))},
                               {"kind", std::string(to_string(r.error().kind))}})
                .inc();
        }
    }

    static std::string text_of(const net::api_error& e) { return e.message(); }
    static std::string text_of(const video_error& e) {
        return std::string(to_string(e.kind)) + ": " + e.message;
    }
};

class telegram_client_port final : public telegram_api {
public:
    explicit telegram_client_port(tg::client& c, health_note note = {}) : c_(c), note_(note) {}
    engine::awaitable<tg::result<tg::user>> get_me() override {
        auto r = co_await c_.get_me();
        note_(r);
        co_return r;
    }
    engine::awaitable<tg::result<tg::update_batch>> get_updates(tg::get_updates_params p) override {
        auto r = co_await c_.get_updates(std::move(p));
        note_(r);
        co_return r;
    }
    engine::awaitable<tg::result<void>> delete_webhook(tg::drop_pending drop) override {
        return c_.delete_webhook(drop);
    }
    engine::awaitable<tg::result<void>> set_webhook(tg::set_webhook_params p) override {
        auto r = co_await c_.set_webhook(std::move(p));
        note_(r);
        co_return r;
    }
    engine::awaitable<tg::result<void>> set_my_commands(std::vector<tg::command_description> commands,
                                                        std::string language_code) override {
        return c_.set_my_commands(std::move(commands), std::move(language_code));
    }
    engine::awaitable<tg::result<tg::message>> send_message(tg::send_message_params p) override {
        return c_.send_message(std::move(p));
    }
    engine::awaitable<tg::result<tg::edit_outcome>>
    edit_message_text(tg::edit_message_text_params p) override {
        return c_.edit_message_text(std::move(p));
    }
    engine::awaitable<tg::result<tg::message>> send_photo(tg::send_photo_params p) override {
        return c_.send_photo(std::move(p));
    }
    engine::awaitable<tg::result<tg::message>> send_video(tg::send_video_params p) override {
        return c_.send_video(std::move(p));
    }
    engine::awaitable<tg::result<void>> send_chat_action(std::int64_t chat_id,
                                                         tg::chat_action action) override {
        return c_.send_chat_action(chat_id, action);
    }
    engine::awaitable<tg::result<void>> answer_callback_query(tg::answer_callback_params p) override {
        return c_.answer_callback_query(std::move(p));
    }
    engine::awaitable<tg::result<tg::message>> send_voice(tg::send_voice_params p) override {
        return c_.send_voice(std::move(p));
    }
    engine::awaitable<tg::result<tg::file_info>> get_file(std::string file_id) override {
        return c_.get_file(std::move(file_id));
    }
    engine::awaitable<tg::result<net::download_result>>
    download_file(std::string file_path, std::filesystem::path destination, std::size_t max_bytes) override {
        return c_.download_file(std::move(file_path), std::move(destination), max_bytes);
    }
    engine::awaitable<tg::result<void>> send_message_draft(tg::send_message_draft_params p) override {
        return c_.send_message_draft(std::move(p));
    }
    engine::awaitable<tg::result<tg::message>> send_invoice(tg::send_invoice_params p) override {
        return c_.send_invoice(std::move(p));
    }
    engine::awaitable<tg::result<std::string>>
    create_invoice_link(tg::create_invoice_link_params p) override {
        return c_.create_invoice_link(std::move(p));
    }
    engine::awaitable<tg::result<void>>
    answer_pre_checkout_query(std::string query_id, bool ok, std::string error_message) override {
        return c_.answer_pre_checkout_query(std::move(query_id), ok, std::move(error_message));
    }
    engine::awaitable<tg::result<void>> refund_star_payment(std::int64_t user_id,
                                                            std::string charge_id) override {
        return c_.refund_star_payment(user_id, std::move(charge_id));
    }

private:
    tg::client& c_;
    health_note note_;
};

class chat_client_port final : public chat_model {
public:
    explicit chat_client_port(net::openai::chat_client& c, health_note note = {}) : c_(c), note_(note) {}
    engine::awaitable<net::openai::result<net::openai::chat_completion>>
    complete(net::openai::chat_request request) override {
        auto r = co_await c_.complete(std::move(request));
        note_(r);
        co_return r;
    }
    engine::awaitable<net::openai::result<net::openai::chat_completion>>
    stream(net::openai::chat_request request, net::openai::delta_handler on_delta) override {
        auto r = co_await c_.stream(std::move(request), std::move(on_delta));
        // A stream cut after some content still answered: the model is up, the network hiccuped.
        note_(r);
        co_return r;
    }

private:
    net::openai::chat_client& c_;
    health_note note_;
};

class image_client_port final : public image_model {
public:
    explicit image_client_port(net::gemini::image_client& c, health_note note = {}) : c_(c), note_(note) {}
    engine::awaitable<net::gemini::result<net::gemini::image_result>>
    generate(net::gemini::image_request request) override {
        auto r = co_await c_.generate(std::move(request));
        note_(r);
        co_return r;
    }

private:
    net::gemini::image_client& c_;
    health_note note_;
};

class audio_client_port final : public voice_model {
public:
    explicit audio_client_port(net::openai::audio_client& c) : c_(c) {}
    engine::awaitable<net::openai::result<net::openai::transcription>>
    transcribe(net::openai::transcription_request request) override {
        return c_.transcribe(std::move(request));
    }
    engine::awaitable<net::openai::result<net::openai::speech>>
    speak(net::openai::speech_request request) override {
        return c_.speak(std::move(request));
    }

private:
    net::openai::audio_client& c_;
};

class recording_video_provider final : public video_provider {
public:
    recording_video_provider(std::unique_ptr<video_provider> inner, health_note note)
        : inner_(std::move(inner)), note_(note) {}
    const video_provider_info& info() const noexcept override { return inner_->info(); }
    engine::awaitable<video_result<std::string>> submit(video_submit request) override {
        auto r = co_await inner_->submit(std::move(request));
        note_(r);
        co_return r;
    }
    engine::awaitable<video_result<video_poll>> poll(std::string job_id) override {
        auto r = co_await inner_->poll(std::move(job_id));
        note_(r);
        co_return r;
    }
    engine::awaitable<video_result<video_file>> download(std::string job_id,
                                                         std::filesystem::path destination) override {
        auto r = co_await inner_->download(std::move(job_id), std::move(destination));
        note_(r);
        co_return r;
    }
    engine::awaitable<video_result<std::string>> check() override {
        auto r = co_await inner_->check();
        note_(r);
        co_return r;
    }

private:
    std::unique_ptr<video_provider> inner_;
    health_note note_;
};

} // namespace

std::unique_ptr<telegram_api> adapt(tg::client& client) {
    return std::make_unique<telegram_client_port>(client);
}

std::unique_ptr<chat_model> adapt(net::openai::chat_client& client) {
    return std::make_unique<chat_client_port>(client);
}

std::unique_ptr<image_model> adapt(net::gemini::image_client& client) {
    return std::make_unique<image_client_port>(client);
}

std::unique_ptr<voice_model> adapt(net::openai::audio_client& client) {
    return std::make_unique<audio_client_port>(client);
}

std::unique_ptr<telegram_api> adapt(tg::client& client, service_health& health, engine::time_source& time) {
    return std::make_unique<telegram_client_port>(client, health_note{&health, &time, service::telegram});
}

std::unique_ptr<chat_model>
adapt(net::openai::chat_client& client, service_health& health, engine::time_source& time) {
    return std::make_unique<chat_client_port>(client, health_note{&health, &time, service::llm});
}

std::unique_ptr<image_model>
adapt(net::gemini::image_client& client, service_health& health, engine::time_source& time) {
    return std::make_unique<image_client_port>(client, health_note{&health, &time, service::images});
}

std::unique_ptr<video_provider>
adapt(std::unique_ptr<video_provider> provider, service_health& health, engine::time_source& time) {
    if (!provider) {
        health.mark_unused(service::videos);
        return nullptr;
    }
    return std::make_unique<recording_video_provider>(std::move(provider),
                                                      health_note{&health, &time, service::videos});
}

} // namespace companion::pipelines
