// Enumerator names for logs, metrics, stored columns and test output, taken from one
// BOOST_DESCRIBE_ENUM (or BOOST_DESCRIBE_NESTED_ENUM) written beside the enum: the name printed and
// the name parsed back can never disagree, and naming a new enumerator is one word in that list.
#pragma once

#include <boost/describe/enum.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/mp11/algorithm.hpp>

#include <optional>
#include <ostream>
#include <string_view>
#include <type_traits>

namespace companion::engine {

template <class E>
concept described_enum = std::is_enum_v<E> && boost::describe::has_describe_enumerators<E>::value;

/// The enumerator's name as written in the code; `fallback` for a value outside the list.
template <described_enum E>
constexpr std::string_view enum_name(E value, std::string_view fallback = "unknown") noexcept {
    std::string_view out = fallback;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
        if (d.value == value) {
            out = d.name;
        }
    });
    return out;
}

/// The enumerator named `name` exactly; nullopt for any other text.
template <described_enum E>
constexpr std::optional<E> enum_from_name(std::string_view name) noexcept {
    std::optional<E> out;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
        if (name == d.name) {
            out = d.value;
        }
    });
    return out;
}

/// The name, for every described enum. A layer's namespace brings it (and the printer below) in
/// with `using engine::to_string; using engine::operator<<;`, so argument-dependent lookup finds
/// them for its enums; an enum whose text differs from its names keeps its own overload.
template <described_enum E>
constexpr std::string_view to_string(E value) noexcept {
    return enum_name(value);
}

template <described_enum E>
std::ostream& operator<<(std::ostream& os, E value) {
    return os << enum_name(value);
}

} // namespace companion::engine
