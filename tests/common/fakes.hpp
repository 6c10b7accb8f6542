// In-memory fakes behind the pipelines' ports (pipelines/ports.hpp), for unit tests on virtual
// time: they record every call, fail on cue with the real clients' typed errors, and a long poll
// waits on the test's time source like Telegram holds one.
#pragma once

#include "engine/time_source.hpp"
#include "pipelines/ports.hpp"

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace companion::test {

namespace tg = net::telegram;

/// A Telegram error of `kind` as the client classifies it.
inline tg::error telegram_error(tg::error_kind kind,
                                std::optional<std::chrono::seconds> retry_after = std::nullopt,
                                bool request_sent = false) {
    tg::error e;
    e.kind = kind;
    e.method = "test";
    e.detail = std::string(net::to_string(kind));
    e.retry_after = retry_after;
    if (kind == tg::error_kind::transport) {
        e.transport = net::make_failure(net::errc::connection_reset, "reset", request_sent);
    }
    return e;
}

struct telegram_call {
    std::string method;
    std::int64_t chat_id = 0;
    std::string text{};
    engine::time_point at{};
};

class fake_telegram final : public pipelines::telegram_api {
public:
    explicit fake_telegram(engine::time_source& time) : time_(time) {}

    /// Every call, failed ones too, in order.
    std::vector<telegram_call> calls;
    /// getUpdates answers, in order; with none left, a long poll returns empty after its timeout.
    std::deque<tg::result<tg::update_batch>> batches;
    /// The offset each getUpdates carried.
    std::vector<std::optional<std::int64_t>> offsets;

    /// The next `times` calls of `method` fail with `e`.
    void fail(const std::string& method, const tg::error& e, int times = 1) {
        for (int i = 0; i < times; ++i) {
            failures_[method].push_back(e);
        }
    }

    std::size_t count(std::string_view method) const {
        std::size_t n = 0;
        for (const auto& c : calls) {
            n += c.method == method ? 1U : 0U;
        }
        return n;
    }

    /// The texts that reached `chat_id` (successful sendMessage calls only).
    std::vector<std::string> texts_to(std::int64_t chat_id) const {
        std::vector<std::string> out;
        for (const auto& [chat, text] : delivered_) {
            if (chat == chat_id) {
                out.push_back(text);
            }
        }
        return out;
    }

    engine::awaitable<tg::result<tg::user>> get_me() override {
        record("getMe", 0, {});
        tg::user me;
        me.id = 7000000001;
        me.is_bot = true;
        me.username = "companion_bot";
        co_return me;
    }

    engine::awaitable<tg::result<tg::update_batch>> get_updates(tg::get_updates_params p) override {
        record("getUpdates", 0, {});
        offsets.push_back(p.offset);
        if (auto e = failure("getUpdates")) {
            co_return *e;
        }
        if (batches.empty()) {
            co_await time_.sleep(p.timeout.value_or(std::chrono::seconds(25)));
            co_return tg::update_batch{};
        }
        auto next = std::move(batches.front());
        batches.pop_front();
        co_return next;
    }

    engine::awaitable<tg::result<void>> delete_webhook(tg::drop_pending) override {
        co_return plain("deleteWebhook");
    }
    engine::awaitable<tg::result<void>> set_webhook(tg::set_webhook_params) override {
        co_return plain("setWebhook");
    }
    engine::awaitable<tg::result<void>> set_my_commands(std::vector<tg::command_description>,
                                                        std::string) override {
        co_return plain("setMyCommands");
    }
    engine::awaitable<tg::result<tg::message>> send_message(tg::send_message_params p) override {
        co_return send("sendMessage", p.chat_id, p.text);
    }
    engine::awaitable<tg::result<tg::edit_outcome>>
    edit_message_text(tg::edit_message_text_params p) override {
        record("editMessageText", p.chat_id, p.text);
        if (auto e = failure("editMessageText")) {
            co_return *e;
        }
        co_return tg::edit_outcome{};
    }
    engine::awaitable<tg::result<tg::message>> send_photo(tg::send_photo_params p) override {
        auto m = send("sendPhoto", p.chat_id, p.caption);
        if (m) {
            m->photo.push_back({"photo-" + std::to_string(m->message_id), "u", 720, 1280, 1000});
        }
        co_return m;
    }
    engine::awaitable<tg::result<tg::message>> send_video(tg::send_video_params p) override {
        auto m = send("sendVideo", p.chat_id, p.caption);
        if (m) {
            m->video =
                tg::video{"video-" + std::to_string(m->message_id), "u", 720, 1280, 4, "video/mp4", {}, 1000};
        }
        co_return m;
    }
    engine::awaitable<tg::result<void>> send_chat_action(std::int64_t chat_id, tg::chat_action) override {
        record("sendChatAction", chat_id, {});
        co_return plain_failure("sendChatAction");
    }
    engine::awaitable<tg::result<void>> answer_callback_query(tg::answer_callback_params p) override {
        record("answerCallbackQuery", 0, p.text);
        co_return plain_failure("answerCallbackQuery");
    }
    engine::awaitable<tg::result<void>> send_message_draft(tg::send_message_draft_params p) override {
        record("sendMessageDraft", p.chat_id, p.text);
        drafts.push_back(p);
        co_return plain_failure("sendMessageDraft");
    }
    /// Every sendMessageDraft's parameters, failed ones too, in order.
    std::vector<tg::send_message_draft_params> drafts;

    engine::awaitable<tg::result<tg::message>> send_voice(tg::send_voice_params p) override {
        auto m = send("sendVoice", p.chat_id, p.caption);
        if (m) {
            voices.push_back(p.voice.bytes);
            m->voice = tg::voice{.file_id = "voice-" + std::to_string(m->message_id),
                                 .file_unique_id = "u",
                                 .duration = 3,
                                 .mime_type = "audio/ogg",
                                 .file_size = static_cast<std::int64_t>(p.voice.bytes.size())};
        }
        co_return m;
    }
    /// The bytes of every voice note sent, in order.
    std::vector<std::string> voices;

    engine::awaitable<tg::result<tg::message>> send_invoice(tg::send_invoice_params p) override {
        record("sendInvoice", p.chat_id, p.title);
        if (auto e = failure("sendInvoice")) {
            co_return *e;
        }
        invoices.push_back(p);
        tg::message m;
        m.message_id = next_id_++;
        m.chat.id = p.chat_id;
        m.chat.type = "private";
        co_return m;
    }
    /// Every invoice sent, in order.
    std::vector<tg::send_invoice_params> invoices;
    engine::awaitable<tg::result<std::string>>
    create_invoice_link(tg::create_invoice_link_params p) override {
        record("createInvoiceLink", 0, p.payload);
        if (auto e = failure("createInvoiceLink")) {
            co_return *e;
        }
        invoice_links.push_back(p);
        co_return "https://t.me/$sim" + std::to_string(invoice_links.size());
    }
    /// Every invoice link made, in order.
    std::vector<tg::create_invoice_link_params> invoice_links;
    engine::awaitable<tg::result<void>>
    answer_pre_checkout_query(std::string query_id, bool ok, std::string error_message) override {
        record("answerPreCheckoutQuery", 0, error_message);
        checkout_answers.push_back({std::move(query_id), ok, std::move(error_message)});
        co_return plain_failure("answerPreCheckoutQuery");
    }
    struct checkout_answer {
        std::string query_id;
        bool ok = false;
        std::string error_message;
    };
    std::vector<checkout_answer> checkout_answers;
    engine::awaitable<tg::result<void>> refund_star_payment(std::int64_t user_id,
                                                            std::string charge_id) override {
        record("refundStarPayment", user_id, charge_id);
        co_return plain_failure("refundStarPayment");
    }
    /// The users' files getFile and the download serve, by file_id.
    std::map<std::string, std::string, std::less<>> files;

    engine::awaitable<tg::result<tg::file_info>> get_file(std::string file_id) override {
        record("getFile", 0, file_id);
        if (auto e = failure("getFile")) {
            co_return *e;
        }
        const auto it = files.find(file_id);
        if (it == files.end()) {
            co_return telegram_error(tg::error_kind::bad_request);
        }
        co_return tg::file_info{.file_id = file_id,
                                .file_unique_id = "u",
                                .file_size = static_cast<std::int64_t>(it->second.size()),
                                .file_path = "voice/" + file_id + ".oga"};
    }
    engine::awaitable<tg::result<net::download_result>>
    download_file(std::string file_path, std::filesystem::path destination, std::size_t max_bytes) override {
        record("download", 0, file_path);
        if (auto e = failure("download")) {
            co_return *e;
        }
        const std::string id = file_path.substr(6, file_path.size() - 10); // "voice/<id>.oga"
        const auto it = files.find(id);
        if (it == files.end() || it->second.size() > max_bytes) {
            co_return telegram_error(it == files.end() ? tg::error_kind::not_found
                                                       : tg::error_kind::too_large);
        }
        std::ofstream(destination, std::ios::binary) << it->second;
        net::download_result r;
        r.path = destination;
        r.bytes = it->second.size();
        co_return r;
    }

private:
    void record(std::string method, std::int64_t chat, std::string text) {
        calls.push_back({std::move(method), chat, std::move(text), time_.now()});
    }
    std::optional<tg::error> failure(const std::string& method) {
        auto it = failures_.find(method);
        if (it == failures_.end() || it->second.empty()) {
            return std::nullopt;
        }
        auto e = it->second.front();
        it->second.pop_front();
        return e;
    }
    tg::result<void> plain(std::string method) {
        record(method, 0, {});
        return plain_failure(method);
    }
    tg::result<void> plain_failure(const std::string& method) {
        if (auto e = failure(method)) {
            return *e;
        }
        return {};
    }
    tg::result<tg::message> send(std::string method, std::int64_t chat_id, std::string text) {
        record(method, chat_id, text);
        if (auto e = failure(method)) {
            return *e;
        }
        tg::message m;
        m.message_id = next_id_++;
        m.chat.id = chat_id;
        m.chat.type = "private";
        m.date = std::chrono::duration_cast<std::chrono::seconds>(time_.wall().time_since_epoch()).count();
        m.text = text;
        delivered_.emplace_back(chat_id, std::move(text));
        return m;
    }

    engine::time_source& time_;
    std::map<std::string, std::deque<tg::error>, std::less<>> failures_;
    std::vector<std::pair<std::int64_t, std::string>> delivered_;
    std::int64_t next_id_ = 1;
};

/// Takes the next scripted answer of a fake (none left: nullopt).
template <class T>
std::optional<T> next_scripted(std::deque<T>& script) {
    if (script.empty()) {
        return std::nullopt;
    }
    std::optional<T> out(std::move(script.front()));
    script.pop_front();
    return out;
}

/// A chat model that answers from a script (or echoes the last user message).
class fake_chat_model final : public pipelines::chat_model {
public:
    std::deque<net::openai::result<net::openai::chat_completion>> answers;
    std::vector<net::openai::chat_request> requests;

    engine::awaitable<net::openai::result<net::openai::chat_completion>>
    complete(net::openai::chat_request request) override {
        requests.push_back(request);
        if (time != nullptr && think > engine::duration::zero()) {
            co_await time->sleep(think);
        }
        if (auto a = next_scripted(answers)) {
            co_return std::move(*a);
        }
        co_return echo(request);
    }

    /// Streams the scripted (or echoed) content a word at a time, `piece_every` apart on `time`
    /// when one is set; an answer that is an error comes before any piece.
    engine::time_source* time = nullptr;
    engine::duration think{}; ///< how long a whole answer takes, when `time` is set
    engine::duration piece_every{};
    engine::duration first_after{}; ///< before the first piece (a model slow to start)
    engine::awaitable<net::openai::result<net::openai::chat_completion>>
    stream(net::openai::chat_request request, net::openai::delta_handler on_delta) override {
        requests.push_back(request);
        auto a = next_scripted(answers);
        net::openai::result<net::openai::chat_completion> r = a ? std::move(*a) : echo(request);
        if (!r || !r->content) {
            co_return r;
        }
        const std::string& text = *r->content;
        if (time != nullptr && first_after > engine::duration::zero()) {
            co_await time->sleep(first_after);
        }
        for (std::size_t at = 0; at < text.size();) {
            const auto space = text.find(' ', at + 1);
            const auto end = space == std::string::npos ? text.size() : space;
            if (time != nullptr && at > 0) {
                co_await time->sleep(piece_every);
            }
            on_delta(std::string_view(text).substr(at, end - at));
            at = end;
        }
        co_return r;
    }

private:
    static net::openai::chat_completion echo(const net::openai::chat_request& request) {
        net::openai::chat_completion c;
        c.content = "echo: " + (request.messages.empty() ? std::string() : request.messages.back().content);
        c.finish = net::openai::finish_reason::stop;
        return c;
    }
};

/// An image model that draws nothing: each request gets the next scripted result (no image by
/// default).
class fake_image_model final : public pipelines::image_model {
public:
    std::deque<net::gemini::result<net::gemini::image_result>> answers;
    std::vector<net::gemini::image_request> requests;

    engine::awaitable<net::gemini::result<net::gemini::image_result>>
    generate(net::gemini::image_request request) override {
        requests.push_back(request);
        if (auto a = next_scripted(answers)) {
            co_return std::move(*a);
        }
        co_return net::gemini::image_result{};
    }
};

/// A speech service that answers from scripts: transcripts for notes heard, audio for replies
/// spoken (by default the words of any note, and "OggS" plus the text).
class fake_voice_model final : public pipelines::voice_model {
public:
    std::deque<net::openai::result<net::openai::transcription>> transcripts;
    std::deque<net::openai::result<net::openai::speech>> speeches;
    std::vector<net::openai::transcription_request> heard;
    std::vector<net::openai::speech_request> spoken;

    engine::awaitable<net::openai::result<net::openai::transcription>>
    transcribe(net::openai::transcription_request request) override {
        heard.push_back(request);
        if (auto a = next_scripted(transcripts)) {
            co_return std::move(*a);
        }
        co_return net::openai::transcription{.text = "heard: " + request.audio};
    }
    engine::awaitable<net::openai::result<net::openai::speech>>
    speak(net::openai::speech_request request) override {
        spoken.push_back(request);
        if (auto a = next_scripted(speeches)) {
            co_return std::move(*a);
        }
        co_return net::openai::speech{.bytes = "OggS" + request.input, .mime_type = "audio/ogg"};
    }
};

} // namespace companion::test
