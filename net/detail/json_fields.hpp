// Reading the few fields a hot path needs from a JSON object without building a DOM of all of it
// (issue 16): a streamed parse (Boost.JSON's basic_parser) hands each scalar of the root object,
// and each scalar of an object one level down, to a visitor with its key and its parent's key;
// everything deeper, and every array's contents, is skipped. Malformed JSON (and a document too
// deep or too large) is an error exactly as boost::json::parse would report it.
// Internal to net/ (its clients, their tests and the fuzz targets).
#pragma once

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace companion::net::detail {

/// One value met in the object: a scalar, or (for the root's keys only) the opening of an object
/// or an array, whose contents follow (an object's scalars with this key as their parent).
struct json_scalar {
    enum class kind { null, boolean, int64, uint64, number, string, object, array };
    kind type = kind::null;
    std::string_view text{}; ///< a string's (unescaped) text
    std::int64_t i = 0;
    std::uint64_t u = 0;
    double d = 0;
    bool b = false;

    bool is_null() const noexcept { return type == kind::null; }
    /// Like json_text on a DOM value: a string as it is, a number in decimal (rounded), else "".
    std::string as_text() const;
    /// Like json_int: a number, or a string holding one, rounded; nullopt otherwise.
    std::optional<std::int64_t> as_int() const;
};

/// Called with the parent's key ("" at the root), the key and the value. The views live only for
/// the call. A non-owning reference to the caller's callable (no allocation, unlike std::function):
/// the callable must outlive the read.
class json_field_visitor {
public:
    template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, json_field_visitor>) json_field_visitor(const F& f)
    noexcept // NOLINT(google-explicit-constructor): a lambda is passed
        : object_(&f),
          call_([](const void* o, std::string_view parent, std::string_view key, const json_scalar& v) {
              (*static_cast<const F*>(o))(parent, key, v);
          }) {}

    void operator()(std::string_view parent, std::string_view key, const json_scalar& v) const {
        call_(object_, parent, key, v);
    }

private:
    const void* object_;
    void (*call_)(const void*, std::string_view, std::string_view, const json_scalar&);
};

/// Parses `body` as one JSON document whose root is an object, visiting its scalars and those of
/// its objects one level down. Returns the parse error (boost::json's), or json::error::not_object
/// when the root is not an object; the visitor may have been called before an error is found.
boost::system::error_code read_json_fields(std::string_view body, json_field_visitor visit);

} // namespace companion::net::detail
