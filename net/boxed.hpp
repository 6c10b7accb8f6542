// boxed<T>: an optional that keeps its value on the heap, for the rarely set parts of values that
// coroutine frames hold (see the class comment).
#pragma once

#include <concepts>
#include <memory>
#include <optional>
#include <utility>

namespace companion::net {

/// An optional part that most values lack, kept out of line: a message's video or voice note, an
/// update's callback query, an error's transport failure. Such values are held by value in the
/// results that coroutines return, and so in every frame that awaits one while it waits; inline,
/// the rare parts made them large and mostly empty (a message 992 bytes, an update 2.2 KB).
/// Reads as std::optional does (bool, *, ->, has_value, value, reset, == nullopt); a copy copies
/// the part, a move hands it over.
template <class T>
class boxed {
public:
    boxed() noexcept = default;
    boxed(std::nullopt_t) noexcept {} // NOLINT(google-explicit-constructor): as std::optional
    boxed(T v) : p_(std::make_unique<T>(std::move(v))) {} // NOLINT(google-explicit-constructor)
    boxed(std::optional<T> v) // NOLINT(google-explicit-constructor): a parser's optional result
        : p_(v ? std::make_unique<T>(std::move(*v)) : nullptr) {}
    boxed(const boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
    boxed(boxed&&) noexcept = default;
    boxed& operator=(const boxed& o) {
        if (this != &o) {
            p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
        }
        return *this;
    }
    boxed& operator=(boxed&&) noexcept = default;
    ~boxed() = default;

    bool has_value() const noexcept { return p_ != nullptr; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    T& operator*() noexcept { return *p_; }
    const T& operator*() const noexcept { return *p_; }
    T* operator->() noexcept { return p_.get(); }
    const T* operator->() const noexcept { return p_.get(); }
    const T& value() const {
        if (!p_) {
            throw std::bad_optional_access();
        }
        return *p_;
    }
    T& value() {
        if (!p_) {
            throw std::bad_optional_access();
        }
        return *p_;
    }
    void reset() noexcept { p_.reset(); }

    friend bool operator==(const boxed& a, std::nullopt_t) noexcept { return !a; }
    friend bool operator==(const boxed& a, const boxed& b) requires std::equality_comparable<T> {
        return a.has_value() == b.has_value() && (!a || *a == *b);
    }

private:
    std::unique_ptr<T> p_;
};

} // namespace companion::net
