// Opening, migrating, transactions and checkpoints of the bot's SQLite database.
#include "storage/database.hpp"

#include "engine/log.hpp"
#include "engine/time.hpp"
#include "storage/detail/turn_cache.hpp"
#include "storage/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace companion::storage {
namespace {

// The loop connection and the checkpoint connection are each used by one thread at a time, so
// SQLite's per-connection mutex is pure overhead.
constexpr int open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

[[noreturn]] void throw_open_error(const SQLite::Exception& e, const database_config& config) {
    const errc code = from_sqlite(e.getExtendedErrorCode());
    const std::string path = config.path.string();
    std::string what;
    switch (code) {
    case errc::corrupt:
        what = "database file " + path + " is corrupt or not a SQLite database (" + e.what() +
               "); restore it from a backup or move it away";
        break;
    case errc::locked:
        what = "database " + path +
               " is locked by another connection (a backup, an operator's sqlite3 or another program); "
               "gave up after " +
               std::to_string(config.open_busy_timeout.count()) + " ms";
        break;
    case errc::cannot_open:
        what = "cannot open database file " + path + " (" + e.what() +
               "); check that the directory exists and is writable";
        break;
    case errc::disk_full:
        what = "disk is full while opening database " + path + " (" + e.what() + ")";
        break;
    default:
        what = "cannot open database " + path + ": " + e.what();
        break;
    }
    throw error(code, what);
}

checkpoint_result run_checkpoint(SQLite::Database& conn, int mode) {
    int wal = 0;
    int copied = 0;
    sqlite3* handle = conn.getHandle();
    const int rc = sqlite3_wal_checkpoint_v2(handle, nullptr, mode, &wal, &copied);
    if (rc == SQLITE_BUSY) {
        return {.wal_frames = wal, .checkpointed_frames = copied, .busy = true};
    }
    if (rc != SQLITE_OK) {
        throw error(from_sqlite(sqlite3_extended_errcode(handle)),
                    std::string("WAL checkpoint failed: ") + sqlite3_errmsg(handle));
    }
    return {.wal_frames = wal, .checkpointed_frames = copied};
}

// SQLite counts every allocation it makes under a global mutex (SQLITE_CONFIG_MEMSTATUS) for
// sqlite3_memory_used() and sqlite3_status(), which nothing here reads: a chat turn's ~130
// allocations each took and released that mutex. Switched off once, before the library's first
// use. Where SQLite is already initialized (an embedder opened a database of its own first), it
// refuses the change with SQLITE_MISUSE and keeps counting: slower, and otherwise the same.
void configure_sqlite_once() {
    [[maybe_unused]] static const int rc = [] { // the outcome is logged: either way the database works
        const int r = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        if (r != SQLITE_OK) {
            engine::log().debug(
                "storage.memstatus_kept",
                {{"reason", "SQLite was initialized before the first database opened"}, {"code", r}});
        }
        return r;
    }();
}

void exec_statement(SQLite::Statement& s) {
    // tryReset, not reset: reset() rethrows the error of the previous step, which a failed
    // COMMIT leaves behind.
    s.tryReset();
    s.exec();
}

} // namespace

database::database(database_config config, std::span<const migration> migrations)
    : config_(std::move(config)),
      migrations_(migrations),
      turns_(std::make_unique<detail::turn_cache>(config_.cached_conversations)) {
    open_main();
    migrate();
    try {
        begin_ = std::make_unique<SQLite::Statement>(*db_, "BEGIN IMMEDIATE");
        commit_ = std::make_unique<SQLite::Statement>(*db_, "COMMIT");
        rollback_ = std::make_unique<SQLite::Statement>(*db_, "ROLLBACK");
        savepoint_ = std::make_unique<SQLite::Statement>(*db_, "SAVEPOINT companion_nested");
        release_ = std::make_unique<SQLite::Statement>(*db_, "RELEASE companion_nested");
        rollback_to_ = std::make_unique<SQLite::Statement>(*db_, "ROLLBACK TO companion_nested");
        data_version_ = std::make_unique<SQLite::Statement>(*db_, "PRAGMA data_version");
        checkpoint_db_ = std::make_unique<SQLite::Database>(config_.path.string(),
                                                            open_flags,
                                                            static_cast<int>(config_.busy_timeout.count()));
        // A connection learns that the file is in WAL mode only when it first reads it; until
        // then a checkpoint on it is a no-op.
        checkpoint_db_->exec("SELECT 1 FROM sqlite_schema LIMIT 1");
    } catch (const SQLite::Exception& e) {
        throw_open_error(e, config_);
    }
    // The open and the migration waited up to open_busy_timeout; from here on the loop never waits
    // long on a lock (the callers retry on a timer).
    db_->setBusyTimeout(static_cast<int>(std::min(config_.busy_timeout, config_.loop_busy_timeout).count()));
    // Our hook replaces SQLite's automatic checkpointer (which is itself a WAL hook): commits on
    // the loop never run a checkpoint, they only count frames.
    sqlite3_wal_hook(db_->getHandle(), &database::on_wal_commit, this);
}

