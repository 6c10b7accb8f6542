// The scripted demo and the terminal chat, both speaking to the Telegram simulator as users of a
// bot each of them builds and owns (so the demo can stop the bot mid-render and start it again).
#include "app/simulation.hpp"

#include "app/wiring.hpp"
#include "engine/log.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "sim/media/ogg_opus.hpp"
#include "sim/suite.hpp"
#include "storage/users.hpp"
#include "storage/video_jobs.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/json/parse.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace companion::app {

namespace json = boost::json;
using namespace std::chrono_literals;
using item = sim::sent_item;

namespace {

// A button as the user sees it: its label, and its callback data (empty for a reply keyboard
// button, which sends its label as a message).
struct button {
    std::string text;
    std::string data;
};

// The rows of an inline or reply keyboard.
std::vector<std::vector<button>> button_rows(const std::string& markup) {
    std::vector<std::vector<button>> out;
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
            std::vector<button> buttons;
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
                buttons.push_back(std::move(out_b));
            }
            if (!buttons.empty()) {
                out.push_back(std::move(buttons));
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

// Where a received photo or video is written: its extension from its first bytes.
std::string extension_of(const std::string& bytes, item::kind what) {
    if (bytes.starts_with("\x89PNG")) {
        return ".png";
    }
    if (bytes.starts_with("\xFF\xD8")) {
        return ".jpg";
    }
    if (bytes.starts_with("RIFF")) {
        return ".webp";
    }
    return what == item::kind::video ? ".mp4" : ".bin";
}

// Every log line goes to a file instead of stderr while this lives, so no log line sits inside a
// transcript or between chat lines. Lines may come from the offload pool: the capture runs under
// the logger's lock.
class log_file {
public:
    explicit log_file(std::filesystem::path path) : path_(std::move(path)) {
        std::error_code ec;
        std::filesystem::create_directories(path_.parent_path(), ec);
        file_ = std::fopen(path_.c_str(), "a");
        if (file_ == nullptr) {
            return; // the logs stay on stderr
        }
        std::FILE* f = file_;
        engine::log().set_capture(
            [f](engine::log_level, std::string_view line) {
                std::fwrite(line.data(), 1, line.size(), f);
                std::fputc('\n', f);
                std::fflush(f);
            },
            true);
    }
    ~log_file() {
        if (file_ != nullptr) {
            engine::log().set_capture(nullptr);
            std::fclose(file_);
        }
    }
    log_file(const log_file&) = delete;
    log_file& operator=(const log_file&) = delete;

    bool open() const noexcept { return file_ != nullptr; }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
};

// The log file of a simulation mode: opened once and kept until the process ends, so the
// runtime's own last lines (after the chat or the demo has ended) go there too.
const log_file& logs_into(std::filesystem::path path) {
    static std::unique_ptr<log_file> file;
    if (!file) {
        file = std::make_unique<log_file>(std::move(path));
    }
    return *file;
}

} // namespace

void point_at_simulators(config& cfg, sim::suite& sims) {
    cfg.telegram.token = sim::suite::token();
    cfg.telegram.base_url = sims.telegram().base_url();
    cfg.openai.base_url = sims.openai().base_url();
    cfg.openai.api_key = "sk-simulation";
    cfg.gemini.base_url = sims.gemini().base_url();
    cfg.gemini.api_key = "simulation-key";
    cfg.video.api_key.clear();
    switch (cfg.video.provider) {
    case video_provider_kind::openai_videos:
        cfg.video.base_url = sims.openai().base_url();
        cfg.video.api_key = "sk-simulation-video";
        break;
    case video_provider_kind::fal:
        cfg.video.base_url = sims.fal().base_url();
        cfg.video.fal_key = "simulation-fal-key:secret";
        break;
    case video_provider_kind::openrouter:
        cfg.video.base_url = sims.openrouter().base_url();
        cfg.video.openrouter_key = "sk-or-v1-simulation";
        break;
    default:
        cfg.video.base_url.clear(); // the Gemini simulator serves Omni (through the Gemini URL)
        break;
    }
}

engine::awaitable<std::vector<service_check>>
check_in_simulation(engine::executor ex, config cfg, engine::offload_pool& offload) {
    sim::suite_config sc;
    sc.telegram.token = sim::suite::token();
    sim::suite sims(ex, sc);
    if (auto started = sims.start(); !started) {
        throw std::runtime_error("the simulators did not start: " + started.error().message());
    }
    point_at_simulators(cfg, sims);
    std::exception_ptr failure;
    std::vector<service_check> rows;
    try {
        rows = co_await check_configured_services(ex, cfg, offload);
    } catch (...) {
        failure = std::current_exception();
    }
    co_await sims.stop(); // also when the check was cancelled or failed: its servers go first
    if (failure) {
        std::rethrow_exception(failure);
    }
    co_return rows;
}

namespace {

// One simulated world: the simulators, and the bot on a data folder, which can be stopped and
// started again on the same folder (a deploy, or a crash mid-job).
class sim_world {
public:
    sim_world(engine::executor ex, const simulation_context& ctx, config cfg, sim::suite_config sc)
        : ex_(ex), ctx_(ctx), cfg_(std::move(cfg)) {
        sc.telegram.token = sim::suite::token();
        sims_ = std::make_unique<sim::suite>(ex, sc);
    }

    /// Starts the simulators and points the configuration at them; the error's text otherwise.
    std::optional<std::string> start_sims() {
        if (auto r = sims_->start(); !r) {
            return r.error().message();
        }
        point_at_simulators(cfg_, *sims_);
        return std::nullopt;
    }

