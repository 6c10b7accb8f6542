// Tests of the video-job state machine: the transition table (every pair of states), guarded
// updates, one job in flight per user held by the schema, and crash recovery.
#include "storage/detail/lazy_statement.hpp"
#include "storage/generated_content.hpp"
#include "storage/video_jobs.hpp"
#include "tests/storage/test_support.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace companion::storage::test {
namespace {

using enum job_state;

// The table of design.md §4, written out independently of the implementation.
const std::vector<std::pair<job_state, job_state>> legal = {
    {requested, prompting},    {requested, failed},          {prompting, rendering_image},
    {prompting, submitting},   {prompting, failed},          {rendering_image, submitting},
    {rendering_image, failed}, {rendering_image, refused}, // the image model declined the first frame
    {submitting, submitted},   {submitting, submit_unknown}, {submitting, refused},
    {submitting, prompting},   {submitting, failed},         {submitted, downloading},
    {submitted, refused},      {submitted, prompting},       {submitted, failed},
    {downloading, delivered},  {downloading, failed},
};

struct jobs_fixture : database_fixture {
    video_job_repository jobs{*db};

    jobs_fixture() {
        add_user(1);
        add_user(2);
    }

    std::int64_t create(std::int64_t user = 1, bool flirty = false) {
        auto id = jobs.create({.user_id = user,
                               .chat_id = user * 10,
                               .persona_id = "aylin",
                               .provider = "openai",
                               .mode = video_mode::from_last_selfie,
                               .flirty = flirty,
                               .created = t0});
        BOOST_TEST_REQUIRE(id.has_value());
        return *id;
    }

