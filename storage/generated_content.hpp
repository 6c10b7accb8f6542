// The generated_content repository: every selfie and video the bot made (the seed's table,
// extended with what durable media need: size, checksum, type, dimensions and Telegram's
// file_id, so a re-send never re-uploads).
#pragma once

#include "engine/enum_text.hpp"
#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <boost/system/result.hpp>

#include <SQLiteCpp/Statement.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::storage {

enum class content_kind { selfie, video };
BOOST_DESCRIBE_ENUM(content_kind, selfie, video)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

struct new_content {
    std::int64_t user_id = 0;
    std::string persona_id{};
    content_kind kind = content_kind::selfie;
    std::string prompt{};
    std::string media_path{};
    std::int64_t size_bytes = 0;
    std::string sha256{}; ///< lowercase hex
    std::string mime{};
    int width = 0;
    int height = 0;
    std::optional<std::chrono::milliseconds> duration{}; ///< videos only
    timestamp created{};

    bool operator==(const new_content&) const = default;
};

struct content : new_content {
    std::int64_t id = 0;
    std::optional<std::string> telegram_file_id{}; ///< known after the first upload

    bool operator==(const content&) const = default;
};

class generated_content_repository {
public:
    explicit generated_content_repository(database& db);

    /// Returns the new row's id. The user must exist (errc::constraint otherwise).
    std::int64_t insert(const new_content& c);

    std::optional<content> get(std::int64_t id);

    /// The newest selfie of this user with this persona (the seed's get_last_selfie_data).
    std::optional<content> last_selfie(std::int64_t user_id, std::string_view persona_id);

    /// The user's delivered media of `kind` (sent, so Telegram holds a file_id to send again),
    /// newest first, one row per file however often its delivery was tried, at most `limit`.
    std::vector<content> delivered(std::int64_t user_id, content_kind kind, int limit);

    /// Rows of one media file, oldest first (a delivery that was attempted more than once).
    std::vector<content> by_media_path(std::string_view path);
    /// Remembers Telegram's file_id after an upload; errc::not_found for an unknown id.
    boost::system::result<void> set_telegram_file_id(std::int64_t id, std::string_view file_id);

    /// Deletes at most `limit` rows created before `cutoff`, oldest first, and returns how many.
    /// The rows of a user whose video job is in flight stay, however old: the job animates one of
    /// them or is about to pick the newest selfie, and its delivery finds earlier attempts by path.
    /// Files are not touched: storage::run_maintenance deletes, after the commit, the old files no
    /// row names (a crash in between leaves orphan files, never a row naming a deleted file).
    [[nodiscard]] std::int64_t prune_older_than(timestamp cutoff, std::int64_t limit = -1);

    /// The media paths of rows created before `cutoff` (after a prune: the rows it kept).
    std::vector<std::string> paths_older_than(timestamp cutoff);

    /// Whether any row names the file at `path` (spelled as the media store wrote it).
    bool names_file(std::string_view path);

private:
    database& db_;
    detail::lazy_statement insert_;
    detail::lazy_statement get_;
    detail::lazy_statement last_selfie_;
    detail::lazy_statement delivered_;
    detail::lazy_statement set_file_id_;
    detail::lazy_statement by_path_;
    detail::lazy_statement old_paths_;
    detail::lazy_statement delete_old_;
    detail::lazy_statement names_file_;
};

} // namespace companion::storage
