// Retention (design.md §4): the processed-update log and the media folder are pruned, so neither
// grows for as long as the bot runs. One pass forgets update ids older than their retention,
// deletes selfie and video rows older than the media retention (never those of a user whose video
// job is in flight), then deletes the old files of the media folder that no row and no job in
// flight names: the files of the rows just deleted, and orphans a crash left behind.
#pragma once

#include "engine/asio.hpp"
#include "engine/clock.hpp"
#include "engine/offload.hpp"
#include "engine/time_source.hpp"
#include "storage/database.hpp"
#include "storage/media_store.hpp"
#include "storage/time.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>

namespace companion::storage {

struct maintenance_config {
    /// Processed update ids older than this are forgotten. Telegram resends an unconfirmed update
    /// for up to 24 h, so a shorter log could let a replay through.
    std::chrono::hours update_log_retention = std::chrono::days{3};
    /// Selfies and videos older than this are deleted, row and file.
    std::chrono::hours media_retention = std::chrono::days{30};
    /// The first pass comes soon after start, so a bot restarted more often than `every` still
    /// prunes; then one pass every `every`.
    engine::duration first_pass_after = std::chrono::minutes{1};
    engine::duration every = std::chrono::hours{1};
    /// Rows deleted per transaction; the loop thread is yielded between batches, so a large
    /// backlog (the first pass on an old database) never holds the loop for long.
    std::int64_t batch_rows = 500;
    /// The wall clock that row and file times are compared with; when empty, the loop's time
    /// source's wall time.
    std::function<timestamp()> now{};
};

/// What one pass did.
struct maintenance_report {
    std::int64_t updates_pruned = 0; ///< processed update ids forgotten
    std::int64_t rows_pruned = 0;    ///< generated_content rows deleted
    std::int64_t files_removed = 0;  ///< media files deleted
    std::int64_t files_kept = 0;     ///< old files still named by a row or a job in flight
    std::int64_t files_failed = 0;   ///< deletions the file system refused (logged; retried next pass)

    bool operator==(const maintenance_report&) const = default;
};

std::ostream& operator<<(std::ostream& os, const maintenance_report& r);

/// One pass at wall time `now`. Database work runs on the loop thread in short transactions;
/// listing and deleting files runs on `pool`. Throws storage::error on a database fault (each
/// committed batch stays committed; the next pass goes on from there). Cancellation takes
/// effect between batches. `db`, `media` and `pool` must outlive the await.
engine::awaitable<maintenance_report> run_maintenance(database& db,
                                                      const media_store& media,
                                                      engine::offload_pool& pool,
                                                      const maintenance_config& config,
                                                      timestamp now);

/// Runs run_maintenance() on `config`'s schedule until cancelled (then throws
/// operation_aborted). A failed pass is logged and the next one runs as planned; each pass is
/// logged and counted in the metrics (storage_pruned_total). The schedule runs on `time`, which
/// must outlive the loop.
engine::awaitable<void> maintenance_loop(database& db,
                                         media_store& media,
                                         engine::offload_pool& pool,
                                         maintenance_config config = {},
                                         engine::time_source& time = engine::system_time());

} // namespace companion::storage
