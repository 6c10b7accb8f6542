// The gallery's decisions: which button press sends what again (plan_resend), and how a button
// reads in each language (gallery_label).
#include "pipelines/history.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace companion;
using namespace companion::pipelines;
using namespace std::chrono_literals;

namespace {

storage::content row(std::int64_t user, storage::content_kind kind, std::optional<std::string> file_id) {
    storage::content c;
    c.id = 7;
    c.user_id = user;
    c.persona_id = "masha";
    c.kind = kind;
    c.telegram_file_id = std::move(file_id);
    // 2026-12-01 09:30 UTC
    c.created = storage::from_unix_ms(1'796'117'400'000);
    return c;
}

struct resend_case {
    const char* name;
    std::optional<storage::content> stored;
    resend_plan::kind expected;
};

std::ostream& operator<<(std::ostream& os, const resend_case& c) {
    return os << c.name;
}

const std::vector<resend_case> resend_cases{
    {"the user's delivered video", row(1, storage::content_kind::video, "V1"), resend_plan::kind::video},
    {"the user's delivered selfie", row(1, storage::content_kind::selfie, "P1"), resend_plan::kind::photo},
    {"a row erased or pruned", std::nullopt, resend_plan::kind::refuse},
    {"another user's video", row(2, storage::content_kind::video, "V1"), resend_plan::kind::refuse},
    {"a video never delivered",
     row(1, storage::content_kind::video, std::nullopt),
     resend_plan::kind::refuse},
    {"an empty file id", row(1, storage::content_kind::selfie, ""), resend_plan::kind::refuse},
};

const locale_catalog& locales() {
    static const auto catalog = *locale_catalog::load(COMPANION_DATA_DIR "/locales");
    return catalog;
}

const persona_catalog& personas() {
    static const auto catalog = *persona_catalog::load(COMPANION_DATA_DIR "/personas.json");
    return catalog;
}

} // namespace

BOOST_AUTO_TEST_SUITE(history_suite)

BOOST_DATA_TEST_CASE(a_gallery_press_sends_only_the_users_own_delivered_file,
                     boost::unit_test::data::make(resend_cases),
                     c) {
    const auto plan = plan_resend(c.stored, 1);
    BOOST_TEST((plan.what == c.expected));
    if (c.expected != resend_plan::kind::refuse) {
        BOOST_TEST(plan.file_id == *c.stored->telegram_file_id);
    } else {
        BOOST_TEST(plan.file_id.empty());
    }
}

BOOST_AUTO_TEST_CASE(a_button_names_the_persona_the_date_and_a_videos_length) {
    auto video = row(1, storage::content_kind::video, "V1");
    video.duration = 5'040ms;
    BOOST_TEST(gallery_label(video, "en", locales(), personas()) == "Masha · 2026-12-01 · 5 s");
    BOOST_TEST(gallery_label(video, "ru", locales(), personas()) ==
               personas().find("masha")->name_in("ru") + " · 01.12.2026 · 5 с");
    BOOST_TEST(gallery_label(video, "tr", locales(), personas()) == "Maşa · 01.12.2026 · 5 sn");
    const auto selfie = row(1, storage::content_kind::selfie, "P1");
    BOOST_TEST(gallery_label(selfie, "en", locales(), personas()) == "Masha · 2026-12-01");
    auto gone = selfie;
    gone.persona_id = "retired";
    BOOST_TEST(gallery_label(gone, "en", locales(), personas()) == "retired · 2026-12-01");
    BOOST_TEST(gallery_data(42) == "h:42");
}

BOOST_AUTO_TEST_SUITE_END()
