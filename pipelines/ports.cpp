// The net clients behind the pipelines' ports: plain forwarding, no policy.
#include "pipelines/ports.hpp"

namespace companion::pipelines {

namespace {

class telegram_client_port final : public telegram_api {
public:
    explicit telegram_client_port(tg::client& c) : c_(c) {}
    engine::awaitable<tg::result<tg::user>> get_me() override { return c_.get_me(); }
    engine::awaitable<tg::result<tg::update_batch>> get_updates(tg::get_updates_params p) override {
        return c_.get_updates(std::move(p));
    }
    engine::awaitable<tg::result<void>> delete_webhook(tg::drop_pending drop) override {
        return c_.delete_webhook(drop);
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

private:
    tg::client& c_;
};

class chat_client_port final : public chat_model {
public:
    explicit chat_client_port(net::openai::chat_client& c) : c_(c) {}
    engine::awaitable<net::openai::result<net::openai::chat_completion>>
    complete(net::openai::chat_request request) override {
        return c_.complete(std::move(request));
    }

private:
    net::openai::chat_client& c_;
};

class image_client_port final : public image_model {
public:
    explicit image_client_port(net::gemini::image_client& c) : c_(c) {}
    engine::awaitable<net::gemini::result<net::gemini::image_result>>
    generate(net::gemini::image_request request) override {
        return c_.generate(std::move(request));
    }

private:
    net::gemini::image_client& c_;
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

} // namespace companion::pipelines
