// An error category built from a table: its name, one message per enumerator, and a fallback for
// any other value. Each layer's category (engine, net, storage, api) is one such table.
#pragma once

#include "engine/enum_text.hpp"

#include <boost/mp11/algorithm.hpp>
#include <boost/system/error_category.hpp>

#include <array>
#include <cstddef>
#include <string>

namespace companion::engine {

/// Where the enumerator whose value is `ev` stands in E's BOOST_DESCRIBE_ENUM list (`fallback`
/// for a value E does not have): the index into a table kept in that order.
template <described_enum E>
constexpr std::size_t described_index(int ev, std::size_t fallback) noexcept {
    std::size_t out = fallback;
    std::size_t i = 0;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
        if (static_cast<int>(d.value) == ev) {
            out = i;
        }
        ++i;
    });
    return out;
}

/// A category whose messages are given in the order the enum's BOOST_DESCRIBE_ENUM lists its
/// enumerators (one message each, checked at compile time).
template <described_enum E>
class table_category final : public boost::system::error_category {
public:
    static constexpr std::size_t size = boost::mp11::mp_size<boost::describe::describe_enumerators<E>>::value;
    using messages = std::array<const char*, size>;

    constexpr table_category(const char* name, messages table, const char* fallback) noexcept
        : name_(name), table_(table), fallback_(fallback) {}

    const char* name() const noexcept override { return name_; }

    std::string message(int ev) const override {
        const std::size_t i = described_index<E>(ev, size);
        return i < size ? table_[i] : fallback_;
    }

private:
    const char* name_;
    messages table_;
    const char* fallback_;
};

/// A category whose messages are the enumerators' described names (engine/enum_text.hpp).
template <described_enum E>
class named_category final : public boost::system::error_category {
public:
    explicit constexpr named_category(const char* name) noexcept : name_(name) {}

    const char* name() const noexcept override { return name_; }
    std::string message(int ev) const override { return std::string(enum_name(static_cast<E>(ev))); }

private:
    const char* name_;
};

} // namespace companion::engine
