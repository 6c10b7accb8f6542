// Daily limits (design.md §4): per-user counters of selfies and videos, and the global daily
// spend in cents, each checked and incremented by one statement so no check can be passed twice.
#pragma once

#include "engine/enum_text.hpp"
#include "storage/database.hpp"
#include "storage/detail/lazy_statement.hpp"
#include "storage/time.hpp"

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace companion::storage {

enum class quota_kind { selfie, video };
BOOST_DESCRIBE_ENUM(quota_kind, selfie, video)
using engine::operator<<; // to_string and printing of the described enums
using engine::to_string;

class quota_repository {
public:
    explicit quota_repository(database& db);

    /// Takes one unit of the user's `kind` quota for `today` if fewer than `limit` were used;
    /// false when the limit is reached (a limit of 0 or less always refuses).
    bool try_consume(std::int64_t user_id, quota_kind kind, day today, std::int64_t limit);
    /// Gives a unit back (the generation failed through no fault of the user); never below zero.
    void refund(std::int64_t user_id, quota_kind kind, day today);
    std::int64_t used(std::int64_t user_id, quota_kind kind, day today);

    /// Adds `cents` to `provider`'s spend of `today` if the day's total over all providers stays
    /// within `cap_cents` (the cap is global; the spend is kept per provider for /status).
    bool try_spend(std::string_view provider, day today, std::int64_t cents, std::int64_t cap_cents);
    /// Takes back a reservation whose video was never made (refused, submit failed).
    void refund_spend(std::string_view provider, day today, std::int64_t cents);
    /// Moves `provider`'s spend of `today` by `delta_cents` (a reservation settled at what the
    /// provider reported it cost: up or down; never below zero). The cap is not checked: the
    /// money is already spent.
    void adjust_spend(std::string_view provider, day today, std::int64_t delta_cents);
    std::int64_t spent(std::string_view provider, day today);
    std::int64_t spent_total(day today);
    /// Today's spend per provider key, largest first (for /status and /stats).
    std::vector<std::pair<std::string, std::int64_t>> spent_by_provider(day today);

private:
    detail::lazy_statement consume_;
    detail::lazy_statement refund_;
    detail::lazy_statement used_;
    detail::lazy_statement spend_;
    detail::lazy_statement refund_spend_;
    detail::lazy_statement spent_;
    detail::lazy_statement spent_total_;
    detail::lazy_statement adjust_spend_;
    detail::lazy_statement spent_by_provider_;
};

} // namespace companion::storage
