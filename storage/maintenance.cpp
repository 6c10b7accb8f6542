// Retention passes: rows in short transactions on the loop, files listed and deleted on the pool.
#include "storage/maintenance.hpp"

#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "engine/time.hpp"
#include "storage/error.hpp"
#include "storage/generated_content.hpp"
#include "storage/updates.hpp"
#include "storage/video_jobs.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace companion::storage {
namespace {

/// Deletes in batches of `batch` rows, one transaction each, yielding the loop between batches;
/// `prune(limit)` deletes at most `limit` rows and returns how many. Returns the total.
template <class Prune>
engine::awaitable<std::int64_t> prune_in_batches(database& db, std::int64_t batch, Prune prune) {
    std::int64_t total = 0;
    for (;;) {
        const std::int64_t n = db.in_transaction([&] { return prune(batch); });
        total += n;
        if (n < batch) {
            co_return total;
        }
        co_await engine::yield();
    }
}

struct removal {
    std::int64_t removed = 0;
    std::int64_t kept = 0;
    std::int64_t failed = 0;
};

/// Deletes the media files last written before `cutoff` that nothing names any more.
engine::awaitable<removal>
remove_unnamed_files(database& db, const media_store& media, engine::offload_pool& pool, timestamp cutoff) {
    // Each job is a local, not a temporary inside the co_await: g++ 12 destroys such temporaries
    // twice (a double free of the captured file list, found by this file's tests).
    auto list = [&media, cutoff] { return media.written_before(cutoff); };
    auto listed = co_await pool.run(std::move(list));
    if (!listed) {
        co_return removal{.failed = 1}; // logged by the store; the next pass lists again
    }
    if (listed->empty()) {
        co_return removal{}; // the usual pass between deletions: no database work
    }
    // What a job in flight needs, and the old rows kept for such a job, are matched by file name:
    // a row that spells the folder differently (the bot was restarted with another --data-dir)
    // still protects its file. Any other row is looked up by the path as this store spells it.
    std::unordered_set<std::string> needed;
    video_job_repository jobs(db);
    for (const auto& job : jobs.unfinished()) {
        if (job.image_path) {
            needed.insert(std::filesystem::path(*job.image_path).filename().string());
        }
    }
    generated_content_repository content(db);
    for (const auto& path : content.paths_older_than(cutoff)) {
        needed.insert(std::filesystem::path(path).filename().string());
    }
    removal result;
    std::vector<std::filesystem::path> unnamed;
    for (auto& path : *listed) {
        if (needed.contains(path.filename().string()) || content.names_file(path.string())) {
            ++result.kept;
        } else {
            unnamed.push_back(std::move(path));
        }
    }
    if (unnamed.empty()) {
        co_return result;
    }
    // Each file is checked again right before it goes: one written again meanwhile (the same
    // bytes stored by a new selfie) is new, and stays.
    auto remove = [&media, files = std::move(unnamed), cutoff] {
        removal r;
        for (const auto& file : files) {
            const auto gone = media.remove_if_written_before(file, cutoff);
            if (!gone) {
                ++r.failed;
            } else if (*gone) {
                ++r.removed;
            } else {
                ++r.kept;
            }
        }
        return r;
    };
    const auto removed = co_await pool.run(std::move(remove));
    result.removed = removed.removed;
    result.kept += removed.kept;
    result.failed = removed.failed;
    co_return result;
}

} // namespace

std::ostream& operator<<(std::ostream& os, const maintenance_report& r) {
    return os << "{updates_pruned=" << r.updates_pruned << " rows_pruned=" << r.rows_pruned
              << " files_removed=" << r.files_removed << " files_kept=" << r.files_kept
              << " files_failed=" << r.files_failed << "}";
}

engine::awaitable<maintenance_report> run_maintenance(database& db,
                                                      const media_store& media,
                                                      engine::offload_pool& pool,
                                                      const maintenance_config& config,
                                                      timestamp now) {
    const std::int64_t batch = std::max<std::int64_t>(config.batch_rows, 1);
    maintenance_report report;

    update_log updates(db);
    const timestamp updates_cutoff = now - config.update_log_retention;
    report.updates_pruned = co_await prune_in_batches(db, batch, [&](std::int64_t limit) {
        return updates.prune(updates_cutoff, limit);
    });

    // Rows first, then files: a crash in between leaves files no row names, which the next pass
    // deletes; never a row naming a deleted file.
    generated_content_repository content(db);
    const timestamp media_cutoff = now - config.media_retention;
    report.rows_pruned = co_await prune_in_batches(db, batch, [&](std::int64_t limit) {
        return content.prune_older_than(media_cutoff, limit);
    });

    const auto files = co_await remove_unnamed_files(db, media, pool, media_cutoff);
    report.files_removed = files.removed;
    report.files_kept = files.kept;
    report.files_failed = files.failed;
    co_return report;
}

engine::awaitable<void> maintenance_loop(database& db,
                                         media_store& media,
                                         engine::offload_pool& pool,
                                         maintenance_config config,
                                         engine::time_source& time) {
    auto& m = engine::metrics();
    constexpr std::string_view help = "Rows and files deleted by retention.";
    auto& updates_metric = m.make_counter("storage_pruned_total", help, {{"what", "update_ids"}});
    auto& rows_metric = m.make_counter("storage_pruned_total", help, {{"what", "media_rows"}});
    auto& files_metric = m.make_counter("storage_pruned_total", help, {{"what", "media_files"}});

    co_await time.sleep(config.first_pass_after);
    for (;;) {
        try {
            const timestamp now = config.now ? config.now() : time.wall();
            const auto r = co_await run_maintenance(db, media, pool, config, now);
            updates_metric.inc(static_cast<std::uint64_t>(r.updates_pruned));
            rows_metric.inc(static_cast<std::uint64_t>(r.rows_pruned));
            files_metric.inc(static_cast<std::uint64_t>(r.files_removed));
            engine::log().info("storage.maintenance",
                               {{"update_ids", r.updates_pruned},
                                {"media_rows", r.rows_pruned},
                                {"files_removed", r.files_removed},
                                {"files_kept", r.files_kept},
                                {"files_failed", r.files_failed}});
        } catch (const error& e) {
            // Nothing is lost by a failed pass (what was committed stays, the rest waits): log and
            // try again at the next one.
            engine::log().warn("storage.maintenance_failed", {{"error", e.what()}});
        }
        co_await time.sleep(config.every);
    }
}

} // namespace companion::storage
