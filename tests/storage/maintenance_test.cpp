// Tests of retention: an update id and a selfie (row and file) older than their retention go and
// younger ones stay; nothing a video job in flight needs is touched; files no row names are swept;
// the loop runs on its schedule (virtual time) and ends when cancelled.
#include "engine/metrics.hpp"
#include "engine/task_group.hpp"
#include "storage/generated_content.hpp"
#include "storage/maintenance.hpp"
#include "storage/updates.hpp"
#include "storage/video_jobs.hpp"
#include "tests/engine/test_support.hpp"
#include "tests/storage/test_support.hpp"

#include <boost/test/data/test_case.hpp>

#include <exception>
#include <fstream>
#include <ostream>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace companion::storage::test {
namespace {

/// The wall time of every pass: well after t0, so every age below is representable.
const timestamp now = t0 + std::chrono::days{10};

struct stored_selfie {
    std::int64_t id = 0;
    std::filesystem::path file;
};

struct maintenance_fixture : database_fixture {
    media_store media{path / "media"};
    engine::offload_pool pool{1};
    generated_content_repository content{*db};
    video_job_repository jobs{*db};
    update_log updates{*db};
    maintenance_config config{.update_log_retention = 24h, .media_retention = 24h};

    /// A selfie of `user` made at `at`: its file (written then) and its row.
    stored_selfie selfie(std::int64_t user, timestamp at, std::string_view bytes) {
        const auto file = media.write("selfie-" + std::to_string(user), "png", bytes).value();
        set_written_at(file.path, at);
        const auto id = content.insert(
            {.user_id = user, .persona_id = "aylin", .media_path = file.path.string(), .created = at});
        return {id, file.path};
    }

    /// A file no row names (a crash between a row's delete and its file's), written at `at`.
    std::filesystem::path orphan(std::string_view name, timestamp at) {
        const auto file = media.directory() / name;
        std::ofstream(file) << "orphan";
        set_written_at(file, at);
        return file;
    }

    /// A video job of `user` in `state` whose first frame is `image`. The state is written
    /// directly: how a job gets there is the job machine's business, not retention's.
    std::int64_t job(std::int64_t user, job_state state, const stored_selfie& image) {
        const auto id =
            jobs.create({.user_id = user, .chat_id = user, .persona_id = "aylin", .provider = "sim"}).value();
        SQLite::Statement set(db->connection(),
                              "UPDATE video_jobs SET state = ?2, image_content_id = ?3, image_path = ?4 "
                              "WHERE id = ?1");
        set.bind(1, id);
        set.bind(2, std::string(to_string(state)));
        set.bind(3, image.id);
        set.bind(4, image.file.string());
        set.exec();
        return id;
    }

