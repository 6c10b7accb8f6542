// Her reference portrait: the plan as a table on virtual time, and the book against the fake image
// model with a real media folder: one drawing shared by concurrent first selfies, kept across a
// restart, a failure waited out, the operator's own file, and same face turned off.
#include "pipelines/portrait.hpp"
#include "tests/common/services.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace companion {
namespace {

using namespace std::chrono_literals;
using pipelines::portrait_plan;
using pipelines::portrait_step;
namespace gm = net::gemini;

struct plan_row {
    const char* name;
    bool same_face;
    portrait_plan::state state;
    engine::duration now; ///< since the epoch of the row's retry_at
    portrait_step expected;
};

gm::image_result picture(std::string bytes) {
    gm::image_result r;
    r.outcome = gm::image_outcome::image;
    r.image = gm::inline_image{.mime_type = "image/png", .bytes = std::move(bytes)};
    return r;
}

gm::image_result refused() {
    gm::image_result r;
    r.outcome = gm::image_outcome::prompt_blocked;
    r.reason = "PROHIBITED_CONTENT";
    return r;
}

struct book_world : test::services_world {
    pipelines::persona elif = *personas.find("elif");
    std::filesystem::path folder = media.directory() / "portraits";

    /// Runs `task` to its end: the book waits on the offload pool's real threads, never on time.
    template <class T>
    T run(engine::awaitable<T> task) {
        auto out = test::spawn(ioc, std::move(task));
        for (int turns = 0; !out->done && turns < 10'000; ++turns) {
            ioc.restart();
            ioc.run_one_for(std::chrono::milliseconds(100)); // a hang guard, not a timing
        }
        BOOST_REQUIRE(out->done);
        BOOST_REQUIRE(!out->error);
        return std::move(*out->value);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(portrait_suite)

BOOST_AUTO_TEST_CASE(the_plan_uses_waits_draws_or_goes_without) {
    const engine::time_point at{std::chrono::minutes(10)};
    const std::vector<plan_row> rows{
        {"same face off", false, {.have = true}, 0min, portrait_step::none},
        {"off, even with nothing drawn", false, {}, 0min, portrait_step::none},
        {"nothing yet: draw", true, {}, 0min, portrait_step::draw},
        {"have it: use", true, {.have = true}, 0min, portrait_step::use},
        {"another is drawing: wait", true, {.drawing = true}, 0min, portrait_step::wait},
        {"failed lately: without", true, {.retry_at = at}, 9min, portrait_step::none},
        {"failed, waited out: draw", true, {.retry_at = at}, 10min, portrait_step::draw},
        {"drawing again after a failure: wait",
         true,
         {.drawing = true, .retry_at = at},
         9min,
         portrait_step::wait},
    };
    for (const auto& row : rows) {
        const auto step = portrait_plan::next(row.same_face, row.state, engine::time_point{row.now});
        BOOST_TEST((step == row.expected), row.name);
    }
}

BOOST_AUTO_TEST_CASE(the_prompts_name_her_and_ask_to_keep_the_face) {
    const test::services_world w;
    const auto& elif = *w.personas.find("elif");
    const auto prompt = pipelines::portrait_prompt(elif);
    BOOST_TEST(prompt.find(elif.name) != std::string::npos);
    BOOST_TEST(prompt.find(elif.look) != std::string::npos);
    BOOST_TEST(prompt.find(std::to_string(elif.age) + "-year-old") != std::string::npos);
    BOOST_TEST(pipelines::same_face_instruction().find("same face, hair and build") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(concurrent_first_selfies_share_one_drawing_kept_across_a_restart, book_world) {
    images.answers.push_back(picture("elif's face"));
    pipelines::portrait_book book(svc, folder);
    auto first = test::spawn(ioc, book.of(elif));
    auto second = test::spawn(ioc, book.of(elif));
    for (int turns = 0; !(first->done && second->done) && turns < 10'000; ++turns) {
        ioc.restart();
        ioc.run_one_for(std::chrono::milliseconds(100)); // a hang guard, not a timing
    }
    BOOST_REQUIRE(first->done);
    BOOST_REQUIRE(second->done);
    BOOST_REQUIRE(first->value && *first->value);
    BOOST_REQUIRE(second->value && *second->value);
    BOOST_TEST((*first->value)->bytes == "elif's face");
    BOOST_TEST((*second->value)->bytes == "elif's face");
    BOOST_TEST(images.requests.size() == 1U);
    BOOST_TEST(images.requests[0].prompt == pipelines::portrait_prompt(elif));
    BOOST_TEST(images.requests[0].references.empty());
    BOOST_TEST(book.drawn() == 1U);
    BOOST_TEST(std::filesystem::exists(folder / "elif.png"));

    // Later selfies use it from memory; after a restart the kept file serves, with no drawing.
    BOOST_TEST(run(book.of(elif)).value_or(gm::inline_image{}).bytes == "elif's face");
    pipelines::portrait_book restarted(svc, folder);
    const auto kept = run(restarted.of(elif));
    BOOST_REQUIRE(kept.has_value());
    BOOST_TEST(kept->bytes == "elif's face");
    BOOST_TEST(kept->mime_type == "image/png");
    BOOST_TEST(images.requests.size() == 1U);
    BOOST_TEST(restarted.drawn() == 0U);
}

BOOST_FIXTURE_TEST_CASE(a_refused_drawing_goes_without_for_ten_minutes_then_draws_again, book_world) {
    images.answers.push_back(refused());
    images.answers.push_back(picture("the second try"));
    pipelines::portrait_book book(svc, folder);
    BOOST_TEST(!run(book.of(elif)).has_value());
    BOOST_TEST(images.requests.size() == 1U);
    BOOST_TEST(!std::filesystem::exists(folder / "elif.png"));

    advance(9min);
    BOOST_TEST(!run(book.of(elif)).has_value()); // no storm of drawings while it is refused
    BOOST_TEST(images.requests.size() == 1U);

    advance(1min);
    BOOST_TEST(run(book.of(elif)).value_or(gm::inline_image{}).bytes == "the second try");
    BOOST_TEST(images.requests.size() == 2U);
}

BOOST_FIXTURE_TEST_CASE(the_operators_file_is_used_and_same_face_off_sends_none, book_world) {
    const auto file = dir.path / "Elif.JPG";
    std::ofstream(file, std::ios::binary) << "jpeg bytes";
    auto shipped = elif;
    shipped.portrait = file.string();
    pipelines::portrait_book book(svc, folder);
    const auto image = run(book.of(shipped));
    BOOST_REQUIRE(image.has_value());
    BOOST_TEST(image->bytes == "jpeg bytes");
    BOOST_TEST(image->mime_type == "image/jpeg");

    auto off = elif;
    off.id = "elif_off";
    off.same_face = false;
    BOOST_TEST(!run(book.of(off)).has_value());
    BOOST_TEST(images.requests.empty());

    // The operator's file gone after start: logged, and the selfie goes on without it.
    std::filesystem::remove(file);
    auto gone = shipped;
    gone.id = "elif_gone";
    BOOST_TEST(!run(book.of(gone)).has_value());
    BOOST_TEST(images.requests.empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion
