// The bot's SQLite database (design.md §4): one loop-thread connection in WAL mode with foreign
// keys and a busy timeout, migrated to this binary's schema at open, plus a second connection
// that checkpoints the WAL from the offload pool so the loop never waits on fsync.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/offload.hpp"
#include "engine/sync.hpp"
#include "storage/migrations.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace companion::storage {

namespace detail {
class turn_cache;
}

/// NORMAL survives a process crash (kill -9) and costs no fsync per commit; FULL also survives a
/// power loss, at an fsync per commit.
enum class synchronous_mode { normal, full };

struct database_config {
    std::filesystem::path path;
    synchronous_mode synchronous = synchronous_mode::normal;
    /// How long a statement waits for another connection's lock before failing with
    /// errc::locked (the checkpoint connection; the open has its own, below).
    std::chrono::milliseconds busy_timeout = std::chrono::seconds{5};
    /// The open and the migration wait this long for another connection's lock (a backup, an
    /// operator's sqlite3): nothing is served yet, so a start waits a lock out rather than fail.
    std::chrono::milliseconds open_busy_timeout = std::chrono::seconds{5};
    /// Once open, the loop connection waits at most this long for another connection's lock (a
    /// backup, an operator's sqlite3): the wait runs on the loop thread and freezes every user,
    /// so it stays short and the caller retries on a timer (errc::locked is transient).
    std::chrono::milliseconds loop_busy_timeout = std::chrono::milliseconds{250};
    /// The WAL file is truncated to this size when a checkpoint lets it restart.
    std::int64_t wal_size_limit_bytes = 64 * 1024 * 1024;
    /// Conversations whose newest turns are kept in memory (storage/detail/turn_cache.hpp);
    /// 0 reads every history from the file.
    std::size_t cached_conversations = 1024;
    /// SQLite's page cache per connection, in KiB (PRAGMA cache_size). A page it misses is a
    /// read from the OS's file cache (a system call and a copy). SQLite's default is 2,000 KiB;
    /// with the newest turns held above (turn_cache), the chat turn's reads hit few pages, and
    /// at 512 KiB the full bot's 20k burst peaks 1 to 2 MB lower at the same CPU per turn.
    std::int64_t page_cache_kib = 512;
};

/// PASSIVE copies what it can without taking the writer lock, so loop commits go on meanwhile;
/// TRUNCATE waits for writers and empties the WAL file (for shutdown or an idle moment).
enum class checkpoint_mode { passive, truncate };

struct checkpoint_result {
    int wal_frames = 0;          ///< frames in the WAL when the checkpoint ran
    int checkpointed_frames = 0; ///< frames copied into the database file
    bool busy = false;           ///< TRUNCATE could not get the locks in time
    bool skipped = false;        ///< another checkpoint was already running
};

class database {
public:
    /// Opens (creating if absent) and migrates the database. Throws storage::error with
    /// errc::cannot_open, corrupt, locked, schema_too_new, migration_failed or disk_full and a
    /// message naming the path. A failed migration step is rolled back: the file stays at the
    /// last version that completed. `migrations` is a test seam; production uses the default.
    explicit database(database_config config, std::span<const migration> migrations = schema_migrations());
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    /// The loop-thread connection, for the repositories of storage/ only.
    SQLite::Database& connection() noexcept { return *db_; }
    /// The newest turns of recent conversations, for the repositories of storage/ only. Every
    /// rollback clears it, and so does a read after another connection wrote.
    detail::turn_cache& turn_cache() noexcept { return *turns_; }
    /// PRAGMA data_version: changes when another connection (an operator's sqlite3, a second
    /// process) commits to the file, never for this connection's own commits.
    std::int64_t data_version();
    const database_config& config() const noexcept { return config_; }

    /// PRAGMA user_version.
    int schema_version();
    /// The schema version this binary migrates to.
    int latest_version() const noexcept { return static_cast<int>(migrations_.size()); }

    /// PRAGMA integrity_check: "ok", or the problems found, one per line. Reads every page:
    /// for start-up checks and tests, not the hot path.
    std::string integrity_check();