    /// One pass at `at`, run to its end (its file work on the pool; no timers involved).
    maintenance_report pass(timestamp at = now) {
        asio::io_context io(1);
        maintenance_report report;
        std::exception_ptr failure;
        asio::co_spawn(io,
                       run_maintenance(*db, media, pool, config, at),
                       [&](std::exception_ptr e, maintenance_report r) {
                           failure = e;
                           report = r;
                       });
        io.run();
        if (failure) {
            std::rethrow_exception(failure);
        }
        return report;
    }
};

/// An age and whether retention (24 h here) must delete what is that old.
struct age_case {
    std::chrono::hours age;
    bool pruned;
};

std::ostream& operator<<(std::ostream& os, const age_case& c) {
    return os << c.age.count() << "h old: " << (c.pruned ? "pruned" : "kept");
}

const age_case ages[] = {
    {std::chrono::hours{1}, false},
    {std::chrono::hours{23}, false},
    {std::chrono::hours{24}, false}, // exactly the retention: not older than it
    {std::chrono::hours{25}, true},
    {std::chrono::hours{24 * 9}, true},
};

/// A job's state and whether its user's media must stay: held while the job is in flight.
struct job_case {
    job_state state;
    bool held;
};

std::ostream& operator<<(std::ostream& os, const job_case& c) {
    return os << c.state << (c.held ? ": held" : ": released");
}

std::vector<job_case> job_cases() {
    std::vector<job_case> out;
    for (const auto s : all_job_states) {
        out.push_back({s, !is_terminal(s)});
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_maintenance)

BOOST_DATA_TEST_CASE_F(maintenance_fixture,
                       an_update_id_and_a_selfie_go_once_older_than_their_retention,
                       boost::unit_test::data::make(ages),
                       c) {
    add_user(1);
    const timestamp made = now - c.age;
    BOOST_TEST(updates.mark_processed(100, made));
    const auto s = selfie(1, made, "bytes");

    const auto report = pass();

    BOOST_TEST(updates.is_processed(100) == !c.pruned);
    BOOST_TEST(content.get(s.id).has_value() == !c.pruned);
    BOOST_TEST(std::filesystem::exists(s.file) == !c.pruned);
    const std::int64_t expected = c.pruned ? 1 : 0;
    BOOST_TEST(
        report ==
        (maintenance_report{.updates_pruned = expected, .rows_pruned = expected, .files_removed = expected}));
}

BOOST_DATA_TEST_CASE_F(maintenance_fixture,
                       a_job_in_flight_keeps_its_image_and_its_users_selfies_however_old,
                       boost::unit_test::data::make(job_cases()),
                       c) {
    const bool held = c.held;
    add_user(1);
    add_user(2);
    const auto image = selfie(1, now - 72h, "the first frame");
    // A from-last-selfie job picks its image only at its prompting step: the newest selfie stays.
    const auto newest = selfie(1, now - 48h, "the newest selfie");
    const auto someone_else = selfie(2, now - 72h, "another user's");
    job(1, c.state, image);

    const auto report = pass();

    BOOST_TEST(content.get(image.id).has_value() == held);
    BOOST_TEST(std::filesystem::exists(image.file) == held);
    BOOST_TEST(content.get(newest.id).has_value() == held);
    BOOST_TEST(std::filesystem::exists(newest.file) == held);
    BOOST_TEST(!content.get(someone_else.id).has_value());
    BOOST_TEST(!std::filesystem::exists(someone_else.file));
    BOOST_TEST(report.files_kept == (held ? 2 : 0));
}

BOOST_FIXTURE_TEST_CASE(the_images_of_a_job_go_with_the_next_pass_after_it_ends, maintenance_fixture) {
    add_user(1);
    const auto image = selfie(1, now - 72h, "the first frame");
    const auto id = job(1, job_state::submitted, image);
    BOOST_TEST(pass().rows_pruned == 0);
    BOOST_TEST(jobs.transition(id, job_state::submitted, job_state::failed, {}, now).has_value());

    BOOST_TEST(pass().rows_pruned == 1);
    BOOST_TEST(!std::filesystem::exists(image.file));
    // The ended job stays, its image reference cleared by the schema (ON DELETE SET NULL).
    BOOST_TEST(!jobs.get(id).value().image_content_id.has_value());
}

BOOST_FIXTURE_TEST_CASE(old_files_no_row_or_job_names_are_swept_and_the_rest_stay, maintenance_fixture) {
    add_user(1);
    add_user(2);
    const auto crash_leftover = orphan("selfie-9-0123456789abcdef.png", now - 48h);
    const auto half_written = orphan(".video-3.mp4.tmp-77-1", now - 48h);
    const auto being_written = orphan(".selfie-1.png.tmp-77-2", now - 1min);
    // An old file a fresh row names (a video delivered again from the file it downloaded earlier).
    const auto reused = orphan("video-4.mp4", now - 48h);
    content.insert(
        {.user_id = 1, .kind = content_kind::video, .media_path = reused.string(), .created = now});
    // The first frame of a job in flight, named by the job alone, in a folder spelled differently
    // (the bot was restarted with another --data-dir): matched by file name.
    const auto frame = orphan("selfie-2-fedcba9876543210.png", now - 48h);
    const auto frame_row = content.insert({.user_id = 2, .media_path = "elsewhere/x.png", .created = now});
    job(2, job_state::submitting, {frame_row, std::filesystem::path("/srv/old/media") / frame.filename()});

    const auto report = pass();

    BOOST_TEST(!std::filesystem::exists(crash_leftover));
    BOOST_TEST(!std::filesystem::exists(half_written));
    BOOST_TEST(std::filesystem::exists(being_written));
    BOOST_TEST(std::filesystem::exists(reused));
    BOOST_TEST(std::filesystem::exists(frame));
    BOOST_TEST(report == (maintenance_report{.files_removed = 2, .files_kept = 2}));
}

BOOST_FIXTURE_TEST_CASE(a_file_shared_with_a_fresh_row_stays_when_the_old_row_goes, maintenance_fixture) {
    add_user(1);
    // The store names a file by its bytes: the same selfie stored twice is one file, two rows.
    const auto old_row = selfie(1, now - 72h, "same bytes");
    const auto fresh_id = content.insert(
        {.user_id = 1, .persona_id = "aylin", .media_path = old_row.file.string(), .created = now - 1h});
    set_written_at(old_row.file, now - 72h); // as if the second write had not touched it

    const auto report = pass();

    BOOST_TEST(!content.get(old_row.id).has_value());
    BOOST_TEST(content.get(fresh_id).has_value());
    BOOST_TEST(std::filesystem::exists(old_row.file));
    BOOST_TEST(report == (maintenance_report{.rows_pruned = 1, .files_kept = 1}));
}

BOOST_FIXTURE_TEST_CASE(a_backlog_larger_than_a_batch_is_pruned_in_one_pass, maintenance_fixture) {
    config.batch_rows = 2;
    for (std::int64_t id = 1; id <= 5; ++id) {
        BOOST_TEST(updates.mark_processed(id, now - 48h));
    }
    BOOST_TEST(updates.mark_processed(6, now - 1h));
    BOOST_TEST(pass().updates_pruned == 5);
    BOOST_TEST(updates.is_processed(6));
}

BOOST_FIXTURE_TEST_CASE(the_loop_prunes_soon_after_start_then_every_interval_until_cancelled,
                        maintenance_fixture) {
    companion::test::virtual_time vt;
    timestamp wall = now;
    config.first_pass_after = std::chrono::minutes{1};
    config.every = std::chrono::hours{1};
    config.now = [&wall] { return wall; };
    auto& pruned = engine::metrics().make_counter("storage_pruned_total", "", {{"what", "update_ids"}});
    const auto pruned_before = pruned.value();
    BOOST_TEST(updates.mark_processed(1, wall - 48h));

    // As main spawns it: a task group's child, which accepts total cancellation.
    engine::task_group group(vt.ioc.get_executor(), {.name = "maintenance"});
    BOOST_TEST_REQUIRE(group.spawn(maintenance_loop(*db, media, pool, config, vt.time)));
    // A pass finishes on the pool's thread: run the loop until it has (bounded, never a sleep).
    auto run_until = [&](auto done) {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{10};
        while (!done() && std::chrono::steady_clock::now() < give_up) {
            companion::test::drain(vt.ioc);
            std::this_thread::yield();
        }
        return done();
    };

    vt.advance(std::chrono::seconds{59});
    BOOST_TEST(updates.is_processed(1));
    vt.advance(std::chrono::seconds{1});
    BOOST_TEST(run_until([&] { return pruned.value() == pruned_before + 1; }));
    BOOST_TEST(!updates.is_processed(1));

    wall += std::chrono::hours{1};
    BOOST_TEST(updates.mark_processed(2, wall - 48h));
    vt.advance(std::chrono::minutes{59});
    BOOST_TEST(updates.is_processed(2));
    vt.advance(std::chrono::minutes{1});
    BOOST_TEST(run_until([&] { return pruned.value() == pruned_before + 2; }));
    BOOST_TEST(!updates.is_processed(2));

    group.cancel();
    BOOST_TEST(run_until([&] { return group.size() == 0; }));
    BOOST_TEST(group.failures() == 0U);
}

// The soak figure for retention, on virtual days: a bot that keeps taking updates and making
// selfies holds a bounded update log and media folder, one retention's worth and a day.
BOOST_FIXTURE_TEST_CASE(the_update_log_and_the_media_folder_stay_bounded_day_after_day, maintenance_fixture) {
    constexpr int days = 12;
    constexpr int updates_per_day = 240;
    constexpr int selfies_per_day = 6;
    config = {.update_log_retention = 72h, .media_retention = 48h};
    add_user(1);
    const auto rows = [&] {
        SQLite::Statement count(db->connection(), "SELECT COUNT(*) FROM processed_updates");
        BOOST_REQUIRE(count.executeStep());
        return count.getColumn(0).getInt64();
    };
    const auto files = [&] {
        const auto entries = std::filesystem::directory_iterator(media.directory());
        return std::distance(std::filesystem::begin(entries), std::filesystem::end(entries));
    };
    std::int64_t update_id = 1;
    std::int64_t most_rows = 0;
    std::ptrdiff_t most_files = 0;
    const timestamp start = t0 + std::chrono::days{1};
    for (int day = 0; day < days; ++day) {
        const timestamp morning = start + std::chrono::days{day};
        for (int i = 0; i < updates_per_day; ++i) {
            BOOST_TEST_REQUIRE(updates.mark_processed(update_id++, morning + i * (24h / updates_per_day)));
        }
        for (int i = 0; i < selfies_per_day; ++i) {
            const auto made = morning + i * (24h / selfies_per_day);
            selfie(1, made, "selfie " + std::to_string(day) + "/" + std::to_string(i));
        }
        pass(morning + 24h); // the nightly pass
        most_rows = std::max(most_rows, rows());
        most_files = std::max(most_files, files());
    }
    BOOST_TEST_MESSAGE("after " << days << " days: " << rows() << " update ids (most " << most_rows << "), "
                                << files() << " media files (most " << most_files << ")");
    // Kept: what is not older than the retention at the pass, i.e. that many days and one more id
    // or file exactly on the boundary; never a day's worth beyond.
    BOOST_TEST(most_rows <= 3 * updates_per_day + 1);
    BOOST_TEST(rows() >= 3 * updates_per_day);
    BOOST_TEST(most_files <= 2 * selfies_per_day + 1);
    BOOST_TEST(files() >= 2 * selfies_per_day);
    BOOST_TEST(update_id - 1 == days * updates_per_day); // and every id was accepted when new
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