database::~database() = default;

void database::enqueue_grouped(std::function<void()>& run,
                               engine::executor ex,
                               asio::any_completion_handler<void(std::exception_ptr)> done) {
    grouped_.push_back({.run = &run, .ex = ex, .done = std::move(done)});
    if (grouped_.size() == 1) {
        // Behind every handler already queued: the writes that arrive meanwhile join this commit.
        // The waiting callers keep the database alive until it runs (their wait is not
        // cancellable); a loop destroyed before it runs destroys them and this with it.
        asio::post(ex, [this, ex] { commit_grouped(ex, grouped_turns - 1); });
    }
}

void database::commit_grouped(engine::executor ex, int turns_left) {
    if (turns_left > 0) {
        asio::post(ex, [this, ex, turns_left] { commit_grouped(ex, turns_left - 1); });
        return;
    }
    grouped_run_.swap(grouped_); // the previous group left grouped_run_ empty
    ++grouped_commits_;
    grouped_writes_ += grouped_run_.size();
    try {
        if (depth_ != 0) {
            // Only a synchronous transaction could be open, and none spans a loop turn.
            throw std::logic_error("storage::database: a grouped commit ran inside a transaction");
        }
        transaction group(*this);
        for (auto& w : grouped_run_) {
            try {
                transaction write(*this); // a savepoint: a failed write is undone alone
                (*w.run)();
                write.commit();
            } catch (...) {
                w.error = std::current_exception();
            }
        }
        group.commit();
    } catch (...) {
        // BEGIN or COMMIT failed (or the guard above): nothing of the group was stored.
        const auto failure = std::current_exception();
        for (auto& w : grouped_run_) {
            if (!w.error) {
                w.error = failure;
            }
        }
    }
    // Each caller resumes on its own executor, after this function: never inside the loop above.
    for (auto& w : grouped_run_) {
        asio::post(w.ex, [done = std::move(w.done), e = std::move(w.error)]() mutable {
            std::move(done)(std::move(e));
        });
    }
    grouped_run_.clear();
}

std::int64_t database::data_version() try {
    data_version_->tryReset();
    if (!data_version_->executeStep()) {
        throw error(errc::io, "PRAGMA data_version answered no row");
    }
    const std::int64_t version = data_version_->getColumn(0).getInt64();
    // Reset at once: a statement left on its row keeps a read transaction, and with it an old
    // snapshot of the file, open on the connection.
    data_version_->tryReset();
    return version;
} catch (const SQLite::Exception& e) {
    rethrow(e, "data_version");
}

void database::open_main() {
    configure_sqlite_once();
    try {
        db_ = std::make_unique<SQLite::Database>(config_.path.string(),
                                                 open_flags,
                                                 static_cast<int>(config_.open_busy_timeout.count()));
        // The first statement reads the header: a file of garbage fails here with NOTADB.
        const std::string mode = db_->execAndGet("PRAGMA journal_mode = WAL").getString();
        if (mode != "wal") {
            throw error(errc::cannot_open,
                        "database " + config_.path.string() + " cannot use WAL journaling (mode is " + mode +
                            "); it must be on a local file system");
        }
        db_->exec(config_.synchronous == synchronous_mode::full ? "PRAGMA synchronous = FULL"
                                                                : "PRAGMA synchronous = NORMAL");
        db_->exec("PRAGMA foreign_keys = ON");
        db_->exec("PRAGMA wal_autocheckpoint = 0");
        db_->exec("PRAGMA cache_size = " + std::to_string(-config_.page_cache_kib)); // negative: KiB
        db_->exec("PRAGMA journal_size_limit = " + std::to_string(config_.wal_size_limit_bytes));
    } catch (const SQLite::Exception& e) {
        throw_open_error(e, config_);
    }
}

