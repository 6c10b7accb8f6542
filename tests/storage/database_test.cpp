// Tests of storage::database: pragmas at open, transactions, the typed errors at start (corrupt,
// unopenable, locked, schema too new, failed migration) and the off-loop checkpoint.
#include "engine/offload.hpp"
#include "engine/task_group.hpp"
#include "engine/time.hpp"
#include "storage/conversation.hpp"
#include "storage/database.hpp"
#include "storage/updates.hpp"
#include "tests/storage/test_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <SQLiteCpp/Database.h>

#include <array>
#include <fstream>
#include <stdexcept>

using namespace std::chrono_literals;

namespace companion::storage::test {
namespace {

/// Runs `open` and returns the storage error it threw (or fails the test).
template <class F>
storage::error open_error(F open) {
    try {
        open();
    } catch (const storage::error& e) {
        return e;
    }
    BOOST_FAIL("open did not throw storage::error");
    throw std::logic_error("unreachable");
}

std::int64_t pragma(database& db, const char* name) {
    return db.connection().execAndGet(std::string("PRAGMA ") + name).getInt64();
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_database)

BOOST_FIXTURE_TEST_CASE(fresh_file_is_migrated_to_the_latest_version_in_wal_mode, database_fixture) {
    BOOST_TEST(db->schema_version() == db->latest_version());
    BOOST_TEST(db->latest_version() == static_cast<int>(schema_migrations().size()));
    BOOST_TEST(db->connection().execAndGet("PRAGMA journal_mode").getString() == "wal");
    BOOST_TEST(pragma(*db, "foreign_keys") == 1);
    BOOST_TEST(pragma(*db, "synchronous") == 1); // NORMAL
    BOOST_TEST(pragma(*db, "wal_autocheckpoint") == 0);
    BOOST_TEST(pragma(*db, "cache_size") == -512); // KiB: database_config::page_cache_kib
    BOOST_TEST(db->integrity_check() == "ok");
}

BOOST_FIXTURE_TEST_CASE(the_page_cache_size_is_a_config_value_in_kib, temp_dir) {
    database db(database_config{.path = db_path(), .page_cache_kib = 4096});
    BOOST_TEST(pragma(db, "cache_size") == -4096);
}

BOOST_FIXTURE_TEST_CASE(synchronous_full_is_a_config_switch, temp_dir) {
    database db(database_config{.path = db_path(), .synchronous = synchronous_mode::full});
    BOOST_TEST(pragma(db, "synchronous") == 2);
}

BOOST_FIXTURE_TEST_CASE(reopening_keeps_data_and_version, temp_dir) {
    {
        database db(database_config{.path = db_path()});
        update_log log(db);
        log.set_offset(42);
    }
    database db(database_config{.path = db_path()});
    update_log log(db);
    BOOST_TEST(log.offset().value() == 42);
    BOOST_TEST(db.schema_version() == db.latest_version());
}

BOOST_FIXTURE_TEST_CASE(committed_transaction_is_visible_and_rolled_back_one_is_not, database_fixture) {
    update_log log(*db);
    {
        transaction tx(*db);
        log.mark_processed(1, t0);
        tx.commit();
    }
    {
        transaction tx(*db);
        log.mark_processed(2, t0);
    } // destroyed without commit
    BOOST_TEST(log.is_processed(1));
    BOOST_TEST(!log.is_processed(2));
}

BOOST_FIXTURE_TEST_CASE(exception_in_transaction_rolls_back_everything, database_fixture) {
    update_log log(*db);
    BOOST_CHECK_THROW(db->in_transaction([&] {
        log.mark_processed(7, t0);
        log.set_offset(8);
        throw std::runtime_error("pipeline step failed");
    }),
                      std::runtime_error);
    BOOST_TEST(!log.is_processed(7));
    BOOST_TEST(!log.offset().has_value());
}

BOOST_FIXTURE_TEST_CASE(nested_transaction_is_a_savepoint, database_fixture) {
    update_log log(*db);
    db->in_transaction([&] {
        log.mark_processed(1, t0);
        {
            transaction inner(*db);
            log.mark_processed(2, t0);
        } // inner rolled back, outer goes on
        db->in_transaction([&] { log.mark_processed(3, t0); });
    });
    BOOST_TEST(log.is_processed(1));
    BOOST_TEST(!log.is_processed(2));
    BOOST_TEST(log.is_processed(3));
}

BOOST_FIXTURE_TEST_CASE(in_transaction_returns_the_value_of_the_function, database_fixture) {
    update_log log(*db);
    const bool first = db->in_transaction([&] { return log.mark_processed(5, t0); });
    const bool again = db->in_transaction([&] { return log.mark_processed(5, t0); });
    BOOST_TEST(first);
    BOOST_TEST(!again);
}

BOOST_FIXTURE_TEST_CASE(garbage_file_is_refused_as_corrupt, temp_dir) {
    {
        std::ofstream out(db_path(), std::ios::binary);
        for (int i = 0; i < 4096; ++i) {
            out.put(static_cast<char>((i * 7919) & 0xFF));
        }
    }
    const auto e = open_error([&] { database db(database_config{.path = db_path()}); });
    BOOST_TEST(e.code() == make_error_code(errc::corrupt));
    BOOST_TEST(std::string(e.what()).find(db_path().string()) != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(missing_directory_is_refused_as_cannot_open, temp_dir) {
    const auto e = open_error([&] { database db(database_config{.path = path / "no" / "such" / "bot.db"}); });
    BOOST_TEST(e.code() == make_error_code(errc::cannot_open));
}

BOOST_FIXTURE_TEST_CASE(database_locked_by_another_writer_is_refused_after_the_busy_timeout, temp_dir) {
    { database created(database_config{.path = db_path()}); }
    SQLite::Database other(db_path().string(), SQLite::OPEN_READWRITE);
    other.exec("BEGIN EXCLUSIVE");
    const auto e =
        open_error([&] { database db(database_config{.path = db_path(), .open_busy_timeout = 50ms}); });
    other.exec("ROLLBACK");
    BOOST_TEST(e.code() == make_error_code(errc::locked));
    BOOST_TEST(std::string(e.what()).find("locked by another connection") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("gave up after 50 ms") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(newer_schema_is_refused_with_a_clear_message, temp_dir) {
    const std::string newer = std::to_string(schema_migrations().size() + 1);
    {
        database created(database_config{.path = db_path()});
        created.connection().exec("PRAGMA user_version = " + newer);
    }
    const auto e = open_error([&] { database db(database_config{.path = db_path()}); });
    BOOST_TEST(e.code() == make_error_code(errc::schema_too_new));
    BOOST_TEST(std::string(e.what()) ==
               "database schema version " + newer + " is newer than this binary supports (" +
                   std::to_string(schema_migrations().size()) + "); upgrade the bot");
}

BOOST_FIXTURE_TEST_CASE(failed_migration_rolls_back_and_leaves_the_previous_version, temp_dir) {
    const std::array<migration, 3> steps{{
        {"one", "CREATE TABLE a (x INTEGER);"},
        {"two",
         "CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1); INSERT INTO no_such_table VALUES (1);"},
        {"three", "CREATE TABLE c (x INTEGER);"},
    }};
    const auto e = open_error([&] { database db(database_config{.path = db_path()}, steps); });
    BOOST_TEST(e.code() == make_error_code(errc::migration_failed));
    BOOST_TEST(std::string(e.what()).find("stays at version 1") != std::string::npos);

    // Open with only the first step: nothing of step two is there.
    database db(database_config{.path = db_path()}, std::span(steps).first(1));
    BOOST_TEST(db.schema_version() == 1);
    BOOST_TEST(db.connection().tableExists("a"));
    BOOST_TEST(!db.connection().tableExists("b"));
    BOOST_TEST(db.connection().execAndGet("SELECT count(*) FROM a").getInt() == 0);
}

BOOST_FIXTURE_TEST_CASE(full_database_is_a_typed_disk_full_error_and_rolls_back, database_fixture) {
    add_user(1);
    conversation_repository conv(*db);
    // The page limit stands in for a full disk: SQLite reports both as SQLITE_FULL.
    const auto pages = db->connection().execAndGet("PRAGMA page_count").getInt64();
    db->connection().exec("PRAGMA max_page_count = " + std::to_string(pages));
    try {
        db->in_transaction([&] {
            conv.append(1, "aylin", speaker::user, "fits", t0);
            conv.append(1, "aylin", speaker::user, std::string(256 * 1024, 'x'), t0);
        });
        BOOST_FAIL("expected disk_full");
    } catch (const storage::error& e) {
        BOOST_TEST(e.code() == make_error_code(errc::disk_full));
    }
    db->connection().exec("PRAGMA max_page_count = 1073741823");
    BOOST_TEST(conv.last_turns(1, "aylin", 10).empty());
    conv.append(1, "aylin", speaker::user, "after", t0);
    BOOST_TEST(conv.last_turns(1, "aylin", 10).size() == 1U);
}

BOOST_FIXTURE_TEST_CASE(checkpoint_runs_on_the_offload_pool_and_empties_the_wal, database_fixture) {
    update_log log(*db);
    for (int i = 0; i < 200; ++i) {
        db->in_transaction([&] { log.mark_processed(i, t0); });
    }
    BOOST_TEST(db->wal_frames() > 0);
    engine::offload_pool pool(1);
    asio::io_context io(1);
    checkpoint_result passive;
    checkpoint_result truncate;
    asio::co_spawn(
        io,
        [](database& d, engine::offload_pool& p, checkpoint_result& a, checkpoint_result& b)
            -> engine::awaitable<void> {
            a = co_await d.checkpoint(p);
            b = co_await d.checkpoint(p, checkpoint_mode::truncate);
        }(*db, pool, passive, truncate),
        [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    io.run();
    BOOST_TEST(!passive.busy);
    BOOST_TEST(passive.wal_frames > 0);
    BOOST_TEST(passive.checkpointed_frames == passive.wal_frames);
    BOOST_TEST(!truncate.busy);
    BOOST_TEST(truncate.wal_frames == 0);
    BOOST_TEST(std::filesystem::file_size(db_path().string() + "-wal") == 0U);
    BOOST_TEST(log.is_processed(199));
}

BOOST_FIXTURE_TEST_CASE(the_checkpoint_loop_keeps_the_wal_from_growing_under_steady_writes,
                        database_fixture) {
    update_log log(*db);
    engine::offload_pool pool(1);
    asio::io_context io(1);
    int max_frames = 0;
    asio::co_spawn(
        io,
        [](database& d, update_log& l, engine::offload_pool& p, int& peak) -> engine::awaitable<void> {
            engine::task_group loop(co_await asio::this_coro::executor);
            auto checkpoints =
                checkpoint_loop(d, p, {.every = std::chrono::milliseconds(5), .min_frames = 50});
            (void)loop.spawn(std::move(checkpoints));
            // Bursts of writes with short pauses, as a bot writes: about 2 frames a commit.
            for (int burst = 0; burst < 20; ++burst) {
                for (int i = burst * 100; i < (burst + 1) * 100; ++i) {
                    d.in_transaction([&] { l.mark_processed(i, timestamp{}); });
                    peak = std::max(peak, d.wal_frames());
                }
                co_await engine::sleep(std::chrono::milliseconds(50));
            }
            loop.cancel();
            co_await loop.join();
        }(*db, log, pool, max_frames),
        [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    io.run();
    // Without checkpoints the WAL would hold every commit (about 4000 frames); with them it
    // restarts after each burst.
    BOOST_TEST(max_frames > 0);
    BOOST_TEST(max_frames < 1500);
    BOOST_TEST(log.is_processed(1999));
}

BOOST_FIXTURE_TEST_CASE(held_writes_wait_until_they_are_released, database_fixture) {
    asio::io_context io(1);
    engine::event released(io.get_executor());
    int passed = 0;
    auto writer = [](database& d, int& n) -> engine::awaitable<void> {
        co_await d.writes_open();
        ++n;
    };
    BOOST_TEST(!db->writes_held());
    db->hold_writes(released);
    BOOST_TEST(db->writes_held());
    for (int i = 0; i < 3; ++i) {
        asio::co_spawn(io, writer(*db, passed), [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    }
    while (io.poll() > 0) { // until every writer waits
    }
    BOOST_TEST(passed == 0);
    db->release_writes();
    BOOST_TEST(!db->writes_held());
    io.run();
    BOOST_TEST(passed == 3);
    // Open: a write passes at once.
    io.restart();
    asio::co_spawn(io, writer(*db, passed), asio::detached);
    io.run();
    BOOST_TEST(passed == 4);
}

namespace {

/// Marks `id` processed through a grouped write (failing after the write when `fail`), then counts
/// the row from a second connection: what a caller sees once its grouped write has resumed.
engine::awaitable<void> grouped_mark(database& d, std::int64_t id, bool fail, std::int64_t& seen_elsewhere) {
    update_log log(d);
    co_await d.grouped([&log, id, fail] {
        BOOST_TEST(log.mark_processed(id, t0));
        if (fail) {
            throw std::runtime_error("the write failed after its insert");
        }
    });
    SQLite::Database other(d.config().path.string(), SQLite::OPEN_READONLY);
    seen_elsewhere =
        other.execAndGet("SELECT count(*) FROM processed_updates WHERE update_id = " + std::to_string(id))
            .getInt64();
}

} // namespace

BOOST_FIXTURE_TEST_CASE(grouped_writes_of_one_loop_turn_share_one_commit_and_fail_alone, database_fixture) {
    asio::io_context io(1);
    std::array<std::int64_t, 3> seen{-1, -1, -1};
    std::array<std::exception_ptr, 3> ends;
    std::array<bool, 3> ended{};
    for (std::size_t i = 0; i < 3; ++i) {
        asio::co_spawn(io,
                       grouped_mark(*db, static_cast<std::int64_t>(10 + i), i == 1, seen[i]),
                       [&ends, &ended, i](std::exception_ptr e) {
                           ended[i] = true;
                           ends[i] = e;
                       });
    }
    io.run();
    BOOST_TEST(db->grouped_commits() == 1u);
    BOOST_TEST(db->grouped_writes() == 3u);
    BOOST_TEST((ended == std::array<bool, 3>{true, true, true}));
    BOOST_TEST(!ends[0]);
    BOOST_TEST(!ends[2]);
    BOOST_REQUIRE(ends[1]);
    BOOST_CHECK_THROW(std::rethrow_exception(ends[1]), std::runtime_error);
    // Resumed after the COMMIT: another connection already sees the row.
    BOOST_TEST(seen[0] == 1);
    BOOST_TEST(seen[2] == 1);
    update_log log(*db);
    BOOST_TEST(log.is_processed(10));
    BOOST_TEST(!log.is_processed(11)); // rolled back alone
    BOOST_TEST(log.is_processed(12));

    // A write that arrives after the group ran goes into a commit of its own.
    io.restart();
    std::int64_t later = -1;
    asio::co_spawn(io, grouped_mark(*db, 20, false, later), [](std::exception_ptr e) {
        if (e) {
            std::rethrow_exception(e);
        }
    });
    io.run();
    BOOST_TEST(db->grouped_commits() == 2u);
    BOOST_TEST(later == 1);
}

BOOST_FIXTURE_TEST_CASE(a_write_that_arrives_a_loop_turn_later_still_joins_the_group, database_fixture) {
    // The group waits out a pass of the loop, so the writes of handlers that run after the first
    // write (the I/O completions of that pass) share its commit; one that arrives after the
    // commit ran makes the next.
    asio::io_context io(1);
    std::array<std::int64_t, 3> seen{-1, -1, -1};
    int failures = 0;
    const auto note = [&failures](std::exception_ptr e) { failures += e ? 1 : 0; };
    asio::co_spawn(io, grouped_mark(*db, 40, false, seen[0]), note);
    asio::co_spawn(
        io,
        [](database& d, std::int64_t& seen_elsewhere) -> engine::awaitable<void> {
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
            co_await grouped_mark(d, 41, false, seen_elsewhere);
        }(*db, seen[1]),
        note);
    asio::co_spawn(
        io,
        [](database& d, std::int64_t& seen_elsewhere) -> engine::awaitable<void> {
            // Behind the group's last turn: too late for it.
            for (int turn = 0; turn < database::grouped_turns + 1; ++turn) {
                co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
            }
            co_await grouped_mark(d, 42, false, seen_elsewhere);
        }(*db, seen[2]),
        note);
    io.run();
    BOOST_TEST(failures == 0);
    BOOST_TEST((seen == std::array<std::int64_t, 3>{1, 1, 1}));
    BOOST_TEST(db->grouped_writes() == 3u);
    BOOST_TEST(db->grouped_commits() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_grouped_commit_refused_by_a_lock_fails_every_write_it_carried, temp_dir) {
    database d(database_config{.path = db_path(), .loop_busy_timeout = 0ms});
    SQLite::Database other(db_path().string(), SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE"); // another process holds the write lock
    asio::io_context io(1);
    std::array<std::exception_ptr, 2> ends;
    std::array<std::int64_t, 2> seen{-1, -1};
    for (std::size_t i = 0; i < 2; ++i) {
        asio::co_spawn(io,
                       grouped_mark(d, static_cast<std::int64_t>(30 + i), false, seen[i]),
                       [&ends, i](std::exception_ptr e) { ends[i] = e; });
    }
    io.run();
    other.exec("ROLLBACK");
    for (std::size_t i = 0; i < 2; ++i) {
        BOOST_REQUIRE(ends[i]);
        BOOST_TEST(is_transient(ends[i])); // the caller waits and writes again
        try {
            std::rethrow_exception(ends[i]);
        } catch (const storage::error& e) {
            BOOST_TEST(e.code() == make_error_code(errc::locked));
        }
        BOOST_TEST(seen[i] == -1); // never resumed past the write
    }
    update_log log(d);
    BOOST_TEST(!log.is_processed(30));
    BOOST_TEST(!log.is_processed(31));
}

BOOST_FIXTURE_TEST_CASE(a_steady_stream_of_commits_cannot_keep_the_wal_from_restarting, database_fixture) {
    update_log log(*db);
    engine::offload_pool pool(1);
    asio::io_context io(1);
    int peak = 0;
    int restarts = 0;
    int waited = 0;
    asio::co_spawn(
        io,
        [](database& d, update_log& l, engine::offload_pool& p, int& max_frames, int& restarted, int& held)
            -> engine::awaitable<void> {
            engine::task_group loop(co_await asio::this_coro::executor);
            // Never woken by its timer: only the WAL's length starts a checkpoint here.
            auto checkpoints = checkpoint_loop(
                d,
                p,
                {.every = std::chrono::hours(1), .min_frames = 50, .hold_frames = 400, .hold_gap = 0ms});
            if (!loop.spawn(std::move(checkpoints))) {
                throw std::logic_error("the checkpoint loop did not start");
            }
            // Commits with no pause between them, as in a burst of updates: the loop only yields.
            int last = 0;
            for (int i = 0; i < 6000; ++i) {
                if (d.writes_held()) {
                    ++held;
                }
                co_await d.writes_open();
                d.in_transaction([&] { l.mark_processed(i, timestamp{}); });
                const int frames = d.wal_frames();
                max_frames = std::max(max_frames, frames);
                if (frames < last) {
                    ++restarted;
                }
                last = frames;
                co_await asio::post(asio::use_awaitable);
            }
            loop.cancel();
            co_await loop.join();
        }(*db, log, pool, peak, restarts, waited),
        [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    io.run();
    // Without the held passes no passive checkpoint catches up with the stream, and the WAL holds
    // every commit (about 12,000 frames).
    BOOST_TEST(waited > 0);
    BOOST_TEST(restarts >= 3);
    BOOST_TEST(peak < 4000);
    BOOST_TEST(log.is_processed(5999));
    BOOST_TEST(!db->writes_held());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