    /// Runs a WAL checkpoint on a second connection on `pool`. The database must outlive the
    /// await. Concurrent calls do not queue: a second one returns `skipped`. Throws
    /// storage::error on failure (rethrown on the loop).
    engine::awaitable<checkpoint_result> checkpoint(engine::offload_pool& pool,
                                                    checkpoint_mode mode = checkpoint_mode::passive);

    /// Frames written to the WAL since the last checkpoint reset it (automatic checkpoints are
    /// off, so the owner decides when to call checkpoint()).
    int wal_frames() const noexcept { return wal_frames_; }

    /// Resumes at once, unless checkpoint_loop holds the loop's writes for the last pass of a
    /// checkpoint (checkpoint_policy::hold_frames); then when it lets them go. The hot write
    /// sites await it before they begin. A write that does not is still correct (SQLite orders
    /// it with the checkpoint); it only keeps that pass from letting the WAL restart.
    engine::awaitable<void> writes_open();
    bool writes_held() const noexcept { return writes_released_ != nullptr; }

    /// For checkpoint_loop: from hold_writes() until release_writes(), writes_open() waits for
    /// `released`, which release_writes() sets.
    void hold_writes(engine::event& released) noexcept;
    void release_writes();
    /// For checkpoint_loop: the first commit that leaves `frames` or more in the WAL cancels
    /// `alarm`'s wait and raises a flag, which take_wal_alarm() reads and lowers (nullptr stops
    /// the watch).
    void watch_wal(engine::timer* alarm, int frames) noexcept;
    bool take_wal_alarm() noexcept { return std::exchange(wal_alarmed_, false); }

    /// Runs `f()` in a transaction (nested calls use savepoints), commits when it returns and
    /// rolls back when it throws. Returns what `f` returns.
    template <class F>
    decltype(auto) in_transaction(F&& f);

    /// Runs `f()` (which must not suspend) in one transaction with every other grouped write that
    /// arrives before the loop's reactor has run once more (grouped_turns): one BEGIN IMMEDIATE
    /// and one COMMIT for all of them, each write in its own savepoint. A busy burst of chats then
    /// pays the commit's WAL append and file locks once per reactor pass instead of once per write, and a
    /// page that several of them change is appended once. Resumes once the COMMIT is done, so what `f` wrote
    /// is as durable as after in_transaction(). A write that throws is rolled back alone and its exception
    /// rethrown to its caller; a failed BEGIN or COMMIT is rethrown to every caller whose write it carried
    /// (nothing of theirs was stored). The wait is not cancellable: it lasts a few loop turns, and ending it
    /// early would leave the write to run later.
    template <class F>
    engine::awaitable<void> grouped(F f);
    /// How many grouped commits ran, and the writes they carried (for the bench and tests).
    std::uint64_t grouped_commits() const noexcept { return grouped_commits_; }
    std::uint64_t grouped_writes() const noexcept { return grouped_writes_; }
    /// How many times the group's commit goes to the back of the loop's queue before it runs.
    /// Asio's scheduler runs the reactor as one entry of that queue and appends the I/O
    /// completions it finds behind it, so a commit posted once runs before them and carries only
    /// the writes of handlers already queued (2.75 writes per commit in the full bot's 20k burst).
    /// Two more passes put it behind one whole reactor pass wherever it started: every chat whose
    /// reply or LLM answer arrived in that pass joins the group, for a latency of two posts.
    static constexpr int grouped_turns = 3;

private:
    struct grouped_write {
        std::function<void()>* run;
        engine::executor ex; // the caller's: where it resumes
        asio::any_completion_handler<void(std::exception_ptr)> done;
        std::exception_ptr error{}; // what the write, or the group's BEGIN or COMMIT, threw
    };

    void enqueue_grouped(std::function<void()>& run,
                         engine::executor ex,
                         asio::any_completion_handler<void(std::exception_ptr)> done);
    void commit_grouped(engine::executor ex, int turns_left);

    friend class transaction;

    void open_main();
    void migrate();
    static int on_wal_commit(void* self, struct sqlite3*, const char*, int frames);

