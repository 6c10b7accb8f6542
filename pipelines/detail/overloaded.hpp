// The overload set std::visit takes: one lambda per alternative of an event, action or intent.
#pragma once

namespace companion::pipelines::detail {

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

} // namespace companion::pipelines::detail