    /// Builds the bot on the data folder and runs it. False when it could not start.
    engine::awaitable<bool> start_bot(pipelines::bot_config bc) {
        try {
            app_ = std::make_unique<bot_app>(ex_,
                                             cfg_,
                                             std::move(bc),
                                             ctx_.personas,
                                             ctx_.locales,
                                             ctx_.offload);
        } catch (const std::exception& e) {
            engine::log().error("simulation.bot_not_built", {{"error", e.what()}});
            co_return false;
        }
        const bool ready = co_await app_->bot().prepare();
        if (!ready) {
            co_return false;
        }
        running_ =
            std::make_unique<engine::task_group>(ex_, engine::task_group::config{.name = "simulation"});
        co_return running_->spawn(app_->bot().run());
    }

    /// Stops the bot as a stop signal would: in-flight work gets the bot's drain grace, then is
    /// cancelled; durable state (video jobs) stays for the next start.
    engine::awaitable<void> stop_bot() {
        if (running_) {
            running_->cancel();
            co_await running_->join();
            running_.reset();
        }
        app_.reset();
    }

    /// The bot and then the simulators; runs to its end even when the caller is cancelled.
    engine::awaitable<void> stop() { co_await engine::shielded(stop_all()); }

    sim::suite& sims() noexcept { return *sims_; }
    sim::telegram_simulator& telegram() noexcept { return sims_->telegram(); }
    const config& cfg() const noexcept { return cfg_; }
    bot_app* app() noexcept { return app_.get(); }

    /// The persona `user` talks to now ("" before a choice, or while the bot is down).
    std::string persona_of(std::int64_t user) {
        if (!app_) {
            return {};
        }
        storage::user_repository users(app_->db());
        const auto u = users.get(user);
        if (!u || !u->persona_id) {
            return {};
        }
        const auto* p = ctx_.personas.find(*u->persona_id);
        return p != nullptr ? p->name_in(u->language) : std::string(); // as the user reads her name
    }

    /// The user's video job that is not finished yet, if any.
    std::optional<storage::video_job> job_in_flight(std::int64_t user) {
        if (!app_) {
            return std::nullopt;
        }
        storage::video_job_repository jobs(app_->db());
        return jobs.in_flight_for(user);
    }

private:
    engine::awaitable<void> stop_all() {
        co_await stop_bot();
        co_await sims_->stop();
    }

    engine::executor ex_;
    const simulation_context& ctx_;
    config cfg_;
    std::unique_ptr<sim::suite> sims_;
    std::unique_ptr<bot_app> app_;
    std::unique_ptr<engine::task_group> running_;
};

// A button on screen: the message it belongs to and the button.
struct on_screen {
    std::int64_t message_id = 0;
    button b;
};

// Prints what users do and what the bot sends. Every button printed gets the next number, so a
// number names one button of one message on the whole screen; the bot is named by the persona the
// user talks to ("bot" before a choice); an edit of a message printed under an earlier heading
// says so.
class narrator {
public:
    narrator(sim::telegram_simulator& tg, std::FILE* out) : tg_(&tg), out_(out) {}

    void set_telegram(sim::telegram_simulator& tg) {
        tg_ = &tg;
        seen_.clear();
    }
    void set_speaker(std::function<std::string(std::int64_t)> speaker) { speaker_ = std::move(speaker); }
    /// Received photos and videos are written here (and their paths printed); empty: not saved.
    void save_media_in(std::filesystem::path dir) { media_dir_ = std::move(dir); }

    void user(const std::string& name, const std::string& what) {
        std::fprintf(out_, "👤 %s: %s\n", name.c_str(), what.c_str());
        std::fflush(out_);
    }

    void banner(const std::string& what) {
        std::fprintf(out_, "\n═══ %s ═══\n", what.c_str());
        std::fflush(out_);
    }

    void heading(const std::string& what) {
        heading_ = what;
        std::fprintf(out_, "\n── %s ──\n", what.c_str());
        std::fflush(out_);
    }

    void note(const std::string& what) {
        std::fprintf(out_, "   ⓘ %s\n", indent(what).c_str());
        std::fflush(out_);
    }

    void line(const std::string& what) {
        std::fprintf(out_, "%s\n", what.c_str());
        std::fflush(out_);
    }

    /// Prints what the bot did in `chat` since the last call.
    void bot(std::int64_t chat) {
        auto items = tg_->sent_to(chat);
        auto& seen = seen_[chat];
        for (; seen < items.size(); ++seen) {
            print(chat, items[seen]);
        }
        std::fflush(out_);
    }

    std::size_t seen(std::int64_t chat) { return seen_[chat]; }