void database::migrate() {
    const int latest = latest_version();
    const std::string path = config_.path.string();
    int current = 0;
    try {
        // The write lock is taken before reading the version, so two processes never migrate at
        // once, and a database another instance is writing to is refused at start.
        db_->exec("BEGIN IMMEDIATE");
        current = db_->execAndGet("PRAGMA user_version").getInt();
    } catch (const SQLite::Exception& e) {
        db_->tryExec("ROLLBACK");
        throw_open_error(e, config_);
    }
    if (current > latest) {
        db_->tryExec("ROLLBACK");
        throw error(errc::schema_too_new,
                    "database schema version " + std::to_string(current) +
                        " is newer than this binary supports (" + std::to_string(latest) +
                        "); upgrade the bot");
    }
    if (current == latest) {
        db_->exec("COMMIT");
        return;
    }
    const int from = current;
    for (int version = current; version < latest; ++version) {
        const migration& step = migrations_[static_cast<std::size_t>(version)];
        try {
            if (version != from) {
                db_->exec("BEGIN IMMEDIATE");
            }
            db_->exec(std::string(step.sql));
            db_->exec("PRAGMA user_version = " + std::to_string(version + 1));
            db_->exec("COMMIT");
        } catch (const SQLite::Exception& e) {
            db_->tryExec("ROLLBACK");
            const errc code = from_sqlite(e.getExtendedErrorCode());
            throw error(code == errc::locked ? errc::locked : errc::migration_failed,
                        "migration of " + path + " to version " + std::to_string(version + 1) + " (" +
                            std::string(step.name) + ") failed: " + e.what() +
                            "; the database stays at version " + std::to_string(version));
        }
        engine::log().info("storage.migration_step", {{"to", version + 1}, {"name", step.name}});
    }
    engine::log().info("storage.migrated", {{"from", from}, {"to", latest}, {"path", path}});
}

int database::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    auto& db = *static_cast<database*>(self);
    db.wal_frames_ = frames;
    if (db.wal_alarm_ != nullptr && frames >= db.wal_watch_frames_ && !db.wal_alarmed_) {
        db.wal_alarmed_ = true;
        try {
            db.wal_alarm_->cancel();
        } catch (const std::exception&) {
            // The commit stands; checkpoint_loop finds the flag raised after its timer instead.
        }
    }
    return SQLITE_OK;
}

engine::awaitable<void> database::writes_open() {
    // A hold that begins again before this waiter runs is waited out as well.
    while (writes_released_ != nullptr) {
        co_await writes_released_->wait();
    }
}

void database::hold_writes(engine::event& released) noexcept {
    released.reset();
    writes_released_ = &released;
}

void database::release_writes() {
    if (engine::event* released = std::exchange(writes_released_, nullptr)) {
        released->set();
    }
}

void database::watch_wal(engine::timer* alarm, int frames) noexcept {
    wal_alarm_ = alarm;
    wal_watch_frames_ = frames;
    wal_alarmed_ = false;
}

int database::schema_version() {
    try {
        return db_->execAndGet("PRAGMA user_version").getInt();
    } catch (const SQLite::Exception& e) {
        rethrow(e, "read schema version");
    }
}

std::string database::integrity_check() {
    try {
        SQLite::Statement check(*db_, "PRAGMA integrity_check");
        std::string out;
        while (check.executeStep()) {
            if (!out.empty()) {
                out += '\n';
            }
            out += check.getColumn(0).getString();
        }
        return out;
    } catch (const SQLite::Exception& e) {
        rethrow(e, "integrity check");
    }
}

engine::awaitable<checkpoint_result> database::checkpoint(engine::offload_pool& pool, checkpoint_mode mode) {
    if (checkpoint_running_) {
        co_return checkpoint_result{.skipped = true};
    }
    checkpoint_running_ = true;
    struct running_flag {
        bool& flag;
        ~running_flag() { flag = false; }
    } guard{checkpoint_running_};
    SQLite::Database* conn = checkpoint_db_.get();
    const int sqlite_mode =
        mode == checkpoint_mode::passive ? SQLITE_CHECKPOINT_PASSIVE : SQLITE_CHECKPOINT_TRUNCATE;
    checkpoint_result result =
        co_await pool.run([conn, sqlite_mode] { return run_checkpoint(*conn, sqlite_mode); });
    co_return result;
}

transaction::transaction(database& db) : db_(db), nested_(db.depth_ > 0) {
    try {
        exec_statement(nested_ ? *db_.savepoint_ : *db_.begin_);
    } catch (const SQLite::Exception& e) {
        rethrow(e, nested_ ? "begin savepoint" : "begin transaction");
    }
    ++db_.depth_;
}

transaction::~transaction() {
    if (open_) {
        rollback();
    }
}

