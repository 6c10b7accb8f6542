// The simulation modes as a newcomer meets them, through the real companion-bot binary: the demo's
// transcript shows the product (memory, prompts that are prompts, every flow the README claims,
// no log lines, full file ids, late messages under their step), and the terminal chat numbers
// buttons across the screen, answers an unknown number, and prints a message that arrives later
// without waiting for input. The chat is driven through a pipe, each line written once the output
// it answers has appeared.
#include "tests/common/piped_process.hpp"
#include "tests/common/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iterator>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

// companion-bot with its stdin and stdout (stderr merged) on pipes, run from the source folder
// (the catalogs' default paths).
struct bot_process : companion::test::piped_process {
    explicit bot_process(std::vector<std::string> args)
        : piped_process(
              {.binary = COMPANION_BOT_PATH, .args = std::move(args), .working_dir = COMPANION_SOURCE_DIR}) {}
};

// The number printed beside the button labelled `label` (the last one), or "" when none.
std::string number_of(const std::string& output, const std::string& label) {
    std::string found;
    std::size_t at = 0;
    while ((at = output.find(". " + label + "]", at)) != std::string::npos) {
        auto open = output.rfind('[', at);
        found = output.substr(open + 1, at - open - 1);
        at += label.size();
    }
    return found;
}

// The transcript's section under the heading that contains `heading`, up to the next heading.
std::string section(const std::string& transcript, const std::string& heading) {
    const auto at = transcript.find(heading);
    if (at == std::string::npos) {
        return {};
    }
    const auto next = transcript.find("\n── ", at);
    const auto banner = transcript.find("\n═══ ", at);
    return transcript.substr(at, std::min(next, banner) - at);
}

} // namespace

BOOST_AUTO_TEST_SUITE(simulation)