    /// Walks a job along `steps` from requested, requiring every step to succeed.
    void walk(std::int64_t id, std::initializer_list<job_state> steps) {
        job_state at = requested;
        for (job_state next : steps) {
            BOOST_TEST_REQUIRE(jobs.transition(id, at, next, {}, t0).has_value());
            at = next;
        }
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(storage_video_jobs)

BOOST_AUTO_TEST_CASE(transition_table_matches_the_design_for_every_pair) {
    for (job_state from : all_job_states) {
        for (job_state to : all_job_states) {
            const bool expected = std::find(legal.begin(), legal.end(), std::pair{from, to}) != legal.end();
            BOOST_TEST(is_legal_transition(from, to) == expected, from << " -> " << to);
        }
    }
}

BOOST_AUTO_TEST_CASE(terminal_states_have_no_way_out) {
    for (job_state s : all_job_states) {
        const bool terminal = s == delivered || s == failed || s == refused || s == submit_unknown;
        BOOST_TEST(is_terminal(s) == terminal, s);
    }
}

BOOST_AUTO_TEST_CASE(state_names_round_trip) {
    for (job_state s : all_job_states) {
        BOOST_TEST((parse_job_state(to_string(s)) == s));
    }
    BOOST_TEST(!parse_job_state("queued").has_value());
}

BOOST_FIXTURE_TEST_CASE(new_job_starts_requested_with_its_fields, jobs_fixture) {
    const auto id = create(1, true);
    const auto job = jobs.get(id);
    BOOST_TEST_REQUIRE(job.has_value());
    BOOST_TEST(job->state == requested);
    BOOST_TEST(job->user_id == 1);
    BOOST_TEST(job->chat_id == 10);
    BOOST_TEST(job->provider == "openai");
    BOOST_TEST((job->mode == video_mode::from_last_selfie));
    BOOST_TEST(job->flirty);
    BOOST_TEST(job->attempts == 0);
    BOOST_TEST((job->created == t0));
    BOOST_TEST(!job->seconds.has_value()); // none chosen: the configured length
}

BOOST_FIXTURE_TEST_CASE(the_chosen_length_is_stored_with_the_job, jobs_fixture) {
    const auto id = jobs.create({.user_id = 1,
                                 .chat_id = 10,
                                 .persona_id = "aylin",
                                 .provider = "fal",
                                 .created = t0,
                                 .seconds = 10});
    BOOST_TEST_REQUIRE(id.has_value());
    BOOST_TEST(jobs.get(*id)->seconds.value_or(0) == 10);
    BOOST_TEST(jobs.in_flight_for(1)->seconds.value_or(0) == 10);
    // The schema refuses a length no provider makes.
    BOOST_CHECK_THROW(
        db->connection().exec("UPDATE video_jobs SET seconds = 0 WHERE id = " + std::to_string(*id)),
        SQLite::Exception);
}

BOOST_FIXTURE_TEST_CASE(happy_path_stores_fields_set_with_each_transition, jobs_fixture) {
    generated_content_repository content(*db);
    const auto image =
        content.insert({.user_id = 1, .persona_id = "aylin", .prompt = "p", .media_path = "m.png"});
    const auto id = create();
    BOOST_TEST(jobs.transition(id, requested, prompting, {}, t0 + 1s).has_value());
    BOOST_TEST(
        jobs.transition(id, prompting, rendering_image, {.selfie_prompt = "selfie"}, t0 + 2s).has_value());
    BOOST_TEST(jobs.transition(id,
                               rendering_image,
                               submitting,
                               {.video_prompt = "video", .image_content_id = image, .image_path = "m.png"},
                               t0 + 3s)
                   .has_value());
    BOOST_TEST(jobs.transition(id,
                               submitting,
                               submitted,
                               {.provider_job_id = "vid_123", .next_poll_at = t0 + 8s},
                               t0 + 4s)
                   .has_value());
    BOOST_TEST(jobs.record_poll(id, t0 + 13s, t0 + 8s).has_value());
    BOOST_TEST(jobs.set_progress_message(id, 555, t0 + 9s).has_value());
    BOOST_TEST(!jobs.get(id)->progress_is_caption); // a text message
    BOOST_TEST(jobs.set_progress_message(id, 556, t0 + 9s, true).has_value());
    BOOST_TEST(jobs.get(id)->progress_is_caption); // the first frame's photo
    BOOST_TEST(jobs.transition(id, submitted, downloading, {}, t0 + 14s).has_value());
    BOOST_TEST(jobs.transition(id, downloading, delivered, {}, t0 + 15s).has_value());

    const auto job = jobs.get(id).value();
    BOOST_TEST(job.state == delivered);
    BOOST_TEST(job.selfie_prompt.value() == "selfie");
    BOOST_TEST(job.video_prompt.value() == "video");
    BOOST_TEST(job.image_content_id.value() == image);
    BOOST_TEST(job.image_path.value() == "m.png");
    BOOST_TEST(job.provider_job_id.value() == "vid_123");
    BOOST_TEST(job.attempts == 1);
    BOOST_TEST((job.next_poll_at.value() == t0 + 13s));
    BOOST_TEST(job.progress_message_id.value() == 556);
    BOOST_TEST((job.updated == t0 + 15s));
    BOOST_TEST(!job.error.has_value());
}

BOOST_FIXTURE_TEST_CASE(illegal_transition_is_an_error_and_changes_nothing, jobs_fixture) {
    const auto id = create();
    const auto r = jobs.transition(id, requested, submitted, {.provider_job_id = "x"}, t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == make_error_code(errc::illegal_transition));
    const auto job = jobs.get(id).value();
    BOOST_TEST(job.state == requested);
    BOOST_TEST(!job.provider_job_id.has_value());
}

BOOST_FIXTURE_TEST_CASE(transition_from_a_state_the_row_is_not_in_is_wrong_state, jobs_fixture) {
    const auto id = create();
    walk(id, {prompting});
    const auto r = jobs.transition(id, requested, prompting, {}, t0);
    BOOST_TEST(r.error() == make_error_code(errc::wrong_state));
    BOOST_TEST(jobs.transition(id + 99, requested, prompting, {}, t0).error() ==
               make_error_code(errc::not_found));
}

BOOST_FIXTURE_TEST_CASE(record_poll_only_applies_to_a_submitted_job, jobs_fixture) {
    const auto id = create();
    BOOST_TEST(jobs.record_poll(id, t0, t0).error() == make_error_code(errc::wrong_state));
    BOOST_TEST(jobs.record_poll(id + 99, t0, t0).error() == make_error_code(errc::not_found));
}

BOOST_FIXTURE_TEST_CASE(second_job_in_flight_for_a_user_is_refused_by_the_schema, jobs_fixture) {
    const auto first = create(1);
    const auto second =
        jobs.create({.user_id = 1, .chat_id = 10, .persona_id = "aylin", .provider = "openai"});
    BOOST_TEST_REQUIRE(second.has_error());
    BOOST_TEST(second.error() == make_error_code(errc::job_in_flight));
    create(2); // another user is not affected
    BOOST_TEST(jobs.in_flight_for(1)->id == first);
    BOOST_TEST(jobs.count_in_flight() == 2);

    // Once the first job is finished, a new one may start.
    BOOST_TEST(jobs.transition(first, requested, failed, {.error = "llm down"}, t0).has_value());
    BOOST_TEST(jobs.get(first)->error.value() == "llm down");
    BOOST_TEST(!jobs.in_flight_for(1).has_value());
    create(1);
}

BOOST_FIXTURE_TEST_CASE(refused_flirty_prompt_is_retried_once_without_flirt, jobs_fixture) {
    const auto id = create(1, true);
    walk(id, {prompting, submitting});
    BOOST_TEST(jobs.transition(id, submitting, prompting, {}, t0).has_value());
    BOOST_TEST(!jobs.get(id)->flirty);
    BOOST_TEST(jobs.transition(id, prompting, submitting, {}, t0).has_value());
    // The retry is spent: a second refusal is final.
    BOOST_TEST(jobs.transition(id, submitting, prompting, {}, t0).error() ==
               make_error_code(errc::illegal_transition));
    BOOST_TEST(jobs.transition(id, submitting, refused, {.error = "content policy"}, t0).has_value());
}

BOOST_FIXTURE_TEST_CASE(unfinished_lists_every_job_not_in_a_terminal_state, jobs_fixture) {
    add_user(3);
    const auto a = create(1);
    walk(a, {prompting, submitting, submitted});
    const auto b = create(2);
    walk(b, {prompting, failed});
    const auto c = create(3);
    const auto open = jobs.unfinished();
    BOOST_TEST_REQUIRE(open.size() == 2U);
    BOOST_TEST(open[0].id == a);
    BOOST_TEST(open[0].state == submitted);
    BOOST_TEST(open[1].id == c);
}

BOOST_FIXTURE_TEST_CASE(recovery_turns_submitting_jobs_into_submit_unknown, jobs_fixture) {
    add_user(3);
    const auto a = create(1);
    walk(a, {prompting, submitting});
    BOOST_TEST_REQUIRE(jobs.mark_create(a, t0 + 1min, t0 + 1min).has_value()); // a create in flight
    const auto b = create(2);
    walk(b, {prompting, submitting, submitted});
    const auto c = create(3);
    walk(c, {prompting});

    const auto recovered = jobs.recover_after_crash(t0 + 1h);
    BOOST_TEST_REQUIRE(recovered.size() == 1U);
    BOOST_TEST(recovered[0].id == a);
    BOOST_TEST(recovered[0].state == submit_unknown);
    BOOST_TEST((jobs.get(a) == recovered[0]));
    BOOST_TEST(jobs.get(b)->state == submitted); // polled again, never re-submitted
    BOOST_TEST(jobs.get(c)->state == prompting);
    BOOST_TEST(jobs.recover_after_crash(t0 + 2h).empty());
    create(1); // submit_unknown is terminal: the user may ask again
}

BOOST_FIXTURE_TEST_CASE(recovery_resumes_a_submitting_job_with_no_create_in_flight, jobs_fixture) {
    add_user(3);
    // Killed before its first create was sent.
    const auto never = create(1);
    walk(never, {prompting, submitting});
    // Its create certainly failed (refused connection): it waits to try again.
    const auto failed = create(2);
    walk(failed, {prompting, submitting});
    BOOST_TEST_REQUIRE(jobs.mark_create(failed, t0 + 1min, t0 + 1min).has_value());
    BOOST_TEST_REQUIRE(jobs.mark_create(failed, std::nullopt, t0 + 2min).has_value());
    BOOST_TEST_REQUIRE(jobs.set_spend_reserved(failed, 40, t0 + 1min).has_value());
    // Its create was sent, and no answer came before the kill.
    const auto sent = create(3);
    walk(sent, {prompting, submitting});
    BOOST_TEST_REQUIRE(jobs.mark_create(sent, t0 + 1min, t0 + 1min).has_value());

    const auto recovered = jobs.recover_after_crash(t0 + 1h);
    BOOST_TEST_REQUIRE(recovered.size() == 1U);
    BOOST_TEST(recovered[0].id == sent);
    BOOST_TEST(jobs.get(never)->state == submitting);
    BOOST_TEST(jobs.get(failed)->state == submitting);
    BOOST_TEST(!jobs.get(failed)->create_started.has_value());
    BOOST_TEST(jobs.get(failed)->spend_reserved_cents == 40); // resumed without reserving it twice
    BOOST_TEST((jobs.get(sent)->create_started == std::optional<timestamp>(t0 + 1min)));
    // Only a job in submitting has a create to mark.
    BOOST_TEST(jobs.mark_create(sent, t0 + 2h, t0 + 2h).error() == make_error_code(errc::wrong_state));
}

BOOST_FIXTURE_TEST_CASE(recovery_leaves_the_lost_message_pending, jobs_fixture) {
    const auto a = create(1);
    walk(a, {prompting, submitting});
    BOOST_TEST_REQUIRE(jobs.mark_create(a, t0, t0).has_value());
    jobs.recover_after_crash(t0 + 1h);
    const auto pending = jobs.pending_notices();
    BOOST_TEST_REQUIRE(pending.size() == 1U);
    BOOST_TEST(pending[0].id == a);
    BOOST_TEST(pending[0].notice.value_or("") == "video.lost");
}

BOOST_FIXTURE_TEST_CASE(an_ended_job_keeps_its_notice_until_the_user_is_told, jobs_fixture) {
    const auto a = create(1);
    walk(a, {prompting, submitting});
    const auto b = create(2);
    walk(b, {prompting});
    BOOST_TEST(jobs.pending_notices().empty());
    job_fields f;
    f.error = "moderation";
    f.notice = "video.refused";
    BOOST_TEST_REQUIRE(jobs.transition(a, submitting, refused, f, t0 + 1s).has_value());
    auto pending = jobs.pending_notices();
    BOOST_TEST_REQUIRE(pending.size() == 1U);
    BOOST_TEST(pending[0].id == a);
    BOOST_TEST(pending[0].state == refused);
    BOOST_TEST(pending[0].notice.value_or("") == "video.refused");
    BOOST_TEST(pending[0].error.value_or("") == "moderation");
    jobs.clear_notice(a);
    BOOST_TEST(jobs.pending_notices().empty());
    BOOST_TEST(!jobs.get(a)->notice.has_value());
    BOOST_TEST(jobs.get(a)->state == refused);
}

// A repository prepares a statement when it first runs it, and keeps only the ones it has run:
// a connection whose load never touches video jobs carries none of their programs.
BOOST_AUTO_TEST_CASE(statements_are_prepared_on_first_use_only) {
    database_fixture f;
    const auto prepared = [&] {
        int n = 0;
        for (sqlite3_stmt* s = sqlite3_next_stmt(f.db->connection().getHandle(), nullptr); s != nullptr;
             s = sqlite3_next_stmt(f.db->connection().getHandle(), s)) {
            ++n;
        }
        return n;
    };
    const int before = prepared();
    video_job_repository jobs(*f.db);
    BOOST_TEST(prepared() == before); // each was prepared once to check it, and dropped
    f.add_user(1);
    const int with_user = prepared();
    BOOST_TEST(!jobs.get(1).has_value());    // no such job; the statement ran
    BOOST_TEST(prepared() == with_user + 1); // get() ran one statement: that one is kept
    BOOST_TEST(!jobs.get(2).has_value());
    BOOST_TEST(prepared() == with_user + 1); // and reused
}

// A statement that cannot be prepared still fails the construction, not a later call.
BOOST_AUTO_TEST_CASE(a_statement_that_cannot_be_prepared_fails_at_construction) {
    database_fixture f;
    BOOST_CHECK_THROW(detail::lazy_statement(f.db->connection(), "SELECT nothing FROM no_such_table"),
                      SQLite::Exception);
    detail::lazy_statement fine(f.db->connection(), "SELECT count(*) FROM video_jobs");
    BOOST_TEST_REQUIRE(fine->executeStep());
    BOOST_TEST(fine->getColumn(0).getInt() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
