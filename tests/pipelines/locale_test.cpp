// Tests of pipelines/locale: the shipped catalogs are complete and consistent and carry the
// seed's strings verbatim; validation catches missing keys and mismatched placeholders.
#include "pipelines/locale.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

using namespace companion::pipelines;

namespace {

std::map<std::string, std::string>
catalogs(const std::string& tr, const std::string& ru, const std::string& en) {
    auto wrap = [](const char* lang, const std::string& strings) {
        return std::string(R"({"language":")") + lang + R"(","strings":{)" + strings + "}}";
    };
    return {{"tr", wrap("tr", tr)}, {"ru", wrap("ru", ru)}, {"en", wrap("en", en)}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(locale_suite)

BOOST_AUTO_TEST_CASE(shipped_catalogs_hold_the_seed_strings_verbatim) {
    auto cat = locale_catalog::load(COMPANION_DATA_DIR "/locales");
    BOOST_TEST_REQUIRE(cat.has_value(), (cat ? "" : cat.error()));
    BOOST_TEST(cat->text("tr", "btn.video") == "🎬 Video gönder");
    BOOST_TEST(cat->text("ru", "btn.video") == "🎬 Отправь видео");
    BOOST_TEST(cat->text("tr", "video.from_last") == "📸➡️🎬 Son selfie'den video yap");
    BOOST_TEST(cat->text("ru", "video.from_last") ==
               "📸➡️🎬 Видео из последнего селфи");
    BOOST_TEST(cat->text("tr", "video.new") == "✨ Yeni video oluştur");
    BOOST_TEST(cat->text("ru", "video.new") == "✨ Создать новое видео");
    // The seed's "generating" line, without its "(may take 5 seconds)": renders take minutes, and
    // the line is edited with the real elapsed time as the job goes.
    BOOST_TEST(cat->text("tr", "video.generating").starts_with("🎬 Video hazırlanıyor..."));
    BOOST_TEST(cat->text("ru", "video.generating").starts_with("🎬 Генерирую видео..."));
    for (const char* lang : {"tr", "ru", "en"}) {
        BOOST_TEST(cat->text(lang, "video.generating").find('5') == std::string::npos, lang);
    }
    BOOST_TEST(cat->text("tr", "video.success") == "İşte video'm! 🎥💕");
    BOOST_TEST(cat->text("ru", "video.success") == "Вот моё видео! 🎥💕");
    BOOST_TEST(cat->text("tr", "video.no_selfie") ==
               "Önce bir selfie oluştur, sonra video yapabilirim! 📸");
    BOOST_TEST(
        cat->text("ru", "video.no_selfie") ==
        "Сначала создай селфи, потом я смогу сделать видео! 📸");
    BOOST_TEST(
        cat->text("ru", "debug.info", {{"selfie_prompt", "A"}, {"video_prompt", "B"}}) ==
        "ℹ️ Инфо (debug)\n\nОригинальный selfie промпт:\nA...\n\nНовый video "
        "промпт:\nB...");
}

BOOST_AUTO_TEST_CASE(placeholders_are_substituted_and_unknown_language_falls_back_to_english) {
    auto cat = locale_catalog::load(COMPANION_DATA_DIR "/locales");
    BOOST_TEST_REQUIRE(cat.has_value());
    BOOST_TEST(cat->text("en", "persona.chosen", {{"name", "Elif"}}) == "You're now chatting with Elif 💬");
    BOOST_TEST(cat->text("de", "persona.chosen", {{"name", "Elif"}}) == "You're now chatting with Elif 💬");
}

BOOST_AUTO_TEST_CASE(elapsed_time_is_written_in_the_users_language) {
    auto cat = locale_catalog::load(COMPANION_DATA_DIR "/locales");
    BOOST_TEST_REQUIRE(cat.has_value());
    using std::chrono::seconds;
    BOOST_TEST(cat->elapsed("en", seconds{42}) == "42 s");
    BOOST_TEST(cat->elapsed("ru", seconds{1}) == "1 сек");
    BOOST_TEST(cat->elapsed("tr", seconds{59}) == "59 sn");
    BOOST_TEST(cat->elapsed("ru", seconds{185}) == "3 мин 5 сек");
    BOOST_TEST(cat->elapsed("tr", seconds{60}) == "1 dk 0 sn");
    BOOST_TEST(cat->elapsed("en", seconds{-3}) == "0 s"); // a clock step back reads as nothing
}

BOOST_AUTO_TEST_CASE(reply_keyboard_labels_match_in_every_language) {
    auto cat = locale_catalog::load(COMPANION_DATA_DIR "/locales");
    BOOST_TEST_REQUIRE(cat.has_value());
    const std::vector<std::string_view> keys{"btn.selfie", "btn.video", "btn.persona", "btn.language"};
    BOOST_TEST(cat->match_label("🎬 Video gönder", keys).value() == "btn.video");
    BOOST_TEST(cat->match_label("🎬 Отправь видео", keys).value() == "btn.video");
    BOOST_TEST(cat->match_label("🎬 Send a video", keys).value() == "btn.video");
    BOOST_TEST(cat->match_label("📸 Селфи", keys).value() == "btn.selfie");
    BOOST_TEST(!cat->match_label("hello", keys).has_value());
}

BOOST_AUTO_TEST_CASE(missing_keys_and_mismatched_placeholders_are_refused) {
    BOOST_TEST(
        locale_catalog::parse(catalogs(R"("a":"x {n}")", R"("a":"y {n}")", R"("a":"z {n}")")).has_value());
    auto missing = locale_catalog::parse(catalogs(R"("a":"x")", R"("b":"y")", R"("a":"z")"));
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().find("ru.json: key \"a\" is missing") != std::string::npos);
    auto mismatch = locale_catalog::parse(catalogs(R"("a":"x {n}")", R"("a":"y {m}")", R"("a":"z {n}")"));
    BOOST_TEST_REQUIRE(!mismatch.has_value());
    BOOST_TEST(mismatch.error().find("placeholders") != std::string::npos);
    auto wrong_lang = locale_catalog::parse({{"tr", R"({"language":"en","strings":{}})"}});
    BOOST_TEST(!wrong_lang.has_value());
}

BOOST_AUTO_TEST_CASE(telegram_language_codes_map_to_product_languages) {
    BOOST_TEST(language_from_code("tr") == "tr");
    BOOST_TEST(language_from_code("ru-RU") == "ru");
    // Neighbouring languages are not assumed to want Russian: English until the user picks.
    for (const char* code : {"uk", "uk-UA", "be", "kk", "ka", "hy", "uz"}) {
        BOOST_TEST(language_from_code(code) == "en", code);
    }
    BOOST_TEST(language_from_code("az") == "tr");
    BOOST_TEST(language_from_code("en-US") == "en");
    BOOST_TEST(language_from_code("") == "en");
    BOOST_TEST(language_from_code("de") == "en");
}

BOOST_AUTO_TEST_SUITE_END()