void transaction::commit() {
    if (!open_) {
        throw std::logic_error("storage::transaction committed after it ended");
    }
    try {
        exec_statement(nested_ ? *db_.release_ : *db_.commit_);
    } catch (const SQLite::Exception& e) {
        rethrow(e, "commit");
    }
    open_ = false;
    --db_.depth_;
}

void transaction::rollback() noexcept {
    if (!open_) {
        return;
    }
    open_ = false;
    --db_.depth_;
    // What the cache took from this transaction's writes (or reads of them) is undone in the file.
    db_.turns_->clear();
    if (nested_) {
        db_.rollback_to_->tryReset();
        db_.release_->tryReset();
        if (db_.rollback_to_->tryExecuteStep() != SQLITE_DONE ||
            db_.release_->tryExecuteStep() != SQLITE_DONE) {
            engine::log().error("storage.rollback_failed", {{"error", db_.db_->getErrorMsg()}});
        }
        return;
    }
    // SQLite rolls back by itself on some errors (SQLITE_FULL during COMMIT); then there is
    // nothing left to roll back.
    if (sqlite3_get_autocommit(db_.db_->getHandle()) != 0) {
        return;
    }
    db_.rollback_->tryReset();
    if (db_.rollback_->tryExecuteStep() != SQLITE_DONE) {
        engine::log().error("storage.rollback_failed", {{"error", db_.db_->getErrorMsg()}});
    }
}

namespace {

// Holds the loop's writes while `db` runs a passive checkpoint on `pool`: with no commit between
// its start and the next write, it copies every frame, and that write restarts the WAL.
engine::awaitable<checkpoint_result>
held_checkpoint(database& db, engine::offload_pool& pool, engine::event& released) {
    struct hold {
        database& db;
        // noexcept: releasing posts the waiting writers, and should that fail to allocate, the
        // process ends (it loses nothing) rather than leave them waiting for ever.
        ~hold() noexcept { db.release_writes(); }
    };
    db.hold_writes(released);
    const hold held{db};
    co_return co_await db.checkpoint(pool);
}

void log_checkpoint(std::string_view event, const checkpoint_result& r) {
    engine::log().debug(
        event,
        {{"wal_frames", r.wal_frames}, {"checkpointed", r.checkpointed_frames}, {"busy", r.busy}});
}

} // namespace

engine::awaitable<void> checkpoint_loop(database& db, engine::offload_pool& pool, checkpoint_policy policy) {
    const auto ex = co_await asio::this_coro::executor;
    // Waits out `every`, or less: a commit that leaves the WAL at hold_frames cancels the wait.
    engine::timer alarm(ex);
    engine::event released(ex); // the writes held for a checkpoint's last pass may go on
    struct watch {
        database& db;
        ~watch() { db.watch_wal(nullptr, 0); }
    };
    db.watch_wal(&alarm, policy.hold_frames);
    const watch watching{db};
    int held_at = -1; // the WAL's length after the last held pass, until a commit restarts it
    for (;;) {
        // An alarm raised while the last checkpoint ran had no wait to cancel: it is acted on now,
        // unless that checkpoint already let the WAL restart.
        const bool alarmed = db.take_wal_alarm();
        if (!alarmed || db.wal_frames() < policy.hold_frames || db.wal_frames() == held_at) {
            alarm.expires_after(policy.every);
            const auto [ec] = co_await alarm.async_wait(asio::as_tuple(engine::use_awaitable));
            // An alarm is the one cancellation that does not end the loop (an owner's cancel also
            // ends the wait with operation_aborted, and the next await throws it).
            if (ec && !db.take_wal_alarm()) {
                throw boost::system::system_error(ec, "storage checkpoint loop");
            }
        }
        if (db.wal_frames() < policy.min_frames) {
            continue;
        }
        bool held = false;
        try {
            log_checkpoint("storage.checkpoint", co_await db.checkpoint(pool));
            // Commits went on during the pass; if they left the WAL long, the rest is copied
            // with them held, so the WAL restarts instead of growing for as long as they come.
            if (db.wal_frames() >= policy.hold_frames) {
                held = true;
                log_checkpoint("storage.checkpoint_held", co_await held_checkpoint(db, pool, released));
                held_at = db.wal_frames();
            }
        } catch (const error& e) {
            // A failed checkpoint loses nothing (the WAL holds every commit): log and go on.
            engine::log().warn("storage.checkpoint_failed", {{"error", e.what()}});
        }
        if (held) {
            // A WAL that cannot restart (another connection reads an old snapshot) is not
            // checkpointed back to back, each time holding the writes.
            co_await engine::sleep(policy.hold_gap);
        }
    }
}

} // namespace companion::storage