    const std::vector<on_screen>& buttons() const noexcept { return buttons_; }

private:
    void print(std::int64_t chat, const item& i) {
        const std::string persona = speaker_ ? speaker_(chat) : std::string();
        const std::string who = "🤖 " + (persona.empty() ? std::string("bot") : persona);
        switch (i.what) {
        case item::kind::text:
            origin_[i.message_id] = heading_;
            std::fprintf(out_, "%s: %s\n", who.c_str(), indent(i.text).c_str());
            print_buttons(i.message_id, i.reply_markup);
            break;
        case item::kind::edit: {
            std::string label = " (edit)";
            if (auto o = origin_.find(i.message_id); o != origin_.end() && o->second != heading_) {
                label = " (edit of a message from “" + o->second + "”)";
            }
            std::fprintf(out_, "%s%s: %s\n", who.c_str(), label.c_str(), indent(i.text).c_str());
            print_buttons(i.message_id, i.reply_markup);
            break;
        }
        case item::kind::photo:
        case item::kind::video: {
            origin_[i.message_id] = heading_;
            const auto* bytes = tg_->file_bytes(i.file_id);
            const bool photo = i.what == item::kind::photo;
            std::fprintf(out_,
                         "%s: [%s %zu KB, file_id %s] %s\n",
                         who.c_str(),
                         photo ? "photo" : "video",
                         bytes != nullptr ? bytes->size() / 1024 : 0,
                         i.file_id.c_str(),
                         i.text.c_str());
            if (bytes != nullptr && !media_dir_.empty()) {
                save(*bytes, i);
            }
            print_buttons(i.message_id, i.reply_markup);
            break;
        }
        case item::kind::voice: {
            // What she says, from the simulated speech's transcript tag.
            const auto* bytes = tg_->file_bytes(i.file_id);
            const auto heard = bytes != nullptr ? sim::media::read_ogg_opus(*bytes) : std::nullopt;
            std::fprintf(out_,
                         "%s: [voice %.1f s, %zu KB, file_id %s] 🎙 “%s”\n",
                         who.c_str(),
                         heard ? heard->seconds : 0.0,
                         bytes != nullptr ? bytes->size() / 1024 : 0,
                         i.file_id.c_str(),
                         heard ? indent(heard->transcript.value_or("")).c_str() : "");
            break;
        }
        case item::kind::action:
            std::fprintf(out_, "   … %s\n", i.text.c_str());
            break;
        case item::kind::draft:
            // A streamed reply as the user watches it grow; the final message follows.
            std::fprintf(out_,
                         "   ✎ %s (draft): %s\n",
                         who.c_str(),
                         i.text.empty() ? "Thinking…" : indent(i.text).c_str());
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

    void save(const std::string& bytes, const item& i) {
        std::error_code ec;
        std::filesystem::create_directories(media_dir_, ec);
        const auto path =
            media_dir_ / ("message-" + std::to_string(i.message_id) + extension_of(bytes, i.what));
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (file) {
            std::fprintf(out_, "   saved: %s\n", std::filesystem::absolute(path, ec).c_str());
        } else {
            std::fprintf(out_, "   (could not save it to %s)\n", path.c_str());
        }
    }

    void print_buttons(std::int64_t message_id, const std::string& markup) {
        for (const auto& row : button_rows(markup)) {
            std::string text = "  ";
            for (const auto& b : row) {
                buttons_.push_back({message_id, b});
                text += " [" + std::to_string(buttons_.size()) + ". " + b.text + "]";
            }
            std::fprintf(out_, "%s\n", text.c_str());
        }
    }

    sim::telegram_simulator* tg_;
    std::FILE* out_;
    std::function<std::string(std::int64_t)> speaker_;
    std::filesystem::path media_dir_;
    std::map<std::int64_t, std::size_t> seen_;
    std::map<std::int64_t, std::string> origin_; ///< message id -> the heading it was printed under
    std::string heading_;
    std::vector<on_screen> buttons_;
};

bool is_text(const item& i) {
    return i.what == item::kind::text;
}

bool is_photo(const item& i) {
    return i.what == item::kind::photo;
}

bool is_voice(const item& i) {
    return i.what == item::kind::voice;
}

bool is_video(const item& i) {
    return i.what == item::kind::video;
}

bool is_anything(const item&) {
    return true;
}

// The configuration both modes start from: main's, with the simulation's pace.
pipelines::bot_config simulation_bot_config(const config& cfg) {
    auto b = make_bot_config(cfg);
    b.video.progress_every = 1s;
    b.video.action_every = 2s;
    return b;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// The demo
// ---------------------------------------------------------------------------------------------

namespace {

struct demo_user {
    std::int64_t id = 0;
    std::string name;
    std::string lang;
};

// The scripted walk. Each step sends what a user does and waits for the bot's answer; a step that
// starts work which ends later (a video) waits until the work is done and the chat is quiet, so
// what the bot sends lands under the step that caused it.
class demo_script {
public:
    demo_script(const simulation_context& ctx, narrator& say) : ctx_(ctx), say_(say) {}

    bool ok() const noexcept { return ok_; }
    void set_world(sim_world& w) {
        w_ = &w;
        say_.set_telegram(w.telegram());
    }

    std::string text(const demo_user& u, std::string_view key) const {
        return ctx_.locales.text(u.lang, key);
    }

    // Waits for what the bot does next in the user's chat (matching `pred`), prints it.
    engine::awaitable<std::optional<item>>
    expect(const demo_user& u, std::function<bool(const item&)> pred, engine::duration timeout = 20s) {
        // A stop (Ctrl-C) ends the demo at once (the bot's start may have narrowed the filter).
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        const auto from = say_.seen(u.id);
        auto got = co_await w_->telegram().wait_for(u.id, std::move(pred), timeout, from);
        say_.bot(u.id);
        if (!got) {
            say_.note("(no answer in time)");
            ok_ = false;
        }
        co_return got;
    }

    // Waits until the user's video is no longer in flight and the chat has been quiet for a
    // moment, printing what arrives.
    engine::awaitable<void> settle(const demo_user& u, engine::duration limit = 30s) {
        const auto until = engine::clock::now() + limit;
        std::size_t count = w_->telegram().sent_to(u.id).size();
        int quiet = 0;
        while (engine::clock::now() < until) {
            co_await engine::sleep(100ms);
            say_.bot(u.id);
            const auto now_count = w_->telegram().sent_to(u.id).size();
            const bool busy = w_->job_in_flight(u.id).has_value();
            quiet = (now_count == count && !busy) ? quiet + 1 : 0;
            count = now_count;
            if (quiet >= 4) {
                co_return;
            }
        }
        say_.note("(the chat did not settle in time)");
        ok_ = false;
    }

    void send(const demo_user& u, const std::string& what) {
        say_.user(u.name, what);
        w_->telegram().user_sends_text(u.id, what);
    }

    // Waits until the user's video job exists and is in `state` (any state when nullopt).
    engine::awaitable<std::optional<storage::video_job>>
    job_reaches(const demo_user& u, std::optional<storage::job_state> state, engine::duration limit = 30s) {
        const auto until = engine::clock::now() + limit;
        while (engine::clock::now() < until) {
            say_.bot(u.id);
            auto job = w_->job_in_flight(u.id);
            if (job && (!state || job->state == *state)) {
                co_return job;
            }
            co_await engine::sleep(50ms);
        }
        say_.note("(the video job did not get there in time)");
        ok_ = false;
        co_return std::nullopt;
    }

    // The newest bot message in the chat whose buttons carry `data_part`.
    std::optional<on_screen> newest_button(const demo_user& u, std::string_view data_part) {
        std::optional<on_screen> found;
        for (const auto& i : w_->telegram().sent_to(u.id)) {
            for (const auto& row : button_rows(i.reply_markup)) {
                for (const auto& b : row) {
                    if (!b.data.empty() && b.data.find(data_part) != std::string::npos) {
                        found = on_screen{i.message_id, b};
                    }
                }
            }
        }
        return found;
    }

    void press(const demo_user& u, const on_screen& b) {
        say_.user(u.name, "presses “" + b.b.text + "”");
        w_->telegram().user_presses_button(u.id, b.message_id, b.b.data);
    }

    engine::awaitable<demo_user> open(std::string name, std::string lang) {
        demo_user u;
        u.id = w_->telegram().add_user({.first_name = name, .language_code = lang});
        u.name = std::move(name);
        u.lang = std::move(lang);
        say_.heading(u.name + " (" + u.lang + ") opens the bot");
        send(u, "/start");
        const auto menu = [](const item& i) {
            return is_text(i) && i.reply_markup.find("\"p:") != std::string::npos;
        };
        co_await expect(u, menu);
        co_return u;
    }

    engine::awaitable<void> pick_persona(const demo_user& u, const std::string& persona_id) {
        auto b = newest_button(u, "p:" + persona_id);
        if (!b) {
            say_.note("(no persona menu on screen)");
            ok_ = false;
            co_return;
        }
        press(u, *b);
        co_await expect(u, is_text);
        co_await settle(u); // the persona's greeting follows the confirmation
    }

    engine::awaitable<void> chat(const demo_user& u, const std::string& line) {
        send(u, line);
        co_await expect(u, is_text);
    }

    // A voice note that says `words` (a real Ogg/Opus file; the simulated transcription reads
    // its words back), answered by her voice note or, with voice replies off, by text.
    engine::awaitable<void> voice(const demo_user& u, const std::string& words, double seconds) {
        say_.user(u.name,
                  "🎙 [voice note " + std::to_string(static_cast<int>(seconds)) + " s] “" + words + "”");
        w_->telegram().user_sends_voice(u.id,
                                        sim::media::make_ogg_opus({.seconds = seconds, .transcript = words}),
                                        static_cast<int>(seconds));
        const auto answered = [](const item& i) { return is_voice(i) || is_text(i); };
        co_await expect(u, answered);
        co_await settle(u);
    }

    engine::awaitable<void> selfie(const demo_user& u, bool by_command = false) {
        send(u, by_command ? std::string("/selfie") : text(u, "btn.selfie"));
        // The photo, or a text instead (a refusal, the quota); progress shows as a chat action.
        const auto answered = [](const item& i) { return is_photo(i) || is_text(i); };
        co_await expect(u, answered);
        co_await settle(u);
    }

    // Presses the video button, answers the 18+ question when it is asked (pressing its
    // confirmation), and picks `choice` (the mode and length: "vid:last:10", "vid:new:5").
    engine::awaitable<void> ask_video(const demo_user& u, std::string_view choice) {
        send(u, text(u, "btn.video"));
        const auto offered = [](const item& i) {
            return is_text(i) && (i.reply_markup.find("vid:") != std::string::npos ||
                                  i.reply_markup.find("adult:") != std::string::npos);
        };
        const auto from = say_.seen(u.id);
        co_await expect(u, offered);
        co_await settle(u);
        const auto adult = newest_button(u, "adult:yes");
        if (adult && !answered_adult_[u.name]) {
            answered_adult_[u.name] = true;
            press(u, *adult);
            const auto confirmed = [](const item& i) {
                return is_text(i) || i.what == item::kind::callback_answer || i.what == item::kind::edit;
            };
            co_await expect(u, confirmed);
            co_await settle(u);
        }
        bool offer_seen = false;
        const auto items = w_->telegram().sent_to(u.id);
        for (std::size_t n = from; n < items.size(); ++n) {
            offer_seen = offer_seen || items[n].reply_markup.find("vid:") != std::string::npos;
        }
        if (!offer_seen) {
            const auto offer = [](const item& i) {
                return is_text(i) && i.reply_markup.find("vid:") != std::string::npos;
            };
            co_await expect(u, offer);
        }
        const auto b = newest_button(u, std::string(choice));
        if (!b) {
            say_.note("(no video choice on screen)");
            ok_ = false;
            co_return;
        }
        press(u, *b);
    }

    // Shows the parts of the prompts the video providers received during a step that tell whether
    // the video is flirty (the debug message shows only their first 300 characters).
    /// How many video creates each simulator has seen.
    struct create_counts {
        std::size_t openai = 0;
        std::size_t gemini = 0;
        std::size_t fal = 0;
    };
    create_counts creates() const {
        return {.openai = w_->sims().openai().video_creates().size(),
                .gemini = w_->sims().gemini().video_creates().size(),
                .fal = w_->sims().fal().video_creates().size()};
    }

    /// The Actions line of every video prompt sent since `from`, and where it went.
    void show_actions(create_counts from) {
        std::size_t count = 0;
        auto show = [&](const std::string& provider, const std::string& prompt) {
            const auto at = prompt.find("Actions: ");
            const auto end = prompt.find("\n\n", at);
            if (at != std::string::npos) {
                say_.note("video request " + std::to_string(++count) + " to " + provider + ", its Actions: " +
                          prompt.substr(at + 9, end == std::string::npos ? end : end - at - 9));
            }
        };
        const auto& openai = w_->sims().openai().video_creates();
        for (auto n = from.openai; n < openai.size(); ++n) {
            show("the OpenAI-videos gateway (" + openai[n].model + ")", openai[n].prompt);
        }
        const auto& gemini = w_->sims().gemini().video_creates();
        for (auto n = from.gemini; n < gemini.size(); ++n) {
            show("Gemini", gemini[n].prompt);
        }
        const auto& fal = w_->sims().fal().video_creates();
        for (auto n = from.fal; n < fal.size(); ++n) {
            show("fal (" + fal[n].endpoint + ", duration " + fal[n].duration + ")", fal[n].prompt);
        }
    }

    engine::awaitable<void> video(const demo_user& u, std::string_view choice) {
        const auto before = creates();
        co_await ask_video(u, choice);
        co_await expect(u, is_video, 40s);
        co_await settle(u);
        show_actions(before);
    }

    engine::awaitable<void> forget(const demo_user& u) {
        const auto from = say_.seen(u.id);
        send(u, "/forget");
        co_await expect(u, is_text);
        co_await settle(u);
        // A confirmation, when the bot asks for one: its "yes" (else the first button offered).
        const auto items = w_->telegram().sent_to(u.id);
        std::optional<on_screen> first;
        std::optional<on_screen> yes;
        for (std::size_t n = from; n < items.size(); ++n) {
            for (const auto& row : button_rows(items[n].reply_markup)) {
                for (const auto& b : row) {
                    if (b.data.empty()) {
                        continue; // the reply keyboard
                    }
                    if (!first) {
                        first = on_screen{items[n].message_id, b};
                    }
                    if (b.data.find("yes") != std::string::npos ||
                        b.data.find("confirm") != std::string::npos) {
                        yes = on_screen{items[n].message_id, b};
                    }
                }
            }
        }
        if (!yes) {
            yes = first;
        }
        if (yes) {
            press(u, *yes);
            co_await expect(u, is_anything);
            co_await settle(u);
        }
    }

    sim_world& world() { return *w_; }
    narrator& say() { return say_; }
    void fail() { ok_ = false; }

private:
    const simulation_context& ctx_;
    narrator& say_;
    sim_world* w_ = nullptr;
    bool ok_ = true;
    std::map<std::string, bool> answered_adult_; ///< by name: the two worlds number users alike
};

// The first world's configuration: fal's queue with Kling v3 (the seed's 5 s), quick renders, every video
// flirty once the user has said they are an adult, the summary refreshed every two turns (so the
// memory answer can quote it), two selfies a day (so the quota shows).
config demo_config(const simulation_context& ctx) {
    config c = ctx.cfg;
    c.video.provider = video_provider_kind::fal;
    c.video.model = "fal-ai/kling-video/v3/standard/image-to-video";
    c.video.poll_interval = 300ms;
    c.video.flirty_probability = 1.0;
    c.video.debug_info = pipelines::debug_info::all;
    c.bot.summary_every = 2;
    c.limits.selfies_per_day = 2;
    c.limits.videos_per_day = 2; // Emma's third video is paid for with a pack of credits
    c.payments.enabled = true;
    c.payments.subscription_stars = 450; // offered beside the packs
    // Ivan lets Masha write first: in the demo a few seconds are a long silence and any hour is
    // day (the real defaults: 48 h of quiet, 09:00-21:00 in the user's time zone, twice a week).
    c.checkins = {.enabled = true,
                  .ask_after = std::chrono::hours(72),
                  .quiet_after = 3s,
                  .per_week = 2,
                  .day_starts = 0,
                  .day_ends = 24,
                  .every = 250ms};
    c.telegram.send_pacing = false; // the simulator does not hold the demo to Telegram's pace
    c.storage.data_dir = (std::filesystem::path(ctx.cfg.storage.data_dir) / "fal").string();
    return c;
}

sim::suite_config demo_sims() {
    sim::suite_config sc;
    sc.telegram.enforce_rate_limits = false;
    sc.openai.latency = 50ms;
    sc.openai.stream_chunk_delay = 120ms; // a streamed reply grows in the transcript
    for (auto* queue : {&sc.openai.queue_time, &sc.gemini.queue_time, &sc.fal.queue_time}) {
        *queue = 200ms;
    }
    sc.openai.render_time = 1500ms;
    sc.fal.render_time = 1500ms;
    sc.fal.video_fps = 8;
    sc.gemini.render_time = 2500ms; // long enough to stop the bot while the video renders
    sc.openai.video_fps = 8;
    sc.gemini.video_fps = 8;
    return sc;
}

engine::awaitable<void> walk_gateway(demo_script& d) {
    auto& say = d.say();
    // Elif: Turkish, memory of the last message, a selfie, the 18+ answer and a flirty video.
    {
        const auto u = co_await d.open("Elif", "tr");
        co_await d.pick_persona(u, "elif");
        co_await d.chat(u, "Bugün nasılsın?");
        co_await d.chat(u, "Az önce ne dediğimi hatırlıyor musun?");
        say.heading("Elif sends a voice note: heard in Turkish, answered by a voice note in Elif's voice");
        co_await d.voice(u, "Sesini duymak istiyorum, bana bir şey söyler misin?", 3.0);
        co_await d.selfie(u);
        say.heading("Elif asks for a 10-second video: she answers the 18+ question, so it may be flirty; "
                    "her selfie shows while it renders");
        co_await d.video(u, "vid:last:10");
        say.heading("Elif opens her gallery (/videos) and gets the video again, by its file_id");
        d.send(u, "/videos");
        const auto gallery = [](const item& i) {
            return is_text(i) && i.reply_markup.find("\"h:") != std::string::npos;
        };
        co_await d.expect(u, gallery);
        if (auto again = d.newest_button(u, "h:")) {
            d.press(u, *again);
            co_await d.expect(u, is_video);
            co_await d.settle(u);
        } else {
            d.fail();
        }
        say.heading("Elif switches to English; an old button has expired");
        d.send(u, "/language");
        const auto lang_menu = [](const item& i) {
            return is_text(i) && i.reply_markup.find("lang:") != std::string::npos;
        };
        co_await d.expect(u, lang_menu);
        if (auto en = d.newest_button(u, "lang:en")) {
            d.press(u, *en);
            co_await d.expect(u, is_text);
            say.user(u.name, "presses an old button");
            d.world().telegram().user_presses_button(u.id, en->message_id, "stale:v0");
            const auto answer = [](const item& i) { return i.what == item::kind::callback_answer; };
            co_await d.expect(u, answer);
        } else {
            d.fail();
        }
    }
    // Ivan: Russian, a video before any selfie, an image refusal.
    {
        const auto u = co_await d.open("Иван", "ru");
        co_await d.pick_persona(u, "masha");
        co_await d.chat(u, "Привет! Как прошёл день?");
        say.heading("a video from the last selfie, before any selfie");
        co_await d.ask_video(u, "vid:last:5");
        co_await d.expect(u, is_text);
        co_await d.settle(u);
        say.heading("the image model refuses the next selfie");
        // Three refusals: her first selfie draws Masha's portrait first (refused: the selfie goes
        // on from her description), then the selfie and its retry.
        d.world().sims().gemini().faults.add(
            {.match = "generateContent", .kind = sim::fault_kind::refusal, .count = 3});
        co_await d.selfie(u, true);

        say.heading(
            "Ivan lets Masha write first (/settings shows his local time, guessed from Russian); he "
            "goes quiet, and she writes to him (in this demo 3 s is a long silence and any hour is day)");
        d.send(u, "/settings");
        const auto settings = [](const item& i) {
            return is_text(i) && i.reply_markup.find("chk:on") != std::string::npos;
        };
        co_await d.expect(u, settings);
        if (auto on = d.newest_button(u, "chk:on")) {
            d.press(u, *on);
            co_await d.expect(u, is_text); // her yes, with /stop
            say.note("Ivan writes nothing for a while");
            co_await d.expect(u, is_text, 30s); // she writes first
            co_await d.settle(u);
        } else {
            d.fail();
        }
    }
    // Emma: English, memory of the first question, a new video, the busy message, a refused
    // flirty video and its clean retry, the quota, an LLM outage, a persona switch and /forget.
    {
        const auto u = co_await d.open("Emma", "en");
        co_await d.pick_persona(u, "emma");
        co_await d.chat(u, "Hi! What are you reading today?");
        co_await d.chat(u, "I'm Tom, I work as a nurse in Leeds.");
        say.heading("memory: she quotes the first question and her summary of the chat");
        co_await d.chat(u, "Do you remember my first question?");
        co_await d.selfie(u);

        say.heading("a new video: a new selfie first, then the video; a second request while it renders");
        const auto before = d.creates();
        co_await d.ask_video(u, "vid:new:5");
        co_await d.job_reaches(u, std::nullopt);
        d.send(u, d.text(u, "btn.video"));
        co_await d.expect(u, is_text);
        co_await d.expect(u, is_video, 40s);
        co_await d.settle(u);
        d.show_actions(before);

        say.heading("the video provider refuses the flirty prompt; the bot retries once without it");
        // fal's content checker flags the first job (its result is a 422 naming the input).
        d.world().sims().fal().faults.add(
            {.match = "queue.submit", .kind = sim::fault_kind::refusal, .count = 1});
        co_await d.video(u, "vid:last:5");

        say.heading(
            "the day's free videos (2 in this demo) are used up: Emma buys 3 videos for 150 Telegram Stars");
        d.send(u, d.text(u, "btn.video"));
        const auto packs = [](const item& i) {
            return is_text(i) && i.reply_markup.find("\"buy:") != std::string::npos;
        };
        co_await d.expect(u, packs);
        if (auto pack = d.newest_button(u, "buy:3")) {
            d.press(u, *pack);
            const auto invoiced = [](const item& i) { return i.what == item::kind::invoice; };
            co_await d.expect(u, invoiced);
            co_await d.settle(u);
            const auto invoices = d.world().telegram().invoices_to(u.id);
            if (!invoices.empty()) {
                say.user(u.name, "pays the invoice with Telegram Stars");
                d.world().telegram().user_pays(u.id, invoices.back().first);
                co_await d.expect(u, is_text); // her thanks, with the balance
                co_await d.settle(u);
                say.heading("a credit pays for the next video");
                co_await d.video(u, "vid:last:5");
            } else {
                d.fail();
            }
        } else {
            d.fail();
        }

        say.heading("the daily selfie quota (2 in this demo) is reached");
        co_await d.selfie(u, true);
        co_await d.selfie(u, true);

        say.heading("the LLM is down for a moment");
        d.world().sims().openai().faults.add(
            {.match = "chat.completions", .kind = sim::fault_kind::server_error, .count = 1, .status = 503});
        co_await d.chat(u, "Are you there?");

        say.heading("Emma's user switches to another persona");
        d.send(u, d.text(u, "btn.persona"));
        const auto menu = [](const item& i) {
            return is_text(i) && i.reply_markup.find("\"p:") != std::string::npos;
        };
        co_await d.expect(u, menu);
        co_await d.pick_persona(u, "aylin");
        co_await d.chat(u, "Nice to meet you! Where are you now?");

        say.heading("/forget erases the conversation and the media");
        co_await d.forget(u);
        co_await d.chat(u, "Do you remember my first question?"); // nothing left to quote
    }
}

// The second world: Gemini Omni renders the videos; the bot is stopped while a video renders and
// started again on the same data folder, and the video arrives.
engine::awaitable<void> walk_omni(demo_script& d) {
    auto& say = d.say();
    const auto u = co_await d.open("Defne", "tr");
    co_await d.pick_persona(u, "defne");
    co_await d.selfie(u);
    say.heading("a video on the second provider; the bot stops while it renders");
    co_await d.ask_video(u, "vid:last:5");
    auto& w = d.world();
    const auto job = co_await d.job_reaches(u, storage::job_state::submitted);
    if (!job) {
        co_return;
    }
    say.note("the job is stored as submitted (provider job " + job->provider_job_id.value_or("?") +
             "); the bot stops now, as a deploy would stop it");
    co_await w.stop_bot();
    say.heading("the bot starts again on the same data folder and resumes the video");
    auto bc = simulation_bot_config(w.cfg());
    const bool started = co_await w.start_bot(std::move(bc));
    if (!started) {
        say.note("(the bot did not start again)");
        d.fail();
        co_return;
    }
    co_await d.expect(u, is_video, 40s);
    co_await d.settle(u);
    say.note("the provider got " + std::to_string(w.sims().gemini().video_creates().size()) +
             " create request(s) for it: the restart polled the stored job, it did not submit again");
}

} // namespace

engine::awaitable<bool> run_demo(simulation_context ctx) {
    // A stop (Ctrl-C) ends the demo at once rather than after the runtime's grace period.
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    auto ex = co_await asio::this_coro::executor;
    // Beside the demo's data folder, which is removed at the end (the log is kept to be read).
    const auto log_path =
        std::filesystem::temp_directory_path() / ("companion-demo-" + std::to_string(::getpid()) + ".log");
    const auto& logs = logs_into(log_path);

    std::fprintf(ctx.out,
                 "companion demo: scripted users talk to the bot through simulated Telegram, LLM, image and "
                 "video services on loopback.\n");
    sim_world gateway(ex, ctx, demo_config(ctx), demo_sims());
    if (auto failed = gateway.start_sims()) {
        std::fprintf(ctx.out, "the simulators did not start: %s\n", failed->c_str());
        co_return false;
    }
    narrator say(gateway.telegram(), ctx.out);
    demo_script d(ctx, say);
    d.set_world(gateway);
    std::exception_ptr failure;
    sim_world* current = &gateway;
    say.set_speaker([&current](std::int64_t user) { return current->persona_of(user); });
    std::unique_ptr<sim_world> omni;
    try {
        say.banner("first provider: fal's queue, Kling v3 at 5 or 10 s");
        const bool up = co_await gateway.start_bot(simulation_bot_config(gateway.cfg()));
        if (!up) {
            d.fail();
        } else {
            co_await walk_gateway(d);
        }
        co_await gateway.stop();

        auto omni_cfg = demo_config(ctx);
        omni_cfg.video.provider = video_provider_kind::gemini_omni;
        omni_cfg.video.model.clear();
        omni_cfg.storage.data_dir = (std::filesystem::path(ctx.cfg.storage.data_dir) / "omni").string();
        omni = std::make_unique<sim_world>(ex, ctx, omni_cfg, demo_sims());
        if (auto failed = omni->start_sims()) {
            say.note("the second world's simulators did not start: " + *failed);
            d.fail();
        } else {
            current = omni.get();
            d.set_world(*omni);
            say.banner("second provider: Gemini Omni, a new bot on its own data folder");
            auto bc = simulation_bot_config(omni->cfg());
            bc.drain_grace = 200ms; // the stop below must land while the video renders
            const bool omni_up = co_await omni->start_bot(std::move(bc));
            if (!omni_up) {
                d.fail();
            } else {
                co_await walk_omni(d);
            }
        }
    } catch (...) {
        failure = std::current_exception();
    }
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await gateway.stop();
    if (omni) {
        co_await omni->stop();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    say.heading(d.ok() ? "demo finished: every step answered" : "demo finished: some steps got no answer");
    if (logs.open()) {
        std::fprintf(ctx.out, "(log lines of this run: %s)\n", logs.path().c_str());
    }
    co_return d.ok();
}

// ---------------------------------------------------------------------------------------------
// The terminal chat
// ---------------------------------------------------------------------------------------------

namespace {

const char* terminal_help =
    "What you can type:\n"
    "  any text        a message to her (after /start and a persona)\n"
    "  a number        presses the button shown with that number, e.g. 3 for [3. 📸 Selfie]\n"
    "  /start          start over and choose a persona\n"
    "  /selfie         ask for a selfie          /video     ask for a video\n"
    "  /persona        choose another persona    /language  change the language\n"
    "  /forget         erase the conversation    /help      this list (and the bot's own help)\n"
    "  /quit           leave (end of input leaves too, once the bot is quiet)\n"
    "Photos and videos she sends are saved as files; their paths are printed.\n";

class terminal_chat {
public:
    terminal_chat(sim_world& w, narrator& say, std::int64_t user, std::FILE* out, engine::executor ex)
        : w_(w), say_(say), user_(user), out_(out), input_(ex) {}

    // Ends the read when the process is asked to stop (Ctrl-C): the read is cancelled directly, so
    // the chat ends at once rather than after the runtime's grace period.
    engine::awaitable<void> stop_watch(engine::event& stopping) {
        co_await stopping.wait();
        boost::system::error_code ignored; // not open (stdin was a file): nothing to cancel
        input_.cancel(ignored);
    }

    // Prints what the bot sends as it arrives, until cancelled.
    engine::awaitable<void> print_loop() {
        for (;;) {
            const auto from = say_.seen(user_);
            auto got = co_await w_.telegram().wait_for(user_, is_anything, 1h, from);
            if (got) {
                say_.bot(user_);
            }
        }
    }

    // Reads lines until /quit or the end of input; then waits for the bot to go quiet.
    engine::awaitable<void> read_loop() {
        auto& input = input_;
        boost::system::error_code assigned;
        const int fd = ::dup(STDIN_FILENO);
        input.assign(fd, assigned);
        if (assigned) {
            ::close(fd);
            // epoll refuses regular files: the chat reads a terminal or a pipe (`cat file | ...`).
            std::fprintf(out_,
                         "standard input cannot be read as it comes (%s); use a terminal or a pipe\n",
                         assigned.message().c_str());
            co_return;
        }
        asio::streambuf buffer;
        for (;;) {
            auto [ec, n] =
                co_await asio::async_read_until(input, buffer, '\n', asio::as_tuple(engine::use_awaitable));
            if (ec == asio::error::operation_aborted) {
                co_return; // a signal: the chat ends now
            }
            if (ec && n == 0 && buffer.size() == 0) {
                break; // end of input
            }
            std::istream is(&buffer);
            std::string line;
            std::getline(is, line);
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            if (line == "/quit") {
                co_return;
            }
            handle(line);
        }
        co_await quiet();
    }

private:
    void handle(const std::string& line) {
        if (line.empty()) {
            return;
        }
        if (line == "/help") {
            std::fputs(terminal_help, out_);
            std::fflush(out_);
            w_.telegram().user_sends_text(user_, line);
            return;
        }
        if (line.find_first_not_of("0123456789") == std::string::npos) {
            press(line);
            return;
        }
        w_.telegram().user_sends_text(user_, line);
    }

    void press(const std::string& number) {
        const auto& buttons = say_.buttons();
        const auto n = number.size() > 6 ? 0 : std::stoul(number);
        if (n == 0 || n > buttons.size()) {
            const std::string range = buttons.empty()
                                          ? std::string("there are no buttons on screen yet")
                                          : "buttons on screen: 1-" + std::to_string(buttons.size());
            std::fprintf(out_, "   (no button %s; %s)\n", number.c_str(), range.c_str());
            std::fflush(out_);
            return;
        }
        const auto& b = buttons[n - 1];
        std::fprintf(out_, "👤 You: presses [%lu. %s]\n", n, b.b.text.c_str());
        std::fflush(out_);
        if (b.b.data.empty()) {
            w_.telegram().user_sends_text(user_, b.b.text);
        } else {
            w_.telegram().user_presses_button(user_, b.message_id, b.b.data);
        }
    }

    // After the end of input: until the bot has answered everything sent and no video is in flight,
    // and the chat has been quiet for a moment (two minutes at most).
    engine::awaitable<void> quiet() {
        const auto until = engine::clock::now() + 2min;
        std::size_t count = w_.telegram().sent_to(user_).size();
        int still = 0;
        while (engine::clock::now() < until && still < 15) {
            co_await engine::sleep(100ms);
            const auto now_count = w_.telegram().sent_to(user_).size();
            const bool busy = w_.job_in_flight(user_).has_value() || w_.telegram().pending_updates() > 0;
            still = (now_count == count && !busy) ? still + 1 : 0;
            count = now_count;
        }
    }

    sim_world& w_;
    narrator& say_;
    std::int64_t user_;
    std::FILE* out_;
    asio::posix::stream_descriptor input_;
};

} // namespace

engine::awaitable<bool> run_terminal_chat(simulation_context ctx, std::string language) {
    auto ex = co_await asio::this_coro::executor;
    const std::filesystem::path data_dir = ctx.cfg.storage.data_dir;
    const auto& logs = logs_into(data_dir / "companion.log");
    std::fprintf(ctx.out,
                 "Terminal chat with the simulated bot (simulated Telegram, LLM, image and video services on "
                 "loopback).\n");
    if (logs.open()) {
        std::fprintf(ctx.out, "Logs: %s\n", std::filesystem::absolute(logs.path()).c_str());
    }
    std::fputs(terminal_help, ctx.out);
    std::fflush(ctx.out);

    sim::suite_config sc;
    sc.openai.latency = 150ms;            // a little thinking time reads naturally
    sc.openai.stream_chunk_delay = 150ms; // and her reply grows as she writes it
    sim_world w(ex, ctx, ctx.cfg, sc);
    if (auto failed = w.start_sims()) {
        std::fprintf(ctx.out, "the simulators did not start: %s\n", failed->c_str());
        co_return false;
    }
    narrator say(w.telegram(), ctx.out);
    say.set_speaker([&w](std::int64_t user) { return w.persona_of(user); });
    say.save_media_in(std::filesystem::absolute(data_dir / "received"));
    std::exception_ptr failure;
    bool ok = false;
    try {
        const bool up = co_await w.start_bot(simulation_bot_config(w.cfg()));
        if (up) {
            const auto user = w.telegram().add_user({.first_name = "You", .language_code = language});
            terminal_chat chat(w, say, user, ctx.out, ex);
            say.user("You", "/start");
            w.telegram().user_sends_text(user, "/start");
            // The printer runs beside the reader and ends when the reader does.
            engine::task_group printer(ex, engine::task_group::config{.name = "terminal_printer"});
            std::exception_ptr read_failure;
            const bool watching = ctx.stopping == nullptr || printer.spawn(chat.stop_watch(*ctx.stopping));
            if (watching && printer.spawn(chat.print_loop())) {
                try {
                    co_await chat.read_loop();
                } catch (...) {
                    read_failure = std::current_exception();
                }
            }
            // A stop may have cancelled us: clear it, so the printer's end is awaited, not skipped.
            co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
            co_await printer.shutdown(1s);
            if (read_failure) {
                std::rethrow_exception(read_failure);
            }
            say.bot(user);
            ok = true;
        } else {
            std::fprintf(ctx.out, "the bot did not start (see the log)\n");
        }
    } catch (...) {
        failure = std::current_exception();
    }
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    co_await w.stop();
    if (failure) {
        std::rethrow_exception(failure);
    }
    co_return ok;
}

} // namespace companion::app