    database_config config_;
    std::span<const migration> migrations_;
    std::unique_ptr<SQLite::Database> db_;
    std::unique_ptr<SQLite::Database> checkpoint_db_;
    std::unique_ptr<detail::turn_cache> turns_;
    // Transaction control is on the hot path (every commit): prepared once.
    std::unique_ptr<SQLite::Statement> begin_;
    std::unique_ptr<SQLite::Statement> commit_;
    std::unique_ptr<SQLite::Statement> rollback_;
    std::unique_ptr<SQLite::Statement> savepoint_;
    std::unique_ptr<SQLite::Statement> release_;
    std::unique_ptr<SQLite::Statement> rollback_to_;
    std::unique_ptr<SQLite::Statement> data_version_;
    int depth_ = 0;
    int wal_frames_ = 0;
    engine::event* writes_released_ = nullptr; // non-null while checkpoint_loop holds the writes
    engine::timer* wal_alarm_ = nullptr;
    int wal_watch_frames_ = 0;
    bool wal_alarmed_ = false;
    bool checkpoint_running_ = false;
    std::vector<grouped_write> grouped_;     // waiting for the commit posted for the loop's next turn
    std::vector<grouped_write> grouped_run_; // the group being committed (kept for its capacity)
    std::uint64_t grouped_commits_ = 0;
    std::uint64_t grouped_writes_ = 0;
};

/// A write transaction: BEGIN IMMEDIATE at construction (so the write lock is taken up front and
/// a busy database fails here, not at COMMIT), or a savepoint when one is already open.
/// Rolls back in the destructor unless committed. Loop thread only.
class transaction {
public:
    explicit transaction(database& db);
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    /// Throws storage::error (disk_full, locked, io); the transaction is then rolled back by
    /// the destructor.
    void commit();
    void rollback() noexcept;

private:
    database& db_;
    bool nested_;
    bool open_ = true;
};

template <class F>
decltype(auto) database::in_transaction(F&& f) {
    transaction tx(*this);
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
        f();
        tx.commit();
    } else {
        auto result = f();
        tx.commit();
        return result;
    }
}

template <class F>
engine::awaitable<void> database::grouped(F f) {
    std::function<void()> run = std::ref(f); // a reference: no allocation
    co_await asio::async_initiate<const asio::use_awaitable_t<engine::executor>&, void(std::exception_ptr)>(
        [this, &run](auto done) {
            engine::executor ex = asio::get_associated_executor(done);
            enqueue_grouped(run, std::move(ex), std::move(done));
        },
        engine::use_awaitable);
}

/// When the owner's checkpoint loop runs (automatic checkpoints are off).
struct checkpoint_policy {
    engine::duration every = std::chrono::seconds(2); ///< how often the WAL is looked at
    int min_frames = 1000;                            ///< a smaller WAL is left alone
    /// A WAL this long (frames of a page each, 4 KiB) is checkpointed at once, and its last pass
    /// runs with the loop's writes held (database::writes_open), so the WAL restarts. Without
    /// it, a steady stream of commits (a burst of updates) never lets a passive checkpoint catch
    /// up, and the WAL, and its index mapped into the process, grow for as long as the stream
    /// lasts: about 700 MB and 1.3 MB in the full bot's 20k burst.
    int hold_frames = 4000;
    /// The least time between two held passes, so a WAL that cannot restart (another
    /// connection reads an old snapshot) does not hold the writes back to back.
    engine::duration hold_gap = std::chrono::milliseconds(100);
};

/// Runs checkpoints on `pool` for as long as it is not cancelled, so the WAL restarts (and is
/// cut to `wal_size_limit`) instead of growing with every commit. A passive checkpoint never
/// waits for, or holds back, a writer on the loop; past `hold_frames`, a second pass holds the
/// loop's writes (they wait, the loop runs on) for as long as it copies what the first left.
engine::awaitable<void>
checkpoint_loop(database& db, engine::offload_pool& pool, checkpoint_policy policy = {});

} // namespace companion::storage
