// The schema's history. Never edit a released step: add a new one, so every existing database
// follows the same path to the latest version (tests migrate from every earlier version).
#include "storage/migrations.hpp"

#include <array>

namespace companion::storage {
namespace {

// Timestamps are unix milliseconds, days are days since 1970-01-01 (UTC).

// Version 1: the seed's tables: users, the conversation, and generated_content as the seed had
// it (prompt and media path only).
constexpr std::string_view v1_seed = R"sql(
CREATE TABLE users (
    telegram_id     INTEGER PRIMARY KEY,
    language        TEXT    NOT NULL,
    persona_id      TEXT,
    adult_confirmed INTEGER NOT NULL DEFAULT 0 CHECK (adult_confirmed IN (0, 1)),
    is_admin        INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL
);
CREATE TABLE conversation_turns (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    persona_id TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX conversation_turns_by_user_persona ON conversation_turns (user_id, persona_id, id);
CREATE TABLE generated_content (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    persona_id TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('selfie', 'video')),
    prompt     TEXT    NOT NULL,
    media_path TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX generated_content_by_user_persona_kind ON generated_content (user_id, persona_id, kind, id);
)sql";

// Version 2: durable media (size, checksum, type, dimensions, Telegram file_id for re-sends),
// the rolling summary, the blocked-the-bot flag, and the Telegram offset with the
// processed-update log (design.md §4).
constexpr std::string_view v2_media_memory_updates = R"sql(
ALTER TABLE users ADD COLUMN blocked_bot INTEGER NOT NULL DEFAULT 0 CHECK (blocked_bot IN (0, 1));
ALTER TABLE generated_content ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE generated_content ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE generated_content ADD COLUMN mime TEXT NOT NULL DEFAULT '';
ALTER TABLE generated_content ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE generated_content ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
ALTER TABLE generated_content ADD COLUMN duration_ms INTEGER;
ALTER TABLE generated_content ADD COLUMN telegram_file_id TEXT;
CREATE INDEX generated_content_by_created ON generated_content (created_at);
CREATE TABLE conversation_summaries (
    user_id         INTEGER NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    persona_id      TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    covered_turn_id INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, persona_id)
) WITHOUT ROWID;
CREATE TABLE telegram_offset (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    next_offset INTEGER NOT NULL
);
CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    processed_at INTEGER NOT NULL
);
CREATE INDEX processed_updates_by_time ON processed_updates (processed_at);
)sql";

// Version 3: the video-job state machine (design.md §4) with "one job in flight per user" held
// by a partial unique index, and the daily quota and spend counters.
constexpr std::string_view v3_jobs_quotas = R"sql(
CREATE TABLE video_jobs (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    chat_id             INTEGER NOT NULL,
    persona_id          TEXT    NOT NULL,
    provider            TEXT    NOT NULL,
    provider_job_id     TEXT,
    mode                TEXT    NOT NULL CHECK (mode IN ('from_last_selfie', 'new')),
    flirty              INTEGER NOT NULL CHECK (flirty IN (0, 1)),
    state               TEXT    NOT NULL CHECK (state IN ('requested', 'prompting', 'rendering_image',
                                    'submitting', 'submitted', 'downloading', 'delivered', 'failed',
                                    'refused', 'submit_unknown')),
    selfie_prompt       TEXT,
    video_prompt        TEXT,
    image_content_id    INTEGER REFERENCES generated_content (id) ON DELETE SET NULL,
    image_path          TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_poll_at        INTEGER,
    progress_message_id INTEGER,
    error               TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX video_jobs_one_in_flight_per_user ON video_jobs (user_id)
    WHERE state NOT IN ('delivered', 'failed', 'refused', 'submit_unknown');
CREATE INDEX video_jobs_unfinished ON video_jobs (state)
    WHERE state NOT IN ('delivered', 'failed', 'refused', 'submit_unknown');
CREATE INDEX video_jobs_by_user ON video_jobs (user_id);
CREATE TABLE daily_quota (
    user_id INTEGER NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('selfie', 'video')),
    day     INTEGER NOT NULL,
    used    INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (user_id, kind, day)
) WITHOUT ROWID;
CREATE TABLE daily_spend (
    provider TEXT    NOT NULL,
    day      INTEGER NOT NULL,
    cents    INTEGER NOT NULL CHECK (cents >= 0),
    PRIMARY KEY (day, provider)
) WITHOUT ROWID;
)sql";

// Received updates wait here until processed, so the offset can confirm a batch at once while a
// slow chat is still working on its part: a crash replays them from here, not from Telegram.
constexpr std::string_view v4_inbox = R"sql(
CREATE TABLE update_inbox (
    update_id   INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    received_at INTEGER NOT NULL
);
)sql";

// A 429's retry_after outlives a crash: a restarted bot waits out what the last one was told.
// chat_id 0 is the whole bot (a global flood).
constexpr std::string_view v5_flood_waits = R"sql(
CREATE TABLE flood_waits (
    chat_id  INTEGER PRIMARY KEY,
    until_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// A terminal video job remembers the message its user still has to hear (a locale key), set in
// the same statement as the terminal state and cleared once sent: a crash in between repeats the
// message at the next start instead of losing it. Older rows have nothing pending.
constexpr std::string_view v6_job_notices = R"sql(
ALTER TABLE video_jobs ADD COLUMN notice TEXT;
CREATE INDEX video_jobs_pending_notice ON video_jobs (id) WHERE notice IS NOT NULL;
)sql";

// Pruning by retention looks files up by path (is another row still naming the file?) and deletes
// content rows that video jobs refer to (ON DELETE SET NULL looks the jobs up by image): both were
// full-table scans per row. The path index also serves a delivery's lookup of its earlier attempts.
constexpr std::string_view v7_retention_indexes = R"sql(
CREATE INDEX generated_content_by_media_path ON generated_content (media_path);
CREATE INDEX video_jobs_by_image ON video_jobs (image_content_id);
)sql";

// The update bookkeeping belongs to one bot: another bot's update ids are another sequence, so its
// offset, processed ids and inbox must never be applied to this one (a token switch, or a
// simulation run in a live folder, would otherwise confirm real updates away unanswered).
constexpr std::string_view v8_update_owner = R"sql(
CREATE TABLE telegram_bot (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    bot_id INTEGER NOT NULL
);
)sql";

// The 18+ question is asked once: a user who answered "no" is not asked again at every video
// offer. A user who said yes before this version has answered.
constexpr std::string_view v9_adult_answered = R"sql(
ALTER TABLE users ADD COLUMN adult_answered INTEGER NOT NULL DEFAULT 0 CHECK (adult_answered IN (0, 1));
UPDATE users SET adult_answered = adult_confirmed;
)sql";

// A job in `submitting` may be waiting to try a create again (the last one certainly failed) or
// may have one in flight: only the second may exist at the provider. The create's start is
// committed before each create and cleared when it certainly failed, so a restart resumes the
// first kind and declares only the second submit_unknown. The spend a job reserved is stored
// with it, so a resumed job does not reserve it twice. A job caught in `submitting` by this
// upgrade counts as one with a create in flight.
constexpr std::string_view v10_create_in_flight = R"sql(
ALTER TABLE video_jobs ADD COLUMN create_started_at INTEGER;
ALTER TABLE video_jobs ADD COLUMN spend_reserved_cents INTEGER NOT NULL DEFAULT 0;
UPDATE video_jobs SET create_started_at = updated_at WHERE state = 'submitting';
)sql";

// A user may turn streamed replies (a growing draft with a stop button) off in /settings; on by
// default, as the configuration's chat.stream is.
constexpr std::string_view v11_stream_replies = R"sql(
ALTER TABLE users ADD COLUMN stream_replies INTEGER NOT NULL DEFAULT 1 CHECK (stream_replies IN (0, 1));
)sql";

// The user chooses the video's length from the offered ones; the choice is the job's (its price,
// its request and its delivery follow it, also after a restart). A job from before this version
// has none and takes the configured length. A video made from the last selfie shows that selfie
// as its progress message, whose caption (not text) is then edited.
constexpr std::string_view v12_video_seconds = R"sql(
ALTER TABLE video_jobs ADD COLUMN seconds INTEGER CHECK (seconds IS NULL OR seconds BETWEEN 1 AND 600);
ALTER TABLE video_jobs ADD COLUMN progress_caption INTEGER NOT NULL DEFAULT 0 CHECK (progress_caption IN (0, 1));
)sql";

