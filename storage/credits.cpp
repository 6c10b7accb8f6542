// SQL of the Stars ledger and the video credits.
#include "storage/credits.hpp"

#include "storage/detail/statement.hpp"
#include "storage/error.hpp"

#include <SQLiteCpp/Exception.h>

namespace companion::storage {

using detail::statement_scope;

credit_repository::credit_repository(database& db) try
    : db_(db),
      record_(db.connection(),
              "INSERT INTO star_payments (charge_id, user_id, payload, stars, credits, paid_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (charge_id) DO NOTHING RETURNING charge_id"),
      add_(db.connection(),
           "INSERT INTO video_credits (user_id, balance) VALUES (?1, ?2) "
           "ON CONFLICT (user_id) DO UPDATE SET balance = balance + excluded.balance"),
      balance_(db.connection(), "SELECT balance FROM video_credits WHERE user_id = ?1"),
      take_(db.connection(),
            "UPDATE video_credits SET balance = balance - ?2, spent = spent + ?2 "
            "WHERE user_id = ?1 AND balance >= ?2"),
      note_spend_(db.connection(),
                  "INSERT INTO credit_spends (job_id, user_id, credits) VALUES (?1, ?2, ?3)"),
      spend_of_(db.connection(), "SELECT user_id, credits FROM credit_spends WHERE job_id = ?1"),
      drop_spend_(db.connection(), "DELETE FROM credit_spends WHERE job_id = ?1"),
      give_back_(
          db.connection(),
          "UPDATE video_credits SET balance = balance + ?2, spent = max(spent - ?2, 0) WHERE user_id = ?1"),
      payment_(db.connection(),
               "SELECT charge_id, user_id, payload, stars, credits, paid_at, refunded_at FROM star_payments "
               "WHERE charge_id = ?1"),
      mark_refunded_(db.connection(),
                     "UPDATE star_payments SET refunded_at = ?2 WHERE charge_id = ?1 AND refunded_at IS NULL "
                     "RETURNING user_id, credits"),
      take_back_(db.connection(),
                 "UPDATE video_credits SET balance = max(balance - ?2, 0) WHERE user_id = ?1"),
      totals_(db.connection(),
              "SELECT count(*), coalesce(sum(stars), 0), coalesce(sum(credits), 0), "
              "coalesce(sum(refunded_at IS NOT NULL), 0), "
              "coalesce(sum(CASE WHEN refunded_at IS NOT NULL THEN stars ELSE 0 END), 0), "
              "(SELECT coalesce(sum(spent), 0) FROM video_credits), "
              "(SELECT count(*) FROM subscriptions WHERE expires_at > ?1) FROM star_payments"),
      subscribe_(
          db.connection(),
          "INSERT INTO subscriptions (user_id, payload, videos_per_day, expires_at) VALUES (?1, ?2, ?3, ?4) "
          "ON CONFLICT (user_id) DO UPDATE SET payload = excluded.payload, "
          "videos_per_day = excluded.videos_per_day, expires_at = max(expires_at, excluded.expires_at), "
          "state = 'active'"),
      subscription_(
          db.connection(),
          "SELECT user_id, payload, videos_per_day, expires_at, state FROM subscriptions WHERE user_id = ?1"),
      sub_state_(db.connection(), "UPDATE subscriptions SET state = ?2 WHERE user_id = ?1") {
} catch (const SQLite::Exception& e) {
    rethrow(e, "prepare credit statements");
}

template <class Apply>
grant_outcome credit_repository::record_then(const star_payment& p, Apply apply) {
    return db_.in_transaction([&] {
        {
            statement_scope scope(record_, p.charge_id, p.user_id, p.payload, p.stars, p.credits, p.paid);
            if (!record_->executeStep()) {
                return grant_outcome::duplicate; // the charge is in the ledger: granted before
            }
        }
        apply();
        return grant_outcome::granted;
    });
}

grant_outcome credit_repository::grant(const star_payment& p) try {
    return record_then(p, [&] {
        statement_scope scope(add_, p.user_id, p.credits);
        scope.exec();
    });
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.grant");
}

std::int64_t credit_repository::balance(std::int64_t user_id) try {
    statement_scope scope(balance_, user_id);
    return balance_->executeStep() ? balance_->getColumn(0).getInt64() : 0;
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.balance");
}

bool credit_repository::try_spend(std::int64_t user_id, std::int64_t job_id, int credits) try {
    return db_.in_transaction([&] {
        {
            statement_scope scope(take_, user_id, credits);
            if (scope.exec() == 0) {
                return false; // the balance does not cover it
            }
        }
        statement_scope scope(note_spend_, job_id, user_id, credits);
        scope.exec();
        return true;
    });
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.try_spend");
}

int credit_repository::refund_job(std::int64_t job_id) try {
    return db_.in_transaction([&] {
        std::int64_t user = 0;
        int credits = 0;
        {
            statement_scope scope(spend_of_, job_id);
            if (!spend_of_->executeStep()) {
                return 0;
            }
            user = spend_of_->getColumn(0).getInt64();
            credits = spend_of_->getColumn(1).getInt();
        }
        {
            statement_scope scope(drop_spend_, job_id);
            scope.exec();
        }
        statement_scope scope(give_back_, user, credits);
        scope.exec();
        return credits;
    });
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.refund_job");
}

int credit_repository::paid_credits(std::int64_t job_id) try {
    statement_scope scope(spend_of_, job_id);
    return spend_of_->executeStep() ? spend_of_->getColumn(1).getInt() : 0;
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.paid_credits");
}

std::optional<star_payment> credit_repository::payment(std::string_view charge_id) try {
    statement_scope scope(payment_, charge_id);
    if (!payment_->executeStep()) {
        return std::nullopt;
    }
    star_payment p;
    p.charge_id = payment_->getColumn(0).getString();
    p.user_id = payment_->getColumn(1).getInt64();
    p.payload = payment_->getColumn(2).getString();
    p.stars = payment_->getColumn(3).getInt64();
    p.credits = payment_->getColumn(4).getInt();
    p.paid = detail::time_of(payment_->getColumn(5));
    if (!payment_->getColumn(6).isNull()) {
        p.refunded = detail::time_of(payment_->getColumn(6));
    }
    return p;
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.payment");
}

bool credit_repository::mark_refunded(std::string_view charge_id, timestamp at) try {
    return db_.in_transaction([&] {
        std::int64_t user = 0;
        int credits = 0;
        {
            statement_scope scope(mark_refunded_, charge_id, at);
            if (!mark_refunded_->executeStep()) {
                return false;
            }
            user = mark_refunded_->getColumn(0).getInt64();
            credits = mark_refunded_->getColumn(1).getInt();
        }
        statement_scope scope(take_back_, user, credits);
        scope.exec();
        return true;
    });
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.mark_refunded");
}

credit_totals credit_repository::totals(timestamp now) try {
    statement_scope scope(totals_, now);
    credit_totals t;
    if (totals_->executeStep()) {
        t.payments = totals_->getColumn(0).getInt64();
        t.stars = totals_->getColumn(1).getInt64();
        t.credits_granted = totals_->getColumn(2).getInt64();
        t.refunds = totals_->getColumn(3).getInt64();
        t.stars_refunded = totals_->getColumn(4).getInt64();
        t.credits_spent = totals_->getColumn(5).getInt64();
        t.subscribers = totals_->getColumn(6).getInt64();
    }
    return t;
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.totals");
}

grant_outcome
credit_repository::grant_subscription(const star_payment& p, int videos_per_day, timestamp expires) try {
    return record_then(p, [&] {
        statement_scope scope(subscribe_, p.user_id, p.payload, videos_per_day, expires);
        scope.exec();
    });
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.grant_subscription");
}

std::optional<video_subscription> credit_repository::subscription(std::int64_t user_id) try {
    statement_scope scope(subscription_, user_id);
    if (!subscription_->executeStep()) {
        return std::nullopt;
    }
    video_subscription s;
    s.user_id = subscription_->getColumn(0).getInt64();
    s.payload = subscription_->getColumn(1).getString();
    s.videos_per_day = subscription_->getColumn(2).getInt();
    s.expires = detail::time_of(subscription_->getColumn(3));
    s.state = subscription_->getColumn(4).getString();
    return s;
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.subscription");
}

bool credit_repository::set_subscription_state(std::int64_t user_id, std::string_view state) try {
    statement_scope scope(sub_state_, user_id, state);
    return scope.exec() > 0;
} catch (const SQLite::Exception& e) {
    rethrow(e, "credits.set_subscription_state");
}

int credit_repository::daily_allowance(std::int64_t user_id, timestamp now) {
    const auto s = subscription(user_id);
    return s && s->expires > now ? s->videos_per_day : 0;
}

} // namespace companion::storage
