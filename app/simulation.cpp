// The scripted demo and the terminal chat, both speaking to the Telegram simulator as users.
#include "app/simulation.hpp"

#include "engine/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/json/parse.hpp>

#include <unistd.h>

#include <functional>
#include <istream>
#include <optional>
#include <vector>

namespace companion::app {

namespace json = boost::json;
using namespace std::chrono_literals;
using item = sim::sent_item;

namespace {

// Button texts and callback data of an inline keyboard; reply keyboard labels as data-less rows.
struct button {
    std::string text;
    std::string data; ///< empty for reply keyboard buttons
};

std::vector<button> buttons_of(const std::string& markup) {
    std::vector<button> out;
    if (markup.empty()) {
        return out;
    }
    boost::system::error_code ec;
    auto v = json::parse(markup, ec);
    if (ec || !v.is_object()) {
        return out;
    }
    for (const char* key : {"inline_keyboard", "keyboard"}) {
        const auto* rows = v.as_object().if_contains(key);
        if (rows == nullptr || !rows->is_array()) {
            continue;
        }
        for (const auto& row : rows->as_array()) {
            if (!row.is_array()) {
                continue;
            }
            for (const auto& b : row.as_array()) {
                button out_b;
                if (b.is_string()) {
                    out_b.text = std::string(b.as_string());
                } else if (b.is_object()) {
                    if (const auto* t = b.as_object().if_contains("text"); t && t->is_string()) {
                        out_b.text = std::string(t->as_string());
                    }
                    if (const auto* d = b.as_object().if_contains("callback_data"); d && d->is_string()) {
                        out_b.data = std::string(d->as_string());
                    }
                }
                out.push_back(std::move(out_b));
            }
        }
    }
    return out;
}

std::string indent(const std::string& text) {
    std::string out;
    for (char c : text) {
        out.push_back(c);
        if (c == '\n') {
            out += "       ";
        }
    }
    return out;
}

class narrator {
public:
    narrator(sim::telegram_simulator& tg, std::FILE* out) : tg_(tg), out_(out) {}

    void user(const std::string& name, const std::string& what) {
        std::fprintf(out_, "👤 %s: %s\n", name.c_str(), what.c_str());
        std::fflush(out_);
    }

    void note(const std::string& what) {
        std::fprintf(out_, "\n── %s ──\n", what.c_str());
        std::fflush(out_);
    }

    /// Prints what the bot did in `chat` since the last call (actions and answers summarized).
    void bot(std::int64_t chat, const std::string& persona) {
        auto items = tg_.sent_to(chat);
        auto& seen = seen_[chat];
        for (; seen < items.size(); ++seen) {
            const auto& i = items[seen];
            const std::string who = "🤖 " + (persona.empty() ? std::string("bot") : persona);
            switch (i.what) {
            case item::kind::text:
            case item::kind::edit:
                std::fprintf(out_,
                             "%s%s: %s\n",
                             who.c_str(),
                             i.what == item::kind::edit ? " (edit)" : "",
                             indent(i.text).c_str());
                print_buttons(i.reply_markup);
                break;
            case item::kind::photo: {
                const auto* bytes = tg_.file_bytes(i.file_id);
                std::fprintf(out_,
                             "%s: [photo %zu KB, file_id %s] %s\n",
                             who.c_str(),
                             bytes != nullptr ? bytes->size() / 1024 : 0,
                             i.file_id.substr(0, 16).c_str(),
                             i.text.c_str());
                break;
            }
            case item::kind::video:
                std::fprintf(out_,
                             "%s: [video file_id %s] %s\n",
                             who.c_str(),
                             i.file_id.substr(0, 16).c_str(),
                             i.text.c_str());
                break;
            case item::kind::action:
                std::fprintf(out_, "   … %s\n", i.text.c_str());
                break;
            case item::kind::callback_answer:
                if (!i.text.empty()) {
                    std::fprintf(out_, "   (button answer: %s)\n", i.text.c_str());
                }
                break;
            default: // what the bot does not do yet (documents, reactions, drafts, ...): named by kind
                std::fprintf(out_,
                             "%s: [%s] %s\n",
                             who.c_str(),
                             std::string(sim::to_string(i.what)).c_str(),
                             i.text.c_str());
                break;
            }
        }
        std::fflush(out_);
    }

    std::size_t seen(std::int64_t chat) { return seen_[chat]; }

private:
    void print_buttons(const std::string& markup) {
        const auto bs = buttons_of(markup);
        if (bs.empty()) {
            return;
        }
        std::string line = "   [";
        for (std::size_t n = 0; n < bs.size(); ++n) {
            line += (n ? " | " : "") + std::to_string(n + 1) + ". " + bs[n].text;
        }
        std::fprintf(out_, "%s]\n", line.c_str());
    }