// Her voice: the user chooses how replies come (text, a voice note, both, or "mirror": a voice
// note answers a voice note, text answers text), mirror by default. The voice notes she sent are
// remembered by Telegram file_id with the text they say (the audio itself lives at Telegram, as a
// resend needs nothing else), and go with the user's row and with /forget.
constexpr std::string_view v13_voice = R"sql(
ALTER TABLE users ADD COLUMN voice_replies TEXT NOT NULL DEFAULT 'mirror'
    CHECK (voice_replies IN ('mirror', 'text', 'voice', 'both'));
CREATE TABLE voice_notes (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    persona_id       TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    seconds          INTEGER NOT NULL CHECK (seconds >= 0),
    telegram_file_id TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX voice_notes_by_user ON voice_notes (user_id);
)sql";

// Video credits bought with Telegram Stars: the ledger of payments (one row per charge id, so a
// replayed payment grants nothing twice), each user's balance and credits spent, and the credits
// each video job was paid with (given back once if it ends undelivered). No foreign key to users:
// money records outlive the user's data.
constexpr std::string_view v14_star_credits = R"sql(
CREATE TABLE star_payments (
    charge_id   TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    stars       INTEGER NOT NULL CHECK (stars >= 0),
    credits     INTEGER NOT NULL CHECK (credits >= 0),
    paid_at     INTEGER NOT NULL,
    refunded_at INTEGER
);
CREATE INDEX star_payments_by_user ON star_payments (user_id);
CREATE TABLE video_credits (
    user_id INTEGER PRIMARY KEY,
    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    spent   INTEGER NOT NULL DEFAULT 0 CHECK (spent >= 0)
);
CREATE TABLE credit_spends (
    job_id  INTEGER PRIMARY KEY REFERENCES video_jobs (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    credits INTEGER NOT NULL CHECK (credits > 0)
);
)sql";

// A companion who writes first, for users who asked for it: each user's choice (asked once, off
// until they say yes), the UTC offset they set (none: guessed from the language), when the next
// check-in is due, and a log of the check-ins sent. A check-in is claimed ('sending') before it
// goes out and resolved with the send's outcome; a claim left by a crash counts as sent, so no
// check-in is ever sent twice. The rows go with the user's.
constexpr std::string_view v15_checkins = R"sql(
CREATE TABLE checkins (
    user_id    INTEGER PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    opted_in   INTEGER NOT NULL DEFAULT 0 CHECK (opted_in IN (0, 1)),
    asked_at   INTEGER,
    utc_offset INTEGER CHECK (utc_offset BETWEEN -720 AND 840),
    next_at    INTEGER
);
CREATE INDEX checkins_due ON checkins (next_at) WHERE next_at IS NOT NULL;
CREATE TABLE checkin_log (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    at      INTEGER NOT NULL,
    outcome TEXT    NOT NULL CHECK (outcome IN ('sending', 'sent', 'unknown', 'blocked', 'failed'))
);
CREATE INDEX checkin_log_by_user ON checkin_log (user_id, at);
)sql";

// The monthly Stars subscription: the daily video allowance each subscriber has until when. Each
// renewal is a payment in the ledger (once per charge id) that moves the end forward; a cancelled
// or failed subscription runs to its end. Money records: no foreign key to users.
constexpr std::string_view v16_subscriptions = R"sql(
CREATE TABLE subscriptions (
    user_id        INTEGER PRIMARY KEY,
    payload        TEXT    NOT NULL,
    videos_per_day INTEGER NOT NULL CHECK (videos_per_day > 0),
    expires_at     INTEGER NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'canceled', 'failed'))
);
)sql";

constexpr std::array<migration, 16> all{{
    {"seed tables", v1_seed},
    {"media metadata, summaries, update log", v2_media_memory_updates},
    {"video jobs, quotas, spend", v3_jobs_quotas},
    {"update inbox", v4_inbox},
    {"flood waits", v5_flood_waits},
    {"video job notices", v6_job_notices},
    {"retention indexes", v7_retention_indexes},
    {"update owner", v8_update_owner},
    {"adult question answered", v9_adult_answered},
    {"video create in flight", v10_create_in_flight},
    {"streamed replies setting", v11_stream_replies},
    {"video length chosen, first-frame progress", v12_video_seconds},
    {"voice replies setting, voice notes", v13_voice},
    {"Stars ledger, video credits", v14_star_credits},
    {"check-ins", v15_checkins},
    {"Stars subscriptions", v16_subscriptions},
}};

} // namespace

std::span<const migration> schema_migrations() noexcept {
    return all;
}

} // namespace companion::storage
