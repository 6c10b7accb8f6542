// SQL of the quota and spend counters.
#include "storage/quotas.hpp"

#include "storage/detail/statement.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>

namespace companion::storage {

using detail::statement_scope;

quota_repository::quota_repository(database& db) try
    // The upsert's WHERE makes check and increment one step: at the limit, nothing changes.
    : consume_(db.connection(),
               "INSERT INTO daily_quota (user_id, kind, day, used) VALUES (?1, ?2, ?3, 1) "
               "ON CONFLICT (user_id, kind, day) DO UPDATE SET used = used + 1 WHERE used < ?4"),
      refund_(db.connection(),
              "UPDATE daily_quota SET used = used - 1 WHERE user_id = ?1 AND kind = ?2 AND day = ?3 AND used "
              "> 0"),
      used_(db.connection(), "SELECT used FROM daily_quota WHERE user_id = ?1 AND kind = ?2 AND day = ?3"),
      // The SELECT yields the row only when the day's total stays within the cap.
      spend_(db.connection(),
             "INSERT INTO daily_spend (provider, day, cents) SELECT ?1, ?2, ?3 "
             "WHERE (SELECT COALESCE(SUM(cents), 0) FROM daily_spend WHERE day = ?2) + ?3 <= ?4 "
             "ON CONFLICT (day, provider) DO UPDATE SET cents = cents + excluded.cents"),
      refund_spend_(db.connection(),
                    "UPDATE daily_spend SET cents = MAX(cents - ?3, 0) WHERE provider = ?1 AND day = ?2"),
      spent_(db.connection(), "SELECT cents FROM daily_spend WHERE provider = ?1 AND day = ?2"),
      spent_total_(db.connection(), "SELECT COALESCE(SUM(cents), 0) FROM daily_spend WHERE day = ?1"),
      adjust_spend_(db.connection(),
                    "UPDATE daily_spend SET cents = MAX(cents + ?3, 0) WHERE provider = ?1 AND day = ?2"),
      spent_by_provider_(db.connection(),
                         "SELECT provider, cents FROM daily_spend WHERE day = ?1 AND cents > 0 "
                         "ORDER BY cents DESC, provider") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare quota statements");
}

bool quota_repository::try_consume(std::int64_t user_id, quota_kind kind, day today, std::int64_t limit) try {
    if (limit <= 0) {
        return false;
    }
    statement_scope scope(consume_, user_id, to_string(kind), day_number(today), limit);
    return consume_->exec() == 1;
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.try_consume");
}

void quota_repository::refund(std::int64_t user_id, quota_kind kind, day today) try {
    statement_scope scope(refund_, user_id, to_string(kind), day_number(today));
    refund_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.refund");
}

std::int64_t quota_repository::used(std::int64_t user_id, quota_kind kind, day today) try {
    statement_scope scope(used_, user_id, to_string(kind), day_number(today));
    return used_->executeStep() ? used_->getColumn(0).getInt64() : 0;
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.used");
}

bool quota_repository::try_spend(std::string_view provider,
                                 day today,
                                 std::int64_t cents,
                                 std::int64_t cap_cents) try {
    if (cents < 0) {
        return false;
    }
    statement_scope scope(spend_, provider, day_number(today), cents, cap_cents);
    return spend_->exec() == 1;
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.try_spend");
}

void quota_repository::refund_spend(std::string_view provider, day today, std::int64_t cents) try {
    statement_scope scope(refund_spend_, provider, day_number(today), cents);
    refund_spend_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.refund_spend");
}

std::int64_t quota_repository::spent(std::string_view provider, day today) try {
    statement_scope scope(spent_, provider, day_number(today));
    return spent_->executeStep() ? spent_->getColumn(0).getInt64() : 0;
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.spent");
}

void quota_repository::adjust_spend(std::string_view provider, day today, std::int64_t delta_cents) try {
    statement_scope scope(adjust_spend_, provider, day_number(today), delta_cents);
    adjust_spend_->exec();
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.adjust_spend");
}

std::vector<std::pair<std::string, std::int64_t>> quota_repository::spent_by_provider(day today) try {
    statement_scope scope(spent_by_provider_, day_number(today));
    std::vector<std::pair<std::string, std::int64_t>> out;
    while (spent_by_provider_->executeStep()) {
        out.emplace_back(spent_by_provider_->getColumn(0).getString(),
                         spent_by_provider_->getColumn(1).getInt64());
    }
    return out;
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.spent_by_provider");
}

std::int64_t quota_repository::spent_total(day today) try {
    statement_scope scope(spent_total_, day_number(today));
    spent_total_->executeStep();
    return spent_total_->getColumn(0).getInt64();
} catch (const SQLite::Exception& e) {
    rethrow(e, "quotas.spent_total");
}

} // namespace companion::storage