BOOST_AUTO_TEST_CASE(the_demo_shows_every_flow_with_memory_real_prompts_and_no_log_lines) {
    companion::test::temp_dir dir;
    bot_process bot({"--script", "demo", "--data-dir", (dir.path / "data").string()});
    const int rc = bot.finish();
    const std::string& t = bot.output();
    BOOST_TEST(rc == 0, t);
    BOOST_TEST(t.find("demo finished: every step answered") != std::string::npos);

    // The simulated LLM answers from what it is given: the memory answer quotes the first
    // question and the summary the bot keeps.
    BOOST_TEST(t.find("Your first question was: \"Hi! What are you reading today?\"") != std::string::npos);
    BOOST_TEST(t.find("My notes on you: They first asked: \"Hi! What are you reading today?\"") !=
               std::string::npos);

    // Prompts are prompts, never the bot's own instructions echoed back.
    for (const char* instruction :
         {"Inspired by", "Write one photo prompt", "Turn this photo prompt", "Answer as JSON"}) {
        BOOST_TEST(t.find(instruction) == std::string::npos, instruction);
    }
    BOOST_TEST(t.find("Style: Cinematic vertical") != std::string::npos);
    BOOST_TEST(t.find("Scene: The clip opens on the photo itself") != std::string::npos);

    // No log lines in the transcript.
    for (const char* level : {" WARN ", " INFO ", " ERROR ", " DEBUG "}) {
        BOOST_TEST(t.find(level) == std::string::npos, level);
    }

    // Full file ids: every one longer than the old 16-character cut, and different photos differ.
    const std::regex id(R"(file_id ([A-Za-z0-9_-]+)\])");
    std::set<std::string> ids;
    std::size_t count = 0;
    for (auto it = std::sregex_iterator(t.begin(), t.end(), id); it != std::sregex_iterator(); ++it) {
        const auto value = (*it)[1].str();
        BOOST_TEST(value.size() > 16U, value);
        ids.insert(value);
        ++count;
    }
    BOOST_TEST(count >= 8U);
    // Files sent again by their file_id: the gallery's resend of the video it names, and each
    // selfie a video from the last selfie shows as its progress ("🎬 ..." as its caption).
    const std::regex preview(R"(\[photo [^\]]*\] 🎬)");
    const auto previews = static_cast<std::size_t>(
        std::distance(std::sregex_iterator(t.begin(), t.end(), preview), std::sregex_iterator()));
    BOOST_TEST(previews >= 2U);
    BOOST_TEST(ids.size() + 1 + previews == count);
    const auto gallery = section(t, "Elif opens her gallery");
    std::smatch resent;
    BOOST_TEST_REQUIRE(std::regex_search(gallery, resent, id), gallery);
    BOOST_TEST(section(t, "Elif asks for a 10-second video").find(resent[1].str()) != std::string::npos);

    // Before a persona is chosen, the bot speaks as the bot.
    BOOST_TEST(t.find("🤖 bot: Hi Emma! 👋 Who would you like to talk to?") != std::string::npos);
    BOOST_TEST(t.find("🤖 bot: Merhaba Elif!") != std::string::npos);

    // Every flow the README claims, each under its own heading with its answer.
    const auto adult = section(t, "Elif asks for a 10-second video");
    BOOST_TEST(adult.find("18+") != std::string::npos);
    // She chose the length with a button; the provider was asked for it, and her selfie (the
    // first frame) is the progress message.
    BOOST_TEST(adult.find("presses “📸➡️🎬 Son selfie'den video yap · 10 sn”") !=
                   std::string::npos,
               adult);
    BOOST_TEST(adult.find("duration \"10\"") != std::string::npos, adult);
    BOOST_TEST(adult.find("] 🎬 Video hazırlanıyor") != std::string::npos, adult);
    BOOST_TEST(adult.find("[video ") != std::string::npos);
    BOOST_TEST(adult.find("wink") != std::string::npos); // flirty, once she said she is an adult

    const auto busy = section(t, "a second request while it renders");
    BOOST_TEST(busy.find("Your video is still being made") != std::string::npos, busy);
    BOOST_TEST(busy.find("[video ") != std::string::npos);

    const auto refusal = section(t, "refuses the flirty prompt");
    BOOST_TEST(refusal.find("video request 1") != std::string::npos, refusal);
    BOOST_TEST(refusal.find("video request 2") != std::string::npos);
    // The first world's videos come from fal's queue, at the seed's 5 s.
    BOOST_TEST(t.find("first provider: fal's queue") != std::string::npos);
    BOOST_TEST(refusal.find("to fal (fal-ai/kling-video/v3/standard/image-to-video, duration \"5\")") !=
               std::string::npos);
    BOOST_TEST(refusal.find("[video ") != std::string::npos);
    // The video and its edits land under the step that asked for it, not under the next one.
    const auto quota = section(t, "the daily selfie quota");
    BOOST_TEST(quota.find("That's all the selfies for today") != std::string::npos, quota);
    BOOST_TEST(quota.find("(edit") == std::string::npos, quota);

    BOOST_TEST(section(t, "switches to another persona").find("🤖 Aylin:") != std::string::npos);
    const auto forget = section(t, "/forget");
    BOOST_TEST(forget.find("erased") != std::string::npos, forget);
    BOOST_TEST(forget.find("you haven't told me anything yet") != std::string::npos); // memory gone
    BOOST_TEST(t.find("second provider: Gemini Omni") != std::string::npos);
    const auto restart = section(t, "starts again on the same data folder");
    BOOST_TEST(restart.find("[video ") != std::string::npos, restart);
    BOOST_TEST(t.find("the provider got 1 create request(s)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_terminal_chat_numbers_buttons_across_the_screen_and_prints_late_messages) {
    companion::test::temp_dir dir;
    const auto data = dir.path / "data";
    bot_process bot({"--data-dir", data.string(), "--language", "en"});
    BOOST_TEST_REQUIRE(bot.wait_for("Logs: "), bot.output());
    BOOST_TEST(bot.output().find((data / "companion.log").string()) != std::string::npos);

    // The persona menu: 1-7; Emma is 7.
    BOOST_TEST_REQUIRE(bot.wait_for("Emma, 28 · London]"), bot.output());
    const auto emma = number_of(bot.output(), "Emma, 28 · London");
    BOOST_TEST(emma == "7");
    bot.write_line(emma);
    // The main keyboard of the next message continues the numbering: 8 and up.
    BOOST_TEST_REQUIRE(bot.wait_for("🌐 Language]"), bot.output());
    const auto selfie = number_of(bot.output(), "📸 Selfie");
    BOOST_TEST(selfie == "8");
    BOOST_TEST(bot.output().find("🤖 bot: Hi You!") != std::string::npos); // no persona before the choice

    // A number that names no button is answered.
    bot.write_line("99");
    BOOST_TEST_REQUIRE(bot.wait_for("no button 99; buttons on screen: 1-11"), bot.output());

    bot.write_line(selfie);
    BOOST_TEST_REQUIRE(bot.wait_for("[photo "), bot.output());
    BOOST_TEST_REQUIRE(bot.wait_for("saved: "), bot.output());

    bot.write_line(number_of(bot.output(), "🎬 Send a video"));
    // The 18+ question comes first, once; the offer follows the answer.
    BOOST_TEST_REQUIRE(bot.wait_for("Yes, I'm 18+]"), bot.output());
    const auto yes = number_of(bot.output(), "✅ Yes, I'm 18+");
    bot.write_line(yes);
    BOOST_TEST_REQUIRE(bot.wait_for("Video from my last selfie · 5 s]"), bot.output());
    const auto from_last = number_of(bot.output(), "📸➡️🎬 Video from my last selfie · 5 s");
    BOOST_TEST(yes != from_last); // each number names one button of one message
    const auto before_video = bot.output().size();
    bot.write_line(from_last);
    // Nothing more is written: the video arrives later and prints as it comes.
    BOOST_TEST_REQUIRE(bot.wait_for("[video ", before_video), bot.output());
    BOOST_TEST_REQUIRE(bot.wait_for("saved: ", bot.output().find("[video ", before_video)), bot.output());
    const auto saved_at = bot.output().find("saved: ", bot.output().find("[video ", before_video)) + 7;
    const auto saved = bot.output().substr(saved_at, bot.output().find('\n', saved_at) - saved_at);
    BOOST_TEST(std::filesystem::file_size(saved) > 1000U, saved);

    bot.write_line("/help");
    BOOST_TEST_REQUIRE(bot.wait_for("What you can type:", before_video), bot.output());
    bot.write_line("/quit");
    const int rc = bot.finish();
    BOOST_TEST(rc == 0, bot.output());
    for (const char* level : {" WARN ", " INFO ", " ERROR "}) {
        BOOST_TEST(bot.output().find(level) == std::string::npos, bot.output());
    }
}

BOOST_AUTO_TEST_SUITE_END()
