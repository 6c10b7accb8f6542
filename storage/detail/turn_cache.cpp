// The conversation cache's bookkeeping: an LRU list of entries, each the newest turns of one
// conversation.
#include "storage/detail/turn_cache.hpp"

#include <algorithm>
#include <functional>
#include <iterator>

namespace companion::storage::detail {

std::size_t turn_cache::key_hash::operator()(const key& k) const noexcept {
    const std::size_t h = std::hash<std::string_view>{}(k.persona);
    return h ^ (std::hash<std::int64_t>{}(k.user) + 0x9e3779b97f4a7c15ULL + (h << 6U) + (h >> 2U));
}

std::optional<std::vector<turn>>
turn_cache::newest(std::int64_t user, std::string_view persona, std::size_t limit) {
    const auto found = index_.find(key{user, std::string(persona)});
    if (found == index_.end()) {
        ++misses_;
        return std::nullopt;
    }
    const entry& e = *found->second;
    if (e.turns.size() < limit && !e.whole) {
        ++misses_; // holds fewer than asked, and there are older ones
        return std::nullopt;
    }
    ++hits_;
    order_.splice(order_.begin(), order_, found->second);
    const auto n = std::min(limit, e.turns.size());
    return std::vector<turn>(e.turns.end() - static_cast<std::ptrdiff_t>(n), e.turns.end());
}

void turn_cache::fill(std::int64_t user,
                      std::string_view persona,
                      std::size_t limit,
                      const std::vector<turn>& rows) {
    if (capacity_ == 0 || limit == 0 || limit > max_kept) {
        return;
    }
    key k{user, std::string(persona)};
    auto found = index_.find(k);
    if (found == index_.end()) {
        if (index_.size() >= capacity_) {
            index_.erase(order_.back().k);
            order_.pop_back();
        }
        order_.push_front(entry{.k = k});
        found = index_.emplace(std::move(k), order_.begin()).first;
    } else {
        order_.splice(order_.begin(), order_, found->second);
    }
    entry& e = *found->second;
    e.turns = rows;
    e.keep = limit;
    e.whole = rows.size() < limit;
}

void turn_cache::appended(const turn& t) {
    const auto found = index_.find(key{t.user_id, t.persona_id});
    if (found == index_.end()) {
        return; // read from the database when it is next asked for
    }
    entry& e = *found->second;
    e.turns.push_back(t);
    if (e.turns.size() > e.keep) {
        e.turns.erase(e.turns.begin());
        e.whole = false;
    }
}

void turn_cache::forget(std::int64_t user) {
    for (auto it = order_.begin(); it != order_.end();) {
        if (it->k.user == user) {
            index_.erase(it->k);
            it = order_.erase(it);
        } else {
            ++it;
        }
    }
}

void turn_cache::check(std::int64_t version) noexcept {
    if (version_ != version) {
        clear();
        version_ = version;
    }
}

void turn_cache::clear() noexcept {
    index_.clear();
    order_.clear();
}

} // namespace companion::storage::detail