    sim::telegram_simulator& tg_;
    std::FILE* out_;
    std::map<std::int64_t, std::size_t> seen_;
};

struct demo_user {
    std::string name;
    std::string lang;
    std::string persona_id;
    std::string persona_name;
    std::vector<std::string> chat;
};

// Waits for the next bot message of a kind in `chat` after index `from`.
engine::awaitable<std::optional<item>> await_kind(sim::telegram_simulator& tg,
                                                  std::int64_t chat,
                                                  std::size_t from,
                                                  std::function<bool(const item&)> pred,
                                                  engine::duration timeout = 20s) {
    auto r = co_await tg.wait_for(chat, std::move(pred), timeout, from);
    co_return r;
}

bool is_text(const item& i) {
    return i.what == item::kind::text;
}

} // namespace

engine::awaitable<bool> run_demo(sim::suite& sims, const pipelines::locale_catalog& locales, std::FILE* out) {
    auto& tg = sims.telegram();
    narrator say(tg, out);
    bool ok = true;
    const std::vector<demo_user> users{
        {"Elif", "tr", "elif", "Elif", {"Bugün nasılsın?", "Az önce ne dediğimi hatırlıyor musun?"}},
        {"Иван", "ru", "masha", "Masha", {"Привет! Как прошёл день?", "Что ты сейчас рисуешь?"}},
        {"Emma",
         "en",
         "emma",
         "Emma",
         {"Hi! What are you reading today?", "Do you remember my first question?"}},
    };
    for (const auto& u : users) {
        const auto id = tg.add_user({.first_name = u.name, .language_code = u.lang});
        say.note(u.name + " (" + u.lang + ") opens the bot");
        auto step = [&](std::function<bool(const item&)> pred) -> engine::awaitable<bool> {
            const auto from = say.seen(id);
            auto got = co_await await_kind(tg, id, from, std::move(pred));
            say.bot(id, u.persona_name);
            co_return got.has_value();
        };

        say.user(u.name, "/start");
        tg.user_sends_text(id, "/start");
        ok = co_await step([](const item& i) {
                 return is_text(i) && i.reply_markup.find("p:") != std::string::npos;
             }) &&
             ok;
        const auto menu = tg.sent_to(id);
        std::int64_t menu_message = 0;
        for (const auto& i : menu) {
            if (i.reply_markup.find("\"p:") != std::string::npos) {
                menu_message = i.message_id;
            }
        }
        say.user(u.name, "presses “" + u.persona_name + "”");
        tg.user_presses_button(id, menu_message, "p:" + u.persona_id);
        // The confirmation (it carries the main keyboard), then the persona's greeting (none).
        ok = co_await step([](const item& i) { return is_text(i) && i.reply_markup.empty(); }) && ok;

        for (const auto& line : u.chat) {
            say.user(u.name, line);
            tg.user_sends_text(id, line);
            ok = co_await step(is_text) && ok;
        }

        auto video_choice = [&](std::string_view choice_key,
                                std::string_view data) -> engine::awaitable<bool> {
            const auto video_label = locales.text(u.lang, "btn.video");
            say.user(u.name, "presses “" + video_label + "”");
            tg.user_sends_text(id, video_label);
            const bool offered = co_await step(
                [](const item& i) { return is_text(i) && i.reply_markup.find("vid:") != std::string::npos; });
            const auto choice = [&] {
                std::int64_t m = 0;
                for (const auto& i : tg.sent_to(id)) {
                    if (i.reply_markup.find("vid:") != std::string::npos) {
                        m = i.message_id;
                    }
                }
                return m;
            }();
            say.user(u.name, "presses “" + locales.text(u.lang, choice_key) + "”");
            tg.user_presses_button(id, choice, std::string(data));
            co_return offered;
        };

        if (u.lang == "ru") {
            say.note("a video from the last selfie, before any selfie");
            ok = co_await video_choice("video.from_last", "vid:last") && ok;
            ok = co_await step([&](const item& i) {
                     return is_text(i) && i.text == locales.text(u.lang, "video.no_selfie");
                 }) &&
                 ok;
        }

        const auto selfie_label = locales.text(u.lang, "btn.selfie");
        say.user(u.name, "presses “" + selfie_label + "”");
        tg.user_sends_text(id, selfie_label);
        ok = co_await step([](const item& i) { return i.what == item::kind::photo; }) && ok;

        if (u.lang == "tr" || u.lang == "en") {
            const bool from_last = u.lang == "tr";
            say.note(from_last
                         ? "a video from the last selfie (the simulated OpenAI-videos gateway renders it)"
                         : "a new video: a new selfie first, then the video");
            const std::string_view choice_key = from_last ? "video.from_last" : "video.new";
            const std::string_view data = from_last ? "vid:last" : "vid:new";
            ok = co_await video_choice(choice_key, data) && ok;
            ok = co_await step([](const item& i) { return i.what == item::kind::video; }) && ok;
            co_await engine::sleep(300ms);
            say.bot(id, u.persona_name);
        }
        if (u.lang == "ru") {
            say.note("the image model refuses the next selfie");
            sims.gemini().faults.add(
                {.match = "generateContent", .kind = sim::fault_kind::refusal, .count = 2});
            say.user(u.name, "/selfie");
            tg.user_sends_text(id, "/selfie");
            ok = co_await step(is_text) && ok;
        }
        if (u.lang == "en") {
            say.note("the daily selfie quota (2 in this demo) is reached");
            say.user(u.name, "/selfie");
            tg.user_sends_text(id, "/selfie");
            ok = co_await step([](const item& i) { return i.what == item::kind::photo; }) && ok;
            say.user(u.name, "/selfie");
            tg.user_sends_text(id, "/selfie");
            ok = co_await step(is_text) && ok;

            say.note("the LLM is down for a moment");
            sims.openai().faults.add({.match = "chat.completions",
                                      .kind = sim::fault_kind::server_error,
                                      .count = 1,
                                      .status = 503});
            say.user(u.name, "Are you there?");
            tg.user_sends_text(id, "Are you there?");
            ok = co_await step(is_text) && ok;
        }
        if (u.lang == "tr") {
            say.user(u.name, "/language");
            tg.user_sends_text(id, "/language");
            ok = co_await step([](const item& i) {
                     return is_text(i) && i.reply_markup.find("lang:") != std::string::npos;
                 }) &&
                 ok;
            std::int64_t lang_message = 0;
            for (const auto& i : tg.sent_to(id)) {
                if (i.reply_markup.find("lang:") != std::string::npos) {
                    lang_message = i.message_id;
                }
            }
            say.user(u.name, "presses “English”");
            tg.user_presses_button(id, lang_message, "lang:en");
            ok = co_await step(is_text) && ok;
            say.user(u.name, "presses an old button");
            tg.user_presses_button(id, lang_message, "stale:v0");
            ok = co_await step([](const item& i) { return i.what == item::kind::callback_answer; }) && ok;
        }
    }
    say.note(ok ? "demo finished: every step answered" : "demo finished: some steps got no answer");
    co_return ok;
}

engine::awaitable<void> run_terminal_chat(sim::suite& sims, std::string language, std::FILE* out) {
    auto& tg = sims.telegram();
    narrator say(tg, out);
    const auto id = tg.add_user({.first_name = "You", .language_code = language});
    auto ex = co_await asio::this_coro::executor;
    asio::posix::stream_descriptor input(ex, ::dup(STDIN_FILENO));
    asio::streambuf buffer;
    std::fprintf(out,
                 "Terminal chat with the simulated bot. Type a message, /start to begin, a number to press a "
                 "button of the last message, /quit to leave.\n");
    say.user("You", "/start");
    tg.user_sends_text(id, "/start");
    for (;;) {
        co_await engine::sleep(300ms); // let the bot answer before the prompt returns
        say.bot(id, "");
        std::fprintf(out, "> ");
        std::fflush(out);
        // The line is taken from `buffer` below; the byte count adds nothing.
        [[maybe_unused]] auto [ec, n] =
            co_await asio::async_read_until(input, buffer, '\n', asio::as_tuple(engine::use_awaitable));
        if (ec) {
            break;
        }
        std::istream is(&buffer);
        std::string line;
        std::getline(is, line);
        if (line == "/quit") {
            break;
        }
        if (line.empty()) {
            continue;
        }
        // A number presses a button of the newest message that has buttons.
        if (line.find_first_not_of("0123456789") == std::string::npos && line.size() < 3) {
            const auto index = static_cast<std::size_t>(std::stoul(line));
            const auto items = tg.sent_to(id);
            for (auto it = items.rbegin(); it != items.rend(); ++it) {
                const auto bs = buttons_of(it->reply_markup);
                if (bs.empty()) {
                    continue;
                }
                if (index >= 1 && index <= bs.size()) {
                    const auto& b = bs[index - 1];
                    if (b.data.empty()) {
                        tg.user_sends_text(id, b.text);
                    } else {
                        tg.user_presses_button(id, it->message_id, b.data);
                    }
                }
                break;
            }
            continue;
        }
        tg.user_sends_text(id, line);
        co_await engine::sleep(1500ms);
    }
}

} // namespace companion::app
